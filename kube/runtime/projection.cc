#include "kube/runtime/projection.h"

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>

namespace aidi::kube {

using nlohmann::json;

struct Projection::Node {
  struct Child;
  bool keep_all = false;
  std::vector<Child> children;  // sorted by name

  Node* Descend(std::string_view name);
};

struct Projection::Node::Child {
  std::string name;
  Node node;
};

Projection::Node* Projection::Node::Descend(std::string_view name) {
  auto it = std::lower_bound(children.begin(), children.end(), name,
                             [](const Child& c, std::string_view n) { return c.name < n; });
  if (it == children.end() || it->name != name) {
    it = children.insert(it, Child{std::string(name), Node{}});
  }
  return &it->node;
}

namespace {

constexpr std::string_view kLastApplied = "kubectl.kubernetes.io/last-applied-configuration";

// Kept by every projection: see the header for why each is needed.
constexpr std::string_view kAlwaysKept[] = {
    "apiVersion",
    "kind",
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "metadata.resourceVersion",
    "metadata.generation",
    "metadata.creationTimestamp",
    "metadata.deletionTimestamp",
    "metadata.labels",
    "metadata.ownerReferences",
    "metadata.finalizers",
};

bool IsFieldChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '$';
}

// Splits "a.b[].c" into {"a", "b", "c"}; an error names what is wrong with the path.
StatusOr<std::vector<std::string>> SplitPath(const std::string& path) {
  auto bad = [&path](std::string_view why) {
    return Status::InvalidArgument("projection path \"" + path + "\": " + std::string(why));
  };
  if (path.empty()) return bad("empty path");
  std::vector<std::string> steps;
  std::size_t start = 0;
  while (true) {
    std::size_t dot = path.find('.', start);
    std::string_view step(path.data() + start,
                          (dot == std::string::npos ? path.size() : dot) - start);
    if (step.size() >= 2 && step.substr(step.size() - 2) == "[]") step.remove_suffix(2);
    if (step.empty()) return bad("empty step");
    for (char c : step) {
      if (c == '[' || c == ']') return bad("`[]` may only end a step");
      if (c == '*') return bad("`*` is only allowed as the whole path");
      if (!IsFieldChar(c)) {
        return bad(std::string("character '") + c + "' is not allowed in a field name");
      }
    }
    steps.emplace_back(step);
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  if (steps.size() >= 2 && steps[0] == "metadata" && steps[1] == "managedFields") {
    return bad("metadata.managedFields is always stripped");
  }
  return steps;
}

void AddPath(Projection::Node& root, const std::vector<std::string>& steps) {
  Projection::Node* node = &root;
  for (const std::string& step : steps) {
    if (node->keep_all) return;  // an ancestor already keeps everything below it
    node = node->Descend(step);
  }
  node->keep_all = true;
  node->children.clear();
}

// Removes managedFields and the last-applied annotation from a projected object.
void Strip(json& object) {
  auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) return;
  meta->erase("managedFields");
  auto annotations = meta->find("annotations");
  if (annotations == meta->end() || !annotations->is_object()) return;
  if (annotations->erase(std::string(kLastApplied)) > 0 && annotations->empty()) {
    meta->erase(annotations);
  }
}

// The part of `value` that `node` selects; nullopt when nothing of it is selected. With kMove the
// kept leaves are moved out of `value` instead of copied.
template <bool kMove>
std::optional<json> Select(std::conditional_t<kMove, json&, const json&> value,
                           const Projection::Node& node) {
  if (node.keep_all) {
    if constexpr (kMove) {
      return std::move(value);
    } else {
      return value;
    }
  }
  if (value.is_array()) {
    // Through an array the rest of the path applies to each element; positions are kept, so an
    // element with none of the fields becomes {} and a scalar element stays as it is.
    json out = json::array();
    for (auto& element : value) {
      if (element.is_object()) {
        std::optional<json> kept = Select<kMove>(element, node);
        out.push_back(kept ? std::move(*kept) : json::object());
      } else if constexpr (kMove) {
        out.push_back(std::move(element));
      } else {
        out.push_back(element);
      }
    }
    return out;
  }
  if (!value.is_object()) return std::nullopt;  // the path goes deeper than the data
  json out = json::object();
  for (const auto& child : node.children) {
    auto it = value.find(child.name);
    if (it == value.end()) continue;
    std::optional<json> kept = Select<kMove>(*it, child.node);
    if (kept) out.emplace(child.name, std::move(*kept));
  }
  if (out.empty()) return std::nullopt;
  return out;
}

}  // namespace

Projection::Projection() = default;

StatusOr<Projection> Projection::Parse(const std::vector<std::string>& paths) {
  Projection projection;
  if (paths.empty()) return projection;
  if (std::find(paths.begin(), paths.end(), "*") != paths.end()) {
    if (std::any_of(paths.begin(), paths.end(), [](const std::string& p) { return p != "*"; })) {
      return Status::InvalidArgument(
          "projection path \"*\" (the whole object) cannot be combined "
          "with other paths");
    }
    return projection;
  }
  auto root = std::make_shared<Node>();
  for (std::string_view kept : kAlwaysKept) {
    auto steps = SplitPath(std::string(kept));
    // The list above is ours and well formed; a failure here is a bug in this file.
    if (!steps.ok()) std::abort();
    AddPath(*root, *steps);
  }
  for (const std::string& path : paths) {
    AIDI_ASSIGN_OR_RETURN(std::vector<std::string> steps, SplitPath(path));
    AddPath(*root, steps);
  }
  projection.root_ = std::move(root);
  projection.paths_ = paths;
  std::sort(projection.paths_.begin(), projection.paths_.end());
  projection.paths_.erase(std::unique(projection.paths_.begin(), projection.paths_.end()),
                          projection.paths_.end());
  return projection;
}

json Projection::Apply(const json& full) const {
  if (!full.is_object()) return full;
  if (whole()) {
    json out = full;
    Strip(out);
    return out;
  }
  json out = Select<false>(full, *root_).value_or(json::object());
  Strip(out);
  return out;
}

json Projection::Apply(json&& full) const {
  if (!full.is_object()) return std::move(full);
  if (whole()) {
    Strip(full);
    return std::move(full);
  }
  json out = Select<true>(full, *root_).value_or(json::object());
  Strip(out);
  return out;
}

std::string Projection::ToString() const {
  if (whole()) return "*";
  std::string out;
  for (const std::string& path : paths_) {
    if (!out.empty()) out += ", ";
    out += path;
  }
  return out;
}

}  // namespace aidi::kube
