#include "costmodel/throughput.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace aidi::costmodel {
namespace {

// Rough public figures relative to an A100 (README.md, "Throughput table").
constexpr std::pair<std::string_view, double> kBuiltIn[] = {
    // Data-centre GPUs.
    {"NVIDIA-A100", 1.0},
    {"NVIDIA-A100-SXM4-80GB", 1.0},
    {"NVIDIA-A100-SXM4-40GB", 1.0},
    {"NVIDIA-A100-80GB-PCIe", 0.9},
    {"NVIDIA-A100-PCIE-40GB", 0.9},
    {"NVIDIA-A30", 0.55},
    {"NVIDIA-A10", 0.35},
    {"NVIDIA-A10G", 0.3},
    {"NVIDIA-H100", 2.0},
    {"NVIDIA-H100-80GB-HBM3", 2.5},
    {"NVIDIA-H100-NVL", 2.2},
    {"NVIDIA-H100-PCIe", 2.0},
    {"NVIDIA-H200", 2.8},
    {"NVIDIA-GH200-480GB", 2.8},
    {"NVIDIA-B200", 5.0},
    {"NVIDIA-L40S", 0.8},
    {"NVIDIA-L40", 0.6},
    {"NVIDIA-L4", 0.3},
    {"Tesla-T4", 0.15},
    {"Tesla-V100", 0.4},
    {"Tesla-V100-SXM2-16GB", 0.45},
    {"Tesla-V100-SXM2-32GB", 0.45},
    {"Tesla-P100", 0.12},
    // Workstation and consumer cards found in on-prem racks.
    {"NVIDIA-RTX-A6000", 0.5},
    {"NVIDIA-GeForce-RTX-4090", 0.6},
    {"NVIDIA-GeForce-RTX-3090", 0.35},
    // Edge modules (labels vary by device plugin; override to match yours).
    {"NVIDIA-Jetson", 0.03},
    {"NVIDIA-Jetson-AGX-Orin", 0.1},
    {"NVIDIA-Jetson-Orin-NX", 0.05},
    {"NVIDIA-Jetson-Orin-Nano", 0.025},
    {"NVIDIA-Jetson-AGX-Xavier", 0.04},
};

bool UsableThroughput(double v) { return std::isfinite(v) && v > 0; }

ThroughputTable MakeBuiltIn() {
  ThroughputTable table;
  for (const auto& [model, relative] : kBuiltIn) {
    Status s = table.Set(model, relative);
    // Cannot fail: every built-in entry has a name and a positive figure.
    if (!s.ok()) std::abort();
  }
  return table;
}

}  // namespace

const ThroughputTable& ThroughputTable::BuiltIn() {
  static const ThroughputTable* const table = new ThroughputTable(MakeBuiltIn());
  return *table;
}

Status ThroughputTable::Set(std::string_view model, double relative) {
  if (model.empty()) return Status::InvalidArgument("throughput: the GPU product is empty");
  if (!UsableThroughput(relative)) {
    return Status::InvalidArgument("throughput of " + std::string(model) +
                                   " must be a finite number > 0");
  }
  auto it = std::lower_bound(entries_.begin(), entries_.end(), model,
                             [](const auto& e, std::string_view m) { return e.first < m; });
  if (it != entries_.end() && it->first == model) {
    it->second = relative;
  } else {
    entries_.insert(it, {std::string(model), relative});
  }
  return Status::Ok();
}

Status ThroughputTable::SetDefault(double relative) {
  if (!UsableThroughput(relative)) {
    return Status::InvalidArgument("default throughput must be a finite number > 0");
  }
  default_ = relative;
  return Status::Ok();
}

const double* ThroughputTable::Find(std::string_view key) const {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), key,
                             [](const auto& e, std::string_view k) { return e.first < k; });
  if (it != entries_.end() && it->first == key) return &it->second;
  return nullptr;
}

double ThroughputTable::Lookup(std::string_view model) const {
  std::string_view key = model;
  while (!key.empty()) {
    if (const double* v = Find(key)) return *v;
    size_t dash = key.rfind('-');
    if (dash == std::string_view::npos) break;
    key = key.substr(0, dash);
  }
  return default_;
}

}  // namespace aidi::costmodel
