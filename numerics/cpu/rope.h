// Rotary position embedding, HF "rotate half" convention, on the CPU backend.
// For pair i < d/2 at position p, with inv_freq_i = 1 / theta^(2i/d):
//   out[i]       = x[i]·cos(p·inv_freq_i) − x[i + d/2]·sin(p·inv_freq_i)
//   out[i + d/2] = x[i + d/2]·cos(p·inv_freq_i) + x[i]·sin(p·inv_freq_i)
// cos/sin come from one precomputed fp32 table, so prefill, decode and the
// trainer's forward see identical factors for the same position.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "numerics/tensor.h"

namespace lockstep::cpu {

class RopeTable {
 public:
  RopeTable(int head_dim, double theta, int max_positions);
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

// x: (T, num_heads*head_dim), rotated in place; positions: (T).
absl::Status ApplyRope(MatrixView x, int num_heads, std::span<const int32_t> positions,
                       const RopeTable& table);

}  // namespace lockstep::cpu
