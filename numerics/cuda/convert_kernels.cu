// Bulk fp32 <-> fp16/bf16 conversion kernels (cvt.rn narrowing, exact widening).
// Element-wise, so trivially batch-invariant.
#include <cuda_runtime.h>

#include <cstdint>

#include "numerics/cuda/element_access.cuh"
#include "numerics/cuda/kernel_launch.h"

namespace lockstep::cuda::internal {
namespace {

constexpr int kConvertThreads = 256;
constexpr int64_t kMaxConvertBlocks = 65536;  // grid-stride beyond this

template <typename T>
__global__ void __launch_bounds__(kConvertThreads)
    FromFloatKernel(const float* in, T* out, int64_t n) {
  const int64_t stride = int64_t{gridDim.x} * kConvertThreads;
  for (int64_t i = int64_t{blockIdx.x} * kConvertThreads + threadIdx.x; i < n; i += stride) {
    out[i] = FromFloat<T>(in[i]);
  }
}

template <typename T>
__global__ void __launch_bounds__(kConvertThreads)
    ToFloatKernel(const T* in, float* out, int64_t n) {
  const int64_t stride = int64_t{gridDim.x} * kConvertThreads;
  for (int64_t i = int64_t{blockIdx.x} * kConvertThreads + threadIdx.x; i < n; i += stride) {
    out[i] = ToFloat(in[i]);
  }
}

unsigned int ConvertBlocks(int64_t n) {
  const int64_t blocks = (n + kConvertThreads - 1) / kConvertThreads;
  return static_cast<unsigned int>(blocks < kMaxConvertBlocks ? blocks : kMaxConvertBlocks);
}

}  // namespace

cudaError_t LaunchConvertFromFloat(const float* in, StorageType type, void* out, int64_t n,
                                   cudaStream_t stream) {
  if (n <= 0) return cudaSuccess;
  return DispatchStorageType(type, [&](auto tag) {
    using T = decltype(tag);
    FromFloatKernel<T>
        <<<ConvertBlocks(n), kConvertThreads, 0, stream>>>(in, static_cast<T*>(out), n);
    return cudaGetLastError();
  });
}

cudaError_t LaunchConvertToFloat(const void* in, StorageType type, float* out, int64_t n,
                                 cudaStream_t stream) {
  if (n <= 0) return cudaSuccess;
  return DispatchStorageType(type, [&](auto tag) {
    using T = decltype(tag);
    ToFloatKernel<T>
        <<<ConvertBlocks(n), kConvertThreads, 0, stream>>>(static_cast<const T*>(in), out, n);
    return cudaGetLastError();
  });
}

}  // namespace lockstep::cuda::internal
