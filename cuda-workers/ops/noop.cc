// noop: the input, copied to the output (tests and demos; a format change on the way is free).
#include "cuda-workers/ops/op.h"
#include "cuda-workers/ops/sql_util.h"

namespace aidi::worker {

StatusOr<OpOutcome> RunNoop(OpContext& ctx) {
  if (Status s = ctx.params().ExpectKeys({}); !s.ok()) return s;
  if (auto gpu = ctx.UseGpu(false, std::nullopt); !gpu.ok()) return gpu.status();
  auto input = ctx.OpenInput({});
  if (!input.ok()) return input.status();
  auto written = WriteRows(ctx.db(), *input, "SELECT * FROM " + Input(), ctx.request().output);
  if (!written.ok()) return written.status();
  OpOutcome out;
  out.rows_in = written->rows_read;
  out.rows_out = written->rows;
  return out;
}

}  // namespace aidi::worker
