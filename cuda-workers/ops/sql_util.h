// Small SQL helpers the ops share: quoted names joined into lists (pure functions), and query
// results read as text.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "cuda-workers/duckdb/database.h"
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

// A query's rows as strings, null as empty (the caller casts every column to VARCHAR).
[[nodiscard]] StatusOr<std::vector<std::vector<std::string>>> StringRows(duckdb::Connection& db,
                                                                         std::string_view sql);

}  // namespace aidi::worker
