// The table is built in a fixed way (inv_freq in double -> float, angle = float(p) *
// inv_freq in float, cos/sin of that float angle in double -> float), so any backend can
// upload the same fp32 factors.
#include "numerics/rope_table.h"

#include <cmath>
#include <stdexcept>

#include "absl/strings/str_cat.h"

namespace lockstep {

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

}  // namespace lockstep
