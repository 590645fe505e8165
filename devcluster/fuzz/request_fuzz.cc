// Fuzzes devcluster's request handling end to end, in process: method, path with query,
// content type and body go through routing, decoding (JSON, YAML, patches), validation,
// CRD schemas and the store. Input: "METHOD\nPATH?QUERY\nCONTENT-TYPE\nBODY". Any crash,
// sanitizer report or uncaught exception is a bug; error answers are expected.
#include <cstdint>
#include <memory>
#include <string>

#include "devcluster/api_server.h"

namespace {

using aidi::devcluster::ApiServer;
using aidi::http::Request;
using aidi::http::ResponseWriter;

class NullWriter : public ResponseWriter {
 public:
  void Send(int, const Headers&, std::string_view) override {}
  bool StartStream(int, const Headers&) override { return true; }
  bool Write(std::string_view) override { return false; }
  bool Closed() const override { return true; }  // watches end at once
  void CloseAfterResponse() override {}
};

ApiServer& Server() {
  static auto* store = new aidi::devcluster::Store(100);
  static ApiServer* server = [] {
    aidi::devcluster::ApiServerOptions o;
    o.token = "t";
    auto* s = new ApiServer(o, *store);
    (void)s->Init();
    // A CRD with a schema, so custom-resource paths get exercised too.
    Request req;
    req.method = "POST";
    req.path = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";
    req.headers["authorization"] = "Bearer t";
    req.headers["content-type"] = "application/json";
    req.body = R"({"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
      "metadata":{"name":"things.fuzz.dev"},"spec":{"group":"fuzz.dev","scope":"Namespaced",
      "names":{"plural":"things","kind":"Thing"},"versions":[{"name":"v1","served":true,
      "storage":true,"subresources":{"status":{}},"schema":{"openAPIV3Schema":{"type":"object",
      "properties":{"spec":{"type":"object","properties":{"n":{"type":"integer","minimum":0},
      "s":{"type":"string","pattern":"^[a-z]+$"}}}}}}}]}})";
    NullWriter w;
    s->Handle(req, w);
    return s;
  }();
  return *server;
}

std::string NextLine(std::string_view& in) {
  auto nl = in.find('\n');
  std::string line(in.substr(0, nl));
  in = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);
  return line;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  Request req;
  req.method = NextLine(in);
  std::string target = NextLine(in);
  auto q = target.find('?');
  req.path = req.raw_path = target.substr(0, q);
  if (q != std::string::npos) {
    req.raw_query = target.substr(q + 1);
    std::string_view qs = req.raw_query;
    while (!qs.empty()) {
      auto amp = qs.find('&');
      std::string kv(qs.substr(0, amp));
      auto eq = kv.find('=');
      req.query.emplace(kv.substr(0, eq), eq == std::string::npos ? "" : kv.substr(eq + 1));
      qs = amp == std::string_view::npos ? std::string_view() : qs.substr(amp + 1);
    }
  }
  req.headers["content-type"] = NextLine(in);
  req.headers["authorization"] = "Bearer t";
  req.headers["accept"] = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";
  req.body = std::string(in);
  NullWriter w;
  Server().Handle(req, w);
  return 0;
}
