#include "cuda-workers/ml/cpu_row_pass.h"

#include <Eigen/Dense>

#include "cuda-workers/ml/parallel.h"

namespace aidi::worker::ml {
namespace {

constexpr Eigen::Index kBlockRows = 1024;
constexpr size_t kRowsPerThread = 16384;  // below this, another thread costs more than it saves

// One thread's sums; the Gram matrix is kept as its blocks (z·zᵀ lower triangle, z·1, 1·1).
struct Partial {
  double loss = 0;
  double correct = 0;
  Eigen::VectorXd grad;
  Eigen::MatrixXd gram_zz;
  Eigen::VectorXd gram_z1;
  double gram_11 = 0;
};

}  // namespace

StatusOr<PassSums> CpuRowPass::Run(std::span<const double> beta, PassWant want) {
  using Eigen::ArrayXd;
  using Eigen::Index;
  const Index p = static_cast<Index>(design_.cols());
  if (beta.size() != static_cast<size_t>(p + 1)) {
    return Status::Internal("CpuRowPass: beta has " + std::to_string(beta.size()) +
                            " entries, want " + std::to_string(p + 1));
  }
  const Eigen::Map<const Eigen::VectorXd> v(beta.data(), p);
  const double intercept = beta[p];
  const bool logistic = kind_ == ModelKind::kLogistic;
  const bool gradient = want != PassWant::kLoss;
  const bool hessian = want == PassWant::kHessian;

  std::vector<Partial> partials(PartCount(design_.rows, threads_, kRowsPerThread));
  ParallelFor(
      design_.rows, threads_,
      [&](int part, size_t begin, size_t end) {
        Partial& out = partials[part];
        if (gradient) out.grad.setZero(p + 1);
        if (hessian) {
          out.gram_zz.setZero(p, p);
          out.gram_z1.setZero(p);
        }
        const Index rows = std::min<Index>(kBlockRows, static_cast<Index>(end - begin));
        ArrayXd eta(rows), e(rows), r(rows), w(rows), y(rows);
        Eigen::MatrixXd block(rows, p), scaled(hessian && logistic ? rows : 0, p);
        for (Index b0 = static_cast<Index>(begin); b0 < static_cast<Index>(end); b0 += rows) {
          const Index len = std::min<Index>(rows, static_cast<Index>(end) - b0);
          design_.Block(static_cast<size_t>(b0), static_cast<size_t>(len), block.data(),
                        static_cast<size_t>(rows), y.data());
          const auto zb = block.topRows(len);
          const auto yb = y.head(len);
          auto et = eta.head(len);
          auto rt = r.head(len);
          auto wt = w.head(len);
          // With every feature constant (p == 0) only the intercept is fitted; Eigen's products
          // must not see empty operands.
          if (p > 0) {
            et.matrix().noalias() = zb * v;
            et += intercept;
          } else {
            et.setConstant(intercept);
          }
          if (logistic) {
            auto ex = e.head(len);
            ex = (-et.abs()).exp();  // in (0, 1]: no overflow whatever the sign of eta
            // sigmoid(eta) = 1 / (1 + e^-eta) for eta >= 0, e^eta / (1 + e^eta) otherwise.
            rt = (et >= 0).select((1.0 + ex).inverse(), ex / (1.0 + ex));
            out.correct += static_cast<double>(((rt >= 0.5) == (yb > 0.5)).count());
            // log(1 + e) rather than log1p(e): vectorised, and e < 1e-16 only drops terms below
            // rounding.
            out.loss += (et.max(0.0) + (1.0 + ex).log() - yb * et).sum();
            rt -= yb;
            wt = ex / (1.0 + ex).square();  // p(1 - p), accurate in both tails
          } else {
            rt = et - yb;
            out.loss += 0.5 * rt.square().sum();
          }
          if (!gradient) continue;
          if (p > 0) out.grad.head(p).noalias() += zb.transpose() * rt.matrix();
          out.grad[p] += rt.sum();
          if (!hessian) continue;
          if (p == 0) {
            out.gram_11 += logistic ? wt.sum() : static_cast<double>(len);
          } else if (logistic) {
            scaled.topRows(len) = (zb.array().colwise() * wt.sqrt()).matrix();
            out.gram_zz.selfadjointView<Eigen::Lower>().rankUpdate(scaled.topRows(len).transpose());
            out.gram_z1.noalias() += zb.transpose() * wt.matrix();
            out.gram_11 += wt.sum();
          } else {
            out.gram_zz.selfadjointView<Eigen::Lower>().rankUpdate(zb.transpose());
            out.gram_z1 += zb.colwise().sum().transpose();
            out.gram_11 += static_cast<double>(len);
          }
        }
      },
      kRowsPerThread);

  PassSums sums;
  Partial total = std::move(partials[0]);
  for (size_t i = 1; i < partials.size(); ++i) {
    total.loss += partials[i].loss;
    total.correct += partials[i].correct;
    if (gradient) total.grad += partials[i].grad;
    if (hessian) {
      total.gram_zz += partials[i].gram_zz;
      total.gram_z1 += partials[i].gram_z1;
      total.gram_11 += partials[i].gram_11;
    }
  }
  sums.loss = total.loss;
  sums.correct = total.correct;
  if (gradient) sums.grad.assign(total.grad.data(), total.grad.data() + p + 1);
  if (hessian) {
    sums.gram.resize(static_cast<size_t>((p + 1) * (p + 1)));
    Eigen::Map<Eigen::MatrixXd> gram(sums.gram.data(), p + 1, p + 1);
    gram.topLeftCorner(p, p) = total.gram_zz.selfadjointView<Eigen::Lower>();
    gram.col(p).head(p) = total.gram_z1;
    gram.row(p).head(p) = total.gram_z1.transpose();
    gram(p, p) = total.gram_11;
  }
  return sums;
}

}  // namespace aidi::worker::ml
