// Small SQL builders the ops share: quoted names joined into lists. Pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cuda-workers/duckdb/sql_quote.h"

namespace aidi::worker {

using duckdb::QuoteIdentifier;
using duckdb::QuoteString;

// "a", "b c"
inline std::string IdentifierList(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + QuoteIdentifier(n);
  return out;
}

inline std::string Input() { return QuoteIdentifier("input"); }

}  // namespace aidi::worker
