// train: fits a logistic or linear model (ml/) to feature and label columns and writes it as a
// JSON model. rowsOut counts the rows the fit used; rows with a null or non-finite feature or
// label are rowsRejected. The model's metrics are in the summary too.
#include <thread>

#include "base/log.h"

#include "cuda-workers/ml/gpu_train.h"
#include "cuda-workers/ml/train.h"
#include "cuda-workers/ops/op.h"
#include "cuda-workers/ops/sql_util.h"

namespace aidi::worker {

StatusOr<OpOutcome> RunTrain(OpContext& ctx) {
  auto format = FormatOf(ctx.request().output);
  if (!format.ok() || *format != FileFormat::kJson) {
    return Status::InvalidArgument("--output " + ctx.request().output +
                                   ": train writes a model; name it .json");
  }
  auto params = ml::ParseTrainParams(ctx.request().params);
  if (!params.ok()) return params.status();
  auto input = ctx.OpenInput();
  if (!input.ok()) return input.status();
  std::vector<std::string> wanted = params->features;
  wanted.push_back(params->label);
  for (size_t i = 0; i < wanted.size(); ++i) {
    const std::string what = i + 1 < wanted.size() ? "params.features[" + std::to_string(i) + "]"
                                                   : std::string("params.label");
    auto c = input->Find(wanted[i], what);
    if (!c.ok()) return c.status();
    if ((*c)->type == expr::Type::kString || !(*c)->type) {
      return Status::InvalidArgument(what + ": column '" + wanted[i] + "' is " + (*c)->sql_type +
                                     ", not a number");
    }
  }
  auto gpu = ctx.UseGpu(true, input->rows());
  if (!gpu.ok()) return gpu.status();

  auto result = ctx.db().Query("SELECT " + IdentifierList(wanted) + " FROM " + Input());
  if (!result.ok()) return result.status();
  auto columns = result->FetchColumns();
  if (!columns.ok()) return columns.status();
  int threads = ctx.request().threads > 0
                    ? ctx.request().threads
                    : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  StatusOr<ml::Model> model = Status::Unavailable("not run");
  bool on_gpu = *gpu;
  if (on_gpu) {
    model = ml::TrainOnGpu(*params, *columns, threads);
    if (ctx.request().device == Device::kAuto && !model.ok() &&
        model.status().code() == StatusCode::kUnavailable) {
      log::Info("the CUDA path declined; running on the CPU",
                {{"op", "train"}, {"reason", model.status().message()}});
      on_gpu = false;
    }
  }
  if (!on_gpu) model = ml::Train(*params, *columns, threads);
  if (!model.ok()) return model.status();
  if (Status s = WriteTextFile(ctx.request().output, model->ToJson().dump(2) + "\n"); !s.ok()) {
    return s;
  }
  OpOutcome out;
  out.rows_in = columns->empty() ? 0 : static_cast<int64_t>((*columns)[0].size());
  out.rows_out = model->metrics.rows;
  out.rows_rejected = model->metrics.rows_skipped;
  out.device = on_gpu ? "cuda" : "cpu";
  out.metrics = Json::parse(model->metrics.ToJson(model->kind).dump());
  return out;
}

}  // namespace aidi::worker
