// Quoting for the few names and paths aidi-worker splices into SQL it writes itself: a table or
// column name becomes a double-quoted identifier, a file path a single-quoted string literal, each
// with its quote character doubled, so user text can never end the token early. Stateless; safe
// from any thread.
#pragma once

#include <string>
#include <string_view>

namespace aidi::worker::duckdb {

std::string QuoteIdentifier(std::string_view name);  // my "col" -> "my ""col"""
std::string QuoteString(std::string_view text);      // it's    -> 'it''s'

}  // namespace aidi::worker::duckdb
