// DesignMatrix: the rows a model is trained on, as a view of the input columns plus what is needed
// to standardise them on the fly: z = (x - mean) / scale with the population standard deviation.
//
// BuildDesignMatrix() looks the feature and label columns up by name, checks their types (and, for
// logistic regression, that labels are 0 or 1), picks the rows where no feature and not the label
// is NULL or non-finite, and measures each feature over those rows. A feature that is constant
// there is left out (its weight is 0; the bias absorbs it). Nothing row-sized is copied: row
// passes read blocks through Block(), so training needs no second copy of the table (the GPU path
// calls Materialize() to upload one). It borrows the columns, which must outlive it. Immutable
// once built: share it between threads for reading.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "base/status.h"
#include "cuda-workers/duckdb/column.h"
#include "cuda-workers/ml/train_params.h"

namespace aidi::worker::ml {

struct DesignMatrix {
  size_t rows = 0;                             // rows used
  size_t rows_skipped = 0;                     // rows with a NULL or non-finite feature or label
  std::vector<const duckdb::Column*> columns;  // the used (non-constant) features' columns
  const duckdb::Column* label = nullptr;
  std::vector<size_t> keep;    // input row of each used row; empty: all rows
  std::vector<size_t> active;  // columns[k] is feature active[k] of the params
  std::vector<double> mean;    // per feature of the params
  std::vector<double> scale;   // per feature of the params; 0 when constant
  double label_mean = 0;       // over the rows used
  double label_sst = 0;        // Σ (y - label_mean)² over the rows used

  size_t cols() const { return active.size(); }

  // Writes used rows [begin, begin + len) standardised into z (column-major, leading dimension
  // ld >= len, cols() columns) and their labels into y.
  void Block(size_t begin, size_t len, double* z, size_t ld, double* y) const;
  // All used rows: z as rows × cols() column-major, and the labels.
  void Materialize(std::vector<double>* z, std::vector<double>* y) const;
};

// Fails with InvalidArgument naming the column (and, for a bad label, the row and value).
[[nodiscard]] StatusOr<DesignMatrix> BuildDesignMatrix(const TrainParams& params,
                                                       std::span<const duckdb::Column> columns,
                                                       int threads);

// The column called `name`, or an InvalidArgument naming `role` and listing the columns:
// "<role> 'x' is not a column of the input (columns: a, b)". Shared with predict.
[[nodiscard]] StatusOr<const duckdb::Column*> FindColumn(std::span<const duckdb::Column> columns,
                                                         const std::string& name,
                                                         std::string_view role);

// Fails unless `column` is BIGINT, DOUBLE or BOOLEAN: "<role> 'x' is VARCHAR; ...".
[[nodiscard]] Status CheckNumeric(const duckdb::Column& column, std::string_view role);

// Row `row` of a numeric column as a double (0 for NULL, as the column stores it).
inline double NumericValue(const duckdb::Column& c, size_t row) {
  switch (c.type) {
    case duckdb::ColumnType::kDouble:
      return c.doubles[row];
    case duckdb::ColumnType::kInt64:
      return static_cast<double>(c.int64s[row]);
    case duckdb::ColumnType::kBool:
      return c.bools[row] != 0 ? 1.0 : 0.0;
    case duckdb::ColumnType::kVarchar:
      break;
  }
  return 0.0;  // unreachable: CheckNumeric() rejected VARCHAR columns before any read
}

}  // namespace aidi::worker::ml
