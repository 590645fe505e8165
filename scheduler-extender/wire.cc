#include "scheduler-extender/wire.h"

#include <array>
#include <charconv>
#include <cstddef>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "scheduler-extender/json_reader.h"

namespace aidi::extender {
namespace {

using Type = JsonReader::Type;

// encoding/json's field matching for names without Unicode special cases: ASCII letters match
// in either case.
bool FieldIs(std::string_view key, std::string_view name) {
  if (key.size() != name.size()) return false;
  for (std::size_t i = 0; i < key.size(); ++i) {
    char a = key[i];
    char b = name[i];
    if (a == b) continue;
    if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
    if (b >= 'A' && b <= 'Z') b = static_cast<char>(b - 'A' + 'a');
    if (a != b || a < 'a' || a > 'z') return false;
  }
  return true;
}

// Reads one document against the shapes below, remembering where it is for error messages.
// Every method returns false after recording the first error; callers return at once.
class Decoder {
 public:
  Decoder(std::string_view text, const char* root) : r_(text) {
    path_.reserve(16);  // deeper than ExtenderArgs nests: no growth while decoding
    path_.push_back({root, 0});
  }

  // A path segment while in scope: a field name, or an array index when `name` is null.
  class Scope {
   public:
    Scope(Decoder* d, const char* name, std::size_t index = 0) : d_(d) {
      d_->path_.push_back({name, index});
    }
    ~Scope() { d_->path_.pop_back(); }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    Decoder* d_;
  };

  JsonReader& reader() { return r_; }
  const Status& status() const { return status_; }

  // "<path>: <message>", or "<path>[\"<key>\"]: <message>" for a map entry.
  bool Fail(std::string_view message, std::optional<std::string_view> key = std::nullopt) {
    if (status_.ok()) {
      std::string where = PathString();
      if (key) where += "[" + GoJsonQuote(*key) + "]";
      status_ = Status::InvalidArgument(where + ": " + std::string(message));
    }
    return false;
  }
  bool SyntaxError() {
    return Fail("invalid JSON at offset " + std::to_string(r_.error_offset()) + ": " + r_.error());
  }

  bool Skip() { return r_.SkipValue() || SyntaxError(); }
  bool Null() { return r_.ReadNull() || SyntaxError(); }
  bool AtEnd() { return r_.AtEnd() || SyntaxError(); }

  // The type of the next value; kInvalid after recording the syntax error.
  Type Peek() {
    const Type t = r_.Peek();
    if (t == Type::kInvalid) SyntaxError();
    return t;
  }

  // A struct: null leaves it as it is. on_member(key) must consume the member's value.
  template <typename F>
  bool Object(F&& on_member) {
    switch (Peek()) {
      case Type::kInvalid:
        return false;
      case Type::kNull:
        return Null();
      case Type::kObject:
        break;
      default:
        return Fail("must be an object");
    }
    if (!r_.BeginObject()) return SyntaxError();
    bool first = true;
    std::string_view key;
    std::string scratch;
    while (r_.NextMember(&first, &key, &scratch)) {
      if (!on_member(key)) return false;
    }
    return r_.ok() || SyntaxError();
  }

  // A list: null empties it (on_null), as does the start of an array; on_element(i) must
  // consume element i, with "[i]" on the path.
  template <typename Clear, typename F>
  bool Array(Clear&& clear, F&& on_element) {
    switch (Peek()) {
      case Type::kInvalid:
        return false;
      case Type::kNull:
        clear();
        return Null();
      case Type::kArray:
        break;
      default:
        return Fail("must be an array");
    }
    clear();
    if (!r_.BeginArray()) return SyntaxError();
    bool first = true;
    for (std::size_t i = 0; r_.NextElement(&first); ++i) {
      Scope s(this, nullptr, i);
      if (!on_element(i)) return false;
    }
    return r_.ok() || SyntaxError();
  }

  // A string field: null leaves it unchanged.
  bool String(std::string* out) {
    switch (Peek()) {
      case Type::kInvalid:
        return false;
      case Type::kNull:
        return Null();
      case Type::kString:
        return r_.ReadString(out) || SyntaxError();
      default:
        return Fail("must be a string");
    }
  }

  bool Bool(bool* out) {
    switch (Peek()) {
      case Type::kInvalid:
        return false;
      case Type::kNull:
        return Null();
      case Type::kBool:
        return r_.ReadBool(out) || SyntaxError();
      default:
        return Fail("must be a boolean");
    }
  }

  // map[string]string: null empties it; an object adds to it (a null value is "").
  bool StringMap(std::map<std::string, std::string>* out) {
    if (Peek() == Type::kNull) {
      out->clear();
      return Null();
    }
    return Object([&](std::string_view key) {
      std::string& value = (*out)[std::string(key)];
      switch (Peek()) {
        case Type::kInvalid:
          return false;
        case Type::kNull:
          value.clear();
          return Null();
        case Type::kString:
          return r_.ReadString(&value) || SyntaxError();
        default:
          return Fail("must be a string", key);
      }
    });
  }

  // v1.ResourceList (map[ResourceName]resource.Quantity): a quantity is a string or a number
  // (kept as written); null is "0", as Quantity.UnmarshalJSON makes it.
  bool Quantities(ResourceList* out) {
    if (Peek() == Type::kNull) {
      out->clear();
      return Null();
    }
    return Object([&](std::string_view key) {
      std::string& value = (*out)[std::string(key)];
      std::string_view number;
      switch (Peek()) {
        case Type::kInvalid:
          return false;
        case Type::kNull:
          value = "0";
          return Null();
        case Type::kString:
          return r_.ReadString(&value) || SyntaxError();
        case Type::kNumber:
          if (!r_.ReadNumber(&number)) return SyntaxError();
          value.assign(number);
          return true;
        default:
          return Fail("must be a quantity (a string or a number)", key);
      }
    });
  }

 private:
  struct Segment {
    const char* name;  // null: an array index
    std::size_t index;
  };

  std::string PathString() const {
    std::string out;
    for (std::size_t i = 0; i < path_.size(); ++i) {
      if (path_[i].name == nullptr) {
        out += "[" + std::to_string(path_[i].index) + "]";
      } else {
        if (i > 0) out += '.';
        out += path_[i].name;
      }
    }
    return out;
  }

  JsonReader r_;
  std::vector<Segment> path_;
  Status status_;
};

// --- the Pod ---

bool DecodeContainer(Decoder& d, ExtenderContainer* c) {
  return d.Object([&](std::string_view key) {
    if (FieldIs(key, "name")) {
      Decoder::Scope s(&d, "name");
      return d.String(&c->name);
    }
    if (FieldIs(key, "resources")) {
      Decoder::Scope s(&d, "resources");
      return d.Object([&](std::string_view rkey) {
        if (FieldIs(rkey, "requests")) {
          Decoder::Scope s2(&d, "requests");
          return d.Quantities(&c->requests);
        }
        if (FieldIs(rkey, "limits")) {
          Decoder::Scope s2(&d, "limits");
          return d.Quantities(&c->limits);
        }
        return d.Skip();
      });
    }
    if (FieldIs(key, "restartPolicy")) {
      // *ContainerRestartPolicy: null clears it.
      Decoder::Scope s(&d, "restartPolicy");
      if (d.Peek() == Type::kNull) c->restart_policy.clear();
      return d.String(&c->restart_policy);
    }
    return d.Skip();
  });
}

bool DecodeContainers(Decoder& d, std::vector<ExtenderContainer>* out) {
  return d.Array([&] { out->clear(); },
                 [&](std::size_t) { return DecodeContainer(d, &out->emplace_back()); });
}

bool DecodePod(Decoder& d, ExtenderPod* pod) {
  return d.Object([&](std::string_view key) {
    if (FieldIs(key, "metadata")) {
      Decoder::Scope s(&d, "metadata");
      return d.Object([&](std::string_view mkey) {
        if (FieldIs(mkey, "name")) {
          Decoder::Scope s2(&d, "name");
          return d.String(&pod->name);
        }
        if (FieldIs(mkey, "namespace")) {
          Decoder::Scope s2(&d, "namespace");
          return d.String(&pod->namespace_);
        }
        if (FieldIs(mkey, "uid")) {
          Decoder::Scope s2(&d, "uid");
          return d.String(&pod->uid);
        }
        if (FieldIs(mkey, "labels")) {
          Decoder::Scope s2(&d, "labels");
          return d.StringMap(&pod->labels);
        }
        if (FieldIs(mkey, "annotations")) {
          Decoder::Scope s2(&d, "annotations");
          return d.StringMap(&pod->annotations);
        }
        return d.Skip();
      });
    }
    if (FieldIs(key, "spec")) {
      Decoder::Scope s(&d, "spec");
      return d.Object([&](std::string_view skey) {
        if (FieldIs(skey, "schedulerName")) {
          Decoder::Scope s2(&d, "schedulerName");
          return d.String(&pod->scheduler_name);
        }
        if (FieldIs(skey, "containers")) {
          Decoder::Scope s2(&d, "containers");
          return DecodeContainers(d, &pod->containers);
        }
        if (FieldIs(skey, "initContainers")) {
          Decoder::Scope s2(&d, "initContainers");
          return DecodeContainers(d, &pod->init_containers);
        }
        return d.Skip();
      });
    }
    return d.Skip();
  });
}

// --- Nodes ---

bool DecodeConditions(Decoder& d, std::map<std::string, std::string>* out) {
  return d.Array([&] { out->clear(); },
                 [&](std::size_t) {
                   std::string type;
                   std::string status;
                   const bool ok = d.Object([&](std::string_view key) {
                     if (FieldIs(key, "type")) {
                       Decoder::Scope s(&d, "type");
                       return d.String(&type);
                     }
                     if (FieldIs(key, "status")) {
                       Decoder::Scope s(&d, "status");
                       return d.String(&status);
                     }
                     return d.Skip();
                   });
                   if (ok && !type.empty()) (*out)[type] = status;
                   return ok;
                 });
}

bool DecodeNode(Decoder& d, ExtenderNode* node) {
  return d.Object([&](std::string_view key) {
    if (FieldIs(key, "metadata")) {
      Decoder::Scope s(&d, "metadata");
      return d.Object([&](std::string_view mkey) {
        if (FieldIs(mkey, "name")) {
          Decoder::Scope s2(&d, "name");
          return d.String(&node->name);
        }
        if (FieldIs(mkey, "labels")) {
          Decoder::Scope s2(&d, "labels");
          return d.StringMap(&node->labels);
        }
        return d.Skip();
      });
    }
    if (FieldIs(key, "spec")) {
      Decoder::Scope s(&d, "spec");
      return d.Object([&](std::string_view skey) {
        if (FieldIs(skey, "unschedulable")) {
          Decoder::Scope s2(&d, "unschedulable");
          return d.Bool(&node->unschedulable);
        }
        return d.Skip();
      });
    }
    if (FieldIs(key, "status")) {
      Decoder::Scope s(&d, "status");
      return d.Object([&](std::string_view skey) {
        if (FieldIs(skey, "capacity")) {
          Decoder::Scope s2(&d, "capacity");
          return d.Quantities(&node->capacity);
        }
        if (FieldIs(skey, "allocatable")) {
          Decoder::Scope s2(&d, "allocatable");
          return d.Quantities(&node->allocatable);
        }
        if (FieldIs(skey, "conditions")) {
          Decoder::Scope s2(&d, "conditions");
          return DecodeConditions(d, &node->conditions);
        }
        return d.Skip();
      });
    }
    return d.Skip();
  });
}

// v1.NodeList: only its items matter.
bool DecodeNodeList(Decoder& d, std::vector<ExtenderNode>* nodes) {
  return d.Object([&](std::string_view key) {
    if (!FieldIs(key, "items")) return d.Skip();
    Decoder::Scope s(&d, "items");
    return d.Array([&] { nodes->clear(); },
                   [&](std::size_t) {
                     ExtenderNode& node = nodes->emplace_back();
                     JsonReader& r = d.reader();
                     const std::size_t begin = r.SkipWhitespace();
                     if (!DecodeNode(d, &node)) return false;
                     node.raw_json.assign(r.text().substr(begin, r.offset() - begin));
                     if (node.name.empty()) {
                       Decoder::Scope s1(&d, "metadata");
                       Decoder::Scope s2(&d, "name");
                       return d.Fail("required");
                     }
                     return true;
                   });
  });
}

// Reuses the strings already in *names (their capacity), so a server decoding request after
// request into one ExtenderArgs allocates nothing for names it has seen lengths of before.
bool DecodeNodeNames(Decoder& d, std::vector<std::string>* names) {
  std::size_t count = 0;
  const bool ok = d.Array([] {},
                          [&](std::size_t) {
                            if (count == names->size()) names->emplace_back();
                            std::string& name = (*names)[count++];
                            name.clear();
                            if (!d.String(&name)) return false;
                            return !name.empty() || d.Fail("must be a non-empty node name");
                          });
  names->resize(count);
  return ok;
}

// `spare`: storage for NodeNames (its capacity is reused), or null.
bool DecodeArgs(Decoder& d, ExtenderArgs* args, std::vector<std::string>* spare = nullptr) {
  bool has_pod = false;
  const bool ok = d.Object([&](std::string_view key) {
    if (FieldIs(key, "Pod")) {
      Decoder::Scope s(&d, "Pod");
      if (d.Peek() == Type::kNull) {
        has_pod = false;
        args->pod = ExtenderPod{};
        return d.Null();
      }
      has_pod = true;
      return DecodePod(d, &args->pod);
    }
    if (FieldIs(key, "Nodes")) {
      Decoder::Scope s(&d, "Nodes");
      if (d.Peek() == Type::kNull) {
        args->nodes.reset();
        return d.Null();
      }
      if (!args->nodes) args->nodes.emplace();
      return DecodeNodeList(d, &*args->nodes);
    }
    if (FieldIs(key, "NodeNames")) {
      Decoder::Scope s(&d, "NodeNames");
      if (d.Peek() == Type::kNull) {
        args->node_names.reset();
        return d.Null();
      }
      if (!args->node_names) {
        args->node_names.emplace();
        if (spare != nullptr) args->node_names->swap(*spare);
      }
      return DecodeNodeNames(d, &*args->node_names);
    }
    return d.Skip();
  });
  if (!ok || !d.AtEnd()) return false;
  if (!has_pod) {
    Decoder::Scope s(&d, "Pod");
    return d.Fail("required");
  }
  if (args->pod.name.empty()) {
    Decoder::Scope s1(&d, "Pod");
    Decoder::Scope s2(&d, "metadata");
    Decoder::Scope s3(&d, "name");
    return d.Fail("required");
  }
  if (args->pod.namespace_.empty()) {
    Decoder::Scope s1(&d, "Pod");
    Decoder::Scope s2(&d, "metadata");
    Decoder::Scope s3(&d, "namespace");
    return d.Fail("required");
  }
  if (!args->nodes && !args->node_names) {
    return d.Fail("one of NodeNames or Nodes is required (both are null or absent)");
  }
  return true;
}

bool DecodeBindingArgs(Decoder& d, ExtenderBindingArgs* args) {
  const bool ok = d.Object([&](std::string_view key) {
    if (FieldIs(key, "PodName")) {
      Decoder::Scope s(&d, "PodName");
      return d.String(&args->pod_name);
    }
    if (FieldIs(key, "PodNamespace")) {
      Decoder::Scope s(&d, "PodNamespace");
      return d.String(&args->pod_namespace);
    }
    if (FieldIs(key, "PodUID")) {
      Decoder::Scope s(&d, "PodUID");
      return d.String(&args->pod_uid);
    }
    if (FieldIs(key, "Node")) {
      Decoder::Scope s(&d, "Node");
      return d.String(&args->node);
    }
    return d.Skip();
  });
  if (!ok || !d.AtEnd()) return false;
  for (auto [field, value] :
       {std::pair<const char*, const std::string*>{"PodName", &args->pod_name},
        {"PodNamespace", &args->pod_namespace},
        {"Node", &args->node}}) {
    if (value->empty()) {
      Decoder::Scope s(&d, field);
      return d.Fail("required");
    }
  }
  return true;
}

// --- encoding ---

void AppendStringList(const std::vector<std::string>& list, std::string* out) {
  out->push_back('[');
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (i > 0) out->push_back(',');
    AppendGoJsonQuoted(list[i], out);
  }
  out->push_back(']');
}

// The first of `passed` that is not one of `candidates`, or nullptr. Handlers pass nodes in
// candidate order, which one merge-like walk checks; any other order takes a hash set.
const std::string* NotACandidate(const std::vector<std::string>& passed,
                                 const std::vector<std::string>& candidates) {
  std::size_t c = 0;
  std::size_t p = 0;
  for (; p < passed.size(); ++p, ++c) {
    while (c < candidates.size() && candidates[c] != passed[p]) ++c;
    if (c == candidates.size()) break;
  }
  if (p == passed.size()) return nullptr;
  const std::unordered_set<std::string_view> set(candidates.begin(), candidates.end());
  for (const std::string& name : passed) {
    if (!set.contains(name)) return &name;
  }
  return nullptr;
}

void AppendFailedNodes(const FailedNodesMap& map, std::string* out) {
  out->push_back('{');
  bool first = true;
  // Reasons repeat from node to node (every L4 node "is not" the H100 a stage wants): each run
  // of equal reasons is escaped once.
  const std::string* last_reason = nullptr;
  std::string quoted_reason;
  for (const auto& [node, reason] : map) {  // std::map: sorted by bytes, as Go sorts map keys
    if (!first) out->push_back(',');
    first = false;
    AppendGoJsonQuoted(node, out);
    out->push_back(':');
    if (last_reason == nullptr || *last_reason != reason) {
      quoted_reason.clear();
      AppendGoJsonQuoted(reason, &quoted_reason);
      last_reason = &reason;
    }
    *out += quoted_reason;
  }
  out->push_back('}');
}

}  // namespace

std::vector<std::string> ExtenderArgs::CandidateNames() const {
  if (node_names) return *node_names;
  std::vector<std::string> names;
  if (nodes) {
    names.reserve(nodes->size());
    for (const ExtenderNode& n : *nodes) names.push_back(n.name);
  }
  return names;
}

StatusOr<ExtenderArgs> DecodeExtenderArgs(std::string_view body) {
  Decoder d(body, "ExtenderArgs");
  ExtenderArgs args;
  if (!DecodeArgs(d, &args)) return d.status();
  return args;
}

Status DecodeExtenderArgs(std::string_view body, ExtenderArgs* args) {
  std::vector<std::string> spare;
  if (args->node_names) spare.swap(*args->node_names);
  *args = ExtenderArgs{};
  Decoder d(body, "ExtenderArgs");
  if (!DecodeArgs(d, args, &spare)) return d.status();
  return Status::Ok();
}

StatusOr<ExtenderBindingArgs> DecodeExtenderBindingArgs(std::string_view body) {
  Decoder d(body, "ExtenderBindingArgs");
  ExtenderBindingArgs args;
  if (!DecodeBindingArgs(d, &args)) return d.status();
  return args;
}

StatusOr<std::string> EncodeFilterResult(const ExtenderFilterResult& result,
                                         const ExtenderArgs& request) {
  std::string out = "{\"Nodes\":";
  if (request.form() == NodeForm::kNodes) {
    std::unordered_map<std::string_view, const ExtenderNode*> by_name;
    if (request.nodes) {
      by_name.reserve(request.nodes->size());
      for (const ExtenderNode& n : *request.nodes) by_name.emplace(n.name, &n);
    }
    out += "{\"metadata\":{},\"items\":[";
    for (std::size_t i = 0; i < result.passed.size(); ++i) {
      auto it = by_name.find(result.passed[i]);
      if (it == by_name.end()) {
        return Status::Internal("ExtenderFilterResult: node " + GoJsonQuote(result.passed[i]) +
                                " was not a candidate");
      }
      if (i > 0) out.push_back(',');
      out += it->second->raw_json;
    }
    out += "]},\"NodeNames\":null";
  } else {
    if (const std::string* stranger = NotACandidate(result.passed, *request.node_names)) {
      return Status::Internal("ExtenderFilterResult: node " + GoJsonQuote(*stranger) +
                              " was not a candidate");
    }
    out += "null,\"NodeNames\":";
    AppendStringList(result.passed, &out);
  }
  out += ",\"FailedNodes\":";
  AppendFailedNodes(result.failed_nodes, &out);
  out += ",\"FailedAndUnresolvableNodes\":";
  AppendFailedNodes(result.failed_and_unresolvable_nodes, &out);
  out += ",\"Error\":";
  out += GoJsonQuote(result.error);
  out.push_back('}');
  return out;
}

std::string EncodeFilterError(std::string_view message) {
  return "{\"Nodes\":null,\"NodeNames\":null,\"FailedNodes\":null,"
         "\"FailedAndUnresolvableNodes\":null,\"Error\":" +
         GoJsonQuote(message) + "}";
}

std::string EncodeHostPriorityList(const HostPriorityList& list) {
  std::string out = "[";
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (i > 0) out.push_back(',');
    out += "{\"Host\":";
    AppendGoJsonQuoted(list[i].host, &out);
    out += ",\"Score\":";
    char digits[24];
    auto [end, ec] = std::to_chars(digits, digits + sizeof digits, list[i].score);
    out.append(digits, end);
    out.push_back('}');
  }
  out.push_back(']');
  return out;
}

std::string EncodeBindingResult(std::string_view error) {
  return "{\"Error\":" + GoJsonQuote(error) + "}";
}

std::string EncodeErrorBody(std::string_view message) {
  return "{\"Error\":" + GoJsonQuote(message) + "}";
}

void AppendGoJsonQuoted(std::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  // Bytes Go's encoder copies as they are: printable ASCII but " \\ < > &.
  static constexpr auto kPlain = [] {
    std::array<bool, 256> plain{};
    for (int c = 0x20; c < 0x80; ++c) plain[c] = true;
    for (unsigned char c : {'"', '\\', '<', '>', '&'}) plain[c] = false;
    return plain;
  }();
  out->reserve(out->size() + s.size() + 2);
  out->push_back('"');
  for (std::size_t i = 0; i < s.size();) {
    // Fast path: a run of printable ASCII that needs no escape is copied in one go (node names
    // and reasons are all such runs).
    std::size_t run = i;
    while (run < s.size()) {
      if (!kPlain[static_cast<unsigned char>(s[run])]) break;
      ++run;
    }
    if (run > i) {
      out->append(s.data() + i, run - i);
      i = run;
      continue;
    }
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      if (c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&') {
        out->push_back(static_cast<char>(c));
        continue;
      }
      switch (c) {
        case '"':
          *out += "\\\"";
          break;
        case '\\':
          *out += "\\\\";
          break;
        case '\b':
          *out += "\\b";
          break;
        case '\f':
          *out += "\\f";
          break;
        case '\n':
          *out += "\\n";
          break;
        case '\r':
          *out += "\\r";
          break;
        case '\t':
          *out += "\\t";
          break;
        default:  // other control characters, and the HTML-sensitive < > &
          *out += "\\u00";
          out->push_back(kHex[c >> 4]);
          out->push_back(kHex[c & 0xF]);
      }
      continue;
    }
    const std::size_t len = Utf8SequenceLength(s, i);
    if (len == 0) {
      *out += "\\ufffd";  // Go replaces each invalid byte
      ++i;
      continue;
    }
    if (len == 3 && c == 0xE2 && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
        (static_cast<unsigned char>(s[i + 2]) & 0xFE) == 0xA8) {
      *out += static_cast<unsigned char>(s[i + 2]) == 0xA8 ? "\\u2028" : "\\u2029";
    } else {
      out->append(s.substr(i, len));
    }
    i += len;
  }
  out->push_back('"');
}

std::string GoJsonQuote(std::string_view s) {
  std::string out;
  AppendGoJsonQuoted(s, &out);
  return out;
}

}  // namespace aidi::extender
