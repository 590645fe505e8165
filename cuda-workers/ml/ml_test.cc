#include <cmath>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cuda-workers/duckdb/column.h"
#include "cuda-workers/ml/gpu_train.h"
#include "cuda-workers/ml/model.h"
#include "cuda-workers/ml/predict.h"
#include "cuda-workers/ml/train.h"
#include "cuda-workers/ml/train_params.h"

namespace aidi::worker::ml {
namespace {

using duckdb::Column;
using nlohmann::json;

TrainParams Params(ModelKind kind, std::vector<std::string> features, double l2 = 0) {
  TrainParams p;
  p.model = kind;
  p.features = std::move(features);
  p.label = "y";
  p.l2 = l2;
  return p;
}

std::string ParseError(const json& j) {
  StatusOr<TrainParams> p = ParseTrainParams(j);
  return p.ok() ? "ok" : p.status().message();
}

std::string TrainError(const TrainParams& p, const std::vector<Column>& cols) {
  StatusOr<Model> m = Train(p, cols);
  return m.ok() ? "ok" : m.status().message();
}

// Features on different scales and of every numeric type:
// x0 ~ N(0, 1), x1 ~ 50 + 10·N(0, 1), x2 BIGINT in [0, 9], x3 BOOLEAN.
std::vector<Column> Features(size_t n, std::mt19937_64& rng) {
  std::normal_distribution<double> normal;
  std::uniform_int_distribution<int64_t> digit(0, 9);
  std::bernoulli_distribution coin(0.3);
  std::vector<double> x0(n), x1(n);
  std::vector<int64_t> x2(n);
  std::vector<uint8_t> x3(n);
  for (size_t i = 0; i < n; ++i) {
    x0[i] = normal(rng);
    x1[i] = 50 + 10 * normal(rng);
    x2[i] = digit(rng);
    x3[i] = coin(rng) ? 1 : 0;
  }
  return {Column::Double("x0", x0), Column::Double("x1", x1), Column::Int64("x2", x2),
          Column::Bool("x3", x3)};
}

double Value(const Column& c, size_t i) {
  if (c.type == duckdb::ColumnType::kDouble) return c.doubles[i];
  if (c.type == duckdb::ColumnType::kInt64) return static_cast<double>(c.int64s[i]);
  return c.bools[i];
}

const std::vector<std::string> kFeatures = {"x0", "x1", "x2", "x3"};
const std::vector<double> kWeights = {1.5, -0.08, 0.3, -1.0};
constexpr double kBias = 2.0;

std::vector<Column> LogisticData(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Column> cols = Features(n, rng);
  std::vector<int64_t> y(n);
  std::uniform_real_distribution<double> u;
  for (size_t i = 0; i < n; ++i) {
    double s = kBias;
    for (size_t j = 0; j < 4; ++j) s += kWeights[j] * Value(cols[j], i);
    y[i] = u(rng) < Sigmoid(s) ? 1 : 0;
  }
  cols.push_back(Column::Int64("y", y));
  return cols;
}

std::vector<Column> LinearData(size_t n, uint64_t seed, double noise) {
  std::mt19937_64 rng(seed);
  std::vector<Column> cols = Features(n, rng);
  std::vector<double> y(n);
  std::normal_distribution<double> normal;
  for (size_t i = 0; i < n; ++i) {
    y[i] = kBias + noise * normal(rng);
    for (size_t j = 0; j < 4; ++j) y[i] += kWeights[j] * Value(cols[j], i);
  }
  cols.push_back(Column::Double("y", y));
  return cols;
}

// The gradient of mean loss + (l2/2)·||w||² in original units, at the model: zero at the optimum.
std::vector<double> ObjectiveGradient(const Model& m, const std::vector<Column>& cols, double l2) {
  const size_t n = cols[0].size();
  std::vector<double> g(m.weights.size() + 1, 0.0);
  size_t used = 0;
  for (size_t i = 0; i < n; ++i) {
    bool ok = true;
    for (const Column& c : cols) ok = ok && !c.IsNull(i);
    if (!ok) continue;
    ++used;
    double s = m.bias;
    for (size_t j = 0; j < m.weights.size(); ++j) s += m.weights[j] * Value(cols[j], i);
    const double r = (m.kind == ModelKind::kLogistic ? Sigmoid(s) : s) - Value(cols.back(), i);
    for (size_t j = 0; j < m.weights.size(); ++j) g[j] += r * Value(cols[j], i);
    g.back() += r;
  }
  for (size_t j = 0; j < g.size(); ++j) g[j] /= static_cast<double>(used);
  for (size_t j = 0; j < m.weights.size(); ++j) g[j] += l2 * m.weights[j];
  return g;
}

double Norm(const std::vector<double>& w) {
  double s = 0;
  for (double v : w) s += v * v;
  return std::sqrt(s);
}

// --- params ------------------------------------------------------------------------------------

TEST(TrainParamsTest, DefaultsAndRoundTrip) {
  StatusOr<TrainParams> p =
      ParseTrainParams(json{{"model", "linear"}, {"features", {"a", "b"}}, {"label", "y"}});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->model, ModelKind::kLinear);
  EXPECT_EQ(p->features, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(p->label, "y");
  EXPECT_EQ(p->l2, 0.0);
  EXPECT_EQ(p->epochs, 100);
  EXPECT_EQ(p->learning_rate, 1.0);
  EXPECT_EQ(p->tolerance, 1e-8);
  EXPECT_EQ(p->ToJson(), (json{{"model", "linear"},
                               {"features", {"a", "b"}},
                               {"label", "y"},
                               {"l2", 0.0},
                               {"epochs", 100},
                               {"learningRate", 1.0},
                               {"tolerance", 1e-8}}));
  StatusOr<TrainParams> again = ParseTrainParams(p->ToJson());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->ToJson(), p->ToJson());
}

TEST(TrainParamsTest, ReadsEveryField) {
  nlohmann::ordered_json j = {{"model", "logistic"}, {"features", {"a"}}, {"label", "y"},
                              {"l2", 0.5},           {"epochs", 7.0},     {"learningRate", 0.25},
                              {"tolerance", 1e-6}};
  StatusOr<TrainParams> p = ParseTrainParams(j);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->model, ModelKind::kLogistic);
  EXPECT_EQ(p->l2, 0.5);
  EXPECT_EQ(p->epochs, 7);
  EXPECT_EQ(p->learning_rate, 0.25);
  EXPECT_EQ(p->tolerance, 1e-6);
  // null means "use the default".
  StatusOr<TrainParams> nulls = ParseTrainParams(
      json{{"model", "logistic"}, {"features", {"a"}}, {"label", "y"}, {"l2", nullptr}});
  ASSERT_TRUE(nulls.ok());
  EXPECT_EQ(nulls->l2, 0.0);
}

TEST(TrainParamsTest, ErrorsNameTheField) {
  const json ok = {{"model", "logistic"}, {"features", {"a", "b"}}, {"label", "y"}};
  auto with = [&](const std::string& key, const json& value) {
    json j = ok;
    j[key] = value;
    return ParseError(j);
  };
  auto without = [&](const std::string& key) {
    json j = ok;
    j.erase(key);
    return ParseError(j);
  };
  EXPECT_EQ(ParseError(ok), "ok");
  EXPECT_EQ(ParseError(json::array()), "params: must be an object");
  EXPECT_EQ(with("epoch", 3),
            "params.epoch: unknown parameter (known: model, features, label, l2, learningRate, "
            "epochs, tolerance)");
  EXPECT_EQ(without("model"), "params.model: required (\"logistic\" or \"linear\")");
  EXPECT_EQ(with("model", "svm"), "params.model: must be \"logistic\" or \"linear\"");
  EXPECT_EQ(with("model", 1), "params.model: must be \"logistic\" or \"linear\"");
  EXPECT_EQ(without("features"), "params.features: required");
  EXPECT_EQ(with("features", json::array()),
            "params.features: must be a non-empty array of column names");
  EXPECT_EQ(with("features", "a"), "params.features: must be a non-empty array of column names");
  EXPECT_EQ(with("features", {"a", 3}), "params.features[1]: must be a non-empty string");
  EXPECT_EQ(with("features", {"a", ""}), "params.features[1]: must be a non-empty string");
  EXPECT_EQ(with("features", {"a", "b", "a"}), "params.features[2]: 'a' appears twice");
  EXPECT_EQ(without("label"), "params.label: required");
  EXPECT_EQ(with("label", 5), "params.label: must be a non-empty string");
  EXPECT_EQ(with("label", "b"), "params.label: 'b' is also one of params.features");
  EXPECT_EQ(with("l2", -0.1), "params.l2: must be a number >= 0");
  EXPECT_EQ(with("l2", "1"), "params.l2: must be a number >= 0");
  EXPECT_EQ(with("epochs", 0), "params.epochs: must be an integer between 1 and 1000000");
  EXPECT_EQ(with("epochs", 2.5), "params.epochs: must be an integer between 1 and 1000000");
  EXPECT_EQ(with("epochs", "10"), "params.epochs: must be an integer between 1 and 1000000");
  EXPECT_EQ(with("learningRate", 0), "params.learningRate: must be a number > 0");
  EXPECT_EQ(with("tolerance", -1), "params.tolerance: must be a number > 0");
  EXPECT_TRUE(ParseTrainParams(json{{"model", "x"}}).status().code() ==
              StatusCode::kInvalidArgument);
}

// --- training ----------------------------------------------------------------------------------

TEST(TrainTest, LogisticRecoversKnownWeights) {
  const std::vector<Column> cols = LogisticData(200000, 1);
  StatusOr<Model> m = Train(Params(ModelKind::kLogistic, kFeatures), cols, 2);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->kind, ModelKind::kLogistic);
  EXPECT_EQ(m->features, kFeatures);
  for (size_t j = 0; j < 4; ++j) {
    EXPECT_NEAR(m->weights[j], kWeights[j], 0.05 * std::abs(kWeights[j])) << "weight " << j;
  }
  EXPECT_NEAR(m->bias, kBias, 0.15);
  EXPECT_TRUE(m->metrics.converged);
  EXPECT_LE(m->metrics.iterations, 12);
  EXPECT_LE(m->metrics.gradient_norm, 1e-8);
  EXPECT_EQ(m->metrics.rows, 200000);
  EXPECT_EQ(m->metrics.rows_skipped, 0);
  EXPECT_GT(m->metrics.accuracy, 0.7);
  EXPECT_LT(m->metrics.log_loss, std::log(2.0));
  EXPECT_DOUBLE_EQ(m->metrics.objective, m->metrics.log_loss);  // l2 = 0
  // The optimum of the stated objective, in the features' own units.
  for (double g : ObjectiveGradient(*m, cols, 0.0)) EXPECT_NEAR(g, 0.0, 1e-7);
}

TEST(TrainTest, LinearRecoversExactWeights) {
  const std::vector<Column> cols = LinearData(5000, 2, 0.0);
  StatusOr<Model> m = Train(Params(ModelKind::kLinear, kFeatures), cols);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  for (size_t j = 0; j < 4; ++j) EXPECT_NEAR(m->weights[j], kWeights[j], 1e-10);
  EXPECT_NEAR(m->bias, kBias, 1e-9);
  EXPECT_EQ(m->metrics.iterations, 1);
  EXPECT_TRUE(m->metrics.converged);
  EXPECT_NEAR(m->metrics.r2, 1.0, 1e-12);
  EXPECT_NEAR(m->metrics.mse, 0.0, 1e-18);
}

TEST(TrainTest, LinearWithNoiseReportsItsMetrics) {
  const std::vector<Column> cols = LinearData(100000, 3, 0.5);
  StatusOr<Model> m = Train(Params(ModelKind::kLinear, kFeatures), cols, 3);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  for (size_t j = 0; j < 4; ++j) EXPECT_NEAR(m->weights[j], kWeights[j], 0.02);
  EXPECT_NEAR(m->metrics.rmse, 0.5, 0.01);
  EXPECT_DOUBLE_EQ(m->metrics.rmse * m->metrics.rmse, m->metrics.mse);
  EXPECT_GT(m->metrics.r2, 0.5);
  EXPECT_LT(m->metrics.r2, 1.0);
  EXPECT_NEAR(m->metrics.objective, m->metrics.mse / 2, 1e-12);
}

TEST(TrainTest, L2IsTheStatedPenaltyAndShrinksWeights) {
  for (ModelKind kind : {ModelKind::kLogistic, ModelKind::kLinear}) {
    const std::vector<Column> cols =
        kind == ModelKind::kLogistic ? LogisticData(20000, 4) : LinearData(20000, 4, 1.0);
    double previous = 1e300;
    for (double l2 : {0.0, 0.001, 0.01, 0.1, 1.0}) {
      StatusOr<Model> m = Train(Params(kind, kFeatures, l2), cols);
      ASSERT_TRUE(m.ok()) << m.status().ToString();
      const double norm = Norm(m->weights);
      EXPECT_LT(norm, previous) << ModelKindName(kind) << " l2=" << l2;
      previous = norm;
      for (double g : ObjectiveGradient(*m, cols, l2)) {
        EXPECT_NEAR(g, 0.0, 1e-7) << ModelKindName(kind) << " l2=" << l2;
      }
      EXPECT_EQ(m->params["l2"], l2);
    }
  }
}

TEST(TrainTest, NullAndNonFiniteRowsAreSkippedAndCounted) {
  std::vector<Column> cols = LogisticData(3000, 5);
  std::vector<Column> kept = cols;
  // Rows 3, 10 and 11: a NULL feature, a NULL label, a NaN.
  cols[0].validity[3] = 0;
  cols[0].doubles[3] = 0;
  cols[4].validity[10] = 0;
  cols[4].int64s[10] = 7;  // a NULL label is not checked for 0/1
  cols[1].doubles[11] = std::nan("");
  for (Column& c : kept) {
    for (size_t row : {11, 10, 3}) {
      c.validity.erase(c.validity.begin() + row);
      if (!c.doubles.empty()) c.doubles.erase(c.doubles.begin() + row);
      if (!c.int64s.empty()) c.int64s.erase(c.int64s.begin() + row);
      if (!c.bools.empty()) c.bools.erase(c.bools.begin() + row);
    }
  }
  StatusOr<Model> a = Train(Params(ModelKind::kLogistic, kFeatures), cols);
  StatusOr<Model> b = Train(Params(ModelKind::kLogistic, kFeatures), kept);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(a->metrics.rows_skipped, 3);
  EXPECT_EQ(a->metrics.rows, 2997);
  EXPECT_EQ(b->metrics.rows_skipped, 0);
  for (size_t j = 0; j < 4; ++j) EXPECT_NEAR(a->weights[j], b->weights[j], 1e-12);
  EXPECT_NEAR(a->bias, b->bias, 1e-12);
}

TEST(TrainTest, ThreadCountDoesNotChangeTheModel) {
  const std::vector<Column> cols = LogisticData(50007, 6);  // 16384 rows or more per thread
  StatusOr<Model> one = Train(Params(ModelKind::kLogistic, kFeatures, 0.01), cols, 1);
  StatusOr<Model> three = Train(Params(ModelKind::kLogistic, kFeatures, 0.01), cols, 3);
  ASSERT_TRUE(one.ok() && three.ok());
  for (size_t j = 0; j < 4; ++j) EXPECT_NEAR(one->weights[j], three->weights[j], 1e-10);
  EXPECT_EQ(one->metrics.iterations, three->metrics.iterations);
}

TEST(TrainTest, ConstantFeatureGetsWeightZero) {
  std::vector<Column> cols = LinearData(1000, 7, 0.0);
  cols.insert(cols.begin() + 4, Column::Double("c", std::vector<double>(1000, 3.25)));
  StatusOr<Model> m = Train(Params(ModelKind::kLinear, {"x0", "x1", "x2", "x3", "c"}), cols);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->weights[4], 0.0);
  EXPECT_NEAR(m->weights[0], kWeights[0], 1e-10);
  EXPECT_NEAR(m->bias, kBias, 1e-9);

  // Only constant features: the model is the best constant, log-odds of the mean label.
  std::vector<Column> flat = {Column::Double("c", {1, 1, 1, 1}), Column::Bool("y", {1, 0, 0, 0})};
  StatusOr<Model> l = Train(Params(ModelKind::kLogistic, {"c"}), flat);
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  EXPECT_EQ(l->weights[0], 0.0);
  EXPECT_NEAR(l->bias, std::log(0.25 / 0.75), 1e-12);
  EXPECT_EQ(l->metrics.iterations, 0);
}

TEST(TrainTest, AcceptsBoolAndDoubleLabels) {
  std::vector<Column> cols = LogisticData(2000, 8);
  StatusOr<Model> ints = Train(Params(ModelKind::kLogistic, kFeatures), cols);
  std::vector<uint8_t> b;
  std::vector<double> d;
  for (int64_t v : cols[4].int64s) {
    b.push_back(static_cast<uint8_t>(v));
    d.push_back(static_cast<double>(v));
  }
  cols[4] = Column::Bool("y", b);
  StatusOr<Model> bools = Train(Params(ModelKind::kLogistic, kFeatures), cols);
  cols[4] = Column::Double("y", d);
  StatusOr<Model> doubles = Train(Params(ModelKind::kLogistic, kFeatures), cols);
  ASSERT_TRUE(ints.ok() && bools.ok() && doubles.ok());
  EXPECT_EQ(ints->weights, bools->weights);
  EXPECT_EQ(ints->weights, doubles->weights);
}

TEST(TrainTest, EpochsBoundTheIterations) {
  const std::vector<Column> cols = LogisticData(5000, 9);
  TrainParams p = Params(ModelKind::kLogistic, kFeatures);
  p.epochs = 1;
  StatusOr<Model> m = Train(p, cols);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->metrics.iterations, 1);
  EXPECT_FALSE(m->metrics.converged);
  EXPECT_GT(m->metrics.gradient_norm, 1e-8);
  // A smaller first step still converges, in more iterations.
  p.epochs = 100;
  p.learning_rate = 0.3;
  StatusOr<Model> slow = Train(p, cols);
  ASSERT_TRUE(slow.ok());
  EXPECT_TRUE(slow->metrics.converged);
  EXPECT_GT(slow->metrics.iterations, 6);
}

TEST(TrainTest, ErrorsNameTheColumn) {
  const std::vector<Column> cols = {Column::Double("a", {1, 2, 3, 4}),
                                    Column::Varchar("s", {"p", "q", "r", "s"}),
                                    Column::Int64("y", {0, 1, 1, 0})};
  EXPECT_EQ(TrainError(Params(ModelKind::kLogistic, {"a", "q"}), cols),
            "feature 'q' is not a column of the input (columns: a, s, y)");
  EXPECT_EQ(TrainError(Params(ModelKind::kLogistic, {"s"}), cols),
            "feature 's' is VARCHAR; it must be BIGINT, DOUBLE or BOOLEAN");
  TrainParams no_label = Params(ModelKind::kLogistic, {"a"});
  no_label.label = "target";
  EXPECT_EQ(TrainError(no_label, cols),
            "label 'target' is not a column of the input (columns: a, s, y)");
  no_label.label = "s";
  EXPECT_EQ(TrainError(no_label, cols),
            "label 's' is VARCHAR; it must be BIGINT, DOUBLE or BOOLEAN");

  const std::vector<Column> bad_int = {Column::Double("a", {1, 2, 3, 4}),
                                       Column::Int64("y", {0, 1, 1, 2})};
  EXPECT_EQ(TrainError(Params(ModelKind::kLogistic, {"a"}), bad_int),
            "label 'y' must be 0 or 1 for logistic regression; row 3 has 2");
  const std::vector<Column> bad_double = {Column::Double("a", {1, 2, 3, 4}),
                                          Column::Double("y", {0, 0.5, 1, 0})};
  EXPECT_EQ(TrainError(Params(ModelKind::kLogistic, {"a"}), bad_double),
            "label 'y' must be 0 or 1 for logistic regression; row 1 has 0.5");
  // The same labels are fine for a linear model.
  EXPECT_EQ(TrainError(Params(ModelKind::kLinear, {"a"}), bad_double), "ok");

  const std::vector<Column> one_class = {Column::Double("a", {1, 2, 3, 4}),
                                         Column::Int64("y", {1, 1, 1, 1}, {1, 1, 1, 0})};
  EXPECT_EQ(TrainError(Params(ModelKind::kLogistic, {"a"}), one_class),
            "label 'y' is 1 in all 3 rows used; logistic regression needs both classes");

  const std::vector<Column> empty = {Column::Double("a", {}), Column::Int64("y", {})};
  EXPECT_EQ(TrainError(Params(ModelKind::kLogistic, {"a"}), empty),
            "no rows to train on: the input is empty");
  const std::vector<Column> all_null = {Column::Double("a", {1, 2, 3}, {0, 0, 1}),
                                        Column::Int64("y", {0, 1, 0}, {1, 1, 0})};
  EXPECT_EQ(TrainError(Params(ModelKind::kLogistic, {"a"}), all_null),
            "no rows to train on: all 3 rows have a NULL or non-finite feature or label");

  const std::vector<Column> ragged = {Column::Double("a", {1, 2, 3}), Column::Int64("y", {0, 1})};
  EXPECT_EQ(TrainError(Params(ModelKind::kLogistic, {"a"}), ragged),
            "feature 'a' has 3 rows but label 'y' has 2");

  const std::vector<Column> collinear = {Column::Double("a", {1, 2, 3, 4}),
                                         Column::Double("b", {2, 4, 6, 8}),
                                         Column::Double("y", {1, 3, 2, 5})};
  EXPECT_EQ(TrainError(Params(ModelKind::kLinear, {"a", "b"}), collinear),
            "the features are linearly dependent over the rows used (the normal equations are "
            "singular); set params.l2 > 0 or drop a redundant feature");
  EXPECT_EQ(TrainError(Params(ModelKind::kLinear, {"a", "b"}, 0.1), collinear), "ok");
  // Logistic regression copes with collinear features (the Hessian gets a small ridge).
  const std::vector<Column> collinear01 = {Column::Double("a", {1, 2, 3, 4, 5, 6}),
                                           Column::Double("b", {2, 4, 6, 8, 10, 12}),
                                           Column::Int64("y", {0, 1, 0, 1, 1, 1})};
  EXPECT_EQ(TrainError(Params(ModelKind::kLogistic, {"a", "b"}), collinear01), "ok");
}

TEST(TrainTest, SeparableClassesWithoutL2StillTerminate) {
  const std::vector<Column> cols = {Column::Double("a", {1, 2, 3, 4, 5, 6}),
                                    Column::Int64("y", {0, 0, 0, 1, 1, 1})};
  StatusOr<Model> m = Train(Params(ModelKind::kLogistic, {"a"}), cols);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_GT(m->weights[0], 1.0);
  EXPECT_EQ(m->metrics.accuracy, 1.0);
  EXPECT_LE(m->metrics.iterations, 100);
}

// --- model JSON --------------------------------------------------------------------------------

TEST(ModelTest, JsonRoundTrip) {
  StatusOr<Model> m = Train(Params(ModelKind::kLogistic, kFeatures, 0.01), LogisticData(3000, 10));
  ASSERT_TRUE(m.ok());
  const json j = m->ToJson();
  EXPECT_EQ(j["kind"], "logistic");
  EXPECT_EQ(j["features"], kFeatures);
  EXPECT_EQ(j["metrics"]["rows"], 3000);
  EXPECT_TRUE(j["metrics"].contains("logLoss"));
  EXPECT_TRUE(j["metrics"].contains("accuracy"));
  EXPECT_FALSE(j["metrics"].contains("mse"));
  EXPECT_EQ(j["params"]["l2"], 0.01);
  StatusOr<Model> back = Model::FromJson(json::parse(j.dump()));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->kind, m->kind);
  EXPECT_EQ(back->features, m->features);
  EXPECT_EQ(back->weights, m->weights);  // exact: the JSON numbers round-trip
  EXPECT_EQ(back->bias, m->bias);
  EXPECT_EQ(back->metrics.rows, 3000);
  EXPECT_EQ(back->metrics.accuracy, m->metrics.accuracy);
  EXPECT_EQ(back->metrics.iterations, m->metrics.iterations);
  EXPECT_EQ(back->params, m->params);
  EXPECT_EQ(back->ToJson(), j);

  StatusOr<Model> linear = Train(Params(ModelKind::kLinear, kFeatures), LinearData(100, 1, 1));
  ASSERT_TRUE(linear.ok());
  const json lj = linear->ToJson();
  EXPECT_EQ(lj["kind"], "linear");
  EXPECT_TRUE(lj["metrics"].contains("r2"));
  EXPECT_FALSE(lj["metrics"].contains("accuracy"));
  StatusOr<Model> lback = Model::FromJson(lj);
  ASSERT_TRUE(lback.ok());
  EXPECT_EQ(lback->ToJson(), lj);
}

TEST(ModelTest, MalformedModelsNameTheField) {
  const json ok = {{"kind", "linear"}, {"features", {"a", "b"}}, {"weights", {1, 2}}, {"bias", 3}};
  auto error = [](const json& j) {
    StatusOr<Model> m = Model::FromJson(j);
    return m.ok() ? "ok" : m.status().message();
  };
  auto with = [&](const std::string& key, const json& value) {
    json j = ok;
    j[key] = value;
    return error(j);
  };
  auto without = [&](const std::string& key) {
    json j = ok;
    j.erase(key);
    return error(j);
  };
  EXPECT_EQ(error(ok), "ok");
  EXPECT_EQ(with("extra", 1), "ok");
  EXPECT_EQ(error(json::array()), "model: must be a JSON object");
  EXPECT_EQ(without("kind"), "model.kind: required (\"logistic\" or \"linear\")");
  EXPECT_EQ(with("kind", "tree"), "model.kind: must be \"logistic\" or \"linear\"");
  EXPECT_EQ(without("features"), "model.features: required");
  EXPECT_EQ(with("features", json::array()),
            "model.features: must be a non-empty array of column names");
  EXPECT_EQ(with("features", {"a", 1}), "model.features[1]: must be a non-empty string");
  EXPECT_EQ(with("features", {"a", "a"}), "model.features[1]: 'a' appears twice");
  EXPECT_EQ(without("weights"), "model.weights: required");
  EXPECT_EQ(with("weights", {1}), "model.weights: must be an array of 2 numbers (one per feature)");
  EXPECT_EQ(with("weights", "1,2"),
            "model.weights: must be an array of 2 numbers (one per feature)");
  EXPECT_EQ(with("weights", {1, "2"}), "model.weights[1]: must be a finite number");
  EXPECT_EQ(with("weights", {1, nullptr}), "model.weights[1]: must be a finite number");
  EXPECT_EQ(without("bias"), "model.bias: required");
  EXPECT_EQ(with("bias", "0"), "model.bias: must be a finite number");
  EXPECT_EQ(with("metrics", 3), "model.metrics: must be an object");
  EXPECT_EQ(with("metrics", {{"rows", "many"}}), "model.metrics.rows: must be a number");
  EXPECT_EQ(with("metrics", {{"converged", 1}}), "model.metrics.converged: must be a boolean");
  EXPECT_EQ(with("params", {1, 2}), "model.params: must be an object");
}

// --- predict -----------------------------------------------------------------------------------

Model HandModel(ModelKind kind) {
  Model m;
  m.kind = kind;
  m.features = {"d", "i", "b"};
  m.weights = {0.5, -2.0, 1.25};
  m.bias = -0.75;
  return m;
}

std::vector<Column> PredictInput() {
  return {Column::Varchar("name", {"r0", "r1", "r2", "r3", "r4"}),
          Column::Double("d", {1.0, -3.5, 0.0, 2.0, std::nan("")}),
          Column::Int64("i", {0, 1, -2, 7, 1}, {1, 1, 1, 0, 1}),
          Column::Bool("b", {1, 0, 1, 1, 0})};
}

TEST(PredictTest, LogisticEqualsHandComputation) {
  StatusOr<PredictOutput> out = Predict(HandModel(ModelKind::kLogistic), PredictInput());
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  const double s0 = 1 / (1 + std::exp(-(-0.75 + 0.5 * 1.0 - 2.0 * 0 + 1.25)));
  const double s1 = 1 / (1 + std::exp(-(-0.75 + 0.5 * -3.5 - 2.0 * 1 + 0)));
  const double s2 = 1 / (1 + std::exp(-(-0.75 + 0.5 * 0.0 - 2.0 * -2 + 1.25)));
  const Column& score = out->score;
  EXPECT_EQ(score.name, "score");
  EXPECT_EQ(score.type, duckdb::ColumnType::kDouble);
  EXPECT_EQ(score.validity, (std::vector<uint8_t>{1, 1, 1, 0, 0}));  // NULL i, NaN d
  EXPECT_DOUBLE_EQ(score.doubles[0], s0);
  EXPECT_DOUBLE_EQ(score.doubles[1], s1);
  EXPECT_DOUBLE_EQ(score.doubles[2], s2);
  EXPECT_EQ(score.doubles[3], 0.0);
  EXPECT_EQ(score.doubles[4], 0.0);
  EXPECT_FALSE(score.Inconsistency());
  ASSERT_TRUE(out->label.has_value());
  EXPECT_EQ(out->label->name, "label");
  EXPECT_EQ(out->label->type, duckdb::ColumnType::kInt64);
  EXPECT_EQ(out->label->int64s, (std::vector<int64_t>{1, 0, 1, 0, 0}));
  EXPECT_EQ(out->label->validity, score.validity);
  EXPECT_EQ(out->null_rows, 2u);
}

TEST(PredictTest, LinearEqualsHandComputation) {
  StatusOr<PredictOutput> out = Predict(HandModel(ModelKind::kLinear), PredictInput(), 2);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->score.doubles[0], -0.75 + 0.5 * 1.0 - 2.0 * 0 + 1.25);
  EXPECT_EQ(out->score.doubles[1], -0.75 + 0.5 * -3.5 - 2.0 * 1 + 0);
  EXPECT_EQ(out->score.doubles[2], -0.75 + 0.5 * 0.0 - 2.0 * -2 + 1.25);
  EXPECT_FALSE(out->label.has_value());
}

TEST(PredictTest, ScoresMatchTraining) {
  const std::vector<Column> cols = LogisticData(5000, 11);
  StatusOr<Model> m = Train(Params(ModelKind::kLogistic, kFeatures), cols);
  ASSERT_TRUE(m.ok());
  StatusOr<PredictOutput> out = Predict(*m, cols, 3);
  ASSERT_TRUE(out.ok());
  size_t correct = 0;
  for (size_t i = 0; i < 5000; ++i) correct += out->label->int64s[i] == cols[4].int64s[i];
  EXPECT_DOUBLE_EQ(static_cast<double>(correct) / 5000, m->metrics.accuracy);
}

TEST(PredictTest, Errors) {
  Model m = HandModel(ModelKind::kLogistic);
  m.features[1] = "x";
  StatusOr<PredictOutput> missing = Predict(m, PredictInput());
  EXPECT_EQ(missing.status().message(),
            "model feature 'x' is not a column of the input (columns: name, d, i, b)");
  m.features[1] = "name";
  EXPECT_EQ(Predict(m, PredictInput()).status().message(),
            "model feature 'name' is VARCHAR; it must be BIGINT, DOUBLE or BOOLEAN");
  std::vector<Column> ragged = PredictInput();
  ragged[2] = Column::Int64("i", {1, 2});
  EXPECT_EQ(Predict(HandModel(ModelKind::kLinear), ragged).status().message(),
            "model feature 'i' has 2 rows but 'd' has 5");
}

// --- GPU twin ----------------------------------------------------------------------------------

TEST(GpuTest, MatchesTheCpuPathOrSaysUnavailable) {
  const std::vector<Column> cols = LogisticData(50000, 12);
  const TrainParams params = Params(ModelKind::kLogistic, kFeatures, 0.001);
  StatusOr<Model> gpu = TrainOnGpu(params, cols);
  if (!GpuAvailable()) {
    EXPECT_TRUE(gpu.status().code() == StatusCode::kUnavailable) << gpu.status().ToString();
    EXPECT_TRUE(PredictOnGpu(HandModel(ModelKind::kLinear), PredictInput()).status().code() ==
                StatusCode::kUnavailable);
    GTEST_SKIP() << "no CUDA device (built with CUDA: " << GpuBuilt() << ")";
  }
  ASSERT_TRUE(gpu.ok()) << gpu.status().ToString();
  StatusOr<Model> cpu = Train(params, cols);
  ASSERT_TRUE(cpu.ok());
  for (size_t j = 0; j < 4; ++j) EXPECT_NEAR(gpu->weights[j], cpu->weights[j], 1e-9);
  EXPECT_NEAR(gpu->bias, cpu->bias, 1e-9);
  EXPECT_EQ(gpu->metrics.iterations, cpu->metrics.iterations);
  EXPECT_DOUBLE_EQ(gpu->metrics.accuracy, cpu->metrics.accuracy);
  EXPECT_NEAR(gpu->metrics.log_loss, cpu->metrics.log_loss, 1e-12);

  const std::vector<Column> lin = LinearData(30000, 13, 0.3);
  StatusOr<Model> lgpu = TrainOnGpu(Params(ModelKind::kLinear, kFeatures, 0.01), lin);
  StatusOr<Model> lcpu = Train(Params(ModelKind::kLinear, kFeatures, 0.01), lin);
  ASSERT_TRUE(lgpu.ok() && lcpu.ok()) << lgpu.status().ToString();
  for (size_t j = 0; j < 4; ++j) EXPECT_NEAR(lgpu->weights[j], lcpu->weights[j], 1e-9);
  EXPECT_NEAR(lgpu->metrics.r2, lcpu->metrics.r2, 1e-12);

  for (ModelKind kind : {ModelKind::kLogistic, ModelKind::kLinear}) {
    StatusOr<PredictOutput> g = PredictOnGpu(HandModel(kind), PredictInput());
    StatusOr<PredictOutput> c = Predict(HandModel(kind), PredictInput());
    ASSERT_TRUE(g.ok() && c.ok()) << g.status().ToString();
    EXPECT_EQ(g->score.validity, c->score.validity);
    for (size_t i = 0; i < 5; ++i) EXPECT_NEAR(g->score.doubles[i], c->score.doubles[i], 1e-15);
    if (kind == ModelKind::kLogistic) {
      EXPECT_EQ(g->label->int64s, c->label->int64s);
    }
  }
  // Many features and rows not a multiple of the tile: exercises the pair table and padding.
  std::mt19937_64 rng(14);
  std::normal_distribution<double> normal;
  std::vector<Column> wide;
  std::vector<std::string> names;
  std::vector<double> s(4099, 0.3);
  for (int j = 0; j < 64; ++j) {
    std::vector<double> x(4099);
    for (double& v : x) v = normal(rng);
    for (size_t i = 0; i < x.size(); ++i) s[i] += 0.05 * (j % 7 - 3) * x[i];
    names.push_back("f" + std::to_string(j));
    wide.push_back(Column::Double(names.back(), std::move(x)));
  }
  std::vector<int64_t> y(4099);
  std::uniform_real_distribution<double> u;
  for (size_t i = 0; i < y.size(); ++i) y[i] = u(rng) < Sigmoid(s[i]) ? 1 : 0;
  wide.push_back(Column::Int64("y", y));
  StatusOr<Model> wgpu = TrainOnGpu(Params(ModelKind::kLogistic, names, 0.01), wide);
  StatusOr<Model> wcpu = Train(Params(ModelKind::kLogistic, names, 0.01), wide);
  ASSERT_TRUE(wgpu.ok() && wcpu.ok()) << wgpu.status().ToString();
  for (size_t j = 0; j < 64; ++j) EXPECT_NEAR(wgpu->weights[j], wcpu->weights[j], 1e-9);
}

}  // namespace
}  // namespace aidi::worker::ml
