#include "base/log.h"

#include <gtest/gtest.h>

namespace aidi::log {
namespace {

TEST(Log, FormatsLogfmtWithQuoting) {
  std::string line = FormatLine(Level::kWarn, "devcluster", "watch dropped",
                                {{"resource", "pods"}, {"count", 3}, {"why", "a \"b\"=c"}});
  EXPECT_NE(line.find(" level=warn component=devcluster msg=\"watch dropped\" resource=pods count=3"
                      " why=\"a \\\"b\\\"=c\"\n"),
            std::string::npos)
      << line;
  EXPECT_EQ(line.rfind("ts=", 0), 0u);
}

TEST(Log, RedactHidesSecret) {
  std::string r = Redact("s3cr3t-token");
  EXPECT_EQ(r.find("s3cr3t"), std::string::npos);
  EXPECT_EQ(r, "<redacted, 12 bytes>");
}

}  // namespace
}  // namespace aidi::log
