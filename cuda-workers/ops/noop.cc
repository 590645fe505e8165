// noop: the input, copied to the output (tests and demos; a format change on the way is free).
#include "cuda-workers/ops/op.h"
#include "cuda-workers/ops/sql_util.h"

namespace aidi::worker {

StatusOr<OpOutcome> RunNoop(OpContext& ctx) {
  if (Status s = ctx.params().ExpectKeys({}); !s.ok()) return s;
  if (auto gpu = ctx.UseGpu(false, std::nullopt); !gpu.ok()) return gpu.status();
  auto input = ctx.OpenInput({});
  if (!input.ok()) return input.status();
  return ctx.WriteOutput(*input, "SELECT * FROM " + Input());
}

}  // namespace aidi::worker
