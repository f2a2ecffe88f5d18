// Host side of the large-M wgmma GEMM (wgmma_gemm.h): which tiling each M runs with. The
// tiling never changes the bits (k_sliced_order.h), so this table is free to follow speed.
#include "numerics/cuda/wgmma_gemm.h"

namespace lockstep::cuda::internal {

WgmmaGemmConfig WgmmaGemmDefaultConfig(int64_t rows, int64_t out_features) {
  if (rows <= 256) return {64, 64, 10};
  if (rows <= 512 || out_features % 128 != 0) return {128, 64, 8};
  return {128, 128, 6};
}

}  // namespace lockstep::cuda::internal
