// Field tables transcribed from k8s.io/api (core/v1, apps/v1, coordination/v1) and
// k8s.io/apimachinery (meta/v1, util/intstr, api/resource) types.go: the `protobuf:` tag gives
// the number, the `json:` tag and the Go type (pointer or value) give the Emit rule. Only the
// wire kinds of generated.proto count; a few `protobuf:` tags say "bytes" for an int32 that is
// really a varint (e.g. PodSpec.priority), and the tables follow the .proto.
#include "devcluster/protobuf_schema.h"

#include <array>

namespace aidi::devcluster::pb {
namespace {

// Constructors named after the Go field shape, so a table row reads like the struct it mirrors.
constexpr Field Make(std::uint32_t n, std::string_view j, Kind k, Shape s, Emit e,
                     const Message* m = nullptr) {
  return Field{n, j, k, s, e, m};
}
// Scalars: plain name is `T x,omitempty`; Req is `T x` (no omitempty); Ptr is `*T x,omitempty`.
constexpr Field Str(std::uint32_t n, std::string_view j) {
  return Make(n, j, Kind::kString, Shape::kSingle, Emit::kOmitEmpty);
}
constexpr Field StrReq(std::uint32_t n, std::string_view j) {
  return Make(n, j, Kind::kString, Shape::kSingle, Emit::kAlways);
}
constexpr Field StrPtr(std::uint32_t n, std::string_view j) {
  return Make(n, j, Kind::kString, Shape::kSingle, Emit::kPointer);
}
constexpr Field StrNullable(std::uint32_t n, std::string_view j) {
  return Make(n, j, Kind::kString, Shape::kSingle, Emit::kNullable);
}
constexpr Field Bool(std::uint32_t n, std::string_view j) {
  return Make(n, j, Kind::kBool, Shape::kSingle, Emit::kOmitEmpty);
}
constexpr Field BoolReq(std::uint32_t n, std::string_view j) {
  return Make(n, j, Kind::kBool, Shape::kSingle, Emit::kAlways);
}
constexpr Field BoolPtr(std::uint32_t n, std::string_view j) {
  return Make(n, j, Kind::kBool, Shape::kSingle, Emit::kPointer);
}
constexpr Field I32(std::uint32_t n, std::string_view j) {
  return Make(n, j, Kind::kInt32, Shape::kSingle, Emit::kOmitEmpty);
}
constexpr Field I32Req(std::uint32_t n, std::string_view j) {
  return Make(n, j, Kind::kInt32, Shape::kSingle, Emit::kAlways);
}
constexpr Field I32Ptr(std::uint32_t n, std::string_view j) {
  return Make(n, j, Kind::kInt32, Shape::kSingle, Emit::kPointer);
}
constexpr Field I64(std::uint32_t n, std::string_view j) {
  return Make(n, j, Kind::kInt64, Shape::kSingle, Emit::kOmitEmpty);
}
constexpr Field I64Req(std::uint32_t n, std::string_view j) {
  return Make(n, j, Kind::kInt64, Shape::kSingle, Emit::kAlways);
}
constexpr Field I64Ptr(std::uint32_t n, std::string_view j) {
  return Make(n, j, Kind::kInt64, Shape::kSingle, Emit::kPointer);
}
// Special value types.
constexpr Field Time(std::uint32_t n, std::string_view j) {
  return Make(n, j, Kind::kTime, Shape::kSingle, Emit::kAlways);
}
constexpr Field TimePtr(std::uint32_t n, std::string_view j) {
  return Make(n, j, Kind::kTime, Shape::kSingle, Emit::kPointer);
}
constexpr Field MicroTime(std::uint32_t n, std::string_view j) {
  return Make(n, j, Kind::kMicroTime, Shape::kSingle, Emit::kAlways);
}
constexpr Field MicroTimePtr(std::uint32_t n, std::string_view j) {
  return Make(n, j, Kind::kMicroTime, Shape::kSingle, Emit::kPointer);
}
constexpr Field IntStr(std::uint32_t n, std::string_view j) {
  return Make(n, j, Kind::kIntOrString, Shape::kSingle, Emit::kAlways);
}
constexpr Field IntStrPtr(std::uint32_t n, std::string_view j) {
  return Make(n, j, Kind::kIntOrString, Shape::kSingle, Emit::kPointer);
}
constexpr Field Qty(std::uint32_t n, std::string_view j) {
  return Make(n, j, Kind::kQuantity, Shape::kSingle, Emit::kAlways);
}
constexpr Field QtyPtr(std::uint32_t n, std::string_view j) {
  return Make(n, j, Kind::kQuantity, Shape::kSingle, Emit::kPointer);
}
constexpr Field FieldsV1Ptr(std::uint32_t n, std::string_view j) {
  return Make(n, j, Kind::kFieldsV1, Shape::kSingle, Emit::kPointer);
}
// Nested messages: Obj is a struct value (always emitted), ObjPtr a `*T,omitempty`.
constexpr Field Obj(std::uint32_t n, std::string_view j, const Message& m) {
  return Make(n, j, Kind::kMessage, Shape::kSingle, Emit::kAlways, &m);
}
constexpr Field ObjPtr(std::uint32_t n, std::string_view j, const Message& m) {
  return Make(n, j, Kind::kMessage, Shape::kSingle, Emit::kPointer, &m);
}
constexpr Field ObjNullable(std::uint32_t n, std::string_view j, const Message& m) {
  return Make(n, j, Kind::kMessage, Shape::kSingle, Emit::kNullable, &m);
}
constexpr Field Inline(std::uint32_t n, const Message& m) {
  return Make(n, "", Kind::kMessage, Shape::kInline, Emit::kAlways, &m);
}
// Lists and maps: plain name is `,omitempty` (nil left out); Req renders nil as null.
constexpr Field Strs(std::uint32_t n, std::string_view j) {
  return Make(n, j, Kind::kString, Shape::kRepeated, Emit::kOmitEmpty);
}
constexpr Field I32s(std::uint32_t n, std::string_view j) {
  return Make(n, j, Kind::kInt32, Shape::kRepeated, Emit::kOmitEmpty);
}
constexpr Field I64s(std::uint32_t n, std::string_view j) {
  return Make(n, j, Kind::kInt64, Shape::kRepeated, Emit::kOmitEmpty);
}
constexpr Field Objs(std::uint32_t n, std::string_view j, const Message& m) {
  return Make(n, j, Kind::kMessage, Shape::kRepeated, Emit::kOmitEmpty, &m);
}
constexpr Field ObjsReq(std::uint32_t n, std::string_view j, const Message& m) {
  return Make(n, j, Kind::kMessage, Shape::kRepeated, Emit::kAlways, &m);
}
constexpr Field StrMap(std::uint32_t n, std::string_view j) {
  return Make(n, j, Kind::kString, Shape::kMap, Emit::kOmitEmpty);
}
constexpr Field BytesMap(std::uint32_t n, std::string_view j) {
  return Make(n, j, Kind::kBytes, Shape::kMap, Emit::kOmitEmpty);
}
constexpr Field QtyMap(std::uint32_t n, std::string_view j) {
  return Make(n, j, Kind::kQuantity, Shape::kMap, Emit::kOmitEmpty);
}
// Upstream fields devcluster knows by name but does not decode; the name goes in the error.
constexpr Field Unsupported(std::uint32_t n, std::string_view j) {
  return Make(n, j, Kind::kUnsupported, Shape::kSingle, Emit::kPointer);
}
constexpr Field Tombstone(std::uint32_t n, std::string_view j) {
  return Make(n, j, Kind::kTombstone, Shape::kSingle, Emit::kPointer);
}

// Every message, declared first so the tables below may point at each other in any order.
extern const Message kObjectMeta, kOwnerReference, kManagedFieldsEntry, kLabelSelector,
    kLabelSelectorRequirement, kCondition, kDeleteOptions, kPreconditions;
extern const Message kNamespace, kNamespaceSpec, kNamespaceStatus, kNamespaceCondition, kConfigMap,
    kSecret, kServiceAccount, kObjectReference, kLocalObjectReference, kBinding, kEvent,
    kEventSource, kEventSeries;
extern const Message kService, kServiceSpec, kServicePort, kSessionAffinityConfig, kClientIPConfig,
    kServiceStatus, kLoadBalancerStatus, kLoadBalancerIngress, kPortStatus;
extern const Message kPod, kPodSpec, kPodTemplateSpec, kContainer, kEphemeralContainer,
    kContainerPort, kEnvVar, kEnvVarSource, kObjectFieldSelector, kResourceFieldSelector,
    kConfigMapKeySelector, kSecretKeySelector, kFileKeySelector, kEnvFromSource,
    kConfigMapEnvSource, kSecretEnvSource, kResourceRequirements, kResourceClaim, kVolumeMount,
    kVolumeDevice, kContainerResizePolicy, kContainerRestartRule, kRestartRuleOnExitCodes, kProbe,
    kProbeHandler, kExecAction, kHTTPGetAction, kHTTPHeader, kTCPSocketAction, kGRPCAction,
    kLifecycle, kLifecycleHandler, kSleepAction, kSecurityContext, kCapabilities, kSELinuxOptions,
    kWindowsSecurityContextOptions, kSeccompProfile, kAppArmorProfile;
extern const Message kVolume, kVolumeSource, kHostPathVolumeSource, kEmptyDirVolumeSource,
    kSecretVolumeSource, kKeyToPath, kNFSVolumeSource, kPVCVolumeSource, kDownwardAPIVolumeSource,
    kDownwardAPIVolumeFile, kConfigMapVolumeSource, kProjectedVolumeSource, kVolumeProjection,
    kSecretProjection, kConfigMapProjection, kDownwardAPIProjection, kServiceAccountTokenProjection,
    kClusterTrustBundleProjection, kCSIVolumeSource, kImageVolumeSource;
extern const Message kPodSecurityContext, kSysctl, kAffinity, kNodeAffinity, kNodeSelector,
    kNodeSelectorTerm, kNodeSelectorRequirement, kPreferredSchedulingTerm, kPodAffinity,
    kPodAntiAffinity, kPodAffinityTerm, kWeightedPodAffinityTerm, kToleration, kHostAlias,
    kPodDNSConfig, kPodDNSConfigOption, kPodReadinessGate, kTopologySpreadConstraint, kPodOS,
    kPodSchedulingGate, kPodResourceClaim, kWorkloadReference;
extern const Message kPodStatus, kPodCondition, kPodIP, kPodResourceClaimStatus, kContainerStatus,
    kContainerState, kContainerStateWaiting, kContainerStateRunning, kContainerStateTerminated,
    kVolumeMountStatus, kContainerUser, kLinuxContainerUser;
extern const Message kDeployment, kDeploymentSpec, kDeploymentStrategy, kRollingUpdateDeployment,
    kDeploymentStatus, kDeploymentCondition, kLease, kLeaseSpec;

// ---- meta/v1 ----

constexpr Field kObjectMetaFields[] = {
    Str(1, "name"),
    Str(2, "generateName"),
    Str(3, "namespace"),
    Str(4, "selfLink"),
    Str(5, "uid"),
    Str(6, "resourceVersion"),
    I64(7, "generation"),
    Time(8, "creationTimestamp"),
    TimePtr(9, "deletionTimestamp"),
    I64Ptr(10, "deletionGracePeriodSeconds"),
    StrMap(11, "labels"),
    StrMap(12, "annotations"),
    Objs(13, "ownerReferences", kOwnerReference),
    Strs(14, "finalizers"),
    Tombstone(15, "clusterName"),  // clients before 1.25 still send it, always empty
    Objs(17, "managedFields", kManagedFieldsEntry),
};
const Message kObjectMeta{"ObjectMeta", kObjectMetaFields};

constexpr Field kOwnerReferenceFields[] = {
    StrReq(1, "kind"),       StrReq(3, "name"),        StrReq(4, "uid"),
    StrReq(5, "apiVersion"), BoolPtr(6, "controller"), BoolPtr(7, "blockOwnerDeletion"),
};
const Message kOwnerReference{"OwnerReference", kOwnerReferenceFields};

constexpr Field kManagedFieldsEntryFields[] = {
    Str(1, "manager"),    Str(2, "operation"),        Str(3, "apiVersion"),  TimePtr(4, "time"),
    Str(6, "fieldsType"), FieldsV1Ptr(7, "fieldsV1"), Str(8, "subresource"),
};
const Message kManagedFieldsEntry{"ManagedFieldsEntry", kManagedFieldsEntryFields};

constexpr Field kLabelSelectorFields[] = {
    StrMap(1, "matchLabels"),
    Objs(2, "matchExpressions", kLabelSelectorRequirement),
};
const Message kLabelSelector{"LabelSelector", kLabelSelectorFields};

constexpr Field kLabelSelectorRequirementFields[] = {StrReq(1, "key"), StrReq(2, "operator"),
                                                     Strs(3, "values")};
const Message kLabelSelectorRequirement{"LabelSelectorRequirement",
                                        kLabelSelectorRequirementFields};

constexpr Field kConditionFields[] = {
    StrReq(1, "type"),
    StrReq(2, "status"),
    I64(3, "observedGeneration"),
    Time(4, "lastTransitionTime"),
    StrReq(5, "reason"),
    StrReq(6, "message"),
};
const Message kCondition{"Condition", kConditionFields};

constexpr Field kDeleteOptionsFields[] = {
    I64Ptr(1, "gracePeriodSeconds"),
    ObjPtr(2, "preconditions", kPreconditions),
    BoolPtr(3, "orphanDependents"),
    StrPtr(4, "propagationPolicy"),
    Strs(5, "dryRun"),
    BoolPtr(6, "ignoreStoreReadErrorWithClusterBreakingPotential"),
};
const Message kDeleteOptions{"DeleteOptions", kDeleteOptionsFields};

constexpr Field kPreconditionsFields[] = {StrPtr(1, "uid"), StrPtr(2, "resourceVersion")};
const Message kPreconditions{"Preconditions", kPreconditionsFields};

// ---- core/v1: simple kinds ----

constexpr Field kNamespaceFields[] = {
    Obj(1, "metadata", kObjectMeta),
    Obj(2, "spec", kNamespaceSpec),
    Obj(3, "status", kNamespaceStatus),
};
const Message kNamespace{"Namespace", kNamespaceFields};

constexpr Field kNamespaceSpecFields[] = {Strs(1, "finalizers")};
const Message kNamespaceSpec{"NamespaceSpec", kNamespaceSpecFields};

constexpr Field kNamespaceStatusFields[] = {Str(1, "phase"),
                                            Objs(2, "conditions", kNamespaceCondition)};
const Message kNamespaceStatus{"NamespaceStatus", kNamespaceStatusFields};

constexpr Field kNamespaceConditionFields[] = {
    StrReq(1, "type"), StrReq(2, "status"), Time(4, "lastTransitionTime"),
    Str(5, "reason"),  Str(6, "message"),
};
const Message kNamespaceCondition{"NamespaceCondition", kNamespaceConditionFields};

constexpr Field kConfigMapFields[] = {
    Obj(1, "metadata", kObjectMeta),
    StrMap(2, "data"),
    BytesMap(3, "binaryData"),
    BoolPtr(4, "immutable"),
};
const Message kConfigMap{"ConfigMap", kConfigMapFields};

constexpr Field kSecretFields[] = {
    Obj(1, "metadata", kObjectMeta), BytesMap(2, "data"),     Str(3, "type"),
    StrMap(4, "stringData"),         BoolPtr(5, "immutable"),
};
const Message kSecret{"Secret", kSecretFields};

constexpr Field kServiceAccountFields[] = {
    Obj(1, "metadata", kObjectMeta),
    Objs(2, "secrets", kObjectReference),
    Objs(3, "imagePullSecrets", kLocalObjectReference),
    BoolPtr(4, "automountServiceAccountToken"),
};
const Message kServiceAccount{"ServiceAccount", kServiceAccountFields};

constexpr Field kObjectReferenceFields[] = {
    Str(1, "kind"),       Str(2, "namespace"),       Str(3, "name"),      Str(4, "uid"),
    Str(5, "apiVersion"), Str(6, "resourceVersion"), Str(7, "fieldPath"),
};
const Message kObjectReference{"ObjectReference", kObjectReferenceFields};

constexpr Field kLocalObjectReferenceFields[] = {Str(1, "name")};
const Message kLocalObjectReference{"LocalObjectReference", kLocalObjectReferenceFields};

constexpr Field kBindingFields[] = {Obj(1, "metadata", kObjectMeta),
                                    Obj(2, "target", kObjectReference)};
const Message kBinding{"Binding", kBindingFields};

constexpr Field kEventFields[] = {
    Obj(1, "metadata", kObjectMeta),
    Obj(2, "involvedObject", kObjectReference),
    Str(3, "reason"),
    Str(4, "message"),
    Obj(5, "source", kEventSource),
    Time(6, "firstTimestamp"),
    Time(7, "lastTimestamp"),
    I32(8, "count"),
    Str(9, "type"),
    MicroTime(10, "eventTime"),
    ObjPtr(11, "series", kEventSeries),
    Str(12, "action"),
    ObjPtr(13, "related", kObjectReference),
    StrReq(14, "reportingComponent"),
    StrReq(15, "reportingInstance"),
};
const Message kEvent{"Event", kEventFields};

constexpr Field kEventSourceFields[] = {Str(1, "component"), Str(2, "host")};
const Message kEventSource{"EventSource", kEventSourceFields};

constexpr Field kEventSeriesFields[] = {I32(1, "count"), MicroTime(2, "lastObservedTime"),
                                        Tombstone(3, "state")};
const Message kEventSeries{"EventSeries", kEventSeriesFields};

// ---- core/v1: Service ----

constexpr Field kServiceFields[] = {
    Obj(1, "metadata", kObjectMeta),
    Obj(2, "spec", kServiceSpec),
    Obj(3, "status", kServiceStatus),
};
const Message kService{"Service", kServiceFields};

constexpr Field kServiceSpecFields[] = {
    Objs(1, "ports", kServicePort),
    StrMap(2, "selector"),
    Str(3, "clusterIP"),
    Str(4, "type"),
    Strs(5, "externalIPs"),
    Str(7, "sessionAffinity"),
    Str(8, "loadBalancerIP"),
    Strs(9, "loadBalancerSourceRanges"),
    Str(10, "externalName"),
    Str(11, "externalTrafficPolicy"),
    I32(12, "healthCheckNodePort"),
    Bool(13, "publishNotReadyAddresses"),
    ObjPtr(14, "sessionAffinityConfig", kSessionAffinityConfig),
    Tombstone(15, "ipFamily"),
    Tombstone(16, "topologyKeys"),
    StrPtr(17, "ipFamilyPolicy"),
    Strs(18, "clusterIPs"),
    Strs(19, "ipFamilies"),
    BoolPtr(20, "allocateLoadBalancerNodePorts"),
    StrPtr(21, "loadBalancerClass"),
    StrPtr(22, "internalTrafficPolicy"),
    StrPtr(23, "trafficDistribution"),
};
const Message kServiceSpec{"ServiceSpec", kServiceSpecFields};

constexpr Field kServicePortFields[] = {
    Str(1, "name"),          Str(2, "protocol"), I32Req(3, "port"),
    IntStr(4, "targetPort"), I32(5, "nodePort"), StrPtr(6, "appProtocol"),
};
const Message kServicePort{"ServicePort", kServicePortFields};

constexpr Field kSessionAffinityConfigFields[] = {ObjPtr(1, "clientIP", kClientIPConfig)};
const Message kSessionAffinityConfig{"SessionAffinityConfig", kSessionAffinityConfigFields};

constexpr Field kClientIPConfigFields[] = {I32Ptr(1, "timeoutSeconds")};
const Message kClientIPConfig{"ClientIPConfig", kClientIPConfigFields};

constexpr Field kServiceStatusFields[] = {Obj(1, "loadBalancer", kLoadBalancerStatus),
                                          Objs(2, "conditions", kCondition)};
const Message kServiceStatus{"ServiceStatus", kServiceStatusFields};

constexpr Field kLoadBalancerStatusFields[] = {Objs(1, "ingress", kLoadBalancerIngress)};
const Message kLoadBalancerStatus{"LoadBalancerStatus", kLoadBalancerStatusFields};

constexpr Field kLoadBalancerIngressFields[] = {Str(1, "ip"), Str(2, "hostname"),
                                                StrPtr(3, "ipMode"), Objs(4, "ports", kPortStatus)};
const Message kLoadBalancerIngress{"LoadBalancerIngress", kLoadBalancerIngressFields};

constexpr Field kPortStatusFields[] = {I32Req(1, "port"), StrReq(2, "protocol"),
                                       StrPtr(3, "error")};
const Message kPortStatus{"PortStatus", kPortStatusFields};

// ---- core/v1: Pod and its containers ----

constexpr Field kPodFields[] = {
    Obj(1, "metadata", kObjectMeta),
    Obj(2, "spec", kPodSpec),
    Obj(3, "status", kPodStatus),
};
const Message kPod{"Pod", kPodFields};

constexpr Field kPodTemplateSpecFields[] = {Obj(1, "metadata", kObjectMeta),
                                            Obj(2, "spec", kPodSpec)};
const Message kPodTemplateSpec{"PodTemplateSpec", kPodTemplateSpecFields};

constexpr Field kPodSpecFields[] = {
    Objs(1, "volumes", kVolume),
    ObjsReq(2, "containers", kContainer),
    Str(3, "restartPolicy"),
    I64Ptr(4, "terminationGracePeriodSeconds"),
    I64Ptr(5, "activeDeadlineSeconds"),
    Str(6, "dnsPolicy"),
    StrMap(7, "nodeSelector"),
    Str(8, "serviceAccountName"),
    Str(9, "serviceAccount"),
    Str(10, "nodeName"),
    Bool(11, "hostNetwork"),
    Bool(12, "hostPID"),
    Bool(13, "hostIPC"),
    ObjPtr(14, "securityContext", kPodSecurityContext),
    Objs(15, "imagePullSecrets", kLocalObjectReference),
    Str(16, "hostname"),
    Str(17, "subdomain"),
    ObjPtr(18, "affinity", kAffinity),
    Str(19, "schedulerName"),
    Objs(20, "initContainers", kContainer),
    BoolPtr(21, "automountServiceAccountToken"),
    Objs(22, "tolerations", kToleration),
    Objs(23, "hostAliases", kHostAlias),
    Str(24, "priorityClassName"),
    I32Ptr(25, "priority"),
    ObjPtr(26, "dnsConfig", kPodDNSConfig),
    BoolPtr(27, "shareProcessNamespace"),
    Objs(28, "readinessGates", kPodReadinessGate),
    StrPtr(29, "runtimeClassName"),
    BoolPtr(30, "enableServiceLinks"),
    StrPtr(31, "preemptionPolicy"),
    QtyMap(32, "overhead"),
    Objs(33, "topologySpreadConstraints", kTopologySpreadConstraint),
    Objs(34, "ephemeralContainers", kEphemeralContainer),
    BoolPtr(35, "setHostnameAsFQDN"),
    ObjPtr(36, "os", kPodOS),
    BoolPtr(37, "hostUsers"),
    Objs(38, "schedulingGates", kPodSchedulingGate),
    Objs(39, "resourceClaims", kPodResourceClaim),
    ObjPtr(40, "resources", kResourceRequirements),
    StrPtr(41, "hostnameOverride"),
    ObjPtr(42, "workloadRef", kWorkloadReference),
};
const Message kPodSpec{"PodSpec", kPodSpecFields};

constexpr Field kContainerFields[] = {
    StrReq(1, "name"),
    Str(2, "image"),
    Strs(3, "command"),
    Strs(4, "args"),
    Str(5, "workingDir"),
    Objs(6, "ports", kContainerPort),
    Objs(7, "env", kEnvVar),
    Obj(8, "resources", kResourceRequirements),
    Objs(9, "volumeMounts", kVolumeMount),
    ObjPtr(10, "livenessProbe", kProbe),
    ObjPtr(11, "readinessProbe", kProbe),
    ObjPtr(12, "lifecycle", kLifecycle),
    Str(13, "terminationMessagePath"),
    Str(14, "imagePullPolicy"),
    ObjPtr(15, "securityContext", kSecurityContext),
    Bool(16, "stdin"),
    Bool(17, "stdinOnce"),
    Bool(18, "tty"),
    Objs(19, "envFrom", kEnvFromSource),
    Str(20, "terminationMessagePolicy"),
    Objs(21, "volumeDevices", kVolumeDevice),
    ObjPtr(22, "startupProbe", kProbe),
    Objs(23, "resizePolicy", kContainerResizePolicy),
    StrPtr(24, "restartPolicy"),
    Objs(25, "restartPolicyRules", kContainerRestartRule),
};
const Message kContainer{"Container", kContainerFields};

// EphemeralContainerCommon repeats Container field for field, so it shares the table.
constexpr Field kEphemeralContainerFields[] = {Inline(1, kContainer),
                                               Str(2, "targetContainerName")};
const Message kEphemeralContainer{"EphemeralContainer", kEphemeralContainerFields};

constexpr Field kContainerPortFields[] = {
    Str(1, "name"),     I32(2, "hostPort"), I32Req(3, "containerPort"),
    Str(4, "protocol"), Str(5, "hostIP"),
};
const Message kContainerPort{"ContainerPort", kContainerPortFields};

constexpr Field kEnvVarFields[] = {StrReq(1, "name"), Str(2, "value"),
                                   ObjPtr(3, "valueFrom", kEnvVarSource)};
const Message kEnvVar{"EnvVar", kEnvVarFields};

constexpr Field kEnvVarSourceFields[] = {
    ObjPtr(1, "fieldRef", kObjectFieldSelector),
    ObjPtr(2, "resourceFieldRef", kResourceFieldSelector),
    ObjPtr(3, "configMapKeyRef", kConfigMapKeySelector),
    ObjPtr(4, "secretKeyRef", kSecretKeySelector),
    ObjPtr(5, "fileKeyRef", kFileKeySelector),
};
const Message kEnvVarSource{"EnvVarSource", kEnvVarSourceFields};

constexpr Field kObjectFieldSelectorFields[] = {Str(1, "apiVersion"), StrReq(2, "fieldPath")};
const Message kObjectFieldSelector{"ObjectFieldSelector", kObjectFieldSelectorFields};

constexpr Field kResourceFieldSelectorFields[] = {Str(1, "containerName"), StrReq(2, "resource"),
                                                  Qty(3, "divisor")};
const Message kResourceFieldSelector{"ResourceFieldSelector", kResourceFieldSelectorFields};

constexpr Field kKeySelectorFields[] = {Inline(1, kLocalObjectReference), StrReq(2, "key"),
                                        BoolPtr(3, "optional")};
const Message kConfigMapKeySelector{"ConfigMapKeySelector", kKeySelectorFields};
const Message kSecretKeySelector{"SecretKeySelector", kKeySelectorFields};

constexpr Field kFileKeySelectorFields[] = {StrReq(1, "volumeName"), StrReq(2, "path"),
                                            StrReq(3, "key"), BoolPtr(4, "optional")};
const Message kFileKeySelector{"FileKeySelector", kFileKeySelectorFields};

constexpr Field kEnvFromSourceFields[] = {
    Str(1, "prefix"),
    ObjPtr(2, "configMapRef", kConfigMapEnvSource),
    ObjPtr(3, "secretRef", kSecretEnvSource),
};
const Message kEnvFromSource{"EnvFromSource", kEnvFromSourceFields};

constexpr Field kEnvSourceFields[] = {Inline(1, kLocalObjectReference), BoolPtr(2, "optional")};
const Message kConfigMapEnvSource{"ConfigMapEnvSource", kEnvSourceFields};
const Message kSecretEnvSource{"SecretEnvSource", kEnvSourceFields};

constexpr Field kResourceRequirementsFields[] = {QtyMap(1, "limits"), QtyMap(2, "requests"),
                                                 Objs(3, "claims", kResourceClaim)};
const Message kResourceRequirements{"ResourceRequirements", kResourceRequirementsFields};

constexpr Field kResourceClaimFields[] = {StrReq(1, "name"), Str(2, "request")};
const Message kResourceClaim{"ResourceClaim", kResourceClaimFields};

constexpr Field kVolumeMountFields[] = {
    StrReq(1, "name"),
    Bool(2, "readOnly"),
    StrReq(3, "mountPath"),
    Str(4, "subPath"),
    StrPtr(5, "mountPropagation"),
    Str(6, "subPathExpr"),
    StrPtr(7, "recursiveReadOnly"),
};
const Message kVolumeMount{"VolumeMount", kVolumeMountFields};

constexpr Field kVolumeDeviceFields[] = {StrReq(1, "name"), StrReq(2, "devicePath")};
const Message kVolumeDevice{"VolumeDevice", kVolumeDeviceFields};

constexpr Field kContainerResizePolicyFields[] = {StrReq(1, "resourceName"),
                                                  StrReq(2, "restartPolicy")};
const Message kContainerResizePolicy{"ContainerResizePolicy", kContainerResizePolicyFields};

constexpr Field kContainerRestartRuleFields[] = {Str(1, "action"),
                                                 ObjPtr(2, "exitCodes", kRestartRuleOnExitCodes)};
const Message kContainerRestartRule{"ContainerRestartRule", kContainerRestartRuleFields};

constexpr Field kRestartRuleOnExitCodesFields[] = {Str(1, "operator"), I32s(2, "values")};
const Message kRestartRuleOnExitCodes{"ContainerRestartRuleOnExitCodes",
                                      kRestartRuleOnExitCodesFields};

constexpr Field kProbeFields[] = {
    Inline(1, kProbeHandler),
    I32(2, "initialDelaySeconds"),
    I32(3, "timeoutSeconds"),
    I32(4, "periodSeconds"),
    I32(5, "successThreshold"),
    I32(6, "failureThreshold"),
    I64Ptr(7, "terminationGracePeriodSeconds"),
};
const Message kProbe{"Probe", kProbeFields};

constexpr Field kProbeHandlerFields[] = {
    ObjPtr(1, "exec", kExecAction),
    ObjPtr(2, "httpGet", kHTTPGetAction),
    ObjPtr(3, "tcpSocket", kTCPSocketAction),
    ObjPtr(4, "grpc", kGRPCAction),
};
const Message kProbeHandler{"ProbeHandler", kProbeHandlerFields};

constexpr Field kExecActionFields[] = {Strs(1, "command")};
const Message kExecAction{"ExecAction", kExecActionFields};

constexpr Field kHTTPGetActionFields[] = {
    Str(1, "path"),
    IntStr(2, "port"),
    Str(3, "host"),
    Str(4, "scheme"),
    Objs(5, "httpHeaders", kHTTPHeader),
};
const Message kHTTPGetAction{"HTTPGetAction", kHTTPGetActionFields};

constexpr Field kHTTPHeaderFields[] = {StrReq(1, "name"), StrReq(2, "value")};
const Message kHTTPHeader{"HTTPHeader", kHTTPHeaderFields};

constexpr Field kTCPSocketActionFields[] = {IntStr(1, "port"), Str(2, "host")};
const Message kTCPSocketAction{"TCPSocketAction", kTCPSocketActionFields};

constexpr Field kGRPCActionFields[] = {I32Req(1, "port"), StrNullable(2, "service")};
const Message kGRPCAction{"GRPCAction", kGRPCActionFields};

constexpr Field kLifecycleFields[] = {
    ObjPtr(1, "postStart", kLifecycleHandler),
    ObjPtr(2, "preStop", kLifecycleHandler),
    StrPtr(3, "stopSignal"),
};
const Message kLifecycle{"Lifecycle", kLifecycleFields};

constexpr Field kLifecycleHandlerFields[] = {
    ObjPtr(1, "exec", kExecAction),
    ObjPtr(2, "httpGet", kHTTPGetAction),
    ObjPtr(3, "tcpSocket", kTCPSocketAction),
    ObjPtr(4, "sleep", kSleepAction),
};
const Message kLifecycleHandler{"LifecycleHandler", kLifecycleHandlerFields};

constexpr Field kSleepActionFields[] = {I64Req(1, "seconds")};
const Message kSleepAction{"SleepAction", kSleepActionFields};

constexpr Field kSecurityContextFields[] = {
    ObjPtr(1, "capabilities", kCapabilities),
    BoolPtr(2, "privileged"),
    ObjPtr(3, "seLinuxOptions", kSELinuxOptions),
    I64Ptr(4, "runAsUser"),
    BoolPtr(5, "runAsNonRoot"),
    BoolPtr(6, "readOnlyRootFilesystem"),
    BoolPtr(7, "allowPrivilegeEscalation"),
    I64Ptr(8, "runAsGroup"),
    StrPtr(9, "procMount"),
    ObjPtr(10, "windowsOptions", kWindowsSecurityContextOptions),
    ObjPtr(11, "seccompProfile", kSeccompProfile),
    ObjPtr(12, "appArmorProfile", kAppArmorProfile),
};
const Message kSecurityContext{"SecurityContext", kSecurityContextFields};

constexpr Field kCapabilitiesFields[] = {Strs(1, "add"), Strs(2, "drop")};
const Message kCapabilities{"Capabilities", kCapabilitiesFields};

constexpr Field kSELinuxOptionsFields[] = {Str(1, "user"), Str(2, "role"), Str(3, "type"),
                                           Str(4, "level")};
const Message kSELinuxOptions{"SELinuxOptions", kSELinuxOptionsFields};

constexpr Field kWindowsSecurityContextOptionsFields[] = {
    StrPtr(1, "gmsaCredentialSpecName"),
    StrPtr(2, "gmsaCredentialSpec"),
    StrPtr(3, "runAsUserName"),
    BoolPtr(4, "hostProcess"),
};
const Message kWindowsSecurityContextOptions{"WindowsSecurityContextOptions",
                                             kWindowsSecurityContextOptionsFields};

constexpr Field kProfileFields[] = {StrReq(1, "type"), StrPtr(2, "localhostProfile")};
const Message kSeccompProfile{"SeccompProfile", kProfileFields};
const Message kAppArmorProfile{"AppArmorProfile", kProfileFields};

// ---- core/v1: volumes ----

constexpr Field kVolumeFields[] = {StrReq(1, "name"), Inline(2, kVolumeSource)};
const Message kVolume{"Volume", kVolumeFields};

constexpr Field kVolumeSourceFields[] = {
    ObjPtr(1, "hostPath", kHostPathVolumeSource),
    ObjPtr(2, "emptyDir", kEmptyDirVolumeSource),
    Unsupported(3, "gcePersistentDisk"),
    Unsupported(4, "awsElasticBlockStore"),
    Unsupported(5, "gitRepo"),
    ObjPtr(6, "secret", kSecretVolumeSource),
    ObjPtr(7, "nfs", kNFSVolumeSource),
    Unsupported(8, "iscsi"),
    Unsupported(9, "glusterfs"),
    ObjPtr(10, "persistentVolumeClaim", kPVCVolumeSource),
    Unsupported(11, "rbd"),
    Unsupported(12, "flexVolume"),
    Unsupported(13, "cinder"),
    Unsupported(14, "cephfs"),
    Unsupported(15, "flocker"),
    ObjPtr(16, "downwardAPI", kDownwardAPIVolumeSource),
    Unsupported(17, "fc"),
    Unsupported(18, "azureFile"),
    ObjPtr(19, "configMap", kConfigMapVolumeSource),
    Unsupported(20, "vsphereVolume"),
    Unsupported(21, "quobyte"),
    Unsupported(22, "azureDisk"),
    Unsupported(23, "photonPersistentDisk"),
    Unsupported(24, "portworxVolume"),
    Unsupported(25, "scaleIO"),
    ObjPtr(26, "projected", kProjectedVolumeSource),
    Unsupported(27, "storageos"),
    ObjPtr(28, "csi", kCSIVolumeSource),
    Unsupported(29, "ephemeral"),
    ObjPtr(30, "image", kImageVolumeSource),
};
const Message kVolumeSource{"VolumeSource", kVolumeSourceFields};

constexpr Field kHostPathVolumeSourceFields[] = {StrReq(1, "path"), StrPtr(2, "type")};
const Message kHostPathVolumeSource{"HostPathVolumeSource", kHostPathVolumeSourceFields};

constexpr Field kEmptyDirVolumeSourceFields[] = {Str(1, "medium"), QtyPtr(2, "sizeLimit")};
const Message kEmptyDirVolumeSource{"EmptyDirVolumeSource", kEmptyDirVolumeSourceFields};

constexpr Field kSecretVolumeSourceFields[] = {
    Str(1, "secretName"),
    Objs(2, "items", kKeyToPath),
    I32Ptr(3, "defaultMode"),
    BoolPtr(4, "optional"),
};
const Message kSecretVolumeSource{"SecretVolumeSource", kSecretVolumeSourceFields};

constexpr Field kKeyToPathFields[] = {StrReq(1, "key"), StrReq(2, "path"), I32Ptr(3, "mode")};
const Message kKeyToPath{"KeyToPath", kKeyToPathFields};

constexpr Field kNFSVolumeSourceFields[] = {StrReq(1, "server"), StrReq(2, "path"),
                                            Bool(3, "readOnly")};
const Message kNFSVolumeSource{"NFSVolumeSource", kNFSVolumeSourceFields};

constexpr Field kPVCVolumeSourceFields[] = {StrReq(1, "claimName"), Bool(2, "readOnly")};
const Message kPVCVolumeSource{"PersistentVolumeClaimVolumeSource", kPVCVolumeSourceFields};

constexpr Field kDownwardAPIVolumeSourceFields[] = {Objs(1, "items", kDownwardAPIVolumeFile),
                                                    I32Ptr(2, "defaultMode")};
const Message kDownwardAPIVolumeSource{"DownwardAPIVolumeSource", kDownwardAPIVolumeSourceFields};

constexpr Field kDownwardAPIVolumeFileFields[] = {
    StrReq(1, "path"),
    ObjPtr(2, "fieldRef", kObjectFieldSelector),
    ObjPtr(3, "resourceFieldRef", kResourceFieldSelector),
    I32Ptr(4, "mode"),
};
const Message kDownwardAPIVolumeFile{"DownwardAPIVolumeFile", kDownwardAPIVolumeFileFields};

constexpr Field kConfigMapVolumeSourceFields[] = {
    Inline(1, kLocalObjectReference),
    Objs(2, "items", kKeyToPath),
    I32Ptr(3, "defaultMode"),
    BoolPtr(4, "optional"),
};
const Message kConfigMapVolumeSource{"ConfigMapVolumeSource", kConfigMapVolumeSourceFields};

constexpr Field kProjectedVolumeSourceFields[] = {ObjsReq(1, "sources", kVolumeProjection),
                                                  I32Ptr(2, "defaultMode")};
const Message kProjectedVolumeSource{"ProjectedVolumeSource", kProjectedVolumeSourceFields};

constexpr Field kVolumeProjectionFields[] = {
    ObjPtr(1, "secret", kSecretProjection),
    ObjPtr(2, "downwardAPI", kDownwardAPIProjection),
    ObjPtr(3, "configMap", kConfigMapProjection),
    ObjPtr(4, "serviceAccountToken", kServiceAccountTokenProjection),
    ObjPtr(5, "clusterTrustBundle", kClusterTrustBundleProjection),
    Unsupported(6, "podCertificate"),
};
const Message kVolumeProjection{"VolumeProjection", kVolumeProjectionFields};

constexpr Field kObjectProjectionFields[] = {Inline(1, kLocalObjectReference),
                                             Objs(2, "items", kKeyToPath), BoolPtr(4, "optional")};
const Message kSecretProjection{"SecretProjection", kObjectProjectionFields};
const Message kConfigMapProjection{"ConfigMapProjection", kObjectProjectionFields};

constexpr Field kDownwardAPIProjectionFields[] = {Objs(1, "items", kDownwardAPIVolumeFile)};
const Message kDownwardAPIProjection{"DownwardAPIProjection", kDownwardAPIProjectionFields};

constexpr Field kServiceAccountTokenProjectionFields[] = {
    Str(1, "audience"), I64Ptr(2, "expirationSeconds"), StrReq(3, "path")};
const Message kServiceAccountTokenProjection{"ServiceAccountTokenProjection",
                                             kServiceAccountTokenProjectionFields};

constexpr Field kClusterTrustBundleProjectionFields[] = {
    StrPtr(1, "name"), StrPtr(2, "signerName"), ObjPtr(3, "labelSelector", kLabelSelector),
    StrReq(4, "path"), BoolPtr(5, "optional"),
};
const Message kClusterTrustBundleProjection{"ClusterTrustBundleProjection",
                                            kClusterTrustBundleProjectionFields};

constexpr Field kCSIVolumeSourceFields[] = {
    StrReq(1, "driver"),
    BoolPtr(2, "readOnly"),
    StrPtr(3, "fsType"),
    StrMap(4, "volumeAttributes"),
    ObjPtr(5, "nodePublishSecretRef", kLocalObjectReference),
};
const Message kCSIVolumeSource{"CSIVolumeSource", kCSIVolumeSourceFields};

constexpr Field kImageVolumeSourceFields[] = {Str(1, "reference"), Str(2, "pullPolicy")};
const Message kImageVolumeSource{"ImageVolumeSource", kImageVolumeSourceFields};

// ---- core/v1: scheduling and pod-level settings ----

constexpr Field kPodSecurityContextFields[] = {
    ObjPtr(1, "seLinuxOptions", kSELinuxOptions),
    I64Ptr(2, "runAsUser"),
    BoolPtr(3, "runAsNonRoot"),
    I64s(4, "supplementalGroups"),
    I64Ptr(5, "fsGroup"),
    I64Ptr(6, "runAsGroup"),
    Objs(7, "sysctls", kSysctl),
    ObjPtr(8, "windowsOptions", kWindowsSecurityContextOptions),
    StrPtr(9, "fsGroupChangePolicy"),
    ObjPtr(10, "seccompProfile", kSeccompProfile),
    ObjPtr(11, "appArmorProfile", kAppArmorProfile),
    StrPtr(12, "supplementalGroupsPolicy"),
    StrPtr(13, "seLinuxChangePolicy"),
};
const Message kPodSecurityContext{"PodSecurityContext", kPodSecurityContextFields};

constexpr Field kSysctlFields[] = {StrReq(1, "name"), StrReq(2, "value")};
const Message kSysctl{"Sysctl", kSysctlFields};

constexpr Field kAffinityFields[] = {
    ObjPtr(1, "nodeAffinity", kNodeAffinity),
    ObjPtr(2, "podAffinity", kPodAffinity),
    ObjPtr(3, "podAntiAffinity", kPodAntiAffinity),
};
const Message kAffinity{"Affinity", kAffinityFields};

constexpr Field kNodeAffinityFields[] = {
    ObjPtr(1, "requiredDuringSchedulingIgnoredDuringExecution", kNodeSelector),
    Objs(2, "preferredDuringSchedulingIgnoredDuringExecution", kPreferredSchedulingTerm),
};
const Message kNodeAffinity{"NodeAffinity", kNodeAffinityFields};

constexpr Field kNodeSelectorFields[] = {ObjsReq(1, "nodeSelectorTerms", kNodeSelectorTerm)};
const Message kNodeSelector{"NodeSelector", kNodeSelectorFields};

constexpr Field kNodeSelectorTermFields[] = {
    Objs(1, "matchExpressions", kNodeSelectorRequirement),
    Objs(2, "matchFields", kNodeSelectorRequirement),
};
const Message kNodeSelectorTerm{"NodeSelectorTerm", kNodeSelectorTermFields};

constexpr Field kNodeSelectorRequirementFields[] = {StrReq(1, "key"), StrReq(2, "operator"),
                                                    Strs(3, "values")};
const Message kNodeSelectorRequirement{"NodeSelectorRequirement", kNodeSelectorRequirementFields};

constexpr Field kPreferredSchedulingTermFields[] = {I32Req(1, "weight"),
                                                    Obj(2, "preference", kNodeSelectorTerm)};
const Message kPreferredSchedulingTerm{"PreferredSchedulingTerm", kPreferredSchedulingTermFields};

constexpr Field kPodAffinityFields[] = {
    Objs(1, "requiredDuringSchedulingIgnoredDuringExecution", kPodAffinityTerm),
    Objs(2, "preferredDuringSchedulingIgnoredDuringExecution", kWeightedPodAffinityTerm),
};
const Message kPodAffinity{"PodAffinity", kPodAffinityFields};
const Message kPodAntiAffinity{"PodAntiAffinity", kPodAffinityFields};

constexpr Field kPodAffinityTermFields[] = {
    ObjPtr(1, "labelSelector", kLabelSelector),
    Strs(2, "namespaces"),
    StrReq(3, "topologyKey"),
    ObjPtr(4, "namespaceSelector", kLabelSelector),
    Strs(5, "matchLabelKeys"),
    Strs(6, "mismatchLabelKeys"),
};
const Message kPodAffinityTerm{"PodAffinityTerm", kPodAffinityTermFields};

constexpr Field kWeightedPodAffinityTermFields[] = {I32Req(1, "weight"),
                                                    Obj(2, "podAffinityTerm", kPodAffinityTerm)};
const Message kWeightedPodAffinityTerm{"WeightedPodAffinityTerm", kWeightedPodAffinityTermFields};

constexpr Field kTolerationFields[] = {
    Str(1, "key"),
    Str(2, "operator"),
    Str(3, "value"),
    Str(4, "effect"),
    I64Ptr(5, "tolerationSeconds"),
};
const Message kToleration{"Toleration", kTolerationFields};

constexpr Field kHostAliasFields[] = {StrReq(1, "ip"), Strs(2, "hostnames")};
const Message kHostAlias{"HostAlias", kHostAliasFields};

constexpr Field kPodDNSConfigFields[] = {Strs(1, "nameservers"), Strs(2, "searches"),
                                         Objs(3, "options", kPodDNSConfigOption)};
const Message kPodDNSConfig{"PodDNSConfig", kPodDNSConfigFields};

constexpr Field kPodDNSConfigOptionFields[] = {Str(1, "name"), StrPtr(2, "value")};
const Message kPodDNSConfigOption{"PodDNSConfigOption", kPodDNSConfigOptionFields};

constexpr Field kPodReadinessGateFields[] = {StrReq(1, "conditionType")};
const Message kPodReadinessGate{"PodReadinessGate", kPodReadinessGateFields};

constexpr Field kTopologySpreadConstraintFields[] = {
    I32Req(1, "maxSkew"),           StrReq(2, "topologyKey"),
    StrReq(3, "whenUnsatisfiable"), ObjPtr(4, "labelSelector", kLabelSelector),
    I32Ptr(5, "minDomains"),        StrPtr(6, "nodeAffinityPolicy"),
    StrPtr(7, "nodeTaintsPolicy"),  Strs(8, "matchLabelKeys"),
};
const Message kTopologySpreadConstraint{"TopologySpreadConstraint",
                                        kTopologySpreadConstraintFields};

constexpr Field kNameOnlyFields[] = {StrReq(1, "name")};
const Message kPodOS{"PodOS", kNameOnlyFields};
const Message kPodSchedulingGate{"PodSchedulingGate", kNameOnlyFields};

constexpr Field kPodResourceClaimFields[] = {StrReq(1, "name"), StrPtr(3, "resourceClaimName"),
                                             StrPtr(4, "resourceClaimTemplateName")};
const Message kPodResourceClaim{"PodResourceClaim", kPodResourceClaimFields};

constexpr Field kWorkloadReferenceFields[] = {StrReq(1, "name"), StrReq(2, "podGroup"),
                                              Str(3, "podGroupReplicaKey")};
const Message kWorkloadReference{"WorkloadReference", kWorkloadReferenceFields};

// ---- core/v1: PodStatus ----

constexpr Field kPodStatusFields[] = {
    Str(1, "phase"),
    Objs(2, "conditions", kPodCondition),
    Str(3, "message"),
    Str(4, "reason"),
    Str(5, "hostIP"),
    Str(6, "podIP"),
    TimePtr(7, "startTime"),
    Objs(8, "containerStatuses", kContainerStatus),
    Str(9, "qosClass"),
    Objs(10, "initContainerStatuses", kContainerStatus),
    Str(11, "nominatedNodeName"),
    Objs(12, "podIPs", kPodIP),
    Objs(13, "ephemeralContainerStatuses", kContainerStatus),
    Str(14, "resize"),
    Objs(15, "resourceClaimStatuses", kPodResourceClaimStatus),
    Objs(16, "hostIPs", kPodIP),
    I64(17, "observedGeneration"),
    Unsupported(18, "extendedResourceClaimStatus"),
    QtyMap(19, "allocatedResources"),
    ObjPtr(20, "resources", kResourceRequirements),
};
const Message kPodStatus{"PodStatus", kPodStatusFields};

constexpr Field kPodConditionFields[] = {
    StrReq(1, "type"),
    StrReq(2, "status"),
    Time(3, "lastProbeTime"),
    Time(4, "lastTransitionTime"),
    Str(5, "reason"),
    Str(6, "message"),
    I64(7, "observedGeneration"),
};
const Message kPodCondition{"PodCondition", kPodConditionFields};

constexpr Field kIPFields[] = {StrReq(1, "ip")};
const Message kPodIP{"PodIP", kIPFields};

constexpr Field kPodResourceClaimStatusFields[] = {StrReq(1, "name"),
                                                   StrPtr(2, "resourceClaimName")};
const Message kPodResourceClaimStatus{"PodResourceClaimStatus", kPodResourceClaimStatusFields};

constexpr Field kContainerStatusFields[] = {
    StrReq(1, "name"),
    Obj(2, "state", kContainerState),
    Obj(3, "lastState", kContainerState),
    BoolReq(4, "ready"),
    I32Req(5, "restartCount"),
    StrReq(6, "image"),
    StrReq(7, "imageID"),
    Str(8, "containerID"),
    BoolPtr(9, "started"),
    QtyMap(10, "allocatedResources"),
    ObjPtr(11, "resources", kResourceRequirements),
    Objs(12, "volumeMounts", kVolumeMountStatus),
    ObjPtr(13, "user", kContainerUser),
    Unsupported(14, "allocatedResourcesStatus"),
    StrPtr(15, "stopSignal"),
};
const Message kContainerStatus{"ContainerStatus", kContainerStatusFields};

constexpr Field kContainerStateFields[] = {
    ObjPtr(1, "waiting", kContainerStateWaiting),
    ObjPtr(2, "running", kContainerStateRunning),
    ObjPtr(3, "terminated", kContainerStateTerminated),
};
const Message kContainerState{"ContainerState", kContainerStateFields};

constexpr Field kContainerStateWaitingFields[] = {Str(1, "reason"), Str(2, "message")};
const Message kContainerStateWaiting{"ContainerStateWaiting", kContainerStateWaitingFields};

constexpr Field kContainerStateRunningFields[] = {Time(1, "startedAt")};
const Message kContainerStateRunning{"ContainerStateRunning", kContainerStateRunningFields};

constexpr Field kContainerStateTerminatedFields[] = {
    I32Req(1, "exitCode"), I32(2, "signal"),      Str(3, "reason"),      Str(4, "message"),
    Time(5, "startedAt"),  Time(6, "finishedAt"), Str(7, "containerID"),
};
const Message kContainerStateTerminated{"ContainerStateTerminated",
                                        kContainerStateTerminatedFields};

constexpr Field kVolumeMountStatusFields[] = {
    StrReq(1, "name"),
    StrReq(2, "mountPath"),
    Bool(3, "readOnly"),
    StrPtr(4, "recursiveReadOnly"),
    Unsupported(5, "volumeStatus"),
};
const Message kVolumeMountStatus{"VolumeMountStatus", kVolumeMountStatusFields};

constexpr Field kContainerUserFields[] = {ObjPtr(1, "linux", kLinuxContainerUser)};
const Message kContainerUser{"ContainerUser", kContainerUserFields};

constexpr Field kLinuxContainerUserFields[] = {I64Req(1, "uid"), I64Req(2, "gid"),
                                               I64s(3, "supplementalGroups")};
const Message kLinuxContainerUser{"LinuxContainerUser", kLinuxContainerUserFields};

// ---- apps/v1 ----

constexpr Field kDeploymentFields[] = {
    Obj(1, "metadata", kObjectMeta),
    Obj(2, "spec", kDeploymentSpec),
    Obj(3, "status", kDeploymentStatus),
};
const Message kDeployment{"Deployment", kDeploymentFields};

constexpr Field kDeploymentSpecFields[] = {
    I32Ptr(1, "replicas"),
    ObjNullable(2, "selector", kLabelSelector),
    Obj(3, "template", kPodTemplateSpec),
    Obj(4, "strategy", kDeploymentStrategy),
    I32(5, "minReadySeconds"),
    I32Ptr(6, "revisionHistoryLimit"),
    Bool(7, "paused"),
    I32Ptr(9, "progressDeadlineSeconds"),
};
const Message kDeploymentSpec{"DeploymentSpec", kDeploymentSpecFields};

constexpr Field kDeploymentStrategyFields[] = {
    Str(1, "type"), ObjPtr(2, "rollingUpdate", kRollingUpdateDeployment)};
const Message kDeploymentStrategy{"DeploymentStrategy", kDeploymentStrategyFields};

constexpr Field kRollingUpdateDeploymentFields[] = {IntStrPtr(1, "maxUnavailable"),
                                                    IntStrPtr(2, "maxSurge")};
const Message kRollingUpdateDeployment{"RollingUpdateDeployment", kRollingUpdateDeploymentFields};

constexpr Field kDeploymentStatusFields[] = {
    I64(1, "observedGeneration"),     I32(2, "replicas"),
    I32(3, "updatedReplicas"),        I32(4, "availableReplicas"),
    I32(5, "unavailableReplicas"),    Objs(6, "conditions", kDeploymentCondition),
    I32(7, "readyReplicas"),          I32Ptr(8, "collisionCount"),
    I32Ptr(9, "terminatingReplicas"),
};
const Message kDeploymentStatus{"DeploymentStatus", kDeploymentStatusFields};

constexpr Field kDeploymentConditionFields[] = {
    StrReq(1, "type"), StrReq(2, "status"),       Str(4, "reason"),
    Str(5, "message"), Time(6, "lastUpdateTime"), Time(7, "lastTransitionTime"),
};
const Message kDeploymentCondition{"DeploymentCondition", kDeploymentConditionFields};

// ---- coordination.k8s.io/v1 ----

constexpr Field kLeaseFields[] = {Obj(1, "metadata", kObjectMeta), Obj(2, "spec", kLeaseSpec)};
const Message kLease{"Lease", kLeaseFields};

constexpr Field kLeaseSpecFields[] = {
    StrPtr(1, "holderIdentity"),  I32Ptr(2, "leaseDurationSeconds"), MicroTimePtr(3, "acquireTime"),
    MicroTimePtr(4, "renewTime"), I32Ptr(5, "leaseTransitions"),     StrPtr(6, "strategy"),
    StrPtr(7, "preferredHolder"),
};
const Message kLeaseSpec{"LeaseSpec", kLeaseSpecFields};

struct TopLevel {
  std::string_view api_version;  // empty: any group version (DeleteOptions lives in all)
  std::string_view kind;
  const Message* message;
};

constexpr std::array<TopLevel, 11> kTopLevel = {{
    {"v1", "Namespace", &kNamespace},
    {"v1", "ConfigMap", &kConfigMap},
    {"v1", "Secret", &kSecret},
    {"v1", "ServiceAccount", &kServiceAccount},
    {"v1", "Service", &kService},
    {"v1", "Pod", &kPod},
    {"v1", "Binding", &kBinding},
    {"v1", "Event", &kEvent},
    {"apps/v1", "Deployment", &kDeployment},
    {"coordination.k8s.io/v1", "Lease", &kLease},
    // metav1.AddToGroupVersion registers DeleteOptions in every group version (meta.k8s.io/v1
    // included), and a typed client encodes it under its own, e.g. apps/v1.
    {"", "DeleteOptions", &kDeleteOptions},
}};

}  // namespace

const Message* TopLevelMessage(std::string_view api_version, std::string_view kind) {
  if (api_version.empty()) return nullptr;
  for (const TopLevel& t : kTopLevel) {
    if (t.kind == kind && (t.api_version.empty() || t.api_version == api_version)) {
      return t.message;
    }
  }
  return nullptr;
}

}  // namespace aidi::devcluster::pb
