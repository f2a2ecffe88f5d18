// The rotary-embedding factors every backend rotates with: one fp32 (cos, sin) table per
// (position, frequency), built once on the host in a fixed way, so prefill, decode and the
// trainer's forward — on any backend — see identical factors for the same position.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace lockstep {

// Llama 3's frequency-dependent RoPE scaling (config.json rope_scaling with
// rope_type "llama3"), as transformers' _compute_llama3_parameters: wavelengths
// shorter than original_max_position_embeddings / high_freq_factor keep their
// frequency, longer than original / low_freq_factor are divided by `factor`,
// and those between are interpolated smoothly.
struct RopeLlama3Scaling {
  double factor = 8.0;
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
  double original_max_position_embeddings = 8192;
};

// The head_dim/2 inverse frequencies 1 / theta^(2i / head_dim), in double,
// with `scaling` applied when given.
std::vector<double> RopeInverseFrequencies(int head_dim, double theta,
                                           const std::optional<RopeLlama3Scaling>& scaling = {});

class RopeTable {
 public:
  RopeTable(int head_dim, double theta, int max_positions);
  // From explicit inverse frequencies (head_dim/2 of them, e.g. RopeInverseFrequencies),
  // each rounded to float as the plain constructor rounds its own.
  RopeTable(int head_dim, const std::vector<double>& inverse_frequencies, int max_positions);
  int head_dim() const { return head_dim_; }
  int max_positions() const { return max_positions_; }
  const float* cos_row(int position) const { return cos_.data() + int64_t{position} * (head_dim_ / 2); }
  const float* sin_row(int position) const { return sin_.data() + int64_t{position} * (head_dim_ / 2); }

 private:
  int head_dim_;
  int max_positions_;
  std::vector<float> cos_;  // (max_positions, head_dim/2)
  std::vector<float> sin_;
};

}  // namespace lockstep
