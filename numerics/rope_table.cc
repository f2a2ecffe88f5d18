// The table is built in a fixed way (inv_freq in double -> float, angle = float(p) *
// inv_freq in float, cos/sin of that float angle in double -> float), so any backend can
// upload the same fp32 factors. Llama-3 scaling only changes the double inv_freq
// before that rounding.
#include "numerics/rope_table.h"

#include <cmath>
#include <stdexcept>

#include "absl/strings/str_cat.h"

namespace lockstep {

namespace {

void CheckShape(int head_dim, int max_positions, const char* what, double value) {
  if (head_dim <= 0 || head_dim % 2 != 0 || max_positions < 0 || !(value > 0.0)) {
    throw std::invalid_argument(absl::StrCat("RopeTable: need an even head_dim > 0 (got ", head_dim,
                                             "), ", what, " > 0 (got ", value,
                                             ") and max_positions >= 0 (got ", max_positions, ")"));
  }
}

}  // namespace

std::vector<double> RopeInverseFrequencies(int head_dim, double theta,
                                           const std::optional<RopeLlama3Scaling>& scaling) {
  CheckShape(head_dim, 0, "theta", theta);
  const int half = head_dim / 2;
  std::vector<double> inv_freq(half);
  for (int i = 0; i < half; ++i) inv_freq[i] = 1.0 / std::pow(theta, (2.0 * i) / head_dim);
  if (!scaling) return inv_freq;
  const RopeLlama3Scaling& s = *scaling;
  const double low_freq_wavelen = s.original_max_position_embeddings / s.low_freq_factor;
  const double high_freq_wavelen = s.original_max_position_embeddings / s.high_freq_factor;
  for (double& f : inv_freq) {
    const double wavelen = 2.0 * M_PI / f;
    if (wavelen < high_freq_wavelen) continue;  // high frequencies are kept
    if (wavelen > low_freq_wavelen) {
      f /= s.factor;  // low frequencies are scaled
      continue;
    }
    const double smooth = (s.original_max_position_embeddings / wavelen - s.low_freq_factor) /
                          (s.high_freq_factor - s.low_freq_factor);
    f = (1.0 - smooth) * f / s.factor + smooth * f;
  }
  return inv_freq;
}

RopeTable::RopeTable(int head_dim, double theta, int max_positions)
    : RopeTable(head_dim, (CheckShape(head_dim, max_positions, "theta", theta),
                           RopeInverseFrequencies(head_dim, theta)),
                max_positions) {}

RopeTable::RopeTable(int head_dim, const std::vector<double>& inverse_frequencies, int max_positions)
    : head_dim_(head_dim), max_positions_(max_positions) {
  CheckShape(head_dim, max_positions, "frequencies", 1.0);
  const int half = head_dim / 2;
  if (static_cast<int>(inverse_frequencies.size()) != half) {
    throw std::invalid_argument(absl::StrCat("RopeTable: ", inverse_frequencies.size(),
                                             " inverse frequencies for head_dim ", head_dim,
                                             " (need ", half, ")"));
  }
  std::vector<float> inv_freq(half);
  for (int i = 0; i < half; ++i) inv_freq[i] = static_cast<float>(inverse_frequencies[i]);
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
