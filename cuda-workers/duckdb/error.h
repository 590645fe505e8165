// How a DuckDB failure becomes an aidi Status: the message is DuckDB's own, word for word
// ("Catalog Error: Table with name t does not exist! ..."), and the code is picked from DuckDB's
// error type so callers can branch on the few outcomes that matter:
//   CATALOG                                   -> NotFound (a table, function or schema is missing)
//   CONSTRAINT                                -> Conflict
//   INTERRUPT                                 -> Cancelled
//   IO, NETWORK, HTTP, OUT_OF_MEMORY          -> Unavailable
//   PERMISSION                                -> Forbidden
//   FATAL, INTERNAL, NULL_POINTER             -> Internal
//   anything else (parser, binder, conversion, invalid input, ...) -> InvalidArgument
// Stateless; safe from any thread.
#pragma once

#include <duckdb.h>

#include <string_view>

#include "base/status.h"

namespace aidi::worker::duckdb {

Status StatusFromDuckDb(duckdb_error_type type, const char* message);

// "BIGINT", "DECIMAL", ...: DuckDB's SQL name for a type id, for messages.
std::string_view DuckDbTypeName(duckdb_type type);

}  // namespace aidi::worker::duckdb
