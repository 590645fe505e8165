// Client: sends requests built by kube/core to one API server, the way client-go's REST client
// does, and turns every answer into a value or a named Status.
//
// Per request: wait for the client-side rate limiter (token bucket, qps/burst); add the bearer
// token from the credential source; on 401 invalidate the source and retry once with fresh
// credentials; on 429, and on 5xx for requests that are safe to repeat (GET, PUT, DELETE) or
// were refused before processing (503), wait Retry-After (capped; 1 s when absent, doubling)
// and retry up to max_retries times. A non-2xx answer becomes its Status code (NotFound,
// Conflict, Expired, ...) with the server's message.
//
// Watches: Watch() opens the stream with a read timeout above the request's timeoutSeconds
// (cpprestsdk's timeout is per read, so a stalled connection is still noticed) and yields
// parsed events. Shutdown() ends retry waits at once and refuses further requests, so a
// process can exit promptly while its API server is unreachable. Thread safety: every method may be
// called from any thread; a WatchStream is read by one thread, and Cancel() may come from any.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/status.h"
#include "kube/client/config.h"
#include "kube/client/transport.h"
#include "kube/core/request.h"
#include "kube/core/watch_event.h"

namespace aidi {
class TokenBucket;
}

namespace aidi::kube {

class WatchStream {
 public:
  explicit WatchStream(std::unique_ptr<ResponseStream> body) : body_(std::move(body)) {}
  // The next event; nullopt when the server closed the stream (timeoutSeconds passed). An
  // in-stream ERROR event is returned as an event (its `error` says why, e.g. Expired).
  StatusOr<std::optional<WatchEvent>> Next();
  void Cancel() { body_->Cancel(); }

 private:
  std::unique_ptr<ResponseStream> body_;
};

class Client {
 public:
  // Transport factory: called again when an exec plugin hands out a new client certificate.
  using TransportFactory =
      std::function<StatusOr<std::unique_ptr<Transport>>(const TransportConfig&)>;

  // The real client (cpprestsdk transport).
  static StatusOr<std::shared_ptr<Client>> Create(ClientConfig config);
  // The real client for LoadDefault(kubeconfig_path) (a --kubeconfig flag, else $KUBECONFIG,
  // in-cluster, ~/.kube/config), as every aidi binary resolves its cluster.
  static StatusOr<std::shared_ptr<Client>> FromDefault(const std::string& kubeconfig_path);
  // How the client waits between retries and for the rate limiter (tests record instead).
  using Sleeper = std::function<void(std::chrono::nanoseconds)>;
  // With any transport factory (tests pass a fake); `clock` must outlive the client.
  static StatusOr<std::shared_ptr<Client>> Create(ClientConfig config, TransportFactory factory,
                                                  const Clock& clock = Clock::Real(),
                                                  Sleeper sleep = nullptr);
  ~Client();

  // Sends and parses the JSON answer (an empty body parses as null).
  StatusOr<nlohmann::json> Send(const HttpRequest& request);
  // Sends and returns the raw answer body (for non-JSON endpoints: logs, metrics).
  StatusOr<std::string> SendRaw(const HttpRequest& request);
  // Opens a watch (request.watch must be set). The returned stream yields events.
  StatusOr<std::unique_ptr<WatchStream>> Watch(const HttpRequest& request);

  // A client for the same server and credentials with another retry budget and request
  // timeout (a leader's lease renewals must not outlive the renew deadline in retries).
  std::shared_ptr<Client> WithRetryPolicy(int max_retries,
                                          std::chrono::milliseconds request_timeout) const;

  // Stops this client for good, for shutdown: a retry or rate-limit wait in progress ends at
  // once, and every request from then on fails with Cancelled without being sent, so threads
  // retrying against an unreachable server can be joined at once. Clients made earlier by
  // WithRetryPolicy carry on (a leader can still release its lease). Any thread; idempotent.
  void Shutdown();

  const ClientConfig& config() const { return config_; }
  const std::string& default_namespace() const { return config_.ns; }

 private:
  Client(ClientConfig config, TransportFactory factory, const Clock& clock, Sleeper sleep);
  // The transport for these credentials, rebuilt when an exec plugin's certificate changes.
  StatusOr<std::shared_ptr<Transport>> TransportFor(const Credentials& creds);
  // Current credentials (if any) and the headers that carry them.
  StatusOr<HeaderList> Prepare(Credentials* creds);
  StatusOr<HttpResponse> Exchange(const HttpRequest& request);
  // Waits for the rate limiter / `d`; false when Shutdown came first (or had come).
  [[nodiscard]] bool WaitForRateLimit();
  [[nodiscard]] bool Pause(std::chrono::nanoseconds d);
  bool IsShutDown();
  Status ShutDownError(const HttpRequest& request) const;

  ClientConfig config_;
  TransportFactory factory_;
  const Clock& clock_;
  Sleeper sleep_;  // null: wait on pause_cv_, which Shutdown wakes
  std::unique_ptr<TokenBucket> limiter_;
  std::mutex pause_mu_;  // guards shut_down_
  std::condition_variable pause_cv_;
  bool shut_down_ = false;
  std::mutex mu_;  // guards transport_ and cert_
  std::shared_ptr<Transport> transport_;
  std::string transport_cert_;
};

}  // namespace aidi::kube
