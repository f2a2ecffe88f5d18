// RmsNormBackward. With inv = rsqrt(mean(x²) + eps) recomputed exactly as the
// forward does (same bits), g = dy·w and H the row length:
//   dx[c]      = g[c]·inv − x[c]·(inv³·Σ_j g[j]·x[j] / H)
//   dweight[c] += Σ_m dy[m, c]·(x[m, c]·inv_m)
// The row sum Σ_j g[j]·x[j] uses the shared 16-lane order (fixed_order.h); the
// dweight sum runs over rows m strictly ascending from +0.0f and is split over
// columns only, so neither depends on the thread count.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "numerics/cpu/backward.h"
#include "numerics/cpu/fixed_order.h"
#include "numerics/cpu/parallel.h"

namespace lockstep::cpu {
namespace {

// dweight columns per work item.
constexpr int64_t kColumnBlock = 256;

}  // namespace

absl::Status RmsNormBackward(ConstMatrixView x, ConstMatrixView weight, float eps, const float* dy,
                             float* dx, float* dweight) {
  const int64_t rows = x.rows, h = x.cols;
  if (weight.rows != 1 || weight.cols != h) {
    return absl::InvalidArgumentError(absl::StrCat("RmsNormBackward: x is (", rows, ", ", h,
                                                   "), weight is (", weight.rows, ", ", weight.cols,
                                                   "); need weight (1, ", h, ")"));
  }
  if (!(eps >= 0.0f)) return absl::InvalidArgumentError("RmsNormBackward: eps must be >= 0");
  if (rows == 0 || h == 0) return absl::OkStatus();
  if (dy == nullptr) return absl::InvalidArgumentError("RmsNormBackward: dy is null");
  std::vector<float> w(static_cast<size_t>(h));
  for (int64_t c = 0; c < h; ++c) w[c] = weight.Get(0, c);
  std::vector<float> x_f32(static_cast<size_t>(rows * h));
  std::vector<float> inv(static_cast<size_t>(rows));
  ParallelFor(rows, 16, [&](int64_t begin, int64_t end) {
    std::vector<float> g(static_cast<size_t>(h));
    for (int64_t r = begin; r < end; ++r) {
      float* row = x_f32.data() + r * h;
      for (int64_t c = 0; c < h; ++c) row[c] = x.Get(r, c);
      const float sumsq = DotFixedOrder(row, row, h);
      inv[r] = 1.0f / std::sqrt(sumsq / static_cast<float>(h) + eps);
      if (dx == nullptr) continue;
      const float* dy_row = dy + r * h;
      for (int64_t c = 0; c < h; ++c) g[c] = dy_row[c] * w[c];
      const float gx = DotFixedOrder(g.data(), row, h);
      const float coef = ((inv[r] * inv[r]) * inv[r]) * gx / static_cast<float>(h);
      float* dx_row = dx + r * h;
      for (int64_t c = 0; c < h; ++c) dx_row[c] = g[c] * inv[r] - row[c] * coef;
    }
  });
  if (dweight != nullptr) {
    const int64_t blocks = (h + kColumnBlock - 1) / kColumnBlock;
    ParallelFor(blocks, 1, [&](int64_t begin, int64_t end) {
      std::vector<float> acc(static_cast<size_t>(kColumnBlock));
      for (int64_t b = begin; b < end; ++b) {
        const int64_t c0 = b * kColumnBlock, width = std::min(h, c0 + kColumnBlock) - c0;
        std::fill(acc.begin(), acc.end(), 0.0f);
        for (int64_t r = 0; r < rows; ++r) {
          const float* row = x_f32.data() + r * h + c0;
          const float* dy_row = dy + r * h + c0;
          for (int64_t c = 0; c < width; ++c) acc[c] += dy_row[c] * (row[c] * inv[r]);
        }
        for (int64_t c = 0; c < width; ++c) dweight[c0 + c] += acc[c];
      }
    });
  }
  return absl::OkStatus();
}

}  // namespace lockstep::cpu
