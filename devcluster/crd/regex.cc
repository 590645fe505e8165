#include "devcluster/crd/regex.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "devcluster/crd/gofmt.h"

namespace aidi::devcluster {
namespace {

using Ranges = std::vector<std::pair<char32_t, char32_t>>;
constexpr char32_t kMaxRune = 0x10FFFF;
constexpr int kMaxNesting = 256;  // Go allows 1000; our parser recurses, so stay shallower.
constexpr int kMaxRepeat = 1000;  // as Go's regexp/syntax
constexpr int kMaxInsts = 20000;  // keeps matching at O(text * 20000) at worst

enum AssertKind { kBeginText, kEndText, kBeginLine, kEndLine, kWordBoundary, kNoWordBoundary };

struct Node {
  enum Kind { kEmpty, kClass, kAny, kAnyNotNL, kAssert, kConcat, kAlt, kRepeat } kind = kEmpty;
  Ranges ranges;
  AssertKind assert_kind = kBeginText;
  std::vector<std::unique_ptr<Node>> kids;
  int min = 0;
  int max = -1;  // -1: unbounded
};
using NodePtr = std::unique_ptr<Node>;

NodePtr MakeNode(Node::Kind k) {
  auto n = std::make_unique<Node>();
  n->kind = k;
  return n;
}

void Normalize(Ranges* r) {
  std::sort(r->begin(), r->end());
  Ranges out;
  for (const auto& p : *r) {
    if (!out.empty() && p.first <= out.back().second + 1) {
      out.back().second = std::max(out.back().second, p.second);
    } else {
      out.push_back(p);
    }
  }
  *r = std::move(out);
}

Ranges Negate(Ranges r) {
  Normalize(&r);
  Ranges out;
  char32_t next = 0;
  for (const auto& p : r) {
    if (p.first > next) out.push_back({next, p.first - 1});
    next = p.second + 1;
  }
  if (next <= kMaxRune) out.push_back({next, kMaxRune});
  return out;
}

// Simple case folding: pairs of equal-length blocks whose letters map onto each other.
struct FoldBlock {
  char32_t lo, hi;
  int32_t delta;
};
constexpr FoldBlock kFolds[] = {
    {'A', 'Z', 32},
    {'a', 'z', -32},
    {0xC0, 0xD6, 32},
    {0xD8, 0xDE, 32},
    {0xE0, 0xF6, -32},
    {0xF8, 0xFE, -32},
    {0x391, 0x3A1, 32},
    {0x3A3, 0x3A9, 32},
    {0x3B1, 0x3C1, -32},
    {0x3C3, 0x3C9, -32},
    {0x400, 0x40F, 80},
    {0x410, 0x42F, 32},
    {0x430, 0x44F, -32},
    {0x450, 0x45F, -80},
    {'k', 'k', 0x212A - 'k'},
    {'K', 'K', 0x212A - 'K'},
    {0x212A, 0x212A, 'k' - 0x212A},
    {'s', 's', 0x17F - 's'},
    {'S', 'S', 0x17F - 'S'},
    {0x17F, 0x17F, 's' - 0x17F},
    {0x3C2, 0x3C2, 1},
};

void AddFolds(Ranges* r) {
  Ranges extra;
  for (const auto& p : *r) {
    for (const FoldBlock& f : kFolds) {
      char32_t lo = std::max(p.first, f.lo);
      char32_t hi = std::min(p.second, f.hi);
      if (lo > hi) continue;
      extra.push_back({static_cast<char32_t>(static_cast<int32_t>(lo) + f.delta),
                       static_cast<char32_t>(static_cast<int32_t>(hi) + f.delta)});
    }
  }
  r->insert(r->end(), extra.begin(), extra.end());
  Normalize(r);
}

bool IsWordRune(char32_t c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

bool PerlClass(char c, Ranges* out) {
  switch (c) {
    case 'd':
      *out = {{'0', '9'}};
      return true;
    case 's':
      *out = {{'\t', '\n'}, {'\f', '\r'}, {' ', ' '}};
      return true;
    case 'w':
      *out = {{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}};
      return true;
    case 'D':
    case 'S':
    case 'W':
      PerlClass(static_cast<char>(c - 'A' + 'a'), out);
      *out = Negate(*out);
      return true;
    default:
      return false;
  }
}

bool PosixClass(const std::string& name, Ranges* out) {
  struct Entry {
    const char* name;
    Ranges ranges;
  };
  static const Entry kEntries[] = {
      {"alnum", {{'0', '9'}, {'A', 'Z'}, {'a', 'z'}}},
      {"alpha", {{'A', 'Z'}, {'a', 'z'}}},
      {"ascii", {{0, 0x7F}}},
      {"blank", {{'\t', '\t'}, {' ', ' '}}},
      {"cntrl", {{0, 0x1F}, {0x7F, 0x7F}}},
      {"digit", {{'0', '9'}}},
      {"graph", {{'!', '~'}}},
      {"lower", {{'a', 'z'}}},
      {"print", {{' ', '~'}}},
      {"punct", {{'!', '/'}, {':', '@'}, {'[', '`'}, {'{', '~'}}},
      {"space", {{'\t', '\r'}, {' ', ' '}}},
      {"upper", {{'A', 'Z'}}},
      {"word", {{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}}},
      {"xdigit", {{'0', '9'}, {'A', 'F'}, {'a', 'f'}}},
  };
  for (const Entry& e : kEntries) {
    if (name == e.name) {
      *out = e.ranges;
      return true;
    }
  }
  return false;
}

int HexValue(char32_t c) {
  if (c >= '0' && c <= '9') return static_cast<int>(c - '0');
  if (c >= 'a' && c <= 'f') return static_cast<int>(c - 'a' + 10);
  if (c >= 'A' && c <= 'F') return static_cast<int>(c - 'A' + 10);
  return -1;
}

class Parser {
 public:
  explicit Parser(std::string_view pattern) : pattern_(pattern), src_(gofmt::DecodeUtf8(pattern)) {}

  StatusOr<NodePtr> Parse() {
    NodePtr n = ParseAlt(0);
    if (!error_.empty()) return Fail();
    if (pos_ < src_.size()) {  // only a stray ')' stops the top level early
      SetError("unexpected )");
      return Fail();
    }
    return n;
  }

 private:
  Status Fail() const {
    return Status::InvalidArgument("error parsing regexp: " + error_ + ": `" +
                                   std::string(pattern_) + "`");
  }
  void SetError(std::string e) {
    if (error_.empty()) error_ = std::move(e);
  }
  bool More() const { return pos_ < src_.size(); }
  char32_t Peek(std::size_t ahead = 0) const {
    return pos_ + ahead < src_.size() ? src_[pos_ + ahead] : 0;
  }

  NodePtr ParseAlt(int depth) {
    if (depth > kMaxNesting) {
      SetError("expression nests too deeply");
      return nullptr;
    }
    auto alt = MakeNode(Node::kAlt);
    alt->kids.push_back(ParseConcat(depth));
    while (error_.empty() && More() && Peek() == '|') {
      ++pos_;
      alt->kids.push_back(ParseConcat(depth));
    }
    if (alt->kids.size() == 1) return std::move(alt->kids[0]);
    return alt;
  }

  NodePtr ParseConcat(int depth) {
    auto cat = MakeNode(Node::kConcat);
    while (error_.empty() && More() && Peek() != '|' && Peek() != ')') {
      bool had_atom = false;
      NodePtr atom = ParseAtom(depth, &had_atom);
      if (!error_.empty()) return nullptr;
      if (!had_atom) continue;  // a flag group such as (?i)
      atom = ParseRepeats(std::move(atom));
      if (!error_.empty()) return nullptr;
      cat->kids.push_back(std::move(atom));
    }
    if (cat->kids.size() == 1) return std::move(cat->kids[0]);
    if (cat->kids.empty()) return MakeNode(Node::kEmpty);
    return cat;
  }

  // Parses {n}, {n,} or {n,m} at pos_; false (pos_ unchanged) when it is a literal '{'.
  bool ParseBraces(int* min, int* max) {
    std::size_t p = pos_ + 1;
    auto number = [&](int* out) {
      std::size_t start = p;
      long v = 0;
      while (p < src_.size() && src_[p] >= '0' && src_[p] <= '9') {
        v = std::min<long>(v * 10 + static_cast<long>(src_[p] - '0'), 100000);
        ++p;
      }
      *out = static_cast<int>(v);
      return p > start;
    };
    if (!number(min)) return false;
    *max = *min;
    if (p < src_.size() && src_[p] == ',') {
      ++p;
      if (p < src_.size() && src_[p] == '}') {
        *max = -1;
      } else if (!number(max)) {
        return false;
      }
    }
    if (p >= src_.size() || src_[p] != '}') return false;
    pos_ = p + 1;
    return true;
  }

  bool AtRepeat() {
    if (!More()) return false;
    char32_t c = Peek();
    if (c == '*' || c == '+' || c == '?') return true;
    if (c != '{') return false;
    std::size_t save = pos_;
    int a, b;
    bool ok = ParseBraces(&a, &b);
    pos_ = save;
    return ok;
  }

  NodePtr ParseRepeats(NodePtr atom) {
    bool repeated = false;
    while (AtRepeat()) {
      if (repeated) {
        SetError("invalid nested repetition operator");
        return nullptr;
      }
      int min = 0, max = -1;
      char32_t c = Peek();
      if (c == '*') {
        ++pos_;
      } else if (c == '+') {
        min = 1;
        ++pos_;
      } else if (c == '?') {
        max = 1;
        ++pos_;
      } else {
        ParseBraces(&min, &max);
        if (min > kMaxRepeat || max > kMaxRepeat || (max >= 0 && max < min)) {
          SetError("invalid repeat count");
          return nullptr;
        }
      }
      if (More() && Peek() == '?') ++pos_;  // lazy: same match/no-match answer
      auto rep = MakeNode(Node::kRepeat);
      rep->min = min;
      rep->max = max;
      rep->kids.push_back(std::move(atom));
      atom = std::move(rep);
      repeated = true;
    }
    return atom;
  }

  NodePtr Literal(char32_t c) {
    auto n = MakeNode(Node::kClass);
    n->ranges = {{c, c}};
    if (fold_) AddFolds(&n->ranges);
    return n;
  }

  NodePtr ClassNode(Ranges r) {
    auto n = MakeNode(Node::kClass);
    n->ranges = std::move(r);
    Normalize(&n->ranges);
    return n;
  }

  NodePtr Assert(AssertKind k) {
    auto n = MakeNode(Node::kAssert);
    n->assert_kind = k;
    return n;
  }

  NodePtr ParseAtom(int depth, bool* had_atom) {
    *had_atom = true;
    char32_t c = Peek();
    switch (c) {
      case '(':
        return ParseGroup(depth, had_atom);
      case '[':
        return ParseClass();
      case '.':
        ++pos_;
        return MakeNode(dot_nl_ ? Node::kAny : Node::kAnyNotNL);
      case '^':
        ++pos_;
        return Assert(multi_line_ ? kBeginLine : kBeginText);
      case '$':
        ++pos_;
        return Assert(multi_line_ ? kEndLine : kEndText);
      case '*':
      case '+':
      case '?':
        SetError("missing argument to repetition operator");
        return nullptr;
      case '\\':
        return ParseEscapeAtom();
      default:
        if (c == '{' && AtRepeat()) {
          SetError("missing argument to repetition operator");
          return nullptr;
        }
        ++pos_;
        return Literal(c);
    }
  }

  NodePtr ParseGroup(int depth, bool* had_atom) {
    ++pos_;  // '('
    bool saved_fold = fold_, saved_dot = dot_nl_, saved_multi = multi_line_;
    if (Peek() == '?') {
      if (Peek(1) == 'P' && Peek(2) == '<') {
        pos_ += 3;
        if (!SkipGroupName()) return nullptr;
      } else if (Peek(1) == '<') {
        pos_ += 2;
        if (!SkipGroupName()) return nullptr;
      } else {
        ++pos_;
        bool scoped = false;
        if (!ParseFlags(&scoped)) return nullptr;
        if (!scoped) {  // (?flags): applies to the rest of the enclosing group
          *had_atom = false;
          return nullptr;
        }
      }
    }
    NodePtr inner = ParseAlt(depth + 1);
    if (!error_.empty()) return nullptr;
    if (!More() || Peek() != ')') {
      SetError("missing closing )");
      return nullptr;
    }
    ++pos_;
    fold_ = saved_fold;
    dot_nl_ = saved_dot;
    multi_line_ = saved_multi;
    return inner;
  }

  bool SkipGroupName() {
    std::size_t start = pos_;
    while (More() && Peek() != '>') {
      if (!IsWordRune(Peek())) {
        SetError("invalid named capture");
        return false;
      }
      ++pos_;
    }
    if (!More() || pos_ == start) {
      SetError("invalid named capture");
      return false;
    }
    ++pos_;  // '>'
    return true;
  }

  // After "(?": flags up to ')' (sets them, returns scoped=false) or ':' (scoped=true).
  bool ParseFlags(bool* scoped) {
    bool negate = false, any = false;
    while (More()) {
      char32_t c = Peek();
      ++pos_;
      switch (c) {
        case 'i':
          fold_ = !negate;
          any = true;
          break;
        case 's':
          dot_nl_ = !negate;
          any = true;
          break;
        case 'm':
          multi_line_ = !negate;
          any = true;
          break;
        case 'U':
          any = true;
          break;  // ungreedy: irrelevant to match/no-match
        case '-':
          if (negate) {
            SetError("invalid or unsupported Perl syntax");
            return false;
          }
          negate = true;
          any = false;
          break;
        case ':':
        case ')':
          if (negate && !any) {
            SetError("invalid or unsupported Perl syntax");
            return false;
          }
          *scoped = (c == ':');
          return true;
        default:
          SetError("invalid or unsupported Perl syntax");
          return false;
      }
    }
    SetError("missing closing )");
    return false;
  }

  // Parses an escape that stands for one rune (after the backslash). -1 on error.
  long ParseRuneEscape(char32_t c) {
    switch (c) {
      case 'a':
        return 7;
      case 'f':
        return 12;
      case 't':
        return 9;
      case 'n':
        return 10;
      case 'r':
        return 13;
      case 'v':
        return 11;
      case 'x': {
        if (Peek() == '{') {
          ++pos_;
          long v = 0;
          int digits = 0;
          while (More() && HexValue(Peek()) >= 0) {
            v = v * 16 + HexValue(Peek());
            if (v > static_cast<long>(kMaxRune)) break;
            ++pos_;
            ++digits;
          }
          if (digits == 0 || !More() || Peek() != '}' || v > static_cast<long>(kMaxRune)) break;
          ++pos_;
          return v;
        }
        int h1 = HexValue(Peek()), h2 = HexValue(Peek(1));
        if (h1 < 0 || h2 < 0) break;
        pos_ += 2;
        return h1 * 16 + h2;
      }
      default:
        if (c >= '0' && c <= '7') {
          // Octal: \0 always; \1-\7 only when followed by another octal digit (else it
          // would be a backreference, which RE2 does not support).
          if (c != '0' && !(Peek() >= '0' && Peek() <= '7')) break;
          long v = static_cast<long>(c - '0');
          for (int i = 0; i < 2 && Peek() >= '0' && Peek() <= '7'; ++i) {
            v = v * 8 + static_cast<long>(Peek() - '0');
            ++pos_;
          }
          return v;
        }
        if (c < 0x80 && !IsWordRune(c)) return static_cast<long>(c);  // escaped punctuation
        break;
    }
    SetError("invalid escape sequence");
    return -1;
  }

  NodePtr ParseEscapeAtom() {
    ++pos_;  // '\'
    if (!More()) {
      SetError("trailing backslash at end of expression");
      return nullptr;
    }
    char32_t c = Peek();
    ++pos_;
    Ranges r;
    switch (c) {
      case 'A':
        return Assert(kBeginText);
      case 'z':
        return Assert(kEndText);
      case 'b':
        return Assert(kWordBoundary);
      case 'B':
        return Assert(kNoWordBoundary);
      case 'p':
      case 'P':
        SetError("unsupported Unicode class (\\p)");
        return nullptr;
      case 'Q': {
        auto cat = MakeNode(Node::kConcat);
        while (More() && !(Peek() == '\\' && Peek(1) == 'E')) {
          cat->kids.push_back(Literal(Peek()));
          ++pos_;
        }
        if (More()) pos_ += 2;
        return cat;
      }
      default:
        if (c < 0x80 && PerlClass(static_cast<char>(c), &r)) return ClassNode(std::move(r));
        long v = ParseRuneEscape(c);
        if (v < 0) return nullptr;
        return Literal(static_cast<char32_t>(v));
    }
  }

  // One class member rune (escape or literal); false on error.
  bool ClassRune(char32_t* out) {
    char32_t c = Peek();
    ++pos_;
    if (c != '\\') {
      *out = c;
      return true;
    }
    if (!More()) {
      SetError("trailing backslash at end of expression");
      return false;
    }
    char32_t e = Peek();
    ++pos_;
    long v = ParseRuneEscape(e);
    if (v < 0) return false;
    *out = static_cast<char32_t>(v);
    return true;
  }

  NodePtr ParseClass() {
    ++pos_;  // '['
    bool negate = false;
    if (Peek() == '^') {
      negate = true;
      ++pos_;
    }
    Ranges r;
    bool first = true;
    while (true) {
      if (!More()) {
        SetError("missing closing ]");
        return nullptr;
      }
      char32_t c = Peek();
      if (c == ']' && !first) {
        ++pos_;
        break;
      }
      first = false;
      if (c == '[' && Peek(1) == ':') {
        std::size_t end = pos_ + 2;
        while (end + 1 < src_.size() && !(src_[end] == ':' && src_[end + 1] == ']')) ++end;
        if (end + 1 < src_.size()) {
          std::string name;
          for (std::size_t k = pos_ + 2; k < end; ++k) gofmt::AppendUtf8(src_[k], &name);
          bool neg = !name.empty() && name[0] == '^';
          Ranges pr;
          if (!PosixClass(neg ? name.substr(1) : name, &pr)) {
            SetError("invalid character class range");
            return nullptr;
          }
          if (neg) pr = Negate(pr);
          r.insert(r.end(), pr.begin(), pr.end());
          pos_ = end + 2;
          continue;
        }
      }
      if (c == '\\' && Peek(1) < 0x80) {
        Ranges pr;
        char32_t e = Peek(1);
        if (e == 'p' || e == 'P') {
          SetError("unsupported Unicode class (\\p)");
          return nullptr;
        }
        if (PerlClass(static_cast<char>(e), &pr)) {
          pos_ += 2;
          r.insert(r.end(), pr.begin(), pr.end());
          continue;
        }
      }
      char32_t lo;
      if (!ClassRune(&lo)) return nullptr;
      char32_t hi = lo;
      if (Peek() == '-' && More() && pos_ + 1 < src_.size() && Peek(1) != ']') {
        ++pos_;
        if (!ClassRune(&hi)) return nullptr;
        if (hi < lo) {
          SetError("invalid character class range");
          return nullptr;
        }
      }
      r.push_back({lo, hi});
    }
    Normalize(&r);
    if (fold_) AddFolds(&r);
    if (negate) r = Negate(r);
    return ClassNode(std::move(r));
  }

  std::string_view pattern_;
  std::vector<char32_t> src_;
  std::size_t pos_ = 0;
  std::string error_;
  bool fold_ = false;
  bool dot_nl_ = false;
  bool multi_line_ = false;
};

struct Inst {
  enum Op : uint8_t { kRange, kAny, kAnyNotNL, kSplit, kJmp, kAssert, kMatch } op = kMatch;
  int x = 0;  // jump target / class index / assert kind
  int y = 0;  // second split target
};

}  // namespace

struct Regex::Prog {
  std::vector<Inst> insts;
  std::vector<Ranges> classes;
};

namespace {

class Compiler {
 public:
  explicit Compiler(Regex::Prog* p) : p_(p) {}

  bool Emit(const Node& n) {
    if (static_cast<int>(p_->insts.size()) > kMaxInsts) return false;
    switch (n.kind) {
      case Node::kEmpty:
        return true;
      case Node::kClass:
        p_->classes.push_back(n.ranges);
        Add({Inst::kRange, static_cast<int>(p_->classes.size()) - 1, 0});
        return true;
      case Node::kAny:
        Add({Inst::kAny, 0, 0});
        return true;
      case Node::kAnyNotNL:
        Add({Inst::kAnyNotNL, 0, 0});
        return true;
      case Node::kAssert:
        Add({Inst::kAssert, static_cast<int>(n.assert_kind), 0});
        return true;
      case Node::kConcat:
        for (const auto& k : n.kids) {
          if (!Emit(*k)) return false;
        }
        return true;
      case Node::kAlt:
        return EmitAlt(n);
      case Node::kRepeat:
        return EmitRepeat(n);
    }
    return true;
  }

 private:
  int Add(Inst i) {
    p_->insts.push_back(i);
    return static_cast<int>(p_->insts.size()) - 1;
  }
  int Pc() const { return static_cast<int>(p_->insts.size()); }

  bool EmitAlt(const Node& n) {
    std::vector<int> jumps;
    for (std::size_t i = 0; i < n.kids.size(); ++i) {
      if (i + 1 < n.kids.size()) {
        int split = Add({Inst::kSplit, 0, 0});
        p_->insts[split].x = Pc();
        if (!Emit(*n.kids[i])) return false;
        jumps.push_back(Add({Inst::kJmp, 0, 0}));
        p_->insts[split].y = Pc();
      } else if (!Emit(*n.kids[i])) {
        return false;
      }
    }
    for (int j : jumps) p_->insts[j].x = Pc();
    return true;
  }

  bool EmitRepeat(const Node& n) {
    const Node& kid = *n.kids[0];
    for (int i = 0; i < n.min; ++i) {
      if (!Emit(kid)) return false;
    }
    if (n.max < 0) {  // L: split body, end; body; jmp L
      int split = Add({Inst::kSplit, 0, 0});
      p_->insts[split].x = Pc();
      if (!Emit(kid)) return false;
      Add({Inst::kJmp, split, 0});
      p_->insts[split].y = Pc();
      return true;
    }
    std::vector<int> splits;
    for (int i = n.min; i < n.max; ++i) {
      int split = Add({Inst::kSplit, 0, 0});
      p_->insts[split].x = Pc();
      splits.push_back(split);
      if (!Emit(kid)) return false;
    }
    for (int s : splits) p_->insts[s].y = Pc();
    return true;
  }

  Regex::Prog* p_;
};

// A set of program counters with O(1) insert, membership and clear.
class SparseSet {
 public:
  explicit SparseSet(std::size_t n) : sparse_(n), dense_(n) {}
  bool Contains(int i) const {
    std::size_t s = sparse_[static_cast<std::size_t>(i)];
    return s < size_ && dense_[s] == i;
  }
  void Insert(int i) {
    sparse_[static_cast<std::size_t>(i)] = size_;
    dense_[size_++] = i;
  }
  void Clear() { size_ = 0; }
  std::size_t size() const { return size_; }
  int at(std::size_t k) const { return dense_[k]; }

 private:
  std::vector<std::size_t> sparse_;
  std::vector<int> dense_;
  std::size_t size_ = 0;
};

bool InClass(const Ranges& r, char32_t c) {
  auto it = std::upper_bound(
      r.begin(), r.end(), c,
      [](char32_t v, const std::pair<char32_t, char32_t>& p) { return v < p.first; });
  if (it == r.begin()) return false;
  --it;
  return c >= it->first && c <= it->second;
}

}  // namespace

StatusOr<Regex> Regex::Compile(std::string_view pattern) {
  Parser parser(pattern);
  auto ast = parser.Parse();
  if (!ast.ok()) return ast.status();
  auto prog = std::make_shared<Prog>();
  Compiler c(prog.get());
  if (!c.Emit(**ast) || static_cast<int>(prog->insts.size()) > kMaxInsts) {
    return Status::InvalidArgument("error parsing regexp: expression too large: `" +
                                   std::string(pattern) + "`");
  }
  prog->insts.push_back(Inst{Inst::kMatch, 0, 0});
  Regex re;
  re.prog_ = std::move(prog);
  return re;
}

bool Regex::Search(std::string_view text) const {
  if (!prog_) return false;
  const std::vector<Inst>& insts = prog_->insts;
  std::vector<char32_t> runes = gofmt::DecodeUtf8(text);
  const std::size_t n = runes.size();
  SparseSet clist(insts.size()), nlist(insts.size());
  std::vector<int> stack;

  auto assert_holds = [&](int kind, std::size_t pos) {
    char32_t prev = pos > 0 ? runes[pos - 1] : 0;
    char32_t next = pos < n ? runes[pos] : 0;
    bool wb = (pos > 0 && IsWordRune(prev)) != (pos < n && IsWordRune(next));
    switch (kind) {
      case kBeginText:
        return pos == 0;
      case kEndText:
        return pos == n;
      case kBeginLine:
        return pos == 0 || prev == '\n';
      case kEndLine:
        return pos == n || next == '\n';
      case kWordBoundary:
        return wb;
      case kNoWordBoundary:
        return !wb;
    }
    return false;
  };
  // Follows empty transitions from `pc`; true once the program can match.
  auto add = [&](SparseSet& set, int start, std::size_t pos) {
    stack.push_back(start);
    while (!stack.empty()) {
      int pc = stack.back();
      stack.pop_back();
      if (set.Contains(pc)) continue;
      set.Insert(pc);
      const Inst& in = insts[static_cast<std::size_t>(pc)];
      switch (in.op) {
        case Inst::kJmp:
          stack.push_back(in.x);
          break;
        case Inst::kSplit:
          stack.push_back(in.y);
          stack.push_back(in.x);
          break;
        case Inst::kAssert:
          if (assert_holds(in.x, pos)) stack.push_back(pc + 1);
          break;
        case Inst::kMatch:
          stack.clear();
          return true;
        default:
          break;
      }
    }
    return false;
  };

  for (std::size_t pos = 0; pos <= n; ++pos) {
    if (add(clist, 0, pos)) return true;  // unanchored: a new thread starts at every position
    if (pos == n) break;
    char32_t c = runes[pos];
    for (std::size_t k = 0; k < clist.size(); ++k) {
      int pc = clist.at(k);
      const Inst& in = insts[static_cast<std::size_t>(pc)];
      bool ok = false;
      switch (in.op) {
        case Inst::kRange:
          ok = InClass(prog_->classes[static_cast<std::size_t>(in.x)], c);
          break;
        case Inst::kAny:
          ok = true;
          break;
        case Inst::kAnyNotNL:
          ok = c != '\n';
          break;
        default:
          break;
      }
      if (ok && add(nlist, pc + 1, pos + 1)) return true;
    }
    std::swap(clist, nlist);
    nlist.Clear();
  }
  return false;
}

}  // namespace aidi::devcluster
