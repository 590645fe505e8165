// String formats a CRD schema may validate, as apiextensions-apiserver's formats.go lists them
// (the k8s.io/kube-openapi strfmt registry). Internal to devcluster/crd; pure functions.
#pragma once

#include <string>
#include <string_view>

namespace aidi::devcluster::formats {

// The format that survives the apiserver's StripUnsupportedFormatsPostProcess for a schema of
// `type` ("" when it is dropped): string formats from the supported list, int32/int64 for
// integers, float/double for numbers.
std::string Effective(std::string_view type, std::string_view format);

// True when `format` names a registered string format (after go-openapi's normalisation).
bool IsKnownStringFormat(std::string_view format);

// True when `value` is valid for the known string `format`. Validated precisely: date,
// date-time, uuid (3/4/5), ipv4, ipv6, cidr, mac, byte, hostname, hexcolor, rgbcolor, ssn,
// bsonobjectid, isbn (10/13), duration, quantity; approximated: email, uri; accepted as is:
// password, creditcard.
bool Validate(std::string_view format, std::string_view value);

}  // namespace aidi::devcluster::formats
