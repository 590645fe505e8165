// filter: the rows where `where` is true. SQL's WHERE keeps exactly those (null and false go).
#include "cuda-workers/expr/sql.h"
#include "cuda-workers/ops/gpu_ops.h"
#include "cuda-workers/ops/op.h"
#include "cuda-workers/ops/sql_util.h"

namespace aidi::worker {

StatusOr<OpOutcome> RunFilter(OpContext& ctx) {
  Params params = ctx.params();
  if (Status s = params.ExpectKeys({"where"}); !s.ok()) return s;
  auto input = ctx.OpenInput();
  if (!input.ok()) return input.status();
  auto where = ctx.BindExpression(*input, params.At("where"));
  if (!where.ok()) return where.status();
  if (where->type != expr::Type::kBool) {
    return params.At("where").Error(std::string("must be a condition (a Bool expression), not ") +
                                    expr::TypeName(where->type));
  }
  auto gpu = ctx.UseGpu(GpuFilterPossible(*where), input->rows());
  if (!gpu.ok()) return gpu.status();
  if (*gpu) {
    auto rows_in = input->CountRows(ctx.db());
    if (!rows_in.ok()) return rows_in.status();
    auto on_gpu = GpuFilter(ctx, *input, *where, *rows_in);
    if (!ctx.FallBackToCpu(on_gpu)) return on_gpu;
  }

  return ctx.WriteOutput(*input, "SELECT * FROM " + Input() + " WHERE " + expr::ToSql(*where));
}

}  // namespace aidi::worker
