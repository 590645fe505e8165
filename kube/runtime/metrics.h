// Metrics: the controller runtime's Prometheus metrics, rendered in the text exposition format
// for /metrics (prometheus-cpp underneath; its headers stay in metrics.cc).
//
// Two kinds of figures:
//  - events the runtime reports as they happen: reconciles (count by result, errors,
//    durations as a histogram);
//  - state read at scrape time from sources that register a sampler: work queue depth, adds
//    and retries; watch starts, resumes, relists, 410s and errors.
// Names (all prefixed aidi_): controller_reconcile_total{controller,result},
// controller_reconcile_errors_total{controller}, controller_reconcile_duration_seconds{controller},
// workqueue_depth{name}, workqueue_adds_total{name}, workqueue_retries_total{name},
// watch_starts_total{resource}, watch_resumes_total{resource}, watch_lists_total{resource},
// watch_expired_total{resource}, watch_errors_total{resource}.
//
// Thread safety: every method may be called from any thread. A sampler runs on the scraping
// thread and must only read thread-safe state; remove it before what it reads is destroyed.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace prometheus {
class Registry;
}

namespace aidi::kube {

class Metrics {
 public:
  struct Sample {
    std::string name;  // full metric name, "aidi_workqueue_depth"
    std::string help;
    bool counter = false;  // counter or gauge
    std::map<std::string, std::string> labels;
    double value = 0;
  };
  using Sampler = std::function<void(std::vector<Sample>& out)>;

  Metrics();
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // result: "success", "requeue" or "error".
  void ObserveReconcile(std::string_view controller, std::string_view result, double seconds);

  // Registers a scrape-time source; returns an id for RemoveSampler.
  int AddSampler(Sampler sampler);
  void RemoveSampler(int id);

  // Every metric in the Prometheus text format (version 0.0.4).
  std::string Render() const;

  // For components that add metrics of their own (the operator's, the extender's).
  prometheus::Registry& registry();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace aidi::kube
