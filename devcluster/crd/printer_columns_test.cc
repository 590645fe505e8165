#include "devcluster/crd/printer_columns.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

using nlohmann::json;

namespace aidi::devcluster {
namespace {

Clock::WallTime At(const std::string& rfc3339) {
  Clock::WallTime t;
  EXPECT_TRUE(ParseRfc3339(rfc3339, &t));
  return t;
}

json Values(const json& obj, const std::string& path) {
  auto r = EvalJsonPath(obj, path);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? json(*r) : json();
}

TEST(HumanDuration, MatchesApimachinery) {
  using std::chrono::seconds;
  EXPECT_EQ(HumanDuration(seconds(-2)), "<invalid>");
  EXPECT_EQ(HumanDuration(seconds(-1)), "0s");
  EXPECT_EQ(HumanDuration(seconds(0)), "0s");
  EXPECT_EQ(HumanDuration(seconds(5)), "5s");
  EXPECT_EQ(HumanDuration(seconds(119)), "119s");
  EXPECT_EQ(HumanDuration(seconds(120)), "2m");
  EXPECT_EQ(HumanDuration(seconds(150)), "2m30s");
  EXPECT_EQ(HumanDuration(seconds(9 * 60 + 59)), "9m59s");
  EXPECT_EQ(HumanDuration(seconds(10 * 60 + 59)), "10m");
  EXPECT_EQ(HumanDuration(seconds(179 * 60)), "179m");
  EXPECT_EQ(HumanDuration(seconds(3 * 3600)), "3h");
  EXPECT_EQ(HumanDuration(seconds(3 * 3600 + 25 * 60)), "3h25m");
  EXPECT_EQ(HumanDuration(seconds(8 * 3600 + 59 * 60)), "8h");
  EXPECT_EQ(HumanDuration(seconds(47 * 3600)), "47h");
  EXPECT_EQ(HumanDuration(seconds(48 * 3600)), "2d");
  EXPECT_EQ(HumanDuration(seconds(52 * 3600)), "2d4h");
  EXPECT_EQ(HumanDuration(seconds(8 * 86400)), "8d");
  EXPECT_EQ(HumanDuration(seconds(729 * 86400)), "729d");
  EXPECT_EQ(HumanDuration(seconds(730 * 86400)), "2y");
  EXPECT_EQ(HumanDuration(seconds(800 * 86400)), "2y70d");
  EXPECT_EQ(HumanDuration(seconds(9 * 365 * 86400)), "9y");
}

TEST(JsonPath, FieldsIndexesWildcardsAndQuotedKeys) {
  json obj = {{"spec",
               {{"stages", {{{"name", "a"}, {"n", 1}}, {{"name", "b"}}}},
                {"labels", {{"app.kubernetes.io/name", "x"}, {"k", nullptr}}}}},
              {"status", {{"phase", "Running"}}}};
  EXPECT_EQ(Values(obj, ".status.phase"), json({"Running"}));
  EXPECT_EQ(Values(obj, "$.status.phase"), json({"Running"}));
  EXPECT_EQ(Values(obj, ".spec.stages[*].name"), json({"a", "b"}));
  EXPECT_EQ(Values(obj, ".spec.stages[1].name"), json({"b"}));
  EXPECT_EQ(Values(obj, ".spec.stages[-1].name"), json({"b"}));
  EXPECT_EQ(Values(obj, ".spec.stages[0:1].name"), json({"a"}));
  EXPECT_EQ(Values(obj, ".spec.stages[*].n"), json({1}));
  EXPECT_EQ(Values(obj, ".spec.labels['app.kubernetes.io/name']"), json({"x"}));
  EXPECT_EQ(Values(obj, ".spec.labels[\"app.kubernetes.io/name\"]"), json({"x"}));
  EXPECT_EQ(Values(obj, ".spec.labels.app\\.kubernetes\\.io/name"), json({"x"}));
  EXPECT_EQ(Values(obj, ".spec.labels.k"), json::array({nullptr}));
  EXPECT_EQ(Values(obj, ".spec.missing.deeper"), json::array());
  EXPECT_EQ(Values(obj, ".spec.stages[5].name"), json::array());  // out of range: no value
  EXPECT_EQ(Values(obj, ".status.phase[0]"), json::array());      // not a list: no value
  EXPECT_EQ(Values(obj, ".status.*"), json({"Running"}));
}

TEST(JsonPath, Filters) {
  json obj = {{"status",
               {{"conditions",
                 {{{"type", "Ready"}, {"status", "True"}, {"n", 2}},
                  {{"type", "Complete"}, {"status", "False"}, {"n", 5}}}}}}};
  EXPECT_EQ(Values(obj, ".status.conditions[?(@.type==\"Ready\")].status"), json({"True"}));
  EXPECT_EQ(Values(obj, ".status.conditions[?(@.type == 'Complete')].status"), json({"False"}));
  EXPECT_EQ(Values(obj, ".status.conditions[?(@.n > 3)].type"), json({"Complete"}));
  EXPECT_EQ(Values(obj, ".status.conditions[?(@.type!=\"Ready\")].n"), json({5}));
  EXPECT_EQ(Values(obj, ".status.conditions[?(@.status)].n"), json({2, 5}));
  EXPECT_EQ(Values(obj, ".status.conditions[?(@.n == 2.0)].type"), json::array());  // int vs float
}

TEST(JsonPath, RejectsWhatUpstreamCannotParseOrWeDoNotSupport) {
  for (const char* bad : {"", "status.phase", ".a[", ".a[0", ".a['x", "..a", ".a[1,2]",
                          ".a[?(@.x==)]", ".a.", ".a[::2]"}) {
    EXPECT_FALSE(EvalJsonPath(json::object(), bad).ok()) << bad;
  }
}

json PipelineVersion() {
  return {{"name", "v1alpha1"},
          {"additionalPrinterColumns",
           {{{"name", "Phase"}, {"type", "string"}, {"jsonPath", ".status.phase"}},
            {{"name", "Stages"},
             {"type", "integer"},
             {"jsonPath", ".status.stageCount"},
             {"description", "How many stages"}},
            {{"name", "Cost"}, {"type", "number"}, {"jsonPath", ".status.cost"}},
            {{"name", "Suspended"}, {"type", "boolean"}, {"jsonPath", ".spec.suspend"}},
            {{"name", "Started"}, {"type", "date"}, {"jsonPath", ".status.startedAt"}},
            {{"name", "Message"},
             {"type", "string"},
             {"jsonPath", ".status.message"},
             {"priority", 1}}}}};
}

TEST(TableColumns, NameFirstThenDeclaredColumns) {
  json cols = TableColumnsFor(PipelineVersion());
  ASSERT_EQ(cols.size(), 7u);
  EXPECT_EQ(cols[0]["name"], "Name");
  EXPECT_EQ(cols[0]["type"], "string");
  EXPECT_EQ(cols[0]["format"], "name");
  EXPECT_EQ(cols[0]["priority"], 0);
  EXPECT_EQ(cols[0]["description"],
            "Name must be unique within a namespace. Is required when creating resources, "
            "although some resources may allow a client to request the generation of an "
            "appropriate name automatically. Name is primarily intended for creation "
            "idempotence and configuration definition. Cannot be updated. More info: "
            "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names");
  EXPECT_EQ(cols[1], json({{"name", "Phase"},
                           {"type", "string"},
                           {"format", ""},
                           {"description",
                            "Custom resource definition column (in JSONPath format): "
                            ".status.phase"},
                           {"priority", 0}}));
  EXPECT_EQ(cols[2]["description"], "How many stages");
  EXPECT_EQ(cols[6]["priority"], 1);
}

TEST(TableColumns, DefaultAgeColumnWhenNoneDeclared) {
  json cols = TableColumnsFor({{"name", "v1"}});
  ASSERT_EQ(cols.size(), 2u);
  EXPECT_EQ(cols[1]["name"], "Age");
  EXPECT_EQ(cols[1]["type"], "date");
  EXPECT_EQ(cols[1]["format"], "");
  EXPECT_THAT(cols[1]["description"].get<std::string>(),
              ::testing::StartsWith("CreationTimestamp is a timestamp representing the server "
                                    "time when this object was created."));
  json obj = {{"metadata", {{"name", "x"}, {"creationTimestamp", "2026-11-27T20:00:00Z"}}}};
  EXPECT_EQ(TableCellsFor({{"name", "v1"}}, obj, At("2026-11-27T20:03:30Z")), json({"x", "3m30s"}));
}

TEST(TableColumns, StopAtTheFirstUnparsableJsonPath) {
  json v = {{"additionalPrinterColumns",
             {{{"name", "A"}, {"type", "string"}, {"jsonPath", ".a"}},
              {{"name", "B"}, {"type", "string"}, {"jsonPath", "b["}},
              {{"name", "C"}, {"type", "string"}, {"jsonPath", ".c"}}}}};
  EXPECT_EQ(TableColumnsFor(v).size(), 2u);
  EXPECT_EQ(TableCellsFor(v, {{"a", "1"}}, Clock::WallTime{}), json({"", "1"}));
}

TEST(TableCells, RenderEachTypeAsUpstream) {
  json obj = {{"metadata", {{"name", "p1"}}},
              {"spec", {{"suspend", false}}},
              {"status",
               {{"phase", "Running"},
                {"stageCount", 3.7},
                {"cost", 12},
                {"startedAt", "2026-11-27T16:00:00Z"}}}};
  json cells = TableCellsFor(PipelineVersion(), obj, At("2026-11-27T20:30:00Z"));
  EXPECT_EQ(cells, json({"p1", "Running", 3, 12, false, "4h30m", nullptr}));
  EXPECT_EQ(cells.dump(), "[\"p1\",\"Running\",3,12,false,\"4h30m\",null]");
}

TEST(TableCells, MissingWrongTypeAndOddDates) {
  json v = PipelineVersion();
  auto cells = [&](const json& status) {
    return TableCellsFor(v, {{"metadata", {{"name", "p"}}}, {"status", status}},
                         At("2026-11-27T20:00:00Z"));
  };
  EXPECT_EQ(cells(json::object()),
            json({"p", nullptr, nullptr, nullptr, nullptr, nullptr, nullptr}));
  EXPECT_EQ(cells({{"stageCount", "three"}, {"cost", true}})[2], nullptr);
  EXPECT_EQ(cells({{"cost", 2.5}})[3], 2.5);
  EXPECT_EQ(cells({{"startedAt", ""}})[5], "<unknown>");
  EXPECT_EQ(cells({{"startedAt", "0001-01-01T00:00:00Z"}})[5], "<unknown>");
  EXPECT_EQ(cells({{"startedAt", "not a time"}})[5], "<invalid>");
  EXPECT_EQ(cells({{"startedAt", "2026-11-28T20:00:00Z"}})[5], "<invalid>");  // future
  EXPECT_EQ(cells({{"startedAt", "2026-11-27T19:59:59.5Z"}})[5], "0s");
  EXPECT_EQ(cells({{"startedAt", "2026-11-27T21:00:00+02:00"}})[5], "60m");
  EXPECT_EQ(cells({{"startedAt", 5}})[5], nullptr);
}

TEST(TableCells, StringColumnsPrintLikeJsonPath) {
  json v = {{"additionalPrinterColumns",
             {{{"name", "Sites"}, {"type", "string"}, {"jsonPath", ".status.sites"}},
              {{"name", "First"}, {"type", "string"}, {"jsonPath", ".status.stages[*].name"}},
              {{"name", "N"}, {"type", "string"}, {"jsonPath", ".status.n"}},
              {{"name", "F"}, {"type", "string"}, {"jsonPath", ".status.f"}},
              {{"name", "B"}, {"type", "string"}, {"jsonPath", ".status.b"}},
              {{"name", "Null"}, {"type", "string"}, {"jsonPath", ".status.z"}},
              {{"name", "Map"}, {"type", "string"}, {"jsonPath", ".status.m"}}}}};
  json obj = {{"metadata", {{"name", "p"}}},
              {"status",
               {{"sites", {"edge-a", "cloud<1>"}},
                {"stages", {{{"name", "load"}}, {{"name", "train"}}}},
                {"n", 42},
                {"f", 1234567.5},
                {"b", true},
                {"z", nullptr},
                {"m", {{"b", 1}, {"a", "x"}}}}}};
  // Only the first match is used; lists and maps print as Go's json.Marshal (HTML-escaped).
  EXPECT_EQ(TableCellsFor(v, obj, Clock::WallTime{}),
            json({"p", "[\"edge-a\",\"cloud\\u003c1\\u003e\"]", "load", "42", "1.2345675e+06",
                  "true", "<no value>", "{\"a\":\"x\",\"b\":1}"}));
}

}  // namespace
}  // namespace aidi::devcluster
