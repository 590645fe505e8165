#include "cuda-workers/ops/sql_util.h"

namespace aidi::worker {

StatusOr<std::vector<std::vector<std::string>>> StringRows(duckdb::Connection& db,
                                                           std::string_view sql) {
  auto result = db.Query(sql);
  if (!result.ok()) return result.status();
  auto columns = result->FetchColumns();
  if (!columns.ok()) return columns.status();
  std::vector<std::vector<std::string>> rows;
  const size_t n = columns->empty() ? 0 : (*columns)[0].size();
  for (size_t r = 0; r < n; ++r) {
    std::vector<std::string>& row = rows.emplace_back();
    for (const duckdb::Column& c : *columns) {
      row.push_back(c.IsNull(r) ? std::string() : std::string(c.Varchar(r)));
    }
  }
  return rows;
}

}  // namespace aidi::worker
