#include "devcluster/crd/formats.h"

#include <gtest/gtest.h>

namespace aidi::devcluster::formats {
namespace {

TEST(Formats, EffectiveDropsWhatTheApiserverDrops) {
  EXPECT_EQ(Effective("string", "date-time"), "date-time");
  EXPECT_EQ(Effective("", "uuid"), "uuid");
  EXPECT_EQ(Effective("string", "int32"), "");
  EXPECT_EQ(Effective("string", "made-up"), "");
  EXPECT_EQ(Effective("integer", "int32"), "int32");
  EXPECT_EQ(Effective("integer", "date"), "");
  EXPECT_EQ(Effective("number", "double"), "double");
  EXPECT_EQ(Effective("boolean", "byte"), "");
}

TEST(Formats, Validators) {
  struct Case {
    const char* format;
    const char* value;
    bool ok;
  };
  const Case cases[] = {
      {"date-time", "2026-11-27T20:03:48Z", true},
      {"date-time", "2026-11-27t20:03:48.123+01:00", true},
      {"date-time", "2026-11-27T20:03:48", false},
      {"date-time", "2026-02-30T20:03:48Z", false},
      {"date-time", "2026-11-27T24:00:00Z", false},
      {"date", "2024-02-29", true},
      {"date", "2023-02-29", false},
      {"uuid", "123E4567E89B12D3A456426614174000", true},
      {"uuid", "123e4567-e89b-12d3-a456", false},
      {"uuid4", "123e4567-e89b-42d3-a456-426614174000", true},
      {"uuid4", "123e4567-e89b-12d3-a456-426614174000", false},
      {"ipv4", "192.168.0.1", true},
      {"ipv4", "192.168.0.01", false},
      {"ipv4", "::1", false},
      {"ipv6", "::1", true},
      {"ipv6", "2001:db8::8a2e:370:7334", true},
      {"ipv6", "::ffff:192.0.2.1", true},
      {"ipv6", "1:2:3:4:5:6:7:8:9", false},
      {"ipv6", "2001:db8:::1", false},
      {"cidr", "10.0.0.0/8", true},
      {"cidr", "10.0.0.0/33", false},
      {"cidr", "fd00::/64", true},
      {"mac", "00:00:5e:00:53:01", true},
      {"mac", "0000.5e00.5301", true},
      {"mac", "00:00:5e:00:53", false},
      {"byte", "aGVsbG8=", true},
      {"byte", "aGVsbG8", false},
      {"hostname", "example.com", true},
      {"hostname", "-bad.example.com", false},
      {"hostname", "a..b", false},
      {"email", "user@example.com", true},
      {"email", "no-at-sign", false},
      {"uri", "https://example.com/a?b=c", true},
      {"uri", "/absolute/path", true},
      {"uri", "relative/path", false},
      {"hexcolor", "#ffAA00", true},
      {"hexcolor", "#ffAA0", false},
      {"rgbcolor", "rgb(255, 0, 10)", true},
      {"rgbcolor", "rgb(256,0,0)", false},
      {"ssn", "123-45-6789", true},
      {"bsonobjectid", "507f1f77bcf86cd799439011", true},
      {"isbn10", "0-306-40615-2", true},
      {"isbn13", "978-0-306-40615-7", true},
      {"isbn13", "978-0-306-40615-8", false},
      {"duration", "1h30m", true},
      {"duration", "3 days", true},
      {"duration", "soon", false},
      {"quantity", "500Mi", true},
      {"quantity", "1.5e3", true},
      {"quantity", "-2k", true},
      {"quantity", "1.2.3", false},
      {"quantity", "10 Gi", false},
      {"password", "anything", true},
  };
  for (const Case& c : cases) {
    ASSERT_TRUE(IsKnownStringFormat(c.format)) << c.format;
    EXPECT_EQ(Validate(c.format, c.value), c.ok) << c.format << " " << c.value;
  }
}

}  // namespace
}  // namespace aidi::devcluster::formats
