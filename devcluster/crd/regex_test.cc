#include "devcluster/crd/regex.h"

#include <string>

#include <gtest/gtest.h>

namespace aidi::devcluster {
namespace {

bool Match(const std::string& pattern, const std::string& text) {
  auto re = Regex::Compile(pattern);
  EXPECT_TRUE(re.ok()) << pattern << ": " << re.status().ToString();
  return re.ok() && re->Search(text);
}

std::string CompileError(const std::string& pattern) {
  auto re = Regex::Compile(pattern);
  return re.ok() ? "" : re.status().message();
}

TEST(Regex, SearchesUnanchoredLikeMatchString) {
  EXPECT_TRUE(Match("b", "abc"));
  EXPECT_FALSE(Match("^b", "abc"));
  EXPECT_TRUE(Match("c$", "abc"));
  EXPECT_FALSE(Match("b$", "abc"));
  EXPECT_FALSE(Match("a$", "a\n"));  // $ without (?m) is the end of text only, as in Go
  EXPECT_TRUE(Match("(?m)a$", "a\nb"));
  EXPECT_TRUE(Match("", ""));
}

TEST(Regex, DnsLabelAndOtherKubernetesPatterns) {
  const std::string label = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
  EXPECT_TRUE(Match(label, "stage-1"));
  EXPECT_FALSE(Match(label, "Stage"));
  EXPECT_FALSE(Match(label, "-a"));
  EXPECT_FALSE(Match(label, "a-"));
  const std::string quantity =
      R"(^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|)"
      R"(([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$)";
  EXPECT_TRUE(Match(quantity, "500Mi"));
  EXPECT_TRUE(Match(quantity, "1.5"));
  EXPECT_FALSE(Match(quantity, "5 Gi"));
}

TEST(Regex, ClassesEscapesAndRepetition) {
  EXPECT_TRUE(Match(R"(^\d{3}-\w+\s\S$)", "123-ab_c x"));
  EXPECT_FALSE(Match(R"(^\d{3}$)", "12"));
  EXPECT_TRUE(Match("^a{2,3}$", "aaa"));
  EXPECT_FALSE(Match("^a{2,3}$", "aaaa"));
  EXPECT_TRUE(Match("^a{2,}$", "aaaaa"));
  EXPECT_TRUE(Match("^[^abc]+$", "xyz\n"));  // negated classes include newline, as in Go
  EXPECT_FALSE(Match("^.$", "\n"));
  EXPECT_TRUE(Match("(?s)^.$", "\n"));
  EXPECT_TRUE(Match("^[[:alpha:]]+[[:digit:]]$", "abc1"));
  EXPECT_TRUE(Match(R"(^\x41\x{263a}\.$)", "A\xE2\x98\xBA."));
  EXPECT_TRUE(Match(R"(^\Qa.b\E$)", "a.b"));
  EXPECT_FALSE(Match(R"(^\Qa.b\E$)", "axb"));
  EXPECT_TRUE(Match("a{,2}", "a{,2}"));  // not a repetition: literal braces
  EXPECT_TRUE(Match(R"(\bfoo\b)", "a foo b"));
  EXPECT_FALSE(Match(R"(\bfoo\b)", "afoob"));
  EXPECT_TRUE(Match("^(?:ab|cd)*?$", "abcdab"));
  EXPECT_TRUE(Match("^(?P<x>a)(?<y>b)$", "ab"));
}

TEST(Regex, CaseFoldingAndRunes) {
  EXPECT_TRUE(Match("(?i)^hello$", "HeLLo"));
  EXPECT_TRUE(Match("^(?i:a)b$", "Ab"));
  EXPECT_FALSE(Match("^(?i:a)b$", "AB"));
  EXPECT_TRUE(Match("(?i)^[a-c]+$", "AbC"));
  EXPECT_TRUE(Match("(?i)^\xC3\xA9$", "\xC3\x89"));  // é / É
  EXPECT_TRUE(Match("^.$", "\xC3\xA9"));             // one rune, two bytes
}

TEST(Regex, ErrorsReadLikeGo) {
  EXPECT_EQ(CompileError("[a"), "error parsing regexp: missing closing ]: `[a`");
  EXPECT_EQ(CompileError("(a"), "error parsing regexp: missing closing ): `(a`");
  EXPECT_EQ(CompileError("a)"), "error parsing regexp: unexpected ): `a)`");
  EXPECT_EQ(CompileError("*a"),
            "error parsing regexp: missing argument to repetition operator: `*a`");
  EXPECT_EQ(CompileError("a**"), "error parsing regexp: invalid nested repetition operator: `a**`");
  EXPECT_EQ(CompileError("a{1001}"), "error parsing regexp: invalid repeat count: `a{1001}`");
  EXPECT_EQ(CompileError("[z-a]"), "error parsing regexp: invalid character class range: `[z-a]`");
  EXPECT_EQ(CompileError(R"(\1)"), "error parsing regexp: invalid escape sequence: `\\1`");
  EXPECT_EQ(CompileError("a\\"),
            "error parsing regexp: trailing backslash at end of expression: `a\\`");
  EXPECT_NE(CompileError("((a{1,1000}){1,1000}){1,1000}"), "");  // too large
}

TEST(Regex, LinearTimeOnPathologicalInput) {
  // (a*)*b against many a's backtracks exponentially in std::regex; here it is linear.
  std::string text(20000, 'a');
  EXPECT_FALSE(Match("^(a*)*b$", text));
  EXPECT_TRUE(Match("^(a|aa)+$", text));
}

}  // namespace
}  // namespace aidi::devcluster
