#include "costmodel/evaluate.h"

namespace aidi::costmodel {

std::optional<size_t> Evaluate(const Estimator& estimator, const Demand& demand,
                               std::span<const NodeOffer> nodes, std::vector<NodeEstimate>* out) {
  estimator.EstimateAll(demand, nodes, out);
  Score(EffectiveWeights(demand), *out);
  return Best(*out);
}

std::optional<size_t> Evaluate(const Estimator& estimator, const Demand& demand,
                               std::span<const OfferRef> nodes, std::vector<NodeEstimate>* out) {
  estimator.EstimateAll(demand, nodes, out);
  Score(EffectiveWeights(demand), *out);
  return Best(*out);
}

}  // namespace aidi::costmodel
