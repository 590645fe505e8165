#include "devcluster/crd/schema.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

namespace aidi::devcluster {
namespace {

StructuralSchema MustParse(const json& s) {
  auto parsed = StructuralSchema::Parse(s);
  EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
  return std::move(parsed).value();
}

// A schema whose spec is `spec`, wrapped as a CRD's openAPIV3Schema.
StructuralSchema WithSpec(const json& spec) {
  return MustParse({{"type", "object"},
                    {"properties",
                     {{"apiVersion", {{"type", "string"}}},
                      {"kind", {{"type", "string"}}},
                      {"metadata", {{"type", "object"}}},
                      {"spec", spec}}}});
}

json Obj(const json& spec) {
  return {{"apiVersion", "aidi.dev/v1alpha1"},
          {"kind", "Pipeline"},
          {"metadata", {{"name", "p"}}},
          {"spec", spec}};
}

std::vector<std::string> Strings(const std::vector<FieldError>& errs) {
  std::vector<std::string> out;
  for (const auto& e : errs) out.push_back(e.ToString());
  return out;
}

json Props(const json& props) { return {{"type", "object"}, {"properties", props}}; }

TEST(SchemaValidate, TypeMismatchReportsTheJsonType) {
  auto s = WithSpec(Props({{"replicas", {{"type", "integer"}}}}));
  auto errs = s.Validate(Obj({{"replicas", "string"}}));
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0].reason, "FieldValueTypeInvalid");
  EXPECT_EQ(errs[0].field, "spec.replicas");
  EXPECT_EQ(errs[0].ToString(),
            "spec.replicas: Invalid value: \"string\": spec.replicas in body must be of type "
            "integer: \"string\"");
  EXPECT_THAT(Strings(s.Validate(Obj({{"replicas", true}}))),
              ElementsAre("spec.replicas: Invalid value: \"boolean\": spec.replicas in body must "
                          "be of type integer: \"boolean\""));
  EXPECT_THAT(Strings(s.Validate(Obj({{"replicas", json::array()}}))),
              ElementsAre("spec.replicas: Invalid value: \"array\": spec.replicas in body must "
                          "be of type integer: \"array\""));
}

TEST(SchemaValidate, IntegersAcceptIntegralFloatsOnly) {
  auto s = WithSpec(Props({{"replicas", {{"type", "integer"}}}, {"ratio", {{"type", "number"}}}}));
  EXPECT_THAT(s.Validate(Obj({{"replicas", 3}, {"ratio", 1}})), IsEmpty());
  EXPECT_THAT(s.Validate(Obj({{"replicas", 3.0}})), IsEmpty());
  EXPECT_THAT(Strings(s.Validate(Obj({{"replicas", 1.5}}))),
              ElementsAre("spec.replicas: Invalid value: \"number\": spec.replicas in body must "
                          "be of type integer: \"number\""));
}

TEST(SchemaValidate, NullNeedsNullable) {
  auto s = WithSpec(Props({{"a", {{"type", "string"}}},
                           {"b", {{"type", "string"}, {"nullable", true}}},
                           {"c", json::object()}}));
  EXPECT_THAT(Strings(s.Validate(Obj({{"a", nullptr}, {"b", nullptr}, {"c", nullptr}}))),
              ElementsAre("spec.a: Invalid value: \"null\": spec.a in body must be of type "
                          "string: \"null\""));
}

TEST(SchemaValidate, EnumListsSupportedValues) {
  auto s = WithSpec(
      Props({{"objective", {{"type", "string"}, {"enum", {"MinCost", "MinTime", "Balanced"}}}},
             {"level", {{"type", "integer"}, {"enum", {1, 2}}}}}));
  auto errs = s.Validate(Obj({{"objective", "Fast"}, {"level", 3}}));
  EXPECT_THAT(Strings(errs),
              ElementsAre("spec.level: Unsupported value: 3: supported values: \"1\", \"2\"",
                          "spec.objective: Unsupported value: \"Fast\": supported values: "
                          "\"MinCost\", \"MinTime\", \"Balanced\""));
  EXPECT_EQ(errs[1].reason, "FieldValueNotSupported");
  EXPECT_THAT(s.Validate(Obj({{"objective", "MinTime"}, {"level", 2}})), IsEmpty());
}

TEST(SchemaValidate, RequiredFields) {
  auto s =
      WithSpec({{"type", "object"},
                {"required", {"stages", "name"}},
                {"properties", {{"stages", {{"type", "array"}}}, {"name", {{"type", "string"}}}}}});
  auto errs = s.Validate(Obj(json::object()));
  EXPECT_THAT(Strings(errs),
              ElementsAre("spec.stages: Required value", "spec.name: Required value"));
  EXPECT_EQ(errs[0].reason, "FieldValueRequired");
  // A present null is not missing (and the type check reports it instead).
  EXPECT_THAT(Strings(s.Validate(Obj({{"stages", nullptr}, {"name", "x"}}))),
              ElementsAre("spec.stages: Invalid value: \"null\": spec.stages in body must be of "
                          "type array: \"null\""));
}

TEST(SchemaValidate, RootRequired) {
  auto s = MustParse({{"type", "object"},
                      {"required", {"spec"}},
                      {"properties", {{"spec", {{"type", "object"}}}}}});
  EXPECT_THAT(Strings(s.Validate({{"kind", "X"}})), ElementsAre("spec: Required value"));
}

TEST(SchemaValidate, NumericBounds) {
  auto s = WithSpec(Props({{"parallelism", {{"type", "integer"}, {"minimum", 1}, {"maximum", 10}}},
                           {"ratio",
                            {{"type", "number"},
                             {"minimum", 0.5},
                             {"exclusiveMinimum", true},
                             {"maximum", 1e6},
                             {"exclusiveMaximum", true}}},
                           {"even", {{"type", "integer"}, {"multipleOf", 2}}},
                           {"half", {{"type", "number"}, {"multipleOf", 0.5}}}}));
  EXPECT_THAT(Strings(s.Validate(Obj({{"parallelism", -1}}))),
              ElementsAre("spec.parallelism: Invalid value: -1: spec.parallelism in body should "
                          "be greater than or equal to 1"));
  EXPECT_THAT(Strings(s.Validate(Obj({{"parallelism", 11}}))),
              ElementsAre("spec.parallelism: Invalid value: 11: spec.parallelism in body should "
                          "be less than or equal to 10"));
  EXPECT_THAT(Strings(s.Validate(Obj({{"ratio", 0.5}}))),
              ElementsAre("spec.ratio: Invalid value: 0.5: spec.ratio in body should be greater "
                          "than 0.5"));
  EXPECT_THAT(Strings(s.Validate(Obj({{"ratio", 2e6}}))),
              ElementsAre("spec.ratio: Invalid value: 2e+06: spec.ratio in body should be less "
                          "than 1e+06"));
  EXPECT_THAT(Strings(s.Validate(Obj({{"even", 3}, {"half", 0.75}}))),
              ElementsAre("spec.even: Invalid value: 3: spec.even in body should be a multiple "
                          "of 2",
                          "spec.half: Invalid value: 0.75: spec.half in body should be a "
                          "multiple of 0.5"));
  EXPECT_THAT(s.Validate(Obj({{"parallelism", 1}, {"ratio", 0.6}, {"even", 4}, {"half", 1.5}})),
              IsEmpty());
}

TEST(SchemaValidate, StringChecksStopAtTheFirstFailure) {
  auto s = WithSpec(Props(
      {{"name", {{"type", "string"}, {"maxLength", 3}, {"minLength", 2}, {"pattern", "^[a-z]+$"}}},
       {"one", {{"type", "string"}, {"maxLength", 1}}}}));
  EXPECT_THAT(Strings(s.Validate(Obj({{"name", "ABCD"}}))),
              ElementsAre("spec.name: Too long: may not be more than 3 bytes"));
  EXPECT_EQ(s.Validate(Obj({{"name", "ABCD"}}))[0].reason, "FieldValueTooLong");
  EXPECT_THAT(Strings(s.Validate(Obj({{"name", "A"}}))),
              ElementsAre("spec.name: Invalid value: \"A\": spec.name in body should be at "
                          "least 2 chars long"));
  EXPECT_THAT(Strings(s.Validate(Obj({{"name", "AB"}}))),
              ElementsAre("spec.name: Invalid value: \"AB\": spec.name in body should match "
                          "'^[a-z]+$'"));
  EXPECT_THAT(Strings(s.Validate(Obj({{"one", "ab"}}))),
              ElementsAre("spec.one: Too long: may not be more than 1 byte"));
  // Lengths count runes, as Go's utf8.RuneCount.
  EXPECT_THAT(s.Validate(Obj({{"one", "\xC3\xA9"}})), IsEmpty());
}

TEST(SchemaValidate, PatternIsRe2) {
  auto s = WithSpec(Props({{"name", {{"type", "string"}, {"pattern", "^[a-z]$"}}}}));
  EXPECT_THAT(Strings(s.Validate(Obj({{"name", "X"}}))),
              ElementsAre("spec.name: Invalid value: \"X\": spec.name in body should match "
                          "'^[a-z]$'"));
  auto bad = StructuralSchema::Parse(Props({{"n", {{"type", "string"}, {"pattern", "[a"}}}}));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "openAPIV3Schema.properties[n].pattern: must be a valid regular expression, but "
            "isn't: error parsing regexp: missing closing ]: `[a`");
}

TEST(SchemaValidate, ArrayChecks) {
  auto s = WithSpec(Props({{"stages",
                            {{"type", "array"},
                             {"minItems", 1},
                             {"maxItems", 2},
                             {"items", Props({{"name", {{"type", "string"}}}})}}}}));
  EXPECT_THAT(Strings(s.Validate(Obj({{"stages", json::array()}}))),
              ElementsAre("spec.stages: Invalid value: 0: spec.stages in body should have at "
                          "least 1 items"));
  auto many = s.Validate(Obj({{"stages", {{{"name", 1}}, json::object(), json::object()}}}));
  EXPECT_THAT(Strings(many),
              ElementsAre("spec.stages[0].name: Invalid value: \"integer\": "
                          "spec.stages[0].name in body must be of type string: \"integer\"",
                          "spec.stages: Too many: 3: must have at most 2 items"));
  EXPECT_EQ(many[1].reason, "FieldValueTooMany");
}

TEST(SchemaValidate, WorkIsBounded) {
  json all = json::array();
  for (int i = 0; i < 200; ++i) all.push_back({{"minLength", 1}});
  auto s = WithSpec(Props({{"names", {{"type", "array"}, {"items", {{"allOf", all}}}}}}));
  auto errs = s.Validate(Obj({{"names", json(std::vector<std::string>(10000, "x"))}}));
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_THAT(errs[0].message, ::testing::HasSubstr("validation exceeded its work budget"));
  EXPECT_THAT(s.Validate(Obj({{"names", json(std::vector<std::string>(100, "x"))}})), IsEmpty());
}

TEST(SchemaValidate, ObjectChecks) {
  auto s = WithSpec(
      {{"type", "object"},
       {"properties",
        {{"labels",
          {{"type", "object"},
           {"maxProperties", 1},
           {"additionalProperties", {{"type", "string"}}}}},
         {"sel", {{"type", "object"}, {"minProperties", 2}}},
         {"closed",
          {{"type", "object"},
           {"additionalProperties", false},
           {"properties", {{"a", {{"type", "string"}}}}}}},
         {"env", {{"type", "object"}, {"additionalProperties", {{"type", "integer"}}}}}}}});
  EXPECT_THAT(Strings(s.Validate(Obj({{"labels", {{"a", "1"}, {"b", "2"}}}}))),
              ElementsAre("spec.labels: Too many: 2: must have at most 1 items"));
  EXPECT_THAT(Strings(s.Validate(Obj({{"sel", {{"a", 1}}}}))),
              ElementsAre("spec.sel: Invalid value: 1: spec.sel in body should have at least 2 "
                          "properties"));
  EXPECT_THAT(Strings(s.Validate(Obj({{"closed", {{"a", "x"}, {"b", 1}}}}))),
              ElementsAre("spec.closed: Invalid value: \"b\": spec.closed.b in body is a "
                          "forbidden property"));
  EXPECT_THAT(Strings(s.Validate(Obj({{"env", {{"X", "y"}}}}))),
              ElementsAre("spec.env.X: Invalid value: \"string\": spec.env.X in body must be of "
                          "type integer: \"string\""));
}

TEST(SchemaValidate, CollectsAllErrorsInOrder) {
  auto s = WithSpec({{"type", "object"},
                     {"required", {"stages"}},
                     {"properties",
                      {{"parallelism", {{"type", "integer"}, {"minimum", 1}}},
                       {"objective", {{"type", "string"}, {"enum", {"MinCost"}}}},
                       {"stages", {{"type", "array"}}}}}});
  EXPECT_THAT(Strings(s.Validate(Obj({{"parallelism", 0}, {"objective", "x"}}))),
              ElementsAre("spec.objective: Unsupported value: \"x\": supported values: "
                          "\"MinCost\"",
                          "spec.parallelism: Invalid value: 0: spec.parallelism in body should "
                          "be greater than or equal to 1",
                          "spec.stages: Required value"));
}

TEST(SchemaValidate, IntOrString) {
  auto s = WithSpec(Props({{"port", {{"x-kubernetes-int-or-string", true}}}}));
  EXPECT_THAT(s.Validate(Obj({{"port", 80}})), IsEmpty());
  EXPECT_THAT(s.Validate(Obj({{"port", "http"}})), IsEmpty());
  EXPECT_THAT(Strings(s.Validate(Obj({{"port", true}}))),
              ElementsAre("spec.port: Invalid value: \"boolean\": spec.port in body must be of "
                          "type integer,string: \"boolean\""));
}

TEST(SchemaValidate, Formats) {
  auto s = WithSpec(Props({{"when", {{"type", "string"}, {"format", "date-time"}}},
                           {"id", {{"type", "string"}, {"format", "uuid"}}},
                           {"ip", {{"type", "string"}, {"format", "ipv4"}}},
                           {"color", {{"type", "string"}, {"format", "no-such-format"}}}}));
  EXPECT_THAT(s.Validate(Obj({{"when", "2026-11-27T20:03:48Z"},
                              {"id", "123e4567-e89b-12d3-a456-426614174000"},
                              {"ip", "10.0.0.1"},
                              {"color", "anything"}})),
              IsEmpty());
  EXPECT_THAT(Strings(s.Validate(Obj({{"when", "yesterday"}, {"ip", "10.0.0.256"}}))),
              ElementsAre("spec.ip: Invalid value: \"10.0.0.256\": spec.ip in body must be of "
                          "type ipv4: \"10.0.0.256\"",
                          "spec.when: Invalid value: \"yesterday\": spec.when in body must be of "
                          "type date-time: \"yesterday\""));
}

TEST(SchemaValidate, Composition) {
  auto s = WithSpec({{"type", "object"},
                     {"properties", {{"a", {{"type", "string"}}}, {"b", {{"type", "string"}}}}},
                     {"anyOf", {{{"required", {"a"}}}, {{"required", {"b"}}}}},
                     {"not", {{"required", {"c"}}}}});
  EXPECT_THAT(s.Validate(Obj({{"a", "x"}})), IsEmpty());
  EXPECT_THAT(Strings(s.Validate(Obj(json::object()))),
              ElementsAre(": Invalid value: \"\": \"spec\" must validate at least one schema "
                          "(anyOf)",
                          "spec.a: Required value"));
  EXPECT_THAT(Strings(s.Validate(Obj({{"a", "x"}, {"c", 1}}))),
              ElementsAre(": Invalid value: \"\": \"spec\" must not validate the schema (not)"));
  auto one =
      WithSpec({{"type", "object"}, {"oneOf", {{{"required", {"a"}}}, {{"required", {"b"}}}}}});
  EXPECT_THAT(Strings(one.Validate(Obj({{"a", 1}, {"b", 1}}))),
              ElementsAre(": Invalid value: \"\": \"spec\" must validate one and only one schema "
                          "(oneOf). Found 2 valid alternatives"));
}

TEST(SchemaValidate, ListTypes) {
  auto s = WithSpec(Props(
      {{"stages",
        {{"type", "array"},
         {"x-kubernetes-list-type", "map"},
         {"x-kubernetes-list-map-keys", {"name"}},
         {"items", Props({{"name", {{"type", "string"}}}})}}},
       {"tags",
        {{"type", "array"}, {"x-kubernetes-list-type", "set"}, {"items", {{"type", "string"}}}}}}));
  auto errs = s.Validate(Obj({{"stages", {{{"name", "a"}}, {{"name", "b"}}, {{"name", "a"}}}},
                              {"tags", {"x", "y", "x", "x"}}}));
  EXPECT_THAT(
      Strings(errs),
      ElementsAre("spec.stages[2]: Duplicate value: map[string]interface {}{\"name\":\"a\"}",
                  "spec.tags[2]: Duplicate value: \"x\""));
  EXPECT_EQ(errs[0].reason, "FieldValueDuplicate");
}

TEST(SchemaValidate, EmbeddedResources) {
  auto s = WithSpec(Props({{"template",
                            {{"type", "object"},
                             {"x-kubernetes-embedded-resource", true},
                             {"x-kubernetes-preserve-unknown-fields", true}}}}));
  EXPECT_THAT(
      Strings(s.Validate(Obj({{"template", {{"kind", "Bad_Kind"}}}}))),
      ElementsAre("spec.template.apiVersion: Required value",
                  "spec.template.kind: Invalid value: \"Bad_Kind\": may have mixed case, "
                  "but should otherwise match: a DNS-1035 label must consist of lower "
                  "case alphanumeric characters or '-', start with an alphabetic "
                  "character, and end with an alphanumeric character (e.g. 'my-name',  "
                  "or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"));
  EXPECT_THAT(s.Validate(Obj({{"template", {{"apiVersion", "v1"}, {"kind", "Pod"}}}})), IsEmpty());
}

TEST(SchemaValidate, RejectsDeepObjects) {
  auto s = WithSpec({{"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}});
  json deep = 1;
  for (int i = 0; i < StructuralSchema::kMaxDepth + 5; ++i) deep = json::array({deep});
  auto errs = s.Validate(Obj({{"x", deep}}));
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0].ToString(), ": Invalid value: \"\": object nests deeper than 200 levels");
}

TEST(SchemaParse, RejectsUnusableSchemas) {
  auto check = [](const json& schema, const std::string& message) {
    auto r = StructuralSchema::Parse(schema);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().message(), message);
  };
  check({{"properties", {{"spec", 1}}}}, "openAPIV3Schema.properties[spec]: must be an object");
  check({{"properties", {{"spec", {{"type", "map"}}}}}},
        "openAPIV3Schema.properties[spec].type: Unsupported value: \"map\": supported values: "
        "\"array\", \"boolean\", \"integer\", \"number\", \"object\", \"string\"");
  check({{"items", json::array()}},
        "openAPIV3Schema.items: must be a schema object and not an array");
  check({{"required", {1}}}, "openAPIV3Schema.required: must be an array of strings");
  check({{"x-kubernetes-list-type", "map"}},
        "openAPIV3Schema.x-kubernetes-list-map-keys: Required value: must not be empty if "
        "x-kubernetes-list-type is map");
  check(json::array(), "openAPIV3Schema: must be an object");
  check({{"properties", {{"tags", {{"type", "array"}, {"uniqueItems", true}}}}}},
        "openAPIV3Schema.properties[tags].uniqueItems: Forbidden: uniqueItems cannot be set to "
        "true since the runtime complexity becomes quadratic");
  json deep = {{"type", "object"}};
  for (int i = 0; i < 300; ++i) deep = {{"properties", {{"a", deep}}}};
  EXPECT_FALSE(StructuralSchema::Parse(deep).ok());
}

TEST(SchemaPrune, RemovesUnknownFieldsAndReportsThem) {
  auto s = WithSpec(
      Props({{"stages", {{"type", "array"}, {"items", Props({{"name", {{"type", "string"}}}})}}},
             {"free", {{"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}}},
             {"labels", {{"type", "object"}, {"additionalProperties", {{"type", "string"}}}}}}));
  json obj = Obj({{"stages", {{{"name", "a"}, {"bogus", 1}}}},
                  {"free", {{"anything", {{"goes", 1}}}}},
                  {"labels", {{"k", "v"}}},
                  {"zzz", {{"nested", 1}}}});
  obj["metadata"]["unknownMeta"] = 1;
  obj["extra"] = true;
  EXPECT_THAT(s.Prune(obj), ElementsAre("extra", "spec.stages[0].bogus", "spec.zzz"));
  json want = Obj({{"stages", {{{"name", "a"}}}},
                   {"free", {{"anything", {{"goes", 1}}}}},
                   {"labels", {{"k", "v"}}}});
  want["metadata"]["unknownMeta"] = 1;  // metadata is the server's to clean
  EXPECT_EQ(obj, want);
}

TEST(SchemaPrune, EmbeddedResourceKeepsTypeAndObjectMeta) {
  auto s = WithSpec(Props({{"template",
                            {{"type", "object"},
                             {"x-kubernetes-embedded-resource", true},
                             {"properties", {{"spec", {{"type", "object"}}}}}}}}));
  json obj = Obj({{"template",
                   {{"apiVersion", "v1"},
                    {"kind", "Pod"},
                    {"metadata", {{"name", "x"}}},
                    {"spec", {{"a", 1}}},
                    {"junk", 1}}}});
  EXPECT_THAT(s.Prune(obj), ElementsAre("spec.template.junk", "spec.template.spec.a"));
  EXPECT_EQ(obj["spec"]["template"], json({{"apiVersion", "v1"},
                                           {"kind", "Pod"},
                                           {"metadata", {{"name", "x"}}},
                                           {"spec", json::object()}}));
}

TEST(SchemaDefaults, FillsAbsentFieldsRecursively) {
  auto s = WithSpec(
      {{"type", "object"},
       {"default", json::object()},
       {"properties",
        {{"objective", {{"type", "string"}, {"default", "MinCost"}}},
         {"retry",
          {{"type", "object"},
           {"default", json::object()},
           {"properties", {{"limit", {{"type", "integer"}, {"default", 3}}}}}}},
         {"stages",
          {{"type", "array"}, {"items", Props({{"cpu", {{"type", "string"}, {"default", "1"}}}})}}},
         {"kept", {{"type", "string"}, {"nullable", true}, {"default", "x"}}}}}});
  json obj = {{"apiVersion", "v"}, {"kind", "K"}, {"metadata", json::object()}};
  s.ApplyDefaults(obj);
  EXPECT_EQ(obj["spec"],
            json({{"objective", "MinCost"}, {"retry", {{"limit", 3}}}, {"kept", "x"}}));
  json obj2 = Obj(
      {{"objective", nullptr}, {"kept", nullptr}, {"stages", {json::object(), {{"cpu", "2"}}}}});
  s.ApplyDefaults(obj2);
  EXPECT_EQ(obj2["spec"]["objective"], "MinCost");  // null of a non-nullable field: defaulted
  EXPECT_TRUE(obj2["spec"]["kept"].is_null());      // nullable: the null stays
  EXPECT_EQ(obj2["spec"]["stages"], json({{{"cpu", "1"}}, {{"cpu", "2"}}}));
}

TEST(SchemaDefaults, DropsNonNullableNullsWithoutDefaults) {
  auto s = WithSpec(
      Props({{"a", {{"type", "string"}}},
             {"b", {{"type", "string"}, {"nullable", true}}},
             {"free", {{"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}}}}));
  json obj = Obj({{"a", nullptr}, {"b", nullptr}, {"free", {{"x", nullptr}}}});
  s.ApplyDefaults(obj);
  EXPECT_EQ(obj["spec"], json({{"b", nullptr}, {"free", {{"x", nullptr}}}}));
  EXPECT_THAT(s.Validate(obj), IsEmpty());
}

TEST(SchemaDefaults, DefaultsAreDeepCopies) {
  auto s = WithSpec(Props({{"cfg",
                            {{"type", "object"},
                             {"default", {{"a", {1, 2}}}},
                             {"x-kubernetes-preserve-unknown-fields", true}}}}));
  json a = Obj(json::object()), b = Obj(json::object());
  s.ApplyDefaults(a);
  a["spec"]["cfg"]["a"].push_back(3);
  s.ApplyDefaults(b);
  EXPECT_EQ(b["spec"]["cfg"], json({{"a", {1, 2}}}));
}

}  // namespace
}  // namespace aidi::devcluster
