#include "devcluster/crd/gofmt.h"

#include <gtest/gtest.h>

using nlohmann::json;

namespace aidi::devcluster::gofmt {
namespace {

TEST(GoFmt, QuoteLikeStrconv) {
  EXPECT_EQ(Quote("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(Quote("tab\there\n"), R"("tab\there\n")");
  EXPECT_EQ(Quote(std::string("\x01\x7f", 2)), R"("\x01\x7f")");
  EXPECT_EQ(Quote("caf\xC3\xA9"), "\"caf\xC3\xA9\"");
  EXPECT_EQ(Quote("bad\xff"), R"("bad\xff")");
  EXPECT_EQ(Quote("\xE2\x80\xA8"), R"("\u2028")");
}

TEST(GoFmt, FloatsLikeFmtV) {
  EXPECT_EQ(FloatV(1), "1");
  EXPECT_EQ(FloatV(0.5), "0.5");
  EXPECT_EQ(FloatV(-2.25), "-2.25");
  EXPECT_EQ(FloatV(123456), "123456");
  EXPECT_EQ(FloatV(1e6), "1e+06");
  EXPECT_EQ(FloatV(1234567.5), "1.2345675e+06");
  EXPECT_EQ(FloatV(0.0001), "0.0001");
  EXPECT_EQ(FloatV(0.00001), "1e-05");
  EXPECT_EQ(FloatV(1e21), "1e+21");
  EXPECT_EQ(FloatV(0), "0");
}

TEST(GoFmt, FloatsLikeEncodingJson) {
  EXPECT_EQ(JsonFloat(42), "42");
  EXPECT_EQ(JsonFloat(1e6), "1000000");
  EXPECT_EQ(JsonFloat(0.5), "0.5");
  EXPECT_EQ(JsonFloat(1e-7), "1e-7");
  EXPECT_EQ(JsonFloat(1e21), "1e+21");
  EXPECT_EQ(JsonFloat(123456789.125), "123456789.125");
}

TEST(GoFmt, MarshalSortsKeysAndEscapesHtml) {
  json v = json::parse(R"({"b":[1,2.5,true,null],"a":"<&>","c":{}})");
  EXPECT_EQ(JsonMarshal(v), R"({"a":"\u003c\u0026\u003e","b":[1,2.5,true,null],"c":{}})");
}

TEST(GoFmt, SharpVOfUnstructured) {
  json v = json::parse(R"({"name":"a","n":1,"f":1.5,"l":["x",null],"m":{}})");
  EXPECT_EQ(SharpV(v),
            R"(map[string]interface {}{"f":1.5, "l":[]interface {}{"x", interface {}(nil)}, )"
            R"("m":map[string]interface {}{}, "n":1, "name":"a"})");
}

TEST(GoFmt, ValueVAsFieldErrorPrintsIt) {
  EXPECT_EQ(ValueV(json(nullptr)), "null");
  EXPECT_EQ(ValueV(json(-1)), "-1");
  EXPECT_EQ(ValueV(json(2.5)), "2.5");
  EXPECT_EQ(ValueV(json(true)), "true");
  EXPECT_EQ(ValueV(json("x")), "\"x\"");
  EXPECT_EQ(ValueV(json::parse("18446744073709551615")), "1.8446744073709552e+19");
}

TEST(GoFmt, Utf8LikeGo) {
  EXPECT_EQ(RuneCount("h\xC3\xA9llo"), 5u);
  EXPECT_EQ(RuneCount("\xff\xfe"), 2u);
  EXPECT_EQ(DecodeUtf8("\xE2\x98\xBA")[0], U'\x263a');
  EXPECT_EQ(DecodeUtf8("\xED\xA0\x80").size(), 3u);  // a surrogate is three bad bytes
}

}  // namespace
}  // namespace aidi::devcluster::gofmt
