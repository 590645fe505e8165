#include "operator/dag.h"

#include "operator/api/ops.h"

#include <algorithm>
#include <cassert>
#include <deque>
#include <functional>
#include <queue>
#include <utility>

namespace aidi::op {
namespace {

std::string StagePath(size_t i, const std::string& name) {
  return "spec.stages[" + std::to_string(i) + "] (" + name + ")";
}

// The shortest cycle among `candidates` (stages left over by Kahn's algorithm: each is on a
// cycle or downstream of one, and at least one cycle exists among them), following dependency
// edges. Among equally short cycles, the one through the lowest stage index; the result starts
// at that stage and does not repeat it at the end.
std::vector<int> ShortestCycle(const std::vector<std::vector<int>>& deps,
                               const std::vector<bool>& candidate) {
  const int n = static_cast<int>(deps.size());
  std::vector<int> best;
  for (int s = 0; s < n; ++s) {
    if (!candidate[s]) continue;
    // BFS from s along dependency edges until s is reached again.
    std::vector<int> parent(n, -1);
    std::vector<bool> seen(n, false);
    std::deque<int> queue;
    queue.push_back(s);
    int last = -1;  // the stage whose dependency edge closes the cycle back to s
    while (!queue.empty() && last < 0) {
      const int u = queue.front();
      queue.pop_front();
      for (int d : deps[u]) {
        if (!candidate[d]) continue;
        if (d == s) {
          last = u;
          break;
        }
        if (seen[d]) continue;
        seen[d] = true;
        parent[d] = u;
        queue.push_back(d);
      }
    }
    if (last < 0) continue;  // s is only downstream of a cycle
    std::vector<int> cycle;
    for (int v = last; v != s; v = parent[v]) cycle.push_back(v);
    cycle.push_back(s);
    std::reverse(cycle.begin(), cycle.end());
    if (best.empty() || cycle.size() < best.size()) best = std::move(cycle);
    if (best.size() == 2) break;  // no self-edges survive validation: 2 is the minimum
  }
  return best;
}

}  // namespace

int Dag::IndexOf(std::string_view stage) const {
  auto it = index_.find(stage);
  return it == index_.end() ? -1 : it->second;
}

const std::vector<std::string>& Dag::Dependencies(std::string_view stage) const {
  static const std::vector<std::string> kNone;
  const int i = IndexOf(stage);
  return i < 0 ? kNone : dep_names_[i];
}

const std::vector<std::string>& Dag::Dependents(std::string_view stage) const {
  static const std::vector<std::string> kNone;
  const int i = IndexOf(stage);
  return i < 0 ? kNone : dependent_names_[i];
}

std::vector<std::string> Dag::Downstream(std::string_view stage) const {
  const int start = IndexOf(stage);
  if (start < 0) return {};
  std::vector<bool> seen(names_.size(), false);
  std::vector<int> found;
  std::vector<int> stack = {start};
  while (!stack.empty()) {
    const int u = stack.back();
    stack.pop_back();
    for (int d : dependents_[u]) {
      if (seen[d]) continue;
      seen[d] = true;
      found.push_back(d);
      stack.push_back(d);
    }
  }
  std::sort(found.begin(), found.end(), [&](int a, int b) { return topo_pos_[a] < topo_pos_[b]; });
  std::vector<std::string> out;
  out.reserve(found.size());
  for (int i : found) out.push_back(names_[i]);
  return out;
}

std::vector<std::string> Dag::Ready(const std::map<std::string, StagePhase>& phases) const {
  auto phase_of = [&](int i) {
    auto it = phases.find(names_[i]);
    return it == phases.end() ? StagePhase::kPending : it->second;
  };
  std::vector<std::string> out;
  for (size_t i = 0; i < names_.size(); ++i) {
    if (phase_of(static_cast<int>(i)) != StagePhase::kPending) continue;
    const bool deps_done = std::all_of(deps_[i].begin(), deps_[i].end(), [&](int d) {
      return phase_of(d) == StagePhase::kSucceeded;
    });
    if (deps_done) out.push_back(names_[i]);
  }
  return out;
}

StatusOr<Dag> BuildDag(const PipelineSpec& spec) {
  Dag dag;
  const size_t n = spec.stages.size();

  // Names: unique; each stage one of op or image.
  for (size_t i = 0; i < n; ++i) {
    const Stage& s = spec.stages[i];
    if (s.op.has_value() == s.image.has_value()) {
      return Status::Invalid(StagePath(i, s.name) + ": exactly one of op or image must be set" +
                             (s.op.has_value() ? " (both are)" : " (neither is)"));
    }
    if (s.op && !IsWorkerOp(*s.op)) {
      std::string known;
      for (std::string_view op : kWorkerOps) known += (known.empty() ? "" : ", ") + std::string(op);
      return Status::Invalid(StagePath(i, s.name) + ".op: unknown op \"" + *s.op +
                             "\" (aidi-worker runs: " + known + ")");
    }
    if (s.op && (!s.command.empty() || !s.args.empty() || !s.env.empty())) {
      return Status::Invalid(StagePath(i, s.name) +
                             ": command, args and env are only used with image (an op stage "
                             "takes params)");
    }
    if (s.image && !s.params.is_null()) {
      return Status::Invalid(StagePath(i, s.name) +
                             ": params is only used with op (a container stage takes command, "
                             "args and env)");
    }
    auto [it, inserted] = dag.index_.emplace(s.name, static_cast<int>(i));
    if (!inserted) {
      return Status::Invalid(StagePath(i, s.name) + ": duplicate stage name \"" + s.name +
                             "\" (also spec.stages[" + std::to_string(it->second) + "])");
    }
    dag.names_.push_back(s.name);
  }

  // Edges: known names, no self-dependency; duplicates in dependsOn dropped.
  dag.deps_.resize(n);
  dag.dependents_.resize(n);
  dag.dep_names_.resize(n);
  dag.dependent_names_.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const Stage& s = spec.stages[i];
    for (const std::string& dep : s.depends_on) {
      const int d = dag.IndexOf(dep);
      if (d < 0) {
        return Status::Invalid(StagePath(i, s.name) + ": dependsOn names unknown stage \"" + dep +
                               "\"");
      }
      if (static_cast<size_t>(d) == i) {
        return Status::Invalid(StagePath(i, s.name) + ": a stage cannot depend on itself");
      }
      if (std::find(dag.deps_[i].begin(), dag.deps_[i].end(), d) != dag.deps_[i].end()) continue;
      dag.deps_[i].push_back(d);
      dag.dep_names_[i].push_back(dep);
      dag.dependents_[d].push_back(static_cast<int>(i));
      dag.dependent_names_[d].push_back(s.name);
    }
  }

  // Topological order (Kahn's algorithm, lowest spec index first among ready stages).
  std::vector<int> pending_deps(n);
  std::priority_queue<int, std::vector<int>, std::greater<>> ready;
  for (size_t i = 0; i < n; ++i) {
    pending_deps[i] = static_cast<int>(dag.deps_[i].size());
    if (pending_deps[i] == 0) ready.push(static_cast<int>(i));
  }
  dag.topo_pos_.assign(n, -1);
  while (!ready.empty()) {
    const int u = ready.top();
    ready.pop();
    dag.topo_pos_[u] = static_cast<int>(dag.topo_.size());
    dag.topo_.push_back(dag.names_[u]);
    for (int d : dag.dependents_[u]) {
      if (--pending_deps[d] == 0) ready.push(d);
    }
  }
  if (dag.topo_.size() != n) {
    std::vector<bool> left(n);
    for (size_t i = 0; i < n; ++i) left[i] = dag.topo_pos_[i] < 0;
    const std::vector<int> cycle = ShortestCycle(dag.deps_, left);
    // Kahn's algorithm leaves stages behind only when a cycle runs through some of them.
    assert(!cycle.empty());
    std::string text;
    for (int v : cycle) text += dag.names_[v] + " -> ";
    text += cycle.empty() ? "?" : dag.names_[cycle.front()];
    return Status::Invalid("spec.stages: dependency cycle: " + text +
                           " (each stage depends on the next)");
  }

  // Stage inputs: a known stage that this one depends on, directly or transitively.
  for (size_t i = 0; i < n; ++i) {
    const Stage& s = spec.stages[i];
    std::vector<bool> ancestor;  // filled on the first stage input: one walk per reader
    for (size_t k = 0; k < s.inputs.size(); ++k) {
      if (!s.inputs[k].stage.has_value()) continue;
      const std::string& from = *s.inputs[k].stage;
      const std::string where = StagePath(i, s.name) + ": inputs[" + std::to_string(k) + "].stage";
      const int f = dag.IndexOf(from);
      if (f < 0) return Status::Invalid(where + " names unknown stage \"" + from + "\"");
      if (ancestor.empty()) {
        ancestor.assign(n, false);
        std::vector<int> stack = {static_cast<int>(i)};
        while (!stack.empty()) {
          const int u = stack.back();
          stack.pop_back();
          for (int d : dag.deps_[u]) {
            if (!ancestor[d]) {
              ancestor[d] = true;
              stack.push_back(d);
            }
          }
        }
      }
      if (!ancestor[f]) {
        return Status::Invalid(where + " \"" + from + "\" must be a stage \"" + s.name +
                               "\" depends on, directly or through other stages (add it to "
                               "dependsOn)");
      }
    }
  }
  return dag;
}

}  // namespace aidi::op
