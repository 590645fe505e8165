// Base64 (RFC 4648) encoding and decoding. Decoding accepts the standard and the URL-safe
// alphabets, with or without padding. Pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace aidi {

std::string Base64Encode(std::string_view in);
// nullopt when `in` holds a character outside both alphabets.
std::optional<std::string> Base64Decode(std::string_view in);

}  // namespace aidi
