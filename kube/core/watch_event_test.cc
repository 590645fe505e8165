#include "kube/core/watch_event.h"

#include <gtest/gtest.h>

#include "kube/core/api_status.h"

namespace aidi::kube {
namespace {

std::string Line(std::string_view type, const nlohmann::json& object) {
  return nlohmann::json{{"type", type}, {"object", object}}.dump();
}

nlohmann::json Pod(std::string_view name, std::string_view rv) {
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata", {{"name", name}, {"namespace", "default"}, {"resourceVersion", rv}}}};
}

TEST(WatchEvent, ParsesEachType) {
  const std::pair<const char*, WatchEventType> cases[] = {
      {"ADDED", WatchEventType::kAdded},     {"MODIFIED", WatchEventType::kModified},
      {"DELETED", WatchEventType::kDeleted}, {"BOOKMARK", WatchEventType::kBookmark},
      {"ERROR", WatchEventType::kError},
  };
  for (const auto& [name, type] : cases) {
    SCOPED_TRACE(name);
    auto event = ParseWatchEvent(Line(name, Pod("web-0", "17")));
    ASSERT_TRUE(event.ok()) << event.status().ToString();
    EXPECT_EQ(event->type, type);
    EXPECT_EQ(WatchEventTypeName(event->type), name);
  }
}

TEST(WatchEvent, KeepsTheObjectAndItsResourceVersion) {
  nlohmann::json pod = Pod("web-0", "12345");
  pod["spec"] = {{"nodeName", "n1"}};
  auto event = ParseWatchEvent(Line("MODIFIED", pod));
  ASSERT_TRUE(event.ok()) << event.status().ToString();
  EXPECT_EQ(event->object, pod);
  EXPECT_EQ(event->ResourceVersion(), "12345");
  EXPECT_TRUE(event->error.ok());
}

TEST(WatchEvent, BookmarkCarriesOnlyAResourceVersion) {
  auto event = ParseWatchEvent(
      R"({"type":"BOOKMARK","object":{"kind":"Pod","apiVersion":"v1","metadata":{"resourceVersion":"999","annotations":{"k8s.io/initial-events-end":"true"}}}})");
  ASSERT_TRUE(event.ok()) << event.status().ToString();
  EXPECT_EQ(event->type, WatchEventType::kBookmark);
  EXPECT_EQ(event->ResourceVersion(), "999");
}

TEST(WatchEvent, ResourceVersionIsEmptyWhenAbsentOrMalformed) {
  auto no_meta = ParseWatchEvent(R"({"type":"ADDED","object":{"kind":"Pod"}})");
  ASSERT_TRUE(no_meta.ok());
  EXPECT_EQ(no_meta->ResourceVersion(), "");
  auto meta_not_object = ParseWatchEvent(R"({"type":"ADDED","object":{"metadata":"x"}})");
  ASSERT_TRUE(meta_not_object.ok());
  EXPECT_EQ(meta_not_object->ResourceVersion(), "");
  auto rv_number =
      ParseWatchEvent(R"({"type":"ADDED","object":{"metadata":{"resourceVersion":5}}})");
  ASSERT_TRUE(rv_number.ok());
  EXPECT_EQ(rv_number->ResourceVersion(), "");
}

TEST(WatchEvent, ErrorWithExpiredStatusIsExpired) {
  ApiError expired = NewResourceExpired("too old resource version: 1 (5000)");
  auto event = ParseWatchEvent(Line("ERROR", expired.body));
  ASSERT_TRUE(event.ok()) << event.status().ToString();
  EXPECT_EQ(event->type, WatchEventType::kError);
  EXPECT_TRUE(event->error.IsExpired()) << event->error.ToString();
  EXPECT_EQ(event->error.message(), "too old resource version: 1 (5000)");
  EXPECT_EQ(event->object, expired.body);
  // The Status body's metadata has no resourceVersion, and ERROR events never report one.
  EXPECT_EQ(event->ResourceVersion(), "");
}

TEST(WatchEvent, ErrorEventsMapTheirStatusToANamedCode) {
  auto gone = ParseWatchEvent(Line("ERROR", NewGone("gone").body));
  ASSERT_TRUE(gone.ok());
  EXPECT_TRUE(gone->error.IsExpired());

  auto internal = ParseWatchEvent(Line("ERROR", NewInternalError("etcd down").body));
  ASSERT_TRUE(internal.ok());
  EXPECT_EQ(internal->error.code(), StatusCode::kInternal);

  // A Status without a reason falls back to its code; without a code it is an internal error.
  auto code_only = ParseWatchEvent(R"({"type":"ERROR","object":{"kind":"Status","code":410}})");
  ASSERT_TRUE(code_only.ok());
  EXPECT_TRUE(code_only->error.IsExpired());
  auto no_code = ParseWatchEvent(R"({"type":"ERROR","object":{"kind":"Status"}})");
  ASSERT_TRUE(no_code.ok());
  EXPECT_EQ(no_code->error.code(), StatusCode::kInternal);
  EXPECT_FALSE(no_code->error.ok());
}

TEST(WatchEvent, ErrorEventWithMistypedFieldsIsStillAnError) {
  // A broken proxy or server may send anything in an ERROR object: never throw, never OK.
  auto code_string = ParseWatchEvent(R"({"type":"ERROR","object":{"code":"410"}})");
  ASSERT_TRUE(code_string.ok());
  EXPECT_EQ(code_string->error.code(), StatusCode::kInternal);
  auto kind_number = ParseWatchEvent(R"({"type":"ERROR","object":{"kind":1,"code":404}})");
  ASSERT_TRUE(kind_number.ok());
  EXPECT_TRUE(kind_number->error.IsNotFound());
}

TEST(WatchEvent, RejectsLinesThatAreNotJsonObjects) {
  for (std::string_view line : {"", "not json", "{\"type\":", "[1,2]", "\"ADDED\"", "null"}) {
    SCOPED_TRACE(line);
    auto event = ParseWatchEvent(line);
    ASSERT_FALSE(event.ok());
    EXPECT_EQ(event.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(event.status().message(), "watch event is not a JSON object");
  }
}

TEST(WatchEvent, RejectsAMissingOrNonStringType) {
  auto missing = ParseWatchEvent(R"({"object":{}})");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(missing.status().message(), "watch event has no string \"type\"");
  auto number = ParseWatchEvent(R"({"type":1,"object":{}})");
  ASSERT_FALSE(number.ok());
  EXPECT_EQ(number.status().message(), "watch event has no string \"type\"");
}

TEST(WatchEvent, RejectsAnUnknownType) {
  auto event = ParseWatchEvent(Line("RENAMED", Pod("x", "1")));
  ASSERT_FALSE(event.ok());
  EXPECT_EQ(event.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(event.status().message(), "watch event has unknown type \"RENAMED\"");
  // Types are case-sensitive.
  EXPECT_FALSE(ParseWatchEvent(Line("added", Pod("x", "1"))).ok());
}

TEST(WatchEvent, RejectsAnObjectThatIsNotAnObject) {
  for (std::string_view line :
       {R"({"type":"ADDED"})", R"({"type":"ADDED","object":"pod"})",
        R"({"type":"ADDED","object":[]})", R"({"type":"ADDED","object":null})"}) {
    SCOPED_TRACE(line);
    auto event = ParseWatchEvent(line);
    ASSERT_FALSE(event.ok());
    EXPECT_EQ(event.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(event.status().message(), "watch event has no object \"object\"");
  }
}

}  // namespace
}  // namespace aidi::kube
