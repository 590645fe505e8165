// Dag: a Pipeline's stages as a validated dependency graph, and the readiness questions the
// pipeline reconciler asks of it.
//
// BuildDag checks what the CRD schema cannot: stage names are unique; every dependsOn and
// inputs[].stage names a stage of the pipeline; no stage depends on itself; the graph has no
// cycle; each stage sets exactly one of op and image. An input {stage: x} must name a stage the
// reader depends on, directly or through other stages (the CRD's documented rule): inputs never
// add edges of their own, so the graph is exactly dependsOn and a reader cannot start before the
// stage whose output it reads. The first problem found (stages checked in spec order) comes back
// as an Invalid status whose message is fit for the Pipeline's Accepted=False condition, e.g.
// `spec.stages: dependency cycle: a -> b -> c -> a (each stage depends on the next)`. The cycle
// reported is a shortest one; among equally short ones, the one through the earliest stage in
// spec order, which it starts from, so the message is deterministic.
//
// A Dag is immutable once built: concurrent readers need no lock.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "operator/api/pipeline.h"

namespace aidi::op {

class Dag {
 public:
  // Stage names in spec order.
  const std::vector<std::string>& stages() const { return names_; }
  size_t size() const { return names_.size(); }
  bool Contains(std::string_view stage) const { return IndexOf(stage) >= 0; }

  // Every stage after all its dependencies; among stages free to go next, spec order first.
  const std::vector<std::string>& TopologicalOrder() const { return topo_; }

  // Direct dependencies (dependsOn order, duplicates dropped) and direct dependents (spec
  // order). Empty for a stage that is not in the graph.
  const std::vector<std::string>& Dependencies(std::string_view stage) const;
  const std::vector<std::string>& Dependents(std::string_view stage) const;

  // Every stage that depends on `stage`, directly or transitively, in topological order; not
  // `stage` itself. These never start once `stage` has failed for good (they become Skipped).
  std::vector<std::string> Downstream(std::string_view stage) const;

  // Stages that may start now, in spec order: Pending (a stage missing from `phases` counts as
  // Pending) with every dependency Succeeded.
  std::vector<std::string> Ready(const std::map<std::string, StagePhase>& phases) const;

 private:
  friend StatusOr<Dag> BuildDag(const PipelineSpec& spec);
  Dag() = default;

  int IndexOf(std::string_view stage) const;  // -1 when absent

  std::vector<std::string> names_;
  std::map<std::string, int, std::less<>> index_;
  std::vector<std::vector<int>> deps_;        // by stage index
  std::vector<std::vector<int>> dependents_;  // by stage index, ascending
  std::vector<std::vector<std::string>> dep_names_;
  std::vector<std::vector<std::string>> dependent_names_;
  std::vector<std::string> topo_;
  std::vector<int> topo_pos_;  // by stage index: its position in topo_
};

// Validates the graph of `spec` (see the comment at the top). Errors are Invalid.
[[nodiscard]] StatusOr<Dag> BuildDag(const PipelineSpec& spec);

}  // namespace aidi::op
