// The cpprestsdk transport: the only file that sees cpprestsdk and Boost.Asio.
//
// TLS: with a CA given, the system roots are replaced by it (client-go trusts only the
// kubeconfig's CA); the client certificate and key are loaded from memory; the server name is
// checked by cpprestsdk (RFC 2818) against the URL host, or against tls-server-name, which
// cpprestsdk takes from the Host header (it uses that header for SNI and the name check alike).
// Timeouts: cpprestsdk's timeout bounds each socket read, not the whole request, so a watch
// gets its own client whose timeout is the caller's read timeout.
#include <algorithm>
#include <cctype>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cpprest/http_client.h>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>

#include "base/log.h"
#include "kube/client/transport.h"

namespace aidi::kube {
namespace {

namespace http = web::http;
namespace client = web::http::client;

// Reads every certificate in a PEM bundle into a fresh store. False if none could be read.
bool InstallCaBundle(SSL_CTX* ctx, const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) return false;
  X509_STORE* store = X509_STORE_new();
  int added = 0;
  while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
    if (X509_STORE_add_cert(store, cert) == 1) ++added;
    X509_free(cert);
  }
  BIO_free(bio);
  SSL_CTX_set_cert_store(ctx, store);  // takes ownership; drops the default (system) store
  return added > 0;
}

bool ValidPem(const std::string& pem, bool key) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) return false;
  bool ok = false;
  if (key) {
    EVP_PKEY* k = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
    ok = k != nullptr;
    EVP_PKEY_free(k);
  } else {
    X509* c = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
    ok = c != nullptr;
    X509_free(c);
  }
  BIO_free(bio);
  return ok;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// cpprestsdk reports failures as exceptions; this turns one into a Status naming the target.
Status FromException(const std::string& what, const HttpRequest& request,
                     const std::string& server) {
  std::string where = request.method + " " + server + request.path;
  if (what.find("timed out") != std::string::npos || what.find("Timed out") != std::string::npos) {
    return Status::Timeout(where + ": " + what);
  }
  if (what.find("cancel") != std::string::npos) return Status::Cancelled(where + ": " + what);
  return Status::Unavailable(where + ": " + what);
}

class LineStream final : public ResponseStream {
 public:
  LineStream(http::http_response response, pplx::cancellation_token_source cancel,
             std::shared_ptr<client::http_client> owner, std::string where)
      : response_(std::move(response)),
        cancel_(std::move(cancel)),
        owner_(std::move(owner)),
        where_(std::move(where)) {}

  ~LineStream() override { cancel_.cancel(); }

  StatusOr<std::optional<std::string>> ReadLine() override {
    for (;;) {
      auto nl = buffer_.find('\n', scan_from_);
      if (nl != std::string::npos) {
        std::string line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        scan_from_ = 0;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        return std::optional<std::string>(std::move(line));
      }
      scan_from_ = buffer_.size();
      if (eof_) {
        if (buffer_.empty()) return std::optional<std::string>();
        std::string rest = std::move(buffer_);
        buffer_.clear();
        scan_from_ = 0;
        return std::optional<std::string>(std::move(rest));
      }
      if (cancel_.get_token().is_canceled()) return Status::Cancelled(where_ + ": cancelled");
      try {
        // cpprestsdk's body buffer completes a read only once all requested bytes are there:
        // wait for one byte, then take whatever else has already arrived.
        auto streambuf = response_.body().streambuf();
        std::size_t n = streambuf.getn(chunk_, 1).get();
        if (n > 0) {
          std::size_t more = std::min<std::size_t>(streambuf.in_avail(), sizeof(chunk_) - 1);
          if (more > 0) n += streambuf.getn(chunk_ + 1, more).get();
        }
        if (n == 0) {
          eof_ = true;
        } else {
          buffer_.append(reinterpret_cast<const char*>(chunk_), n);
        }
      } catch (const std::exception& e) {
        if (cancel_.get_token().is_canceled()) return Status::Cancelled(where_ + ": cancelled");
        std::string what = e.what();
        if (what.find("timed out") != std::string::npos) {
          return Status::Timeout(where_ + ": no data within the read timeout");
        }
        return Status::Unavailable(where_ + ": stream broken: " + what);
      }
    }
  }

  void Cancel() override { cancel_.cancel(); }

 private:
  http::http_response response_;
  pplx::cancellation_token_source cancel_;
  std::shared_ptr<client::http_client> owner_;  // keeps the connection's client alive
  std::string where_;
  std::string buffer_;
  std::size_t scan_from_ = 0;
  bool eof_ = false;
  unsigned char chunk_[16384];
};

class CppRestTransport final : public Transport {
 public:
  explicit CppRestTransport(TransportConfig config) : config_(std::move(config)) {}

  StatusOr<HttpResponse> Send(const HttpRequest& request, const HeaderList& headers,
                              std::chrono::milliseconds timeout) override {
    auto http_client = ClientFor(timeout);
    try {
      http::http_response response = http_client->request(Build(request, headers)).get();
      HttpResponse out;
      out.status = response.status_code();
      for (const auto& [name, value] : response.headers()) out.headers[Lower(name)] = value;
      std::vector<unsigned char> body = response.extract_vector().get();
      out.body.assign(body.begin(), body.end());
      return out;
    } catch (const std::exception& e) {
      return FromException(e.what(), request, config_.server);
    }
  }

  StatusOr<StreamingResponse> Open(const HttpRequest& request, const HeaderList& headers,
                                   std::chrono::milliseconds read_timeout) override {
    // A client of its own: cpprestsdk's timeout is per client, and each read of a watch must
    // be bounded by this watch's own read timeout.
    auto http_client = NewClient(read_timeout);
    pplx::cancellation_token_source cancel;
    std::string where = request.method + " " + config_.server + request.Target();
    try {
      http::http_response response =
          http_client->request(Build(request, headers), cancel.get_token()).get();
      StreamingResponse out;
      out.status = response.status_code();
      for (const auto& [name, value] : response.headers()) out.headers[Lower(name)] = value;
      if (out.status < 200 || out.status > 299) {
        std::vector<unsigned char> body = response.extract_vector().get();
        out.error_body.assign(body.begin(), body.end());
        return out;
      }
      out.body = std::make_unique<LineStream>(std::move(response), std::move(cancel),
                                              std::move(http_client), std::move(where));
      return out;
    } catch (const std::exception& e) {
      return FromException(e.what(), request, config_.server);
    }
  }

  Status Validate() const {
    if (!config_.ca_pem.empty() && !ValidPem(config_.ca_pem, false)) {
      return Status::InvalidArgument("certificate-authority data holds no PEM certificate");
    }
    if (!config_.client_cert_pem.empty() && !ValidPem(config_.client_cert_pem, false)) {
      return Status::InvalidArgument("client-certificate data holds no PEM certificate");
    }
    if (!config_.client_key_pem.empty() && !ValidPem(config_.client_key_pem, true)) {
      return Status::InvalidArgument("client-key data holds no PEM private key");
    }
    if (config_.client_cert_pem.empty() != config_.client_key_pem.empty()) {
      return Status::InvalidArgument("client certificate and key must be given together");
    }
    try {
      web::uri uri(config_.server);
      if (uri.scheme() != "https" && uri.scheme() != "http") {
        return Status::InvalidArgument("server \"" + config_.server +
                                       "\" must start with https:// or http://");
      }
      if (uri.host().empty()) {
        return Status::InvalidArgument("server \"" + config_.server + "\" has no host");
      }
    } catch (const std::exception& e) {
      return Status::InvalidArgument("server \"" + config_.server + "\" is not a URL: " + e.what());
    }
    return Status::Ok();
  }

 private:
  http::http_request Build(const HttpRequest& request, const HeaderList& headers) const {
    http::http_request req(request.method);
    req.set_request_uri(request.Target());
    if (!request.body.empty() || !request.content_type.empty()) {
      req.set_body(std::vector<unsigned char>(request.body.begin(), request.body.end()));
      req.headers().set_content_type(request.content_type.empty() ? "application/json"
                                                                  : request.content_type);
    }
    if (!request.accept.empty()) req.headers().add("Accept", request.accept);
    // cpprestsdk checks the server certificate against (and sends SNI for) the Host header
    // when one is set: that is how tls-server-name reaches it.
    if (!config_.tls_server_name.empty()) req.headers().add("Host", config_.tls_server_name);
    for (const auto& [name, value] : headers) req.headers().add(name, value);
    return req;
  }

  std::shared_ptr<client::http_client> ClientFor(std::chrono::milliseconds timeout) {
    std::lock_guard lock(mu_);
    auto& slot = clients_[timeout.count()];
    if (!slot) slot = NewClient(timeout);
    return slot;
  }

  std::shared_ptr<client::http_client> NewClient(std::chrono::milliseconds timeout) const {
    client::http_client_config cfg;
    cfg.set_timeout(std::chrono::duration_cast<std::chrono::microseconds>(timeout));
    cfg.set_validate_certificates(!config_.insecure_skip_tls_verify);
    TransportConfig tls = config_;
    cfg.set_ssl_context_callback([tls](boost::asio::ssl::context& ctx) {
      SSL_CTX* native = ctx.native_handle();
      SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
      if (!tls.ca_pem.empty() && !InstallCaBundle(native, tls.ca_pem)) {
        log::Warn("no CA certificate could be read: every server will be refused");
      }
      if (!tls.client_cert_pem.empty()) {
        ctx.use_certificate_chain(boost::asio::buffer(tls.client_cert_pem));
        ctx.use_private_key(boost::asio::buffer(tls.client_key_pem),
                            boost::asio::ssl::context::pem);
      }
    });
    // cpprestsdk writes a request's headers and body separately; with Nagle's algorithm on, the
    // body waits for the server's delayed ACK (40 ms on Linux) before it leaves. It hands us the
    // connection before each request: a pooled one is open and takes TCP_NODELAY (a new one is
    // not yet connected, so its first request may still wait once).
    const bool tls_server = config_.server.rfind("https://", 0) == 0;
    cfg.set_nativehandle_options([tls_server](client::native_handle handle) {
      boost::system::error_code ignored;
      if (tls_server) {
        using SslStream = boost::asio::ssl::stream<boost::asio::ip::tcp::socket&>;
        static_cast<SslStream*>(handle)->lowest_layer().set_option(
            boost::asio::ip::tcp::no_delay(true), ignored);
      } else {
        static_cast<boost::asio::ip::tcp::socket*>(handle)->set_option(
            boost::asio::ip::tcp::no_delay(true), ignored);
      }
    });
    return std::make_shared<client::http_client>(config_.server, cfg);
  }

  const TransportConfig config_;
  std::mutex mu_;
  std::map<long long, std::shared_ptr<client::http_client>> clients_;
};

}  // namespace

StatusOr<std::unique_ptr<Transport>> NewHttpTransport(const TransportConfig& config) {
  auto transport = std::make_unique<CppRestTransport>(config);
  AIDI_RETURN_IF_ERROR(transport->Validate());
  return std::unique_ptr<Transport>(std::move(transport));
}

}  // namespace aidi::kube
