#include "bench/devcluster/http_client.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/base64.h"

namespace aidi::bench {
namespace {

Status Errno(const std::string& what) {
  return Status::Unavailable(what + ": " + std::strerror(errno));
}

std::string OpensslError() {
  unsigned long e = ERR_get_error();
  if (e == 0) return "unknown TLS error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof(buf));
  return buf;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

StatusOr<std::shared_ptr<SSL_CTX>> MakeSslContext(const std::string& ca_pem) {
  std::shared_ptr<SSL_CTX> ctx(SSL_CTX_new(TLS_client_method()), SSL_CTX_free);
  if (!ctx) return Status::Internal("SSL_CTX_new: " + OpensslError());
  X509_STORE* store = SSL_CTX_get_cert_store(ctx.get());
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(ca_pem.data(), static_cast<int>(ca_pem.size())), BIO_free);
  int added = 0;
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    if (X509_STORE_add_cert(store, cert) == 1) ++added;
    X509_free(cert);
  }
  ERR_clear_error();  // the loop ends on a "no start line" error
  if (added == 0) return Status::InvalidArgument("certificate-authority-data holds no certificate");
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  return ctx;
}

}  // namespace

StatusOr<Endpoint> LoadKubeconfig(const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const std::exception& e) {
    return Status::InvalidArgument("reading kubeconfig " + path + ": " + e.what());
  }
  const YAML::Node cluster = root["clusters"][0]["cluster"];
  const YAML::Node user = root["users"][0]["user"];
  if (!cluster || !cluster["server"] || !user || !user["token"]) {
    return Status::InvalidArgument(path +
                                   ": expected clusters[0].cluster.server and "
                                   "users[0].user.token");
  }
  Endpoint ep;
  std::string server = cluster["server"].as<std::string>();
  ep.token = user["token"].as<std::string>();
  std::string_view rest = server;
  if (rest.starts_with("https://")) {
    ep.tls = true;
    rest.remove_prefix(8);
  } else if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  } else {
    return Status::InvalidArgument(path + ": server " + server +
                                   " is neither http:// nor https://");
  }
  if (auto slash = rest.find('/'); slash != std::string_view::npos) rest = rest.substr(0, slash);
  auto colon = rest.rfind(':');
  if (colon == std::string_view::npos)
    return Status::InvalidArgument(path + ": server has no port");
  ep.host = std::string(rest.substr(0, colon));
  if (ep.host.size() >= 2 && ep.host.front() == '[')
    ep.host = ep.host.substr(1, ep.host.size() - 2);
  ep.port = std::atoi(std::string(rest.substr(colon + 1)).c_str());
  if (ep.tls) {
    if (!cluster["certificate-authority-data"]) {
      return Status::InvalidArgument(path + ": https server without certificate-authority-data");
    }
    auto pem = Base64Decode(cluster["certificate-authority-data"].as<std::string>());
    if (!pem) return Status::InvalidArgument(path + ": certificate-authority-data is not base64");
    AIDI_ASSIGN_OR_RETURN(ep.ssl_ctx, MakeSslContext(*pem));
  }
  return ep;
}

HttpConnection::HttpConnection(const Endpoint& endpoint) : endpoint_(endpoint) {}

HttpConnection::~HttpConnection() { Close(); }

void HttpConnection::Close() {
  if (ssl_) {
    SSL_free(ssl_);
    ssl_ = nullptr;
  }
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  buf_.clear();
  pos_ = 0;
}

Status HttpConnection::Connect() {
  Close();
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  const std::string port = std::to_string(endpoint_.port);
  if (int rc = ::getaddrinfo(endpoint_.host.c_str(), port.c_str(), &hints, &res); rc != 0) {
    return Status::Unavailable("resolving " + endpoint_.host + ": " + gai_strerror(rc));
  }
  Status last = Status::Unavailable("no address for " + endpoint_.host);
  for (addrinfo* a = res; a; a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      last = Errno("socket");
      continue;
    }
    if (::connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      last = Errno("connect " + endpoint_.host + ":" + port);
      ::close(fd);
      continue;
    }
    fd_ = fd;
    break;
  }
  ::freeaddrinfo(res);
  if (fd_ < 0) return last;
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (!endpoint_.tls) return Status::Ok();

  ssl_ = SSL_new(endpoint_.ssl_ctx.get());
  if (!ssl_) return Status::Internal("SSL_new: " + OpensslError());
  SSL_set_fd(ssl_, fd_);
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
  in6_addr ip6;
  in_addr ip4;
  const bool is_ip = ::inet_pton(AF_INET, endpoint_.host.c_str(), &ip4) == 1 ||
                     ::inet_pton(AF_INET6, endpoint_.host.c_str(), &ip6) == 1;
  if (is_ip) {
    X509_VERIFY_PARAM_set1_ip_asc(param, endpoint_.host.c_str());
  } else {
    SSL_set_tlsext_host_name(ssl_, endpoint_.host.c_str());
    X509_VERIFY_PARAM_set1_host(param, endpoint_.host.c_str(), 0);
  }
  if (SSL_connect(ssl_) != 1) {
    Status s = Status::Unavailable("TLS handshake with " + endpoint_.host + ": " + OpensslError());
    Close();
    return s;
  }
  return Status::Ok();
}

Status HttpConnection::SendAll(std::string_view data) {
  while (!data.empty()) {
    ssize_t n;
    if (ssl_) {
      n = SSL_write(ssl_, data.data(), static_cast<int>(data.size()));
      if (n <= 0) return Status::Unavailable("TLS write: " + OpensslError());
    } else {
      n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        return Errno("send");
      }
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return Status::Ok();
}

StatusOr<std::size_t> HttpConnection::RecvSome(char* into, std::size_t n) {
  for (;;) {
    if (ssl_) {
      int got = SSL_read(ssl_, into, static_cast<int>(std::min<std::size_t>(n, 1 << 30)));
      if (got > 0) return static_cast<std::size_t>(got);
      if (SSL_get_error(ssl_, got) == SSL_ERROR_ZERO_RETURN) {
        return Status::Unavailable("connection closed");
      }
      return Status::Unavailable("TLS read: " + OpensslError());
    }
    ssize_t got = ::recv(fd_, into, n, 0);
    if (got > 0) return static_cast<std::size_t>(got);
    if (got == 0) return Status::Unavailable("connection closed");
    if (errno != EINTR) return Errno("recv");
  }
}

Status HttpConnection::Fill() {
  if (pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  } else if (pos_ > (1 << 20) && pos_ > buf_.size() / 2) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  char scratch[64 * 1024];
  AIDI_ASSIGN_OR_RETURN(std::size_t n, RecvSome(scratch, sizeof(scratch)));
  buf_.append(scratch, n);
  return Status::Ok();
}

void HttpConnection::Consume(std::size_t n) { pos_ += n; }

std::string HttpConnection::Request(std::string_view method, std::string_view path,
                                    std::string_view body) const {
  std::string req;
  req.reserve(256 + path.size() + body.size());
  req.append(method).append(" ").append(path).append(" HTTP/1.1\r\nHost: ");
  req.append(endpoint_.host).append(":").append(std::to_string(endpoint_.port));
  req.append("\r\nAuthorization: Bearer ").append(endpoint_.token);
  req.append("\r\nAccept: application/json\r\nUser-Agent: aidi-devcluster-bench\r\n");
  if (!body.empty() || method == "POST" || method == "PUT") {
    req.append("Content-Type: application/json\r\nContent-Length: ");
    req.append(std::to_string(body.size())).append("\r\n");
  }
  req.append("\r\n").append(body);
  return req;
}

Status HttpConnection::ReadHead(int* status, bool* chunked, long long* length, bool* close) {
  std::size_t end;
  while ((end = buf_.find("\r\n\r\n", pos_)) == std::string::npos) AIDI_RETURN_IF_ERROR(Fill());
  std::string_view head(buf_.data() + pos_, end - pos_);
  *chunked = false;
  *length = -1;
  *close = false;
  auto eol = head.find("\r\n");
  std::string_view status_line = head.substr(0, eol);
  if (!status_line.starts_with("HTTP/1.") || status_line.size() < 12) {
    return Status::Internal("bad status line: " + std::string(status_line));
  }
  *status = std::atoi(std::string(status_line.substr(9, 3)).c_str());
  *close = status_line.starts_with("HTTP/1.0");
  while (eol != std::string_view::npos) {
    std::size_t start = eol + 2;
    eol = head.find("\r\n", start);
    std::string_view line =
        head.substr(start, eol == std::string_view::npos ? head.npos : eol - start);
    auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view name = Trim(line.substr(0, colon));
    std::string_view value = Trim(line.substr(colon + 1));
    if (EqualsIgnoreCase(name, "content-length")) {
      *length = std::atoll(std::string(value).c_str());
    } else if (EqualsIgnoreCase(name, "transfer-encoding")) {
      *chunked = EqualsIgnoreCase(value, "chunked");
    } else if (EqualsIgnoreCase(name, "connection")) {
      if (EqualsIgnoreCase(value, "close")) *close = true;
      if (EqualsIgnoreCase(value, "keep-alive")) *close = false;
    }
  }
  Consume(end + 4 - pos_);
  head_received_ = std::chrono::steady_clock::now();
  return Status::Ok();
}

Status HttpConnection::ReadChunkedBody(std::string* out) {
  ChunkedDecoder dec;
  while (!dec.Finished()) {
    if (pos_ == buf_.size()) AIDI_RETURN_IF_ERROR(Fill());
    // The decoder stops at the end of the body, so the next response's bytes stay buffered.
    std::string_view avail(buf_.data() + pos_, buf_.size() - pos_);
    std::size_t used = 0;
    if (!dec.Feed(avail, out, &used)) return Status::Internal("malformed chunked body");
    Consume(used);
  }
  return Status::Ok();
}

StatusOr<HttpResponse> HttpConnection::Do(std::string_view method, std::string_view path,
                                          std::string_view body) {
  HttpResponse resp;
  AIDI_RETURN_IF_ERROR(Do(method, path, body, &resp));
  return resp;
}

Status HttpConnection::Do(std::string_view method, std::string_view path, std::string_view body,
                          HttpResponse* out) {
  const std::string req = Request(method, path, body);
  out->status = 0;
  out->body.clear();
  // A keep-alive connection the server closed while idle fails on first use: retry once.
  for (int attempt = 0;; ++attempt) {
    if (fd_ < 0) AIDI_RETURN_IF_ERROR(Connect());
    Status sent = SendAll(req);
    bool chunked = false, close = false;
    long long length = -1;
    Status head = sent.ok() ? ReadHead(&out->status, &chunked, &length, &close) : sent;
    if (!head.ok()) {
      Close();
      if (attempt == 0) continue;
      return head;
    }
    if (chunked) {
      AIDI_RETURN_IF_ERROR(ReadChunkedBody(&out->body));
    } else if (length >= 0) {
      // Straight into the caller's buffer: a 13 MB LIST is not copied or regrown here.
      const auto n = static_cast<std::size_t>(length);
      const std::size_t have = std::min(n, buf_.size() - pos_);
      out->body.resize(n);
      std::memcpy(out->body.data(), buf_.data() + pos_, have);
      Consume(have);
      for (std::size_t got = have; got < n;) {
        AIDI_ASSIGN_OR_RETURN(std::size_t k, RecvSome(out->body.data() + got, n - got));
        got += k;
      }
    } else {
      while (Fill().ok()) {
      }
      out->body.assign(buf_.data() + pos_, buf_.size() - pos_);
      close = true;
    }
    if (close) Close();
    return Status::Ok();
  }
}

StatusOr<int> HttpConnection::StartStream(std::string_view path) {
  if (fd_ < 0) AIDI_RETURN_IF_ERROR(Connect());
  AIDI_RETURN_IF_ERROR(SendAll(Request("GET", path, {})));
  int status = 0;
  bool chunked = false, close = false;
  long long length = -1;
  AIDI_RETURN_IF_ERROR(ReadHead(&status, &chunked, &length, &close));
  return status;
}

std::string HttpConnection::TakeBuffered() {
  std::string rest = buf_.substr(pos_);
  buf_.clear();
  pos_ = 0;
  return rest;
}

bool ChunkedDecoder::Feed(std::string_view data, std::string* out, std::size_t* consumed) {
  const std::size_t total = data.size();
  if (consumed) *consumed = 0;
  while (!data.empty() && state_ != State::kDone) {
    switch (state_) {
      case State::kSize: {
        auto nl = data.find('\n');
        if (nl == std::string_view::npos) {
          line_.append(data);
          data = {};
          if (line_.size() > 1024) return false;
          break;
        }
        line_.append(data.substr(0, nl));
        data.remove_prefix(nl + 1);
        if (!line_.empty() && line_.back() == '\r') line_.pop_back();
        if (line_.empty()) return false;
        char* end = nullptr;
        unsigned long long size = std::strtoull(line_.c_str(), &end, 16);
        if (end == line_.c_str()) return false;
        line_.clear();
        if (size == 0) {
          state_ = State::kTrailer;
          break;
        }
        remaining_ = static_cast<std::size_t>(size);
        state_ = State::kData;
        break;
      }
      case State::kData: {
        std::size_t n = std::min(remaining_, data.size());
        out->append(data.substr(0, n));
        data.remove_prefix(n);
        remaining_ -= n;
        if (remaining_ == 0) {
          state_ = State::kDataEnd;
          crlf_left_ = 2;
        }
        break;
      }
      case State::kDataEnd: {
        std::size_t n = std::min(crlf_left_, data.size());
        data.remove_prefix(n);
        crlf_left_ -= n;
        if (crlf_left_ == 0) state_ = State::kSize;
        break;
      }
      case State::kTrailer: {
        // Trailer fields (none expected) up to the empty line that ends the body.
        auto nl = data.find('\n');
        if (nl == std::string_view::npos) {
          line_.append(data);
          data = {};
          break;
        }
        line_.append(data.substr(0, nl));
        data.remove_prefix(nl + 1);
        if (!line_.empty() && line_.back() == '\r') line_.pop_back();
        if (line_.empty()) state_ = State::kDone;
        line_.clear();
        break;
      }
      case State::kDone:
        break;
    }
  }
  if (consumed) *consumed = total - data.size();
  return true;
}

}  // namespace aidi::bench
