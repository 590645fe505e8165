#include "http/http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "http/tls_certs.h"

namespace aidi::http {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// A one-shot event with a bounded wait, so a broken server fails a test instead of hanging it.
class Notification {
 public:
  void Notify() {
    std::lock_guard<std::mutex> lock(mu_);
    done_ = true;
    cv_.notify_all();
  }
  bool WaitFor(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [this] { return done_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
};

struct Response {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-cased names
  std::string body;
  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

// A small blocking HTTP/1.1 client over a plain socket or OpenSSL: just enough to drive the
// server byte by byte, which real client libraries would hide.
class TestClient {
 public:
  ~TestClient() { Close(); }

  bool Connect(int port, const std::string& host = "127.0.0.1") {
    bool v6 = host.find(':') != std::string::npos;
    fd_ = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return false;
    timeval tv{10, 0};  // no test waits this long for a byte unless something is broken
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (v6) {
      sockaddr_in6 addr{};
      addr.sin6_family = AF_INET6;
      addr.sin6_port = htons(static_cast<uint16_t>(port));
      inet_pton(AF_INET6, host.c_str(), &addr.sin6_addr);
      return connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    inet_pton(AF_INET, host.c_str(), &addr.sin_addr);
    return connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }

  // Handshakes, verifying the server against the CA in `ctx` and the IP address `verify_ip`.
  bool StartTls(SSL_CTX* ctx, const std::string& verify_ip) {
    ssl_ = SSL_new(ctx);
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), verify_ip.c_str());
    static const unsigned char kAlpn[] = "\x02h2\x08http/1.1";  // what Go offers
    SSL_set_alpn_protos(ssl_, kAlpn, sizeof kAlpn - 1);
    SSL_set_fd(ssl_, fd_);
    return SSL_connect(ssl_) == 1 && SSL_get_verify_result(ssl_) == X509_V_OK;
  }

  std::string Alpn() const {
    const unsigned char* data = nullptr;
    unsigned int len = 0;
    SSL_get0_alpn_selected(ssl_, &data, &len);
    return std::string(reinterpret_cast<const char*>(data), len);
  }

  bool Write(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ssl_ != nullptr ? SSL_write(ssl_, data.data(), static_cast<int>(data.size()))
                                  : send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  bool ReadLine(std::string* line) {
    while (true) {
      std::size_t nl = buf_.find("\r\n");
      if (nl != std::string::npos) {
        *line = buf_.substr(0, nl);
        buf_.erase(0, nl + 2);
        return true;
      }
      if (!Fill()) return false;
    }
  }

  bool ReadExact(std::size_t n, std::string* out) {
    while (buf_.size() < n) {
      if (!Fill()) return false;
    }
    *out = buf_.substr(0, n);
    buf_.erase(0, n);
    return true;
  }

  // Status line and headers only.
  std::optional<Response> ReadHead() {
    Response r;
    std::string line;
    if (!ReadLine(&line) || line.size() < 12 || line.rfind("HTTP/1.1 ", 0) != 0) {
      return std::nullopt;
    }
    r.status = std::stoi(line.substr(9, 3));
    while (ReadLine(&line) && !line.empty()) {
      std::size_t colon = line.find(':');
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      r.headers[name] = line.substr(std::min(line.size(), colon + 2));
    }
    return r;
  }

  // The next chunk of a chunked body: "" for the terminating chunk, nullopt if the connection
  // ended first.
  std::optional<std::string> ReadChunk() {
    std::string line, data;
    if (!ReadLine(&line)) return std::nullopt;
    std::size_t size = std::stoul(line, nullptr, 16);
    if (size == 0) {
      if (!ReadLine(&line)) return std::nullopt;
      return std::string();
    }
    if (!ReadExact(size, &data) || !ReadLine(&line)) return std::nullopt;
    return data;
  }

  std::optional<Response> ReadResponse(bool head_request = false) {
    std::optional<Response> r = ReadHead();
    if (!r || head_request || r->status == 204 || r->status == 304) return r;
    if (r->Header("transfer-encoding") == "chunked") {
      while (true) {
        std::optional<std::string> chunk = ReadChunk();
        if (!chunk) return std::nullopt;
        if (chunk->empty()) return r;
        r->body += *chunk;
      }
    }
    if (r->headers.count("content-length") == 0) {
      while (Fill()) {
      }
      r->body = std::move(buf_);
      buf_.clear();
      return r;
    }
    if (!ReadExact(std::stoul(r->Header("content-length")), &r->body)) return std::nullopt;
    return r;
  }

  // True when the server has closed the connection (EOF or reset) and nothing is left unread.
  bool AtEof() {
    if (!buf_.empty()) return false;
    return !Fill();
  }

  void Close() {
    if (ssl_ != nullptr) SSL_free(ssl_);
    if (fd_ >= 0) close(fd_);
    ssl_ = nullptr;
    fd_ = -1;
  }

 private:
  bool Fill() {
    char tmp[16384];
    ssize_t n = ssl_ != nullptr ? SSL_read(ssl_, tmp, sizeof tmp) : recv(fd_, tmp, sizeof tmp, 0);
    if (n <= 0) return false;
    buf_.append(tmp, static_cast<std::size_t>(n));
    return true;
  }

  int fd_ = -1;
  SSL* ssl_ = nullptr;
  std::string buf_;
};

// Records every request the handler sees.
class Recorder {
 public:
  void Add(const Request& r) {
    std::lock_guard<std::mutex> lock(mu_);
    requests_.push_back(r);
  }
  std::vector<Request> Get() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

 private:
  std::mutex mu_;
  std::vector<Request> requests_;
};

// Stops the server when a test's scope ends, before the locals its handler captured by
// reference are destroyed (handlers may still be running on connection threads).
class StopGuard {
 public:
  explicit StopGuard(std::unique_ptr<HttpServer>& server) : server_(server) {}
  ~StopGuard() {
    if (server_) server_->Stop();
  }

 private:
  std::unique_ptr<HttpServer>& server_;
};

class HttpServerTest : public ::testing::Test {
 protected:
  void StartServer(Handler handler, ServerOptions options = {}) {
    server_ = std::make_unique<HttpServer>(std::move(handler));
    Status st = server_->Start(options);
    ASSERT_TRUE(st.ok()) << st.ToString();
    ASSERT_GT(server_->port(), 0);
  }

  // A handler that records the request and echoes "METHOD path body".
  void StartEchoServer(ServerOptions options = {}) {
    StartServer(
        [this](const Request& req, ResponseWriter& w) {
          recorder_.Add(req);
          if (req.body_too_large) {
            w.Send(413, {{"Content-Type", "text/plain"}}, "too large\n");
            return;
          }
          w.Send(200, {{"Content-Type", "text/plain"}, {"X-Echo", "1"}},
                 req.method + " " + req.path + " " + req.body);
        },
        options);
  }

  std::unique_ptr<TestClient> Connect() {
    auto c = std::make_unique<TestClient>();
    EXPECT_TRUE(c->Connect(server_->port()));
    return c;
  }

  Recorder recorder_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpServerTest, GetWithContentLength) {
  StartEchoServer();
  auto c = Connect();
  ASSERT_TRUE(c->Write("GET /api/v1/pods HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto r = c->ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "GET /api/v1/pods ");
  EXPECT_EQ(r->Header("content-length"), std::to_string(r->body.size()));
  EXPECT_EQ(r->Header("x-echo"), "1");
  EXPECT_TRUE(r->Header("date").ends_with(" GMT")) << r->Header("date");
  EXPECT_EQ(r->Header("connection"), "");
  auto reqs = recorder_.Get();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_TRUE(reqs[0].remote_addr.starts_with("127.0.0.1:")) << reqs[0].remote_addr;
}

TEST_F(HttpServerTest, KeepAliveServesTwoRequestsOnOneConnection) {
  StartEchoServer();
  auto c = Connect();
  ASSERT_TRUE(c->Write("GET /one HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto r1 = c->ReadResponse();
  ASSERT_TRUE(c->Write("GET /two HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto r2 = c->ReadResponse();
  ASSERT_TRUE(r1 && r2);
  EXPECT_EQ(r1->body, "GET /one ");
  EXPECT_EQ(r2->body, "GET /two ");
}

TEST_F(HttpServerTest, PipelinedRequestsAnsweredInOrder) {
  StartEchoServer();
  auto c = Connect();
  ASSERT_TRUE(
      c->Write("POST /a HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcGET /b HTTP/1.1\r\n\r\n"
               "GET /c HTTP/1.1\r\nConnection: close\r\n\r\n"));
  auto r1 = c->ReadResponse();
  auto r2 = c->ReadResponse();
  auto r3 = c->ReadResponse();
  ASSERT_TRUE(r1 && r2 && r3);
  EXPECT_EQ(r1->body, "POST /a abc");
  EXPECT_EQ(r2->body, "GET /b ");
  EXPECT_EQ(r3->body, "GET /c ");
  EXPECT_EQ(r3->Header("connection"), "close");
  EXPECT_TRUE(c->AtEof());
}

TEST_F(HttpServerTest, PostBodyWithContentLength) {
  StartEchoServer();
  auto c = Connect();
  std::string body(100000, 'b');
  ASSERT_TRUE(
      c->Write("POST /api/v1/namespaces HTTP/1.1\r\nContent-Type: application/json\r\n"
               "Content-Length: " +
               std::to_string(body.size()) + "\r\n\r\n" + body));
  auto r = c->ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "POST /api/v1/namespaces " + body);
}

TEST_F(HttpServerTest, ChunkedRequestBody) {
  StartEchoServer();
  auto c = Connect();
  ASSERT_TRUE(
      c->Write("PUT /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
               "5\r\nhello\r\n1;ext=1\r\n \r\nA\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n"
               "GET /after HTTP/1.1\r\n\r\n"));
  auto r = c->ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "PUT /x hello 0123456789");
  auto r2 = c->ReadResponse();  // the connection stays usable after the trailers
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->body, "GET /after ");
}

TEST_F(HttpServerTest, ExpectContinue) {
  StartEchoServer();
  auto c = Connect();
  ASSERT_TRUE(c->Write("POST /x HTTP/1.1\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n"));
  std::string line;
  ASSERT_TRUE(c->ReadLine(&line));
  EXPECT_EQ(line, "HTTP/1.1 100 Continue");
  ASSERT_TRUE(c->ReadLine(&line));
  EXPECT_EQ(line, "");
  ASSERT_TRUE(c->Write("data"));
  auto r = c->ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "POST /x data");
}

TEST_F(HttpServerTest, BodyOverLimitIsNotReadAndGets413) {
  ServerOptions options;
  options.max_body_bytes = 16;
  StartEchoServer(options);
  auto c = Connect();
  std::string body(1000, 'z');
  ASSERT_TRUE(c->Write("POST /big HTTP/1.1\r\nContent-Length: 1000\r\n\r\n" + body));
  auto r = c->ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(r->Header("connection"), "close");
  EXPECT_TRUE(c->AtEof());
  auto reqs = recorder_.Get();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_TRUE(reqs[0].body_too_large);
  EXPECT_EQ(reqs[0].body, "");
}

TEST_F(HttpServerTest, BodyOverLimitWithExpectContinueGetsNoContinue) {
  ServerOptions options;
  options.max_body_bytes = 16;
  StartEchoServer(options);
  auto c = Connect();
  ASSERT_TRUE(
      c->Write("PUT /big HTTP/1.1\r\nContent-Length: 5000000\r\nExpect: 100-continue\r\n\r\n"));
  auto r = c->ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
}

TEST_F(HttpServerTest, ChunkedBodyOverLimit) {
  ServerOptions options;
  options.max_body_bytes = 8;
  StartEchoServer(options);
  auto c = Connect();
  ASSERT_TRUE(
      c->Write("POST /big HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
               "5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n"));
  auto r = c->ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_TRUE(c->AtEof());
  auto reqs = recorder_.Get();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_TRUE(reqs[0].body_too_large);
}

TEST_F(HttpServerTest, MalformedRequestsGet400AndClose) {
  StartEchoServer();
  const std::vector<std::pair<std::string, int>> cases = {
      {"GARBAGE\r\n\r\n", 400},
      {"GET /x\r\n\r\n", 400},
      {"GET  /x HTTP/1.1\r\n\r\n", 400},
      {"GET /x HTTP/1.1\r\nNo colon here\r\n\r\n", 400},
      {"GET /x HTTP/1.1\r\nBad Name: v\r\n\r\n", 400},
      {"GET /x HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", 400},
      {"GET /x HTTP/1.1\r\nContent-Length: abc\r\n\r\n", 400},
      {"GET /x HTTP/1.1\r\nContent-Length: 1, 2\r\n\r\n", 400},
      {"GET /bad%zzescape HTTP/1.1\r\n\r\n", 400},
      {"GET /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400},
      {"GET /x HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501},
      {"GET /x HTTP/2.0\r\n\r\n", 505},
  };
  for (const auto& [raw, want] : cases) {
    auto c = Connect();
    ASSERT_TRUE(c->Write(raw));
    auto r = c->ReadResponse();
    ASSERT_TRUE(r) << raw;
    EXPECT_EQ(r->status, want) << raw;
    EXPECT_EQ(r->Header("connection"), "close") << raw;
    EXPECT_TRUE(c->AtEof()) << raw;
  }
  EXPECT_TRUE(recorder_.Get().empty());
}

TEST_F(HttpServerTest, HugeHeadersGet431) {
  StartEchoServer();
  auto c = Connect();
  std::string big(1100 * 1024, 'a');
  c->Write("GET /x HTTP/1.1\r\nX-Big: " + big + "\r\n\r\n");  // may fail half way: fine
  auto r = c->ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 431);
}

TEST_F(HttpServerTest, QueryWithRepeatedKeysAndEscapes) {
  StartEchoServer();
  auto c = Connect();
  ASSERT_TRUE(
      c->Write("GET /api/v1/na%20me/a+b?labelSelector=app%3Dweb%2Cenv+in+(a)&x=1&x=2"
               "&flag&empty=&x=3&bad=%zz HTTP/1.1\r\n\r\n"));
  ASSERT_TRUE(c->ReadResponse());
  auto reqs = recorder_.Get();
  ASSERT_EQ(reqs.size(), 1u);
  const Request& req = reqs[0];
  EXPECT_EQ(req.path, "/api/v1/na me/a+b");
  EXPECT_EQ(req.raw_path, "/api/v1/na%20me/a+b");
  EXPECT_EQ(req.raw_query, "labelSelector=app%3Dweb%2Cenv+in+(a)&x=1&x=2&flag&empty=&x=3&bad=%zz");
  EXPECT_EQ(req.Query("labelSelector"), "app=web,env in (a)");
  EXPECT_EQ(req.Query("x"), "1");
  std::vector<std::string> xs;
  for (auto [it, end] = req.query.equal_range("x"); it != end; ++it) xs.push_back(it->second);
  EXPECT_EQ(xs, (std::vector<std::string>{"1", "2", "3"}));
  EXPECT_EQ(req.Query("flag"), "");
  EXPECT_EQ(req.Query("empty"), "");
  EXPECT_EQ(req.Query("bad"), "%zz");
  EXPECT_EQ(req.Query("missing"), std::nullopt);
}

TEST_F(HttpServerTest, HeadersAreCaseInsensitiveAndJoined) {
  StartEchoServer();
  auto c = Connect();
  ASSERT_TRUE(
      c->Write("GET / HTTP/1.1\r\nHost: h\r\nAccept: a/b\r\nX-Multi: one\r\n"
               "x-multi:  two \r\nAuthorization: Bearer t\r\n\r\n"));
  ASSERT_TRUE(c->ReadResponse());
  auto reqs = recorder_.Get();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].headers.at("x-multi"), "one, two");
  EXPECT_EQ(reqs[0].Header("X-MULTI"), "one, two");
  EXPECT_EQ(reqs[0].Header("accept"), "a/b");
  EXPECT_EQ(reqs[0].Header("Authorization"), "Bearer t");
  EXPECT_EQ(reqs[0].Header("missing"), "");
}

TEST_F(HttpServerTest, AbsoluteFormTarget) {
  StartEchoServer();
  auto c = Connect();
  ASSERT_TRUE(c->Write("GET http://example.com:8080/api?watch=1 HTTP/1.1\r\n\r\n"));
  auto r = c->ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "GET /api ");
  EXPECT_EQ(recorder_.Get().at(0).Query("watch"), "1");
}

TEST_F(HttpServerTest, Http10ClosesUnlessKeepAlive) {
  StartEchoServer();
  {
    auto c = Connect();
    ASSERT_TRUE(c->Write("GET /old HTTP/1.0\r\n\r\n"));
    auto r = c->ReadResponse();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, "GET /old ");
    EXPECT_TRUE(c->AtEof());
  }
  auto c = Connect();
  ASSERT_TRUE(c->Write("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  auto r1 = c->ReadResponse();
  ASSERT_TRUE(r1);
  EXPECT_EQ(r1->Header("connection"), "keep-alive");
  ASSERT_TRUE(c->Write("GET /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  auto r2 = c->ReadResponse();
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->body, "GET /b ");
}

TEST_F(HttpServerTest, HeadSendsNoBody) {
  StartEchoServer();
  auto c = Connect();
  ASSERT_TRUE(c->Write("HEAD /h HTTP/1.1\r\n\r\n"));
  auto r = c->ReadResponse(/*head_request=*/true);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->Header("content-length"), "8");  // "HEAD /h "
  ASSERT_TRUE(c->Write("GET /next HTTP/1.1\r\n\r\n"));
  auto r2 = c->ReadResponse();  // would misparse if HEAD had leaked body bytes
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->body, "GET /next ");
}

TEST_F(HttpServerTest, HandlerThatSendsNothingGets500) {
  StartServer([](const Request& req, ResponseWriter& w) {
    if (req.path == "/throw") throw std::runtime_error("boom");
    (void)w;
  });
  auto c = Connect();
  ASSERT_TRUE(c->Write("GET /nothing HTTP/1.1\r\n\r\n"));
  auto r = c->ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500);
  ASSERT_TRUE(c->Write("GET /throw HTTP/1.1\r\n\r\n"));
  r = c->ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500);
  EXPECT_EQ(r->Header("connection"), "close");
}

TEST_F(HttpServerTest, HandlerCannotBreakFraming) {
  StartServer([](const Request&, ResponseWriter& w) {
    w.Send(201, {{"Content-Length", "999"}, {"X-Bad", "a\r\nInjected: yes"}, {"X-Ok", "ok"}},
           "abc");
    w.Send(500, {}, "second send is ignored");
  });
  auto c = Connect();
  ASSERT_TRUE(c->Write("GET / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n"));
  auto r = c->ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 201);
  EXPECT_EQ(r->body, "abc");
  EXPECT_EQ(r->Header("x-ok"), "ok");
  EXPECT_EQ(r->headers.count("injected"), 0u);
  EXPECT_EQ(r->headers.count("x-bad"), 0u);
  auto r2 = c->ReadResponse();
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->status, 201);
}

TEST_F(HttpServerTest, StreamFlushesEachWrite) {
  Notification first_read;
  std::atomic<bool> waited{false};
  StopGuard guard(server_);
  StartServer([&](const Request&, ResponseWriter& w) {
    w.StartStream(200, {{"Content-Type", "application/json"}});
    w.Write("{\"type\":\"ADDED\"}\n");
    // The test reads the first chunk before this returns: proof that it was flushed.
    waited = first_read.WaitFor(10s);
    w.Write("{\"type\":\"MODIFIED\"}\n");
  });
  auto c = Connect();
  ASSERT_TRUE(c->Write("GET /watch HTTP/1.1\r\n\r\n"));
  auto head = c->ReadHead();
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->Header("transfer-encoding"), "chunked");
  EXPECT_EQ(head->headers.count("content-length"), 0u);
  EXPECT_EQ(c->ReadChunk(), "{\"type\":\"ADDED\"}\n");
  first_read.Notify();
  EXPECT_EQ(c->ReadChunk(), "{\"type\":\"MODIFIED\"}\n");
  EXPECT_EQ(c->ReadChunk(), "");  // the terminating chunk: a clean end
  EXPECT_TRUE(waited);
  ASSERT_TRUE(c->Write("GET /again HTTP/1.1\r\n\r\n"));  // keep-alive after a stream
  EXPECT_TRUE(c->ReadHead());
}

// A watch-style handler: starts a stream, then polls Closed() as the real one does.
Handler PollingStreamHandler(Notification* closed_seen) {
  return [closed_seen](const Request&, ResponseWriter& w) {
    w.StartStream(200, {});
    w.Write("first");
    auto deadline = Clock::now() + 20s;
    while (!w.Closed() && Clock::now() < deadline) std::this_thread::sleep_for(20ms);
    if (w.Closed()) {
      EXPECT_FALSE(w.Write("after close"));
      closed_seen->Notify();
    }
  };
}

TEST_F(HttpServerTest, ClientDisconnectMakesClosedTrue) {
  Notification closed_seen;
  StopGuard guard(server_);
  StartServer(PollingStreamHandler(&closed_seen));
  auto c = Connect();
  ASSERT_TRUE(c->Write("GET /watch HTTP/1.1\r\n\r\n"));
  ASSERT_TRUE(c->ReadHead());
  EXPECT_EQ(c->ReadChunk(), "first");
  c->Close();
  EXPECT_TRUE(closed_seen.WaitFor(5s));
}

TEST_F(HttpServerTest, WriteReturnsFalseWhenPeerGone) {
  Notification write_failed;
  StopGuard guard(server_);
  StartServer([&](const Request&, ResponseWriter& w) {
    w.StartStream(200, {});
    std::string block(16384, 'x');
    auto deadline = Clock::now() + 20s;
    while (Clock::now() < deadline) {
      if (!w.Write(block)) {
        write_failed.Notify();
        return;
      }
    }
  });
  auto c = Connect();
  ASSERT_TRUE(c->Write("GET /flood HTTP/1.1\r\n\r\n"));
  ASSERT_TRUE(c->ReadHead());
  c->Close();
  EXPECT_TRUE(write_failed.WaitFor(5s));
}

TEST_F(HttpServerTest, DropStreamsEndsStreamsOnly) {
  Notification closed_seen;
  auto polling = PollingStreamHandler(&closed_seen);
  StopGuard guard(server_);
  StartServer([&](const Request& req, ResponseWriter& w) {
    if (req.path == "/watch") return polling(req, w);
    w.Send(200, {}, "plain");
  });
  auto idle = Connect();  // a keep-alive connection between requests must survive
  ASSERT_TRUE(idle->Write("GET /plain HTTP/1.1\r\n\r\n"));
  ASSERT_TRUE(idle->ReadResponse());

  auto c = Connect();
  ASSERT_TRUE(c->Write("GET /watch HTTP/1.1\r\n\r\n"));
  ASSERT_TRUE(c->ReadHead());
  EXPECT_EQ(c->ReadChunk(), "first");
  server_->DropStreams();
  EXPECT_TRUE(closed_seen.WaitFor(5s));
  // Either an abrupt end or a clean one; never more data.
  std::optional<std::string> next = c->ReadChunk();
  EXPECT_TRUE(!next || next->empty());

  ASSERT_TRUE(idle->Write("GET /plain HTTP/1.1\r\n\r\n"));
  auto r = idle->ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "plain");
}

TEST_F(HttpServerTest, StopWithOpenStreamsReturnsPromptly) {
  Notification closed_seen;
  Notification flood_started;
  StopGuard guard(server_);
  StartServer([&](const Request& req, ResponseWriter& w) {
    if (req.path == "/watch") return PollingStreamHandler(&closed_seen)(req, w);
    // A client that reads nothing: this handler ends up blocked inside Write.
    w.StartStream(200, {});
    flood_started.Notify();
    std::string block(65536, 'x');
    while (w.Write(block)) {
    }
  });
  auto watcher = Connect();
  ASSERT_TRUE(watcher->Write("GET /watch HTTP/1.1\r\n\r\n"));
  ASSERT_TRUE(watcher->ReadHead());
  auto flooded = Connect();
  ASSERT_TRUE(flooded->Write("GET /flood HTTP/1.1\r\n\r\n"));
  ASSERT_TRUE(flood_started.WaitFor(5s));
  std::this_thread::sleep_for(200ms);  // let the socket buffers fill up

  auto start = Clock::now();
  server_->Stop();
  EXPECT_LT(Clock::now() - start, 3s);
  EXPECT_TRUE(closed_seen.WaitFor(0ms));
  server_->Stop();  // idempotent
  TestClient late;
  EXPECT_FALSE(late.Connect(server_->port()));
}

TEST_F(HttpServerTest, StopWithIdleKeepAliveConnection) {
  StartEchoServer();
  auto c = Connect();
  ASSERT_TRUE(c->Write("GET / HTTP/1.1\r\n\r\n"));
  ASSERT_TRUE(c->ReadResponse());
  auto start = Clock::now();
  server_.reset();  // the destructor stops
  EXPECT_LT(Clock::now() - start, 3s);
  EXPECT_TRUE(c->AtEof());
}

TEST_F(HttpServerTest, ManyConcurrentClients) {
  StartEchoServer();
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      TestClient c;
      if (!c.Connect(server_->port())) return;
      for (int j = 0; j < 10; ++j) {
        std::string path = "/c" + std::to_string(i) + "/" + std::to_string(j);
        if (!c.Write("GET " + path + " HTTP/1.1\r\n\r\n")) return;
        auto r = c.ReadResponse();
        if (r && r->body == "GET " + path + " ") ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 80);
}

TEST_F(HttpServerTest, ListensOnIpv6Loopback) {
  ServerOptions options;
  options.host = "::1";
  server_ = std::make_unique<HttpServer>([this](const Request& req, ResponseWriter& w) {
    recorder_.Add(req);
    w.Send(200, {}, "v6");
  });
  Status st = server_->Start(options);
  if (!st.ok()) GTEST_SKIP() << "no IPv6 loopback: " << st.ToString();
  TestClient c;
  ASSERT_TRUE(c.Connect(server_->port(), "::1"));
  ASSERT_TRUE(c.Write("GET / HTTP/1.1\r\n\r\n"));
  auto r = c.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "v6");
  EXPECT_TRUE(recorder_.Get().at(0).remote_addr.starts_with("[::1]:"));
}

TEST_F(HttpServerTest, ListensOnAnyAddress) {
  ServerOptions options;
  options.host = "0.0.0.0";
  StartEchoServer(options);
  auto c = Connect();
  ASSERT_TRUE(c->Write("GET /any HTTP/1.1\r\n\r\n"));
  auto r = c->ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "GET /any ");
}

TEST_F(HttpServerTest, StartErrors) {
  StartEchoServer();
  HttpServer second([](const Request&, ResponseWriter&) {});
  ServerOptions taken;
  taken.port = server_->port();
  EXPECT_FALSE(second.Start(taken).ok());
  ServerOptions bad_host;
  bad_host.host = "not an address";
  EXPECT_FALSE(second.Start(bad_host).ok());
  ServerOptions bad_tls;
  bad_tls.tls = TlsConfig{"not a cert", "not a key"};
  EXPECT_FALSE(second.Start(bad_tls).ok());
  EXPECT_FALSE(server_->Start({}).ok());  // already running
}

// ---------------------------------------------------------------------------------------------
// TLS.

struct SslCtxFree {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
using ClientCtx = std::unique_ptr<SSL_CTX, SslCtxFree>;

// An OpenSSL client context that trusts only `ca_pem` and verifies the peer.
ClientCtx TrustingClient(const std::string& ca_pem) {
  ClientCtx ctx(SSL_CTX_new(TLS_client_method()));
  BIO* bio = BIO_new_mem_buf(ca_pem.data(), static_cast<int>(ca_pem.size()));
  X509* ca = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx.get()), ca);
  X509_free(ca);
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  return ctx;
}

// A scratch directory for files handed to command-line tools.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "aidi-http-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string Write(const std::string& name, const std::string& content) const {
    std::string p = path_ + "/" + name;
    std::ofstream(p) << content;
    return p;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Runs a shell command, returning its stdout and setting *rc to its exit status.
std::string RunCommand(const std::string& cmd, int* rc) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) {
    *rc = -1;
    return out;
  }
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int status = pclose(p);
  *rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

bool HaveTool(const std::string& name) {
  int rc = 0;
  RunCommand("command -v " + name + " >/dev/null 2>&1", &rc);
  return rc == 0;
}

class HttpServerTlsTest : public HttpServerTest {
 protected:
  void SetUp() override {
    auto certs = GenerateCerts({"aidi.test"});
    ASSERT_TRUE(certs.ok()) << certs.status().ToString();
    certs_ = *certs;
    client_ctx_ = TrustingClient(certs_.ca_cert_pem);
  }
  ServerOptions TlsOptions() const {
    ServerOptions o;
    o.tls = TlsConfig{certs_.server_cert_pem, certs_.server_key_pem};
    return o;
  }
  std::unique_ptr<TestClient> ConnectTls() {
    auto c = Connect();
    EXPECT_TRUE(c->StartTls(client_ctx_.get(), "127.0.0.1"));
    return c;
  }

  GeneratedCerts certs_;
  ClientCtx client_ctx_;
};

TEST_F(HttpServerTlsTest, VerifiedRequestWithAlpn) {
  StartEchoServer(TlsOptions());
  auto c = ConnectTls();
  EXPECT_EQ(c->Alpn(), "http/1.1");
  ASSERT_TRUE(
      c->Write("POST /api/v1/pods HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n\r\n"
               "{}"));
  auto r = c->ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "POST /api/v1/pods {}");
  ASSERT_TRUE(c->Write("GET /two HTTP/1.1\r\nConnection: close\r\n\r\n"));
  r = c->ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "GET /two ");
  EXPECT_TRUE(c->AtEof());
}

TEST_F(HttpServerTlsTest, WrongNameOrCaFailsVerification) {
  StartEchoServer(TlsOptions());
  TestClient wrong_ip;
  ASSERT_TRUE(wrong_ip.Connect(server_->port()));
  EXPECT_FALSE(wrong_ip.StartTls(client_ctx_.get(), "10.9.8.7"));

  auto other = GenerateCerts({});
  ASSERT_TRUE(other.ok());
  ClientCtx other_ctx = TrustingClient(other->ca_cert_pem);
  TestClient wrong_ca;
  ASSERT_TRUE(wrong_ca.Connect(server_->port()));
  EXPECT_FALSE(wrong_ca.StartTls(other_ctx.get(), "127.0.0.1"));
  ERR_clear_error();

  auto c = ConnectTls();  // the server is unharmed by failed handshakes
  ASSERT_TRUE(c->Write("GET /ok HTTP/1.1\r\n\r\n"));
  auto r = c->ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST_F(HttpServerTlsTest, PlainHttpToTlsPortFails) {
  StartEchoServer(TlsOptions());
  auto c = Connect();
  c->Write("GET / HTTP/1.1\r\n\r\n");
  EXPECT_FALSE(c->ReadHead());
}

TEST_F(HttpServerTlsTest, StreamFlushesEachChunkAndDropWorks) {
  Notification first_read, closed_seen;
  StopGuard guard(server_);
  StartServer(
      [&](const Request&, ResponseWriter& w) {
        w.StartStream(200, {});
        w.Write("one");
        first_read.WaitFor(10s);
        w.Write("two");
        auto deadline = Clock::now() + 20s;
        while (!w.Closed() && Clock::now() < deadline) std::this_thread::sleep_for(20ms);
        if (w.Closed()) closed_seen.Notify();
      },
      TlsOptions());
  auto c = ConnectTls();
  ASSERT_TRUE(c->Write("GET /watch HTTP/1.1\r\n\r\n"));
  ASSERT_TRUE(c->ReadHead());
  EXPECT_EQ(c->ReadChunk(), "one");
  first_read.Notify();
  EXPECT_EQ(c->ReadChunk(), "two");
  server_->DropStreams();
  EXPECT_TRUE(closed_seen.WaitFor(5s));
  std::optional<std::string> next = c->ReadChunk();
  EXPECT_TRUE(!next || next->empty());
}

TEST_F(HttpServerTlsTest, ClientDisconnectMakesClosedTrue) {
  Notification closed_seen;
  StopGuard guard(server_);
  StartServer(PollingStreamHandler(&closed_seen), TlsOptions());
  auto c = ConnectTls();
  ASSERT_TRUE(c->Write("GET /watch HTTP/1.1\r\n\r\n"));
  ASSERT_TRUE(c->ReadHead());
  EXPECT_EQ(c->ReadChunk(), "first");
  c->Close();
  EXPECT_TRUE(closed_seen.WaitFor(5s));
}

TEST_F(HttpServerTlsTest, CurlVerifiesAgainstCa) {
  if (!HaveTool("curl")) GTEST_SKIP() << "curl not installed";
  StartEchoServer(TlsOptions());
  TempDir dir;
  std::string ca = dir.Write("ca.crt", certs_.ca_cert_pem);
  for (const std::string host : {"127.0.0.1", "localhost"}) {
    int rc = 0;
    std::string out = RunCommand("curl -sS --max-time 20 --cacert " + ca + " https://" + host +
                                     ":" + std::to_string(server_->port()) + "/hello 2>&1",
                                 &rc);
    EXPECT_EQ(rc, 0) << out;
    EXPECT_EQ(out, "GET /hello ") << host;
  }
  int rc = 0;
  std::string out = RunCommand(
      "curl -sS --max-time 20 --cacert " + ca +
          " --resolve wrong.example:" + std::to_string(server_->port()) +
          ":127.0.0.1 https://wrong.example:" + std::to_string(server_->port()) + "/ 2>&1",
      &rc);
  EXPECT_NE(rc, 0) << "curl accepted a name the certificate does not cover: " << out;
}

// kubectl is a Go program: this proves crypto/x509 (SAN required, no CN fallback) and Go's
// net/http (ALPN, HTTP/1.1 framing) accept what we serve.
TEST_F(HttpServerTlsTest, KubectlAcceptsServer) {
  if (!HaveTool("kubectl")) GTEST_SKIP() << "kubectl not installed";
  StartServer(
      [](const Request& req, ResponseWriter& w) {
        if (req.path == "/stream") {
          w.StartStream(200, {{"Content-Type", "text/plain"}});
          w.Write("part1,");
          w.Write("part2");
          return;
        }
        w.Send(200, {{"Content-Type", "text/plain"}}, "ok:" + req.path);
      },
      TlsOptions());
  TempDir dir;
  std::string ca = dir.Write("ca.crt", certs_.ca_cert_pem);
  std::string kubeconfig = dir.Write("kubeconfig", "");
  // A bearer token keeps kubectl from prompting for a user name; the server ignores it.
  std::string base =
      "HOME=" + dir.path() + " KUBECONFIG=" + kubeconfig +
      " kubectl --request-timeout=20s --token=test-token" + " --certificate-authority=" + ca +
      " --server=https://127.0.0.1:" + std::to_string(server_->port()) + " get --raw ";
  int rc = 0;
  std::string out = RunCommand(base + "/healthz </dev/null 2>&1", &rc);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(out, "ok:/healthz");
  out = RunCommand(base + "/stream </dev/null 2>&1", &rc);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(out, "part1,part2");

  auto other = GenerateCerts({});  // and kubectl really verifies: a foreign CA is refused
  ASSERT_TRUE(other.ok());
  std::string other_ca = dir.Write("other-ca.crt", other->ca_cert_pem);
  std::string refused = base;
  refused.replace(refused.find(ca), ca.size(), other_ca);
  out = RunCommand(refused + "/healthz </dev/null 2>&1", &rc);
  EXPECT_NE(rc, 0) << out;
  EXPECT_NE(out.find("certificate"), std::string::npos) << out;
}

}  // namespace
}  // namespace aidi::http
