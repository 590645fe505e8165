// Decodes request bodies sent as application/vnd.kubernetes.protobuf (what kubectl's typed
// commands such as `kubectl create namespace|configmap|secret|deployment|service` send) into
// the JSON object kube-apiserver would have seen had the client sent JSON.
//
// The result is what Go's encoding/json makes of the typed struct the protobuf decodes into,
// i.e. what `kubectl create ... --dry-run=client -o json` prints: `omitempty` scalars are left
// out when zero, pointers (proto2 `optional` with presence, e.g. `replicas: 0`) appear exactly
// when sent, and struct values without a pointer always appear (`"spec": {}`,
// `"creationTimestamp": null`). []byte becomes base64; invalid UTF-8 becomes U+FFFD, as in Go.
//
// Supported kinds: v1 Namespace, ConfigMap, Secret, ServiceAccount, Service, Pod, Binding,
// Event; apps/v1 Deployment; coordination.k8s.io/v1 Lease; DeleteOptions under any group
// version. Within them, a field devcluster does not model (e.g. an iSCSI volume) is an error
// that names it, never silently dropped. Quantities are kept as sent (client-go sends the
// canonical form). Pure function; safe on hostile input (bounded size, depth and work).
#pragma once

#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

namespace aidi::devcluster {

// Largest body accepted, as kube-apiserver's default request size limit (3 MiB).
inline constexpr std::size_t kMaxProtobufBodyBytes = 3 * 1024 * 1024;

// `body` is the 4-byte magic "k8s\0", then a runtime.Unknown {1: TypeMeta {1: apiVersion,
// 2: kind}, 2: raw, 3: contentEncoding, 4: contentType} whose raw bytes are the object's
// message. Returns the object (apiVersion and kind filled from the TypeMeta), or an error
// message such as "protobuf: unsupported kind apps/v1 StatefulSet" or
// "protobuf: truncated field 3 at offset 17" (offsets count from the start of the body).
std::variant<std::string, nlohmann::json> DecodeKubernetesProtobuf(std::string_view body);

// True when DecodeKubernetesProtobuf can decode objects of this apiVersion and kind.
bool SupportsProtobufKind(const std::string& api_version, const std::string& kind);

}  // namespace aidi::devcluster
