// Linear layer y = x · Wᵀ (+ b) on the CPU backend.
// Bitwise batch-invariant: y[m, n] depends only on row m of x, row n of W and
// b[n]; the K reduction uses a fixed order (kLinearLanes interleaved fp32
// partial sums, combined by a fixed tree) that depends on K alone.
// Products and sums are fp32 (no FMA); the result is rounded once to out.dtype.
#pragma once

#include <vector>

#include "absl/status/status.h"
#include "numerics/tensor.h"

namespace lockstep::cpu {

inline constexpr int kLinearLanes = 16;

// A weight (N, K) prepared once for repeated use: an exact fp32 copy of the
// stored values (widening is exact, so this changes no result, only speed).
struct LinearWeight {
  ConstMatrixView weight;         // (N, K), storage dtype
  const void* bias = nullptr;     // (N) in weight.dtype, or nullptr
  std::vector<float> weight_f32;  // (N, K) row-major
  std::vector<float> bias_f32;    // (N) or empty
  int64_t out_features() const { return weight.rows; }
  int64_t in_features() const { return weight.cols; }
};

LinearWeight PrepareLinearWeight(ConstMatrixView weight, const void* bias);

// x: (M, K); out: (M, N). Shapes are checked.
absl::Status Linear(ConstMatrixView x, const LinearWeight& weight, MatrixView out);

// The fixed-order fp32 dot product used by Linear (exposed for attention and tests).
float DotFixedOrder(const float* a, const float* b, int64_t n);

}  // namespace lockstep::cpu
