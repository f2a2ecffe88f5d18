// RMSNorm on the CPU backend: y = round(x * rsqrt(mean(x²) + eps) * w).
// Bitwise batch-invariant: each row is reduced alone, in a fixed order that
// depends only on the row length. Also used for Qwen3's per-head q/k norm
// (rows = tokens × heads, cols = head_dim).
#pragma once

#include "absl/status/status.h"
#include "numerics/tensor.h"

namespace lockstep::cpu {

// x, out: (M, H); weight: (1, H) in any dtype. out may alias x.
absl::Status RmsNorm(ConstMatrixView x, ConstMatrixView weight, float eps, MatrixView out);

}  // namespace lockstep::cpu
