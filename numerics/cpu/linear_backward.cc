// LinearBackward. dx = dy·W is itself a linear layer (dy (M, N) times the
// transposed weight (K, N)), so it runs through Linear and inherits its fixed
// 16-lane order over N and its thread invariance. dweight and dbias reduce
// over the rows m, strictly ascending from +0.0f in fp32; work is split over
// output elements (n, k) only, never over m, so the thread count cannot change
// a bit. Each call's sum is added to dweight/dbias once, at the end, so
// micro-batch gradients add up as whole sums in call order.
#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "numerics/cpu/backward.h"
#include "numerics/cpu/parallel.h"

namespace lockstep::cpu {
namespace {

// dweight rows × columns per work item: 8 × 256 fp32 accumulators (8 KiB)
// stay in L1 while the m loop streams dy and x.
constexpr int64_t kGradRowBlock = 8;
constexpr int64_t kGradColBlock = 256;

std::vector<float> Widen(ConstMatrixView v) {
  std::vector<float> out(static_cast<size_t>(v.rows * v.cols));
  for (int64_t r = 0; r < v.rows; ++r) {
    const void* row = v.RowPtr(r);
    for (int64_t c = 0; c < v.cols; ++c) out[r * v.cols + c] = LoadAsFloat(row, v.dtype, c);
  }
  return out;
}

// dweight[n, k] += Σ_m dy[m, n]·x[m, k], m ascending.
void WeightGradient(const float* x, const float* dy, int64_t m_rows, int64_t n_rows, int64_t k_cols,
                    float* dweight) {
  const int64_t row_blocks = (n_rows + kGradRowBlock - 1) / kGradRowBlock;
  const int64_t col_blocks = (k_cols + kGradColBlock - 1) / kGradColBlock;
  // Small problems run inline: a thread hand-off costs more than it saves.
  const int64_t flops_per_item = 2 * m_rows * kGradRowBlock * std::min(k_cols, kGradColBlock);
  const int64_t min_items =
      std::max<int64_t>(1, (int64_t{1} << 17) / std::max<int64_t>(1, flops_per_item));
  ParallelFor(row_blocks * col_blocks, min_items, [&](int64_t begin, int64_t end) {
    std::vector<float> acc(static_cast<size_t>(kGradRowBlock * kGradColBlock));
    for (int64_t item = begin; item < end; ++item) {
      const int64_t n0 = (item / col_blocks) * kGradRowBlock;
      const int64_t n1 = std::min(n_rows, n0 + kGradRowBlock);
      const int64_t k0 = (item % col_blocks) * kGradColBlock;
      const int64_t width = std::min(k_cols, k0 + kGradColBlock) - k0;
      std::fill(acc.begin(), acc.end(), 0.0f);
      for (int64_t m = 0; m < m_rows; ++m) {
        const float* x_row = x + m * k_cols + k0;
        for (int64_t n = n0; n < n1; ++n) {
          const float g = dy[m * n_rows + n];
          float* a = acc.data() + (n - n0) * kGradColBlock;
          for (int64_t k = 0; k < width; ++k) a[k] += g * x_row[k];
        }
      }
      for (int64_t n = n0; n < n1; ++n) {
        const float* a = acc.data() + (n - n0) * kGradColBlock;
        float* out = dweight + n * k_cols + k0;
        for (int64_t k = 0; k < width; ++k) out[k] += a[k];
      }
    }
  });
}

}  // namespace

absl::Status LinearBackward(ConstMatrixView x, const LinearWeight& weight, const float* dy,
                            float* dx, float* dweight, float* dbias) {
  const int64_t m_rows = x.rows, n = weight.out_features(), k = weight.in_features();
  if (static_cast<int64_t>(weight.weight_f32.size()) != n * k) {
    return absl::FailedPreconditionError(
        "LinearBackward: the LinearWeight was not built by PrepareLinearWeight (its fp32 copy is "
        "missing or stale); call PrepareLinearWeight after loading or updating the weight");
  }
  if (x.cols != k) {
    return absl::InvalidArgumentError(absl::StrCat("LinearBackward: x is (", x.rows, ", ", x.cols,
                                                   ") but the weight is (", n, ", ", k,
                                                   "); need x (M, ", k, ")"));
  }
  if (dy == nullptr && m_rows > 0) {
    return absl::InvalidArgumentError("LinearBackward: dy is null");
  }
  if (m_rows == 0 || n == 0) {
    // No rows: parameter gradients gain nothing; dx (M, K) is all zero.
    if (dx != nullptr) std::fill(dx, dx + m_rows * k, 0.0f);
    return absl::OkStatus();
  }
  if (dx != nullptr) {
    LinearWeight transposed;  // (K, N): row k holds column k of W
    transposed.weight_f32.resize(static_cast<size_t>(k * n));
    for (int64_t r = 0; r < n; ++r)
      for (int64_t c = 0; c < k; ++c)
        transposed.weight_f32[c * n + r] = weight.weight_f32[r * k + c];
    transposed.weight = ConstMatrixView(DType::kF32, transposed.weight_f32.data(), k, n, n);
    const absl::Status s = Linear(ConstMatrixView(DType::kF32, dy, m_rows, n, n), transposed,
                                  MatrixView{DType::kF32, dx, m_rows, k, k});
    if (!s.ok()) return s;
  }
  if (dweight != nullptr && k > 0) {
    const std::vector<float> x_f32 = Widen(x);
    WeightGradient(x_f32.data(), dy, m_rows, n, k, dweight);
  }
  if (dbias != nullptr) {
    std::vector<float> sum(static_cast<size_t>(n), 0.0f);
    for (int64_t m = 0; m < m_rows; ++m)
      for (int64_t j = 0; j < n; ++j) sum[j] += dy[m * n + j];
    for (int64_t j = 0; j < n; ++j) dbias[j] += sum[j];
  }
  return absl::OkStatus();
}

}  // namespace lockstep::cpu
