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

// From the H200 sweep (small_m_gemm_bench --time, 2026-11-30): per M, the tiling whose
// worst ratio to the fastest tiling over 8 shape/dtype pairs was lowest (within 2.4 % at
// M <= 16, 7-8 % at M = 32, 64); at M = 128 the one fastest at 896x896, the shape that uses
// the kernel. Beyond 128 rows not measured: wider row tiles, to keep re-reads of W down.
SmallMConfig SmallMDefaultConfig(int64_t rows) {
  if (rows <= 16) return {2, 1, 12};
  if (rows <= 128) return {2, 2, 8};
  return {2, 4, 8};
}

}  // namespace lockstep::cuda::internal
