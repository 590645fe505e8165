// predict: scores every input row with a model written by train. Inputs: the data file(s) and
// one .json model. Output: the input columns, then `score` (the probability for logistic, the
// value for linear) and, for logistic, `label` (1 when score >= 0.5, else 0); columns of those
// names in the input are replaced. A row with a null or non-finite feature gets null.
//
// CPU: one SQL pass with the weights as constants, z = bias + w1·x1 + w2·x2 + ... (left to
// right, as ml::Predict sums) and the sigmoid in its overflow-free form. CUDA: ml::PredictOnGpu
// over the feature columns, joined back to the rows by position.
#include <fstream>
#include <sstream>

#include "cuda-workers/ml/gpu_train.h"
#include "cuda-workers/ml/model.h"
#include "cuda-workers/ml/predict.h"
#include "cuda-workers/ops/gpu_ops.h"
#include "cuda-workers/ops/op.h"
#include "cuda-workers/ops/sql_util.h"

namespace aidi::worker {
namespace {

StatusOr<ml::Model> ReadModel(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::InvalidArgument("--input " + path + ": cannot read the model");
  std::stringstream text;
  text << in.rdbuf();
  try {
    auto model = ml::Model::FromJson(nlohmann::json::parse(text.str()));
    if (!model.ok()) return Status::InvalidArgument(path + ": " + model.status().message());
    return model;
  } catch (const nlohmann::json::parse_error& e) {
    return Status::InvalidArgument(path + ": not a JSON model: invalid JSON at byte " +
                                   std::to_string(e.byte));
  }
}

}  // namespace

StatusOr<OpOutcome> RunPredict(OpContext& ctx) {
  if (Status s = ctx.params().ExpectKeys({}); !s.ok()) return s;
  const auto models = ctx.ModelInputs();
  if (models.size() != 1) {
    return Status::InvalidArgument(
        "--input: predict takes data files and exactly one .json model (" +
        std::to_string(models.size()) + " given)");
  }
  auto model = ReadModel(models[0]);
  if (!model.ok()) return model.status();
  auto input = ctx.OpenInput();
  if (!input.ok()) return input.status();
  for (const std::string& f : model->features) {
    bool found = false;
    for (const InputColumn& c : input->columns()) {
      if (c.name != f) continue;
      found = true;
      if (!c.type || *c.type == expr::Type::kString) {
        return Status::InvalidArgument("model feature '" + f + "' is " + c.sql_type +
                                       " in the input, not a number");
      }
    }
    if (!found) {
      std::string list;
      for (const InputColumn& c : input->columns()) list += (list.empty() ? "" : ", ") + c.name;
      return Status::InvalidArgument("model feature '" + f + "' is not a column of the input (" +
                                     "columns: " + list + ")");
    }
  }
  auto gpu = ctx.UseGpu(true, input->rows());
  if (!gpu.ok()) return gpu.status();
  if (*gpu) {
    auto on_gpu = GpuPredict(ctx, *input, *model);
    if (!ctx.FallBackToCpu(on_gpu)) return on_gpu;
  }

  const bool logistic = model->kind == ml::ModelKind::kLogistic;
  std::string finite;
  std::string z = SqlDouble(model->bias);
  for (size_t j = 0; j < model->features.size(); ++j) {
    const std::string x = "CAST(" + QuoteIdentifier(model->features[j]) + " AS DOUBLE)";
    finite += (j > 0 ? " AND " : "") + ("isfinite(" + x + ")");
    z = "(" + z + " + " + SqlDouble(model->weights[j]) + " * " + x + ")";
  }
  std::string replaced;  // input columns that the output's score and label replace
  for (const InputColumn& c : input->columns()) {
    if (c.name == "score" || (logistic && c.name == "label"))
      replaced += (replaced.empty() ? "" : ", ") + QuoteIdentifier(c.name);
  }
  const std::string zs = finite.empty() ? z : "CASE WHEN " + finite + " THEN " + z + " END";
  const std::string score =
      logistic ? "CASE WHEN aidi_z >= 0 THEN 1 / (1 + exp(-aidi_z)) ELSE exp(aidi_z) / (1 + "
                 "exp(aidi_z)) END"
               : "aidi_z";
  // z, then the score from z, then the label from the score: each computed once.
  std::string sql = "SELECT * EXCLUDE (aidi_z), " + score + " AS score FROM (SELECT *" +
                    (replaced.empty() ? "" : " EXCLUDE (" + replaced + ")") + ", " + zs +
                    " AS aidi_z FROM " + Input() + ")";
  if (logistic) sql = "SELECT *, CAST(score >= 0.5 AS BIGINT) AS label FROM (" + sql + ")";
  return ctx.WriteOutput(*input, sql);
}

}  // namespace aidi::worker
