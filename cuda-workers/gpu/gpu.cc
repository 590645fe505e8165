// gpu.h on top of device.h: upload the inputs, run the device primitive, download the result.
// Built only with CUDA (gpu_none.cc stands in otherwise).
#include "cuda-workers/gpu/gpu.h"

#include <string>
#include <utility>
#include <vector>

#include "cuda-workers/gpu/device.h"

namespace aidi::worker::gpu {
namespace {

using device::DeviceColumn;

Status RequireDevice() {
  if (!Available()) return Status::Unavailable("gpu: " + DeviceDescription());
  return Status::Ok();
}

StatusOr<std::vector<DeviceColumn>> UploadAll(std::span<const Column> columns) {
  std::vector<DeviceColumn> out;
  out.reserve(columns.size());
  for (const Column& c : columns) {
    AIDI_ASSIGN_OR_RETURN(DeviceColumn d, device::Upload(c));
    out.push_back(std::move(d));
  }
  return out;
}

std::vector<const DeviceColumn*> Pointers(const std::vector<DeviceColumn>& columns) {
  std::vector<const DeviceColumn*> out;
  out.reserve(columns.size());
  for (const DeviceColumn& c : columns) out.push_back(&c);
  return out;
}

StatusOr<std::vector<Column>> DownloadAll(const std::vector<DeviceColumn>& columns) {
  std::vector<Column> out;
  out.reserve(columns.size());
  for (const DeviceColumn& d : columns) {
    AIDI_ASSIGN_OR_RETURN(Column c, device::Download(d));
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace

StatusOr<Column> Evaluate(const expr::Program& program, std::span<const Column> columns,
                          size_t rows) {
  AIDI_RETURN_IF_ERROR(RequireDevice());
  if (program.uses_strings) {
    return Status::Unavailable("gpu evaluate: expressions with strings run on the CPU");
  }
  std::vector<DeviceColumn> slots;
  slots.reserve(program.columns.size());
  for (const int32_t index : program.columns) {
    if (index < 0 || static_cast<size_t>(index) >= columns.size()) {
      return Status::InvalidArgument("gpu evaluate: column " + std::to_string(index) +
                                     " is missing (" + std::to_string(columns.size()) +
                                     " columns given)");
    }
    AIDI_ASSIGN_OR_RETURN(DeviceColumn d, device::Upload(columns[static_cast<size_t>(index)]));
    slots.push_back(std::move(d));
  }
  const std::vector<const DeviceColumn*> ptrs = Pointers(slots);
  AIDI_ASSIGN_OR_RETURN(DeviceColumn out, device::Evaluate(program, ptrs, rows));
  return device::Download(out);
}

StatusOr<std::vector<Column>> Filter(const Column& mask, std::span<const Column> columns) {
  AIDI_RETURN_IF_ERROR(RequireDevice());
  AIDI_ASSIGN_OR_RETURN(DeviceColumn d_mask, device::Upload(mask));
  AIDI_ASSIGN_OR_RETURN(std::vector<DeviceColumn> d_cols, UploadAll(columns));
  const std::vector<const DeviceColumn*> ptrs = Pointers(d_cols);
  AIDI_ASSIGN_OR_RETURN(std::vector<DeviceColumn> out, device::Filter(d_mask, ptrs));
  return DownloadAll(out);
}

StatusOr<ColumnStats> Stats(const Column& column) {
  AIDI_RETURN_IF_ERROR(RequireDevice());
  AIDI_ASSIGN_OR_RETURN(DeviceColumn d, device::Upload(column));
  return device::Stats(d);
}

StatusOr<Column> Normalize(const Column& column, NormalizeMethod method, const ColumnStats& stats,
                           ZeroRange on_zero_range) {
  AIDI_RETURN_IF_ERROR(RequireDevice());
  AIDI_ASSIGN_OR_RETURN(DeviceColumn d, device::Upload(column));
  AIDI_ASSIGN_OR_RETURN(DeviceColumn out, device::Normalize(d, method, stats, on_zero_range));
  return device::Download(out);
}

StatusOr<HistogramResult> Histogram(const Column& column, int64_t bins, double min, double max) {
  AIDI_RETURN_IF_ERROR(RequireDevice());
  AIDI_ASSIGN_OR_RETURN(DeviceColumn d, device::Upload(column));
  return device::Histogram(d, bins, min, max);
}

StatusOr<std::vector<Column>> GroupBy(std::span<const Column> keys, std::span<const Column> values,
                                      std::span<const Aggregate> aggregates) {
  AIDI_RETURN_IF_ERROR(RequireDevice());
  AIDI_ASSIGN_OR_RETURN(std::vector<DeviceColumn> d_keys, UploadAll(keys));
  AIDI_ASSIGN_OR_RETURN(std::vector<DeviceColumn> d_values, UploadAll(values));
  return device::GroupBy(Pointers(d_keys), Pointers(d_values), aggregates);
}

StatusOr<std::vector<int64_t>> SortIndices(std::span<const Column> keys,
                                           std::span<const SortDirection> directions,
                                           std::optional<size_t> limit) {
  AIDI_RETURN_IF_ERROR(RequireDevice());
  AIDI_ASSIGN_OR_RETURN(std::vector<DeviceColumn> d_keys, UploadAll(keys));
  AIDI_ASSIGN_OR_RETURN(device::DeviceIndices order,
                        device::SortIndices(Pointers(d_keys), directions, limit));
  return device::DownloadIndices(order);
}

StatusOr<std::vector<Column>> Gather(std::span<const Column> columns,
                                     std::span<const int64_t> indices) {
  AIDI_RETURN_IF_ERROR(RequireDevice());
  std::vector<Column> out;
  if (columns.empty()) return out;
  const size_t rows = columns[0].size();
  for (const Column& c : columns) {
    if (c.size() != rows) return Status::InvalidArgument("gpu gather: columns differ in rows");
  }
  AIDI_ASSIGN_OR_RETURN(device::DeviceIndices d_idx, device::UploadIndices(indices, rows));
  for (const Column& c : columns) {
    AIDI_ASSIGN_OR_RETURN(DeviceColumn d, device::Upload(c));
    AIDI_ASSIGN_OR_RETURN(DeviceColumn g, device::Gather(d, d_idx));
    AIDI_ASSIGN_OR_RETURN(Column h, device::Download(g));
    out.push_back(std::move(h));
  }
  return out;
}

}  // namespace aidi::worker::gpu
