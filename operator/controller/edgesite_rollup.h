// EdgeSite roll-up: what the EdgeSite controller should write, as a pure function.
//
// RollUpEdgeSites reads every EdgeSite (as served: metadata, spec and the status last written),
// every Node (labels, allocatable, conditions), the pods bound to nodes (node, GPU requests,
// phase) and the time, and returns, for each site, its member nodes, the status to write, the
// node label changes that site's reconcile makes and the Event to record. It does no I/O: the
// controller (edgesite_controller.h) reads its caches, calls it, and writes what differs. The
// rules (docs/design.md, "aidi-operator", "EdgeSite"):
//
// Membership. A site's selector is spec.nodeSelector (a metav1.LabelSelector). Unset (absent or
// null): the nodes labelled aidi.dev/site=<site name>, as the CRD documents. Empty ({} or only
// empty matchLabels/matchExpressions): no node at all; matching every node of the cluster is
// never what an administrator means. An invalid selector (a bad label key or value) selects no
// node, and the site's Ready condition says why (reason InvalidNodeSelector). A node belongs to
// the site whose selector matches its labels; when several match, to the one whose name sorts
// first. The others do not count it, and their Ready condition message names the node and the
// site that holds it ("... belong to a site whose name sorts first: n3 (site a)").
//
// Status. phase: Maintenance when spec.maintenance is true, else Ready when at least one member
// node is ready (its Ready condition is True), else NotReady. totalNodes, readyNodes,
// readySummary "<ready>/<total>". GPUs count on ready member nodes only, as the CRD says (a node
// that is not ready runs nothing new): a node's GPUs are status.allocatable["nvidia.com/gpu"]
// (status.capacity when allocatable lacks it), a whole number given as a string ("8") or a
// number; anything else counts as 0. A node's free GPUs are its GPUs minus the GPU requests of
// the pods bound to it (spec.nodeName) that have not terminated (status.phase neither Succeeded
// nor Failed; a pod being deleted still holds its GPUs), never below 0. A pod's GPU request is
// the scheduler's effective request: the larger of the sum over its containers and the largest
// single init container, where a container's request is resources.requests["nvidia.com/gpu"],
// else resources.limits["nvidia.com/gpu"] (extended resources default requests to limits).
// gpus.byModel groups the same counts by the node label nvidia.com/gpu.product ("unknown" when
// absent); gpuSummary is "<free>/<total> free". observedGeneration is metadata.generation.
//
// Conditions (metav1.Condition, each with observedGeneration; lastTransitionTime is kept from
// the previous status while the condition's status stays the same, else it is `now`):
//   Ready: True (NodesReady) when a member node is ready and the site is not in maintenance;
//     otherwise False with reason InvalidNodeSelector, Maintenance, NoNodes or NoReadyNodes
//     (first that applies).
//   CapacityAvailable: True when a GPU is free (GpusFree) or, on a site whose ready nodes have
//     no GPUs, when a node is ready (NoGpusNodesReady: CPU work can run); otherwise False with
//     reason Maintenance, NoFreeGpus or NoReadyNodes.
// Conditions of other types found in the previous status are kept, after these two.
//
// Labels. Each member node should carry aidi.dev/site=<its site>; a node that carries
// aidi.dev/site=<X>, where EdgeSite X exists but the node is no member of it (of any site), loses
// the label. A node labelled for a site that does not exist is left alone: administrators label
// nodes before they create the site, and the site's default selector is exactly that label.
// Deleting a site therefore leaves its label on its nodes. A change is made only when it leaves
// the node's membership as it is (so a selector on aidi.dev/site itself can never make the
// operator flip a label back and forth). The change to add or set a label belongs to the site
// named by the new value; the removal belongs to the site the removed label names.
//
// Event. A site whose Ready condition appears or changes status gets one Event: Normal SiteReady
// or Warning SiteNotReady, with the condition's message.
//
// Thread safety: pure functions over values; safe from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/status.h"
#include "kube/core/selectors.h"

namespace aidi::op {

// The node label that names a node's EdgeSite.
inline constexpr char kSiteLabel[] = "aidi.dev/site";
// The extended resource and the GPU Feature Discovery label the roll-up counts GPUs with.
inline constexpr char kGpuResource[] = "nvidia.com/gpu";
inline constexpr char kGpuProductLabel[] = "nvidia.com/gpu.product";

// A site's node selector: spec.nodeSelector, or aidi.dev/site=<name> when unset. nullopt when
// it selects no node (an empty selector); InvalidArgument when it cannot be parsed.
StatusOr<std::optional<kube::LabelSelector>> SiteNodeSelector(const nlohmann::json& site);

// A whole number of GPUs from a quantity ("8", 8, "1e1"; kube::WholeCount); 0 for anything
// else.
std::int64_t GpuQuantity(const nlohmann::json& quantity);
// A pod's effective GPU request (see the header comment); 0 when it requests none.
std::int64_t PodGpuRequest(const nlohmann::json& pod);
// True when the pod is bound to a node, has not terminated and requests GPUs: it holds them.
bool PodHoldsGpus(const nlohmann::json& pod);
// True when the node's Ready condition is True.
bool NodeReady(const nlohmann::json& node);

// Which site a node belongs to, from every site's selector. Immutable once built.
class SiteMembership {
 public:
  explicit SiteMembership(const std::vector<nlohmann::json>& sites);

  // The site a node with these labels (metadata.labels, or null) belongs to; "" when none.
  std::string SiteOf(const nlohmann::json& labels) const;
  // Every site whose selector matches `labels`, sorted by name (the first is SiteOf).
  std::vector<std::string> MatchingSites(const nlohmann::json& labels) const;
  bool Exists(const std::string& site) const;
  // Why the site's selector is invalid; "" when it is valid (or the site is unknown).
  std::string SelectorError(const std::string& site) const;
  // True when the site's selector selects nothing (empty, or invalid).
  bool SelectsNothing(const std::string& site) const;

 private:
  struct Site {
    std::string name;
    std::optional<kube::LabelSelector> selector;  // nullopt: selects no node
    std::string error;                            // why the selector is invalid
  };
  const Site* Find(const std::string& name) const;

  std::vector<Site> sites_;  // sorted by name, unique
};

// One change to a node's aidi.dev/site label.
struct NodeLabelChange {
  std::string node;
  std::string resource_version;      // of the node as read: the patch's precondition
  std::optional<std::string> value;  // the new value; nullopt removes the label
  friend bool operator==(const NodeLabelChange&, const NodeLabelChange&) = default;
};

struct SiteEvent {
  bool warning = false;
  std::string reason;  // SiteReady | SiteNotReady
  std::string message;
  friend bool operator==(const SiteEvent&, const SiteEvent&) = default;
};

struct SiteRollup {
  std::vector<std::string> members;  // node names, sorted
  // Nodes the selector matches that belong to a site whose name sorts first: node -> that site.
  std::map<std::string, std::string> claimed_elsewhere;
  nlohmann::json status;                       // the whole status to write
  bool status_changed = false;                 // status differs from the site's current status
  std::vector<NodeLabelChange> label_changes;  // this site's to make, ordered by node
  std::optional<SiteEvent> event;              // to record once the status is written
};

struct EdgeSiteRollupInput {
  const std::vector<nlohmann::json>& sites;  // every EdgeSite
  const std::vector<nlohmann::json>& nodes;  // every Node
  // Pods that may hold GPUs (any subset that includes every pod bound to a member node with
  // GPUs); pods on other nodes, unbound or terminated are ignored.
  const std::vector<nlohmann::json>& pods;
  Clock::WallTime now;
};

// Every site's roll-up, by site name.
std::map<std::string, SiteRollup> RollUpEdgeSites(const EdgeSiteRollupInput& input);

}  // namespace aidi::op
