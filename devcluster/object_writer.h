// The rules every write follows, whatever the verb: how a new object is completed and checked
// on create (server-set metadata, defaults, schema pruning and validation), and how an updated
// object is reconciled with the stored one (optimistic concurrency, status subresource split,
// immutable metadata, finalizer rules, generation). Used by create, update, patch, apply and
// the server's own internal writes, so they all agree. Pure functions of their inputs.
#pragma once

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "devcluster/resource_type.h"
#include "devcluster/store.h"
#include "kube/core/api_status.h"

namespace aidi::devcluster {

enum class FieldValidation { kIgnore, kWarn, kStrict };

struct WriteContext {
  const ResourceType& rt;
  Clock::WallTime now;
  FieldValidation field_validation = FieldValidation::kWarn;
  std::vector<std::string>* warnings = nullptr;  // unknown-field warnings (Warn mode)
  // The JSON request body a create or update decoded `obj` from, if any: built-in kinds report
  // unknown fields in its document order, as upstream's decoder meets them (otherwise, as for a
  // patch's result, in key order).
  std::string_view json_body;
};

// Completes and validates an object for create. `body` already carries the final
// namespace and name (the caller checked them against the URL and applied generateName).
std::variant<kube::ApiError, nlohmann::json> PrepareCreate(const WriteContext& wc,
                                                           nlohmann::json body);

// Reconciles `incoming` (from PUT, PATCH or apply) with the stored `current`; `subresource` is
// "" or "status". Returns the mutation to apply (a put, a delete when the last finalizer went
// away from an object being deleted) or the error to answer.
std::variant<kube::ApiError, Mutation> PrepareUpdate(const WriteContext& wc,
                                                     const StoredObject& current,
                                                     nlohmann::json incoming,
                                                     const std::string& subresource);

// Checks the JSON types of apiVersion, kind and the ObjectMeta fields (400 naming the field, as
// the apiserver's decoder does) and drops null metadata fields (null means absent).
std::optional<kube::ApiError> CheckMetaTypes(const ResourceType& rt, nlohmann::json& obj);

// Checks apiVersion/kind against the endpoint's type (400 when they disagree).
std::optional<kube::ApiError> CheckTypeMeta(const ResourceType& rt, nlohmann::json& body);

}  // namespace aidi::devcluster
