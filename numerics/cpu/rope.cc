// Rotary embedding on the CPU backend, with the factors of numerics/rope_table.h.
#include "numerics/cpu/rope.h"

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "numerics/cpu/parallel.h"

namespace lockstep::cpu {

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
