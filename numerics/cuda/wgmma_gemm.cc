// Host side of the large-M wgmma GEMM (wgmma_gemm.h): which tiling each M runs with. The
// tiling never changes the bits (k_sliced_order.h), so this table is free to follow speed.
#include "numerics/cuda/wgmma_gemm.h"

namespace lockstep::cuda::internal {

// From the H200 sweeps (1.5B down, S = 4, 2026-11-30): 128x192 tiles with 4 stages were
// fastest from M = 2048 on. At M = 1024, where 128x192 leaves half the SMs idle, two CTAs
// per 128x192 tile (each half the K slices) and 128x96 with 8 stages were within the spread
// of each other with the weights in L2 (small_m_gemm_bench --sliced), but with weights
// rotated through more than L2 holds, as in a model (gemm_invariance_bench), the two-CTA
// tiling was faster (1.17-1.18 vs 1.23-1.25 of the heuristic). 64x128 at M <= 512. Other
// widths N take the nearest tiling that divides them.
WgmmaGemmConfig WgmmaGemmDefaultConfig(int64_t rows, int64_t out_features) {
  if (rows <= 512) {
    return out_features % 128 == 0 ? WgmmaGemmConfig{64, 128, 8, 1} : WgmmaGemmConfig{64, 64, 10, 1};
  }
  const int slice_groups = rows <= 1024 ? 2 : 1;
  if (out_features % 192 == 0) return {128, 192, 4, slice_groups};
  if (out_features % 128 == 0) {
    return slice_groups == 2 ? WgmmaGemmConfig{128, 128, 4, 2} : WgmmaGemmConfig{128, 128, 6, 1};
  }
  return {128, 64, 8, 1};
}

}  // namespace lockstep::cuda::internal
