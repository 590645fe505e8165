// A small RE2-syntax regular expression matcher for CRD `pattern`s, because the apiserver
// matches them with Go's regexp (RE2: no backreferences, linear time) and schema patterns meet
// attacker-controlled strings: std::regex backtracks and recurses per character.
//
// Supported: literals and escapes (\n \t \x41 \x{263a} \Q..\E, escaped punctuation), `.`,
// classes ([a-z], [^...], [[:alpha:]], \d \s \w and negations), anchors (^ $ \A \z \b \B),
// groups ((...), (?:...), (?P<n>...), (?<n>...)), flags i m s U ((?i), (?i:...)),
// alternation and repetition (* + ? {n} {n,} {n,m}, lazy forms). Matching is over Unicode code
// points (invalid UTF-8 reads as U+FFFD). Not supported (Compile fails): \p{...} Unicode
// classes. Case folding covers ASCII, Latin-1, Greek and Cyrillic letters.
// Immutable after Compile: safe to share between threads.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"

namespace aidi::devcluster {

class Regex {
 public:
  struct Prog;
  // InvalidArgument with Go-like wording ("missing closing ]: `[a`") on a bad pattern.
  static StatusOr<Regex> Compile(std::string_view pattern);
  // regexp.MatchString: true when the pattern matches anywhere in `text`.
  bool Search(std::string_view text) const;

 private:
  std::shared_ptr<const Prog> prog_;
};

}  // namespace aidi::devcluster
