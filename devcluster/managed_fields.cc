#include "devcluster/managed_fields.h"

#include <algorithm>
#include <map>
#include <set>

using nlohmann::json;

namespace aidi::devcluster {
namespace {

// Server-managed or identity fields nobody owns.
bool Unowned(const std::vector<std::string>& path) {
  if (path.size() == 1 && (path[0] == "apiVersion" || path[0] == "kind" || path[0] == "status")) {
    return true;
  }
  if (path.size() == 2 && path[0] == "metadata") {
    static const std::set<std::string> kServer = {"name",
                                                  "namespace",
                                                  "uid",
                                                  "resourceVersion",
                                                  "generation",
                                                  "creationTimestamp",
                                                  "deletionTimestamp",
                                                  "deletionGracePeriodSeconds",
                                                  "managedFields",
                                                  "selfLink",
                                                  "generateName"};
    return kServer.count(path[1]) > 0;
  }
  return false;
}

// Fills `set` with the owned fields under `v`; false when nothing under it is owned (an object
// whose fields are all server-managed, such as metadata with only a name).
bool Collect(const json& v, std::vector<std::string>& path, json& set) {
  set = json::object();
  if (!v.is_object() || v.empty()) return true;  // leaf: scalars, lists (atomic), empty objects
  for (auto& [k, child] : v.items()) {
    path.push_back(k);
    json sub;
    if (!Unowned(path) && Collect(child, path, sub)) set["f:" + k] = std::move(sub);
    path.pop_back();
  }
  return !set.empty();
}

// Internally a path joins its keys with kSep, a byte no key contains in practice; keys may contain
// dots (annotations such as kubectl.kubernetes.io/last-applied-configuration), so dotted paths
// are only for messages.
constexpr char kSep = '\x1f';

std::string Dotted(std::string p) {
  std::replace(p.begin(), p.end(), kSep, '.');
  return p;
}

void Paths(const json& set, const std::string& prefix, std::vector<std::string>& out) {
  if (set.empty()) {
    if (!prefix.empty()) out.push_back(prefix);
    return;
  }
  for (auto& [k, child] : set.items()) {
    if (k.rfind("f:", 0) == 0) Paths(child, prefix + kSep + k.substr(2), out);
  }
}

json::json_pointer Pointer(const std::string& path) {
  const std::string& dotted = path;
  std::string p;
  std::size_t start = 1;
  while (start <= dotted.size()) {
    std::size_t dot = dotted.find(kSep, start);
    std::string part =
        dotted.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    std::string escaped;
    for (char c : part) escaped += c == '~' ? "~0" : c == '/' ? "~1" : std::string(1, c);
    p += "/" + escaped;
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return json::json_pointer(p);
}

const json* At(const json& obj, const std::string& dotted) {
  auto ptr = Pointer(dotted);
  return obj.contains(ptr) ? &obj.at(ptr) : nullptr;
}

// Entries keyed by manager + operation, in their stored order.
struct Entry {
  ManagerWrite who;
  std::set<std::string> paths;
};

std::vector<Entry> ReadEntries(const json& obj) {
  std::vector<Entry> out;
  if (!obj.is_object() || !obj.contains("/metadata/managedFields"_json_pointer)) return out;
  for (const json& e : obj.at("/metadata/managedFields"_json_pointer)) {
    if (!e.is_object()) continue;
    Entry entry;
    entry.who = {e.value("manager", ""), e.value("operation", "Update"), e.value("apiVersion", ""),
                 e.value("time", "")};
    std::vector<std::string> paths;
    if (e.contains("fieldsV1")) Paths(e["fieldsV1"], "", paths);
    entry.paths.insert(paths.begin(), paths.end());
    out.push_back(std::move(entry));
  }
  return out;
}

json ToFieldSet(const std::set<std::string>& paths) {
  json set = json::object();
  for (const auto& p : paths) {
    json* node = &set;
    std::size_t start = 1;
    while (start <= p.size()) {
      std::size_t dot = p.find(kSep, start);
      std::string part =
          p.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
      node = &(*node)["f:" + part];
      if (!node->is_object()) *node = json::object();
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
  }
  return set;
}

void WriteEntries(json& obj, const std::vector<Entry>& entries) {
  json arr = json::array();
  for (const auto& e : entries) {
    if (e.paths.empty()) continue;
    arr.push_back({{"manager", e.who.manager},
                   {"operation", e.who.operation},
                   {"apiVersion", e.who.api_version},
                   {"time", e.who.time},
                   {"fieldsType", "FieldsV1"},
                   {"fieldsV1", ToFieldSet(e.paths)}});
  }
  if (arr.empty()) {
    obj["metadata"].erase("managedFields");
  } else {
    obj["metadata"]["managedFields"] = arr;
  }
}

Entry& EntryFor(std::vector<Entry>& entries, const ManagerWrite& w) {
  for (auto& e : entries) {
    if (e.who.manager == w.manager && e.who.operation == w.operation) {
      e.who = w;
      return e;
    }
  }
  entries.push_back({w, {}});
  return entries.back();
}

// True when `path` is `owned` or lies under/over it (one contains the other).
bool Overlaps(const std::string& a, const std::string& b) {
  auto under = [](const std::string& x, const std::string& y) {
    return x.size() > y.size() && x.compare(0, y.size(), y) == 0 && x[y.size()] == kSep;
  };
  return a == b || under(a, b) || under(b, a);
}

std::vector<std::string> InternalPaths(const json& set) {
  std::vector<std::string> out;
  Paths(set, "", out);
  return out;
}

}  // namespace

json FieldSetOf(const json& obj) {
  std::vector<std::string> path;
  json set;
  if (!Collect(obj, path, set)) return json::object();
  return set;
}

std::vector<std::string> FieldPaths(const json& set) {
  std::vector<std::string> out;
  Paths(set, "", out);
  for (auto& p : out) p = Dotted(p);
  return out;
}

void RecordUpdate(const json& old, json& updated, const ManagerWrite& w) {
  std::vector<Entry> entries = ReadEntries(old.is_null() ? updated : old);
  std::set<std::string> changed;
  for (const auto& p : InternalPaths(FieldSetOf(updated))) {
    const json* before = old.is_null() ? nullptr : At(old, p);
    const json* after = At(updated, p);
    if (!before || !after || *before != *after) changed.insert(p);
  }
  // Fields that went away are no longer owned by anyone.
  std::set<std::string> present;
  for (const auto& p : InternalPaths(FieldSetOf(updated))) present.insert(p);
  for (auto& e : entries) {
    for (auto it = e.paths.begin(); it != e.paths.end();) {
      bool gone = !present.count(*it);
      bool taken = false;
      for (const auto& c : changed) taken |= Overlaps(*it, c);
      it = (gone || (taken && !(e.who.manager == w.manager && e.who.operation == w.operation)))
               ? e.paths.erase(it)
               : std::next(it);
    }
  }
  if (!changed.empty()) EntryFor(entries, w).paths.insert(changed.begin(), changed.end());
  WriteEntries(updated, entries);
}

std::vector<ApplyConflict> Apply(const json& live, const json& applied, const ManagerWrite& w,
                                 bool force, json& out) {
  std::vector<Entry> entries = ReadEntries(live);
  std::vector<std::string> applied_paths = InternalPaths(FieldSetOf(applied));
  std::vector<ApplyConflict> conflicts;
  if (!live.is_null()) {
    for (const auto& e : entries) {
      if (e.who.manager == w.manager && e.who.operation == "Apply") continue;
      for (const auto& owned : e.paths) {
        for (const auto& p : applied_paths) {
          if (!Overlaps(owned, p)) continue;
          const json* mine = At(applied, p);
          const json* theirs = At(live, p);
          if (mine && theirs && *mine == *theirs) continue;  // same value: shared ownership
          conflicts.push_back({e.who.manager, e.who.api_version, p});
        }
      }
    }
  }
  if (!conflicts.empty() && !force) {
    for (auto& c : conflicts) c.path = Dotted(c.path);
    return conflicts;
  }

  out = live.is_null() ? json::object() : live;
  // Fields this manager applied last time but not now are removed, unless someone else owns them.
  std::set<std::string> previous;
  for (const auto& e : entries) {
    if (e.who.manager == w.manager && e.who.operation == "Apply") previous = e.paths;
  }
  std::set<std::string> now(applied_paths.begin(), applied_paths.end());
  for (const auto& p : previous) {
    if (now.count(p)) continue;
    bool shared = false;
    for (const auto& e : entries) {
      if (e.who.manager == w.manager && e.who.operation == "Apply") continue;
      for (const auto& o : e.paths) shared |= Overlaps(o, p);
    }
    if (shared) continue;
    auto ptr = Pointer(p);
    if (out.contains(ptr)) out.at(ptr.parent_pointer()).erase(ptr.back());
  }
  for (const auto& p : applied_paths) out[Pointer(p)] = *At(applied, p);
  for (const char* f : {"apiVersion", "kind"}) {
    if (applied.contains(f)) out[f] = applied[f];
  }
  // Ownership: this manager owns what it applied; forced fields leave their old owners.
  for (auto& e : entries) {
    if (e.who.manager == w.manager && e.who.operation == "Apply") continue;
    for (auto it = e.paths.begin(); it != e.paths.end();) {
      bool lost = false;
      for (const auto& c : conflicts) lost |= Overlaps(*it, c.path) && c.manager == e.who.manager;
      it = lost ? e.paths.erase(it) : std::next(it);
    }
  }
  EntryFor(entries, w).paths = now;
  WriteEntries(out, entries);
  return {};
}

std::string ConflictMessage(const std::vector<ApplyConflict>& conflicts) {
  std::map<std::pair<std::string, std::string>, std::vector<std::string>> by_manager;
  for (const auto& c : conflicts) by_manager[{c.manager, c.api_version}].push_back(Dotted(c.path));
  std::string msg = "Apply failed with " + std::to_string(conflicts.size()) +
                    (conflicts.size() == 1 ? " conflict: " : " conflicts: ");
  bool first = true;
  for (const auto& [who, paths] : by_manager) {
    if (!first) msg += "\n";
    first = false;
    if (paths.size() == 1) {
      msg += "conflict with \"" + who.first + "\" using " + who.second + ": " + paths[0];
    } else {
      msg += "conflicts with \"" + who.first + "\" using " + who.second + ":";
      for (const auto& p : paths) msg += "\n- " + p;
    }
  }
  return msg;
}

}  // namespace aidi::devcluster
