// Host side of the large-M wgmma GEMM (wgmma_gemm.h): which tiling each M runs with. The
// tiling never changes the bits (k_sliced_order.h), so this table is free to follow speed.
#include "numerics/cuda/wgmma_gemm.h"

namespace lockstep::cuda::internal {

// From the H200 sweep (small_m_gemm_bench --sliced, 1.5B down, S = 4, 2026-11-30): 128x192
// tiles with 4 stages were fastest from M = 2048 on, and at M = 1024 as clusters of two CTAs
// per tile (64 tiles would leave half the SMs idle); 64x128 at M <= 512. Other widths N
// take the nearest tiling that divides them.
WgmmaGemmConfig WgmmaGemmDefaultConfig(int64_t rows, int64_t out_features) {
  if (rows <= 512) {
    return out_features % 128 == 0 ? WgmmaGemmConfig{64, 128, 8, 1} : WgmmaGemmConfig{64, 64, 10, 1};
  }
  const int slice_groups = rows <= 1024 ? 2 : 1;
  if (out_features % 192 == 0) return {128, 192, 4, slice_groups};
  if (out_features % 128 == 0) return slice_groups == 2 ? WgmmaGemmConfig{128, 128, 4, 2} : WgmmaGemmConfig{128, 128, 6, 1};
  return {128, 64, 8, 1};
}

}  // namespace lockstep::cuda::internal
