// Mirrors k8s.io/apiextensions-apiserver/pkg/registry/customresource/tableconvertor:
//  - columns: "Name" (format "name", ObjectMeta's name doc) then each additionalPrinterColumn;
//    a CRD version without columns gets "Age" (date, .metadata.creationTimestamp) from
//    serveDefaultColumnsIfEmpty; the first column whose jsonPath does not parse ends the list
//    (New() returns the convertor built so far with its error).
//  - cells: only the FIRST value the JSONPath finds is used ("we only support simple JSON
//    path"); a miss or an evaluation error (index out of range, [0] on a non-list, a filter
//    comparing different kinds) gives a null cell. "string" columns print the value as
//    jsonpath's PrintResults does (strings raw, numbers %v, lists/maps as JSON, null as
//    "<no value>"); other types go through cellForJSONValue: integer truncates floats, number
//    widens ints, boolean, and date renders metatable.ConvertToHumanReadableDateType:
//    HumanDuration(now - t), "<unknown>" for "" / "null" / the zero time, "<invalid>" when the
//    string is not RFC 3339. Anything else is null.
// The JSONPath dialect is k8s.io/client-go/util/jsonpath's: .field, ['field'], ["field"],
// field\.with\.dots, [n] (negative from the end), [a:b], [*], .*, and filters
// [?(@.path op literal)] / [?(@.path)] with ==, !=, <, >, <=, >=. Not supported (a parse
// error): recursive descent (..), unions ([a,b]), three-part slices, range/end.
#include "devcluster/crd/printer_columns.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <optional>

#include "devcluster/crd/gofmt.h"

using nlohmann::json;

namespace aidi::devcluster {
namespace {

constexpr const char* kNameDescription =
    "Name must be unique within a namespace. Is required when creating resources, although "
    "some resources may allow a client to request the generation of an appropriate name "
    "automatically. Name is primarily intended for creation idempotence and configuration "
    "definition. Cannot be updated. More info: "
    "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";
constexpr const char* kCreationTimestampDescription =
    "CreationTimestamp is a timestamp representing the server time when this object was "
    "created. It is not guaranteed to be set in happens-before order across separate "
    "operations. Clients may not set this value. It is represented in RFC3339 form and is in "
    "UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";
constexpr int kMaxFilterNesting = 8;

// ---------------------------------------------------------------------------------------------
// JSONPath: parsing.

struct Step;
using Path = std::vector<Step>;

struct Filter {
  Path left;                    // relative to @
  std::string op;               // "" for existence
  std::optional<json> literal;  // right side: a literal ...
  std::optional<Path> right;    // ... or a path relative to @
};

struct Step {
  enum Kind { kField, kWildcard, kSlice, kFilter } kind = kField;
  std::string field;
  std::optional<long long> start, end;  // kSlice; a single index [n] has single_index set
  bool single_index = false;
  std::shared_ptr<Filter> filter;
};

class PathParser {
 public:
  PathParser(std::string_view s, int nesting) : s_(s), nesting_(nesting) {}

  StatusOr<Path> ParseAll() {
    auto p = ParseSteps(/*relative=*/false);
    if (!p.ok()) return p;
    if (pos_ != s_.size()) return Error("unexpected " + std::string(1, s_[pos_]));
    if (p->empty()) return Error("empty path");
    return p;
  }

  // A path relative to '@' inside a filter; stops at an operator or ')'.
  StatusOr<Path> ParseRelative() { return ParseSteps(/*relative=*/true); }
  std::size_t pos() const { return pos_; }

 private:
  Status Error(const std::string& what) const {
    return Status::InvalidArgument("invalid JSONPath " + gofmt::Quote(s_) + ": " + what);
  }
  static bool IsTerminator(char c) {
    return c == '.' || c == ',' || c == '[' || c == ']' || c == '$' || c == '@' || c == '{' ||
           c == '}' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '(' || c == ')' ||
           c == '=' || c == '!' || c == '<' || c == '>';
  }

  StatusOr<Path> ParseSteps(bool relative) {
    Path path;
    if (!relative && pos_ < s_.size() && s_[pos_] == '$') ++pos_;
    while (pos_ < s_.size()) {
      char c = s_[pos_];
      if (c == '.') {
        ++pos_;
        if (pos_ < s_.size() && s_[pos_] == '.') return Error("recursive descent (..)");
        AIDI_ASSIGN_OR_RETURN(Step st, ParseField());
        path.push_back(std::move(st));
      } else if (c == '[') {
        ++pos_;
        AIDI_ASSIGN_OR_RETURN(Step st, ParseBracket());
        path.push_back(std::move(st));
      } else if (relative) {
        break;
      } else {
        return Error(path.empty() ? "must start with '.' or '['"
                                  : "unexpected " + std::string(1, c));
      }
    }
    return path;
  }

  StatusOr<Step> ParseField() {
    Step st;
    std::string name;
    while (pos_ < s_.size() && !IsTerminator(s_[pos_])) {
      if (s_[pos_] == '\\' && pos_ + 1 < s_.size()) ++pos_;  // "\." keeps the dot
      name.push_back(s_[pos_++]);
    }
    if (name.empty()) return Error("missing field name");
    if (name == "*") {
      st.kind = Step::kWildcard;
    } else {
      st.field = name;
    }
    return st;
  }

  void SkipSpaces() {
    while (pos_ < s_.size() && s_[pos_] == ' ') ++pos_;
  }

  StatusOr<std::string> ParseQuoted() {
    char q = s_[pos_++];
    std::string out;
    while (pos_ < s_.size() && s_[pos_] != q) {
      if (s_[pos_] == '\\' && pos_ + 1 < s_.size()) ++pos_;
      out.push_back(s_[pos_++]);
    }
    if (pos_ >= s_.size()) return Error("unterminated quoted string");
    ++pos_;
    return out;
  }

  std::optional<long long> ParseInt() {
    std::size_t start = pos_;
    if (pos_ < s_.size() && s_[pos_] == '-') ++pos_;
    std::size_t digits = pos_;
    long long v = 0;
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
      if (v < (std::numeric_limits<long long>::max() - 9) / 10) v = v * 10 + (s_[pos_] - '0');
      ++pos_;
    }
    if (pos_ == digits) {
      pos_ = start;
      return std::nullopt;
    }
    return s_[start] == '-' ? -v : v;
  }

  StatusOr<Step> ParseBracket() {
    Step st;
    SkipSpaces();
    if (pos_ >= s_.size()) return Error("missing ]");
    char c = s_[pos_];
    if (c == '\'' || c == '"') {
      AIDI_ASSIGN_OR_RETURN(st.field, ParseQuoted());
    } else if (c == '*') {
      ++pos_;
      st.kind = Step::kWildcard;
    } else if (c == '?') {
      ++pos_;
      AIDI_ASSIGN_OR_RETURN(st.filter, ParseFilter());
      st.kind = Step::kFilter;
    } else {
      st.kind = Step::kSlice;
      st.start = ParseInt();
      SkipSpaces();
      if (pos_ < s_.size() && s_[pos_] == ':') {
        ++pos_;
        SkipSpaces();
        st.end = ParseInt();
        SkipSpaces();
        if (pos_ < s_.size() && s_[pos_] == ':') return Error("slice steps are not supported");
      } else if (st.start) {
        st.single_index = true;
      } else {
        return Error("unsupported array subscript");
      }
    }
    SkipSpaces();
    if (pos_ >= s_.size() || s_[pos_] != ']') {
      return Error(pos_ < s_.size() && s_[pos_] == ',' ? "unions are not supported" : "missing ]");
    }
    ++pos_;
    return st;
  }

  StatusOr<std::shared_ptr<Filter>> ParseFilter() {
    if (nesting_ >= kMaxFilterNesting) return Error("filters nest too deeply");
    if (pos_ >= s_.size() || s_[pos_] != '(') return Error("filter must start with ?(");
    ++pos_;
    auto f = std::make_shared<Filter>();
    SkipSpaces();
    AIDI_ASSIGN_OR_RETURN(f->left, ParseOperandPath());
    SkipSpaces();
    static const char* kOps[] = {"==", "!=", "<=", ">=", "<", ">"};
    for (const char* op : kOps) {
      std::string_view o(op);
      if (s_.substr(pos_, o.size()) == o) {
        f->op = op;
        pos_ += o.size();
        break;
      }
    }
    if (!f->op.empty()) {
      SkipSpaces();
      if (pos_ < s_.size() && s_[pos_] == '@') {
        AIDI_ASSIGN_OR_RETURN(Path right, ParseOperandPath());
        f->right = std::move(right);
      } else {
        AIDI_ASSIGN_OR_RETURN(json lit, ParseLiteral());
        f->literal = std::move(lit);
      }
      SkipSpaces();
    }
    if (pos_ >= s_.size() || s_[pos_] != ')') return Error("missing ) in filter");
    ++pos_;
    SkipSpaces();
    return f;
  }

  StatusOr<Path> ParseOperandPath() {
    if (pos_ >= s_.size() || s_[pos_] != '@') return Error("filter operands must start with @");
    ++pos_;
    PathParser sub(s_.substr(pos_), nesting_ + 1);
    AIDI_ASSIGN_OR_RETURN(Path p, sub.ParseRelative());
    pos_ += sub.pos();
    return p;
  }

  StatusOr<json> ParseLiteral() {
    if (pos_ < s_.size() && (s_[pos_] == '\'' || s_[pos_] == '"')) {
      AIDI_ASSIGN_OR_RETURN(std::string v, ParseQuoted());
      return json(v);
    }
    std::size_t start = pos_;
    while (pos_ < s_.size() && s_[pos_] != ')' && s_[pos_] != ' ') ++pos_;
    std::string tok(s_.substr(start, pos_ - start));
    if (tok == "true") return json(true);
    if (tok == "false") return json(false);
    json v = json::parse(tok, nullptr, /*allow_exceptions=*/false);
    if (v.is_discarded() || !v.is_number()) return Error("invalid literal " + gofmt::Quote(tok));
    return v;
  }

  std::string_view s_;
  std::size_t pos_ = 0;
  int nesting_;
};

// ---------------------------------------------------------------------------------------------
// JSONPath: evaluation. Values are pointers into the object; an error (as upstream's
// FindResults returns one) means "no cell".

using Values = std::vector<const json*>;

StatusOr<Values> Evaluate(const Path& path, const json& root);

// text/template's eq/lt/... on values of the same basic kind; different kinds are an error.
StatusOr<bool> Compare(const json& left, const std::string& op, const json& right) {
  int64_t li, ri;
  bool lint = gofmt::AsGoInt64(left, &li), rint = gofmt::AsGoInt64(right, &ri);
  int cmp = 0;
  bool ordered = true;
  if (left.is_string() && right.is_string()) {
    cmp = left.get_ref<const std::string&>().compare(right.get_ref<const std::string&>());
  } else if (lint && rint) {
    cmp = li < ri ? -1 : (li > ri ? 1 : 0);
  } else if (left.is_number_float() && right.is_number_float()) {
    double a = left.get<double>(), b = right.get<double>();
    cmp = a < b ? -1 : (a > b ? 1 : 0);
  } else if (left.is_boolean() && right.is_boolean()) {
    cmp = left.get<bool>() == right.get<bool>() ? 0 : 1;
    ordered = false;
  } else {
    return Status::InvalidArgument("incompatible types for comparison");
  }
  if (op == "==") return cmp == 0;
  if (op == "!=") return cmp != 0;
  if (!ordered) return Status::InvalidArgument("invalid type for comparison");
  if (op == "<") return cmp < 0;
  if (op == ">") return cmp > 0;
  if (op == "<=") return cmp <= 0;
  return cmp >= 0;
}

StatusOr<Values> ApplyFilter(const Filter& f, const Values& input) {
  Values out;
  for (const json* v : input) {
    if (v->is_null()) continue;
    if (!v->is_array()) return Status::InvalidArgument("not an array; cannot be filtered");
    for (const json& e : *v) {
      auto lefts = Evaluate(f.left, e);
      if (f.op.empty()) {
        if (lefts.ok() && !lefts->empty()) out.push_back(&e);
        continue;
      }
      if (!lefts.ok()) return lefts.status();
      if (lefts->size() != 1) return Status::InvalidArgument("can only compare one element");
      const json* right = nullptr;
      Values rights;
      if (f.right) {
        AIDI_ASSIGN_OR_RETURN(rights, Evaluate(*f.right, e));
        if (rights.size() != 1) return Status::InvalidArgument("can only compare one element");
        right = rights[0];
      } else {
        right = &*f.literal;
      }
      AIDI_ASSIGN_OR_RETURN(bool pass, Compare(*(*lefts)[0], f.op, *right));
      if (pass) out.push_back(&e);
    }
  }
  return out;
}

StatusOr<Values> ApplyStep(const Step& st, const Values& input) {
  Values out;
  switch (st.kind) {
    case Step::kField:
      for (const json* v : input) {
        if (!v->is_object()) continue;  // null, lists and scalars have no fields
        auto it = v->find(st.field);
        if (it != v->end()) out.push_back(&*it);
      }
      return out;
    case Step::kWildcard:
      for (const json* v : input) {
        if (v->is_structured()) {
          for (const json& e : *v) out.push_back(&e);
        }
      }
      return out;
    case Step::kFilter:
      return ApplyFilter(*st.filter, input);
    case Step::kSlice:
      for (const json* v : input) {
        if (v->is_null()) continue;
        if (!v->is_array()) return Status::InvalidArgument("not an array or slice");
        long long len = static_cast<long long>(v->size());
        long long start = st.start.value_or(0);
        if (start < 0) start += len;
        long long end = st.single_index ? start + 1 : st.end.value_or(len);
        if (!st.single_index && end < 0) end += len;
        if (start == end) continue;
        if (start < 0 || start >= len || end < 0 || end > len) {
          return Status::InvalidArgument("array index out of bounds");
        }
        if (start > end) return Status::InvalidArgument("starting index is greater");
        for (long long i = start; i < end; ++i) out.push_back(&(*v)[static_cast<std::size_t>(i)]);
      }
      return out;
  }
  return out;
}

StatusOr<Values> Evaluate(const Path& path, const json& root) {
  Values cur{&root};
  for (const Step& st : path) {
    AIDI_ASSIGN_OR_RETURN(cur, ApplyStep(st, cur));
  }
  return cur;
}

// ---------------------------------------------------------------------------------------------
// Cells.

// time.Parse(time.RFC3339, s) as seconds and nanoseconds since the epoch (any year 0000-9999).
bool ParseGoRfc3339(const std::string& s, int64_t* secs, int64_t* nanos) {
  auto digits = [&](std::size_t at, std::size_t n, int* out) {
    if (at + n > s.size()) return false;
    int v = 0;
    for (std::size_t i = at; i < at + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
      v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
  };
  int y, mo, d, h, mi, sec;
  if (!digits(0, 4, &y) || s.size() < 20 || s[4] != '-' || !digits(5, 2, &mo) || s[7] != '-' ||
      !digits(8, 2, &d) || s[10] != 'T' || !digits(11, 2, &h) || s[13] != ':' ||
      !digits(14, 2, &mi) || s[16] != ':' || !digits(17, 2, &sec)) {
    return false;
  }
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (mo < 1 || mo > 12 || d < 1 || d > kDays[mo - 1] + (mo == 2 && leap ? 1 : 0)) return false;
  if (h > 23 || mi > 59 || sec > 59) return false;
  std::size_t i = 19;
  int64_t frac = 0;
  if (i < s.size() && (s[i] == '.' || s[i] == ',')) {
    ++i;
    std::size_t start = i;
    int64_t scale = 100000000;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      frac += (s[i] - '0') * scale;
      scale /= 10;
      ++i;
    }
    if (i == start) return false;
  }
  int64_t offset = 0;
  if (i < s.size() && s[i] == 'Z') {
    ++i;
  } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    int oh, om;
    if (!digits(i + 1, 2, &oh) || i + 3 >= s.size() || s[i + 3] != ':' || !digits(i + 4, 2, &om) ||
        oh > 23 || om > 59) {
      return false;
    }
    offset = (oh * 3600 + om * 60) * (s[i] == '-' ? -1 : 1);
    i += 6;
  } else {
    return false;
  }
  if (i != s.size()) return false;
  // Days from the civil date (Howard Hinnant's algorithm).
  int64_t yy = y - (mo <= 2 ? 1 : 0);
  int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
  int64_t yoe = yy - era * 400;
  int64_t doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  int64_t days = era * 146097 + doe - 719468;
  *secs = days * 86400 + h * 3600 + mi * 60 + sec - offset;
  *nanos = frac;
  return true;
}

json DateCell(const std::string& value, Clock::WallTime now) {
  if (value.empty() || value == "null") return "<unknown>";
  int64_t secs, nanos;
  if (!ParseGoRfc3339(value, &secs, &nanos)) return "<invalid>";
  constexpr int64_t kZeroTimeSecs = -62135596800;  // 0001-01-01T00:00:00Z
  if (secs == kZeroTimeSecs && nanos == 0) return "<unknown>";
  // time.Since saturates at the largest Duration (about 292 years).
  int64_t now_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
  int64_t now_s = now_ns / 1000000000, now_frac = now_ns % 1000000000;
  int64_t diff_s = now_s - secs;
  constexpr int64_t kMaxSeconds = std::numeric_limits<int64_t>::max() / 1000000000;
  if (diff_s > kMaxSeconds - 1) return HumanDuration(std::chrono::seconds(kMaxSeconds));
  if (diff_s < -kMaxSeconds + 1) return HumanDuration(std::chrono::seconds(-kMaxSeconds));
  int64_t d_ns = diff_s * 1000000000 + (now_frac - nanos);
  return HumanDuration(std::chrono::seconds(d_ns / 1000000000));
}

// Go's int64(float64) on amd64: out of range becomes math.MinInt64.
int64_t GoInt64(double f) {
  if (!(f >= -9223372036854775808.0 && f < 9223372036854775808.0)) {
    return std::numeric_limits<int64_t>::min();
  }
  return static_cast<int64_t>(f);
}

// A float64 cell: integral values are written as JSON integers so they serialize as Go's
// encoding/json writes float64s ("42", not "42.0").
json FloatCell(double f) {
  if (std::trunc(f) == f && std::fabs(f) < 9007199254740992.0) return static_cast<int64_t>(f);
  return f;
}

json CellForValue(const std::string& type, const json& v, Clock::WallTime now) {
  if (v.is_null()) return nullptr;
  int64_t i;
  bool is_int = gofmt::AsGoInt64(v, &i);
  if (type == "integer") {
    if (is_int) return i;
    if (v.is_number()) return GoInt64(gofmt::AsFloat64(v));
  } else if (type == "number") {
    if (v.is_number()) return FloatCell(gofmt::AsFloat64(v));
  } else if (type == "boolean") {
    if (v.is_boolean()) return v;
  } else if (type == "string") {
    if (v.is_string()) return v;
  } else if (type == "date") {
    if (v.is_string()) return DateCell(v.get<std::string>(), now);
  }
  return nullptr;
}

struct Column {
  json definition;
  Path path;
};

// The columns a version's table has, as tableconvertor.New builds them.
std::vector<Column> ColumnsFor(const json& version) {
  std::vector<Column> out;
  json specs = json::array();
  if (version.is_object() && version.contains("additionalPrinterColumns") &&
      version["additionalPrinterColumns"].is_array()) {
    specs = version["additionalPrinterColumns"];
  }
  if (specs.empty()) {
    specs.push_back({{"name", "Age"},
                     {"type", "date"},
                     {"description", kCreationTimestampDescription},
                     {"jsonPath", ".metadata.creationTimestamp"}});
  }
  for (const json& c : specs) {
    if (!c.is_object()) break;
    auto str = [&](const char* key) {
      return c.contains(key) && c[key].is_string() ? c[key].get<std::string>() : std::string();
    };
    std::string jsonpath = str("jsonPath");
    auto parsed = PathParser(jsonpath, 0).ParseAll();
    if (!parsed.ok()) break;  // upstream keeps the columns before the bad one
    std::string description = str("description");
    if (description.empty()) {
      description = "Custom resource definition column (in JSONPath format): " + jsonpath;
    }
    int64_t priority = 0;
    if (c.contains("priority")) gofmt::AsGoInt64(c["priority"], &priority);
    out.push_back({json{{"name", str("name")},
                        {"type", str("type")},
                        {"format", str("format")},
                        {"description", description},
                        {"priority", priority}},
                   std::move(parsed).value()});
  }
  return out;
}

}  // namespace

StatusOr<std::vector<json>> EvalJsonPath(const json& object, const std::string& path) {
  AIDI_ASSIGN_OR_RETURN(Path parsed, PathParser(path, 0).ParseAll());
  auto values = Evaluate(parsed, object);
  std::vector<json> out;
  if (!values.ok()) return out;  // upstream's evaluation errors read as "nothing found"
  for (const json* v : *values) out.push_back(*v);
  return out;
}

json TableColumnsFor(const json& version) {
  json out = json::array();
  out.push_back({{"name", "Name"},
                 {"type", "string"},
                 {"format", "name"},
                 {"description", kNameDescription},
                 {"priority", 0}});
  for (Column& c : ColumnsFor(version)) out.push_back(std::move(c.definition));
  return out;
}

json TableCellsFor(const json& version, const json& object, Clock::WallTime now) {
  json cells = json::array();
  std::string name;
  if (object.is_object() && object.contains("metadata") && object["metadata"].is_object() &&
      object["metadata"].contains("name") && object["metadata"]["name"].is_string()) {
    name = object["metadata"]["name"].get<std::string>();
  }
  cells.push_back(name);
  for (const Column& c : ColumnsFor(version)) {
    auto values = Evaluate(c.path, object);
    if (!values.ok() || values->empty()) {
      cells.push_back(nullptr);
      continue;
    }
    const json& first = *(*values)[0];
    const std::string type = c.definition["type"].get<std::string>();
    if (type == "string") {
      cells.push_back(gofmt::ScalarV(first));
    } else {
      cells.push_back(CellForValue(type, first, now));
    }
  }
  return cells;
}

std::string HumanDuration(std::chrono::seconds d) {
  int64_t s = d.count();
  char buf[64];
  if (s < -1) return "<invalid>";
  if (s < 0) return "0s";
  if (s < 60 * 2) return std::to_string(s) + "s";
  int64_t minutes = s / 60;
  if (minutes < 10) {
    int64_t sec = s % 60;
    if (sec == 0) return std::to_string(minutes) + "m";
    std::snprintf(buf, sizeof buf, "%lldm%llds", static_cast<long long>(minutes),
                  static_cast<long long>(sec));
    return buf;
  }
  if (minutes < 60 * 3) return std::to_string(minutes) + "m";
  int64_t hours = s / 3600;
  if (hours < 8) {
    int64_t m = minutes % 60;
    if (m == 0) return std::to_string(hours) + "h";
    std::snprintf(buf, sizeof buf, "%lldh%lldm", static_cast<long long>(hours),
                  static_cast<long long>(m));
    return buf;
  }
  if (hours < 48) return std::to_string(hours) + "h";
  if (hours < 24 * 8) {
    int64_t h = hours % 24;
    if (h == 0) return std::to_string(hours / 24) + "d";
    std::snprintf(buf, sizeof buf, "%lldd%lldh", static_cast<long long>(hours / 24),
                  static_cast<long long>(h));
    return buf;
  }
  if (hours < 24 * 365 * 2) return std::to_string(hours / 24) + "d";
  if (hours < 24 * 365 * 8) {
    int64_t dy = (hours / 24) % 365;
    if (dy == 0) return std::to_string(hours / 24 / 365) + "y";
    std::snprintf(buf, sizeof buf, "%lldy%lldd", static_cast<long long>(hours / 24 / 365),
                  static_cast<long long>(dy));
    return buf;
  }
  return std::to_string(hours / 24 / 365) + "y";
}

}  // namespace aidi::devcluster
