#include "devcluster/faults.h"

namespace aidi::devcluster {
namespace {

bool Matches(const std::string& pattern, const std::string& value) {
  return pattern == "*" || pattern == value;
}

}  // namespace

StatusOr<Faults::ErrorRule> Faults::ParseErrorRule(const nlohmann::json& body) {
  if (!body.is_object()) return Status::InvalidArgument("fault rule must be a JSON object");
  ErrorRule r;
  try {
    r.verb = body.value("verb", "*");
    r.resource = body.value("resource", "*");
    r.code = body.value("code", 500);
    r.probability = body.value("probability", 1.0);
    r.count = body.value("count", -1);
    r.retry_after_seconds = body.value("retryAfterSeconds", 1);
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("fault rule: ") + e.what());
  }
  static const int kCodes[] = {409, 429, 500, 503, 504};
  if (std::find(std::begin(kCodes), std::end(kCodes), r.code) == std::end(kCodes)) {
    return Status::InvalidArgument("fault rule: code must be one of 409, 429, 500, 503, 504");
  }
  if (r.probability < 0 || r.probability > 1) {
    return Status::InvalidArgument("fault rule: probability must be within [0, 1]");
  }
  return r;
}

StatusOr<Faults::LatencyRule> Faults::ParseLatencyRule(const nlohmann::json& body) {
  if (!body.is_object()) return Status::InvalidArgument("latency rule must be a JSON object");
  LatencyRule r;
  try {
    r.verb = body.value("verb", "*");
    r.resource = body.value("resource", "*");
    r.delay = std::chrono::milliseconds(body.value("milliseconds", 0));
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("latency rule: ") + e.what());
  }
  if (r.delay.count() < 0 || r.delay > std::chrono::minutes(5)) {
    return Status::InvalidArgument("latency rule: milliseconds must be within [0, 300000]");
  }
  return r;
}

void Faults::AddErrorRule(ErrorRule rule) {
  std::lock_guard lock(mu_);
  errors_.push_back(std::move(rule));
}

void Faults::AddLatencyRule(LatencyRule rule) {
  std::lock_guard lock(mu_);
  latencies_.push_back(std::move(rule));
}

void Faults::Clear() {
  std::lock_guard lock(mu_);
  errors_.clear();
  latencies_.clear();
}

std::optional<kube::ApiError> Faults::MaybeFail(const std::string& verb,
                                                const std::string& resource) {
  std::lock_guard lock(mu_);
  for (auto& r : errors_) {
    if (r.count == 0 || !Matches(r.verb, verb) || !Matches(r.resource, resource)) continue;
    if (r.probability < 1.0 &&
        std::uniform_real_distribution<double>(0, 1)(rng_) >= r.probability) {
      continue;
    }
    if (r.count > 0) --r.count;
    ++injected_;
    const std::string why = "injected fault for " + verb + " " + resource;
    switch (r.code) {
      case 409:
        return kube::NewConflict({"", resource}, "", why);
      case 429:
        return kube::NewTooManyRequests(
            "the server has received too many requests and "
            "has asked us to try again later (" +
                why + ")",
            r.retry_after_seconds);
      case 503: {
        auto e = kube::NewServiceUnavailable(why);
        e.retry_after_seconds = r.retry_after_seconds;
        return e;
      }
      case 504:
        return kube::NewServerTimeout(
            "the server was unable to return a response in the "
            "time allotted, but may still be processing the "
            "request (" +
                why + ")",
            r.retry_after_seconds);
      default:
        return kube::NewInternalError(why);
    }
  }
  return std::nullopt;
}

std::chrono::milliseconds Faults::Delay(const std::string& verb,
                                        const std::string& resource) const {
  std::lock_guard lock(mu_);
  std::chrono::milliseconds d{0};
  for (const auto& r : latencies_) {
    if (Matches(r.verb, verb) && Matches(r.resource, resource)) d = std::max(d, r.delay);
  }
  return d;
}

void Faults::RecordRequest(const std::string& verb, const std::string& resource,
                           const std::string& agent) {
  const std::string key = verb + " " + resource;
  std::lock_guard lock(mu_);
  ++counts_[key];
  ++by_agent_[agent][key];
  ++total_;
}

nlohmann::json Faults::RequestCounts() const {
  std::lock_guard lock(mu_);
  return {{"total", total_},
          {"counts", counts_},
          {"byAgent", by_agent_},
          {"faultsInjected", injected_}};
}

void Faults::ResetRequestCounts() {
  std::lock_guard lock(mu_);
  counts_.clear();
  by_agent_.clear();
  total_ = 0;
}

std::size_t Faults::injected() const {
  std::lock_guard lock(mu_);
  return injected_;
}

}  // namespace aidi::devcluster
