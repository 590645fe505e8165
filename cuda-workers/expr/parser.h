// Parse: text of an aidi expression to its syntax tree (see ast.h and README.md for the
// grammar). The one parser both backends (SQL on DuckDB, bytecode on CPU/GPU) start from.
//
// Grammar, loosest binding first: or < and < not < comparison (= == != <> < <= > >=, not
// chainable) < + - < * / % < unary minus. Literals: integers (must fit int64), decimals with an
// optional exponent (finite doubles), 'strings' ('' escapes a quote), true false null. Columns:
// [A-Za-z_][A-Za-z0-9_]* or "quoted" ("" escapes a quote). Keywords are case-insensitive;
// functions is_null abs log exp sqrt are recognised when followed by '('.
// Pure functions; safe to call from any thread.
#pragma once

#include <cstddef>
#include <string_view>

#include "base/status.h"
#include "cuda-workers/expr/ast.h"

namespace aidi::worker::expr {

inline constexpr size_t kMaxExpressionLength = 64 * 1024;  // bytes of text
inline constexpr int kMaxNesting = 256;                    // parentheses, unary operators and calls
inline constexpr int kMaxTreeDepth = 1024;  // also bounds long operator chains (a+b+c+...)

// Errors are InvalidArgument with one line naming the place and what was expected:
// `at column 7 of "a > and b": expected a value, found 'and'`.
[[nodiscard]] StatusOr<Expr> Parse(std::string_view text);

}  // namespace aidi::worker::expr
