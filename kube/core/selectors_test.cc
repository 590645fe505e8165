// Tests for label and field selectors. The tables follow upstream's
// k8s.io/apimachinery/pkg/labels/selector_test.go and pkg/fields/selector_test.go, so a
// behaviour change here is a divergence from kubectl and the API server.
#include "kube/core/selectors.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace aidi::kube {
namespace {

using ::testing::Eq;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using Json = nlohmann::json;
using Op = LabelSelector::Op;

LabelSelector MustParse(std::string_view text) {
  auto s = LabelSelector::Parse(text);
  EXPECT_TRUE(s.ok()) << text << ": " << s.status().ToString();
  return s.ok() ? *s : LabelSelector();
}

std::string ParseError(std::string_view text) {
  auto s = LabelSelector::Parse(text);
  EXPECT_FALSE(s.ok()) << text << " parsed as " << (s.ok() ? s->ToString() : "");
  if (s.ok()) return "";
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument) << text;
  return s.status().message();
}

std::string WithoutSpaces(std::string s) {
  std::erase(s, ' ');
  return s;
}

// --- upstream TestSelectorParse / TestDeterministicParse ---------------------------------------

TEST(LabelSelectorParse, UpstreamGoodStringsRoundTrip) {
  for (const char* text :
       {"x=a,y=b,z=c", "", "x!=a,y=b", "x=", "x= ", "x=,z= ", "x= ,z= ", "!x", "x>1", "x>1,z<5"}) {
    EXPECT_EQ(MustParse(text).ToString(), WithoutSpaces(text)) << text;
  }
}

TEST(LabelSelectorParse, UpstreamBadStrings) {
  for (const char* text : {"x=a||y=b", "x==a==b", "!x=a", "x<a"}) ParseError(text);
}

TEST(LabelSelectorParse, DeterministicOrderByKey) {
  EXPECT_EQ(MustParse("x=a,a=x").ToString(), "a=x,x=a");
  EXPECT_EQ(MustParse("a=x,x=a").ToString(), "a=x,x=a");
}

TEST(LabelSelectorParse, EmptyMatchesEverything) {
  const LabelSelector s = MustParse("");
  EXPECT_TRUE(s.Empty());
  EXPECT_TRUE(s.Matches({{"x", "y"}}));
  EXPECT_TRUE(s.Matches({}));
  EXPECT_TRUE(LabelSelector().Matches({{"a", "b"}}));
  EXPECT_TRUE(MustParse("   \t").Empty());
}

// --- upstream TestSelectorMatches ---------------------------------------------------------------

struct MatchCase {
  const char* selector;
  Labels labels;
  bool match;
};

TEST(LabelSelectorMatches, UpstreamTable) {
  const Labels labelset = {{"foo", "bar"}, {"baz", "blah"}};
  const std::vector<MatchCase> cases = {
      {"", {{"x", "y"}}, true},
      {"x=y", {{"x", "y"}}, true},
      {"x=y,z=w", {{"x", "y"}, {"z", "w"}}, true},
      {"x!=y,z!=w", {{"x", "z"}, {"z", "a"}}, true},
      {"notin=in", {{"notin", "in"}}, true},  // in and notin as identifiers
      {"x", {{"x", "z"}}, true},
      {"!x", {{"y", "z"}}, true},
      {"x>1", {{"x", "2"}}, true},
      {"x<1", {{"x", "0"}}, true},
      {"x=z", {}, false},
      {"x=y", {{"x", "z"}}, false},
      {"x=y,z=w", {{"x", "w"}, {"z", "w"}}, false},
      {"x!=y,z!=w", {{"x", "z"}, {"z", "w"}}, false},
      {"x", {{"y", "z"}}, false},
      {"!x", {{"x", "z"}}, false},
      {"x>1", {{"x", "0"}}, false},
      {"x<1", {{"x", "2"}}, false},
      {"foo=bar", labelset, true},
      {"baz=blah", labelset, true},
      {"foo=bar,baz=blah", labelset, true},
      {"foo=blah", labelset, false},
      {"baz=bar", labelset, false},
      {"foo=bar,foobar=bar,baz=blah", labelset, false},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(MustParse(c.selector).Matches(c.labels), c.match) << c.selector;
  }
}

TEST(LabelSelectorMatches, NotEqualsAndNotInMatchObjectsWithoutTheLabel) {
  EXPECT_TRUE(MustParse("tier!=frontend").Matches({}));
  EXPECT_TRUE(MustParse("tier notin (frontend,backend)").Matches({{"app", "x"}}));
  EXPECT_FALSE(MustParse("tier notin (frontend,backend)").Matches({{"tier", "backend"}}));
  EXPECT_TRUE(MustParse("tier notin (frontend,backend)").Matches({{"tier", "cache"}}));
  EXPECT_FALSE(MustParse("tier in (frontend,backend)").Matches({}));
}

TEST(LabelSelectorMatches, IntegerComparisons) {
  EXPECT_TRUE(MustParse("gpus>2").Matches({{"gpus", "3"}}));
  EXPECT_FALSE(MustParse("gpus>2").Matches({{"gpus", "2"}}));
  EXPECT_TRUE(MustParse("gpus<10").Matches({{"gpus", "-5"}}));  // label values may be signed
  EXPECT_TRUE(MustParse("gpus>2").Matches({{"gpus", "+3"}}));
  EXPECT_FALSE(MustParse("gpus>2").Matches({{"gpus", "v3"}}));  // not an integer
  EXPECT_FALSE(MustParse("gpus>2").Matches({{"gpus", " 3"}}));
  EXPECT_FALSE(MustParse("gpus>2").Matches({}));  // absent
  EXPECT_FALSE(MustParse("gpus<2").Matches({}));
  EXPECT_TRUE(MustParse("n>9223372036854775806").Matches({{"n", "9223372036854775807"}}));
  EXPECT_FALSE(MustParse("n>1").Matches({{"n", "9223372036854775808"}}));  // overflows int64
  EXPECT_TRUE(MustParse("n<0").Matches({{"n", "-9223372036854775808"}}));
}

TEST(LabelSelectorMatches, JsonLabels) {
  const LabelSelector s = MustParse("app=web,!canary");
  EXPECT_TRUE(s.MatchesJson(Json{{"app", "web"}}));
  EXPECT_FALSE(s.MatchesJson(Json{{"app", "web"}, {"canary", "true"}}));
  EXPECT_FALSE(s.MatchesJson(nullptr));
  EXPECT_TRUE(MustParse("!a").MatchesJson(nullptr));
  EXPECT_TRUE(MustParse("").MatchesJson(nullptr));
}

// --- upstream TestLexer / TestSetSelectorParser -------------------------------------------------

struct ParsedRequirement {
  std::string key;
  Op op;
  std::vector<std::string> values;
};

void ExpectRequirements(std::string_view text, const std::vector<ParsedRequirement>& want) {
  const LabelSelector s = MustParse(text);
  ASSERT_EQ(s.requirements().size(), want.size()) << text;
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(s.requirements()[i].key, want[i].key) << text;
    EXPECT_EQ(s.requirements()[i].op, want[i].op) << text;
    EXPECT_EQ(s.requirements()[i].values, want[i].values) << text;
  }
}

TEST(LabelSelectorParse, UpstreamSetSelectorParserValid) {
  ExpectRequirements("", {});
  ExpectRequirements("\rx", {{"x", Op::kExists, {}}});
  ExpectRequirements("this-is-a-dns.domain.com/key-with-dash",
                     {{"this-is-a-dns.domain.com/key-with-dash", Op::kExists, {}}});
  ExpectRequirements("this-is-another-dns.domain.com/key-with-dash in (so,what)",
                     {{"this-is-another-dns.domain.com/key-with-dash", Op::kIn, {"so", "what"}}});
  ExpectRequirements("0.1.2.domain/99 notin (10.10.100.1, tick.tack.clock)",
                     {{"0.1.2.domain/99", Op::kNotIn, {"10.10.100.1", "tick.tack.clock"}}});
  ExpectRequirements("foo  in\t (abc)", {{"foo", Op::kIn, {"abc"}}});
  ExpectRequirements("x notin\n (abc)", {{"x", Op::kNotIn, {"abc"}}});
  ExpectRequirements("x  notin\t\t\t(abc,def)", {{"x", Op::kNotIn, {"abc", "def"}}});
  ExpectRequirements("x in (abc,def)", {{"x", Op::kIn, {"abc", "def"}}});
  ExpectRequirements("x in (abc,)", {{"x", Op::kIn, {"", "abc"}}});
  ExpectRequirements("x in ()", {{"x", Op::kIn, {""}}});
  ExpectRequirements("x notin (abc,,def),bar,z in (),w", {{"bar", Op::kExists, {}},
                                                          {"w", Op::kExists, {}},
                                                          {"x", Op::kNotIn, {"", "abc", "def"}},
                                                          {"z", Op::kIn, {""}}});
  ExpectRequirements("x,y in (a)", {{"x", Op::kExists, {}}, {"y", Op::kIn, {"a"}}});
  ExpectRequirements("x=a", {{"x", Op::kEquals, {"a"}}});
  ExpectRequirements("x==a", {{"x", Op::kEquals, {"a"}}});
  ExpectRequirements("x>1", {{"x", Op::kGreaterThan, {"1"}}});
  ExpectRequirements("x<7", {{"x", Op::kLessThan, {"7"}}});
  ExpectRequirements("x=a,y!=b", {{"x", Op::kEquals, {"a"}}, {"y", Op::kNotEquals, {"b"}}});
  ExpectRequirements(
      "x=a,y!=b,z in (h,i,j)",
      {{"x", Op::kEquals, {"a"}}, {"y", Op::kNotEquals, {"b"}}, {"z", Op::kIn, {"h", "i", "j"}}});
  ExpectRequirements("x notin ( )", {{"x", Op::kNotIn, {""}}});
  ExpectRequirements("x notin (, a)", {{"x", Op::kNotIn, {"", "a"}}});
  ExpectRequirements("a ", {{"a", Op::kExists, {}}});
  ExpectRequirements("a in (x,y,notin, z,in)", {{"a", Op::kIn, {"in", "notin", "x", "y", "z"}}});
  ExpectRequirements("x in (a,,b)", {{"x", Op::kIn, {"", "a", "b"}}});
  ExpectRequirements("x,y", {{"x", Op::kExists, {}}, {"y", Op::kExists, {}}});
  ExpectRequirements("in in (in)", {{"in", Op::kIn, {"in"}}});
  ExpectRequirements("x in (b,a,b)", {{"x", Op::kIn, {"a", "b"}}});  // sorted, deduplicated
}

TEST(LabelSelectorParse, UpstreamSetSelectorParserInvalid) {
  for (const char* text : {"x=a||y=b", ",x,y", "x,,y", "x nott in (y)", "a in (xyz),",
                           "a in (xyz)b notin ()", "a in (xyz abc)", "a notin(", "a (", "(",
                           "x in a", "x in (a", "x in (a,b", "x=(a,b)", "x=a,", "!", "x!", "=x",
                           // upstream quirk: ",," right before ")" is rejected
                           "x in (a,,)"}) {
    ParseError(text);
  }
}

TEST(LabelSelectorParse, ErrorMessagesFollowUpstream) {
  EXPECT_THAT(ParseError("x==a==b"), StartsWith("found '==', expected: ',' or 'end of string'"));
  EXPECT_THAT(ParseError("!x=a"), StartsWith("found '=', expected: ',' or 'end of string'"));
  EXPECT_THAT(ParseError(",x"),
              StartsWith("found ',', expected: !, identifier, or 'end of string'"));
  EXPECT_THAT(ParseError("x,,y"), StartsWith("found ',', expected: identifier after ','"));
  EXPECT_THAT(ParseError("x nott in (y)"),
              StartsWith("unable to parse requirement: found 'nott', expected: in, notin, =, ==, "
                         "!=, gt, lt"));
  EXPECT_THAT(ParseError("x in a"),
              StartsWith("unable to parse requirement: found 'a' expected: '('"));
  EXPECT_THAT(ParseError("a in (xyz abc)"),
              StartsWith("unable to parse requirement: found 'abc', expected: ',' or ')'"));
  EXPECT_THAT(ParseError("x<a"),
              Eq("unable to parse requirement: values[0]: Invalid value: \"a\": for 'Gt', 'Lt' "
                 "operators, the value must be an integer"));
  EXPECT_THAT(ParseError("x/=a"),
              StartsWith("unable to parse requirement: <nil>: Invalid value: \"x/\": name part "
                         "must be non-empty; name part must consist of alphanumeric characters"));
  EXPECT_THAT(ParseError("x=a||y"),
              HasSubstr("values[0][x]: Invalid value: \"a||y\": a valid label must be an empty "
                        "string or consist of alphanumeric characters"));
  // Errors say where the offending token starts.
  EXPECT_THAT(ParseError("x==a==b"), HasSubstr("(at position 4)"));
}

TEST(LabelSelectorParse, KeyValidation) {
  MustParse("example.com/name=v");
  MustParse(std::string(63, 'a') + "=v");
  MustParse(std::string(253, 'a') + "/k");
  EXPECT_THAT(ParseError(std::string(64, 'a')),
              HasSubstr("name part must be no more than 63 characters"));
  EXPECT_THAT(ParseError(std::string(254, 'a') + "/k"),
              HasSubstr("prefix part must be no more than 253 characters"));
  EXPECT_THAT(ParseError("Example.com/k"), HasSubstr("prefix part a lowercase RFC 1123 subdomain"));
  EXPECT_THAT(ParseError("/k"), HasSubstr("prefix part must be non-empty"));
  EXPECT_THAT(ParseError("a/b/c"), HasSubstr("a qualified name must consist of"));
  EXPECT_THAT(ParseError("-a"), HasSubstr("name part must consist of"));
  EXPECT_THAT(ParseError("a_"), HasSubstr("name part must consist of"));
  MustParse("A_b.c-D");
}

TEST(LabelSelectorParse, ValueValidation) {
  MustParse("k=" + std::string(63, 'v'));
  EXPECT_THAT(ParseError("k=" + std::string(64, 'v')),
              HasSubstr("must be no more than 63 characters"));
  EXPECT_THAT(ParseError("k in (ok,-bad)"), HasSubstr("values[0][k]: Invalid value: \"-bad\""));
  ParseError("k=a/b");
  ParseError("k=v_");
  // Gt/Lt values are label values too: a negative number is not a valid label value.
  ParseError("k<-1");
}

// Upstream's lexer reads a NUL byte as "end of input": inside a token it is swallowed and ends
// the token; at the start of a token it ends the whole selector.
TEST(LabelSelectorParse, NulBytesFollowUpstreamLexer) {
  ExpectRequirements(std::string_view("a=b\0,c", 6),
                     {{"a", Op::kEquals, {"b"}}, {"c", Op::kExists, {}}});
  ExpectRequirements(std::string_view("a=b,\0c", 6),
                     {{"a", Op::kEquals, {"b"}}, {"c", Op::kExists, {}}});
  ExpectRequirements(std::string_view("a=b \0,c", 7), {{"a", Op::kEquals, {"b"}}});
  ParseError(std::string_view("a=b, \0c", 7));
}

// --- upstream TestToString ---------------------------------------------------------------------

TEST(LabelSelectorToString, CanonicalForms) {
  EXPECT_EQ(MustParse("z,y notin (jkl),x in (def,abc)").ToString(),
            "x in (abc,def),y notin (jkl),z");
  EXPECT_EQ(MustParse("x notin (abc,def), y!=jkl, !z").ToString(), "x notin (abc,def),y!=jkl,!z");
  EXPECT_EQ(MustParse("x notin (abc),y in (jkl,mno),z notin ()").ToString(),
            "x notin (abc),y in (jkl,mno),z notin ()");
  EXPECT_EQ(MustParse("x>2,y<8,z").ToString(), "x>2,y<8,z");
  EXPECT_EQ(MustParse("x == abc").ToString(), "x=abc");
}

// --- metav1.LabelSelector ----------------------------------------------------------------------

TEST(LabelSelectorFromJson, NullAndEmptyMatchEverything) {
  for (const Json& j :
       {Json(nullptr), Json::object(),
        Json{{"matchLabels", Json::object()}, {"matchExpressions", Json::array()}}}) {
    auto s = LabelSelector::FromJson(j);
    ASSERT_TRUE(s.ok()) << j;
    EXPECT_TRUE(s->Empty());
    EXPECT_TRUE(s->Matches({{"a", "b"}}));
  }
}

TEST(LabelSelectorFromJson, MatchLabelsAndExpressions) {
  const Json j = Json::parse(R"({
    "matchLabels": {"app": "web", "aidi.dev/site": "edge-1"},
    "matchExpressions": [
      {"key": "tier", "operator": "In", "values": ["frontend", "cache"]},
      {"key": "env", "operator": "NotIn", "values": ["dev"]},
      {"key": "gpu", "operator": "Exists"},
      {"key": "cordoned", "operator": "DoesNotExist", "values": []}
    ]})");
  auto s = LabelSelector::FromJson(j);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->ToString(),
            "aidi.dev/site=edge-1,app=web,!cordoned,env notin (dev),gpu,tier in (cache,frontend)");
  EXPECT_TRUE(
      s->Matches({{"app", "web"}, {"aidi.dev/site", "edge-1"}, {"tier", "cache"}, {"gpu", "1"}}));
  EXPECT_FALSE(s->Matches({{"app", "web"},
                           {"aidi.dev/site", "edge-1"},
                           {"tier", "cache"},
                           {"gpu", "1"},
                           {"env", "dev"}}));
  EXPECT_FALSE(s->Matches({{"app", "web"}, {"aidi.dev/site", "edge-1"}, {"tier", "cache"}}));
  EXPECT_FALSE(s->Matches({{"app", "web"},
                           {"aidi.dev/site", "edge-1"},
                           {"tier", "cache"},
                           {"gpu", "1"},
                           {"cordoned", ""}}));
}

std::string FromJsonError(std::string_view text) {
  auto s = LabelSelector::FromJson(Json::parse(text));
  EXPECT_FALSE(s.ok()) << text;
  if (s.ok()) return "";
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
  return s.status().message();
}

TEST(LabelSelectorFromJson, Errors) {
  EXPECT_EQ(
      FromJsonError(R"({"matchExpressions": [{"key": "a", "operator": "Gt", "values": ["1"]}]})"),
      "\"Gt\" is not a valid label selector operator");
  EXPECT_EQ(FromJsonError(R"({"matchExpressions": [{"key": "a", "operator": "In"}]})"),
            "values: Invalid value: []string{}: for 'in', 'notin' operators, values set can't be "
            "empty");
  EXPECT_EQ(FromJsonError(
                R"({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]})"),
            "values: Invalid value: []string{\"x\"}: values set must be empty for exists and does "
            "not exist");
  EXPECT_THAT(FromJsonError(R"({"matchLabels": {"a": "-x"}})"),
              HasSubstr("values[0][a]: Invalid value"));
  EXPECT_THAT(FromJsonError(R"({"matchLabels": {"a/b/c": "x"}})"),
              StartsWith("key: Invalid value"));
  // Several problems at once are aggregated like upstream's ErrorList.
  EXPECT_THAT(FromJsonError(R"({"matchExpressions": [{"key": "-a", "operator": "In"}]})"),
              StartsWith("[key: Invalid value: \"-a\""));
  FromJsonError(R"({"matchLabels": {"a": 1}})");
  FromJsonError(R"({"matchLabels": []})");
  FromJsonError(R"({"matchExpressions": {}})");
  FromJsonError(R"({"matchExpressions": [{"key": "a", "operator": "In", "values": [1]}]})");
  FromJsonError(R"("app=web")");
}

// --- Field selectors (pkg/fields) --------------------------------------------------------------

FieldSelector MustParseFields(std::string_view text) {
  auto s = FieldSelector::Parse(text);
  EXPECT_TRUE(s.ok()) << text << ": " << s.status().ToString();
  return s.ok() ? *s : FieldSelector();
}

TEST(FieldSelectorParse, UpstreamGoodStringsRoundTrip) {
  for (const char* text : {"x=a,y=b,z=c", "", "x!=a,y=b", R"(x=a||y\=b)", R"(x=a\=\=b)"}) {
    EXPECT_EQ(MustParseFields(text).ToString(), text) << text;
  }
}

TEST(FieldSelectorParse, UpstreamBadStrings) {
  for (const char* text : {"x=a||y=b", "x==a==b", "x=a,b", "x in (a)", "x in (a,b,c)", "x"}) {
    auto s = FieldSelector::Parse(text);
    EXPECT_FALSE(s.ok()) << text;
    EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument) << text;
  }
}

TEST(FieldSelectorParse, ErrorMessages) {
  EXPECT_EQ(FieldSelector::Parse("metadata.name=a,b").status().message(),
            "invalid selector: 'metadata.name=a,b'; can't understand 'b'");
  EXPECT_EQ(FieldSelector::Parse("x=a=b").status().message(),
            "invalid field selector: unescaped character in value: 61");
  EXPECT_EQ(FieldSelector::Parse(R"(x=a\b)").status().message(),
            R"(invalid field selector: invalid escape sequence: \b)");
  EXPECT_EQ(FieldSelector::Parse(R"(x=a\)").status().message(),
            R"(invalid field selector: invalid escape sequence: \)");
}

TEST(FieldSelectorParse, DeterministicAndNormalised) {
  EXPECT_EQ(MustParseFields("x=a,a=x").ToString(), "a=x,x=a");
  EXPECT_EQ(MustParseFields("a=x,x=a").ToString(), "a=x,x=a");
  EXPECT_EQ(MustParseFields("status.phase==Running").ToString(), "status.phase=Running");
  EXPECT_EQ(MustParseFields("a=b,,").ToString(), "a=b");  // empty terms are skipped
  const FieldSelector s = MustParseFields(R"(spec.nodeName=,metadata.name=a\,b\\c)");
  ASSERT_EQ(s.requirements().size(), 2u);
  EXPECT_EQ(s.requirements()[0].field, "metadata.name");
  EXPECT_EQ(s.requirements()[0].value, R"(a,b\c)");
  EXPECT_TRUE(s.requirements()[0].equals);
  EXPECT_EQ(s.requirements()[1].field, "spec.nodeName");
  EXPECT_EQ(s.requirements()[1].value, "");
  EXPECT_EQ(s.ToString(), R"(metadata.name=a\,b\\c,spec.nodeName=)");
}

TEST(FieldSelectorMatches, EqualsNotEqualsAndAbsentFields) {
  const std::map<std::string, std::string, std::less<>> fields = {{"metadata.name", "web-0"},
                                                                  {"status.phase", "Running"}};
  const auto get = [&](std::string_view f) -> std::optional<std::string> {
    const auto it = fields.find(f);
    if (it == fields.end()) return std::nullopt;
    return it->second;
  };
  EXPECT_TRUE(MustParseFields("").Matches(get));
  EXPECT_TRUE(MustParseFields("metadata.name=web-0").Matches(get));
  EXPECT_TRUE(MustParseFields("metadata.name==web-0,status.phase!=Pending").Matches(get));
  EXPECT_FALSE(MustParseFields("metadata.name=web-1").Matches(get));
  EXPECT_FALSE(MustParseFields("status.phase!=Running").Matches(get));
  // An absent field compares as "".
  EXPECT_TRUE(MustParseFields("spec.nodeName=").Matches(get));
  EXPECT_FALSE(MustParseFields("spec.nodeName!=").Matches(get));
  EXPECT_TRUE(MustParseFields("spec.nodeName!=node-1").Matches(get));
}

}  // namespace
}  // namespace aidi::kube
