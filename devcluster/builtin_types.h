// The built-in kinds devcluster serves (core/v1 Namespace, Pod, Node, ConfigMap, Secret,
// Service, ServiceAccount, Event, PersistentVolumeClaim; coordination.k8s.io/v1 Lease;
// apps/v1 Deployment; apiextensions.k8s.io/v1 CustomResourceDefinition) with their strategies
// (defaults, validation, what the main and status endpoints may change) and table columns.
#pragma once

#include <vector>

#include "devcluster/resource_type.h"

namespace aidi::devcluster {

// Each carries its structural schema (devcluster/builtin_schemas): writes prune unknown fields
// and report them per fieldValidation, as upstream's typed decoding does.
std::vector<ResourceTypePtr> BuiltinResourceTypes();

// Drops the fields of `object`'s metadata that ObjectMeta does not declare (a root's metadata
// is out of StructuralSchema::Prune's reach) and returns their paths ("metadata.bogus"), sorted.
std::vector<std::string> PruneBuiltinMetadata(nlohmann::json& object);

// Validation shared by every kind: metadata.name/generateName, namespace, labels, annotations,
// finalizers, ownerReferences. `name_is_dns_label` selects the stricter name rule.
void ValidateObjectMeta(const nlohmann::json& meta, bool namespaced, bool name_is_dns_label,
                        FieldErrorList& errs);

// Kubernetes name rules; empty string when valid, otherwise upstream's message.
std::string DnsSubdomainError(const std::string& value);
std::string DnsLabelError(const std::string& value);

}  // namespace aidi::devcluster
