// select: keep `columns` (all when absent) and add `derive`d ones, in the order written. A
// derived name that is an input column replaces it when `columns` is absent.
#include <set>

#include "cuda-workers/expr/sql.h"
#include "cuda-workers/ops/gpu_ops.h"
#include "cuda-workers/ops/op.h"
#include "cuda-workers/ops/sql_util.h"

namespace aidi::worker {

StatusOr<OpOutcome> RunSelect(OpContext& ctx) {
  Params params = ctx.params();
  if (Status s = params.ExpectKeys({"columns", "derive"}); !s.ok()) return s;
  auto input = ctx.OpenInput();
  if (!input.ok()) return input.status();
  auto columns = params.At("columns").Strings();
  if (!columns.ok()) return columns.status();
  const bool all = params.At("columns").is_null();
  for (size_t i = 0; i < columns->size(); ++i) {
    auto c = input->Find((*columns)[i], params.At("columns").Index(i).path());
    if (!c.ok()) return c.status();
  }
  Params derive = params.At("derive");
  if (!derive.is_null() && !derive.json().is_object()) {
    return derive.Error("must be an object of name: expression");
  }
  if (!all && columns->empty() && (derive.is_null() || derive.json().empty())) {
    return params.Error("selects no column: give columns, derive or both");
  }
  std::vector<DerivedColumn> derived;
  if (derive.json().is_object()) {
    const std::set<std::string> kept(columns->begin(), columns->end());
    for (const auto& [name, unused] : derive.json().items()) {
      Params p = derive.At(name);
      if (name.empty()) return derive.Error("a derived column needs a name");
      if (kept.count(name) > 0) {
        return p.Error("is also in params.columns; derive it under another name");
      }
      auto bound = ctx.BindExpression(*input, p);
      if (!bound.ok()) return bound.status();
      derived.push_back({name, std::move(*bound)});
    }
  }
  auto gpu = ctx.UseGpu(GpuSelectPossible(derived), input->rows());
  if (!gpu.ok()) return gpu.status();
  if (*gpu) {
    auto rows_in = input->CountRows(ctx.db());
    if (!rows_in.ok()) return rows_in.status();
    auto on_gpu =
        GpuSelect(ctx, *input, all ? std::nullopt : std::optional(*columns), derived, *rows_in);
    if (!ctx.FallBackToCpu(on_gpu)) return on_gpu;
  }

  std::string list;
  auto add = [&](const std::string& item) { list += (list.empty() ? "" : ", ") + item; };
  std::set<std::string> replaced;
  if (all) {
    for (const InputColumn& c : input->columns()) {
      const DerivedColumn* d = nullptr;
      for (const DerivedColumn& x : derived) {
        if (x.name == c.name) d = &x;
      }
      if (d != nullptr) {
        add(expr::ToSql(d->expr) + " AS " + QuoteIdentifier(d->name));
        replaced.insert(d->name);
      } else {
        add(QuoteIdentifier(c.name));
      }
    }
  } else {
    for (const std::string& c : *columns) add(QuoteIdentifier(c));
  }
  for (const DerivedColumn& d : derived) {
    if (replaced.count(d.name) == 0) add(expr::ToSql(d.expr) + " AS " + QuoteIdentifier(d.name));
  }
  return ctx.WriteOutput(*input, "SELECT " + list + " FROM " + Input());
}

}  // namespace aidi::worker
