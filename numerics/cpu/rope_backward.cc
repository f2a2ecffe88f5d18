// RopeBackward. The forward rotates each pair (a, b) = (x[i], x[i + d/2]) by
// the angle θ: (a·c − b·s, b·c + a·s) with the table's fp32 (c, s). Its
// Jacobian is that rotation, so the gradient is rotated by −θ with the same
// factors: (da, db) = (dlo·c + dhi·s, dhi·c − dlo·s). Element-wise; no reduction.
#include <string>

#include "absl/strings/str_cat.h"
#include "numerics/cpu/backward.h"
#include "numerics/cpu/parallel.h"

namespace lockstep::cpu {

absl::Status RopeBackward(float* dx, int64_t rows, int num_heads,
                          std::span<const int32_t> positions, const RopeTable& table) {
  const int d = table.head_dim(), half = d / 2;
  if (num_heads <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("RopeBackward: num_heads must be > 0, got ", num_heads));
  }
  if (static_cast<int64_t>(positions.size()) != rows) {
    return absl::InvalidArgumentError(
        absl::StrCat("RopeBackward: ", positions.size(), " positions for ", rows, " rows"));
  }
  for (size_t t = 0; t < positions.size(); ++t) {
    if (positions[t] < 0 || positions[t] >= table.max_positions()) {
      return absl::OutOfRangeError(absl::StrCat(
          "RopeBackward: position ", positions[t], " (row ", t, ") is outside the rope table [0, ",
          table.max_positions(), "); build the RopeTable with a larger max_positions"));
    }
  }
  if (rows > 0 && dx == nullptr) return absl::InvalidArgumentError("RopeBackward: dx is null");
  const int64_t width = int64_t{num_heads} * d;
  ParallelFor(rows, 8, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      const float* cs = table.cos_row(positions[t]);
      const float* sn = table.sin_row(positions[t]);
      float* row = dx + t * width;
      for (int h = 0; h < num_heads; ++h) {
        float* lo = row + int64_t{h} * d;
        float* hi = lo + half;
        for (int i = 0; i < half; ++i) {
          const float dlo = lo[i], dhi = hi[i];
          lo[i] = dlo * cs[i] + dhi * sn[i];
          hi[i] = dhi * cs[i] - dlo * sn[i];
        }
      }
    }
  });
  return absl::OkStatus();
}

}  // namespace lockstep::cpu
