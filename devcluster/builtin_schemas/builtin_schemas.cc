#include "devcluster/builtin_schemas/builtin_schemas.h"

#include <algorithm>
#include <cstddef>
#include <map>
#include <vector>

using nlohmann::json;

namespace aidi::devcluster {
namespace builtin_schemas_internal {
extern const char* const kJsonChunks[];
extern const std::size_t kJsonChunkCount;
}  // namespace builtin_schemas_internal

namespace {

constexpr const char* kObjectMeta = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";

std::string Key(const std::string& group, const std::string& version, const std::string& kind) {
  return group + "/" + version + "/" + kind;
}

// Inlines {"$ref": name, siblings...} (the siblings override the definition's keys) and drops
// descriptions. `stack` holds the definitions being expanded: a reference back to one of them is
// cut off as preserve-unknown.
json Expand(const json& node, const json& defs, std::vector<std::string>& stack) {
  if (!node.is_object()) return node;
  json out = json::object();
  if (auto ref = node.find("$ref"); ref != node.end()) {
    const std::string name = ref->get<std::string>();
    if (std::find(stack.begin(), stack.end(), name) != stack.end()) {
      out = {{"x-kubernetes-preserve-unknown-fields", true}};
    } else {
      stack.push_back(name);
      out = Expand(defs.at(name), defs, stack);
      stack.pop_back();
    }
    for (auto it = node.begin(); it != node.end(); ++it) {
      if (it.key() != "$ref" && it.key() != "description") out[it.key()] = it.value();
    }
    return out;
  }
  for (auto it = node.begin(); it != node.end(); ++it) {
    const std::string& k = it.key();
    if (k == "description" || k == "x-kubernetes-group-version-kind") continue;
    if (k == "properties" && it.value().is_object()) {
      json props = json::object();
      for (auto p = it.value().begin(); p != it.value().end(); ++p) {
        props[p.key()] = Expand(p.value(), defs, stack);
      }
      out[k] = std::move(props);
    } else if (k == "items" || k == "additionalProperties") {
      out[k] = Expand(it.value(), defs, stack);
    } else {
      out[k] = it.value();
    }
  }
  return out;
}

struct Index {
  json document;
  std::map<std::string, json> by_gvk;
  json object_meta;
};

const Index& GetIndex() {
  static const Index* index = [] {
    auto* idx = new Index;
    std::string text;
    for (std::size_t i = 0; i < builtin_schemas_internal::kJsonChunkCount; ++i) {
      text += builtin_schemas_internal::kJsonChunks[i];
    }
    idx->document = json::parse(text);
    const json& defs = idx->document.at("definitions");
    for (const json& k : idx->document.at("kinds")) {
      std::vector<std::string> stack;
      idx->by_gvk[Key(k.at("group"), k.at("version"), k.at("kind"))] =
          Expand(json{{"$ref", k.at("definition")}}, defs, stack);
    }
    std::vector<std::string> stack;
    idx->object_meta = Expand(json{{"$ref", kObjectMeta}}, defs, stack);
    return idx;
  }();
  return *index;
}

}  // namespace

const json& BuiltinSchemas() { return GetIndex().document; }

const json* BuiltinSchemaFor(const std::string& group, const std::string& version,
                             const std::string& kind) {
  const auto& by_gvk = GetIndex().by_gvk;
  auto it = by_gvk.find(Key(group, version, kind));
  return it == by_gvk.end() ? nullptr : &it->second;
}

const json& BuiltinObjectMetaSchema() { return GetIndex().object_meta; }

}  // namespace aidi::devcluster
