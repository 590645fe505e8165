// ApiServer: devcluster's request handling — authentication, routing, discovery, OpenAPI, and
// the Kubernetes API verbs (get, list, watch, create, update, patch, delete, deletecollection)
// over every registered resource type, with the semantics of kube-apiserver: optimistic
// concurrency, generation, status subresources, finalizers, garbage collection, server-side
// tables, chunked lists, bounded watch history with 410 Expired, and exact Status bodies.
//
// It owns no sockets: main wires it to an HttpServer. The Store (and its WAL) must outlive it.
// Thread safety: Handle() is called concurrently from connection threads; all state it touches
// is either immutable, in the thread-safe Store/Registry/Faults, or behind mu_.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/status.h"
#include "devcluster/faults.h"
#include "devcluster/registry.h"
#include "devcluster/request_info.h"
#include "devcluster/store.h"
#include "http/http_server.h"

namespace aidi::devcluster {

struct ApiServerOptions {
  std::string token;           // the bearer token every API request must carry
  bool enable_faults = false;  // serve /devcluster/faults and /devcluster/requests
  std::chrono::milliseconds bookmark_interval{5000};  // idle watches with bookmarks get one
  std::chrono::seconds default_watch_timeout{1800};
  std::size_t max_body_bytes = 3 * 1024 * 1024;
  std::string server_address;  // host:port, for /api's serverAddressByClientCIDRs
};

// Supplies `kubectl logs` output for a pod's container (the node agent plugs in here).
// Returns the log text, or NotFound/InvalidArgument with a message the API returns as 400.
using PodLogSource = std::function<StatusOr<std::string>(
    const std::string& ns, const std::string& pod, const std::string& container,
    const nlohmann::json& options)>;

class ApiServer {
 public:
  ApiServer(ApiServerOptions options, Store& store, Clock& clock = Clock::Real());
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // Registers built-in types, serves the CRDs already in the store, creates the default
  // namespaces, and starts the garbage collector.
  Status Init();
  void Handle(const http::Request& req, http::ResponseWriter& w);
  // Stops the garbage collector and ends every watch.
  void Stop();

  void SetPodLogSource(PodLogSource source);
  // Called with the new token after the expire-token fault rotates it.
  void SetTokenRotatedCallback(std::function<void(const std::string&)> cb);
  std::string token() const;
  // host:port clients reach this server at, reported by /api (set once the port is bound).
  void SetServerAddress(std::string address);
  Faults& faults() { return faults_; }
  Registry& registry() { return registry_; }

  struct Ctx;  // one request's parsed state; internal (api_server_internal.h)

 private:
  // api_server.cc: plumbing
  void Dispatch(Ctx& c);
  void HandleNonResource(Ctx& c);
  void HandleAdmin(Ctx& c);
  bool Authenticate(const http::Request& req) const;

  // discovery.cc
  void ServeVersion(Ctx& c);
  void ServeApiVersions(Ctx& c);
  void ServeApiGroupList(Ctx& c);
  void ServeApiGroup(Ctx& c, const std::string& group);
  void ServeResourceList(Ctx& c, const std::string& group, const std::string& version);
  void ServeOpenApiV3Index(Ctx& c);
  void ServeOpenApiV3Doc(Ctx& c, const std::string& gv_path);
  // Rebuilds the cached v3 documents when the registry changed; requires mu_.
  void RefreshOpenApiV3Locked();
  void ServeOpenApiV2(Ctx& c);

  // handlers_read.cc
  void HandleGet(Ctx& c);
  void HandleList(Ctx& c);
  void HandleWatch(Ctx& c);
  void HandlePodLog(Ctx& c);

  // handlers_write.cc
  void HandleCreate(Ctx& c);
  void HandleUpdate(Ctx& c);
  void HandlePatch(Ctx& c);
  void HandleDelete(Ctx& c);
  void HandleDeleteCollection(Ctx& c);
  void HandleBinding(Ctx& c);
  void HandleScale(Ctx& c);
  void HandleReview(Ctx& c);  // reviews.cc

 public:  // used by the garbage collector and tests; not part of the HTTP surface
  // Deletes one object as a DELETE request would (finalizers, propagation policy).
  std::variant<kube::ApiError, ObjectPtr> DeleteObject(const ResourceTypePtr& rt,
                                                       const std::string& ns,
                                                       const std::string& name,
                                                       const std::string& propagation,
                                                       bool* deleted_now);
  // Read-modify-write of a stored object outside any request (GC, CRD status).
  std::variant<kube::ApiError, ObjectPtr> ModifyObject(
      const ResourceTypePtr& rt, const std::string& ns, const std::string& name,
      const std::function<bool(nlohmann::json&)>& edit);

 private:
  // CRD lifecycle (handlers_write.cc): serve a CRD's kinds and mark it Established.
  void OnCrdWritten(const ObjectPtr& crd);
  void OnCrdDeleted(const nlohmann::json& crd);

  // gc.cc: background garbage collector and namespace finalizer.
  void GcLoop();
  void GcOnce();
  void GcNotify();
  void EnsureDefaultNamespaces();

  ApiServerOptions options_;
  Store& store_;
  Clock& clock_;
  Registry registry_;
  Faults faults_;

  mutable std::mutex mu_;
  std::string token_;
  PodLogSource log_source_;
  std::function<void(const std::string&)> on_token_rotated_;
  // Consistent snapshots for chunked lists, by id (see HandleList).
  struct ListSnapshot {
    std::vector<ObjectPtr> items;
    std::uint64_t rv;
    std::chrono::steady_clock::time_point created;
  };
  std::map<std::uint64_t, std::shared_ptr<ListSnapshot>> list_snapshots_;
  std::uint64_t next_snapshot_id_ = 1;
  // Cached OpenAPI documents, rebuilt when the registry changes.
  std::uint64_t openapi_generation_ = 0;
  std::map<std::string, std::string> openapi_v3_docs_;  // "apis/aidi.dev/v1alpha1" -> JSON
  std::map<std::string, std::string> openapi_v3_hashes_;

  std::atomic<bool> stopping_{false};
  std::mutex gc_mu_;
  std::condition_variable gc_cv_;
  bool gc_pending_ = false;
  std::thread gc_thread_;
};

}  // namespace aidi::devcluster
