// In-process test client for ApiServer: builds an http::Request from a method, a target with
// query and a body, runs it through ApiServer::Handle with a RecordingWriter (no sockets), and
// returns the status, parsed body and Warning headers. Test-only; one call per thread at a time.
#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "devcluster/api_server.h"

namespace aidi::devcluster::testing {

// Records what a handler sends; streaming writes accumulate in `body`. Set `closed` to end a
// watch from the test.
class RecordingWriter : public http::ResponseWriter {
 public:
  void Send(int status, const Headers& h, std::string_view b) override {
    std::lock_guard l(mu);
    code = status;
    headers = h;
    body = b;
  }
  bool StartStream(int status, const Headers& h) override {
    std::lock_guard l(mu);
    code = status;
    headers = h;
    return true;
  }
  bool Write(std::string_view data) override {
    std::lock_guard l(mu);
    body += data;
    return !closed;
  }
  bool Closed() const override { return closed; }
  void CloseAfterResponse() override {}

  std::string Body() {
    std::lock_guard l(mu);
    return body;
  }
  // The body as newline-delimited JSON (watch events).
  std::vector<nlohmann::json> Lines() {
    std::vector<nlohmann::json> out;
    std::string b = Body();
    std::size_t start = 0;
    for (std::size_t nl; (nl = b.find('\n', start)) != std::string::npos; start = nl + 1) {
      out.push_back(nlohmann::json::parse(b.substr(start, nl - start)));
    }
    return out;
  }
  // Every value of header `name`, joined with "\n".
  std::string Header(const std::string& name) {
    std::lock_guard l(mu);
    std::string out;
    for (const auto& [k, v] : headers) {
      if (k == name) out += (out.empty() ? "" : "\n") + v;
    }
    return out;
  }

  std::mutex mu;
  int code = 0;
  Headers headers;
  std::string body;
  std::atomic<bool> closed{false};
};

struct ApiResponse {
  int code;
  nlohmann::json body;  // discarded (is_discarded()) when the body is not JSON
  std::string raw;
  std::string warning;  // Warning headers, joined with "\n"
};

// Splits "path?a=1&b=2" into the request's path and query (no percent-decoding: tests pass
// plain values).
inline void SetTarget(http::Request& req, const std::string& target) {
  auto q = target.find('?');
  req.path = req.raw_path = target.substr(0, q);
  if (q == std::string::npos) return;
  req.raw_query = target.substr(q + 1);
  std::size_t start = 0;
  while (start <= req.raw_query.size()) {
    auto amp = req.raw_query.find('&', start);
    std::string kv =
        req.raw_query.substr(start, amp == std::string::npos ? std::string::npos : amp - start);
    auto eq = kv.find('=');
    req.query.emplace(kv.substr(0, eq), eq == std::string::npos ? "" : kv.substr(eq + 1));
    if (amp == std::string::npos) break;
    start = amp + 1;
  }
}

// `body` null sends no body; a JSON string is sent as raw text; anything else is dumped. An
// empty `user_agent` sends no User-Agent header.
inline ApiResponse CallApi(ApiServer& api, const std::string& token, const std::string& method,
                           const std::string& target, const nlohmann::json& body = nullptr,
                           const std::string& content_type = "application/json",
                           const std::string& accept = "", const std::string& user_agent = "") {
  http::Request req;
  req.method = method;
  SetTarget(req, target);
  req.headers["authorization"] = "Bearer " + token;
  if (!body.is_null()) {
    req.body = body.is_string() ? body.get<std::string>() : body.dump();
    req.headers["content-type"] = content_type;
  }
  if (!accept.empty()) req.headers["accept"] = accept;
  if (!user_agent.empty()) req.headers["user-agent"] = user_agent;
  RecordingWriter w;
  api.Handle(req, w);
  return {w.code, nlohmann::json::parse(w.body, nullptr, false), w.body, w.Header("Warning")};
}

}  // namespace aidi::devcluster::testing
