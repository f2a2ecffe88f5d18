// RMSNorm: sumsq in the shared 16-lane order over H, then
// inv = 1 / sqrt(sumsq / H + eps) in fp32, y = round((x * inv) * w).
#include "numerics/cpu/rmsnorm.h"

#include <cmath>
#include <vector>

#include "absl/strings/str_cat.h"
#include "numerics/cpu/fixed_order.h"
#include "numerics/cpu/linear.h"
#include "numerics/cpu/parallel.h"

namespace lockstep::cpu {

absl::Status RmsNorm(ConstMatrixView x, ConstMatrixView weight, float eps, MatrixView out) {
  const int64_t h = x.cols;
  if (weight.rows != 1 || weight.cols != h || out.rows != x.rows || out.cols != h) {
    return absl::InvalidArgumentError(
        absl::StrCat("RmsNorm: shape mismatch: x is (", x.rows, ", ", h, "), weight is (",
                     weight.rows, ", ", weight.cols, "), out is (", out.rows, ", ", out.cols,
                     "); need weight (1, ", h, ") and out like x"));
  }
  if (!(eps >= 0.0f)) return absl::InvalidArgumentError("RmsNorm: eps must be >= 0");
  std::vector<float> w(static_cast<size_t>(h));
  for (int64_t c = 0; c < h; ++c) w[c] = weight.Get(0, c);
  ParallelFor(x.rows, 16, [&](int64_t begin, int64_t end) {
    std::vector<float> row(static_cast<size_t>(h));
    for (int64_t r = begin; r < end; ++r) {
      // Read the whole row before writing: out may alias x.
      for (int64_t c = 0; c < h; ++c) row[c] = x.Get(r, c);
      const float sumsq = DotFixedOrder(row.data(), row.data(), h);
      const float inv = 1.0f / std::sqrt(sumsq / static_cast<float>(h) + eps);
      for (int64_t c = 0; c < h; ++c) out.Set(r, c, (row[c] * inv) * w[c]);
    }
  });
  return absl::OkStatus();
}

}  // namespace lockstep::cpu
