#include "kube/client/client.h"

#include <algorithm>

#include "base/log.h"
#include "base/token_bucket.h"
#include "kube/core/api_status.h"

namespace aidi::kube {
namespace {

bool IsSuccess(int status) { return status >= 200 && status <= 299; }

// Whether repeating `method` after `status` is safe: 429 and 503 mean the server did not act;
// other 5xx may have acted, so only verbs that are idempotent are repeated after them.
bool Retryable(const std::string& method, int status) {
  if (status == 429 || status == 503) return true;
  if (status < 500 || status > 599 || status == 501) return false;
  return method == "GET" || method == "PUT" || method == "DELETE" || method == "HEAD";
}

std::chrono::seconds RetryAfter(const HttpResponse& response, std::chrono::seconds fallback,
                                std::chrono::seconds cap) {
  std::string value = response.Header("retry-after");
  std::chrono::seconds wait = fallback;
  if (!value.empty() && std::all_of(value.begin(), value.end(), ::isdigit) && value.size() < 7) {
    wait = std::chrono::seconds(std::stoi(value));
  }
  return std::min(std::max(wait, std::chrono::seconds(0)), cap);
}

}  // namespace

StatusOr<std::optional<WatchEvent>> WatchStream::Next() {
  for (;;) {
    AIDI_ASSIGN_OR_RETURN(std::optional<std::string> line, body_->ReadLine());
    if (!line) return std::optional<WatchEvent>();
    if (line->empty()) continue;  // keep-alive blank lines
    AIDI_ASSIGN_OR_RETURN(WatchEvent event, ParseWatchEvent(*line));
    return std::optional<WatchEvent>(std::move(event));
  }
}

StatusOr<std::shared_ptr<Client>> Client::Create(ClientConfig config) {
  return Create(std::move(config), NewHttpTransport);
}

StatusOr<std::shared_ptr<Client>> Client::FromDefault(const std::string& kubeconfig_path) {
  AIDI_ASSIGN_OR_RETURN(ClientConfig config, LoadDefault(kubeconfig_path));
  return Create(std::move(config));
}

StatusOr<std::shared_ptr<Client>> Client::Create(ClientConfig config, TransportFactory factory,
                                                 const Clock& clock, Sleeper sleep) {
  if (config.server.empty()) return Status::InvalidArgument("client config has no server");
  std::shared_ptr<Client> client(
      new Client(std::move(config), std::move(factory), clock, std::move(sleep)));
  // Build the first transport now so a bad server URL or PEM is reported at start-up.
  AIDI_RETURN_IF_ERROR(client->TransportFor(Credentials{}).status());
  return client;
}

Client::Client(ClientConfig config, TransportFactory factory, const Clock& clock, Sleeper sleep)
    : config_(std::move(config)),
      factory_(std::move(factory)),
      clock_(clock),
      sleep_(std::move(sleep)),
      limiter_(std::make_unique<TokenBucket>(config_.qps, config_.burst, clock)) {}

Client::~Client() = default;

std::shared_ptr<Client> Client::WithRetryPolicy(int max_retries,
                                                std::chrono::milliseconds request_timeout) const {
  ClientConfig config = config_;
  config.max_retries = max_retries;
  config.request_timeout = request_timeout;
  return std::shared_ptr<Client>(new Client(std::move(config), factory_, clock_, sleep_));
}

StatusOr<std::shared_ptr<Transport>> Client::TransportFor(const Credentials& creds) {
  std::string cert =
      creds.client_cert_pem.empty() ? config_.client_cert_pem : creds.client_cert_pem;
  std::lock_guard lock(mu_);
  if (transport_ && cert == transport_cert_) return transport_;
  TransportConfig tc;
  tc.server = config_.server;
  tc.ca_pem = config_.ca_pem;
  tc.client_cert_pem = cert;
  tc.client_key_pem = creds.client_cert_pem.empty() ? config_.client_key_pem : creds.client_key_pem;
  tc.insecure_skip_tls_verify = config_.insecure_skip_tls_verify;
  tc.tls_server_name = config_.tls_server_name;
  auto made = factory_(tc);
  if (!made.ok()) return made.status().WithContext("server " + config_.server);
  transport_ = std::shared_ptr<Transport>(std::move(made).value());
  transport_cert_ = cert;
  return transport_;
}

StatusOr<HeaderList> Client::Prepare(Credentials* creds) {
  HeaderList headers;
  headers.emplace_back("User-Agent", config_.user_agent);
  if (config_.credentials) {
    auto got = config_.credentials->Get();
    if (!got.ok()) {
      return Status::Unauthorized("getting credentials from " + config_.credentials->Describe() +
                                  ": " + got.status().message());
    }
    *creds = std::move(got).value();
    if (!creds->bearer_token.empty()) {
      headers.emplace_back("Authorization", "Bearer " + creds->bearer_token);
    }
  }
  return headers;
}

void Client::Shutdown() {
  {
    std::lock_guard lock(pause_mu_);
    shut_down_ = true;
  }
  pause_cv_.notify_all();
}

bool Client::IsShutDown() {
  std::lock_guard lock(pause_mu_);
  return shut_down_;
}

Status Client::ShutDownError(const HttpRequest& request) const {
  return Status::Cancelled(request.method + " " + request.path +
                           ": not sent, the client is shutting down");
}

bool Client::Pause(std::chrono::nanoseconds d) {
  if (sleep_) {  // a test's sleeper: it returns when it likes
    if (IsShutDown()) return false;
    sleep_(d);
    return !IsShutDown();
  }
  std::unique_lock lock(pause_mu_);
  return !pause_cv_.wait_for(lock, d, [this] { return shut_down_; });
}

bool Client::WaitForRateLimit() {
  auto wait = limiter_->Reserve();
  return wait.count() > 0 ? Pause(wait) : !IsShutDown();
}

namespace {

// cpprestsdk's words for a failed TLS handshake, certificate verification included.
bool IsTlsHandshakeFailure(const Status& status) {
  return status.message().find("SSL handshake") != std::string::npos;
}

}  // namespace

StatusOr<HttpResponse> Client::Exchange(const HttpRequest& request) {
  bool reauthenticated = false;
  int retries = 0;
  std::chrono::seconds backoff(1);
  const auto timeout =
      std::chrono::duration_cast<std::chrono::milliseconds>(config_.request_timeout);
  for (;;) {
    if (!WaitForRateLimit()) return ShutDownError(request);
    Credentials creds;
    AIDI_ASSIGN_OR_RETURN(HeaderList headers, Prepare(&creds));
    AIDI_ASSIGN_OR_RETURN(std::shared_ptr<Transport> transport, TransportFor(creds));
    auto started = clock_.Monotonic();
    StatusOr<HttpResponse> response = transport->Send(request, headers, timeout);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Monotonic() - started);
    if (!response.ok() && IsTlsHandshakeFailure(response.status())) {
      // Verification is on and failed (a certificate the kubeconfig's CA did not sign), or the
      // server does not speak TLS. Never quiet: cpprestsdk only says "Error in SSL handshake",
      // and callers such as informers retry forever, so say it here, at error level, each time.
      response = Status::Unavailable(response.status().message() +
                                     ": TLS certificate verification failed (the server's "
                                     "certificate is not signed by the configured "
                                     "certificate-authority, or the server does not speak TLS)");
      log::Error("refusing the API server: TLS certificate verification failed",
                 {{"server", config_.server}, {"error", response.status().message()}});
    }
    if (!response.ok()) {
      // The connection failed: only a read is safe to repeat without knowing what happened.
      log::Debug("request failed", {{"verb", request.method},
                                    {"path", request.path},
                                    {"error", response.status().message()}});
      if (request.method == "GET" && retries < config_.max_retries) {
        ++retries;
        if (!Pause(backoff)) return ShutDownError(request);
        backoff = std::min(backoff * 2, config_.max_retry_after);
        continue;
      }
      return response.status();
    }
    log::Debug("request", {{"verb", request.method},
                           {"path", request.path},
                           {"status", response->status},
                           {"ms", static_cast<long long>(ms.count())}});
    if (response->status == 401 && config_.credentials && !reauthenticated) {
      // Tokens rotate (service accounts, exec plugins): refresh once before giving up.
      log::Info("unauthorized: refreshing credentials",
                {{"source", config_.credentials->Describe()}});
      config_.credentials->Invalidate();
      reauthenticated = true;
      continue;
    }
    if (Retryable(request.method, response->status) && retries < config_.max_retries) {
      auto wait = RetryAfter(*response, backoff, config_.max_retry_after);
      log::Info("retrying", {{"verb", request.method},
                             {"path", request.path},
                             {"status", response->status},
                             {"after_s", static_cast<long long>(wait.count())},
                             {"attempt", retries + 1}});
      ++retries;
      if (!Pause(wait)) return ShutDownError(request);
      backoff = std::min(backoff * 2, config_.max_retry_after);
      continue;
    }
    return response;
  }
}

StatusOr<std::string> Client::SendRaw(const HttpRequest& request) {
  AIDI_ASSIGN_OR_RETURN(HttpResponse response, Exchange(request));
  if (!IsSuccess(response.status)) return StatusFromResponse(response.status, response.body);
  return std::move(response.body);
}

StatusOr<nlohmann::json> Client::Send(const HttpRequest& request) {
  AIDI_ASSIGN_OR_RETURN(std::string body, SendRaw(request));
  if (body.empty()) return nlohmann::json();
  nlohmann::json doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    return Status::Internal(request.method + " " + request.path +
                            ": the server's answer is not JSON");
  }
  return doc;
}

StatusOr<std::unique_ptr<WatchStream>> Client::Watch(const HttpRequest& request) {
  // The server ends the watch after timeoutSeconds; each read may wait that long, plus margin.
  std::chrono::milliseconds read_timeout(300000);
  if (auto t = request.Query("timeoutSeconds")) {
    read_timeout = std::chrono::seconds(std::max(1, std::atoi(t->c_str())) + 30);
  }
  bool reauthenticated = false;
  for (;;) {
    if (!WaitForRateLimit()) return ShutDownError(request);
    Credentials creds;
    AIDI_ASSIGN_OR_RETURN(HeaderList headers, Prepare(&creds));
    AIDI_ASSIGN_OR_RETURN(std::shared_ptr<Transport> transport, TransportFor(creds));
    AIDI_ASSIGN_OR_RETURN(StreamingResponse response,
                          transport->Open(request, headers, read_timeout));
    if (response.status == 401 && config_.credentials && !reauthenticated) {
      config_.credentials->Invalidate();
      reauthenticated = true;
      continue;
    }
    if (!IsSuccess(response.status))
      return StatusFromResponse(response.status, response.error_body);
    return std::make_unique<WatchStream>(std::move(response.body));
  }
}

}  // namespace aidi::kube
