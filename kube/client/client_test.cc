#include "kube/client/client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/log.h"
#include "kube/client/api.h"
#include "kube/client/credentials.h"
#include "kube/core/api_status.h"

namespace aidi::kube {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;
using testing::HasSubstr;
using testing::Not;

const ResourceRef kPipelines{"aidi.dev", "v1alpha1", "pipelines", "Pipeline", true};

// What the fake transport saw for one attempt.
struct Attempt {
  HttpRequest request;
  HeaderList headers;
  milliseconds timeout{0};  // Send: the whole-request timeout; Open: the per-read timeout
  bool streaming = false;
};

std::optional<std::string> HeaderValue(const HeaderList& headers, std::string_view name) {
  std::optional<std::string> found;
  for (const auto& [key, value] : headers) {
    if (key == name) {
      EXPECT_FALSE(found.has_value()) << "header " << name << " sent twice";
      found = value;
    }
  }
  return found;
}

using Line = StatusOr<std::optional<std::string>>;

// A watch body: scripted lines (or errors), then a clean end of stream.
class FakeResponseStream : public ResponseStream {
 public:
  explicit FakeResponseStream(std::deque<Line> lines) : lines_(std::move(lines)) {}

  StatusOr<std::optional<std::string>> ReadLine() override {
    if (cancelled_) return Status::Cancelled("watch cancelled");
    if (lines_.empty()) return std::optional<std::string>();
    Line next = std::move(lines_.front());
    lines_.pop_front();
    return next;
  }
  void Cancel() override { cancelled_ = true; }

 private:
  std::deque<Line> lines_;
  std::atomic<bool> cancelled_{false};
};

Line TextLine(std::string text) { return std::optional<std::string>(std::move(text)); }

std::string EventLine(std::string_view type, std::string_view name, std::string_view rv) {
  return nlohmann::json{
      {"type", type},
      {"object", {{"kind", "Pod"}, {"metadata", {{"name", name}, {"resourceVersion", rv}}}}}}
      .dump();
}

// The server behind every FakeTransport a test's factory builds: scripted answers, in order,
// and a record of every attempt and every transport built.
struct FakeServer {
  std::deque<StatusOr<HttpResponse>> answers;
  std::deque<StatusOr<StreamingResponse>> streams;
  std::vector<Attempt> attempts;
  std::vector<TransportConfig> transports_built;
  std::function<void()> on_send;  // called as each Send arrives, before it answers

  void Reply(int status, std::string body, std::map<std::string, std::string> headers = {}) {
    answers.push_back(HttpResponse{status, std::move(headers), std::move(body)});
  }
  void Reply(const ApiError& error) {
    std::map<std::string, std::string> headers;
    if (error.retry_after_seconds) {
      headers["retry-after"] = std::to_string(*error.retry_after_seconds);
    }
    Reply(error.code, error.body.dump(), std::move(headers));
  }
  void Fail(Status status) { answers.push_back(std::move(status)); }
  FakeResponseStream* Stream(std::deque<Line> lines) {
    auto body = std::make_unique<FakeResponseStream>(std::move(lines));
    FakeResponseStream* raw = body.get();
    streams.push_back(StreamingResponse{200, {}, "", std::move(body)});
    return raw;
  }
  void RefuseStream(const ApiError& error) {
    streams.push_back(StreamingResponse{error.code, {}, error.body.dump(), nullptr});
  }
};

class FakeTransport : public Transport {
 public:
  explicit FakeTransport(FakeServer* server) : server_(server) {}

  StatusOr<HttpResponse> Send(const HttpRequest& request, const HeaderList& headers,
                              milliseconds timeout) override {
    server_->attempts.push_back({request, headers, timeout, false});
    if (server_->on_send) server_->on_send();
    if (server_->answers.empty()) {
      ADD_FAILURE() << "unexpected request " << request.method << " " << request.Target();
      return Status::Unavailable("no scripted answer");
    }
    StatusOr<HttpResponse> next = std::move(server_->answers.front());
    server_->answers.pop_front();
    return next;
  }

  StatusOr<StreamingResponse> Open(const HttpRequest& request, const HeaderList& headers,
                                   milliseconds read_timeout) override {
    server_->attempts.push_back({request, headers, read_timeout, true});
    if (server_->streams.empty()) {
      ADD_FAILURE() << "unexpected watch " << request.Target();
      return Status::Unavailable("no scripted stream");
    }
    StatusOr<StreamingResponse> next = std::move(server_->streams.front());
    server_->streams.pop_front();
    return next;
  }

 private:
  FakeServer* server_;
};

// Hands out `current`; Invalidate() counts and moves on to the next of `after_invalidate`.
class FakeCredentials : public CredentialSource {
 public:
  explicit FakeCredentials(std::string token) { current.bearer_token = std::move(token); }

  StatusOr<Credentials> Get() override {
    ++gets;
    if (error) return *error;
    return current;
  }
  void Invalidate() override {
    ++invalidations;
    if (!after_invalidate.empty()) {
      current = after_invalidate.front();
      after_invalidate.pop_front();
    }
  }
  std::string Describe() const override { return "fake credentials"; }

  Credentials current;
  std::deque<Credentials> after_invalidate;
  std::optional<Status> error;
  int gets = 0;
  int invalidations = 0;
};

Credentials Token(std::string token) {
  Credentials c;
  c.bearer_token = std::move(token);
  return c;
}

class ClientTest : public testing::Test {
 protected:
  static ClientConfig Config() {
    ClientConfig config;
    config.server = "https://10.0.0.1:6443";
    return config;
  }

  Client::TransportFactory Factory() {
    return [this](const TransportConfig& tc) -> StatusOr<std::unique_ptr<Transport>> {
      server_.transports_built.push_back(tc);
      return std::unique_ptr<Transport>(std::make_unique<FakeTransport>(&server_));
    };
  }

  // The sleeper records each wait and lets that much fake time pass.
  Client::Sleeper Sleeper() {
    return [this](nanoseconds d) {
      sleeps_.push_back(d);
      clock_.Advance(d);
    };
  }

  std::shared_ptr<Client> MakeClient(ClientConfig config = Config()) {
    auto made = Client::Create(std::move(config), Factory(), clock_, Sleeper());
    EXPECT_TRUE(made.ok()) << made.status().ToString();
    return made.ok() ? std::move(made).value() : nullptr;
  }

  std::shared_ptr<FakeCredentials> WithToken(ClientConfig& config, std::string token) {
    auto creds = std::make_shared<FakeCredentials>(std::move(token));
    config.credentials = creds;
    return creds;
  }

  std::vector<nanoseconds> Sleeps(std::initializer_list<int> whole_seconds) {
    std::vector<nanoseconds> out;
    for (int s : whole_seconds) out.push_back(seconds(s));
    return out;
  }

  HttpRequest GetPod() const { return RequestBuilder(resources::kPods, "default").Get("web-0"); }
  HttpRequest CreatePod() const { return RequestBuilder(resources::kPods, "default").Create("{}"); }

  FakeClock clock_;
  FakeServer server_;
  std::vector<nanoseconds> sleeps_;
};

// --- Requests and credentials -------------------------------------------------------------

TEST_F(ClientTest, SendsTheRequestUnchangedWithUserAgentAndTimeout) {
  ClientConfig config = Config();
  config.request_timeout = seconds(12);
  auto client = MakeClient(config);
  server_.Reply(201, R"({"metadata":{"name":"x"}})");
  HttpRequest request = RequestBuilder(resources::kPods, "default")
                            .Create(R"({"metadata":{"name":"x"}})", {.field_manager = "m"});
  auto got = client->Send(request);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ((*got)["metadata"]["name"], "x");
  ASSERT_EQ(server_.attempts.size(), 1u);
  const Attempt& sent = server_.attempts[0];
  EXPECT_EQ(sent.request.method, "POST");
  EXPECT_EQ(sent.request.Target(), "/api/v1/namespaces/default/pods?fieldManager=m");
  EXPECT_EQ(sent.request.body, R"({"metadata":{"name":"x"}})");
  EXPECT_EQ(sent.request.content_type, "application/json");
  EXPECT_EQ(sent.timeout, milliseconds(12000));
  EXPECT_FALSE(sent.streaming);
  EXPECT_EQ(HeaderValue(sent.headers, "User-Agent"), "aidi/0.1");
}

TEST_F(ClientTest, SendsTheSourcesBearerToken) {
  ClientConfig config = Config();
  auto creds = WithToken(config, "tok-1");
  auto client = MakeClient(config);
  server_.Reply(200, "{}");
  server_.Reply(200, "{}");
  ASSERT_TRUE(client->Send(GetPod()).ok());
  creds->current.bearer_token = "tok-2";  // the source rotated its token
  ASSERT_TRUE(client->Send(GetPod()).ok());
  ASSERT_EQ(server_.attempts.size(), 2u);
  EXPECT_EQ(HeaderValue(server_.attempts[0].headers, "Authorization"), "Bearer tok-1");
  EXPECT_EQ(HeaderValue(server_.attempts[1].headers, "Authorization"), "Bearer tok-2");
  EXPECT_EQ(creds->gets, 2);
  EXPECT_EQ(creds->invalidations, 0);
}

TEST_F(ClientTest, NoAuthorizationHeaderWithoutCredentials) {
  auto client = MakeClient();
  server_.Reply(200, "{}");
  ASSERT_TRUE(client->Send(GetPod()).ok());
  ASSERT_EQ(server_.attempts.size(), 1u);
  EXPECT_EQ(HeaderValue(server_.attempts[0].headers, "Authorization"), std::nullopt);
}

TEST_F(ClientTest, NoAuthorizationHeaderWhenTheSourceGivesNoToken) {
  ClientConfig config = Config();
  WithToken(config, "");
  auto client = MakeClient(config);
  server_.Reply(200, "{}");
  ASSERT_TRUE(client->Send(GetPod()).ok());
  EXPECT_EQ(HeaderValue(server_.attempts.at(0).headers, "Authorization"), std::nullopt);
}

TEST_F(ClientTest, CredentialSourceFailureIsUnauthorizedAndSendsNothing) {
  ClientConfig config = Config();
  auto creds = WithToken(config, "tok");
  creds->error = Status::Unavailable("plugin exited 1");
  auto client = MakeClient(config);
  auto got = client->Send(GetPod());
  ASSERT_FALSE(got.ok());
  EXPECT_TRUE(got.status().IsUnauthorized()) << got.status().ToString();
  EXPECT_THAT(got.status().message(), HasSubstr("fake credentials"));
  EXPECT_THAT(got.status().message(), HasSubstr("plugin exited 1"));
  EXPECT_TRUE(server_.attempts.empty());
}

TEST_F(ClientTest, UnauthorizedInvalidatesAndRetriesOnceWithTheNewToken) {
  ClientConfig config = Config();
  auto creds = WithToken(config, "old-token");
  creds->after_invalidate.push_back(Token("new-token"));
  auto client = MakeClient(config);
  server_.Reply(NewUnauthorized());
  server_.Reply(200, R"({"ok":true})");
  auto got = client->Send(GetPod());
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ((*got)["ok"], true);
  EXPECT_EQ(creds->invalidations, 1);
  ASSERT_EQ(server_.attempts.size(), 2u);
  EXPECT_EQ(HeaderValue(server_.attempts[0].headers, "Authorization"), "Bearer old-token");
  EXPECT_EQ(HeaderValue(server_.attempts[1].headers, "Authorization"), "Bearer new-token");
  EXPECT_TRUE(sleeps_.empty());
}

TEST_F(ClientTest, SecondUnauthorizedIsReturned) {
  ClientConfig config = Config();
  auto creds = WithToken(config, "old-token");
  creds->after_invalidate.push_back(Token("new-token"));
  auto client = MakeClient(config);
  server_.Reply(NewUnauthorized());
  server_.Reply(NewUnauthorized("token expired"));
  auto got = client->Send(CreatePod());
  ASSERT_FALSE(got.ok());
  EXPECT_TRUE(got.status().IsUnauthorized()) << got.status().ToString();
  EXPECT_EQ(got.status().message(), "token expired");
  EXPECT_EQ(creds->invalidations, 1);
  EXPECT_EQ(server_.attempts.size(), 2u);
}

TEST_F(ClientTest, UnauthorizedWithoutCredentialsIsNotRetried) {
  auto client = MakeClient();
  server_.Reply(NewUnauthorized());
  auto got = client->Send(GetPod());
  ASSERT_FALSE(got.ok());
  EXPECT_TRUE(got.status().IsUnauthorized());
  EXPECT_EQ(server_.attempts.size(), 1u);
}

// --- Retries ------------------------------------------------------------------------------

TEST_F(ClientTest, TooManyRequestsWaitsRetryAfterThenSucceeds) {
  auto client = MakeClient();
  server_.Reply(429, NewTooManyRequests("slow down", 3).body.dump(), {{"retry-after", "3"}});
  server_.Reply(200, R"({"kind":"Pod"})");
  auto got = client->Send(GetPod());
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ((*got)["kind"], "Pod");
  EXPECT_EQ(sleeps_, Sleeps({3}));
  EXPECT_EQ(server_.attempts.size(), 2u);
}

TEST_F(ClientTest, RetryAfterIsCappedAtMaxRetryAfter) {
  ClientConfig config = Config();
  config.max_retry_after = seconds(4);
  auto client = MakeClient(config);
  server_.Reply(429, "", {{"retry-after", "60"}});
  server_.Reply(200, "{}");
  ASSERT_TRUE(client->Send(GetPod()).ok());
  EXPECT_EQ(sleeps_, Sleeps({4}));
}

TEST_F(ClientTest, RetryAfterDefaultCapIsTenSeconds) {
  auto client = MakeClient();
  server_.Reply(503, "", {{"retry-after", "3600"}});
  server_.Reply(200, "{}");
  ASSERT_TRUE(client->Send(GetPod()).ok());
  EXPECT_EQ(sleeps_, Sleeps({10}));
}

TEST_F(ClientTest, WithoutRetryAfterWaitsOneSecondDoublingUpToTheCap) {
  ClientConfig config = Config();
  config.max_retry_after = seconds(5);
  auto client = MakeClient(config);
  for (int i = 0; i < 4; ++i) server_.Reply(NewServiceUnavailable("starting"));
  // An unparseable Retry-After (an HTTP date) falls back to the backoff too.
  server_.Reply(429, "", {{"retry-after", "Wed, 21 Oct 2015 07:28:00 GMT"}});
  server_.Reply(200, "{}");
  ASSERT_TRUE(client->Send(GetPod()).ok());
  EXPECT_EQ(sleeps_, Sleeps({1, 2, 4, 5, 5}));
}

TEST_F(ClientTest, RetriesAreBoundedByMaxRetries) {
  ClientConfig config = Config();
  config.max_retries = 2;
  auto client = MakeClient(config);
  for (int i = 0; i < 3; ++i) server_.Reply(NewTooManyRequests("slow down", 1));
  auto got = client->Send(GetPod());
  ASSERT_FALSE(got.ok());
  EXPECT_TRUE(got.status().IsTooManyRequests()) << got.status().ToString();
  EXPECT_EQ(server_.attempts.size(), 3u);  // max_retries + 1
  EXPECT_EQ(sleeps_, Sleeps({1, 1}));
}

TEST_F(ClientTest, ZeroMaxRetriesNeverRetries) {
  ClientConfig config = Config();
  config.max_retries = 0;
  auto client = MakeClient(config);
  server_.Reply(NewServiceUnavailable("down"));
  auto got = client->Send(GetPod());
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(server_.attempts.size(), 1u);
  EXPECT_TRUE(sleeps_.empty());
}

TEST_F(ClientTest, InternalErrorOnPostIsNotRetried) {
  auto client = MakeClient();
  server_.Reply(NewInternalError("etcd timeout"));
  auto got = client->Send(CreatePod());
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kInternal);
  EXPECT_EQ(server_.attempts.size(), 1u);
  EXPECT_TRUE(sleeps_.empty());
}

TEST_F(ClientTest, InternalErrorOnPatchIsNotRetried) {
  auto client = MakeClient();
  server_.Reply(502, "bad gateway");
  auto got = client->Send(
      RequestBuilder(resources::kPods, "default").Patch("web-0", PatchType::kMerge, "{}"));
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kInternal);
  EXPECT_EQ(server_.attempts.size(), 1u);
}

TEST_F(ClientTest, InternalErrorOnGetIsRetried) {
  auto client = MakeClient();
  server_.Reply(NewInternalError("etcd timeout"));
  server_.Reply(200, R"({"kind":"Pod"})");
  auto got = client->Send(GetPod());
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(server_.attempts.size(), 2u);
  EXPECT_EQ(sleeps_, Sleeps({1}));
}

TEST_F(ClientTest, ServerErrorsOnPutAndDeleteAreRetried) {
  auto client = MakeClient();
  RequestBuilder pods(resources::kPods, "default");
  server_.Reply(500, "");
  server_.Reply(200, "{}");
  ASSERT_TRUE(client->Send(pods.Replace("web-0", "{}")).ok());
  server_.Reply(504, "");
  server_.Reply(200, "{}");
  ASSERT_TRUE(client->Send(pods.Delete("web-0")).ok());
  EXPECT_EQ(server_.attempts.size(), 4u);
}

TEST_F(ClientTest, NotImplementedIsNeverRetried) {
  auto client = MakeClient();
  server_.Reply(501, "not implemented");
  auto got = client->Send(GetPod());
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(server_.attempts.size(), 1u);
}

TEST_F(ClientTest, ServiceUnavailableOnPostIsRetried) {
  auto client = MakeClient();
  server_.Reply(NewServiceUnavailable("apiserver is shutting down"));
  server_.Reply(201, R"({"metadata":{"name":"x"}})");
  auto got = client->Send(CreatePod());
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(server_.attempts.size(), 2u);
  EXPECT_EQ(server_.attempts[1].request.method, "POST");
  EXPECT_EQ(server_.attempts[1].request.body, "{}");
}

TEST_F(ClientTest, NetworkErrorOnGetIsRetried) {
  auto client = MakeClient();
  server_.Fail(Status::Unavailable("connection refused"));
  server_.Fail(Status::Timeout("read timed out"));
  server_.Reply(200, R"({"kind":"Pod"})");
  auto got = client->Send(GetPod());
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(server_.attempts.size(), 3u);
  EXPECT_EQ(sleeps_, Sleeps({1, 2}));
}

TEST_F(ClientTest, NetworkErrorOnPostIsNotRetried) {
  auto client = MakeClient();
  server_.Fail(Status::Unavailable("connection reset by peer"));
  auto got = client->Send(CreatePod());
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(got.status().message(), "connection reset by peer");
  EXPECT_EQ(server_.attempts.size(), 1u);
  EXPECT_TRUE(sleeps_.empty());
}

TEST_F(ClientTest, NetworkErrorsOnGetAreBoundedByMaxRetries) {
  ClientConfig config = Config();
  config.max_retries = 2;
  auto client = MakeClient(config);
  for (int i = 0; i < 3; ++i) server_.Fail(Status::Unavailable("connection refused"));
  auto got = client->Send(GetPod());
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(server_.attempts.size(), 3u);
}

// --- Shutdown -----------------------------------------------------------------------------

TEST_F(ClientTest, ShutdownEndsARetryWaitInProgress) {
  ClientConfig config = Config();
  config.max_retry_after = std::chrono::hours(1);
  // The real wait (no test sleeper): a 429 that asks for an hour.
  auto made = Client::Create(config, Factory(), clock_);
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  std::shared_ptr<Client> client = *made;
  server_.Reply(429, "", {{"retry-after", "3600"}});
  std::promise<void> sent;
  server_.on_send = [&sent] { sent.set_value(); };
  auto result = std::async(std::launch::async, [&] { return client->Send(GetPod()); });
  sent.get_future().wait();
  client->Shutdown();
  // Without Shutdown the answer would take an hour; this only guards against hanging the suite.
  ASSERT_EQ(result.wait_for(seconds(60)), std::future_status::ready);
  auto got = result.get();
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kCancelled);
  EXPECT_THAT(got.status().message(), HasSubstr("GET /api/v1/namespaces/default/pods/web-0"));
  EXPECT_EQ(server_.attempts.size(), 1u);
}

TEST_F(ClientTest, AfterShutdownNothingIsSent) {
  auto client = MakeClient();
  client->Shutdown();
  client->Shutdown();  // idempotent
  auto got = client->Send(GetPod());
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kCancelled);
  auto watch = client->Watch(RequestBuilder(resources::kPods, "default").Watch({}));
  ASSERT_FALSE(watch.ok());
  EXPECT_EQ(watch.status().code(), StatusCode::kCancelled);
  EXPECT_TRUE(server_.attempts.empty());
}

TEST_F(ClientTest, ShutdownLeavesClientsMadeByWithRetryPolicy) {
  auto client = MakeClient();
  auto lease_client = client->WithRetryPolicy(0, milliseconds(2000));
  client->Shutdown();
  server_.Reply(200, R"({"kind":"Lease"})");
  auto got = lease_client->Send(GetPod());
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(server_.attempts.size(), 1u);
}

// --- Answers ------------------------------------------------------------------------------

TEST_F(ClientTest, ErrorBodiesMapToNamedCodes) {
  const GroupResource pods{"", "pods"};
  struct Case {
    ApiError error;
    StatusCode code;
  };
  const Case cases[] = {
      {NewNotFound(pods, "web-0"), StatusCode::kNotFound},
      {NewAlreadyExists(pods, "web-0"), StatusCode::kAlreadyExists},
      {NewResourceVersionConflict(pods, "web-0"), StatusCode::kConflict},
      {NewInvalid("", "Pod", "web-0", {{"FieldValueRequired", "Required value", "spec"}}),
       StatusCode::kInvalid},
      {NewResourceExpired("too old resource version: 1 (42)"), StatusCode::kExpired},
      {NewTooManyRequests("too many requests", 1), StatusCode::kTooManyRequests},
      {NewUnauthorized(), StatusCode::kUnauthorized},
      {NewForbidden(pods, "web-0", "User \"bob\" cannot create resource"), StatusCode::kForbidden},
      {NewInternalError("etcd timeout"), StatusCode::kInternal},
  };
  ClientConfig config = Config();
  config.max_retries = 0;
  auto client = MakeClient(config);
  for (const Case& c : cases) {
    SCOPED_TRACE(c.error.body.dump());
    server_.Reply(c.error);
    auto got = client->Send(CreatePod());
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.status().code(), c.code) << got.status().ToString();
    EXPECT_EQ(got.status().message(), c.error.body["message"].get<std::string>());
  }
  // 409 is AlreadyExists or Conflict by reason, not by number.
  EXPECT_EQ(cases[1].error.code, 409);
  EXPECT_EQ(cases[2].error.code, 409);
  EXPECT_EQ(server_.attempts.size(), std::size(cases));
}

TEST_F(ClientTest, ErrorWithoutStatusBodyMapsByHttpCode) {
  auto client = MakeClient();
  server_.Reply(404, "404 page not found");
  auto got = client->Send(GetPod());
  ASSERT_FALSE(got.ok());
  EXPECT_TRUE(got.status().IsNotFound());
  EXPECT_EQ(got.status().message(), "HTTP 404: 404 page not found");
}

TEST_F(ClientTest, ErrorBodyWithMistypedStatusFieldsStillMaps) {
  // A proxy's JSON error that only looks like a Status must not throw out of the client.
  auto client = MakeClient();
  server_.Reply(403, R"({"kind":7,"reason":["x"],"message":false})");
  auto got = client->Send(CreatePod());
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kForbidden);
}

TEST_F(ClientTest, NonJsonAnswerIsAnError) {
  auto client = MakeClient();
  server_.Reply(200, "<html>login</html>");
  auto got = client->Send(GetPod());
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kInternal);
  EXPECT_THAT(got.status().message(), HasSubstr("not JSON"));
  EXPECT_THAT(got.status().message(), HasSubstr("/api/v1/namespaces/default/pods/web-0"));
}

TEST_F(ClientTest, EmptyAnswerParsesAsNull) {
  auto client = MakeClient();
  server_.Reply(200, "");
  auto got = client->Send(GetPod());
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(got->is_null());
}

TEST_F(ClientTest, SendRawReturnsTheBodyVerbatim) {
  auto client = MakeClient();
  server_.Reply(200, "line 1\nline 2\n");
  auto got = client->SendRaw(GetPod());
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, "line 1\nline 2\n");
  server_.Reply(NewNotFound({"", "pods"}, "web-0"));
  EXPECT_TRUE(client->SendRaw(GetPod()).status().IsNotFound());
}

// --- Rate limiting ------------------------------------------------------------------------

TEST_F(ClientTest, RateLimiterSleepsThroughTheSleeper) {
  ClientConfig config = Config();
  config.qps = 1;
  config.burst = 1;
  auto client = MakeClient(config);
  for (int i = 0; i < 3; ++i) server_.Reply(200, "{}");
  ASSERT_TRUE(client->Send(GetPod()).ok());
  EXPECT_TRUE(sleeps_.empty());
  ASSERT_TRUE(client->Send(GetPod()).ok());
  EXPECT_EQ(sleeps_, Sleeps({1}));
  ASSERT_TRUE(client->Send(GetPod()).ok());
  EXPECT_EQ(sleeps_, Sleeps({1, 1}));
}

TEST_F(ClientTest, RateLimiterRefillsAsTimePasses) {
  ClientConfig config = Config();
  config.qps = 2;
  config.burst = 2;
  auto client = MakeClient(config);
  for (int i = 0; i < 5; ++i) server_.Reply(200, "{}");
  ASSERT_TRUE(client->Send(GetPod()).ok());
  ASSERT_TRUE(client->Send(GetPod()).ok());
  EXPECT_TRUE(sleeps_.empty());  // the burst
  clock_.Advance(seconds(1));    // two more tokens at 2 qps
  ASSERT_TRUE(client->Send(GetPod()).ok());
  ASSERT_TRUE(client->Send(GetPod()).ok());
  EXPECT_TRUE(sleeps_.empty());
  ASSERT_TRUE(client->Send(GetPod()).ok());
  EXPECT_EQ(sleeps_, std::vector<nanoseconds>{milliseconds(500)});
}

TEST_F(ClientTest, RetriesAlsoWaitForTheRateLimiter) {
  ClientConfig config = Config();
  config.qps = 1;
  config.burst = 1;
  WithToken(config, "t");
  auto client = MakeClient(config);
  server_.Reply(NewUnauthorized());
  server_.Reply(200, "{}");
  ASSERT_TRUE(client->Send(GetPod()).ok());
  // The 401 retry took a second token, and waited for it.
  EXPECT_EQ(sleeps_, Sleeps({1}));
}

// --- Transports ---------------------------------------------------------------------------

TEST_F(ClientTest, CreateWithEmptyServerIsInvalidArgument) {
  auto made = Client::Create(ClientConfig{}, Factory(), clock_, Sleeper());
  ASSERT_FALSE(made.ok());
  EXPECT_EQ(made.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(server_.transports_built.empty());
  // The real-transport overload checks before touching the network.
  auto real = Client::Create(ClientConfig{});
  ASSERT_FALSE(real.ok());
  EXPECT_EQ(real.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(ClientTest, CreateBuildsTheFirstTransportFromTheConfig) {
  ClientConfig config = Config();
  config.ca_pem = "CA";
  config.client_cert_pem = "CERT";
  config.client_key_pem = "KEY";
  config.insecure_skip_tls_verify = true;
  config.tls_server_name = "kubernetes.default";
  auto client = MakeClient(config);
  ASSERT_EQ(server_.transports_built.size(), 1u);
  const TransportConfig& tc = server_.transports_built[0];
  EXPECT_EQ(tc.server, "https://10.0.0.1:6443");
  EXPECT_EQ(tc.ca_pem, "CA");
  EXPECT_EQ(tc.client_cert_pem, "CERT");
  EXPECT_EQ(tc.client_key_pem, "KEY");
  EXPECT_TRUE(tc.insecure_skip_tls_verify);
  EXPECT_EQ(tc.tls_server_name, "kubernetes.default");
  // Requests with token-only credentials reuse it.
  server_.Reply(200, "{}");
  ASSERT_TRUE(client->Send(GetPod()).ok());
  EXPECT_EQ(server_.transports_built.size(), 1u);
}

TEST_F(ClientTest, CreateReportsTransportFactoryErrors) {
  auto made = Client::Create(
      Config(),
      [](const TransportConfig&) -> StatusOr<std::unique_ptr<Transport>> {
        return Status::InvalidArgument("bad PEM");
      },
      clock_, Sleeper());
  ASSERT_FALSE(made.ok());
  EXPECT_EQ(made.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(made.status().message(), "server https://10.0.0.1:6443: bad PEM");
}

TEST_F(ClientTest, NewClientCertificateRebuildsTheTransport) {
  ClientConfig config = Config();
  config.ca_pem = "CA";
  auto creds = WithToken(config, "");
  creds->current.client_cert_pem = "CERT-A";
  creds->current.client_key_pem = "KEY-A";
  auto client = MakeClient(config);
  ASSERT_EQ(server_.transports_built.size(), 1u);  // at Create, with the config's (no) cert
  for (int i = 0; i < 4; ++i) server_.Reply(200, "{}");

  ASSERT_TRUE(client->Send(GetPod()).ok());
  ASSERT_EQ(server_.transports_built.size(), 2u);
  EXPECT_EQ(server_.transports_built[1].client_cert_pem, "CERT-A");
  EXPECT_EQ(server_.transports_built[1].client_key_pem, "KEY-A");
  EXPECT_EQ(server_.transports_built[1].ca_pem, "CA");

  ASSERT_TRUE(client->Send(GetPod()).ok());  // same certificate: same transport
  EXPECT_EQ(server_.transports_built.size(), 2u);

  creds->current.client_cert_pem = "CERT-B";
  creds->current.client_key_pem = "KEY-B";
  ASSERT_TRUE(client->Send(GetPod()).ok());
  ASSERT_EQ(server_.transports_built.size(), 3u);
  EXPECT_EQ(server_.transports_built[2].client_cert_pem, "CERT-B");
  EXPECT_EQ(server_.transports_built[2].client_key_pem, "KEY-B");

  ASSERT_TRUE(client->Send(GetPod()).ok());
  EXPECT_EQ(server_.transports_built.size(), 3u);
}

TEST_F(ClientTest, TransportFactoryFailureOnRotationIsReturned) {
  ClientConfig config = Config();
  auto creds = WithToken(config, "");
  int built = 0;
  auto made = Client::Create(
      config,
      [&](const TransportConfig&) -> StatusOr<std::unique_ptr<Transport>> {
        if (++built > 1) return Status::InvalidArgument("bad certificate");
        return std::unique_ptr<Transport>(std::make_unique<FakeTransport>(&server_));
      },
      clock_, Sleeper());
  ASSERT_TRUE(made.ok());
  creds->current.client_cert_pem = "GARBAGE";
  auto got = (*made)->Send(GetPod());
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(got.status().message(), HasSubstr("bad certificate"));
  EXPECT_TRUE(server_.attempts.empty());
}

// --- Watches ------------------------------------------------------------------------------

TEST_F(ClientTest, WatchReadTimeoutIsTimeoutSecondsPlusThirtySeconds) {
  auto client = MakeClient();
  RequestBuilder pods(resources::kPods, "default");
  server_.Stream({});
  server_.Stream({});
  ASSERT_TRUE(client->Watch(pods.Watch({})).ok());                       // 290 s by default
  ASSERT_TRUE(client->Watch(pods.Watch({.timeout_seconds = 60})).ok());  // explicit
  ASSERT_EQ(server_.attempts.size(), 2u);
  EXPECT_TRUE(server_.attempts[0].streaming);
  EXPECT_EQ(server_.attempts[0].timeout, seconds(320));
  EXPECT_EQ(server_.attempts[1].timeout, seconds(90));
  EXPECT_EQ(server_.attempts[1].request.Query("watch"), "true");
}

TEST_F(ClientTest, WatchSendsTheBearerToken) {
  ClientConfig config = Config();
  WithToken(config, "watch-token");
  auto client = MakeClient(config);
  server_.Stream({});
  ASSERT_TRUE(client->Watch(RequestBuilder(resources::kPods, "").Watch({})).ok());
  ASSERT_EQ(server_.attempts.size(), 1u);
  EXPECT_EQ(HeaderValue(server_.attempts[0].headers, "Authorization"), "Bearer watch-token");
  EXPECT_EQ(server_.attempts[0].request.path, "/api/v1/pods");
}

TEST_F(ClientTest, WatchYieldsEventsInOrderSkippingBlankLines) {
  auto client = MakeClient();
  server_.Stream({TextLine(EventLine("ADDED", "a", "1")), TextLine(""),
                  TextLine(EventLine("MODIFIED", "a", "2")), TextLine(""), TextLine(""),
                  TextLine(EventLine("DELETED", "a", "3"))});
  auto watch = client->Watch(RequestBuilder(resources::kPods, "default").Watch({}));
  ASSERT_TRUE(watch.ok()) << watch.status().ToString();
  const std::pair<WatchEventType, const char*> want[] = {{WatchEventType::kAdded, "1"},
                                                         {WatchEventType::kModified, "2"},
                                                         {WatchEventType::kDeleted, "3"}};
  for (const auto& [type, rv] : want) {
    auto next = (*watch)->Next();
    ASSERT_TRUE(next.ok()) << next.status().ToString();
    ASSERT_TRUE(next->has_value());
    EXPECT_EQ((*next)->type, type);
    EXPECT_EQ((*next)->ResourceVersion(), rv);
  }
  auto end = (*watch)->Next();
  ASSERT_TRUE(end.ok());
  EXPECT_FALSE(end->has_value());  // the server closed the stream
}

TEST_F(ClientTest, WatchStreamErrorIsPropagated) {
  auto client = MakeClient();
  server_.Stream({TextLine(EventLine("ADDED", "a", "1")), Status::Timeout("no data for 320s")});
  auto watch = client->Watch(RequestBuilder(resources::kPods, "default").Watch({}));
  ASSERT_TRUE(watch.ok());
  ASSERT_TRUE((*watch)->Next().ok());
  auto next = (*watch)->Next();
  ASSERT_FALSE(next.ok());
  EXPECT_EQ(next.status().code(), StatusCode::kTimeout);
  EXPECT_EQ(next.status().message(), "no data for 320s");
}

TEST_F(ClientTest, WatchMalformedLineIsAnError) {
  auto client = MakeClient();
  server_.Stream({TextLine("{\"type\":\"ADDED\"")});
  auto watch = client->Watch(RequestBuilder(resources::kPods, "default").Watch({}));
  ASSERT_TRUE(watch.ok());
  auto next = (*watch)->Next();
  ASSERT_FALSE(next.ok());
  EXPECT_EQ(next.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(ClientTest, WatchInStreamErrorEventIsAnEvent) {
  auto client = MakeClient();
  server_.Stream({TextLine(
      nlohmann::json{{"type", "ERROR"}, {"object", NewResourceExpired("too old").body}}.dump())});
  auto watch = client->Watch(RequestBuilder(resources::kPods, "default").Watch({}));
  ASSERT_TRUE(watch.ok());
  auto next = (*watch)->Next();
  ASSERT_TRUE(next.ok());
  ASSERT_TRUE(next->has_value());
  EXPECT_EQ((*next)->type, WatchEventType::kError);
  EXPECT_TRUE((*next)->error.IsExpired());
}

TEST_F(ClientTest, WatchOpenRefusedWith410IsExpired) {
  auto client = MakeClient();
  server_.RefuseStream(NewResourceExpired("too old resource version: 5 (900)"));
  auto watch =
      client->Watch(RequestBuilder(resources::kPods, "default").Watch({.resource_version = "5"}));
  ASSERT_FALSE(watch.ok());
  EXPECT_TRUE(watch.status().IsExpired()) << watch.status().ToString();
  EXPECT_EQ(watch.status().message(), "too old resource version: 5 (900)");
  EXPECT_EQ(server_.attempts.size(), 1u);
}

TEST_F(ClientTest, WatchOpenNetworkErrorIsReturned) {
  auto client = MakeClient();
  server_.streams.push_back(Status::Unavailable("connection refused"));
  auto watch = client->Watch(RequestBuilder(resources::kPods, "default").Watch({}));
  ASSERT_FALSE(watch.ok());
  EXPECT_EQ(watch.status().code(), StatusCode::kUnavailable);
}

TEST_F(ClientTest, WatchUnauthorizedInvalidatesAndRetriesOnce) {
  ClientConfig config = Config();
  auto creds = WithToken(config, "old");
  creds->after_invalidate.push_back(Token("new"));
  auto client = MakeClient(config);
  server_.RefuseStream(NewUnauthorized());
  server_.Stream({});
  ASSERT_TRUE(client->Watch(RequestBuilder(resources::kPods, "default").Watch({})).ok());
  EXPECT_EQ(creds->invalidations, 1);
  ASSERT_EQ(server_.attempts.size(), 2u);
  EXPECT_EQ(HeaderValue(server_.attempts[1].headers, "Authorization"), "Bearer new");

  server_.RefuseStream(NewUnauthorized());
  server_.RefuseStream(NewUnauthorized());
  auto refused = client->Watch(RequestBuilder(resources::kPods, "default").Watch({}));
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(refused.status().IsUnauthorized());
  EXPECT_EQ(creds->invalidations, 2);
}

TEST_F(ClientTest, WatchCancelReachesTheStream) {
  auto client = MakeClient();
  server_.Stream({TextLine(EventLine("ADDED", "a", "1"))});
  auto watch = client->Watch(RequestBuilder(resources::kPods, "default").Watch({}));
  ASSERT_TRUE(watch.ok());
  (*watch)->Cancel();
  auto next = (*watch)->Next();
  ASSERT_FALSE(next.ok());
  EXPECT_EQ(next.status().code(), StatusCode::kCancelled);
}

// --- Logs ---------------------------------------------------------------------------------

TEST_F(ClientTest, TokensNeverAppearInLogOutput) {
  const std::string first = "first-secret-token-8f3a1c";
  const std::string second = "second-secret-token-77b2e";
  ClientConfig config = Config();
  auto creds = WithToken(config, first);
  creds->after_invalidate.push_back(Token(second));
  auto client = MakeClient(config);
  server_.Reply(NewUnauthorized());
  server_.Reply(NewServiceUnavailable("starting"));
  server_.Fail(Status::Unavailable("connection reset"));
  server_.Reply(NewUnauthorized());
  log::SetLevel(log::Level::kDebug);
  testing::internal::CaptureStderr();
  auto got = client->Send(GetPod());
  std::string logged = testing::internal::GetCapturedStderr();
  log::SetLevel(log::Level::kInfo);
  ASSERT_FALSE(got.ok());
  EXPECT_TRUE(got.status().IsUnauthorized());
  EXPECT_EQ(server_.attempts.size(), 4u);
  // The lines that could leak a token were written...
  EXPECT_THAT(logged, HasSubstr("unauthorized: refreshing credentials"));
  EXPECT_THAT(logged, HasSubstr("fake credentials"));
  EXPECT_THAT(logged, HasSubstr("msg=retrying"));
  EXPECT_THAT(logged, HasSubstr("request failed"));
  // ...and none holds a token.
  EXPECT_THAT(logged, Not(HasSubstr(first)));
  EXPECT_THAT(logged, Not(HasSubstr(second)));
  EXPECT_THAT(got.status().message(), Not(HasSubstr(second)));
}

// A kubeconfig whose CA did not sign the server's certificate: cpprestsdk says only "Error in
// SSL handshake"; the client names certificate verification, at error level, and still fails.
TEST_F(ClientTest, TlsHandshakeFailureIsLoudAndNamesCertificateVerification) {
  ClientConfig config = Config();
  config.max_retries = 1;
  auto client = MakeClient(config);
  server_.Fail(
      Status::Unavailable("GET https://10.0.0.1:6443/api/v1/pods: Error in SSL handshake"));
  server_.Fail(
      Status::Unavailable("GET https://10.0.0.1:6443/api/v1/pods: Error in SSL handshake"));
  testing::internal::CaptureStderr();
  auto got = client->Send(GetPod());
  std::string logged = testing::internal::GetCapturedStderr();
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(got.status().message(), HasSubstr("TLS certificate verification failed"));
  EXPECT_THAT(logged, HasSubstr("level=error"));
  EXPECT_THAT(logged, HasSubstr("TLS certificate verification failed"));
}

// --- Api ----------------------------------------------------------------------------------

class ApiTest : public ClientTest {
 protected:
  Api Pods() { return Api(MakeClient(), resources::kPods, "default"); }
};

TEST_F(ApiTest, GetReturnsTheObject) {
  Api pods = Pods();
  server_.Reply(200, R"({"metadata":{"name":"web-0"}})");
  auto got = pods.Get("web-0");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ((*got)["metadata"]["name"], "web-0");
  ASSERT_EQ(server_.attempts.size(), 1u);
  EXPECT_EQ(server_.attempts[0].request.method, "GET");
  EXPECT_EQ(server_.attempts[0].request.path, "/api/v1/namespaces/default/pods/web-0");
}

TEST_F(ApiTest, GetIfExistsReturnsNulloptOnNotFound) {
  Api pods = Pods();
  server_.Reply(NewNotFound({"", "pods"}, "web-0"));
  auto got = pods.GetIfExists("web-0");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_FALSE(got->has_value());
}

TEST_F(ApiTest, GetIfExistsReturnsTheObject) {
  Api pods = Pods();
  server_.Reply(200, R"({"metadata":{"name":"web-0"}})");
  auto got = pods.GetIfExists("web-0");
  ASSERT_TRUE(got.ok());
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((**got)["metadata"]["name"], "web-0");
}

TEST_F(ApiTest, GetIfExistsPropagatesOtherErrors) {
  Api pods = Pods();
  server_.Reply(NewForbidden({"", "pods"}, "web-0", "no access"));
  auto forbidden = pods.GetIfExists("web-0");
  ASSERT_FALSE(forbidden.ok());
  EXPECT_EQ(forbidden.status().code(), StatusCode::kForbidden);
  server_.Reply(NewResourceExpired("gone"));
  EXPECT_TRUE(pods.GetIfExists("web-0").status().IsExpired());
}

TEST_F(ApiTest, ListSendsItsParams) {
  Api pods = Pods();
  server_.Reply(200, R"({"kind":"PodList","items":[]})");
  auto got = pods.List({.label_selector = "app=web", .limit = 10});
  ASSERT_TRUE(got.ok());
  EXPECT_EQ((*got)["kind"], "PodList");
  EXPECT_EQ(server_.attempts.at(0).request.Target(),
            "/api/v1/namespaces/default/pods?labelSelector=app%3Dweb&limit=10");
}

TEST_F(ApiTest, CreateReplaceAndDeleteSendTheirVerbs) {
  Api pods = Pods();
  nlohmann::json pod = {{"metadata", {{"name", "web-0"}}}};
  for (int i = 0; i < 3; ++i) server_.Reply(200, pod.dump());
  ASSERT_TRUE(pods.Create(pod, {.dry_run = true}).ok());
  ASSERT_TRUE(pods.Replace("web-0", pod).ok());
  ASSERT_TRUE(pods.Delete("web-0", {.propagation_policy = "Orphan"}).ok());
  ASSERT_EQ(server_.attempts.size(), 3u);
  const HttpRequest& create = server_.attempts[0].request;
  EXPECT_EQ(create.method, "POST");
  EXPECT_EQ(create.Target(), "/api/v1/namespaces/default/pods?dryRun=All");
  EXPECT_EQ(nlohmann::json::parse(create.body), pod);
  const HttpRequest& replace = server_.attempts[1].request;
  EXPECT_EQ(replace.method, "PUT");
  EXPECT_EQ(replace.path, "/api/v1/namespaces/default/pods/web-0");
  EXPECT_EQ(nlohmann::json::parse(replace.body), pod);
  const HttpRequest& del = server_.attempts[2].request;
  EXPECT_EQ(del.method, "DELETE");
  EXPECT_EQ(del.path, "/api/v1/namespaces/default/pods/web-0");
  EXPECT_EQ(nlohmann::json::parse(del.body)["propagationPolicy"], "Orphan");
}

TEST_F(ApiTest, JsonPatchSendsTheArray) {
  Api pods = Pods();
  nlohmann::json ops = nlohmann::json::array(
      {{{"op", "replace"}, {"path", "/metadata/labels/app"}, {"value", "web"}},
       {{"op", "remove"}, {"path", "/metadata/annotations/x"}}});
  server_.Reply(200, "{}");
  ASSERT_TRUE(pods.Patch("web-0", PatchType::kJson, ops).ok());
  const HttpRequest& sent = server_.attempts.at(0).request;
  EXPECT_EQ(sent.method, "PATCH");
  EXPECT_EQ(sent.path, "/api/v1/namespaces/default/pods/web-0");
  EXPECT_EQ(sent.content_type, "application/json-patch+json");
  nlohmann::json body = nlohmann::json::parse(sent.body);
  EXPECT_TRUE(body.is_array());
  EXPECT_EQ(body, ops);
}

TEST_F(ApiTest, StatusVerbsGoToTheStatusSubresource) {
  Api pipelines(MakeClient(), kPipelines, "x");
  for (int i = 0; i < 3; ++i) server_.Reply(200, "{}");
  nlohmann::json status = {{"status", {{"phase", "Running"}}}};
  ASSERT_TRUE(pipelines.PatchStatus("p1", PatchType::kMerge, status, {.field_manager = "c"}).ok());
  ASSERT_TRUE(pipelines.GetStatus("p1").ok());
  ASSERT_TRUE(pipelines.ReplaceStatus("p1", status).ok());
  ASSERT_EQ(server_.attempts.size(), 3u);
  const HttpRequest& patch = server_.attempts[0].request;
  EXPECT_EQ(patch.method, "PATCH");
  EXPECT_EQ(patch.Target(),
            "/apis/aidi.dev/v1alpha1/namespaces/x/pipelines/p1/status?fieldManager=c");
  EXPECT_EQ(patch.content_type, "application/merge-patch+json");
  EXPECT_EQ(nlohmann::json::parse(patch.body), status);
  EXPECT_EQ(server_.attempts[1].request.method, "GET");
  EXPECT_EQ(server_.attempts[1].request.path,
            "/apis/aidi.dev/v1alpha1/namespaces/x/pipelines/p1/status");
  EXPECT_EQ(server_.attempts[2].request.method, "PUT");
  EXPECT_EQ(server_.attempts[2].request.path,
            "/apis/aidi.dev/v1alpha1/namespaces/x/pipelines/p1/status");
}

TEST_F(ApiTest, WatchOpensAStreamOnTheCollection) {
  Api all(MakeClient(), resources::kPods, "");
  server_.Stream({TextLine(EventLine("ADDED", "a", "7"))});
  auto watch = all.Watch({.resource_version = "6", .timeout_seconds = 10});
  ASSERT_TRUE(watch.ok());
  ASSERT_EQ(server_.attempts.size(), 1u);
  EXPECT_TRUE(server_.attempts[0].streaming);
  EXPECT_EQ(server_.attempts[0].request.path, "/api/v1/pods");
  EXPECT_EQ(server_.attempts[0].request.Query("resourceVersion"), "6");
  EXPECT_EQ(server_.attempts[0].timeout, seconds(40));
  auto next = (*watch)->Next();
  ASSERT_TRUE(next.ok());
  ASSERT_TRUE(next->has_value());
  EXPECT_EQ((*next)->ResourceVersion(), "7");
}

}  // namespace
}  // namespace aidi::kube
