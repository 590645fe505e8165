#include "scheduler-extender/json_reader.h"

#include <string>
#include <string_view>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace aidi::extender {
namespace {

using Type = JsonReader::Type;

// Texts both JsonReader and nlohmann::json accept.
const char* const kValid[] = {
    "null",
    "true",
    " false ",
    "0",
    "-0",
    "12",
    "-1.5e+3",
    "1E-2",
    "0.25",
    "\"\"",
    R"("a\"\\\/\b\f\n\r\t")",
    R"("\u00e9\u20ac\ud83d\ude00")",
    "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"",
    "[]",
    "{}",
    "[1,[2,[3]],{\"a\":{}}]",
    "{\"a\":1,\"b\":[true,false,null],\"c\":{\"d\":\"e\"}}",
    " \t\r\n{ \"a\" : [ 1 , 2 ] } \n",
};

// Texts both reject.
const char* const kInvalid[] = {
    "",
    " ",
    "nul",
    "tru",
    "True",
    "01",
    "-",
    "1.",
    ".5",
    "1e",
    "1e+",
    "+1",
    "0x10",
    "\"abc",
    "\"\\x\"",
    "\"\\u12\"",
    "\"\\u12g4\"",
    "\"\\ud800\"",         // unpaired high surrogate
    "\"\\udc00\"",         // unpaired low surrogate
    "\"\\ud800\\u0041\"",  // high surrogate then not a low one
    "\"a\tb\"",            // raw control character
    "\"\xff\"",
    "\"\xc0\xaf\"",          // overlong '/'
    "\"\xed\xa0\x80\"",      // encoded surrogate
    "\"\xf4\x90\x80\x80\"",  // above U+10FFFF
    "\"\xe2\x82\"",          // truncated sequence
    "[",
    "[1,]",
    "[,1]",
    "[1 2]",
    "{",
    "{\"a\"}",
    "{\"a\":}",
    "{\"a\":1,}",
    "{,\"a\":1}",
    "{1:2}",
    "{\"a\":1 \"b\":2}",
    "[1]]",
    "{}{}",
    "1 2",
    "\xef\xbb\xbf{}",  // a byte-order mark (nlohmann skips it; Go and we reject it)
};

TEST(JsonReaderTest, AcceptsWhatNlohmannAccepts) {
  for (const char* text : kValid) {
    EXPECT_TRUE(nlohmann::json::accept(text)) << text;
    EXPECT_TRUE(JsonReader::Validate(text).ok())
        << text << ": " << JsonReader::Validate(text).message();
  }
}

TEST(JsonReaderTest, RejectsMalformedJson) {
  for (const char* text : kInvalid) {
    const Status s = JsonReader::Validate(text);
    EXPECT_FALSE(s.ok()) << text;
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << text;
    if (std::string_view(text).substr(0, 3) != "\xef\xbb\xbf") {
      EXPECT_FALSE(nlohmann::json::accept(text)) << text;
    }
  }
}

TEST(JsonReaderTest, ErrorsUseGoWordingAndOffsets) {
  EXPECT_EQ(JsonReader::Validate("{\"a\" 1}").message(),
            "invalid JSON at offset 5: invalid character '1' after object key");
  EXPECT_EQ(JsonReader::Validate("[1,]").message(),
            "invalid JSON at offset 3: invalid character ']' looking for beginning of value");
  EXPECT_EQ(JsonReader::Validate("{\"a\":1 x").message(),
            "invalid JSON at offset 7: invalid character 'x' after object key:value pair");
  EXPECT_EQ(JsonReader::Validate("[1").message(),
            "invalid JSON at offset 2: unexpected end of JSON input");
  EXPECT_EQ(JsonReader::Validate("nulx").message(),
            "invalid JSON at offset 3: invalid character 'x' in literal null (expecting 'l')");
  EXPECT_EQ(JsonReader::Validate("1 2").message(),
            "invalid JSON at offset 2: invalid character '2' after top-level value");
  EXPECT_EQ(JsonReader::Validate("\"a\nb\"").message(),
            "invalid JSON at offset 2: invalid character '\\x0a' in string literal");
}

TEST(JsonReaderTest, NestingIsLimitedLikeEncodingJson) {
  const std::string ok =
      std::string(JsonReader::kMaxDepth, '[') + std::string(JsonReader::kMaxDepth, ']');
  EXPECT_TRUE(JsonReader::Validate(ok).ok());
  // Far deeper than any stack would allow if skipping recursed.
  const std::string deep = std::string(200000, '[') + std::string(200000, ']');
  EXPECT_EQ(JsonReader::Validate(deep).message(),
            "invalid JSON at offset 10000: exceeded max depth");
  const std::string deep_objects = [] {
    std::string s;
    for (int i = 0; i < 20000; ++i) s += "{\"a\":";
    return s;
  }();
  EXPECT_FALSE(JsonReader::Validate(deep_objects).ok());
}

TEST(JsonReaderTest, StringsAreViewsUnlessEscaped) {
  const std::string text = R"(["plain", "esc\naped", "\u00e9\ud83d\ude00", "\u0000"])";
  JsonReader r(text);
  ASSERT_TRUE(r.BeginArray());
  bool first = true;
  std::string scratch;
  std::string_view v;

  ASSERT_TRUE(r.NextElement(&first));
  ASSERT_TRUE(r.ReadString(&v, &scratch));
  EXPECT_EQ(v, "plain");
  EXPECT_GE(v.data(), text.data());
  EXPECT_LT(v.data(), text.data() + text.size());

  ASSERT_TRUE(r.NextElement(&first));
  ASSERT_TRUE(r.ReadString(&v, &scratch));
  EXPECT_EQ(v, "esc\naped");
  EXPECT_EQ(v.data(), scratch.data());

  ASSERT_TRUE(r.NextElement(&first));
  ASSERT_TRUE(r.ReadString(&v, &scratch));
  EXPECT_EQ(v, "\xc3\xa9\xf0\x9f\x98\x80");

  ASSERT_TRUE(r.NextElement(&first));
  std::string nul;
  ASSERT_TRUE(r.ReadString(&nul));
  EXPECT_EQ(nul, std::string(1, '\0'));

  EXPECT_FALSE(r.NextElement(&first));
  EXPECT_TRUE(r.ok());
  EXPECT_TRUE(r.AtEnd());
}

TEST(JsonReaderTest, ObjectsPeekAndOffsets) {
  const std::string text = R"( {"a": {"x": [1, 2]}, "b": -3.5, "c": null, "d": true} )";
  JsonReader r(text);
  ASSERT_EQ(r.Peek(), Type::kObject);
  ASSERT_TRUE(r.BeginObject());
  bool first = true;
  std::string_view key;
  std::string scratch;

  ASSERT_TRUE(r.NextMember(&first, &key, &scratch));
  EXPECT_EQ(key, "a");
  const std::size_t begin = r.SkipWhitespace();
  ASSERT_TRUE(r.SkipValue());
  EXPECT_EQ(text.substr(begin, r.offset() - begin), R"({"x": [1, 2]})");

  ASSERT_TRUE(r.NextMember(&first, &key, &scratch));
  EXPECT_EQ(key, "b");
  EXPECT_EQ(r.Peek(), Type::kNumber);
  std::string_view number;
  ASSERT_TRUE(r.ReadNumber(&number));
  EXPECT_EQ(number, "-3.5");

  ASSERT_TRUE(r.NextMember(&first, &key, &scratch));
  EXPECT_EQ(r.Peek(), Type::kNull);
  EXPECT_TRUE(r.ReadNull());

  ASSERT_TRUE(r.NextMember(&first, &key, &scratch));
  bool b = false;
  ASSERT_TRUE(r.ReadBool(&b));
  EXPECT_TRUE(b);

  EXPECT_FALSE(r.NextMember(&first, &key, &scratch));
  EXPECT_TRUE(r.ok());
  EXPECT_TRUE(r.AtEnd());
}

TEST(JsonReaderTest, ErrorsLatch) {
  JsonReader r("[x, 1]");
  ASSERT_TRUE(r.BeginArray());
  bool first = true;
  ASSERT_TRUE(r.NextElement(&first));
  EXPECT_EQ(r.Peek(), Type::kInvalid);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.error(), "invalid character 'x' looking for beginning of value");
  EXPECT_EQ(r.error_offset(), 1u);
  EXPECT_FALSE(r.NextElement(&first));
  EXPECT_FALSE(r.SkipValue());
  EXPECT_EQ(r.error_offset(), 1u);  // the first error stays
}

TEST(JsonReaderTest, WrongTypeIsAnError) {
  JsonReader r("\"s\"");
  std::string_view number;
  EXPECT_FALSE(r.ReadNumber(&number));
  EXPECT_FALSE(r.ok());
}

TEST(Utf8Test, SequenceLengths) {
  EXPECT_EQ(Utf8SequenceLength("a", 0), 1u);
  EXPECT_EQ(Utf8SequenceLength("\xc3\xa9", 0), 2u);
  EXPECT_EQ(Utf8SequenceLength("\xe2\x82\xac", 0), 3u);
  EXPECT_EQ(Utf8SequenceLength("\xf0\x9f\x98\x80", 0), 4u);
  EXPECT_EQ(Utf8SequenceLength("\xc3", 0), 0u);
  EXPECT_EQ(Utf8SequenceLength("\xe0\x80\x80", 0), 0u);      // overlong
  EXPECT_EQ(Utf8SequenceLength("\xed\xbf\xbf", 0), 0u);      // surrogate
  EXPECT_EQ(Utf8SequenceLength("\xf5\x80\x80\x80", 0), 0u);  // beyond U+10FFFF
  EXPECT_EQ(Utf8SequenceLength("\x80", 0), 0u);
}

}  // namespace
}  // namespace aidi::extender
