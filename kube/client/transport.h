// Transport: sends one HttpRequest to the API server and returns the raw response, either whole
// or as a stream of lines (watches). It knows TLS and sockets, nothing of Kubernetes: auth
// headers, retries, rate limits and error mapping live in Client (client.h), so Client is
// tested against a fake Transport with requests checked as values.
//
// NewHttpTransport is the real one (cpprestsdk; its headers stay inside transport_cpprest.cc).
// Thread safety: Send and Open may be called concurrently; a ResponseStream belongs to one
// reader thread, except Cancel(), which any thread may call.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "kube/core/request.h"

namespace aidi::kube {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::string Header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? "" : it->second;
  }
};

// The body of a streaming response, line by line.
class ResponseStream {
 public:
  virtual ~ResponseStream() = default;
  // The next line without its '\n'; nullopt when the server ended the stream cleanly; an error
  // (kUnavailable, kTimeout, kCancelled) when the connection broke, stalled or was cancelled.
  virtual StatusOr<std::optional<std::string>> ReadLine() = 0;
  // Unblocks ReadLine() from another thread; it then returns kCancelled.
  virtual void Cancel() = 0;
};

struct StreamingResponse {
  int status = 0;
  std::map<std::string, std::string> headers;
  std::string error_body;                // the whole body, when status is not 2xx
  std::unique_ptr<ResponseStream> body;  // set when status is 2xx
};

class Transport {
 public:
  virtual ~Transport() = default;
  // Whole-body request; `timeout` bounds the whole exchange. Network failures are kUnavailable
  // (or kTimeout); any HTTP status, 4xx and 5xx included, is a response, not an error.
  virtual StatusOr<HttpResponse> Send(const HttpRequest& request, const HeaderList& headers,
                                      std::chrono::milliseconds timeout) = 0;
  // Streaming request; `read_timeout` bounds each read (it must exceed the watch's
  // timeoutSeconds so a quiet but healthy watch is not cut).
  virtual StatusOr<StreamingResponse> Open(const HttpRequest& request, const HeaderList& headers,
                                           std::chrono::milliseconds read_timeout) = 0;
};

struct TransportConfig {
  std::string server;  // "https://host:port" or "http://host:port"
  std::string ca_pem;  // "" = system roots
  std::string client_cert_pem;
  std::string client_key_pem;
  bool insecure_skip_tls_verify = false;
  std::string tls_server_name;
};

// The cpprestsdk transport. Fails (kInvalidArgument) on a malformed server URL or PEM.
StatusOr<std::unique_ptr<Transport>> NewHttpTransport(const TransportConfig& config);

}  // namespace aidi::kube
