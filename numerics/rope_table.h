// The rotary-embedding factors every backend rotates with: one fp32 (cos, sin) table per
// (position, frequency), built once on the host in a fixed way, so prefill, decode and the
// trainer's forward — on any backend — see identical factors for the same position.
#pragma once

#include <cstdint>
#include <vector>

namespace lockstep {

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

}  // namespace lockstep
