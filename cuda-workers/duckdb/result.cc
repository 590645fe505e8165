#include "cuda-workers/duckdb/result.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>

#include "cuda-workers/duckdb/error.h"

namespace aidi::worker::duckdb {
namespace {

// Frees a data chunk when the scope ends.
struct ChunkOwner {
  duckdb_data_chunk chunk;
  ~ChunkOwner() { duckdb_destroy_data_chunk(&chunk); }
};

// Appends `n` validity bytes expanded from DuckDB's bit mask (NULL mask pointer: all valid).
// Returns whether any row was NULL.
bool AppendValidity(const uint64_t* words, size_t n, std::vector<uint8_t>& out) {
  const size_t base = out.size();
  out.resize(base + n, 1);
  if (words == nullptr) return false;
  uint8_t* dst = out.data() + base;
  bool any_null = false;
  for (size_t w = 0; w * 64 < n; ++w) {
    const uint64_t word = words[w];
    if (word == ~uint64_t{0}) continue;  // 64 valid rows: already 1
    any_null = true;
    const size_t end = std::min(n, w * 64 + 64);
    for (size_t i = w * 64; i < end; ++i) dst[i] = static_cast<uint8_t>((word >> (i % 64)) & 1);
  }
  return any_null;
}

// Appends `n` values of DuckDB type `From` widened to `To`, then zeroes the NULL slots.
template <typename From, typename To>
void AppendValues(const void* data, size_t n, const uint8_t* valid, bool any_null,
                  std::vector<To>& out) {
  const size_t base = out.size();
  const From* src = static_cast<const From*>(data);
  // One pass that converts as it copies (a memcpy when the types match).
  out.insert(out.end(), src, src + n);
  To* dst = out.data() + base;
  if (any_null) {
    for (size_t i = 0; i < n; ++i) {
      if (!valid[i]) dst[i] = To{};
    }
  }
}

// duckdb_string_t is documented in duckdb.h: up to 12 bytes inline, otherwise a pointer.
const char* StringData(const duckdb_string_t& s) {
  return s.value.inlined.length <= 12 ? s.value.inlined.inlined : s.value.pointer.ptr;
}

// Sizes the character buffer once per chunk, then copies each valid string into place.
void AppendStrings(const void* data, size_t n, const uint8_t* valid, Column& col) {
  const auto* strings = static_cast<const duckdb_string_t*>(data);
  size_t bytes = 0;
  for (size_t i = 0; i < n; ++i) bytes += valid[i] ? strings[i].value.inlined.length : 0;
  size_t pos = col.chars.size();
  col.chars.resize(pos + bytes);
  char* dst = col.chars.data();
  for (size_t i = 0; i < n; ++i) {
    if (valid[i]) {
      const uint32_t len = strings[i].value.inlined.length;
      std::memcpy(dst + pos, StringData(strings[i]), len);
      pos += len;
    }
    col.offsets.push_back(pos);
  }
}

void AppendVector(duckdb_type type, duckdb_vector vector, size_t n, Column& col) {
  const size_t base = col.validity.size();
  const bool any_null = AppendValidity(duckdb_vector_get_validity(vector), n, col.validity);
  const uint8_t* valid = col.validity.data() + base;
  const void* data = duckdb_vector_get_data(vector);
  switch (type) {
    case DUCKDB_TYPE_BOOLEAN:
      AppendValues<uint8_t, uint8_t>(data, n, valid, any_null, col.bools);
      break;
    case DUCKDB_TYPE_TINYINT:
      AppendValues<int8_t, int64_t>(data, n, valid, any_null, col.int64s);
      break;
    case DUCKDB_TYPE_SMALLINT:
      AppendValues<int16_t, int64_t>(data, n, valid, any_null, col.int64s);
      break;
    case DUCKDB_TYPE_INTEGER:
      AppendValues<int32_t, int64_t>(data, n, valid, any_null, col.int64s);
      break;
    case DUCKDB_TYPE_BIGINT:
      AppendValues<int64_t, int64_t>(data, n, valid, any_null, col.int64s);
      break;
    case DUCKDB_TYPE_UTINYINT:
      AppendValues<uint8_t, int64_t>(data, n, valid, any_null, col.int64s);
      break;
    case DUCKDB_TYPE_USMALLINT:
      AppendValues<uint16_t, int64_t>(data, n, valid, any_null, col.int64s);
      break;
    case DUCKDB_TYPE_UINTEGER:
      AppendValues<uint32_t, int64_t>(data, n, valid, any_null, col.int64s);
      break;
    case DUCKDB_TYPE_FLOAT:
      AppendValues<float, double>(data, n, valid, any_null, col.doubles);
      break;
    case DUCKDB_TYPE_DOUBLE:
      AppendValues<double, double>(data, n, valid, any_null, col.doubles);
      break;
    case DUCKDB_TYPE_VARCHAR:
      AppendStrings(data, n, valid, col);
      break;
    default:
      // Cannot happen: FetchColumns checked every column with HostType first.
      std::abort();
  }
}

}  // namespace

void Result::Destroy::operator()(duckdb_result* r) const {
  duckdb_destroy_result(r);
  delete r;
}

size_t Result::column_count() const { return duckdb_column_count(result_.get()); }

std::string Result::column_name(size_t column) const {
  const char* name = duckdb_column_name(result_.get(), column);
  return name != nullptr ? name : "";
}

duckdb_type Result::column_type(size_t column) const {
  return duckdb_column_type(result_.get(), column);
}

uint64_t Result::row_count() const {
  // Deprecated in DuckDB 1.4 but the only way to learn a materialized result's size up front,
  // which FetchColumns uses to reserve capacity exactly.
  return duckdb_row_count(result_.get());
}

uint64_t Result::rows_changed() const { return duckdb_rows_changed(result_.get()); }

StatusOr<ColumnType> Result::HostType(size_t column) const {
  const duckdb_type type = column_type(column);
  switch (type) {
    case DUCKDB_TYPE_BOOLEAN:
      return ColumnType::kBool;
    case DUCKDB_TYPE_TINYINT:
    case DUCKDB_TYPE_SMALLINT:
    case DUCKDB_TYPE_INTEGER:
    case DUCKDB_TYPE_BIGINT:
    case DUCKDB_TYPE_UTINYINT:
    case DUCKDB_TYPE_USMALLINT:
    case DUCKDB_TYPE_UINTEGER:
      return ColumnType::kInt64;
    case DUCKDB_TYPE_FLOAT:
    case DUCKDB_TYPE_DOUBLE:
      return ColumnType::kDouble;
    case DUCKDB_TYPE_VARCHAR:
      return ColumnType::kVarchar;
    default:
      return Status::InvalidArgument("column \"" + column_name(column) + "\" has DuckDB type " +
                                     std::string(DuckDbTypeName(type)) +
                                     "; CAST it to BIGINT, DOUBLE, BOOLEAN or VARCHAR in SQL");
  }
}

StatusOr<std::vector<Column>> Result::FetchColumns() {
  const size_t columns = column_count();
  const size_t rows = row_count();
  std::vector<Column> out(columns);
  std::vector<duckdb_type> types(columns);
  for (size_t c = 0; c < columns; ++c) {
    AIDI_ASSIGN_OR_RETURN(out[c].type, HostType(c));
    out[c].name = column_name(c);
    types[c] = column_type(c);
    out[c].validity.reserve(rows);
    switch (out[c].type) {
      case ColumnType::kBool:
        out[c].bools.reserve(rows);
        break;
      case ColumnType::kInt64:
        out[c].int64s.reserve(rows);
        break;
      case ColumnType::kDouble:
        out[c].doubles.reserve(rows);
        break;
      case ColumnType::kVarchar:
        out[c].offsets.reserve(rows + 1);
        out[c].offsets.push_back(0);
        break;
    }
  }
  while (duckdb_data_chunk chunk = duckdb_fetch_chunk(*result_)) {
    ChunkOwner owner{chunk};
    const size_t n = duckdb_data_chunk_get_size(chunk);
    for (size_t c = 0; c < columns; ++c) {
      AppendVector(types[c], duckdb_data_chunk_get_vector(chunk, c), n, out[c]);
    }
  }
  return out;
}

}  // namespace aidi::worker::duckdb
