// HttpServer: a small HTTP/1.1 server (plain or TLS) for devcluster's API endpoints.
//
// One thread per connection, keep-alive, request bodies read in full up to a limit, responses
// either whole (Content-Length) or streamed with chunked transfer encoding where every Write()
// is flushed at once (watch events must reach clients immediately). With TLS, the server
// presents a certificate signed by a CA it generated at start (see tls_certs.h) and offers
// only HTTP/1.1 via ALPN ("http/1.1"), which Go's net/http (kubectl) and urllib3 accept.
//
// Thread safety: Start/Stop from one thread; the handler is called concurrently from
// connection threads and must be thread-safe. A ResponseWriter belongs to one request and is
// used only from the thread that runs that request's handler.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace aidi::http {

struct Request {
  std::string method;     // "GET", "POST", ...
  std::string path;       // percent-decoded path without the query, e.g. "/api/v1/pods"
  std::string raw_path;   // as received, without the query
  std::string raw_query;  // as received, without '?'
  // Query parameters, percent-decoded ('+' is a space); repeated keys keep every value in order.
  std::multimap<std::string, std::string> query;
  // Header names are lower-cased; repeated headers are joined with ", ".
  std::map<std::string, std::string> headers;
  std::string body;
  bool body_too_large = false;  // the body exceeded the server's limit and was not read
  std::string remote_addr;      // "127.0.0.1:53412"

  // First value of a query parameter, or nullopt.
  std::optional<std::string> Query(std::string_view key) const;
  // Header value or "" (name is matched case-insensitively).
  std::string Header(std::string_view name) const;
};

// How a handler answers. Either call Send() once, or StartStream() then Write() any number
// of times (each write is sent as one chunk and flushed). Closed() turns true once the client
// has gone away or the server is stopping; a streaming handler must poll it (or watch Write()'s
// result) and return promptly.
class ResponseWriter {
 public:
  virtual ~ResponseWriter() = default;
  using Headers = std::vector<std::pair<std::string, std::string>>;
  virtual void Send(int status, const Headers& headers, std::string_view body) = 0;
  virtual bool StartStream(int status, const Headers& headers) = 0;
  virtual bool Write(std::string_view data) = 0;  // false once the client is gone
  virtual bool Closed() const = 0;
  // Forces the connection to close after this response (used to drop watches by fault).
  virtual void CloseAfterResponse() = 0;
};

using Handler = std::function<void(const Request&, ResponseWriter&)>;

struct TlsConfig {
  std::string cert_pem;  // server certificate chain
  std::string key_pem;   // server private key
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // 0 picks a free port
  std::size_t max_body_bytes = 3 * 1024 * 1024;
  std::optional<TlsConfig> tls;
};

class HttpServer {
 public:
  explicit HttpServer(Handler handler);
  ~HttpServer();  // stops the server
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds, listens and starts accepting; returns once connections are accepted.
  Status Start(const ServerOptions& options);
  int port() const;  // the bound port, after Start
  // Stops accepting, marks every open response Closed(), waits for handler threads to finish.
  void Stop();
  // Closes every connection that is currently streaming a response (e.g. all watches).
  void DropStreams();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace aidi::http
