// How deeply a JSON (or YAML flow-style) text nests [ and {, counted outside string literals
// without parsing it. Parsing, copying and encoding JSON recurse, so hostile input is measured
// with this before it is parsed. Pure function.
#pragma once

#include <cstddef>
#include <string_view>

namespace aidi {

std::size_t JsonNestingDepth(std::string_view text);

}  // namespace aidi
