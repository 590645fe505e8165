#include "cuda-workers/ml/design_matrix.h"

#include <charconv>
#include <cmath>
#include <string>

#include "cuda-workers/ml/parallel.h"

namespace aidi::worker::ml {
namespace {

constexpr size_t kRowsPerThread = 16384;  // below this, another thread costs more than it saves

using duckdb::Column;
using duckdb::ColumnType;

// Whether row `row` holds a usable value: not NULL and, for doubles, finite.
inline bool Usable(const Column& c, size_t row) {
  if (c.validity[row] == 0) return false;
  return c.type != ColumnType::kDouble || std::isfinite(c.doubles[row]);
}

std::string FormatValue(const Column& c, size_t row) {
  if (c.type == ColumnType::kInt64) return std::to_string(c.int64s[row]);
  if (c.type == ColumnType::kBool) return c.bools[row] != 0 ? "true" : "false";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), c.doubles[row]);
  return std::string(buf, end);
}

// Calls fn(values) with the column's value vector (doubles, int64s or bools).
template <typename Fn>
void WithValues(const Column& c, Fn&& fn) {
  switch (c.type) {
    case ColumnType::kDouble:
      fn(c.doubles);
      return;
    case ColumnType::kInt64:
      fn(c.int64s);
      return;
    case ColumnType::kBool:
      fn(c.bools);
      return;
    case ColumnType::kVarchar:
      return;  // unreachable: CheckNumeric() rejected VARCHAR columns
  }
}

// out[i] = (x[row(begin + i)] - shift) * factor for i < len, row() through `keep` when not empty.
void Gather(const Column& c, const std::vector<size_t>& keep, size_t begin, size_t len,
            double shift, double factor, double* out) {
  WithValues(c, [&](const auto& values) {
    if (keep.empty()) {
      const auto* x = values.data() + begin;
      for (size_t i = 0; i < len; ++i) out[i] = (static_cast<double>(x[i]) - shift) * factor;
    } else {
      const size_t* rows = keep.data() + begin;
      for (size_t i = 0; i < len; ++i) {
        out[i] = (static_cast<double>(values[rows[i]]) - shift) * factor;
      }
    }
  });
}

struct Moments {
  double mean = 0;
  double sst = 0;  // Σ (x - mean)²
  bool constant = true;
};

// Mean and spread of a column over the used rows, in two passes (no cancellation).
Moments Measure(const Column& c, const std::vector<size_t>& keep, size_t rows) {
  Moments m;
  WithValues(c, [&](const auto& values) {
    auto at = [&](size_t i) { return static_cast<double>(values[keep.empty() ? i : keep[i]]); };
    const double first = at(0);
    double sum = 0;
    for (size_t i = 0; i < rows; ++i) {
      const double x = at(i);
      sum += x;
      m.constant = m.constant && x == first;
    }
    m.mean = m.constant ? first : sum / static_cast<double>(rows);
    if (m.constant) return;
    for (size_t i = 0; i < rows; ++i) {
      const double d = at(i) - m.mean;
      m.sst += d * d;
    }
  });
  return m;
}

}  // namespace

void DesignMatrix::Block(size_t begin, size_t len, double* z, size_t ld, double* y) const {
  for (size_t k = 0; k < columns.size(); ++k) {
    const size_t f = active[k];
    Gather(*columns[k], keep, begin, len, mean[f], 1.0 / scale[f], z + k * ld);
  }
  Gather(*label, keep, begin, len, 0.0, 1.0, y);
}

void DesignMatrix::Materialize(std::vector<double>* z, std::vector<double>* y) const {
  z->resize(rows * cols());
  y->resize(rows);
  Block(0, rows, z->data(), rows, y->data());
}

StatusOr<const Column*> FindColumn(std::span<const Column> columns, const std::string& name,
                                   std::string_view role) {
  for (const Column& c : columns) {
    if (c.name == name) return &c;
  }
  std::string list;
  for (const Column& c : columns) list += (list.empty() ? "" : ", ") + c.name;
  return Status::InvalidArgument(std::string(role) + " '" + name +
                                 "' is not a column of the input (columns: " + list + ")");
}

Status CheckNumeric(const Column& column, std::string_view role) {
  if (column.type != ColumnType::kVarchar) return Status::Ok();
  return Status::InvalidArgument(std::string(role) + " '" + column.name +
                                 "' is VARCHAR; it must be BIGINT, DOUBLE or BOOLEAN");
}

StatusOr<DesignMatrix> BuildDesignMatrix(const TrainParams& params, std::span<const Column> columns,
                                         int threads) {
  const size_t nf = params.features.size();
  std::vector<const Column*> features(nf);
  for (size_t f = 0; f < nf; ++f) {
    AIDI_ASSIGN_OR_RETURN(features[f], FindColumn(columns, params.features[f], "feature"));
    AIDI_RETURN_IF_ERROR(CheckNumeric(*features[f], "feature"));
  }
  AIDI_ASSIGN_OR_RETURN(const Column* label, FindColumn(columns, params.label, "label"));
  AIDI_RETURN_IF_ERROR(CheckNumeric(*label, "label"));

  const size_t n = label->size();
  for (const Column* c : features) {
    if (c->size() != n) {
      return Status::InvalidArgument("feature '" + c->name + "' has " + std::to_string(c->size()) +
                                     " rows but label '" + label->name + "' has " +
                                     std::to_string(n));
    }
  }

  if (params.model == ModelKind::kLogistic) {
    for (size_t i = 0; i < n; ++i) {
      if (!Usable(*label, i)) continue;
      double v = NumericValue(*label, i);
      if (v != 0.0 && v != 1.0) {
        return Status::InvalidArgument("label '" + label->name +
                                       "' must be 0 or 1 for logistic regression; row " +
                                       std::to_string(i) + " has " + FormatValue(*label, i));
      }
    }
  }

  // Which rows are usable: every feature and the label present and finite.
  std::vector<uint8_t> usable(n);
  ParallelFor(
      n, threads,
      [&](int, size_t begin, size_t end) {
        for (size_t i = begin; i < end; ++i) usable[i] = Usable(*label, i) ? 1 : 0;
        for (const Column* c : features) {
          if (c->type != ColumnType::kDouble) {
            for (size_t i = begin; i < end; ++i) usable[i] &= c->validity[i];
          } else {
            for (size_t i = begin; i < end; ++i) {
              usable[i] &= c->validity[i] & (std::isfinite(c->doubles[i]) ? 1 : 0);
            }
          }
        }
      },
      kRowsPerThread);
  DesignMatrix m;
  m.label = label;
  size_t rows = 0;
  for (uint8_t u : usable) rows += u;
  if (rows != n) {
    m.keep.reserve(rows);
    for (size_t i = 0; i < n; ++i) {
      if (usable[i]) m.keep.push_back(i);
    }
  }
  m.rows = rows;
  m.rows_skipped = n - rows;
  if (rows == 0) {
    if (n == 0) return Status::InvalidArgument("no rows to train on: the input is empty");
    return Status::InvalidArgument("no rows to train on: all " + std::to_string(n) +
                                   " rows have a NULL or non-finite feature or label");
  }

  const Moments y = Measure(*label, m.keep, rows);
  m.label_mean = y.mean;
  m.label_sst = y.sst;
  if (params.model == ModelKind::kLogistic && y.constant) {
    return Status::InvalidArgument("label '" + label->name + "' is " + (y.mean == 0 ? "0" : "1") +
                                   " in all " + std::to_string(rows) +
                                   " rows used; logistic regression needs both classes");
  }

  m.mean.assign(nf, 0.0);
  m.scale.assign(nf, 0.0);
  ParallelFor(nf, rows >= kRowsPerThread ? threads : 1, [&](int, size_t begin, size_t end) {
    for (size_t f = begin; f < end; ++f) {
      const Moments x = Measure(*features[f], m.keep, rows);
      m.mean[f] = x.mean;
      // scale stays 0 for a constant feature: it is left out below.
      if (!x.constant) m.scale[f] = std::sqrt(x.sst / static_cast<double>(rows));
    }
  });
  for (size_t f = 0; f < nf; ++f) {
    if (m.scale[f] == 0) continue;
    m.active.push_back(f);
    m.columns.push_back(features[f]);
  }
  return m;
}

}  // namespace aidi::worker::ml
