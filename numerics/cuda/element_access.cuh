// Device-side element loads and stores for the three storage dtypes, and the
// host-side dispatch from a run-time StorageType to a compile-time element
// type. Loads widen exactly; stores round to nearest even (cvt.rn), matching
// numerics/dtype.h bit for bit (tests/gpu checks every fp16/bf16 pattern).
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

#include "numerics/cuda/kernel_launch.h"

namespace lockstep::cuda::internal {

__device__ __forceinline__ float ToFloat(float v) { return v; }
__device__ __forceinline__ float ToFloat(__half v) { return __half2float(v); }
__device__ __forceinline__ float ToFloat(__nv_bfloat16 v) { return __bfloat162float(v); }

template <typename T>
__device__ __forceinline__ T FromFloat(float v);
template <>
__device__ __forceinline__ float FromFloat<float>(float v) {
  return v;
}
template <>
__device__ __forceinline__ __half FromFloat<__half>(float v) {
  return __float2half_rn(v);
}
template <>
__device__ __forceinline__ __nv_bfloat16 FromFloat<__nv_bfloat16>(float v) {
  return __float2bfloat16_rn(v);
}

// Calls f(T{}) with T the element type of `type`; returns what f returns.
template <typename F>
cudaError_t DispatchStorageType(StorageType type, F&& f) {
  switch (type) {
    case StorageType::kF32:
      return f(float{});
    case StorageType::kF16:
      return f(__half{});
    case StorageType::kBF16:
      return f(__nv_bfloat16{});
  }
  return cudaErrorInvalidValue;
}

// Number of blocks for a grid of `work` items at `per_block` items each.
inline unsigned int BlocksFor(int64_t work, int64_t per_block) {
  return static_cast<unsigned int>((work + per_block - 1) / per_block);
}

}  // namespace lockstep::cuda::internal
