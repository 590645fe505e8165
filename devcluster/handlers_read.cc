// Read verbs: get, list (selectors, chunking, tables), watch (history, bookmarks, selector
// transitions, tables), and pods/log.
#include <algorithm>
#include <thread>

#include "base/log.h"
#include "devcluster/api_server.h"
#include "devcluster/api_server_internal.h"
#include "kube/core/selectors.h"

using nlohmann::json;

namespace aidi::devcluster {
namespace {

constexpr std::size_t kMaxListSnapshots = 256;
constexpr auto kListSnapshotTtl = std::chrono::minutes(5);

const char* kContinueExpiredMessage =
    "The provided continue parameter is too old to display a consistent list result. You can "
    "start a new list without the continue parameter, or use the continue token in this response "
    "to retrieve the remainder of the results. Continuing with the provided token results in an "
    "inconsistent list - objects that were created, modified, or deleted between the time the "
    "first chunk was returned and now may show up in the list.";

using Filter = ObjectFilter;

std::variant<kube::ApiError, Filter> ParseFilter(const ApiServer::Ctx& c) {
  Filter f;
  f.ns = c.info.ns;
  if (auto ls = c.req.Query("labelSelector"); ls && !ls->empty()) {
    auto parsed = kube::LabelSelector::Parse(*ls);
    if (!parsed.ok()) return kube::NewBadRequest(parsed.status().message());
    f.labels = std::move(parsed).value();
  }
  if (auto fs = c.req.Query("fieldSelector"); fs && !fs->empty()) {
    auto parsed = kube::FieldSelector::Parse(*fs);
    if (!parsed.ok()) return kube::NewBadRequest(parsed.status().message());
    for (const auto& r : parsed->requirements()) {
      const auto& allowed = c.rt->selectable_fields;
      if (r.field == "metadata.name" || r.field == "metadata.namespace" ||
          std::find(allowed.begin(), allowed.end(), r.field) != allowed.end()) {
        continue;
      }
      if (c.rt->is_custom()) {
        return kube::NewBadRequest("\"" + r.field +
                                   "\" is not a known field selector: only "
                                   "\"metadata.name\", \"metadata.namespace\"");
      }
      return kube::NewBadRequest("field label not supported: " + r.field);
    }
    f.fields = std::move(parsed).value();
  }
  return f;
}

std::string ContinueToken(std::uint64_t rv, const std::string& start, std::uint64_t snapshot) {
  json t = {{"v", "meta.k8s.io/v1"}, {"rv", rv}, {"start", start + std::string(1, '\0')}};
  if (snapshot) t["snapshot"] = snapshot;
  std::string enc = Base64Encode(t.dump());
  // URL-safe alphabet without padding, as upstream's base64.RawURLEncoding.
  std::replace(enc.begin(), enc.end(), '+', '-');
  std::replace(enc.begin(), enc.end(), '/', '_');
  while (!enc.empty() && enc.back() == '=') enc.pop_back();
  return enc;
}

struct DecodedContinue {
  std::uint64_t rv = 0;
  std::string start;  // "ns/name" of the last item returned
  std::uint64_t snapshot = 0;
};

std::optional<DecodedContinue> DecodeContinue(const std::string& token) {
  auto raw = Base64Decode(token);
  if (!raw) return std::nullopt;
  json t = json::parse(*raw, nullptr, false);
  if (!t.is_object() || t.value("v", "") != "meta.k8s.io/v1" || !t.contains("rv") ||
      !t["rv"].is_number_unsigned() || !t.contains("start") || !t["start"].is_string()) {
    return std::nullopt;
  }
  DecodedContinue d;
  d.rv = t["rv"].get<std::uint64_t>();
  d.start = t["start"].get<std::string>();
  if (!d.start.empty() && d.start.back() == '\0') d.start.pop_back();
  if (t.contains("snapshot") && t["snapshot"].is_number_unsigned()) d.snapshot = t["snapshot"];
  return d;
}

std::string KeyOf(const StoredObject& o) { return o.ns + "/" + o.name; }

}  // namespace

std::variant<kube::ApiError, OutputFormat> NegotiateOutput(const ApiServer::Ctx& c) {
  OutputFormat f;
  if (auto io = c.req.Query("includeObject")) {
    if (*io != "None" && *io != "Metadata" && *io != "Object") {
      return kube::NewBadRequest("includeObject must be one of None, Metadata or Object");
    }
    f.include_object = *io;
  }
  auto accept = ParseAccept(c.req.Header("accept"));
  if (accept.empty()) return f;
  for (const auto& mt : accept) {
    bool json_like = mt.type == "application/json" || mt.type == "application/yaml" ||
                     mt.type == "*/*" || mt.type == "application/*";
    if (!json_like) continue;
    std::string as = mt.Param("as");
    if (as.empty()) return f;
    if (mt.Param("g") != "meta.k8s.io") continue;
    std::string v = mt.Param("v");
    if (v != "v1" && v != "v1beta1") continue;
    if (as == "Table") {
      f.rendering = Rendering::kTable;
      f.table_api_version = "meta.k8s.io/" + v;
      return f;
    }
    if (as == "PartialObjectMetadata" || as == "PartialObjectMetadataList") {
      f.rendering = Rendering::kPartialMetadata;
      f.table_api_version = "meta.k8s.io/" + v;
      return f;
    }
  }
  return kube::NewNotAcceptable(
      "only the following media types are accepted: application/json, application/yaml, "
      "application/json;as=Table;v=v1;g=meta.k8s.io");
}

json PartialMetadata(const json& obj) {
  return {{"kind", "PartialObjectMetadata"},
          {"apiVersion", "meta.k8s.io/v1"},
          {"metadata", obj.value("metadata", json::object())}};
}

json BuildTable(const ResourceType& rt, const std::vector<json>& objects, const OutputFormat& fmt,
                Clock::WallTime now, bool with_columns, const std::string& rv,
                const std::string& cont) {
  json table = {{"kind", "Table"}, {"apiVersion", fmt.table_api_version}};
  json meta = json::object();
  if (!rv.empty()) meta["resourceVersion"] = rv;
  if (!cont.empty()) meta["continue"] = cont;
  table["metadata"] = meta;
  json columns = rt.strategy.table_columns ? rt.strategy.table_columns() : json::array();
  table["columnDefinitions"] = with_columns ? columns : json::array();
  json rows = json::array();
  for (const json& obj : objects) {
    json row;
    if (rt.strategy.table_cells) {
      row["cells"] = rt.strategy.table_cells(obj, now);
    } else {
      row["cells"] = json::array({obj["metadata"].value("name", "")});
    }
    if (fmt.include_object == "Object") {
      row["object"] = obj;
    } else if (fmt.include_object == "Metadata") {
      row["object"] = PartialMetadata(obj);
    }
    rows.push_back(std::move(row));
  }
  table["rows"] = rows;
  return table;
}

void ApiServer::HandleGet(Ctx& c) {
  auto fmt = NegotiateOutput(c);
  if (auto* e = std::get_if<kube::ApiError>(&fmt)) return SendError(c, *e);
  ObjectPtr obj = store_.Get(c.rt->storage_key(), c.info.ns, c.info.name);
  if (!obj) return SendError(c, kube::NewNotFound(c.rt->group_resource(), c.info.name));
  const OutputFormat& f = std::get<OutputFormat>(fmt);
  switch (f.rendering) {
    case Rendering::kObject:
      return SendRaw(c, 200, "application/json", obj->json);
    case Rendering::kTable:
      return SendJson(
          c, 200, BuildTable(*c.rt, {obj->Parse()}, f, c.now, true, std::to_string(obj->rv), ""));
    case Rendering::kPartialMetadata:
      return SendJson(c, 200, PartialMetadata(obj->Parse()));
  }
}

void ApiServer::HandleList(Ctx& c) {
  auto fmt_or = NegotiateOutput(c);
  if (auto* e = std::get_if<kube::ApiError>(&fmt_or)) return SendError(c, *e);
  const OutputFormat fmt = std::get<OutputFormat>(fmt_or);
  auto filter_or = ParseFilter(c);
  if (auto* e = std::get_if<kube::ApiError>(&filter_or)) return SendError(c, *e);
  const Filter& filter = std::get<Filter>(filter_or);

  std::size_t limit = 0;
  if (auto l = c.req.Query("limit"); l && !l->empty()) {
    char* end = nullptr;
    long long v = std::strtoll(l->c_str(), &end, 10);
    if (!end || *end != '\0' || v < 0)
      return SendError(c, kube::NewBadRequest("limit must be a non-negative integer"));
    limit = static_cast<std::size_t>(v);
  }
  const std::string key = c.rt->storage_key();
  std::shared_ptr<ListSnapshot> snap;
  std::string start_after;
  std::uint64_t snapshot_id = 0;
  if (auto cont = c.req.Query("continue"); cont && !cont->empty()) {
    auto d = DecodeContinue(*cont);
    if (!d)
      return SendError(c, kube::NewBadRequest("continue key is not valid: incorrect encoded start "
                                              "resourceVersion (version meta.k8s.io/v1)"));
    if (store_.RvCompacted(key, d->rv)) {
      return SendError(c, kube::NewResourceExpired(kContinueExpiredMessage));
    }
    start_after = d->start;
    std::lock_guard lock(mu_);
    auto it = list_snapshots_.find(d->snapshot);
    if (it != list_snapshots_.end()) {
      snap = it->second;
      snapshot_id = d->snapshot;
    }
  }
  if (!snap) {
    // A fresh list, or a continuation whose snapshot was evicted: read the current state.
    auto listed = store_.List(key, c.rt->namespaced ? c.info.ns : "");
    snap = std::make_shared<ListSnapshot>(
        ListSnapshot{std::move(listed.items), listed.rv, std::chrono::steady_clock::now()});
  }

  // Collect the page: up to `limit` matching items after `start_after`.
  std::vector<ObjectPtr> page;
  std::size_t i = 0;
  if (!start_after.empty()) {
    auto it =
        std::upper_bound(snap->items.begin(), snap->items.end(), start_after,
                         [](const std::string& k, const ObjectPtr& o) { return k < KeyOf(*o); });
    i = static_cast<std::size_t>(it - snap->items.begin());
  }
  bool more = false;
  for (; i < snap->items.size(); ++i) {
    const ObjectPtr& o = snap->items[i];
    if (!filter.Matches(*o)) continue;
    if (limit && page.size() == limit) {
      more = true;
      break;
    }
    page.push_back(o);
  }
  std::string cont;
  std::optional<std::size_t> remaining;
  if (more) {
    if (!snapshot_id) {
      std::lock_guard lock(mu_);
      auto now = std::chrono::steady_clock::now();
      for (auto it = list_snapshots_.begin(); it != list_snapshots_.end();) {
        it = now - it->second->created > kListSnapshotTtl ? list_snapshots_.erase(it)
                                                          : std::next(it);
      }
      while (list_snapshots_.size() >= kMaxListSnapshots)
        list_snapshots_.erase(list_snapshots_.begin());
      snapshot_id = next_snapshot_id_++;
      list_snapshots_[snapshot_id] = snap;
    }
    cont = ContinueToken(snap->rv, KeyOf(*page.back()), snapshot_id);
    if (filter.labels.Empty() && filter.fields.Empty()) remaining = snap->items.size() - i;
  }
  const std::string rv = std::to_string(snap->rv);

  if (fmt.rendering == Rendering::kTable) {
    std::vector<json> objs;
    objs.reserve(page.size());
    for (const auto& o : page) objs.push_back(o->Parse());
    json table = BuildTable(*c.rt, objs, fmt, c.now, true, rv, cont);
    if (remaining) table["metadata"]["remainingItemCount"] = *remaining;
    return SendJson(c, 200, table);
  }
  // Objects are stored encoded: the list is assembled without re-encoding them.
  json meta = {{"resourceVersion", rv}};
  if (!cont.empty()) meta["continue"] = cont;
  if (remaining) meta["remainingItemCount"] = *remaining;
  std::string out;
  std::size_t total = 128;
  for (const auto& o : page) total += o->json.size() + 1;
  if (fmt.rendering == Rendering::kPartialMetadata) {
    out = R"({"kind":"PartialObjectMetadataList","apiVersion":")" + fmt.table_api_version +
          R"(","metadata":)" + meta.dump() + R"(,"items":[)";
    for (std::size_t k = 0; k < page.size(); ++k) {
      if (k) out += ',';
      out += PartialMetadata(page[k]->Parse()).dump();
    }
  } else {
    out = R"({"kind":")" + c.rt->list_kind + R"(","apiVersion":")" + c.rt->api_version() +
          R"(","metadata":)" + meta.dump() + R"(,"items":[)";
    // Reserve after the prefix is in place: assigning it would drop the reservation.
    out.reserve(out.size() + total);
    for (std::size_t k = 0; k < page.size(); ++k) {
      if (k) out += ',';
      out += page[k]->json;
    }
  }
  out += "]}";
  SendRaw(c, 200, "application/json", out);
}

void ApiServer::HandleWatch(Ctx& c) {
  auto fmt_or = NegotiateOutput(c);
  if (auto* e = std::get_if<kube::ApiError>(&fmt_or)) return SendError(c, *e);
  const OutputFormat fmt = std::get<OutputFormat>(fmt_or);
  auto filter_or = ParseFilter(c);
  if (auto* e = std::get_if<kube::ApiError>(&filter_or)) return SendError(c, *e);
  Filter filter = std::get<Filter>(filter_or);
  if (!c.info.name.empty()) {
    // GET .../pods/<name>?watch=1 is a watch with a metadata.name field selector.
    auto by_name = kube::FieldSelector::Parse("metadata.name=" + c.info.name);
    if (by_name.ok() && filter.fields.Empty()) filter.fields = *by_name;
  }
  const bool bookmarks =
      QueryBool(c.req.Query("allowWatchBookmarks")) && fmt.rendering == Rendering::kObject;
  const bool send_initial_events = QueryBool(c.req.Query("sendInitialEvents"));
  std::uint64_t from_rv = 0;
  std::string rv_param = c.req.Query("resourceVersion").value_or("");
  if (!rv_param.empty() && rv_param != "0") {
    char* end = nullptr;
    from_rv = std::strtoull(rv_param.c_str(), &end, 10);
    if (!end || *end != '\0' || from_rv == 0) {
      return SendError(c, kube::NewBadRequest("resourceVersion: Invalid value: \"" + rv_param +
                                              "\": must be a non-negative integer"));
    }
  }
  if (send_initial_events && !bookmarks) {
    return SendError(c, kube::NewBadRequest("sendInitialEvents requires allowWatchBookmarks=true"));
  }
  auto timeout = options_.default_watch_timeout;
  if (auto t = c.req.Query("timeoutSeconds"); t && !t->empty()) {
    long v = std::strtol(t->c_str(), nullptr, 10);
    if (v > 0) timeout = std::chrono::seconds(v);
  }
  // rv "" or "0" starts with the current state as ADDED events, as upstream's watch cache does.
  bool initial = from_rv == 0 || send_initial_events;
  auto watch_or = store_.Watch(c.rt->storage_key(), send_initial_events ? 0 : from_rv, initial);

  c.w.StartStream(200, ResponseHeaders(c, "application/json"));
  if (auto* e = std::get_if<kube::ApiError>(&watch_or)) {
    // Watch errors arrive in-stream, as an ERROR event carrying a Status, as upstream sends them.
    c.w.Write(DumpForResponse(json{{"type", "ERROR"}, {"object", e->body}}) + "\n");
    return;
  }
  WatcherPtr watcher = std::get<WatcherPtr>(watch_or);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto last_sent = std::chrono::steady_clock::now();
  bool first_table = true;
  bool initial_end_pending = send_initial_events;

  auto emit = [&](std::string_view type, const ObjectPtr& obj, std::uint64_t rv_override) -> bool {
    std::string line = "{\"type\":\"";
    line += type;
    line += "\",\"object\":";
    if (fmt.rendering == Rendering::kObject && !rv_override) {
      line += obj->json;
    } else {
      json o = obj->Parse();
      if (rv_override) o["metadata"]["resourceVersion"] = std::to_string(rv_override);
      if (fmt.rendering == Rendering::kTable) {
        line += BuildTable(*c.rt, {o}, fmt, clock_.Now(), first_table, "", "").dump();
        first_table = false;
      } else if (fmt.rendering == Rendering::kPartialMetadata) {
        line += PartialMetadata(o).dump();
      } else {
        line += o.dump();
      }
    }
    line += "}\n";
    last_sent = std::chrono::steady_clock::now();
    return c.w.Write(line);
  };
  auto bookmark = [&](std::uint64_t rv, bool initial_end) -> bool {
    json meta = {{"resourceVersion", std::to_string(rv)}, {"creationTimestamp", nullptr}};
    if (initial_end) meta["annotations"] = {{"k8s.io/initial-events-end", "true"}};
    json ev = {{"type", "BOOKMARK"},
               {"object",
                {{"kind", c.rt->kind}, {"apiVersion", c.rt->api_version()}, {"metadata", meta}}}};
    last_sent = std::chrono::steady_clock::now();
    return c.w.Write(ev.dump() + "\n");
  };

  bool ok = true;
  while (ok && !stopping_ && !c.w.Closed() && !watcher->Closed()) {
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) break;
    auto wait = std::min<std::chrono::milliseconds>(
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now),
        std::chrono::milliseconds(200));
    for (const WatchEvent& ev : watcher->Wait(wait)) {
      const bool now_matches = filter.Matches(*ev.object);
      const bool was_matching = ev.prev && filter.Matches(*ev.prev);
      switch (ev.type) {
        case EventType::kAdded:
          if (now_matches) ok = emit("ADDED", ev.object, 0);
          break;
        case EventType::kModified:
          if (now_matches && was_matching)
            ok = emit("MODIFIED", ev.object, 0);
          else if (now_matches)
            ok = emit("ADDED", ev.object, 0);
          // Leaving the selection reads as a delete of the last matching state.
          else if (was_matching)
            ok = emit("DELETED", ev.prev, ev.rv);
          break;
        case EventType::kDeleted:
          if (was_matching || now_matches) ok = emit("DELETED", ev.object, 0);
          break;
      }
      if (!ok) break;
    }
    if (!ok) break;
    if (initial_end_pending) {
      if (std::uint64_t rv = store_.BookmarkRv(watcher)) {
        ok = bookmark(rv, true);
        initial_end_pending = false;
      }
    } else if (bookmarks &&
               std::chrono::steady_clock::now() - last_sent >= options_.bookmark_interval) {
      if (std::uint64_t rv = store_.BookmarkRv(watcher)) ok = bookmark(rv, false);
    }
  }
  store_.Unwatch(watcher);
  if (watcher->Closed() && !c.w.Closed()) {
    // Dropped by the store (fault injection or a slow consumer): end the connection abruptly,
    // as a broken network would.
    c.w.CloseAfterResponse();
  }
}

void ApiServer::HandlePodLog(Ctx& c) {
  ObjectPtr pod = store_.Get(c.rt->storage_key(), c.info.ns, c.info.name);
  if (!pod) return SendError(c, kube::NewNotFound(c.rt->group_resource(), c.info.name));
  json obj = pod->Parse();
  std::vector<std::string> names;
  for (const json& ctr : obj["spec"].value("containers", json::array())) {
    names.push_back(ctr.value("name", ""));
  }
  std::string container = c.req.Query("container").value_or("");
  if (container.empty()) {
    if (names.size() != 1) {
      std::string list;
      for (const auto& n : names) list += (list.empty() ? "" : " ") + n;
      return SendError(c, kube::NewBadRequest("a container name must be specified for pod " +
                                              c.info.name + ", choose one of: [" + list + "]"));
    }
    container = names[0];
  } else if (std::find(names.begin(), names.end(), container) == names.end()) {
    for (const json& ctr : obj["spec"].value("initContainers", json::array())) {
      if (ctr.value("name", "") == container) names.push_back(container);
    }
    if (std::find(names.begin(), names.end(), container) == names.end()) {
      return SendError(c, kube::NewBadRequest("container " + container + " is not valid for pod " +
                                              c.info.name));
    }
  }
  PodLogSource source;
  {
    std::lock_guard lock(mu_);
    source = log_source_;
  }
  if (!source) return SendRaw(c, 200, "text/plain", "");
  json options = json::object();
  for (const char* k :
       {"follow", "previous", "tailLines", "sinceSeconds", "timestamps", "limitBytes"}) {
    if (auto v = c.req.Query(k)) options[k] = *v;
  }
  auto text = source(c.info.ns, c.info.name, container, options);
  if (!text.ok()) return SendError(c, kube::NewBadRequest(text.status().message()));
  SendRaw(c, 200, "text/plain", *text);
}

}  // namespace aidi::devcluster
