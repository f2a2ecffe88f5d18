// Rotary embedding. The table is built in a fixed way (inv_freq in double ->
// float, angle = float(p) * inv_freq in float, cos/sin of that float angle in
// double -> float) so any backend can rebuild the same fp32 factors.
#include "numerics/cpu/rope.h"

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "numerics/cpu/parallel.h"

namespace lockstep::cpu {

RopeTable::RopeTable(int head_dim, double theta, int max_positions)
    : head_dim_(head_dim), max_positions_(max_positions) {
  if (head_dim <= 0 || head_dim % 2 != 0 || max_positions < 0 || !(theta > 0.0)) {
    throw std::invalid_argument(absl::StrCat("RopeTable: need an even head_dim > 0 (got ", head_dim,
                                             "), theta > 0 (got ", theta,
                                             ") and max_positions >= 0 (got ", max_positions, ")"));
  }
  const int half = head_dim / 2;
  std::vector<float> inv_freq(half);
  for (int i = 0; i < half; ++i) {
    inv_freq[i] = static_cast<float>(1.0 / std::pow(theta, (2.0 * i) / head_dim));
  }
  cos_.resize(static_cast<size_t>(max_positions) * half);
  sin_.resize(static_cast<size_t>(max_positions) * half);
  for (int p = 0; p < max_positions; ++p) {
    for (int i = 0; i < half; ++i) {
      const float angle = static_cast<float>(p) * inv_freq[i];
      cos_[int64_t{p} * half + i] = static_cast<float>(std::cos(static_cast<double>(angle)));
      sin_[int64_t{p} * half + i] = static_cast<float>(std::sin(static_cast<double>(angle)));
    }
  }
}

absl::Status ApplyRope(MatrixView x, int num_heads, std::span<const int32_t> positions,
                       const RopeTable& table) {
  const int d = table.head_dim(), half = d / 2;
  if (num_heads <= 0 || x.cols != int64_t{num_heads} * d) {
    return absl::InvalidArgumentError(absl::StrCat("ApplyRope: x has ", x.cols,
                                                   " columns; expected num_heads (", num_heads,
                                                   ") * head_dim (", d, ")"));
  }
  if (static_cast<int64_t>(positions.size()) != x.rows) {
    return absl::InvalidArgumentError(
        absl::StrCat("ApplyRope: ", positions.size(), " positions for ", x.rows, " rows"));
  }
  for (size_t t = 0; t < positions.size(); ++t) {
    if (positions[t] < 0 || positions[t] >= table.max_positions()) {
      return absl::OutOfRangeError(absl::StrCat(
          "ApplyRope: position ", positions[t], " (row ", t, ") is outside the rope table [0, ",
          table.max_positions(), "); build the RopeTable with a larger max_positions"));
    }
  }
  ParallelFor(x.rows, 8, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      const float* cs = table.cos_row(positions[t]);
      const float* sn = table.sin_row(positions[t]);
      for (int h = 0; h < num_heads; ++h) {
        const int64_t base = int64_t{h} * d;
        for (int i = 0; i < half; ++i) {
          const float a = x.Get(t, base + i), b = x.Get(t, base + i + half);
          const float lo = a * cs[i] - b * sn[i];
          const float hi = b * cs[i] + a * sn[i];
          x.Set(t, base + i, lo);
          x.Set(t, base + i + half, hi);
        }
      }
    }
  });
  return absl::OkStatus();
}

}  // namespace lockstep::cpu
