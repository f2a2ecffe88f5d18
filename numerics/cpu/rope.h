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
#include "numerics/rope_table.h"
#include "numerics/tensor.h"

namespace lockstep::cpu {

using lockstep::RopeTable;  // backend-neutral (numerics/rope_table.h)

// x: (T, num_heads*head_dim), rotated in place; positions: (T).
absl::Status ApplyRope(MatrixView x, int num_heads, std::span<const int32_t> positions,
                       const RopeTable& table);

}  // namespace lockstep::cpu
