#include "base/base64.h"

#include <gtest/gtest.h>

namespace aidi {
namespace {

TEST(Base64, RoundTripsRfc4648Vectors) {
  const std::pair<const char*, const char*> vectors[] = {{"", ""},
                                                         {"f", "Zg=="},
                                                         {"fo", "Zm8="},
                                                         {"foo", "Zm9v"},
                                                         {"foob", "Zm9vYg=="},
                                                         {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(Base64Encode(plain), encoded);
    EXPECT_EQ(Base64Decode(encoded).value(), plain);
  }
  EXPECT_EQ(Base64Decode("Zm9vYg").value(), "foob");  // unpadded
  EXPECT_EQ(Base64Decode("-_8").value(), Base64Decode("+/8").value());
  EXPECT_FALSE(Base64Decode("Zm9v!").has_value());
}

}  // namespace
}  // namespace aidi
