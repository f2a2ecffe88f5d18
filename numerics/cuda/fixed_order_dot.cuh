// The CPU backend's fixed-order dot product (numerics/cpu/fixed_order.h) on the device:
// 16 reduction lanes, lane j summing the terms e ≡ j (mod 16) in increasing e, then the
// halving tree j+8, j+4, j+2, j+1. Kernels that must give the CPU's bits (the fp32 linear,
// attention scores) keep their own loops over the terms and share this combine, so the
// tree exists once. All adds are _rn intrinsics: nvcc cannot contract or reorder them.
#pragma once

#include <cuda_runtime.h>

namespace lockstep::cuda::internal {

inline constexpr int kDotLanes = 16;  // numerics/cpu/fixed_order.h kReductionLanes

// (l0 + l2) + (l1 + l3) after l[j] += l[j + 8] and l[j] += l[j + 4]; `lanes` is clobbered.
__device__ __forceinline__ float CombineDotLanes(float (&lanes)[kDotLanes]) {
#pragma unroll
  for (int j = 0; j < 8; ++j) lanes[j] = __fadd_rn(lanes[j], lanes[j + 8]);
#pragma unroll
  for (int j = 0; j < 4; ++j) lanes[j] = __fadd_rn(lanes[j], lanes[j + 4]);
  lanes[0] = __fadd_rn(lanes[0], lanes[2]);
  lanes[1] = __fadd_rn(lanes[1], lanes[3]);
  return __fadd_rn(lanes[0], lanes[1]);
}

}  // namespace lockstep::cuda::internal
