#include "base/status.h"

#include <gtest/gtest.h>

namespace aidi {
namespace {

StatusOr<int> Half(int x) {
  if (x % 2 != 0) return Status::InvalidArgument("odd: " + std::to_string(x));
  return x / 2;
}

Status Quarter(int x, int* out) {
  AIDI_ASSIGN_OR_RETURN(int h, Half(x));
  AIDI_ASSIGN_OR_RETURN(*out, Half(h));
  return Status::Ok();
}

TEST(Status, NamedPredicates) {
  EXPECT_TRUE(Status::Ok().ok());
  EXPECT_TRUE(Status::NotFound("x").IsNotFound());
  EXPECT_TRUE(Status::Conflict("x").IsConflict());
  EXPECT_TRUE(Status::Expired("x").IsExpired());
  EXPECT_FALSE(Status::Conflict("x").IsNotFound());
  EXPECT_EQ(Status::NotFound("pods \"a\" not found").ToString(), "NotFound: pods \"a\" not found");
  EXPECT_EQ(Status::Invalid("bad").WithContext("spec").ToString(), "Invalid: spec: bad");
}

TEST(StatusOr, ValueOrError) {
  int out = 0;
  EXPECT_TRUE(Quarter(8, &out).ok());
  EXPECT_EQ(out, 2);
  Status s = Quarter(6, &out);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "odd: 3");
}

}  // namespace
}  // namespace aidi
