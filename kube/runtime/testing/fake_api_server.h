// FakeApiServer: a tiny in-memory API server behind a fake Transport, for unit tests of the
// runtime helpers (leader election, events, finalizers) that must see requests as values and
// get answers a real server would give, without sockets.
//
// It keeps namespaced objects by path and answers GET (object or list), POST (AlreadyExists),
// PUT (resourceVersion precondition: Conflict), PATCH (merge and JSON patch via kube/core/patch,
// a failed `test` is 422 Invalid as on kube-apiserver), and DELETE (finalizers hold an object
// with a deletionTimestamp; removing the last one deletes it). Every request is recorded, and
// `intercept` may answer a request instead (to inject failures or block). Test-only.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/status.h"
#include "kube/client/client.h"
#include "kube/client/transport.h"
#include "kube/core/api_status.h"
#include "kube/core/patch.h"
#include "kube/core/request.h"

namespace aidi::kube::testing {

class FakeApiServer {
 public:
  // Return a response to answer the request yourself; nullopt lets the server handle it.
  using Interceptor = std::function<std::optional<HttpResponse>(const HttpRequest&)>;

  // A Client whose transport is this server; no rate limit, no retries, no sleeping.
  static std::shared_ptr<Client> NewClient(std::shared_ptr<FakeApiServer> server,
                                           const Clock& clock = Clock::Real()) {
    ClientConfig config;
    config.server = "http://fake-api-server";
    config.qps = 0;
    config.max_retries = 0;
    auto client = Client::Create(
        std::move(config),
        [server](const TransportConfig&) -> StatusOr<std::unique_ptr<Transport>> {
          return std::unique_ptr<Transport>(new FakeTransport(server));
        },
        clock, [](std::chrono::nanoseconds) {});
    return client.ok() ? *client : nullptr;
  }

  HttpResponse Handle(const HttpRequest& request) {
    Interceptor intercept;
    {
      std::lock_guard lock(mu_);
      requests_.push_back(request);
      intercept = intercept_;
    }
    if (intercept) {
      if (auto answer = intercept(request)) return *answer;
    }
    std::lock_guard lock(mu_);
    return Serve(request);
  }

  void SetInterceptor(Interceptor intercept) {
    std::lock_guard lock(mu_);
    intercept_ = std::move(intercept);
  }
  std::vector<HttpRequest> Requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }
  // Requests with this method ("PATCH") whose path contains `path_part`.
  std::vector<HttpRequest> Requests(const std::string& method, const std::string& path_part) const {
    std::vector<HttpRequest> out;
    for (auto& r : Requests()) {
      if (r.method == method && r.path.find(path_part) != std::string::npos) out.push_back(r);
    }
    return out;
  }
  void ClearRequests() {
    std::lock_guard lock(mu_);
    requests_.clear();
  }
  // The stored object at `path` (an object path such as "/api/v1/namespaces/ns/events/x").
  std::optional<nlohmann::json> Object(const std::string& path) const {
    std::lock_guard lock(mu_);
    auto it = objects_.find(path);
    if (it == objects_.end()) return std::nullopt;
    return it->second;
  }
  // Stores `object` at `path` as is, with a fresh resourceVersion; returns what was stored.
  nlohmann::json Put(const std::string& path, nlohmann::json object) {
    std::lock_guard lock(mu_);
    object["metadata"]["resourceVersion"] = std::to_string(++rv_);
    objects_[path] = object;
    return object;
  }
  void Erase(const std::string& path) {
    std::lock_guard lock(mu_);
    objects_.erase(path);
  }
  // Objects whose path starts with `collection_path` + "/".
  std::vector<nlohmann::json> List(const std::string& collection_path) const {
    std::lock_guard lock(mu_);
    return ListLocked(collection_path);
  }

  // JSON response helpers (also for interceptors).
  static HttpResponse Json(int status, const nlohmann::json& body) {
    HttpResponse r;
    r.status = status;
    r.headers["content-type"] = "application/json";
    r.body = body.dump();
    return r;
  }
  static HttpResponse Error(const ApiError& error) { return Json(error.code, error.body); }

 private:
  class FakeTransport : public Transport {
   public:
    explicit FakeTransport(std::shared_ptr<FakeApiServer> server) : server_(std::move(server)) {}
    StatusOr<HttpResponse> Send(const HttpRequest& request, const HeaderList&,
                                std::chrono::milliseconds) override {
      return server_->Handle(request);
    }
    StatusOr<StreamingResponse> Open(const HttpRequest&, const HeaderList&,
                                     std::chrono::milliseconds) override {
      return Status::Unavailable("the fake API server does not stream");
    }

   private:
    std::shared_ptr<FakeApiServer> server_;
  };

  std::vector<nlohmann::json> ListLocked(const std::string& collection_path) const {
    std::vector<nlohmann::json> out;
    for (const auto& [path, object] : objects_) {
      if (path.size() > collection_path.size() + 1 && path.starts_with(collection_path + "/") &&
          path.find('/', collection_path.size() + 1) == std::string::npos) {
        out.push_back(object);
      }
    }
    return out;
  }

  // Namespaced paths only: ".../namespaces/<ns>/<resource>[/<name>]".
  static bool IsCollection(const std::string& path) {
    auto at = path.find("/namespaces/");
    if (at == std::string::npos) return false;
    std::string rest = path.substr(at + 12);  // "<ns>/<resource>[/<name>]"
    int slashes = 0;
    for (char c : rest) slashes += c == '/';
    return slashes == 1;
  }

  HttpResponse Serve(const HttpRequest& request) {
    const std::string& path = request.path;
    const GroupResource gr{"", "objects"};
    const std::string name = path.substr(path.rfind('/') + 1);
    if (request.method == "GET" && IsCollection(path)) {
      return Json(200, {{"kind", "List"},
                        {"apiVersion", "v1"},
                        {"metadata", {{"resourceVersion", std::to_string(rv_)}}},
                        {"items", ListLocked(path)}});
    }
    if (request.method == "POST") {
      nlohmann::json object = nlohmann::json::parse(request.body);
      std::string key = path + "/" + object["metadata"].value("name", "");
      if (objects_.count(key)) {
        return Error(NewAlreadyExists(gr, object["metadata"]["name"].get<std::string>()));
      }
      object["metadata"]["resourceVersion"] = std::to_string(++rv_);
      object["metadata"]["uid"] = "uid-" + std::to_string(rv_);
      objects_[key] = object;
      return Json(201, object);
    }
    auto it = objects_.find(path);
    if (it == objects_.end()) return Error(NewNotFound(gr, name));
    nlohmann::json& stored = it->second;
    if (request.method == "GET") return Json(200, stored);
    if (request.method == "PUT") {
      nlohmann::json object = nlohmann::json::parse(request.body);
      std::string rv = object["metadata"].value("resourceVersion", "");
      if (!rv.empty() && rv != stored["metadata"].value("resourceVersion", "")) {
        return Error(NewResourceVersionConflict(gr, name));
      }
      return Store(path, std::move(object));
    }
    if (request.method == "PATCH") {
      nlohmann::json patch = nlohmann::json::parse(request.body);
      StatusOr<nlohmann::json> patched = request.content_type == PatchContentType(PatchType::kJson)
                                             ? ApplyJsonPatch(stored, patch)
                                             : ApplyMergePatch(stored, patch);
      if (!patched.ok()) {
        if (patched.status().IsInvalid()) {
          return Error(NewInvalid("", "Object", name,
                                  {{"FieldValueInvalid", patched.status().message(), ""}}));
        }
        return Error(NewBadRequest(patched.status().message()));
      }
      return Store(path, std::move(patched).value());
    }
    if (request.method == "DELETE") {
      nlohmann::json object = stored;
      if (object["metadata"].value("finalizers", nlohmann::json::array()).empty()) {
        objects_.erase(it);
        return Json(200, object);
      }
      object["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z";
      return Store(path, std::move(object));
    }
    return Error(NewMethodNotAllowed());
  }

  // Writes `object` with a new resourceVersion; an object being deleted without finalizers goes.
  HttpResponse Store(const std::string& path, nlohmann::json object) {
    object["metadata"]["resourceVersion"] = std::to_string(++rv_);
    const nlohmann::json& meta = object["metadata"];
    if (meta.contains("deletionTimestamp") &&
        meta.value("finalizers", nlohmann::json::array()).empty()) {
      objects_.erase(path);
      return Json(200, object);
    }
    objects_[path] = object;
    return Json(200, object);
  }

  mutable std::mutex mu_;
  std::map<std::string, nlohmann::json> objects_;
  std::vector<HttpRequest> requests_;
  Interceptor intercept_;
  long long rv_ = 100;
};

}  // namespace aidi::kube::testing
