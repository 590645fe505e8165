#include "kube/runtime/metrics.h"

#include <sstream>

#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

namespace aidi::kube {
namespace {

// Turns the samplers' figures into metric families at scrape time.
class SampledCollectable final : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override {
    std::vector<Metrics::Sample> samples;
    {
      std::lock_guard lock(mu_);
      for (const auto& [id, sampler] : samplers_) sampler(samples);
    }
    std::map<std::string, prometheus::MetricFamily> families;
    for (auto& s : samples) {
      auto& family = families[s.name];
      family.name = s.name;
      family.help = s.help;
      family.type = s.counter ? prometheus::MetricType::Counter : prometheus::MetricType::Gauge;
      prometheus::ClientMetric metric;
      for (const auto& [k, v] : s.labels) metric.label.push_back({k, v});
      if (s.counter) {
        metric.counter.value = s.value;
      } else {
        metric.gauge.value = s.value;
      }
      family.metric.push_back(std::move(metric));
    }
    std::vector<prometheus::MetricFamily> out;
    for (auto& [name, family] : families) out.push_back(std::move(family));
    return out;
  }

  int Add(Metrics::Sampler sampler) {
    std::lock_guard lock(mu_);
    samplers_[next_id_] = std::move(sampler);
    return next_id_++;
  }
  void Remove(int id) {
    std::lock_guard lock(mu_);
    samplers_.erase(id);
  }

 private:
  mutable std::mutex mu_;
  std::map<int, Metrics::Sampler> samplers_;
  int next_id_ = 1;
};

}  // namespace

struct Metrics::Impl {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  std::shared_ptr<SampledCollectable> sampled = std::make_shared<SampledCollectable>();
  prometheus::Family<prometheus::Counter>& reconciles =
      prometheus::BuildCounter()
          .Name("aidi_controller_reconcile_total")
          .Help("Reconciles by controller and result (success, requeue, error).")
          .Register(*registry);
  prometheus::Family<prometheus::Counter>& errors =
      prometheus::BuildCounter()
          .Name("aidi_controller_reconcile_errors_total")
          .Help("Reconciles that returned an error.")
          .Register(*registry);
  prometheus::Family<prometheus::Histogram>& durations =
      prometheus::BuildHistogram()
          .Name("aidi_controller_reconcile_duration_seconds")
          .Help("How long reconciles take.")
          .Register(*registry);
};

Metrics::Metrics() : impl_(std::make_unique<Impl>()) {}

Metrics::~Metrics() = default;

void Metrics::ObserveReconcile(std::string_view controller, std::string_view result,
                               double seconds) {
  static const prometheus::Histogram::BucketBoundaries kBuckets = {
      0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
  std::string name(controller);
  impl_->reconciles.Add({{"controller", name}, {"result", std::string(result)}}).Increment();
  if (result == "error") impl_->errors.Add({{"controller", name}}).Increment();
  impl_->durations.Add({{"controller", name}}, kBuckets).Observe(seconds);
}

int Metrics::AddSampler(Sampler sampler) { return impl_->sampled->Add(std::move(sampler)); }

void Metrics::RemoveSampler(int id) { impl_->sampled->Remove(id); }

std::string Metrics::Render() const {
  std::vector<prometheus::MetricFamily> families = impl_->registry->Collect();
  for (auto& f : impl_->sampled->Collect()) families.push_back(std::move(f));
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  return out.str();
}

prometheus::Registry& Metrics::registry() { return *impl_->registry; }

}  // namespace aidi::kube
