#include "devcluster/crd_types.h"

#include "devcluster/crd/printer_columns.h"

using nlohmann::json;

namespace aidi::devcluster {

StatusOr<std::vector<ResourceTypePtr>> ResourceTypesForCrd(const json& crd) {
  std::vector<ResourceTypePtr> out;
  const json& spec = crd["spec"];
  const json& names = spec["names"];
  for (const json& v : spec["versions"]) {
    if (!v.value("served", true)) continue;
    auto t = std::make_shared<ResourceType>();
    t->group = spec.value("group", "");
    t->version = v.value("name", "");
    t->kind = names.value("kind", "");
    t->list_kind = names.value("listKind", t->kind + "List");
    t->plural = names.value("plural", "");
    t->singular = names.value("singular", "");
    t->short_names = names.value("shortNames", std::vector<std::string>{});
    t->categories = names.value("categories", std::vector<std::string>{});
    t->namespaced = spec.value("scope", "Namespaced") == "Namespaced";
    t->has_status = v.contains("/subresources/status"_json_pointer);
    if (v.contains("/subresources/scale"_json_pointer)) {
      const json& scale = v.at("/subresources/scale"_json_pointer);
      t->spec_replicas_path = scale.value("specReplicasPath", "");
      t->status_replicas_path = scale.value("statusReplicasPath", "");
      t->label_selector_path = scale.value("labelSelectorPath", "");
    }
    t->has_generation = true;
    t->return_deleted_object = true;
    t->stored = v.value("storage", false);
    t->crd_name = crd["metadata"].value("name", "");
    t->crd_version = v;
    if (v.contains("/schema/openAPIV3Schema"_json_pointer)) {
      auto schema = StructuralSchema::Parse(v.at("/schema/openAPIV3Schema"_json_pointer));
      if (!schema.ok()) return schema.status();
      t->schema = std::move(schema).value();
    }
    if (v.contains("selectableFields") && v["selectableFields"].is_array()) {
      for (const json& f : v["selectableFields"]) {
        std::string path = f.value("jsonPath", "");
        if (!path.empty() && path[0] == '.') path = path.substr(1);
        if (!path.empty()) t->selectable_fields.push_back(path);
      }
    }
    // The lambdas keep their own copy of this version's definition (the CRD object may go).
    t->strategy.table_columns = [version = v] { return TableColumnsFor(version); };
    t->strategy.table_cells = [version = v](const json& obj, Clock::WallTime now) {
      return TableCellsFor(version, obj, now);
    };
    out.push_back(std::move(t));
  }
  return out;
}

json EstablishedCrdStatus(const json& crd, const std::string& now) {
  json status = crd.value("status", json::object());
  json names = crd["spec"]["names"];
  status["acceptedNames"] = names;
  json conditions = json::array();
  conditions.push_back({{"type", "NamesAccepted"},
                        {"status", "True"},
                        {"lastTransitionTime", now},
                        {"reason", "NoConflicts"},
                        {"message", "no conflicts found"}});
  conditions.push_back({{"type", "Established"},
                        {"status", "True"},
                        {"lastTransitionTime", now},
                        {"reason", "InitialNamesAccepted"},
                        {"message", "the initial names have been accepted"}});
  // Keep transition times of conditions that already held.
  if (crd.contains("/status/conditions"_json_pointer)) {
    for (json& c : conditions) {
      for (const json& old : crd.at("/status/conditions"_json_pointer)) {
        if (old.value("type", "") == c["type"] && old.value("status", "") == c["status"]) {
          c["lastTransitionTime"] = old.value("lastTransitionTime", now);
        }
      }
    }
  }
  status["conditions"] = conditions;
  std::vector<std::string> stored;
  for (const json& v : crd["spec"]["versions"]) {
    if (v.value("storage", false)) stored.push_back(v.value("name", ""));
  }
  status["storedVersions"] = stored;
  return status;
}

}  // namespace aidi::devcluster
