// ThroughputTable: how fast one GPU of each product runs a stage, relative to the reference
// GPU (NVIDIA A100, = 1.0), keyed by the nvidia.com/gpu.product label value.
//
// A stage's work is given in reference-GPU seconds (workGpuSeconds); a GPU with throughput r
// does it in work / r seconds. The built-in figures (README.md lists them) are rough public
// numbers, dense BF16/FP16 tensor throughput tempered by published training and inference
// comparisons; they order the products sensibly and are not benchmarks. Set() overrides or adds
// entries (e.g. from a measured benchmark or a ConfigMap).
//
// Lookup is exact first, then by family: the label with its last "-segment" removed, repeatedly
// ("NVIDIA-A100-SXM4-80GB" → "NVIDIA-A100-SXM4" → "NVIDIA-A100"), so an unlisted variant gets
// its family's figure. A product with no match gets default_throughput(). Lookups allocate
// nothing. Thread safety: const methods may run concurrently; Set() needs exclusive access.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace aidi::costmodel {

class ThroughputTable {
 public:
  // The product every figure is relative to.
  static constexpr std::string_view kReferenceGpu = "NVIDIA-A100-SXM4-80GB";
  // For products that match no entry: a conservative mid-range figure (about a V100).
  static constexpr double kDefaultThroughput = 0.5;

  // An empty table: every product gets default_throughput().
  ThroughputTable() = default;

  // The built-in table (README.md, "Throughput table").
  static const ThroughputTable& BuiltIn();

  // Adds or replaces the figure for a product or family. InvalidArgument when `model` is empty
  // or `relative` is not a finite number > 0.
  [[nodiscard]] Status Set(std::string_view model, double relative);

  // Changes the figure for unmatched products. InvalidArgument unless finite and > 0.
  [[nodiscard]] Status SetDefault(double relative);

  // The figure for a product (see above); never <= 0.
  double Lookup(std::string_view model) const;

  double default_throughput() const { return default_; }

  // Entries sorted by product name.
  const std::vector<std::pair<std::string, double>>& entries() const { return entries_; }

 private:
  // nullptr when `key` is not an entry.
  const double* Find(std::string_view key) const;

  std::vector<std::pair<std::string, double>> entries_;  // sorted by name, unique
  double default_ = kDefaultThroughput;
};

}  // namespace aidi::costmodel
