#include "scheduler-extender/server.h"

#include <malloc.h>

#include <chrono>
#include <exception>
#include <string_view>
#include <utility>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "base/log.h"

namespace aidi::extender {

void TuneAllocatorForRequests() {
  constexpr int kKeep = 64 * 1024 * 1024;  // above kMaxBodyBytes: a request never maps memory
  static_assert(kKeep > static_cast<long long>(kMaxBodyBytes));
  mallopt(M_MMAP_THRESHOLD, kKeep);  // a fixed threshold also turns off the adaptive one
  mallopt(M_TRIM_THRESHOLD, kKeep);
}

namespace {

constexpr char kJson[] = "application/json";
constexpr char kText[] = "text/plain; charset=utf-8";

ExtenderServer::Response Json(int status, std::string body) {
  return {status, kJson, std::move(body), ""};
}

ExtenderServer::Response Text(int status, std::string body) {
  return {status, kText, std::move(body), ""};
}

ExtenderServer::Response BadRequest(const Status& s) {
  return Json(400, EncodeErrorBody(s.message()));
}

}  // namespace

struct ExtenderServer::Instruments {
  explicit Instruments(prometheus::Registry& registry)
      : requests(prometheus::BuildCounter()
                     .Name("aidi_extender_requests_total")
                     .Help("Requests by verb (filter, prioritize, bind, healthz, readyz, "
                           "metrics, other) and HTTP status code.")
                     .Register(registry)),
        durations(prometheus::BuildHistogram()
                      .Name("aidi_extender_request_duration_seconds")
                      .Help("Time to answer a request, decoding and encoding included, by verb.")
                      .Register(registry)),
        filter_nodes(prometheus::BuildCounter()
                         .Name("aidi_extender_filter_nodes_total")
                         .Help("Candidate nodes the filter answered, by result (passed, failed, "
                               "unresolvable).")
                         .Register(registry)),
        bind_failures(prometheus::BuildCounter()
                          .Name("aidi_extender_bind_failures_total")
                          .Help("Bind calls answered with an error.")
                          .Register(registry)
                          .Add({})) {}

  void Observe(const std::string& verb, int code, double seconds) {
    static const prometheus::Histogram::BucketBoundaries kBuckets = {
        // Fine below 10 ms, with edges at the p99 goals (150 us, 600 us, 2.5 ms), so a
        // benchmark reads percentiles off the histogram without guessing inside a wide bucket.
        25e-6,  50e-6,  75e-6, 100e-6, 150e-6, 200e-6, 300e-6, 400e-6, 500e-6,
        600e-6, 800e-6, 1e-3,  1.5e-3, 2e-3,   2.5e-3, 3e-3,   4e-3,   5e-3,
        7.5e-3, 10e-3,  25e-3, 50e-3,  100e-3, 250e-3, 500e-3, 1,      2.5};
    requests.Add({{"verb", verb}, {"code", std::to_string(code)}}).Increment();
    durations.Add({{"verb", verb}}, kBuckets).Observe(seconds);
  }

  prometheus::Family<prometheus::Counter>& requests;
  prometheus::Family<prometheus::Histogram>& durations;
  prometheus::Family<prometheus::Counter>& filter_nodes;
  prometheus::Counter& bind_failures;
};

ExtenderServer::ExtenderServer(Handlers* handlers, NodeCache* cache, GpuLedger* ledger,
                               kube::Metrics* metrics)
    : handlers_(handlers), cache_(cache), ledger_(ledger), metrics_(metrics) {
  if (metrics_ == nullptr) return;
  instruments_ = std::make_unique<Instruments>(metrics_->registry());
  sampler_id_ = metrics_->AddSampler([this](std::vector<kube::Metrics::Sample>& out) {
    auto gauge = [&](const char* name, const char* help, bool counter, double value) {
      out.push_back({name, help, counter, {}, value});
    };
    gauge("aidi_extender_ledger_reservations",
          "GPU reservations of binds the node cache does not show yet.", false,
          static_cast<double>(ledger_->size()));
    gauge("aidi_extender_ledger_reserved_total", "Reservations made by binds.", true,
          static_cast<double>(ledger_->reserved_total()));
    gauge("aidi_extender_ledger_rejected_total",
          "Reservations refused because too few GPUs were free.", true,
          static_cast<double>(ledger_->rejected_total()));
    gauge("aidi_extender_ledger_expired_total",
          "Reservations dropped by their TTL before the cache showed the pod.", true,
          static_cast<double>(ledger_->expired_total()));
    gauge("aidi_extender_cache_nodes", "Nodes in the extender's node cache.", false,
          static_cast<double>(cache_->node_count()));
  });
}

ExtenderServer::~ExtenderServer() {
  Stop();
  if (metrics_ != nullptr) metrics_->RemoveSampler(sampler_id_);
}

Status ExtenderServer::Start(http::ServerOptions options) {
  if (options.max_body_bytes < kMaxBodyBytes) options.max_body_bytes = kMaxBodyBytes;
  http_ = std::make_unique<http::HttpServer>(
      [this](const http::Request& request, http::ResponseWriter& writer) {
        Response r = Serve(request);
        http::ResponseWriter::Headers headers = {{"Content-Type", r.content_type}};
        if (!r.allow.empty()) headers.emplace_back("Allow", r.allow);
        writer.Send(r.status, headers, r.body);
      });
  return http_->Start(options);
}

int ExtenderServer::port() const { return http_ ? http_->port() : 0; }

void ExtenderServer::Stop() {
  if (http_) http_->Stop();
}

ExtenderServer::Response ExtenderServer::Serve(const http::Request& request) {
  const auto start = std::chrono::steady_clock::now();
  std::string_view path = request.path;
  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  std::string verb = "other";
  const bool post_verb = path == "/filter" || path == "/prioritize" || path == "/bind";
  const bool get_verb = path == "/healthz" || path == "/readyz" || path == "/metrics";
  if (post_verb || get_verb) verb = std::string(path.substr(1));

  Response response;
  try {
    if (!post_verb && !get_verb) {
      response = Json(404, EncodeErrorBody("no such path: " + request.path +
                                           " (want /filter, /prioritize, /bind, /healthz, "
                                           "/readyz or /metrics)"));
    } else if (post_verb && request.method != "POST") {
      response = Json(405, EncodeErrorBody(request.method + " is not allowed on " +
                                           std::string(path) + "; use POST"));
      response.allow = "POST";
    } else if (get_verb && request.method != "GET" && request.method != "HEAD") {
      response = Json(405, EncodeErrorBody(request.method + " is not allowed on " +
                                           std::string(path) + "; use GET"));
      response.allow = "GET, HEAD";
    } else if (request.body_too_large) {
      response = Json(
          413, EncodeErrorBody("request body exceeds " + std::to_string(kMaxBodyBytes) + " bytes"));
    } else if (path == "/healthz") {
      response = Text(200, "ok");
    } else if (path == "/readyz") {
      response = cache_->synced() ? Text(200, "ok") : Text(503, "caches not synced");
    } else if (path == "/metrics") {
      response = metrics_ ? Response{200, "text/plain; version=0.0.4; charset=utf-8",
                                     metrics_->Render(), ""}
                          : Text(404, "no metrics");
    } else if (path == "/bind") {
      auto args = DecodeExtenderBindingArgs(request.body);
      if (!args.ok()) {
        response = BadRequest(args.status());
      } else {
        std::string error = handlers_->Bind(*args);
        if (!error.empty()) {
          log::Warn("bind failed", {{"pod", args->pod_namespace + "/" + args->pod_name},
                                    {"node", args->node},
                                    {"error", error}});
          if (instruments_) instruments_->bind_failures.Increment();
        }
        response = Json(200, EncodeBindingResult(error));
      }
    } else {
      // Per connection thread, reused: its NodeNames keep their capacity between requests.
      thread_local ExtenderArgs reused;
      ExtenderArgs* args = &reused;
      if (Status decoded = DecodeExtenderArgs(request.body, args); !decoded.ok()) {
        response = BadRequest(decoded);
      } else if (path == "/filter") {
        ExtenderFilterResult result = handlers_->Filter(*args);
        auto encoded = EncodeFilterResult(result, *args);
        response = encoded.ok() ? Json(200, std::move(*encoded))
                                : Json(200, EncodeFilterError(encoded.status().message()));
        if (instruments_) {
          instruments_->filter_nodes.Add({{"result", "passed"}})
              .Increment(static_cast<double>(result.passed.size()));
          instruments_->filter_nodes.Add({{"result", "failed"}})
              .Increment(static_cast<double>(result.failed_nodes.size()));
          instruments_->filter_nodes.Add({{"result", "unresolvable"}})
              .Increment(static_cast<double>(result.failed_and_unresolvable_nodes.size()));
        }
      } else {
        response = Json(200, EncodeHostPriorityList(handlers_->Prioritize(*args)));
      }
    }
  } catch (const std::exception& e) {
    // Handlers return values; this is the last line against a library that throws (bad_alloc).
    log::Error("request failed", {{"path", request.path}, {"error", e.what()}});
    response = Json(500, EncodeErrorBody(std::string("internal error: ") + e.what()));
  }
  if (instruments_) {
    instruments_->Observe(
        verb, response.status,
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return response;
}

}  // namespace aidi::extender
