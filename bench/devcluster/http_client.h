// HttpConnection: one blocking HTTP/1.1 keep-alive connection (plain TCP or TLS) over POSIX
// sockets, just enough for the devcluster benchmark: requests with a Content-Length body,
// responses framed by Content-Length, chunked coding or connection close, and streamed
// (watch) responses whose socket the caller takes over after the headers.
//
// It is deliberately small so that the client's cost stays well below the server's: requests
// go out in one write with TCP_NODELAY, responses are read into one growing buffer.
//
// Thread safety: none; each thread owns its connections. An Endpoint (and its TLS context) is
// immutable after LoadKubeconfig and may be shared by every thread.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;

namespace aidi::bench {

// Where a server listens and how to authenticate, as read from a kubeconfig.
struct Endpoint {
  std::string host;
  int port = 0;
  bool tls = false;
  std::string token;
  std::shared_ptr<SSL_CTX> ssl_ctx;  // set when tls: trusts the kubeconfig's CA only
};

// Reads the first cluster's server URL (+ certificate-authority-data) and the first user's
// bearer token from a kubeconfig such as the one aidi-devcluster writes.
[[nodiscard]] StatusOr<Endpoint> LoadKubeconfig(const std::string& path);

struct HttpResponse {
  int status = 0;
  std::string body;
};

class HttpConnection {
 public:
  explicit HttpConnection(const Endpoint& endpoint);  // `endpoint` must outlive the connection
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  // Connects (and handshakes, with TLS). Do() connects on first use; call this to keep the
  // connect cost out of a timed section.
  [[nodiscard]] Status Connect();

  // Sends one request and reads the whole response. `body` empty sends no body.
  [[nodiscard]] StatusOr<HttpResponse> Do(std::string_view method, std::string_view path,
                                          std::string_view body = {});
  // The same, into `*out`, whose body buffer is reused (large LISTs are not reallocated).
  [[nodiscard]] Status Do(std::string_view method, std::string_view path, std::string_view body,
                          HttpResponse* out);

  // Sends a GET whose response is a chunked stream and reads only its status line and
  // headers. Returns the status; afterwards the caller owns the socket (fd(), plain HTTP only)
  // and must feed TakeBuffered() to a ChunkedDecoder before anything it reads itself.
  [[nodiscard]] StatusOr<int> StartStream(std::string_view path);
  int fd() const { return fd_; }
  // When the last response's status line and headers had arrived (time to first byte).
  std::chrono::steady_clock::time_point head_received() const { return head_received_; }
  std::string TakeBuffered();

  void Close();

 private:
  [[nodiscard]] Status SendAll(std::string_view data);
  // Reads at least one byte into `into`; an error at EOF.
  [[nodiscard]] StatusOr<std::size_t> RecvSome(char* into, std::size_t n);
  // Reads more bytes into buf_; an error at EOF.
  [[nodiscard]] Status Fill();
  // Reads the status line and headers; sets *chunked / *length (-1: none) / *close.
  [[nodiscard]] Status ReadHead(int* status, bool* chunked, long long* length, bool* close);
  [[nodiscard]] Status ReadChunkedBody(std::string* out);
  std::string Request(std::string_view method, std::string_view path, std::string_view body) const;
  void Consume(std::size_t n);

  const Endpoint& endpoint_;
  int fd_ = -1;
  SSL* ssl_ = nullptr;
  std::string buf_;  // received, not yet consumed bytes start at pos_
  std::size_t pos_ = 0;
  std::chrono::steady_clock::time_point head_received_;
};

// Incremental decoder for a chunked response body (RFC 9112 7.1), for streamed watches.
class ChunkedDecoder {
 public:
  // Appends the payload contained in `data` to `*out`. False on malformed framing. Stops at
  // the end of the body; `*consumed` (if given) says how many bytes of `data` it used.
  bool Feed(std::string_view data, std::string* out, std::size_t* consumed = nullptr);
  bool Finished() const { return state_ == State::kDone; }

 private:
  enum class State { kSize, kData, kDataEnd, kTrailer, kDone };
  State state_ = State::kSize;
  std::string line_;           // partial chunk-size line
  std::size_t remaining_ = 0;  // payload bytes left in the current chunk
  std::size_t crlf_left_ = 0;  // bytes of the CRLF after a chunk still to skip
};

}  // namespace aidi::bench
