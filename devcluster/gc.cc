// The garbage collector and namespace lifecycle, as kube-controller-manager runs them next to
// a real apiserver: ownerReference cascading (background, foreground, orphan), emptying a
// terminating namespace before it goes, and the default namespaces and service accounts.
// One background thread; woken by deletes and deletion marks, and every five seconds.
#include <set>

#include "base/log.h"
#include "devcluster/api_server.h"
#include "devcluster/api_server_internal.h"
#include "devcluster/object_writer.h"

using nlohmann::json;

namespace aidi::devcluster {
namespace {

bool HasFinalizer(const json& obj, const std::string& f) {
  const json& meta = obj["metadata"];
  if (!meta.contains("finalizers") || !meta["finalizers"].is_array()) return false;
  for (const json& x : meta["finalizers"]) {
    if (x == f) return true;
  }
  return false;
}

bool RemoveFinalizer(json& obj, const std::string& f) {
  json& fins = obj["metadata"]["finalizers"];
  if (!fins.is_array()) return false;
  auto before = fins.size();
  fins.erase(std::remove(fins.begin(), fins.end(), json(f)), fins.end());
  if (fins.empty()) obj["metadata"].erase("finalizers");
  return before !=
         (obj["metadata"].contains("finalizers") ? obj["metadata"]["finalizers"].size() : 0);
}

}  // namespace

void ApiServer::GcNotify() {
  {
    std::lock_guard lock(gc_mu_);
    gc_pending_ = true;
  }
  gc_cv_.notify_all();
}

void ApiServer::GcLoop() {
  while (!stopping_) {
    {
      std::unique_lock lock(gc_mu_);
      gc_cv_.wait_for(lock, std::chrono::seconds(5),
                      [&] { return gc_pending_ || stopping_.load(); });
      gc_pending_ = false;
    }
    if (stopping_) break;
    try {
      GcOnce();
    } catch (const std::exception& e) {
      log::Error("garbage collection pass failed", {{"error", e.what()}});
    }
  }
}

void ApiServer::GcOnce() {
  std::vector<ObjectPtr> all = store_.All();
  bool changed = false;
  for (const ObjectPtr& o : all) {
    ResourceTypePtr rt = registry_.FindByStorageKey(o->storage_key);
    if (!rt) continue;
    if (o->deleting) {
      json obj = o->Parse();
      if (o->storage_key == "/namespaces") {
        // Empty the namespace, then let it go.
        std::size_t left = 0;
        std::set<std::string> keys;
        for (const auto& t : registry_.All()) {
          if (t->namespaced) keys.insert(t->storage_key());
        }
        for (const auto& key : keys) {
          ResourceTypePtr t = registry_.FindByStorageKey(key);
          for (const ObjectPtr& child : store_.List(key, o->name).items) {
            ++left;
            if (!child->deleting) {
              bool now = false;
              (void)DeleteObject(t, child->ns, child->name, "Background", &now);
              changed = true;  // look again soon: the namespace may be empty now
            }
          }
        }
        if (left == 0) {
          (void)store_.Mutate(o->storage_key, "", o->name,
                              [&](const ObjectPtr& cur) -> std::variant<kube::ApiError, Mutation> {
                                if (!cur || !cur->deleting) return Mutation{};
                                json ns = cur->Parse();
                                if (ns["metadata"].contains("finalizers") &&
                                    !ns["metadata"]["finalizers"].empty()) {
                                  ns["spec"]["finalizers"] = json::array();
                                  Mutation m;
                                  m.kind = Mutation::Kind::kPut;
                                  m.object = std::move(ns);
                                  return m;
                                }
                                Mutation m;
                                m.kind = Mutation::Kind::kDelete;
                                ns["spec"]["finalizers"] = json::array();
                                m.object = std::move(ns);
                                return m;
                              });
          log::Info("namespace deleted", {{"namespace", o->name}});
          changed = true;
        }
        continue;
      }
      if (HasFinalizer(obj, "foregroundDeletion")) {
        auto deps = store_.Dependents(o->uid);
        for (const ObjectPtr& d : deps) {
          if (d->deleting) continue;
          ResourceTypePtr drt = registry_.FindByStorageKey(d->storage_key);
          if (!drt) continue;
          bool now = false;
          (void)DeleteObject(drt, d->ns, d->name, "Foreground", &now);
          changed = true;
        }
        if (deps.empty()) {
          (void)ModifyObject(rt, o->ns, o->name,
                             [](json& x) { return RemoveFinalizer(x, "foregroundDeletion"); });
          changed = true;
        }
      }
      if (HasFinalizer(obj, "orphan")) {
        for (const ObjectPtr& d : store_.Dependents(o->uid)) {
          ResourceTypePtr drt = registry_.FindByStorageKey(d->storage_key);
          if (!drt) continue;
          const std::string owner = o->uid;
          (void)ModifyObject(drt, d->ns, d->name, [&](json& x) {
            json& refs = x["metadata"]["ownerReferences"];
            if (!refs.is_array()) return false;
            refs.erase(std::remove_if(refs.begin(), refs.end(),
                                      [&](const json& r) { return r.value("uid", "") == owner; }),
                       refs.end());
            if (refs.empty()) x["metadata"].erase("ownerReferences");
            return true;
          });
        }
        (void)ModifyObject(rt, o->ns, o->name,
                           [](json& x) { return RemoveFinalizer(x, "orphan"); });
        changed = true;
      }
    }
    if (!o->owner_uids.empty() && !o->deleting) {
      std::vector<std::string> gone;
      for (const auto& uid : o->owner_uids) {
        if (!store_.UidExists(uid)) gone.push_back(uid);
      }
      if (gone.empty()) continue;
      if (gone.size() == o->owner_uids.size()) {
        // Every owner is gone: the dependent follows (background cascade).
        bool now = false;
        (void)DeleteObject(rt, o->ns, o->name, "Background", &now);
        log::Debug("garbage collected", {{"resource", o->storage_key}, {"name", o->name}});
      } else {
        (void)ModifyObject(rt, o->ns, o->name, [&](json& x) {
          json& refs = x["metadata"]["ownerReferences"];
          refs.erase(std::remove_if(refs.begin(), refs.end(),
                                    [&](const json& r) {
                                      return std::find(gone.begin(), gone.end(),
                                                       r.value("uid", "")) != gone.end();
                                    }),
                     refs.end());
          return true;
        });
      }
      changed = true;
    }
  }
  if (changed) GcNotify();  // cascades may have unblocked more work
}

void ApiServer::EnsureDefaultNamespaces() {
  const Clock::WallTime now = clock_.Now();
  // Creates `obj` of type `rt` unless an object of that name exists (server-side, no request).
  auto create_if_absent = [&](const ResourceTypePtr& rt, const std::string& ns,
                              const std::string& name, const json& obj) {
    if (store_.Get(rt->storage_key(), ns, name)) return;
    auto prepared = PrepareCreate(WriteContext{*rt, now}, obj);
    auto* created = std::get_if<json>(&prepared);
    if (!created) return;
    (void)store_.Mutate(rt->storage_key(), ns, name,
                        [&](const ObjectPtr& cur) -> std::variant<kube::ApiError, Mutation> {
                          if (cur) return Mutation{};
                          Mutation m;
                          m.kind = Mutation::Kind::kPut;
                          m.object = *created;
                          m.selectable_fields = &rt->selectable_fields;
                          return m;
                        });
  };
  ResourceTypePtr ns_type = registry_.Find("", "v1", "namespaces");
  for (const char* name : {"default", "kube-system", "kube-public", "kube-node-lease"}) {
    create_if_absent(ns_type, "", name,
                     {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", name}}}});
  }
  // Every active namespace has a "default" service account (the serviceaccount controller's job).
  ResourceTypePtr sa_type = registry_.Find("", "v1", "serviceaccounts");
  for (const ObjectPtr& ns : store_.List("/namespaces", "").items) {
    if (ns->deleting) continue;
    create_if_absent(sa_type, ns->name, "default",
                     {{"apiVersion", "v1"},
                      {"kind", "ServiceAccount"},
                      {"metadata", {{"name", "default"}, {"namespace", ns->name}}}});
  }
}

}  // namespace aidi::devcluster
