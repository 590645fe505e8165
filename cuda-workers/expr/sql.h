// ToSql: a bound expression as DuckDB (1.4) SQL text, for the CPU path's queries.
//
// The text is generated from the tree through a whitelist of constructs, never by pasting user
// text: identifiers are always double-quoted (" doubled), strings single-quoted (' doubled),
// numbers printed exactly, and every node is parenthesised. Faults (division or % by zero, log
// or sqrt out of domain, Int64 overflow) become NULL via NULLIF and try(), matching eval.h; see
// README.md. Pure function; safe from any thread.
#pragma once

#include <string>

#include "cuda-workers/expr/bind.h"

namespace aidi::worker::expr {

// Quoting helpers, exposed for ops that name columns themselves.
std::string SqlIdentifier(std::string_view name);  // my "col" -> "my ""col"""
std::string SqlStringLiteral(std::string_view s);  // it's -> 'it''s'

std::string ToSql(const BoundExpr& e);

}  // namespace aidi::worker::expr
