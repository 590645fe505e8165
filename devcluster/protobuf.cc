#include "devcluster/protobuf.h"

#include <array>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "base/base64.h"
#include "base/json_nesting.h"
#include "devcluster/protobuf_schema.h"

namespace aidi::devcluster {
namespace {

using nlohmann::json;
using pb::Emit;
using pb::Kind;
using pb::Shape;

constexpr std::string_view kMagic("k8s\0", 4);
// The schemas nest about 15 deep (Deployment down to a label selector requirement); anything
// deeper is hostile, and the cap bounds recursion whatever the tables become.
constexpr int kMaxDepth = 32;
// Messages, map entries and list elements decoded per body. Bounds the work and the JSON that
// zero-filling absent struct fields can add (a 2-byte empty element may expand to a dozen keys).
constexpr int kMaxValues = 1 << 18;
// FieldsV1 carries a raw JSON document; nlohmann dumps recursively, so its nesting is capped.
constexpr int kMaxRawJsonDepth = 64;
constexpr std::uint64_t kMaxFieldNumber = (1u << 29) - 1;
// time.Time{} (January 1, year 1 UTC) in Unix seconds: Go renders it as null.
constexpr std::int64_t kGoZeroTimeSeconds = -62135596800;
// 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z: the years RFC 3339 can write.
constexpr std::int64_t kMinRfc3339Seconds = -62167219200;
constexpr std::int64_t kMaxRfc3339Seconds = 253402300799;

enum WireType : int { kVarint = 0, kFixed64 = 1, kLen = 2, kFixed32 = 5 };

struct WireField {
  std::uint32_t number = 0;
  int wire_type = 0;
  std::uint64_t varint = 0;
  std::string_view bytes;       // the payload of kLen, kFixed64 and kFixed32
  const char* start = nullptr;  // where the tag begins, for error offsets
};

enum class VarintStatus { kOk, kTruncated, kOverflow };

// At most 10 bytes, keeping the low 64 bits, as Go's generated decoders do.
VarintStatus ReadVarint(std::string_view& rest, std::uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (rest.empty()) return VarintStatus::kTruncated;
    auto b = static_cast<std::uint8_t>(rest.front());
    rest.remove_prefix(1);
    v |= static_cast<std::uint64_t>(b & 0x7F) << shift;
    if (b < 0x80) return VarintStatus::kOk;
  }
  return VarintStatus::kOverflow;
}

// Length of the well-formed UTF-8 sequence at s[i], or 0 when it is not one (Unicode table 3-7,
// the rule Go's utf8.DecodeRuneInString applies).
std::size_t Utf8SequenceLength(std::string_view s, std::size_t i) {
  auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) return 1;
  std::size_t n = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;  // no surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  auto c1 = static_cast<unsigned char>(s[i + 1]);
  if (c1 < lo || c1 > hi) return 0;
  for (std::size_t k = 2; k < n; ++k) {
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
  }
  return n;
}

// Go's encoding/json writes each byte that does not start valid UTF-8 as U+FFFD; nlohmann
// would instead throw when the object is dumped, so strings are repaired on the way in.
std::string Utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    std::size_t n = Utf8SequenceLength(s, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

std::int64_t FloorDiv(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

// RFC 3339 in UTC, as metav1.Time (seconds) and metav1.MicroTime (micros >= 0) print. Dates
// from days since the epoch by Howard Hinnant's civil_from_days.
std::optional<std::string> FormatRfc3339(std::int64_t secs, int micros) {
  if (secs < kMinRfc3339Seconds || secs > kMaxRfc3339Seconds) return std::nullopt;
  std::int64_t days = FloorDiv(secs, 86400);
  std::int64_t sod = secs - days * 86400;
  std::int64_t z = days + 719468;
  std::int64_t era = FloorDiv(z, 146097);
  std::int64_t doe = z - era * 146097;
  std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  std::int64_t mp = (5 * doy + 2) / 153;
  std::int64_t day = doy - (153 * mp + 2) / 5 + 1;
  std::int64_t month = mp < 10 ? mp + 3 : mp - 9;
  std::int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  std::array<char, 40> buf{};
  int n = std::snprintf(buf.data(), buf.size(), "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld",
                        static_cast<long long>(year), static_cast<long long>(month),
                        static_cast<long long>(day), static_cast<long long>(sod / 3600),
                        static_cast<long long>(sod / 60 % 60), static_cast<long long>(sod % 60));
  std::string out(buf.data(), static_cast<std::size_t>(n));
  if (micros >= 0) {
    std::snprintf(buf.data(), buf.size(), ".%06d", micros);
    out += buf.data();
  }
  return out + "Z";
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// The grammar resource.ParseQuantity accepts: <sign><digits>[.<digits>]<suffix>, the suffix
// binary SI (Ki..Ei), decimal SI (n u m "" k M G T P E) or an exponent (e3, E-2).
bool ValidQuantity(std::string_view s) {
  std::size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  std::size_t digits = 0;
  for (; i < s.size() && IsDigit(s[i]); ++i) ++digits;
  if (i < s.size() && s[i] == '.') {
    for (++i; i < s.size() && IsDigit(s[i]); ++i) ++digits;
  }
  if (digits == 0) return false;
  std::string_view suffix = s.substr(i);
  static constexpr std::array<std::string_view, 16> kSuffixes = {
      "", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "n", "u", "m", "k", "M", "G", "T", "P", "E"};
  for (std::string_view k : kSuffixes) {
    if (suffix == k) return true;
  }
  if (suffix[0] != 'e' && suffix[0] != 'E') return false;
  std::string_view exp = suffix.substr(1);
  if (!exp.empty() && (exp[0] == '+' || exp[0] == '-')) exp.remove_prefix(1);
  if (exp.empty()) return false;
  for (char c : exp) {
    if (!IsDigit(c)) return false;
  }
  return true;
}

bool IsZero(const json& v) {
  if (v.is_string()) return v.get_ref<const std::string&>().empty();
  if (v.is_boolean()) return !v.get<bool>();
  if (v.is_number_integer()) return v.get<std::int64_t>() == 0;
  return v.is_null();
}

int WireTypeOf(Kind kind) {
  return (kind == Kind::kBool || kind == Kind::kInt32 || kind == Kind::kInt64) ? kVarint : kLen;
}

// The apimachinery value types, decoded through the same tables as the objects.
constexpr pb::Field kTypeMetaFields[] = {
    {1, "apiVersion", Kind::kString, Shape::kSingle, Emit::kOmitEmpty, nullptr},
    {2, "kind", Kind::kString, Shape::kSingle, Emit::kOmitEmpty, nullptr},
};
const pb::Message kTypeMeta{"TypeMeta", kTypeMetaFields};
constexpr pb::Field kQuantityFields[] = {
    {1, "string", Kind::kString, Shape::kSingle, Emit::kPointer, nullptr},
};
const pb::Message kQuantity{"Quantity", kQuantityFields};
constexpr pb::Field kIntOrStringFields[] = {
    {1, "type", Kind::kInt64, Shape::kSingle, Emit::kOmitEmpty, nullptr},
    {2, "intVal", Kind::kInt32, Shape::kSingle, Emit::kOmitEmpty, nullptr},
    {3, "strVal", Kind::kString, Shape::kSingle, Emit::kOmitEmpty, nullptr},
};
const pb::Message kIntOrString{"IntOrString", kIntOrStringFields};
constexpr pb::Field kTimestampFields[] = {
    {1, "seconds", Kind::kInt64, Shape::kSingle, Emit::kOmitEmpty, nullptr},
    {2, "nanos", Kind::kInt32, Shape::kSingle, Emit::kOmitEmpty, nullptr},
};
const pb::Message kTimestamp{"Timestamp", kTimestampFields};

struct Envelope {
  std::string api_version;
  std::string kind;
  std::string content_encoding;
  std::string_view raw;
};

// One decode of one body. Methods return false after recording the first error.
class Decoder {
 public:
  explicit Decoder(std::string_view body) : body_(body) {}

  bool DecodeEnvelope(std::string_view data, Envelope& env);
  // Decodes the fields of `m` in `data` into the JSON object `out` (which may already hold
  // fields: repeated occurrences of a message merge, and inline structs share their parent).
  bool DecodeMessage(const pb::Message& m, std::string_view data, int depth, json& out);
  std::string TakeError() { return std::move(error_); }

 private:
  bool Next(std::string_view& rest, WireField& w);
  bool DecodeField(const pb::Message& m, const pb::Field& f, const WireField& w, int depth,
                   json& out);
  bool DecodeRepeated(const pb::Message& m, const pb::Field& f, const WireField& w, int depth,
                      json& list);
  bool DecodeMapEntry(const pb::Message& m, const pb::Field& f, const WireField& w, int depth,
                      json& map);
  bool DecodeValue(const pb::Field& f, const WireField& w, int depth, json& v);
  bool DecodeQuantity(const WireField& w, int depth, json& v);
  bool DecodeIntOrString(const WireField& w, int depth, json& v);
  bool DecodeTime(const WireField& w, int depth, bool micro, json& v);
  bool DecodeFieldsV1(const WireField& w, json& v);
  // `end` is the empty view just past the message: zero-filled structs "start" there.
  bool Finish(const pb::Message& m, const std::vector<bool>& seen, std::string_view end, int depth,
              json& out);
  bool FillAbsent(const pb::Field& f, std::string_view end, int depth, json& out);

  bool Expect(const pb::Message& m, const pb::Field& f, const WireField& w, int want);
  bool Spend(const char* at);
  bool Fail(std::string msg);
  std::string At(const char* p) const {
    return "offset " + std::to_string(static_cast<std::size_t>(p - body_.data()));
  }

  std::string_view body_;
  int values_left_ = kMaxValues;
  std::string error_;
};

bool Decoder::Fail(std::string msg) {
  if (error_.empty()) error_ = "protobuf: " + std::move(msg);
  return false;
}

bool Decoder::Spend(const char* at) {
  if (--values_left_ >= 0) return true;
  return Fail("more than " + std::to_string(kMaxValues) + " values at " + At(at) +
              "; the object is too large to decode");
}

// Reads the field at the front of `rest` and moves past it.
bool Decoder::Next(std::string_view& rest, WireField& w) {
  w = WireField{};
  w.start = rest.data();
  std::uint64_t tag = 0;
  if (ReadVarint(rest, tag) != VarintStatus::kOk) return Fail("malformed tag at " + At(w.start));
  std::uint64_t number = tag >> 3;
  if (number == 0 || number > kMaxFieldNumber) {
    return Fail("invalid field number " + std::to_string(number) + " at " + At(w.start));
  }
  w.number = static_cast<std::uint32_t>(number);
  w.wire_type = static_cast<int>(tag & 7);
  auto field = [&] { return "field " + std::to_string(w.number) + " at " + At(w.start); };
  std::size_t size = 0;
  switch (w.wire_type) {
    case kVarint:
      switch (ReadVarint(rest, w.varint)) {
        case VarintStatus::kOk:
          return true;
        case VarintStatus::kTruncated:
          return Fail("truncated " + field());
        case VarintStatus::kOverflow:
          return Fail("varint overflows 64 bits in " + field());
      }
      return false;
    case kFixed64:
      size = 8;
      break;
    case kFixed32:
      size = 4;
      break;
    case kLen: {
      std::uint64_t len = 0;
      if (ReadVarint(rest, len) != VarintStatus::kOk) return Fail("truncated " + field());
      if (len > rest.size()) return Fail("truncated " + field());
      size = static_cast<std::size_t>(len);
      break;
    }
    default:
      // 3 and 4 are proto2 groups, which Kubernetes never uses; 6 and 7 do not exist.
      return Fail(field() + " has unsupported wire type " + std::to_string(w.wire_type));
  }
  if (size > rest.size()) return Fail("truncated " + field());
  w.bytes = rest.substr(0, size);
  rest.remove_prefix(size);
  return true;
}

bool Decoder::Expect(const pb::Message& m, const pb::Field& f, const WireField& w, int want) {
  if (w.wire_type == want) return true;
  return Fail("field " + std::to_string(f.number) + " (" + std::string(f.json) + ") of " +
              std::string(m.name) + " at " + At(w.start) + " has wire type " +
              std::to_string(w.wire_type) + ", want " + std::to_string(want));
}

bool Decoder::DecodeEnvelope(std::string_view data, Envelope& env) {
  // runtime.Unknown: 1 TypeMeta, 2 raw, 3 contentEncoding, 4 contentType (ignored, as upstream).
  static constexpr pb::Field kUnknownFields[] = {
      {1, "typeMeta", Kind::kMessage, Shape::kSingle, Emit::kAlways, &kTypeMeta},
      {2, "raw", Kind::kBytes, Shape::kSingle, Emit::kOmitEmpty, nullptr},
      {3, "contentEncoding", Kind::kString, Shape::kSingle, Emit::kOmitEmpty, nullptr},
      {4, "contentType", Kind::kString, Shape::kSingle, Emit::kOmitEmpty, nullptr},
  };
  static const pb::Message kUnknown{"Unknown", kUnknownFields};
  env.raw = data.substr(data.size());
  std::string_view rest = data;
  while (!rest.empty()) {
    WireField w;
    if (!Next(rest, w)) return false;
    const pb::Field* f = kUnknown.Find(w.number);
    if (f == nullptr) {
      return Fail("unknown field " + std::to_string(w.number) + " in Unknown at " + At(w.start));
    }
    if (!Expect(kUnknown, *f, w, kLen)) return false;
    if (w.number == 1) {
      json type_meta = json::object();
      if (!DecodeMessage(kTypeMeta, w.bytes, 1, type_meta)) return false;
      env.api_version = type_meta.value("apiVersion", "");
      env.kind = type_meta.value("kind", "");
    } else if (w.number == 2) {
      env.raw = w.bytes;
    } else if (w.number == 3) {
      env.content_encoding = Utf8(w.bytes);
    }
  }
  return true;
}

bool Decoder::DecodeMessage(const pb::Message& m, std::string_view data, int depth, json& out) {
  if (depth > kMaxDepth) {
    return Fail("nesting deeper than " + std::to_string(kMaxDepth) + " at " + At(data.data()));
  }
  if (!Spend(data.data())) return false;
  std::vector<bool> seen(m.fields.size(), false);
  std::string_view rest = data;
  while (!rest.empty()) {
    WireField w;
    if (!Next(rest, w)) return false;
    const pb::Field* f = m.Find(w.number);
    if (f == nullptr) {
      return Fail("unknown field " + std::to_string(w.number) + " in " + std::string(m.name) +
                  " at " + At(w.start));
    }
    seen[static_cast<std::size_t>(f - m.fields.data())] = true;
    if (!DecodeField(m, *f, w, depth, out)) return false;
  }
  return Finish(m, seen, data.substr(data.size()), depth, out);
}

bool Decoder::DecodeField(const pb::Message& m, const pb::Field& f, const WireField& w, int depth,
                          json& out) {
  if (f.kind == Kind::kTombstone) return true;  // Next already stepped over the value
  if (f.kind == Kind::kUnsupported) {
    return Fail("field " + std::to_string(f.number) + " (" + std::string(f.json) + ") of " +
                std::string(m.name) + " at " + At(w.start) +
                " is not supported by aidi-devcluster; send the object as JSON");
  }
  switch (f.shape) {
    case Shape::kInline:
      return Expect(m, f, w, kLen) && DecodeMessage(*f.message, w.bytes, depth + 1, out);
    case Shape::kMap:
      return Expect(m, f, w, kLen) && DecodeMapEntry(m, f, w, depth, out[std::string(f.json)]);
    case Shape::kRepeated:
      return DecodeRepeated(m, f, w, depth, out[std::string(f.json)]);
    case Shape::kSingle:
      break;
  }
  if (!Expect(m, f, w, WireTypeOf(f.kind))) return false;
  json& slot = out[std::string(f.json)];
  if (f.kind == Kind::kMessage) {
    // A message field sent twice merges, as proto2 specifies; a scalar's last value wins.
    if (!slot.is_object()) slot = json::object();
    return DecodeMessage(*f.message, w.bytes, depth + 1, slot);
  }
  return DecodeValue(f, w, depth, slot);
}

bool Decoder::DecodeRepeated(const pb::Message& m, const pb::Field& f, const WireField& w,
                             int depth, json& list) {
  if (!list.is_array()) list = json::array();
  bool numeric = f.kind == Kind::kInt32 || f.kind == Kind::kInt64;
  if (numeric && w.wire_type == kLen) {  // packed: the payload is a run of varints
    std::string_view rest = w.bytes;
    while (!rest.empty()) {
      std::uint64_t v = 0;
      if (ReadVarint(rest, v) != VarintStatus::kOk) {
        return Fail("truncated field " + std::to_string(f.number) + " at " + At(w.start));
      }
      if (!Spend(w.start)) return false;
      WireField element = w;
      element.varint = v;
      json value;
      if (!DecodeValue(f, element, depth, value)) return false;
      list.push_back(std::move(value));
    }
    return true;
  }
  if (!Expect(m, f, w, WireTypeOf(f.kind))) return false;
  if (f.kind != Kind::kMessage && !Spend(w.start)) return false;
  json value;
  if (!DecodeValue(f, w, depth, value)) return false;
  list.push_back(std::move(value));
  return true;
}

// A map entry is a message {1: key, 2: value}; a missing part is its zero value.
bool Decoder::DecodeMapEntry(const pb::Message& m, const pb::Field& f, const WireField& w,
                             int depth, json& map) {
  if (!map.is_object()) map = json::object();
  if (depth + 1 > kMaxDepth) {
    return Fail("nesting deeper than " + std::to_string(kMaxDepth) + " at " + At(w.start));
  }
  if (!Spend(w.start)) return false;
  std::string key;
  json value = f.kind == Kind::kQuantity ? json("0") : json("");
  std::string_view rest = w.bytes;
  while (!rest.empty()) {
    WireField part;
    if (!Next(rest, part)) return false;
    if (part.number == 1) {
      if (!Expect(m, f, part, kLen)) return false;
      key = Utf8(part.bytes);
    } else if (part.number == 2) {
      if (!Expect(m, f, part, WireTypeOf(f.kind)) || !DecodeValue(f, part, depth + 1, value)) {
        return false;
      }
    } else {
      return Fail("unknown field " + std::to_string(part.number) + " in an entry of " +
                  std::string(m.name) + "." + std::string(f.json) + " at " + At(part.start));
    }
  }
  map[key] = std::move(value);
  return true;
}

bool Decoder::DecodeValue(const pb::Field& f, const WireField& w, int depth, json& v) {
  switch (f.kind) {
    case Kind::kString:
      v = Utf8(w.bytes);
      return true;
    case Kind::kBytes:
      v = Base64Encode(w.bytes);
      return true;
    case Kind::kBool:
      v = w.varint != 0;
      return true;
    case Kind::kInt32:  // Go keeps the low 32 bits of the varint
      v = static_cast<std::int32_t>(static_cast<std::uint32_t>(w.varint));
      return true;
    case Kind::kInt64:
      v = static_cast<std::int64_t>(w.varint);
      return true;
    case Kind::kMessage:
      v = json::object();
      return DecodeMessage(*f.message, w.bytes, depth + 1, v);
    case Kind::kQuantity:
      return DecodeQuantity(w, depth, v);
    case Kind::kIntOrString:
      return DecodeIntOrString(w, depth, v);
    case Kind::kTime:
      return DecodeTime(w, depth, /*micro=*/false, v);
    case Kind::kMicroTime:
      return DecodeTime(w, depth, /*micro=*/true, v);
    case Kind::kFieldsV1:
      return DecodeFieldsV1(w, v);
    case Kind::kUnsupported:
    case Kind::kTombstone:
      break;
  }
  return Fail("internal: no value decoder for field " + std::to_string(f.number));
}

bool Decoder::DecodeQuantity(const WireField& w, int depth, json& v) {
  json q = json::object();
  if (!DecodeMessage(kQuantity, w.bytes, depth + 1, q)) return false;
  if (!q.contains("string")) {  // the zero Quantity
    v = "0";
    return true;
  }
  std::string s = q["string"].get<std::string>();
  if (!ValidQuantity(s)) {
    if (s.size() > 40) s = s.substr(0, 40) + "...";
    return Fail("invalid quantity \"" + s + "\" at " + At(w.start));
  }
  v = std::move(s);
  return true;
}

bool Decoder::DecodeIntOrString(const WireField& w, int depth, json& v) {
  json o = json::object();
  if (!DecodeMessage(kIntOrString, w.bytes, depth + 1, o)) return false;
  std::int64_t type = o.value("type", std::int64_t{0});
  if (type == 0) {
    v = o.value("intVal", 0);
  } else if (type == 1) {
    v = o.value("strVal", "");
  } else {
    return Fail("IntOrString at " + At(w.start) + " has type " + std::to_string(type) +
                ", want 0 (int) or 1 (string)");
  }
  return true;
}

// metav1.Time keeps whole seconds (its Unmarshal drops the nanos); MicroTime keeps micros.
// No bytes, or the instant of Go's zero time, is null.
bool Decoder::DecodeTime(const WireField& w, int depth, bool micro, json& v) {
  if (w.bytes.empty()) {
    v = nullptr;
    return true;
  }
  json t = json::object();
  if (!DecodeMessage(kTimestamp, w.bytes, depth + 1, t)) return false;
  std::int64_t secs = t.value("seconds", std::int64_t{0});
  std::int64_t nanos = micro ? t.value("nanos", std::int64_t{0}) : 0;
  if (secs < kMinRfc3339Seconds - 10 || secs > kMaxRfc3339Seconds + 10) {
    return Fail("timestamp at " + At(w.start) + " (" + std::to_string(secs) +
                " s) is outside the years 0000-9999");
  }
  secs += FloorDiv(nanos, 1000000000);  // time.Unix normalizes out-of-range nanos
  nanos -= FloorDiv(nanos, 1000000000) * 1000000000;
  if (secs == kGoZeroTimeSeconds && nanos == 0) {
    v = nullptr;
    return true;
  }
  auto text = FormatRfc3339(secs, micro ? static_cast<int>(nanos / 1000) : -1);
  if (!text) {
    return Fail("timestamp at " + At(w.start) + " (" + std::to_string(secs) +
                " s) is outside the years 0000-9999");
  }
  v = std::move(*text);
  return true;
}

// FieldsV1 {1: raw}: the raw bytes are a JSON document and render as themselves.
bool Decoder::DecodeFieldsV1(const WireField& w, json& v) {
  std::optional<std::string_view> raw;
  std::string_view rest = w.bytes;
  while (!rest.empty()) {
    WireField part;
    if (!Next(rest, part)) return false;
    if (part.number != 1 || part.wire_type != kLen) {
      return Fail("unexpected field " + std::to_string(part.number) + " in FieldsV1 at " +
                  At(part.start));
    }
    raw = part.bytes;
  }
  if (!raw) {
    v = nullptr;
    return true;
  }
  if (JsonNestingDepth(*raw) > static_cast<std::size_t>(kMaxRawJsonDepth)) {
    return Fail("FieldsV1 at " + At(w.start) + " nests deeper than " +
                std::to_string(kMaxRawJsonDepth));
  }
  v = json::parse(*raw, nullptr, /*allow_exceptions=*/false);
  if (v.is_discarded()) return Fail("FieldsV1 at " + At(w.start) + " is not valid JSON");
  return true;
}

// Renders what the wire left unsaid as Go would: zero `omitempty` scalars vanish, and struct
// fields that were never sent still appear with their zero value.
bool Decoder::Finish(const pb::Message& m, const std::vector<bool>& seen, std::string_view end,
                     int depth, json& out) {
  for (std::size_t i = 0; i < m.fields.size(); ++i) {
    const pb::Field& f = m.fields[i];
    if (f.kind == Kind::kUnsupported || f.kind == Kind::kTombstone) continue;
    if (f.shape == Shape::kInline) {
      if (!seen[i] && !DecodeMessage(*f.message, end, depth + 1, out)) {
        return false;
      }
      continue;
    }
    bool present = seen[i];
    auto it = out.find(std::string(f.json));
    if (present && f.shape != Shape::kSingle && it->empty()) {
      out.erase(it);  // a packed list with no elements decodes to Go's nil
      present = false;
    }
    if (present) {
      bool scalar = f.shape == Shape::kSingle && f.kind != Kind::kMessage;
      if (scalar && f.emit == Emit::kOmitEmpty && IsZero(*it)) out.erase(it);
    } else if (!FillAbsent(f, end, depth, out)) {
      return false;
    }
  }
  return true;
}

bool Decoder::FillAbsent(const pb::Field& f, std::string_view end, int depth, json& out) {
  std::string key(f.json);
  // An earlier occurrence of this message (proto2 merges them) may have set the field already.
  if (out.contains(key)) return true;
  if (f.emit == Emit::kNullable) {
    out[key] = nullptr;
    return true;
  }
  if (f.emit != Emit::kAlways) return true;
  if (f.shape != Shape::kSingle) {
    out[key] = nullptr;  // a nil slice or map without omitempty
    return true;
  }
  switch (f.kind) {
    case Kind::kString:
      out[key] = "";
      return true;
    case Kind::kBool:
      out[key] = false;
      return true;
    case Kind::kInt32:
    case Kind::kInt64:
    case Kind::kIntOrString:
      out[key] = 0;
      return true;
    case Kind::kQuantity:
      out[key] = "0";
      return true;
    case Kind::kMessage: {
      json zero = json::object();
      if (!DecodeMessage(*f.message, end, depth + 1, zero)) return false;
      out[key] = std::move(zero);
      return true;
    }
    case Kind::kBytes:
    case Kind::kTime:
    case Kind::kMicroTime:
    case Kind::kFieldsV1:
      out[key] = nullptr;
      return true;
    case Kind::kUnsupported:
    case Kind::kTombstone:
      return true;
  }
  return true;
}

}  // namespace

std::variant<std::string, json> DecodeKubernetesProtobuf(std::string_view body) {
  if (body.size() > kMaxProtobufBodyBytes) {
    return "protobuf: body of " + std::to_string(body.size()) + " bytes exceeds the limit of " +
           std::to_string(kMaxProtobufBodyBytes);
  }
  if (body.substr(0, kMagic.size()) != kMagic) {
    return std::string("protobuf: body does not start with the magic bytes \"k8s\\x00\"");
  }
  Decoder decoder(body);
  Envelope env;
  if (!decoder.DecodeEnvelope(body.substr(kMagic.size()), env)) return decoder.TakeError();
  if (!env.content_encoding.empty()) {
    return "protobuf: unsupported contentEncoding \"" + env.content_encoding + "\"";
  }
  if (env.api_version.empty() || env.kind.empty()) {
    return std::string("protobuf: the envelope must name both apiVersion and kind");
  }
  const pb::Message* message = pb::TopLevelMessage(env.api_version, env.kind);
  if (message == nullptr) {
    return "protobuf: unsupported kind " + env.api_version + " " + env.kind;
  }
  json out = json::object();
  out["apiVersion"] = env.api_version;
  out["kind"] = env.kind;
  if (!decoder.DecodeMessage(*message, env.raw, 0, out)) return decoder.TakeError();
  return out;
}

bool SupportsProtobufKind(const std::string& api_version, const std::string& kind) {
  return pb::TopLevelMessage(api_version, kind) != nullptr;
}

}  // namespace aidi::devcluster
