// JsonReader: a validating pull parser over one JSON text, for decoders that read a few fields
// of a large document and skip the rest.
//
// kube-scheduler posts every filter and prioritize call with the whole Pod and, when the
// extender is not nodeCacheCapable, every candidate Node (kilobytes each, thousands of them).
// The extender reads a few dozen fields of that. Building a DOM (nlohmann::json) for all of it
// costs an allocation per key and value; this reader instead hands out the values a decoder
// asks for (strings as views into the text when they hold no escapes) and skips the rest
// without allocating, while still checking every byte: the text is accepted only if it is
// RFC 8259 JSON in UTF-8. It also tells where each value starts and ends, so a decoder can keep
// an object's exact bytes (the extender echoes Node objects back to kube-scheduler).
//
// Syntax follows Go's encoding/json (the decoder kube-scheduler's peers use), with its error
// wording where there is one ("invalid character 'x' after object key") and its nesting limit
// (10000). Stricter than Go in two places: invalid UTF-8 and unpaired surrogate escapes
// (\ud800) are errors, where Go substitutes U+FFFD; a leading byte-order mark is an error in
// both.
//
// Errors latch: after the first error every call returns false (or Type::kInvalid), and
// error() / error_offset() describe the first one. Nesting is tracked without recursion, so
// no input can exhaust the stack.
//
// A reader is a cursor over text it does not own: the text must outlive it and every view it
// returned. Not thread-safe; use one per document.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "base/status.h"

namespace aidi::extender {

class JsonReader {
 public:
  enum class Type { kInvalid, kNull, kBool, kNumber, kString, kArray, kObject };

  // encoding/json's limit on nested arrays and objects.
  static constexpr int kMaxDepth = 10000;

  explicit JsonReader(std::string_view text) : text_(text) {}

  // Skips whitespace and says what the next value is, consuming nothing else. kInvalid (and an
  // error) at the end of the input or at a character that cannot start a value.
  Type Peek();

  // Each consumes one value of its type; false (and an error) if the next value is another
  // type or malformed.
  bool ReadNull();
  bool ReadBool(bool* out);
  // The number's text as written ("-1.5e3"), checked against the JSON grammar.
  bool ReadNumber(std::string_view* out);
  // The string's value: a view into the text when it holds no escapes, else into *scratch
  // (overwritten), so the view lives as long as the text or until *scratch changes.
  bool ReadString(std::string_view* out, std::string* scratch);
  bool ReadString(std::string* out);
  // Consumes and checks one value of any type, without allocating.
  bool SkipValue();

  // Objects: BeginObject(), then NextMember() until it returns false, reading one value after
  // each member it returns. `*first` starts true and is managed by NextMember. NextMember
  // returns false at the closing brace (consumed) and on error: check ok().
  //   bool first = true;
  //   if (!r.BeginObject()) ...;
  //   while (r.NextMember(&first, &key, &scratch)) { ...read or skip the value... }
  //   if (!r.ok()) ...;
  // The key view follows ReadString's rules.
  bool BeginObject();
  bool NextMember(bool* first, std::string_view* key, std::string* scratch);
  // Arrays, likewise: NextElement returns true when an element follows.
  bool BeginArray();
  bool NextElement(bool* first);

  // After the top-level value: true when only whitespace remains.
  bool AtEnd();

  // Skips whitespace; the offset of the next byte (where the next value starts).
  std::size_t SkipWhitespace();
  // The offset of the next byte, whitespace not skipped (just past the last value read).
  std::size_t offset() const { return pos_; }
  std::string_view text() const { return text_; }

  bool ok() const { return error_.empty(); }
  // "invalid character 'x' looking for beginning of value"; empty when ok().
  const std::string& error() const { return error_; }
  std::size_t error_offset() const { return error_offset_; }

  // InvalidArgument ("invalid JSON at offset N: ...") unless `text` is exactly one JSON value,
  // with optional whitespace around it.
  static Status Validate(std::string_view text);

 private:
  bool Fail(std::string message);
  bool FailAt(std::size_t offset, std::string message);
  bool FailChar(std::string_view context);  // "invalid character 'x' <context>" or end of input
  bool Expect(char c, std::string_view context);
  bool ReadLiteral(std::string_view word);
  bool ScanString(std::string* unescaped, bool* has_escapes);
  bool Enter();

  std::string_view text_;
  std::size_t pos_ = 0;
  int depth_ = 0;
  std::string error_;
  std::size_t error_offset_ = 0;
};

// The length of the well-formed UTF-8 sequence that starts at s[i] (RFC 3629: no overlong
// forms, no surrogates, nothing above U+10FFFF; Go's utf8.DecodeRune accepts the same), or 0
// if none does. i < s.size().
std::size_t Utf8SequenceLength(std::string_view s, std::size_t i);

}  // namespace aidi::extender
