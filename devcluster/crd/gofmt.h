// Go-compatible renderings of unstructured JSON values, so messages and table cells read
// byte-for-byte like the Go apiserver's: strconv.Quote, fmt's %v and %#v, encoding/json.Marshal.
// Unstructured values follow Go's decoding: JSON integers are int64 (unsigned beyond int64 become
// float64), other numbers float64. Internal to devcluster/crd; pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace aidi::devcluster::gofmt {

// strconv.Quote: "a\"b", non-printable runes and invalid UTF-8 escaped.
std::string Quote(std::string_view s);

// fmt's %v of a float64 (strconv 'g' with the shortest digits: 1e+06, 0.5, 3).
std::string FloatV(double v);

// encoding/json's rendering of a float64 ('f' unless < 1e-6 or >= 1e21: 1e-7, 42, 0.5).
std::string JsonFloat(double v);

// encoding/json.Marshal of an unstructured value (sorted keys, HTML-safe escapes, no spaces).
std::string JsonMarshal(const nlohmann::json& v, int max_depth = 256);

// fmt's %#v of an unstructured value held in an interface{}: map[string]interface {}{"a":1}.
std::string SharpV(const nlohmann::json& v, int max_depth = 256);

// How field.Error.ErrorBody prints a bad value: null, %v for numbers and bools, %q for
// strings, %#v for maps and slices.
std::string ValueV(const nlohmann::json& v);

// fmt's %v of a scalar as jsonpath's text output prints it (strings raw, numbers %v).
std::string ScalarV(const nlohmann::json& v);

// True when `v` is a JSON number that Go decodes as int64 (sets *out).
bool AsGoInt64(const nlohmann::json& v, int64_t* out);
// Any JSON number as float64.
double AsFloat64(const nlohmann::json& v);

// UTF-8 decoding as Go's range loop does it: each invalid byte becomes U+FFFD.
std::vector<char32_t> DecodeUtf8(std::string_view s);
std::size_t RuneCount(std::string_view s);
void AppendUtf8(char32_t r, std::string* out);

}  // namespace aidi::devcluster::gofmt
