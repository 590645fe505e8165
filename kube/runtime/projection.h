// Projection: the fields of an object a cache keeps, so that a cached object costs a small
// fraction of its JSON. A Store (store.h) applies one to every object before caching it.
//
// A caller declares the fields it reads as dotted paths: "spec.nodeName", "status.conditions",
// "metadata.annotations". Apply() copies just those out of a full object. Each step of a path
// names an object field; where a step meets an array, the rest of the path applies to every
// element, and a `[]` may mark such a step for the reader's sake: "spec.containers[].image" (the
// same as "spec.containers.image") keeps each container's image and nothing else of it. A path
// that ends at an object or array keeps all of it; a field the object lacks is simply absent
// from the result. Field names are made of letters, digits, '_', '-' and '$'; a label or
// annotation key cannot be named on its own (keep metadata.labels or metadata.annotations).
//
// Always kept, whatever was declared, because the store, its indexes and the controller loop
// rely on them:
//   apiVersion, kind, metadata.name, metadata.namespace, metadata.uid,
//   metadata.resourceVersion, metadata.generation, metadata.creationTimestamp,
//   metadata.deletionTimestamp, metadata.labels (label index, selectors),
//   metadata.ownerReferences (owner index, mapping owned objects to their owner),
//   metadata.finalizers (the finalizer helper)
// Always stripped, from a whole-object projection too (large, and nothing reads them from a
// cache): metadata.managedFields, and the annotation
// kubectl.kubernetes.io/last-applied-configuration (an annotations object that held only it is
// removed). Declaring metadata.managedFields is an error.
//
// The whole-object projection (no paths, or the single path "*") keeps everything else.
//
// Immutable after construction: share one between threads freely.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace aidi::kube {

class Projection {
 public:
  // The whole object (minus the always-stripped fields).
  Projection();

  // Validates and compiles `paths`. Empty, or exactly {"*"}: the whole object. Rejects (as
  // InvalidArgument, naming the path) an empty path or step, a character outside the field-name
  // alphabet, a misplaced `[]`, "*" next to other paths, and metadata.managedFields.
  static StatusOr<Projection> Parse(const std::vector<std::string>& paths);
  static Projection Whole() { return Projection(); }

  // The projected copy of `full`. A value that is not a JSON object is returned unchanged.
  nlohmann::json Apply(const nlohmann::json& full) const;
  // The same, reusing `full`'s storage (no copy of the fields kept).
  nlohmann::json Apply(nlohmann::json&& full) const;

  bool whole() const { return root_ == nullptr; }
  // The declared paths, sorted and deduplicated, as given ("[]" kept); empty when whole().
  const std::vector<std::string>& paths() const { return paths_; }
  // "*" or the declared paths joined by ", ".
  std::string ToString() const;

  struct Node;  // the compiled path tree; defined in projection.cc

 private:
  std::shared_ptr<const Node> root_;  // null: the whole object
  std::vector<std::string> paths_;
};

}  // namespace aidi::kube
