#include "cuda-workers/ml/newton_solver.h"

#include <cmath>
#include <optional>

#include <Eigen/Dense>

namespace aidi::worker::ml {
namespace {

using Eigen::MatrixXd;
using Eigen::VectorXd;

constexpr double kArmijo = 1e-4;       // sufficient-decrease constant of the line search
constexpr double kMinStep = 1e-10;     // give up backtracking below this step
constexpr double kPivotRatio = 1e-12;  // an LDLT pivot this small against the largest: singular

struct Point {
  VectorXd beta;
  double f = 0;  // objective
  VectorXd g;    // gradient (unless evaluated for the loss only)
  MatrixXd h;    // Hessian (when evaluated with PassWant::kHessian; else empty)
  PassSums sums;
};

// Solves h·d = -g; nullopt when h is singular or indefinite.
std::optional<VectorXd> NewtonStep(const MatrixXd& h, const VectorXd& g) {
  Eigen::LDLT<MatrixXd> ldlt(h);
  if (ldlt.info() != Eigen::Success) return std::nullopt;
  const VectorXd pivots = ldlt.vectorD();
  const double largest = pivots.cwiseAbs().maxCoeff();
  if (!(largest > 0) || pivots.minCoeff() <= kPivotRatio * largest) return std::nullopt;
  VectorXd d = ldlt.solve(-g);
  if (!d.allFinite()) return std::nullopt;
  return d;
}

}  // namespace

StatusOr<Model> FitModel(const TrainParams& params, const DesignMatrix& design, RowPass& pass) {
  const bool logistic = params.model == ModelKind::kLogistic;
  const Eigen::Index p = static_cast<Eigen::Index>(design.cols());
  const double n = static_cast<double>(design.rows);

  // The penalty (l2/2)·Σ w_j² with w_j = beta_j / scale_j; the intercept is not penalised.
  VectorXd penalty = VectorXd::Zero(p + 1);
  for (Eigen::Index k = 0; k < p; ++k) {
    const double s = design.scale[design.active[k]];
    penalty[k] = params.l2 / (s * s);
  }

  auto evaluate = [&](const VectorXd& beta, PassWant want) -> StatusOr<Point> {
    Point pt;
    pt.beta = beta;
    AIDI_ASSIGN_OR_RETURN(pt.sums, pass.Run({beta.data(), static_cast<size_t>(p + 1)}, want));
    pt.f = pt.sums.loss / n + 0.5 * beta.dot(penalty.cwiseProduct(beta));
    if (want != PassWant::kLoss) {
      pt.g =
          Eigen::Map<const VectorXd>(pt.sums.grad.data(), p + 1) / n + penalty.cwiseProduct(beta);
    }
    if (want == PassWant::kHessian) {
      pt.h = Eigen::Map<const MatrixXd>(pt.sums.gram.data(), p + 1, p + 1) / n;
      pt.h.diagonal() += penalty;
    }
    if (!std::isfinite(pt.f)) return Status::Internal("training objective is not finite");
    return pt;
  };

  const double mean_y = design.label_mean;
  VectorXd start = VectorXd::Zero(p + 1);
  // Start from the best constant model: its intercept, all weights 0.
  start[p] = logistic ? std::log(mean_y / (1.0 - mean_y)) : mean_y;
  AIDI_ASSIGN_OR_RETURN(Point cur, evaluate(start, PassWant::kHessian));

  // Newton converges quadratically near the optimum: once the gradient is below this, the next
  // point almost surely meets the tolerance, so its Hessian (the costly part of a pass) is not
  // computed up front; when it is needed after all, one more pass computes it.
  const double skip_hessian_below = 0.3 * std::sqrt(params.tolerance);
  int iterations = 0;
  bool converged = false;
  while (true) {
    const double gnorm = cur.g.lpNorm<Eigen::Infinity>();
    if (gnorm <= params.tolerance) {
      converged = true;
      break;
    }
    if (iterations >= params.epochs) break;
    if (cur.h.size() == 0) {
      AIDI_ASSIGN_OR_RETURN(cur, evaluate(cur.beta, PassWant::kHessian));
    }
    std::optional<VectorXd> d = NewtonStep(cur.h, cur.g);
    if (!d && !logistic) {
      return Status::InvalidArgument(
          "the features are linearly dependent over the rows used (the normal equations are "
          "singular); set params.l2 > 0 or drop a redundant feature");
    }
    // Logistic: a singular Hessian (collinear features, or separable classes without l2) gets
    // a growing ridge until it factors: still a descent direction, and Newton's near the optimum.
    const double diag_max = cur.h.diagonal().cwiseAbs().maxCoeff();
    for (double ridge = 1e-10 * diag_max; !d && ridge <= 1e2 * diag_max; ridge *= 100) {
      d = NewtonStep(cur.h + ridge * MatrixXd::Identity(p + 1, p + 1), cur.g);
    }
    if (!d) d = -cur.g;
    double slope = cur.g.dot(*d);
    if (!(slope < 0)) {
      d = -cur.g;
      slope = -cur.g.squaredNorm();
    }

    // Backtracking line search; the slack admits steps whose change is lost in rounding.
    const double slack = 1e-13 * std::abs(cur.f);
    double t = logistic ? params.learning_rate : 1.0;
    const PassWant want =
        logistic && gnorm <= skip_hessian_below ? PassWant::kGradient : PassWant::kHessian;
    AIDI_ASSIGN_OR_RETURN(Point trial, evaluate(cur.beta + t * *d, want));
    bool backtracked = false;
    while (!(trial.f <= cur.f + kArmijo * t * slope + slack) && t >= kMinStep) {
      t *= 0.5;
      AIDI_ASSIGN_OR_RETURN(trial, evaluate(cur.beta + t * *d, PassWant::kLoss));
      backtracked = true;
    }
    if (t < kMinStep) break;  // no decrease along the Newton direction: stalled
    if (backtracked) {
      AIDI_ASSIGN_OR_RETURN(trial, evaluate(trial.beta, PassWant::kHessian));
    }
    cur = std::move(trial);
    ++iterations;
  }

  Model model;
  model.kind = params.model;
  model.features = params.features;
  model.params = params.ToJson();
  model.weights.assign(params.features.size(), 0.0);
  model.bias = cur.beta[p];
  for (Eigen::Index k = 0; k < p; ++k) {
    const size_t f = design.active[k];
    model.weights[f] = cur.beta[k] / design.scale[f];
    model.bias -= model.weights[f] * design.mean[f];
  }
  bool finite = std::isfinite(model.bias);
  for (double w : model.weights) finite = finite && std::isfinite(w);
  if (!finite) {
    return Status::InvalidArgument("training diverged to non-finite weights; set params.l2 > 0");
  }

  TrainMetrics& m = model.metrics;
  m.rows = static_cast<int64_t>(design.rows);
  m.rows_skipped = static_cast<int64_t>(design.rows_skipped);
  m.iterations = iterations;
  m.converged = converged;
  m.gradient_norm = cur.g.lpNorm<Eigen::Infinity>();
  m.objective = cur.f;
  if (logistic) {
    m.log_loss = cur.sums.loss / n;
    m.accuracy = cur.sums.correct / n;
  } else {
    const double sse = 2.0 * cur.sums.loss;
    const double sst = design.label_sst;
    m.mse = sse / n;
    m.rmse = std::sqrt(m.mse);
    m.r2 = sst > 0 ? 1.0 - sse / sst : (sse == 0 ? 1.0 : 0.0);
  }
  return model;
}

}  // namespace aidi::worker::ml
