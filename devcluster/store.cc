#include "devcluster/store.h"

#include <algorithm>

#include "base/log.h"
#include "devcluster/resource_type.h"
#include "devcluster/wal.h"

using nlohmann::json;

namespace aidi::devcluster {
namespace {

// A watcher that falls this far behind is dropped, as kube-apiserver drops slow watchers;
// the client re-watches from its last resourceVersion.
constexpr std::size_t kMaxPendingPerWatcher = 200000;

}  // namespace

std::string_view EventTypeName(EventType t) {
  switch (t) {
    case EventType::kAdded:
      return "ADDED";
    case EventType::kModified:
      return "MODIFIED";
    case EventType::kDeleted:
      return "DELETED";
  }
  return "MODIFIED";
}

ObjectPtr MakeStoredObject(const std::string& storage_key, json object, std::uint64_t rv,
                           const std::vector<std::string>* selectable_fields) {
  auto out = std::make_shared<StoredObject>();
  out->storage_key = storage_key;
  out->rv = rv;
  json& meta = object["metadata"];
  meta["resourceVersion"] = std::to_string(rv);
  out->ns = meta.value("namespace", "");
  out->name = meta.value("name", "");
  out->uid = meta.value("uid", "");
  out->deleting = meta.contains("deletionTimestamp");
  if (auto it = meta.find("labels"); it != meta.end() && it->is_object()) {
    for (auto& [k, v] : it->items()) {
      if (v.is_string()) out->labels.emplace(k, v.get<std::string>());
    }
  }
  if (auto it = meta.find("ownerReferences"); it != meta.end() && it->is_array()) {
    for (const auto& ref : *it) {
      if (ref.is_object() && ref.contains("uid") && ref["uid"].is_string()) {
        out->owner_uids.push_back(ref["uid"].get<std::string>());
      }
    }
  }
  if (selectable_fields) {
    for (const auto& f : *selectable_fields) {
      if (auto v = SelectableFieldValue(object, f)) out->fields.emplace(f, *v);
    }
  }
  out->json = object.dump();
  out->json.shrink_to_fit();  // dump() leaves growth capacity: ~40% of a typical object
  return out;
}

// ---- Watcher ----

std::vector<WatchEvent> Watcher::Wait(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return !pending_.empty() || closed_; });
  std::vector<WatchEvent> out(std::make_move_iterator(pending_.begin()),
                              std::make_move_iterator(pending_.end()));
  pending_.clear();
  return out;
}

bool Watcher::Closed() const {
  std::lock_guard lock(mu_);
  return closed_;
}

void Watcher::Close() {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  cv_.notify_all();
}

std::uint64_t Watcher::SyncedRv() const {
  std::lock_guard lock(mu_);
  return synced_rv_;
}

// ---- Store ----

Store::Store(std::size_t history_limit) : history_limit_(std::max<std::size_t>(history_limit, 1)) {}

Store::~Store() { DropAllWatchers(); }

Store::Table& Store::TableFor(const std::string& key) {
  auto it = tables_.find(key);
  if (it == tables_.end()) {
    it = tables_.emplace(key, Table{}).first;
    it->second.compacted_rv = startup_rv_;
  }
  return it->second;
}

void Store::Restore(ObjectPtr object) {
  std::unique_lock lock(mu_);
  Table& t = TableFor(object->storage_key);
  IndexOwners(nullptr, object);
  uids_.insert(object->uid);
  t.objects[{object->ns, object->name}] = std::move(object);
}

void Store::FinishRestore(std::uint64_t rv) {
  std::unique_lock lock(mu_);
  rv_ = std::max(rv_, rv);
  startup_rv_ = rv_;
  for (auto& [key, t] : tables_) t.compacted_rv = rv_;
}

std::uint64_t Store::CurrentRv() const {
  std::shared_lock lock(mu_);
  return rv_;
}

ObjectPtr Store::Get(const std::string& storage_key, const std::string& ns,
                     const std::string& name) const {
  std::shared_lock lock(mu_);
  auto t = tables_.find(storage_key);
  if (t == tables_.end()) return nullptr;
  auto it = t->second.objects.find({ns, name});
  return it == t->second.objects.end() ? nullptr : it->second;
}

Store::ListResult Store::List(const std::string& storage_key, const std::string& ns) const {
  std::shared_lock lock(mu_);
  ListResult out;
  out.rv = rv_;
  auto t = tables_.find(storage_key);
  if (t == tables_.end()) return out;
  const auto& objects = t->second.objects;
  if (ns.empty()) {
    out.items.reserve(objects.size());
    for (const auto& [k, v] : objects) out.items.push_back(v);
  } else {
    for (auto it = objects.lower_bound({ns, ""}); it != objects.end() && it->first.first == ns;
         ++it) {
      out.items.push_back(it->second);
    }
  }
  return out;
}

std::vector<ObjectPtr> Store::All() const {
  std::shared_lock lock(mu_);
  std::vector<ObjectPtr> out;
  for (const auto& [key, t] : tables_) {
    for (const auto& [k, v] : t.objects) out.push_back(v);
  }
  return out;
}

std::vector<ObjectPtr> Store::Dependents(const std::string& owner_uid) const {
  std::shared_lock lock(mu_);
  std::vector<ObjectPtr> out;
  auto [lo, hi] = owners_.equal_range(owner_uid);
  for (auto it = lo; it != hi; ++it) {
    const auto& [key, nsname] = it->second;
    auto t = tables_.find(key);
    if (t == tables_.end()) continue;
    auto o = t->second.objects.find(nsname);
    if (o != t->second.objects.end()) out.push_back(o->second);
  }
  return out;
}

bool Store::UidExists(const std::string& uid) const {
  std::shared_lock lock(mu_);
  return uids_.count(uid) > 0;
}

std::size_t Store::Count() const {
  std::shared_lock lock(mu_);
  std::size_t n = 0;
  for (const auto& [key, t] : tables_) n += t.objects.size();
  return n;
}

void Store::IndexOwners(const ObjectPtr& old_obj, const ObjectPtr& new_obj) {
  if (old_obj) {
    for (const auto& uid : old_obj->owner_uids) {
      auto [lo, hi] = owners_.equal_range(uid);
      for (auto it = lo; it != hi; ++it) {
        if (it->second.first == old_obj->storage_key &&
            it->second.second == std::make_pair(old_obj->ns, old_obj->name)) {
          owners_.erase(it);
          break;
        }
      }
    }
  }
  if (new_obj) {
    for (const auto& uid : new_obj->owner_uids) {
      owners_.emplace(
          uid, std::make_pair(new_obj->storage_key, std::make_pair(new_obj->ns, new_obj->name)));
    }
  }
}

void Store::Publish(Table& t, const WatchEvent& ev) {
  t.history.push_back(ev);
  while (t.history.size() > history_limit_) {
    t.compacted_rv = t.history.front().rv;
    t.history.pop_front();
  }
  for (auto it = t.watchers.begin(); it != t.watchers.end();) {
    Watcher& w = **it;
    bool drop = false;
    {
      std::lock_guard wl(w.mu_);
      if (w.closed_) {
        drop = true;
      } else if (w.pending_.size() >= kMaxPendingPerWatcher) {
        w.closed_ = true;
        drop = true;
      } else {
        w.pending_.push_back(ev);
        w.synced_rv_ = ev.rv;
      }
    }
    w.cv_.notify_all();
    it = drop ? t.watchers.erase(it) : it + 1;
  }
}

std::variant<kube::ApiError, ObjectPtr> Store::Mutate(const std::string& storage_key,
                                                      const std::string& ns,
                                                      const std::string& name, const MutateFn& fn) {
  WatchEvent ev;
  ObjectPtr result;
  {
    std::unique_lock lock(mu_);
    Table& t = TableFor(storage_key);
    auto it = t.objects.find({ns, name});
    ObjectPtr current = it == t.objects.end() ? nullptr : it->second;
    auto decision = fn(current);
    if (auto* err = std::get_if<kube::ApiError>(&decision)) return *err;
    Mutation& m = std::get<Mutation>(decision);
    switch (m.kind) {
      case Mutation::Kind::kNoop:
        return current;
      case Mutation::Kind::kPut: {
        // A write that changes nothing keeps its resourceVersion and emits no event.
        if (current) {
          json candidate = m.object;
          candidate["metadata"]["resourceVersion"] = std::to_string(current->rv);
          if (candidate.dump() == current->json) return current;
        }
        std::uint64_t rv = rv_ + 1;
        ObjectPtr obj = MakeStoredObject(storage_key, std::move(m.object), rv, m.selectable_fields);
        if (wal_) {
          Status s = wal_->AppendPut(*obj);
          if (!s.ok()) return kube::NewInternalError("persisting the change: " + s.message());
        }
        rv_ = rv;
        IndexOwners(current, obj);
        if (current && current->uid != obj->uid) uids_.erase(current->uid);
        uids_.insert(obj->uid);
        t.objects[{ns, name}] = obj;
        ev = {current ? EventType::kModified : EventType::kAdded, rv, obj, current};
        result = obj;
        break;
      }
      case Mutation::Kind::kDelete: {
        if (!current) return kube::NewNoResource();
        std::uint64_t rv = rv_ + 1;
        if (wal_) {
          Status s = wal_->AppendDelete(storage_key, ns, name, rv);
          if (!s.ok()) return kube::NewInternalError("persisting the delete: " + s.message());
        }
        rv_ = rv;
        // The DELETED event carries the last state with the deletion's resourceVersion.
        json last = m.object.is_object() ? std::move(m.object) : current->Parse();
        ObjectPtr final_obj = MakeStoredObject(storage_key, std::move(last), rv, nullptr);
        auto fin = std::const_pointer_cast<StoredObject>(final_obj);
        fin->labels = current->labels;
        fin->fields = current->fields;
        IndexOwners(current, nullptr);
        uids_.erase(current->uid);
        t.objects.erase(it);
        ev = {EventType::kDeleted, rv, final_obj, current};
        result = final_obj;
        break;
      }
    }
    Publish(t, ev);
    if (wal_ && wal_->WantsSnapshot()) {
      std::vector<ObjectPtr> all;
      for (const auto& [key, tab] : tables_) {
        for (const auto& [k, v] : tab.objects) all.push_back(v);
      }
      Status s = wal_->Snapshot(all, rv_);
      if (!s.ok()) log::Error("snapshot failed; the WAL keeps growing", {{"error", s.message()}});
    }
  }
  if (listener_) listener_(ev);
  return result;
}

std::variant<kube::ApiError, WatcherPtr> Store::Watch(const std::string& storage_key,
                                                      std::uint64_t from_rv, bool send_initial) {
  std::unique_lock lock(mu_);
  Table& t = TableFor(storage_key);
  auto w = std::make_shared<Watcher>();
  w->storage_key_ = storage_key;
  if (from_rv == 0) {
    if (send_initial) {
      for (const auto& [k, obj] : t.objects) {
        w->pending_.push_back({EventType::kAdded, obj->rv, obj, nullptr});
      }
    }
  } else {
    if (from_rv < t.compacted_rv) {
      return kube::NewResourceExpired("too old resource version: " + std::to_string(from_rv) +
                                      " (" + std::to_string(t.compacted_rv) + ")");
    }
    for (const auto& ev : t.history) {
      if (ev.rv > from_rv) w->pending_.push_back(ev);
    }
  }
  w->synced_rv_ = rv_;
  t.watchers.push_back(w);
  return w;
}

void Store::Unwatch(const WatcherPtr& w) {
  w->Close();
  std::unique_lock lock(mu_);
  auto t = tables_.find(w->storage_key_);
  if (t == tables_.end()) return;
  auto& ws = t->second.watchers;
  ws.erase(std::remove(ws.begin(), ws.end(), w), ws.end());
}

std::uint64_t Store::BookmarkRv(const WatcherPtr& w) const {
  std::shared_lock lock(mu_);
  std::lock_guard wl(w->mu_);
  return w->pending_.empty() && !w->closed_ ? rv_ : 0;
}

bool Store::RvCompacted(const std::string& storage_key, std::uint64_t rv) const {
  return rv < CompactedRv(storage_key);
}

std::uint64_t Store::CompactedRv(const std::string& storage_key) const {
  std::shared_lock lock(mu_);
  auto t = tables_.find(storage_key);
  return t == tables_.end() ? startup_rv_ : t->second.compacted_rv;
}

void Store::DropAllWatchers() {
  std::unique_lock lock(mu_);
  for (auto& [key, t] : tables_) {
    for (auto& w : t.watchers) w->Close();
    t.watchers.clear();
  }
}

void Store::CompactHistory() {
  std::unique_lock lock(mu_);
  // Compact at a fresh revision that no client has seen yet, so every watch that resumes from
  // its last resourceVersion gets 410 and must relist (the relist returns this revision, from
  // which watching works again).
  ++rv_;
  for (auto& [key, t] : tables_) {
    t.history.clear();
    t.compacted_rv = rv_;
  }
  startup_rv_ = rv_;
}

std::size_t Store::WatcherCount() const {
  std::shared_lock lock(mu_);
  std::size_t n = 0;
  for (const auto& [key, t] : tables_) n += t.watchers.size();
  return n;
}

void Store::SetChangeListener(std::function<void(const WatchEvent&)> listener) {
  std::unique_lock lock(mu_);
  listener_ = std::move(listener);
}

}  // namespace aidi::devcluster
