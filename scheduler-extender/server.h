// ExtenderServer: the HTTP face of the extender — kube-scheduler's verbs plus the endpoints a
// pod exposes to the kubelet and Prometheus, on one port (plain HTTP or TLS).
//
//   POST /filter       ExtenderArgs -> ExtenderFilterResult          (Handlers::Filter)
//   POST /prioritize   ExtenderArgs -> HostPriorityList              (Handlers::Prioritize)
//   POST /bind         ExtenderBindingArgs -> ExtenderBindingResult  (Handlers::Bind)
//   GET  /healthz      200 "ok"
//   GET  /readyz       200 "ok" once the caches synced, else 503 "caches not synced"
//   GET  /metrics      Prometheus text (kube::Metrics::Render)
// A body that does not decode answers 400 with {"Error":"<what and where>"} (wire.h's
// EncodeErrorBody); a body over the limit 413; an unknown path 404; a known path with the
// wrong method 405 (with Allow). A trailing slash is tolerated ("/filter/"), since
// kube-scheduler joins urlPrefix and verb with one. Nothing a client sends can crash it:
// decoding and handlers return values, and an exception that escapes a handler anyway is
// answered 500.
//
// Metrics (prefix aidi_extender_): requests_total{verb,code}, request_duration_seconds{verb}
// (histogram), filter_nodes_total{result} (passed, failed, unresolvable), bind_failures_total,
// and, sampled at scrape time, ledger_reservations, ledger_reserved_total,
// ledger_rejected_total, ledger_expired_total, cache_nodes.
//
// Thread safety: Serve() runs concurrently on the HTTP server's connection threads. Start/Stop
// from one thread. Handlers, cache, ledger and metrics must outlive the server.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "base/status.h"
#include "http/http_server.h"
#include "kube/runtime/metrics.h"
#include "scheduler-extender/gpu_ledger.h"
#include "scheduler-extender/handlers.h"
#include "scheduler-extender/node_cache.h"

namespace aidi::extender {

// The largest request body read: a Nodes-form filter call with thousands of full Node objects
// runs to several MiB.
inline constexpr std::size_t kMaxBodyBytes = 32 * 1024 * 1024;

// Tells glibc's allocator to keep request-sized blocks in the process: without it, every
// buffer over its (adaptive) mmap threshold, such as a 5,000-name list or answer, is mapped and
// unmapped per request and its pages fault in again each time, which costs more than the work
// at thousands of nodes. Freed memory is kept up to 64 MiB per arena (RSS stays near its peak).
// Call once at start, before serving.
void TuneAllocatorForRequests();

class ExtenderServer {
 public:
  struct Response {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::string allow;  // 405 only: the Allow header
  };

  // `metrics` may be null (then /metrics answers 404).
  ExtenderServer(Handlers* handlers, NodeCache* cache, GpuLedger* ledger, kube::Metrics* metrics);
  ~ExtenderServer();
  ExtenderServer(const ExtenderServer&) = delete;
  ExtenderServer& operator=(const ExtenderServer&) = delete;

  // Serves on options.host:options.port (0: a free port); options.max_body_bytes is set to
  // kMaxBodyBytes unless already larger.
  Status Start(http::ServerOptions options);
  int port() const;
  void Stop();

  // One request, without sockets (the HTTP handler calls it; so do tests).
  Response Serve(const http::Request& request);

 private:
  struct Instruments;
  Handlers* handlers_;
  NodeCache* cache_;
  GpuLedger* ledger_;
  kube::Metrics* metrics_;
  std::unique_ptr<Instruments> instruments_;
  int sampler_id_ = 0;
  std::unique_ptr<http::HttpServer> http_;
};

}  // namespace aidi::extender
