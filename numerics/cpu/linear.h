// Linear layer y = x · Wᵀ (+ b) on the CPU backend.
// Bitwise batch-invariant: y[m, n] depends only on row m of x, row n of W and
// b[n]; the K reduction uses a fixed order (kLinearLanes interleaved fp32
// partial sums, combined by a fixed tree) that depends on K alone.
// Products and sums are fp32 (no FMA); the result is rounded once to out.dtype.
#pragma once

#include <string_view>
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

// Instruction sets the Linear kernel has a code path for. All give identical
// bits (lanes are explicit, no FMA); only speed differs.
enum class CpuIsa { kBaseline, kAvx2, kAvx512 };
CpuIsa DetectedCpuIsa();   // the best one this CPU supports
CpuIsa ActiveLinearIsa();  // the one Linear uses now
std::string_view CpuIsaName(CpuIsa isa);
// Forces Linear onto `isa` (must be <= DetectedCpuIsa()); tests use it to show
// the code paths agree bit for bit.
void SetLinearIsaForTesting(CpuIsa isa);

}  // namespace lockstep::cpu
