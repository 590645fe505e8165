// The aidi.dev/v1alpha1 resources the operator serves, as kube ResourceRefs.
#pragma once

#include "kube/core/resource.h"

namespace aidi::op {

inline const kube::ResourceRef kPipelines{"aidi.dev", "v1alpha1", "pipelines", "Pipeline", true};
inline const kube::ResourceRef kEdgeSites{"aidi.dev", "v1alpha1", "edgesites", "EdgeSite", false};

}  // namespace aidi::op
