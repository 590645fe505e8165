// The message schemas behind DecodeKubernetesProtobuf (protobuf.h): for each supported kind, the
// fields of k8s.io/api generated.proto with their numbers, wire kinds and the Go JSON tag
// semantics of the struct field they fill. Internal to devcluster/protobuf*.cc.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace aidi::devcluster::pb {

// What a field holds, which fixes the wire type it must arrive with and its JSON form.
enum class Kind : std::uint8_t {
  kString,       // length-delimited; JSON string
  kBytes,        // length-delimited; JSON base64 string (Go []byte)
  kBool,         // varint
  kInt32,        // varint, truncated to 32 bits as Go does
  kInt64,        // varint
  kMessage,      // length-delimited nested message (Field::message)
  kQuantity,     // resource.Quantity {1: string}; JSON string
  kIntOrString,  // intstr.IntOrString {1: type, 2: intVal, 3: strVal}; JSON number or string
  kTime,         // metav1.Time {1: seconds, 2: nanos}; JSON RFC 3339, seconds precision
  kMicroTime,    // metav1.MicroTime; JSON RFC 3339 with microseconds
  kFieldsV1,     // metav1.FieldsV1 {1: raw JSON bytes}; JSON the raw document
  kUnsupported,  // an upstream field devcluster does not decode: its presence is an error
  kTombstone,    // a retired field number: accepted and dropped, as the apiserver does
};

enum class Shape : std::uint8_t {
  kSingle,
  kRepeated,  // a JSON array (numbers may also arrive packed)
  kMap,       // map<string, Kind>: repeated entries {1: key, 2: value}; a JSON object
  kInline,    // an embedded Go struct (`json:",inline"`): its fields land in the parent object
};

// How Go's encoding/json renders the struct field the wire value was decoded into.
enum class Emit : std::uint8_t {
  kOmitEmpty,  // value with `omitempty`: left out when zero ("", 0, false, empty list or map)
  kPointer,    // pointer with `omitempty`: present on the wire exactly when it is emitted
  kNullable,   // pointer without `omitempty`: null when absent
  kAlways,     // value without `omitempty`, or any struct value: the zero value when absent
};

struct Message;

struct Field {
  std::uint32_t number;
  std::string_view json;  // the Go json tag name; empty for inline fields
  Kind kind;
  Shape shape;
  Emit emit;
  const Message* message;  // for Kind::kMessage and Shape::kInline
};

struct Message {
  std::string_view name;  // the Go type name, for error messages
  std::span<const Field> fields;

  const Field* Find(std::uint32_t number) const {
    for (const Field& f : fields) {
      if (f.number == number) return &f;
    }
    return nullptr;
  }
};

// The message of a top-level object, or nullptr when devcluster cannot decode that kind.
const Message* TopLevelMessage(std::string_view api_version, std::string_view kind);

}  // namespace aidi::devcluster::pb
