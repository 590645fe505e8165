#include "http/http_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <exception>
#include <mutex>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <utility>

#include "base/log.h"

namespace aidi::http {
namespace {

constexpr std::size_t kMaxHeadBytes = 1 << 20;     // request line + headers; more is a 431
constexpr std::size_t kMaxChunkLineBytes = 4096;   // "1a2b;ext=...": generous, but bounded
constexpr std::size_t kReadBytes = 16 * 1024;      // one recv / SSL_read
constexpr std::size_t kCoalesceBytes = 64 * 1024;  // bodies up to this go out with the headers
constexpr int kSendTimeoutSeconds = 60;            // a client that reads nothing this long is gone
constexpr int kHandshakeTimeoutSeconds = 30;
// After we close a connection we keep reading (and discarding) for a moment, so that request
// bytes we never read (an over-limit body) do not make the kernel answer with a RST that could
// destroy the response before the client has read it.
constexpr auto kLingerTime = std::chrono::seconds(2);
constexpr std::size_t kLingerMaxBytes = 16 << 20;

// ---------------------------------------------------------------------------------------------
// Small text helpers.

char LowerChar(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = LowerChar(c);
  return out;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (LowerChar(a[i]) != LowerChar(b[i])) return false;
  }
  return true;
}

// Optional whitespace (RFC 9110 5.6.3): spaces and tabs.
std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Calls fn(token) for every comma-separated, trimmed, non-empty element of a header value.
template <typename Fn>
void ForEachListElement(std::string_view value, Fn fn) {
  while (!value.empty()) {
    std::size_t comma = value.find(',');
    std::string_view item = TrimOws(value.substr(0, comma));
    if (!item.empty()) fn(item);
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
}

bool HasToken(std::string_view value, std::string_view token) {
  bool found = false;
  ForEachListElement(value, [&](std::string_view item) { found |= EqualsIgnoreCase(item, token); });
  return found;
}

// tchar from RFC 9110 5.6.2: the characters allowed in methods and header names.
bool IsTchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool IsToken(std::string_view s) { return !s.empty() && std::all_of(s.begin(), s.end(), IsTchar); }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes %XX escapes (and '+' as a space when asked: form encoding, query strings only).
// False on a malformed escape.
bool PercentDecode(std::string_view in, bool plus_is_space, std::string* out) {
  out->clear();
  out->reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      int hi = HexValue(in[i + 1]);
      int lo = HexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out->push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out->push_back(' ');
    } else {
      out->push_back(c);
    }
  }
  return true;
}

// Splits "a=1&b=2&a=3" into the multimap, keeping repeated keys in order. A pair with a bad
// escape keeps its raw text, as Go's net/url drops rather than fails: be lenient here.
void ParseQuery(std::string_view raw, std::multimap<std::string, std::string>* out) {
  while (!raw.empty()) {
    std::size_t amp = raw.find('&');
    std::string_view pair = raw.substr(0, amp);
    raw.remove_prefix(amp == std::string_view::npos ? raw.size() : amp + 1);
    if (pair.empty()) continue;
    std::size_t eq = pair.find('=');
    std::string_view raw_key = pair.substr(0, eq);
    std::string_view raw_value = eq == std::string_view::npos ? "" : pair.substr(eq + 1);
    std::string key, value;
    if (!PercentDecode(raw_key, true, &key)) key = std::string(raw_key);
    if (!PercentDecode(raw_value, true, &value)) value = std::string(raw_value);
    out->emplace(std::move(key), std::move(value));
  }
}

std::string_view ReasonPhrase(int status) {
  static constexpr std::pair<int, std::string_view> kReasons[] = {
      {100, "Continue"},
      {101, "Switching Protocols"},
      {200, "OK"},
      {201, "Created"},
      {202, "Accepted"},
      {203, "Non-Authoritative Information"},
      {204, "No Content"},
      {206, "Partial Content"},
      {301, "Moved Permanently"},
      {302, "Found"},
      {303, "See Other"},
      {304, "Not Modified"},
      {307, "Temporary Redirect"},
      {308, "Permanent Redirect"},
      {400, "Bad Request"},
      {401, "Unauthorized"},
      {403, "Forbidden"},
      {404, "Not Found"},
      {405, "Method Not Allowed"},
      {406, "Not Acceptable"},
      {408, "Request Timeout"},
      {409, "Conflict"},
      {410, "Gone"},
      {411, "Length Required"},
      {412, "Precondition Failed"},
      {413, "Request Entity Too Large"},
      {414, "Request URI Too Long"},
      {415, "Unsupported Media Type"},
      {416, "Requested Range Not Satisfiable"},
      {417, "Expectation Failed"},
      {422, "Unprocessable Entity"},
      {426, "Upgrade Required"},
      {428, "Precondition Required"},
      {429, "Too Many Requests"},
      {431, "Request Header Fields Too Large"},
      {500, "Internal Server Error"},
      {501, "Not Implemented"},
      {502, "Bad Gateway"},
      {503, "Service Unavailable"},
      {504, "Gateway Timeout"},
      {505, "HTTP Version Not Supported"},
  };
  for (const auto& [code, text] : kReasons) {
    if (code == status) return text;
  }
  return "Unknown";
}

// IMF-fixdate (RFC 9110 5.6.7), built by hand because strftime's names follow the locale.
std::string HttpDate(std::time_t t) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday % 7],
                tm.tm_mday, kMonths[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buf;
}

std::string FormatAddr(const sockaddr_storage& addr) {
  char host[INET6_ADDRSTRLEN] = "?";
  int port = 0;
  if (addr.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&addr);
    inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
    port = ntohs(in->sin_port);
    return std::string(host) + ":" + std::to_string(port);
  }
  if (addr.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&addr);
    inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
    port = ntohs(in6->sin6_port);
  }
  return "[" + std::string(host) + "]:" + std::to_string(port);
}

std::string ErrnoText(int err) { return std::system_category().message(err); }

std::string OpensslErrorText() {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "no OpenSSL error queued";
  char buf[256];
  ERR_error_string_n(code, buf, sizeof buf);
  return buf;
}

// Writing to a socket whose peer has gone raises SIGPIPE, which kills the process by default.
// Plain sockets use MSG_NOSIGNAL, but OpenSSL's socket BIO calls write(2), so the signal must be
// ignored process-wide. Only the default disposition is changed: an embedder's handler wins.
void IgnoreSigpipe() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction current {};
    if (sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) {
      struct sigaction ignore {};
      ignore.sa_handler = SIG_IGN;
      sigemptyset(&ignore.sa_mask);
      sigaction(SIGPIPE, &ignore, nullptr);
    }
  });
}

void SetTimeout(int fd, int option, int seconds) {
  timeval tv{};
  tv.tv_sec = seconds;
  setsockopt(fd, SOL_SOCKET, option, &tv, sizeof tv);
}

// ---------------------------------------------------------------------------------------------
// TLS context.

// ALPN: pick "http/1.1" when the client offers it (Go offers "h2" first); otherwise carry on
// without ALPN, which every HTTP/1.1 client accepts.
int SelectAlpn(SSL*, const unsigned char** out, unsigned char* out_len, const unsigned char* in,
               unsigned int in_len, void*) {
  static constexpr std::string_view kHttp11 = "http/1.1";
  for (unsigned int i = 0; i < in_len;) {
    unsigned int len = in[i];
    if (i + 1 + len > in_len) break;
    if (std::string_view(reinterpret_cast<const char*>(in + i + 1), len) == kHttp11) {
      *out = in + i + 1;
      *out_len = static_cast<unsigned char>(len);
      return SSL_TLSEXT_ERR_OK;
    }
    i += 1 + len;
  }
  return SSL_TLSEXT_ERR_NOACK;
}

struct SslCtxDeleter {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxDeleter>;

// Loads a PEM chain: the first certificate is the server's, any others are sent as its chain.
Status LoadCertChain(SSL_CTX* ctx, const std::string& pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
  if (!bio) return Status::Internal("tls: " + OpensslErrorText());
  X509* leaf = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
  if (leaf == nullptr)
    return Status::InvalidArgument("tls: bad certificate: " + OpensslErrorText());
  int ok = SSL_CTX_use_certificate(ctx, leaf);
  X509_free(leaf);
  if (ok != 1) return Status::InvalidArgument("tls: certificate: " + OpensslErrorText());
  while (X509* extra = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    if (SSL_CTX_add0_chain_cert(ctx, extra) != 1) {
      X509_free(extra);
      return Status::InvalidArgument("tls: chain certificate: " + OpensslErrorText());
    }
  }
  ERR_clear_error();  // the loop ends on a "no start line" error: that is the end of input
  return Status::Ok();
}

Status LoadKey(SSL_CTX* ctx, const std::string& pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
  if (!bio) return Status::Internal("tls: " + OpensslErrorText());
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
  if (key == nullptr) return Status::InvalidArgument("tls: bad private key: " + OpensslErrorText());
  int ok = SSL_CTX_use_PrivateKey(ctx, key);
  EVP_PKEY_free(key);
  if (ok != 1 || SSL_CTX_check_private_key(ctx) != 1) {
    return Status::InvalidArgument("tls: private key does not match certificate: " +
                                   OpensslErrorText());
  }
  return Status::Ok();
}

StatusOr<SslCtxPtr> NewServerContext(const TlsConfig& tls) {
  ERR_clear_error();
  SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx) return Status::Internal("tls: SSL_CTX_new: " + OpensslErrorText());
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  SSL_CTX_set_options(
      ctx.get(), SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);
  AIDI_RETURN_IF_ERROR(LoadCertChain(ctx.get(), tls.cert_pem));
  AIDI_RETURN_IF_ERROR(LoadKey(ctx.get(), tls.key_pem));
  SSL_CTX_set_alpn_select_cb(ctx.get(), SelectAlpn, nullptr);
  return ctx;
}

// ---------------------------------------------------------------------------------------------
// Connections.

// One accepted connection. The fd stays open until the connection's thread ends; other threads
// (Stop, DropStreams) only shutdown(2) it, and only while holding the server's registry lock,
// which the connection thread takes to deregister before it closes the fd: no fd reuse race.
struct Conn {
  Conn(std::uint64_t id_in, int fd_in, std::string remote_in)
      : id(id_in), fd(fd_in), remote(std::move(remote_in)) {}
  const std::uint64_t id;
  const int fd;
  const std::string remote;
  SSL* ssl = nullptr;  // used only by the connection's own thread
  // Set once the peer is gone or the server cut the connection: stop all I/O on it.
  std::atomic<bool> closed{false};
  // True while a streamed response is in progress (what DropStreams cuts).
  std::atomic<bool> streaming{false};
};

// Reads up to `n` bytes; 0 on EOF or error.
std::size_t ReadSome(Conn& c, char* buf, std::size_t n) {
  if (c.ssl != nullptr) {
    ERR_clear_error();
    std::size_t got = 0;
    if (SSL_read_ex(c.ssl, buf, n, &got) == 1) return got;
    return 0;
  }
  while (true) {
    ssize_t got = recv(c.fd, buf, n, 0);
    if (got >= 0) return static_cast<std::size_t>(got);
    if (errno != EINTR) return 0;
  }
}

// Writes all of `data` (a blocking socket: each call flushes to the kernel at once, and with
// TCP_NODELAY onto the wire). Marks the connection closed on failure.
bool WriteAll(Conn& c, std::string_view data) {
  if (c.closed.load()) return false;
  while (!data.empty()) {
    std::size_t sent = 0;
    if (c.ssl != nullptr) {
      ERR_clear_error();
      if (SSL_write_ex(c.ssl, data.data(), data.size(), &sent) != 1) sent = 0;
    } else {
      ssize_t n = send(c.fd, data.data(), data.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      sent = n > 0 ? static_cast<std::size_t>(n) : 0;
    }
    if (sent == 0) {
      c.closed.store(true);
      return false;
    }
    data.remove_prefix(sent);
  }
  return true;
}

// Non-blocking check whether the peer has closed or reset the connection.
bool PeerGone(const Conn& c) {
  pollfd p{c.fd, POLLIN | POLLRDHUP, 0};
  if (poll(&p, 1, 0) <= 0) return false;
  if (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) return true;
  if ((p.revents & POLLIN) && c.ssl == nullptr) {
    // Readable without RDHUP: either a pipelined request (bytes) or EOF (0). TLS sockets are
    // not peeked: their bytes are records, and a close is followed by a FIN (RDHUP) anyway.
    char b;
    ssize_t n = recv(c.fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
  }
  return false;
}

// Buffered, sequential reads of one connection: requests are parsed strictly one after the
// other, so pipelined requests simply wait in the buffer.
class Reader {
 public:
  explicit Reader(Conn& c) : c_(c) {}

  enum class LineResult { kOk, kEof, kTooLong };

  // One line ending in LF (a preceding CR is dropped); kTooLong once more than `limit` bytes
  // arrive without a line end.
  LineResult ReadLine(std::size_t limit, std::string* line) {
    std::size_t scanned = 0;
    while (true) {
      std::size_t nl = buf_.find('\n', pos_ + scanned);
      if (nl != std::string::npos) {
        std::size_t end = nl;
        if (end > pos_ && buf_[end - 1] == '\r') --end;
        line->assign(buf_, pos_, end - pos_);
        pos_ = nl + 1;
        Compact();
        return line->size() > limit ? LineResult::kTooLong : LineResult::kOk;
      }
      scanned = buf_.size() - pos_;
      if (scanned > limit) return LineResult::kTooLong;
      if (!Fill()) return LineResult::kEof;
    }
  }

  // Appends exactly `n` bytes to `out`; false on EOF first.
  bool ReadExact(std::size_t n, std::string* out) {
    std::size_t from_buf = std::min(n, buf_.size() - pos_);
    out->append(buf_, pos_, from_buf);
    pos_ += from_buf;
    Compact();
    n -= from_buf;
    std::size_t old = out->size();
    out->resize(old + n);
    std::size_t done = 0;
    while (done < n) {
      std::size_t got = ReadSome(c_, out->data() + old + done, n - done);
      if (got == 0) {
        out->resize(old + done);
        return false;
      }
      done += got;
    }
    return true;
  }

 private:
  bool Fill() {
    char tmp[kReadBytes];
    std::size_t got = ReadSome(c_, tmp, sizeof tmp);
    if (got == 0) return false;
    buf_.append(tmp, got);
    return true;
  }

  void Compact() {
    if (pos_ == buf_.size()) {
      buf_.clear();
      pos_ = 0;
    } else if (pos_ > kReadBytes * 4) {
      buf_.erase(0, pos_);
      pos_ = 0;
    }
  }

  Conn& c_;
  std::string buf_;
  std::size_t pos_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Request parsing.

enum class ParseResult {
  kOk,
  kEof,                  // the connection ended (cleanly between requests, or mid-request)
  kBadRequest,           // 400
  kHeadersTooLarge,      // 431
  kVersionNotSupported,  // 505
  kNotImplemented,       // 501: a transfer coding other than chunked
};

int StatusFor(ParseResult r) {
  switch (r) {
    case ParseResult::kHeadersTooLarge:
      return 431;
    case ParseResult::kVersionNotSupported:
      return 505;
    case ParseResult::kNotImplemented:
      return 501;
    default:
      return 400;
  }
}

// What the request line and headers say beyond the Request fields.
struct RequestMeta {
  int minor_version = 1;  // HTTP/1.x
  bool keep_alive = true;
  bool chunked = false;
  std::size_t content_length = 0;
  bool expect_continue = false;
  bool force_close = false;  // framing we do not trust for a following request
};

// "METHOD SP request-target SP HTTP/1.x".
ParseResult ParseRequestLine(std::string_view line, Request* req, RequestMeta* meta) {
  std::size_t sp1 = line.find(' ');
  std::size_t sp2 = line.rfind(' ');
  if (sp1 == std::string_view::npos || sp1 == sp2) return ParseResult::kBadRequest;
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (!IsToken(method) || target.empty()) return ParseResult::kBadRequest;
  for (char c : target) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return ParseResult::kBadRequest;
  }
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.' ||
      version[5] < '0' || version[5] > '9' || version[7] < '0' || version[7] > '9') {
    return ParseResult::kBadRequest;
  }
  if (version[5] != '1') return ParseResult::kVersionNotSupported;
  meta->minor_version = version[7] - '0';

  // Absolute form ("http://host/path", as sent to proxies) is reduced to its path.
  if (target.front() != '/' && target != "*") {
    std::size_t scheme_end = target.find("://");
    if (scheme_end == std::string_view::npos) return ParseResult::kBadRequest;
    std::string_view scheme = target.substr(0, scheme_end);
    if (!EqualsIgnoreCase(scheme, "http") && !EqualsIgnoreCase(scheme, "https")) {
      return ParseResult::kBadRequest;
    }
    std::size_t path_start = target.find_first_of("/?", scheme_end + 3);
    target =
        path_start == std::string_view::npos ? std::string_view("/") : target.substr(path_start);
    if (target.front() == '?') return ParseResult::kBadRequest;
  }
  std::size_t q = target.find('?');
  req->method = std::string(method);
  req->raw_path = std::string(target.substr(0, q));
  req->raw_query = q == std::string_view::npos ? "" : std::string(target.substr(q + 1));
  if (!PercentDecode(req->raw_path, false, &req->path)) return ParseResult::kBadRequest;
  ParseQuery(req->raw_query, &req->query);
  return ParseResult::kOk;
}

// "Name: value"; names are lower-cased and repeats joined with ", " (RFC 9110 5.3).
ParseResult ParseHeaderLine(std::string_view line, Request* req) {
  // A leading space or tab is obsolete line folding: rejected, as RFC 9112 5.2 allows.
  if (line.front() == ' ' || line.front() == '\t') return ParseResult::kBadRequest;
  std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) return ParseResult::kBadRequest;
  std::string_view name = line.substr(0, colon);
  if (!IsToken(name)) return ParseResult::kBadRequest;  // also "Name : v", which smuggles
  std::string_view value = TrimOws(line.substr(colon + 1));
  for (char c : value) {
    if (c == '\0' || c == '\r' || c == '\n') return ParseResult::kBadRequest;
  }
  std::string key = ToLower(name);
  auto [it, inserted] = req->headers.try_emplace(key, value);
  if (!inserted) {
    it->second.append(", ");
    it->second.append(value);
  }
  return ParseResult::kOk;
}

// "5", or "5, 5" when a proxy repeated it; anything else is a 400.
bool ParseContentLength(std::string_view value, std::size_t* out) {
  bool ok = true, any = false;
  std::size_t result = 0;
  ForEachListElement(value, [&](std::string_view item) {
    std::size_t n = 0;
    for (char c : item) {
      if (c < '0' || c > '9' || n > (std::size_t{1} << 60)) {
        ok = false;
        return;
      }
      n = n * 10 + static_cast<std::size_t>(c - '0');
    }
    if (any && n != result) ok = false;
    result = n;
    any = true;
  });
  *out = result;
  return ok && any;
}

// Decides keep-alive and body framing from the headers.
ParseResult ApplyHeaders(const Request& req, RequestMeta* meta) {
  std::string connection = req.Header("connection");
  meta->keep_alive = meta->minor_version >= 1 ? !HasToken(connection, "close")
                                              : HasToken(connection, "keep-alive");
  meta->expect_continue = HasToken(req.Header("expect"), "100-continue");
  auto te = req.headers.find("transfer-encoding");
  auto cl = req.headers.find("content-length");
  if (te != req.headers.end()) {
    // Only "chunked" alone is supported; gzip and friends are not sent by API clients.
    if (!EqualsIgnoreCase(TrimOws(te->second), "chunked")) return ParseResult::kNotImplemented;
    meta->chunked = true;
    // Both framings at once is how requests get smuggled: honour chunked, then hang up.
    if (cl != req.headers.end()) meta->force_close = true;
    return ParseResult::kOk;
  }
  if (cl != req.headers.end() && !ParseContentLength(cl->second, &meta->content_length)) {
    return ParseResult::kBadRequest;
  }
  return ParseResult::kOk;
}

ParseResult ReadHead(Reader& r, Request* req, RequestMeta* meta) {
  std::size_t used = 0;
  std::string line;
  // RFC 9112 2.2: ignore at least one empty line before the request line.
  for (int empties = 0;; ++empties) {
    Reader::LineResult lr = r.ReadLine(kMaxHeadBytes - used, &line);
    if (lr == Reader::LineResult::kEof) return ParseResult::kEof;
    if (lr == Reader::LineResult::kTooLong) return ParseResult::kHeadersTooLarge;
    used += line.size() + 2;
    if (!line.empty()) break;
    if (empties >= 4) return ParseResult::kBadRequest;
  }
  ParseResult pr = ParseRequestLine(line, req, meta);
  if (pr != ParseResult::kOk) return pr;
  while (true) {
    if (used >= kMaxHeadBytes) return ParseResult::kHeadersTooLarge;
    Reader::LineResult lr = r.ReadLine(kMaxHeadBytes - used, &line);
    if (lr == Reader::LineResult::kEof) return ParseResult::kEof;
    if (lr == Reader::LineResult::kTooLong) return ParseResult::kHeadersTooLarge;
    used += line.size() + 2;
    if (line.empty()) break;
    pr = ParseHeaderLine(line, req);
    if (pr != ParseResult::kOk) return pr;
  }
  return ApplyHeaders(*req, meta);
}

enum class BodyResult { kOk, kTooLarge, kBad, kEof };

// A chunked body (RFC 9112 7.1): size lines in hex with optional extensions, then trailers,
// which are read and dropped. Stops reading as soon as the body passes `max_bytes`.
BodyResult ReadChunkedBody(Reader& r, std::size_t max_bytes, std::string* body) {
  std::string line;
  while (true) {
    if (r.ReadLine(kMaxChunkLineBytes, &line) != Reader::LineResult::kOk) return BodyResult::kEof;
    std::string_view size_text = TrimOws(std::string_view(line).substr(0, line.find(';')));
    if (size_text.empty() || size_text.size() > 15) return BodyResult::kBad;
    std::size_t size = 0;
    for (char c : size_text) {
      int v = HexValue(c);
      if (v < 0) return BodyResult::kBad;
      size = size * 16 + static_cast<std::size_t>(v);
    }
    if (size == 0) break;
    if (body->size() + size > max_bytes) return BodyResult::kTooLarge;
    if (!r.ReadExact(size, body)) return BodyResult::kEof;
    if (r.ReadLine(kMaxChunkLineBytes, &line) != Reader::LineResult::kOk) return BodyResult::kEof;
    if (!line.empty()) return BodyResult::kBad;
  }
  std::size_t trailer_bytes = 0;
  while (true) {
    if (r.ReadLine(kMaxHeadBytes - trailer_bytes, &line) != Reader::LineResult::kOk) {
      return BodyResult::kEof;
    }
    if (line.empty()) return BodyResult::kOk;
    trailer_bytes += line.size() + 2;
    if (trailer_bytes >= kMaxHeadBytes) return BodyResult::kBad;
  }
}

// ---------------------------------------------------------------------------------------------
// Responses.

class ResponseWriterImpl final : public ResponseWriter {
 public:
  ResponseWriterImpl(Conn& c, bool head_only, bool http10, bool close_after)
      : c_(c), head_only_(head_only), http10_(http10), close_after_(close_after) {}

  void Send(int status, const Headers& headers, std::string_view body) override {
    if (state_ != State::kIdle) {
      log::Debug("http: response already sent", {{"remote", c_.remote}});
      return;
    }
    state_ = State::kSent;
    status = SanitizeStatus(status);
    bool has_body = status >= 200 && status != 204 && status != 304;
    std::string out =
        Head(status, headers, has_body ? Framing::kLength : Framing::kNone, body.size());
    if (!has_body || head_only_) {
      WriteAll(c_, out);
    } else if (body.size() <= kCoalesceBytes) {
      out.append(body);
      WriteAll(c_, out);
    } else if (WriteAll(c_, out)) {
      WriteAll(c_, body);
    }
  }

  bool StartStream(int status, const Headers& headers) override {
    if (state_ != State::kIdle) return false;
    state_ = State::kStreaming;
    c_.streaming.store(true);
    // HTTP/1.0 has no chunked coding: the body runs until the connection closes.
    if (http10_) close_after_ = true;
    return WriteAll(
        c_, Head(SanitizeStatus(status), headers, http10_ ? Framing::kNone : Framing::kChunked, 0));
  }

  bool Write(std::string_view data) override {
    if (state_ != State::kStreaming || c_.closed.load()) return false;
    if (data.empty() || head_only_) return true;  // an empty chunk would end the stream
    if (http10_) return WriteAll(c_, data);
    char size[32];
    int n = std::snprintf(size, sizeof size, "%zx\r\n", data.size());
    std::string chunk;
    chunk.reserve(static_cast<std::size_t>(n) + data.size() + 2);
    chunk.append(size, static_cast<std::size_t>(n)).append(data).append("\r\n");
    return WriteAll(c_, chunk);
  }

  bool Closed() const override {
    if (c_.closed.load()) return true;
    if (PeerGone(c_)) c_.closed.store(true);
    return c_.closed.load();
  }

  void CloseAfterResponse() override { close_after_ = true; }

  // Completes the response once the handler has returned.
  void Finish() {
    if (state_ == State::kIdle) {
      Send(500, {{"Content-Type", "text/plain; charset=utf-8"}}, "handler sent no response\n");
    } else if (state_ == State::kStreaming && !http10_ && !head_only_) {
      WriteAll(c_, "0\r\n\r\n");  // no-op once closed: a cut stream ends without it
    }
    state_ = State::kDone;
    c_.streaming.store(false);
  }

  bool close_after() const { return close_after_ || c_.closed.load(); }

 private:
  enum class State { kIdle, kSent, kStreaming, kDone };
  enum class Framing { kNone, kLength, kChunked };

  static int SanitizeStatus(int status) { return status >= 100 && status <= 999 ? status : 500; }

  static bool SafeHeader(const std::string& name, const std::string& value) {
    return IsToken(name) && value.find_first_of("\r\n", 0) == std::string::npos &&
           value.find('\0') == std::string::npos;
  }

  // Status line and headers. Framing and connection headers are always ours, whatever the
  // handler passed, so a handler can never produce a response with broken framing.
  std::string Head(int status, const Headers& headers, Framing framing, std::size_t length) {
    std::string out = "HTTP/1.1 " + std::to_string(status) + " ";
    out.append(ReasonPhrase(status)).append("\r\n");
    bool has_date = false;
    for (const auto& [name, value] : headers) {
      if (EqualsIgnoreCase(name, "content-length") || EqualsIgnoreCase(name, "transfer-encoding")) {
        continue;
      }
      if (EqualsIgnoreCase(name, "connection")) {
        if (HasToken(value, "close")) close_after_ = true;
        continue;
      }
      if (!SafeHeader(name, value)) {
        log::Warn("http: dropping response header with invalid characters", {{"name", name}});
        continue;
      }
      has_date |= EqualsIgnoreCase(name, "date");
      out.append(name).append(": ").append(value).append("\r\n");
    }
    if (!has_date) out.append("Date: ").append(HttpDate(std::time(nullptr))).append("\r\n");
    if (framing == Framing::kLength) {
      out.append("Content-Length: ").append(std::to_string(length)).append("\r\n");
    } else if (framing == Framing::kChunked) {
      out.append("Transfer-Encoding: chunked\r\n");
    }
    if (close_after_ || c_.closed.load()) {
      out.append("Connection: close\r\n");
    } else if (http10_) {
      out.append("Connection: keep-alive\r\n");
    }
    out.append("\r\n");
    return out;
  }

  Conn& c_;
  const bool head_only_;
  const bool http10_;
  bool close_after_;
  State state_ = State::kIdle;
};

enum class Outcome {
  kKeepAlive,  // ready for the next request
  kClose,      // we answered and hang up: close politely
  kAbort,      // the peer left or the connection was cut: just close
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// Request accessors.

std::optional<std::string> Request::Query(std::string_view key) const {
  auto it = query.lower_bound(std::string(key));  // lower_bound: the first of repeated keys
  if (it == query.end() || it->first != key) return std::nullopt;
  return it->second;
}

std::string Request::Header(std::string_view name) const {
  auto it = headers.find(ToLower(name));
  return it == headers.end() ? std::string() : it->second;
}

// ---------------------------------------------------------------------------------------------
// The server.

struct HttpServer::Impl {
  explicit Impl(Handler h) : handler(std::move(h)) {}

  Status Start(const ServerOptions& opts);
  void Stop();
  void DropStreams();

  Status Listen();
  void AcceptLoop();
  void Spawn(int fd, std::string remote);
  void ReapFinished();
  void ConnectionMain(const std::shared_ptr<Conn>& conn);
  void ServeConnection(Conn& c);
  bool Handshake(Conn& c);
  Outcome ServeOne(Conn& c, Reader& r);
  void RunHandler(const Request& req, ResponseWriterImpl& w);
  void SendError(Conn& c, int status);
  void CloseGracefully(Conn& c);

  const Handler handler;
  // Written by Start before any connection thread exists, read-only afterwards.
  ServerOptions options;
  SslCtxPtr ssl_ctx;
  int listen_fd = -1;
  int wake_fds[2] = {-1, -1};  // a pipe: Stop writes one byte to end the accept loop
  std::atomic<int> port{0};
  std::thread accept_thread;
  std::atomic<bool> stopping{false};
  bool running = false;  // touched only by the Start/Stop thread

  std::mutex mu;
  std::uint64_t next_id = 1;                                       // guarded by mu
  std::unordered_map<std::uint64_t, std::shared_ptr<Conn>> conns;  // guarded by mu
  std::unordered_map<std::uint64_t, std::thread> threads;          // guarded by mu
  std::vector<std::uint64_t> finished;  // ended threads not yet joined; guarded by mu
};

Status HttpServer::Impl::Start(const ServerOptions& opts) {
  if (running) return Status::InvalidArgument("http server already started");
  if (opts.port < 0 || opts.port > 65535) {
    return Status::InvalidArgument("port out of range: " + std::to_string(opts.port));
  }
  options = opts;
  stopping.store(false);
  IgnoreSigpipe();
  if (options.tls) {
    AIDI_ASSIGN_OR_RETURN(ssl_ctx, NewServerContext(*options.tls));
  }
  Status st = Listen();
  if (!st.ok()) {
    ssl_ctx.reset();
    return st;
  }
  if (pipe2(wake_fds, O_CLOEXEC | O_NONBLOCK) != 0) {
    int err = errno;
    close(listen_fd);
    listen_fd = -1;
    ssl_ctx.reset();
    return Status::Internal("pipe: " + ErrnoText(err));
  }
  accept_thread = std::thread([this] { AcceptLoop(); });
  running = true;
  return Status::Ok();
}

Status HttpServer::Impl::Listen() {
  std::string host = options.host.empty() ? "0.0.0.0" : options.host;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  std::string port_text = std::to_string(options.port);
  int rc = getaddrinfo(host.c_str(), port_text.c_str(), &hints, &res);
  if (rc != 0 || res == nullptr) {
    return Status::InvalidArgument("resolving listen host \"" + host + "\": " + gai_strerror(rc));
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> guard(res, &freeaddrinfo);
  std::string where = host + ":" + port_text;
  int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return Status::Unavailable("socket for " + where + ": " + ErrnoText(errno));
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, SOMAXCONN) != 0) {
    int err = errno;
    close(fd);
    return Status::Unavailable("listening on " + where + ": " + ErrnoText(err));
  }
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
  port.store(bound.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                                         : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port));
  listen_fd = fd;
  return Status::Ok();
}

void HttpServer::Impl::AcceptLoop() {
  while (true) {
    pollfd fds[2] = {{listen_fd, POLLIN, 0}, {wake_fds[0], POLLIN, 0}};
    int n = poll(fds, 2, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 || fds[1].revents != 0) break;
    if ((fds[0].revents & POLLIN) == 0) continue;
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    int fd = accept4(listen_fd, reinterpret_cast<sockaddr*>(&addr), &len, SOCK_CLOEXEC);
    if (fd < 0) {
      int err = errno;
      if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
        // Out of descriptors: back off instead of spinning, but stay responsive to Stop.
        log::Warn("http: accept failed", {{"error", ErrnoText(err)}});
        pollfd wake{wake_fds[0], POLLIN, 0};
        poll(&wake, 1, 100);
      }
      continue;  // EAGAIN, ECONNABORTED, EINTR, ...: the next poll sorts it out
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    SetTimeout(fd, SO_SNDTIMEO, kSendTimeoutSeconds);
    Spawn(fd, FormatAddr(addr));
    ReapFinished();
  }
}

void HttpServer::Impl::Spawn(int fd, std::string remote) {
  std::lock_guard<std::mutex> lock(mu);
  std::uint64_t id = next_id++;
  auto conn = std::make_shared<Conn>(id, fd, std::move(remote));
  try {
    // The new thread deregisters under `mu`, so it cannot finish before it is registered.
    threads.emplace(id, std::thread([this, conn] { ConnectionMain(conn); }));
  } catch (const std::system_error& e) {
    log::Warn("http: cannot start connection thread", {{"error", e.what()}});
    close(fd);
    return;
  }
  conns.emplace(id, std::move(conn));
}

void HttpServer::Impl::ReapFinished() {
  std::vector<std::thread> done;
  {
    std::lock_guard<std::mutex> lock(mu);
    for (std::uint64_t id : finished) {
      auto it = threads.find(id);
      if (it == threads.end()) continue;
      done.push_back(std::move(it->second));
      threads.erase(it);
    }
    finished.clear();
  }
  for (std::thread& t : done) t.join();  // they have returned already: this is quick
}

void HttpServer::Impl::ConnectionMain(const std::shared_ptr<Conn>& conn) {
  ServeConnection(*conn);
  if (conn->ssl != nullptr) {
    SSL_free(conn->ssl);
    conn->ssl = nullptr;
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    conns.erase(conn->id);
    finished.push_back(conn->id);
  }
  close(conn->fd);  // deregistered first: nobody can shutdown(2) a reused descriptor
}

void HttpServer::Impl::ServeConnection(Conn& c) {
  if (ssl_ctx && !Handshake(c)) return;
  Reader reader(c);
  Outcome outcome = Outcome::kKeepAlive;
  while (outcome == Outcome::kKeepAlive) {
    outcome = ServeOne(c, reader);
    if (stopping.load() || c.closed.load()) outcome = Outcome::kAbort;
  }
  if (outcome == Outcome::kClose) CloseGracefully(c);
}

bool HttpServer::Impl::Handshake(Conn& c) {
  c.ssl = SSL_new(ssl_ctx.get());
  if (c.ssl == nullptr || SSL_set_fd(c.ssl, c.fd) != 1) {
    log::Warn("http: SSL_new failed", {{"error", OpensslErrorText()}});
    return false;
  }
  // A client that connects and never says hello must not hold a thread until Stop.
  SetTimeout(c.fd, SO_RCVTIMEO, kHandshakeTimeoutSeconds);
  ERR_clear_error();
  int rc = SSL_accept(c.ssl);
  SetTimeout(c.fd, SO_RCVTIMEO, 0);
  if (rc != 1) {
    // Probes and clients that reject our CA end here: routine, hence debug.
    log::Debug("http: tls handshake failed", {{"remote", c.remote}, {"error", OpensslErrorText()}});
    return false;
  }
  return true;
}

Outcome HttpServer::Impl::ServeOne(Conn& c, Reader& r) {
  Request req;
  RequestMeta meta;
  ParseResult pr = ReadHead(r, &req, &meta);
  if (pr == ParseResult::kEof) return Outcome::kAbort;
  if (pr != ParseResult::kOk) {
    SendError(c, StatusFor(pr));
    return Outcome::kClose;
  }
  req.remote_addr = c.remote;
  bool close_after = !meta.keep_alive || meta.force_close;
  const std::size_t max_body = options.max_body_bytes;
  auto send_continue = [&] {
    if (meta.expect_continue && meta.minor_version >= 1) {
      WriteAll(c, "HTTP/1.1 100 Continue\r\n\r\n");
    }
  };
  if (meta.chunked) {
    send_continue();
    BodyResult br = ReadChunkedBody(r, max_body, &req.body);
    if (br == BodyResult::kEof) return Outcome::kAbort;
    if (br == BodyResult::kBad) {
      SendError(c, 400);
      return Outcome::kClose;
    }
    if (br == BodyResult::kTooLarge) {
      req.body.clear();
      req.body_too_large = true;
      close_after = true;  // the rest of the body is still on the wire
    }
  } else if (meta.content_length > max_body) {
    // Not read at all (and no 100 Continue, so a waiting client need not even send it).
    req.body_too_large = true;
    close_after = true;
  } else if (meta.content_length > 0) {
    send_continue();
    if (!r.ReadExact(meta.content_length, &req.body)) return Outcome::kAbort;
  }
  if (stopping.load()) close_after = true;
  ResponseWriterImpl w(c, req.method == "HEAD", meta.minor_version == 0, close_after);
  RunHandler(req, w);
  if (c.closed.load()) return Outcome::kAbort;
  return w.close_after() ? Outcome::kClose : Outcome::kKeepAlive;
}

void HttpServer::Impl::RunHandler(const Request& req, ResponseWriterImpl& w) {
  try {
    handler(req, w);
  } catch (const std::exception& e) {
    log::Error("http: handler threw",
               {{"method", req.method}, {"path", req.path}, {"error", e.what()}});
    w.CloseAfterResponse();
  } catch (...) {
    log::Error("http: handler threw", {{"method", req.method}, {"path", req.path}});
    w.CloseAfterResponse();
  }
  w.Finish();
}

void HttpServer::Impl::SendError(Conn& c, int status) {
  ResponseWriterImpl w(c, /*head_only=*/false, /*http10=*/false, /*close_after=*/true);
  std::string body(ReasonPhrase(status));
  body.push_back('\n');
  w.Send(status, {{"Content-Type", "text/plain; charset=utf-8"}}, body);
}

void HttpServer::Impl::CloseGracefully(Conn& c) {
  if (c.ssl != nullptr) {
    ERR_clear_error();
    SSL_shutdown(c.ssl);  // our close_notify; we do not wait for the client's
  }
  shutdown(c.fd, SHUT_WR);
  auto deadline = std::chrono::steady_clock::now() + kLingerTime;
  std::size_t drained = 0;
  char buf[kReadBytes];
  while (drained < kLingerMaxBytes && !c.closed.load()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{c.fd, POLLIN, 0};
    int n = poll(&p, 1, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    ssize_t got = recv(c.fd, buf, sizeof buf, 0);  // raw bytes, TLS or not: all discarded
    if (got <= 0) break;
    drained += static_cast<std::size_t>(got);
  }
}

void HttpServer::Impl::Stop() {
  if (!running) return;
  running = false;
  stopping.store(true);
  char byte = 1;
  while (write(wake_fds[1], &byte, 1) < 0 && errno == EINTR) {
  }
  if (accept_thread.joinable()) accept_thread.join();
  close(listen_fd);
  close(wake_fds[0]);
  close(wake_fds[1]);
  listen_fd = wake_fds[0] = wake_fds[1] = -1;

  // No new connections can appear now. Cut every open one: blocked reads and writes return at
  // once, handlers see Closed(), and each thread finishes its current request and exits.
  std::unordered_map<std::uint64_t, std::thread> to_join;
  {
    std::lock_guard<std::mutex> lock(mu);
    for (auto& [id, conn] : conns) {
      conn->closed.store(true);
      shutdown(conn->fd, SHUT_RDWR);
    }
    to_join.swap(threads);
    finished.clear();
  }
  for (auto& [id, t] : to_join) t.join();
  ssl_ctx.reset();
}

void HttpServer::Impl::DropStreams() {
  std::lock_guard<std::mutex> lock(mu);
  for (auto& [id, conn] : conns) {
    if (!conn->streaming.load()) continue;
    conn->closed.store(true);
    shutdown(conn->fd, SHUT_RDWR);  // the client sees the stream end without its last chunk
  }
}

HttpServer::HttpServer(Handler handler) : impl_(std::make_unique<Impl>(std::move(handler))) {}

HttpServer::~HttpServer() { Stop(); }

Status HttpServer::Start(const ServerOptions& options) { return impl_->Start(options); }

int HttpServer::port() const { return impl_->port.load(); }

void HttpServer::Stop() { impl_->Stop(); }

void HttpServer::DropStreams() { impl_->DropStreams(); }

}  // namespace aidi::http
