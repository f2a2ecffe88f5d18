// Host side of the small-M fixed-order GEMM (small_m_gemm.h): which problems the kernel
// takes and which tiling each M runs with. The tiling never changes the bits (one fp32
// chain per element over K in k16 steps), so the table below is free to follow speed.
#include "numerics/cuda/small_m_gemm.h"

namespace lockstep::cuda::internal {

bool SmallMGemmSupports(StorageType type, int64_t out_features, int64_t in_features) {
  return (type == StorageType::kBF16 || type == StorageType::kF16) && out_features > 0 &&
         out_features % 16 == 0 && in_features > 0 && in_features % 64 == 0 &&
         out_features <= int64_t{65535} * 16 && in_features <= (int64_t{1} << 30);
}

SmallMConfig SmallMDefaultConfig(int64_t rows) {
  if (rows <= 8) return {1, 1, 16};
  if (rows <= 16) return {1, 2, 12};
  if (rows <= 32) return {1, 4, 8};
  if (rows <= 64) return {2, 8, 6};
  return {4, 16, 3};
}

}  // namespace lockstep::cuda::internal
