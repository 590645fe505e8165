// The wire format of kube-scheduler's HTTP extender protocol (k8s.io/kube-scheduler/extender/v1):
// what kube-scheduler posts to the filter, prioritize and bind verbs, and what it reads back.
//
// Decoders read only what the extender uses of the Pod and Node objects (names, labels,
// annotations, resource requests, allocatable and capacity, conditions) and skip the rest
// while still validating it, so a filter call with thousands of nodes decodes in milliseconds
// (see scheduler-extender/README.md for timings). Encoders write exactly the bytes Go's
// encoding/json would write for the upstream types, so tests can compare them literally.
//
// Upstream facts this file follows (checked against kubernetes/kubernetes):
//   staging/src/k8s.io/kube-scheduler/extender/v1/types.go
//     - The protocol types have no json tags: the field names on the wire are the Go names,
//       capitalised: Pod, Nodes, NodeNames, FailedNodes, FailedAndUnresolvableNodes, Error,
//       Host, Score, PodName, PodNamespace, PodUID, Node. No omitempty: a nil pointer, map or
//       slice is written as null, an empty string as "".
//     - ExtenderArgs{Pod *v1.Pod; Nodes *v1.NodeList; NodeNames *[]string}.
//       ExtenderFilterResult{Nodes; NodeNames; FailedNodes, FailedAndUnresolvableNodes
//       FailedNodesMap (map[string]string); Error string}. HostPriority{Host string; Score
//       int64}; HostPriorityList []HostPriority. ExtenderBindingArgs{PodName, PodNamespace,
//       PodUID, Node string}; ExtenderBindingResult{Error string}.
//       MinExtenderPriority = 0, MaxExtenderPriority = 10.
//     - Preemption (ExtenderPreemptionArgs{Pod, NodeNameToVictims, NodeNameToMetaVictims},
//       ExtenderPreemptionResult{NodeNameToMetaVictims}, MetaVictims{Pods []*MetaPod{UID};
//       NumPDBViolations}) is not implemented: our configuration sets no preemptVerb, so
//       kube-scheduler never calls it (HTTPExtender.SupportsPreemption).
//   pkg/scheduler/extender.go (HTTPExtender)
//     - Posts json.Marshal(args) to strings.TrimRight(urlPrefix, "/") + "/" + verb with
//       Content-Type application/json; any status but 200 is an error ("failed <verb> with
//       extender at URL <url>, code <n>"), its body unread. Reads the answer with
//       json.NewDecoder(...).Decode, which matches field names case-insensitively.
//     - nodeCacheCapable: sends NodeNames (a non-nil slice, [] when empty) and Nodes: null;
//       otherwise sends Nodes ({"metadata":{},"items":[...]}, items null when empty) and
//       NodeNames: null.
//     - Filter: a non-empty Error fails the call. With nodeCacheCapable and a non-null
//       NodeNames in the answer, those names are the nodes that passed (each must be one it
//       sent, or the whole call fails); otherwise a non-null Nodes is used; if both are null no
//       node passes. So the answer must use the form of the request: a NodeNames answer to a
//       Nodes request is ignored and filters every node out.
//     - Prioritize: reads a HostPriorityList; each Score is multiplied by the extender's
//       weight and by MaxNodeScore / MaxExtenderPriority (100 / 10).
//     - Bind: sends ExtenderBindingArgs from the v1.Binding; a non-empty Error fails it.
//     - IsInterested: with managedResources set, only pods that request or limit one of them
//       (in containers or initContainers) are sent at all.
//   staging/src/k8s.io/kube-scheduler/config/v1/types.go (Extender: urlPrefix, filterVerb,
//   preemptVerb, prioritizeVerb, weight, bindVerb, enableHTTPS, tlsConfig, httpTimeout,
//   nodeCacheCapable, managedResources [{name, ignoredByScheduler}], ignorable) and
//   pkg/scheduler/apis/config/validation (a prioritizeVerb needs weight > 0; at most one
//   extender binds): see scheduler-extender/config/scheduler-config.yaml.
//
// Decoding, as Go's encoding/json does it:
//   - Field names match case-insensitively ("nodenames", "POD", "Metadata"), ASCII only (Go
//     also folds U+017F onto 's' and U+212A onto 'k'). Map keys (labels, resource names) are
//     exact. Unknown fields are ignored.
//   - null leaves a string, boolean or struct field unchanged, empties a map or list, and
//     clears a pointer: "Pod": null is no pod, "Nodes": null and "NodeNames": null are absent.
//     A null quantity is "0" (resource.Quantity's UnmarshalJSON).
//   - A field that appears twice (in any spelling) is decoded twice, in document order, into
//     the same value: later strings and lists replace earlier ones, later objects merge.
// Beyond Go, for the extender's sake: a missing or null Pod is an error, as are a pod without
// metadata.name or metadata.namespace, a request with neither NodeNames nor Nodes, and a
// candidate node without a name.
// Errors are InvalidArgument (answer 400) and name the JSON path:
//   "ExtenderArgs.Pod.metadata.name: must be a string"
//   "ExtenderArgs.Nodes.items[3].metadata.labels[\"zone\"]: must be a string"
//   "ExtenderArgs.NodeNames: invalid JSON at offset 812: invalid character ']' after ..."
//
// Encoding, as Go's json.Marshal does it: fields in struct order; map keys sorted by bytes;
// strings escaped with Go's HTML-safe rules (<, >, & as \u003c \u003e \u0026; U+2028 and
// U+2029 escaped; \b \f \n \r \t; other control characters as \u00XX; invalid UTF-8 as
// \ufffd). Our choices where Go leaves one: FailedNodes and FailedAndUnresolvableNodes are
// always objects ({} when empty, as a Go extender's make(FailedNodesMap) writes), never null;
// the list of the answered form is never null ([] when no node passed); HostPriorityList is
// [] when empty.
//
// Nothing here throws or aborts on any input; every function is a pure function of its
// arguments, safe to call from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace aidi::extender {

// extenderv1.MinExtenderPriority and MaxExtenderPriority: the range of HostPriority::score.
inline constexpr std::int64_t kMinExtenderPriority = 0;
inline constexpr std::int64_t kMaxExtenderPriority = 10;

// Resource name -> quantity as written ("1", "500m", "16Gi"; a JSON number's text). Parsing
// quantities is the reader's job; the wire keeps them as text.
using ResourceList = std::map<std::string, std::string>;
// Node name -> why the pod cannot run there.
using FailedNodesMap = std::map<std::string, std::string>;

// One container of the pod, as far as resources go.
struct ExtenderContainer {
  std::string name;
  ResourceList requests;  // spec.containers[].resources.requests
  ResourceList limits;    // spec.containers[].resources.limits
  // Init containers only: "Always" makes it a sidecar, which holds its resources alongside the
  // app containers instead of before them.
  std::string restart_policy;
};

// The fields of the v1.Pod in ExtenderArgs that the extender reads.
struct ExtenderPod {
  std::string name;                                // metadata.name
  std::string namespace_;                          // metadata.namespace
  std::string uid;                                 // metadata.uid
  std::map<std::string, std::string> labels;       // metadata.labels
  std::map<std::string, std::string> annotations;  // metadata.annotations (aidi.dev/demand)
  std::string scheduler_name;                      // spec.schedulerName
  std::vector<ExtenderContainer> containers;       // spec.containers
  std::vector<ExtenderContainer> init_containers;  // spec.initContainers
};

// The fields of one v1.Node of ExtenderArgs.Nodes that the extender reads, plus the object as
// it arrived, so that a filter answer in the Nodes form can echo it byte for byte.
struct ExtenderNode {
  std::string name;                               // metadata.name (never empty)
  std::map<std::string, std::string> labels;      // metadata.labels
  bool unschedulable = false;                     // spec.unschedulable (cordoned)
  ResourceList capacity;                          // status.capacity
  ResourceList allocatable;                       // status.allocatable
  std::map<std::string, std::string> conditions;  // status.conditions: type -> status ("True")
  std::string raw_json;                           // the whole object, as received
};

// Which of the two forms kube-scheduler used, and so which the filter answer must use.
enum class NodeForm {
  kNodeNames,  // nodeCacheCapable: names only; the extender knows the nodes from its own cache
  kNodes,      // full Node objects
};

// extenderv1.ExtenderArgs: the body of filter and prioritize calls.
struct ExtenderArgs {
  ExtenderPod pod;
  // ExtenderArgs.Nodes.items; nullopt when Nodes was null or absent.
  std::optional<std::vector<ExtenderNode>> nodes;
  // ExtenderArgs.NodeNames; nullopt when null or absent.
  std::optional<std::vector<std::string>> node_names;

  // NodeNames when it was sent (kube-scheduler never sends both), else Nodes.
  NodeForm form() const { return node_names ? NodeForm::kNodeNames : NodeForm::kNodes; }
  // The candidate node names, in the order sent, in either form.
  std::vector<std::string> CandidateNames() const;
};

// Decodes the body of a filter or prioritize call. InvalidArgument, naming the JSON path, for
// malformed JSON, a value of the wrong type, a missing or null Pod, a pod without name or
// namespace, neither NodeNames nor Nodes, or an empty node name.
StatusOr<ExtenderArgs> DecodeExtenderArgs(std::string_view body);
// The same into *args, reusing its NodeNames storage (a server thread decodes request after
// request into one ExtenderArgs); *args is unspecified after a failure.
[[nodiscard]] Status DecodeExtenderArgs(std::string_view body, ExtenderArgs* args);

// extenderv1.ExtenderFilterResult, by node name: the encoder writes the form of the request.
struct ExtenderFilterResult {
  std::vector<std::string> passed;  // nodes where the pod can run (a subset of the candidates)
  FailedNodesMap failed_nodes;      // nodes where it cannot, and why (preemption may help)
  FailedNodesMap failed_and_unresolvable_nodes;  // ... where preemption would not help either
  std::string error;                             // non-empty: the whole call failed
};

// {"Nodes":null,"NodeNames":[...],"FailedNodes":{...},"FailedAndUnresolvableNodes":{...},
// "Error":""} for a NodeNames request; for a Nodes request "Nodes" is
// {"metadata":{},"items":[...]} holding the passed nodes' objects exactly as received, and
// "NodeNames" is null. Internal if a passed name is not one of the request's candidates
// (kube-scheduler would reject the whole answer).
StatusOr<std::string> EncodeFilterResult(const ExtenderFilterResult& result,
                                         const ExtenderArgs& request);

// {"Nodes":null,"NodeNames":null,"FailedNodes":null,"FailedAndUnresolvableNodes":null,
// "Error":"<message>"}: json.Marshal(ExtenderFilterResult{Error: message}), a failed filter
// call answered with 200.
std::string EncodeFilterError(std::string_view message);

// extenderv1.HostPriority.
struct HostPriority {
  std::string host;
  std::int64_t score = 0;  // kMinExtenderPriority..kMaxExtenderPriority
};
using HostPriorityList = std::vector<HostPriority>;

// [{"Host":"node-1","Score":7},...]; [] when empty.
std::string EncodeHostPriorityList(const HostPriorityList& list);

// extenderv1.ExtenderBindingArgs: the body of a bind call.
struct ExtenderBindingArgs {
  std::string pod_name;
  std::string pod_namespace;
  std::string pod_uid;
  std::string node;
};

// Decodes the body of a bind call. InvalidArgument, naming the field, for malformed JSON, a
// value of the wrong type, or an empty PodName, PodNamespace or Node.
StatusOr<ExtenderBindingArgs> DecodeExtenderBindingArgs(std::string_view body);

// {"Error":""} on success, {"Error":"<message>"} on failure: json.Marshal of
// extenderv1.ExtenderBindingResult.
std::string EncodeBindingResult(std::string_view error);

// The body of a 400 (or 500) answer: {"Error":"<message>"}. kube-scheduler ignores bodies of
// non-200 answers; this one is for people and logs, and decodes as any of the result types
// that have an Error field.
std::string EncodeErrorBody(std::string_view message);

// `s` as a JSON string literal (quotes included), escaped as Go's json.Marshal escapes it.
std::string GoJsonQuote(std::string_view s);
// The same, appended to `out`.
void AppendGoJsonQuoted(std::string_view s, std::string* out);

}  // namespace aidi::extender
