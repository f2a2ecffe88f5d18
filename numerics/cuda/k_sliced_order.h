// The K-sliced chain order: the one summation order shared by lockstep's own GEMM kernels
// (small_m_gemm.h for few rows, wgmma_gemm.h for many), so that a plan can hand different
// M to different kernels and still give every row the same bits. For S = k_slices:
//   K is cut into S equal contiguous slices (each a multiple of 64 columns);
//   p_s = +0, then p_s = MMA(p_s, W[f, k0:k0+16], X[r, k0:k0+16]) for the k16 steps of slice
//         s in increasing k0 (one fp32 tensor-core chain per slice);
//   y = round_rn(((p_0 + p_1) + p_2) + ... + p_{S-1}), each + an fp32 add (RN).
// S = 1 is the plain chain, which on an H200 equals cuBLASLt's split-K-1 kernels bit for bit
// (bench/RESULTS.md). S > 1 gives small M S-fold shorter dependent chains (more SMs busy),
// while a large-M kernel pays only a second accumulator set and S - 1 adds per element.
#pragma once

#include <cstdint>

namespace lockstep::cuda::internal {

inline constexpr int kKSliceGranule = 64;  // every slice is a whole number of 64-column blocks
inline constexpr int kMaxKSlices = 8;

// Whether K can be cut into `k_slices` slices of the order above.
inline bool KSlicesFit(int64_t k, int k_slices) {
  return k_slices >= 1 && k_slices <= kMaxKSlices && k > 0 &&
         k % (int64_t{kKSliceGranule} * k_slices) == 0;
}

}  // namespace lockstep::cuda::internal
