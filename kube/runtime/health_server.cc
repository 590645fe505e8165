#include "kube/runtime/health_server.h"

#include <mutex>
#include <utility>
#include <vector>

#include <cpprest/http_listener.h>

#include "base/log.h"

namespace aidi::kube {

namespace http = web::http;

struct HealthServer::Impl {
  Metrics* metrics = nullptr;
  std::vector<std::pair<std::string, std::function<bool()>>> liveness;
  std::vector<std::pair<std::string, std::function<bool()>>> readiness;
  std::unique_ptr<http::experimental::listener::http_listener> listener;

  static void Answer(const http::http_request& request, int code, const std::string& body,
                     const std::string& content_type = "text/plain; charset=utf-8") {
    http::http_response response(static_cast<http::status_code>(code));
    response.set_body(body, content_type);
    request.reply(response).then([](pplx::task<void> t) {
      try {
        t.get();
      } catch (const std::exception&) {  // the client went away: nothing to do
      }
    });
  }

  static void Check(const http::http_request& request,
                    const std::vector<std::pair<std::string, std::function<bool()>>>& checks) {
    for (const auto& [name, check] : checks) {
      if (!check()) {
        Answer(request, 503, "check \"" + name + "\" failed\n");
        return;
      }
    }
    Answer(request, 200, "ok\n");
  }

  void Handle(const http::http_request& request) {
    std::string path = request.relative_uri().path();
    if (path == "/healthz" || path == "/livez") return Check(request, liveness);
    if (path == "/readyz") return Check(request, readiness);
    if (path == "/metrics" && metrics != nullptr) {
      return Answer(request, 200, metrics->Render(), "text/plain; version=0.0.4; charset=utf-8");
    }
    Answer(request, 404, "not found\n");
  }
};

HealthServer::HealthServer(Metrics* metrics) : impl_(std::make_unique<Impl>()) {
  impl_->metrics = metrics;
}

HealthServer::~HealthServer() { Stop(); }

void HealthServer::AddLivenessCheck(std::string name, std::function<bool()> check) {
  impl_->liveness.emplace_back(std::move(name), std::move(check));
}

void HealthServer::AddReadinessCheck(std::string name, std::function<bool()> check) {
  impl_->readiness.emplace_back(std::move(name), std::move(check));
}

Status HealthServer::Start(const std::string& address) {
  if (address.find(':') == std::string::npos) {
    return Status::InvalidArgument("health address \"" + address + "\" is not HOST:PORT");
  }
  try {
    impl_->listener =
        std::make_unique<http::experimental::listener::http_listener>("http://" + address);
    Impl* impl = impl_.get();
    impl_->listener->support(http::methods::GET,
                             [impl](const http::http_request& r) { impl->Handle(r); });
    impl_->listener->open().wait();
  } catch (const std::exception& e) {
    impl_->listener.reset();
    return Status::Unavailable("serving health endpoints on " + address + ": " + e.what());
  }
  log::Info("serving health endpoints", {{"addr", address}});
  return Status::Ok();
}

void HealthServer::Stop() {
  if (!impl_->listener) return;
  try {
    impl_->listener->close().wait();
  } catch (const std::exception&) {  // already closed
  }
  impl_->listener.reset();
}

}  // namespace aidi::kube
