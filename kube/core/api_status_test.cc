#include "kube/core/api_status.h"

#include <gtest/gtest.h>

namespace aidi::kube {
namespace {

TEST(ApiStatus, NotFoundMatchesApiserverBody) {
  ApiError e = NewNotFound({"", "pods"}, "web");
  EXPECT_EQ(e.code, 404);
  EXPECT_EQ(
      e.body.dump(),
      R"({"apiVersion":"v1","code":404,"details":{"kind":"pods","name":"web"},"kind":"Status",)"
      R"("message":"pods \"web\" not found","metadata":{},"reason":"NotFound","status":"Failure"})");
  ApiError g = NewNotFound({"aidi.dev", "pipelines"}, "p1");
  EXPECT_EQ(g.body["message"], "pipelines.aidi.dev \"p1\" not found");
  EXPECT_EQ(g.body["details"]["group"], "aidi.dev");
}

TEST(ApiStatus, ConflictAndInvalid) {
  ApiError c = NewResourceVersionConflict({"", "configmaps"}, "cm");
  EXPECT_EQ(c.body["message"],
            "Operation cannot be fulfilled on configmaps \"cm\": the object has been modified; "
            "please apply your changes to the latest version and try again");
  ApiError one = NewInvalid("aidi.dev", "Pipeline", "p",
                            {{"FieldValueRequired", "Required value", "spec.stages"}});
  EXPECT_EQ(one.body["message"], "Pipeline.aidi.dev \"p\" is invalid: spec.stages: Required value");
  ApiError two = NewInvalid("aidi.dev", "Pipeline", "p",
                            {{"FieldValueRequired", "Required value", "spec.a"},
                             {"FieldValueRequired", "Required value", "spec.b"}});
  EXPECT_EQ(two.body["message"],
            "Pipeline.aidi.dev \"p\" is invalid: [spec.a: Required value, spec.b: Required value]");
  EXPECT_EQ(two.body["details"]["causes"].size(), 2u);
  EXPECT_EQ(two.code, 422);
}

TEST(ApiStatus, ResponseToNamedCode) {
  EXPECT_TRUE(StatusFromResponse(200, "").ok());
  EXPECT_TRUE(StatusFromResponse(404, NewNotFound({"", "pods"}, "x").body.dump()).IsNotFound());
  EXPECT_TRUE(StatusFromResponse(410, NewResourceExpired("too old").body.dump()).IsExpired());
  EXPECT_TRUE(
      StatusFromResponse(409, NewAlreadyExists({"", "pods"}, "x").body.dump()).IsAlreadyExists());
  EXPECT_TRUE(StatusFromResponse(429, "not json").IsTooManyRequests());
  Status s = StatusFromResponse(500, "boom");
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_EQ(s.message(), "HTTP 500: boom");
}

}  // namespace
}  // namespace aidi::kube
