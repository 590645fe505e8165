#include "cuda-workers/duckdb/sql_quote.h"

namespace aidi::worker::duckdb {
namespace {

std::string Quote(std::string_view text, char quote) {
  std::string out;
  out.reserve(text.size() + 2);
  out.push_back(quote);
  for (char ch : text) {
    if (ch == quote) out.push_back(quote);
    out.push_back(ch);
  }
  out.push_back(quote);
  return out;
}

}  // namespace

std::string QuoteIdentifier(std::string_view name) { return Quote(name, '"'); }
std::string QuoteString(std::string_view text) { return Quote(text, '\''); }

}  // namespace aidi::worker::duckdb
