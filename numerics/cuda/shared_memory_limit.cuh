// Raises a kernel's dynamic shared-memory limit (48 KiB unless raised) once per device: the
// attribute is per device, so each launcher keeps one bit per device in `raised_on_devices`
// and calls this before every launch, which after the first costs one cudaGetDevice. The
// first launch on a device must not be inside a graph capture; the callers' first launches
// are eager (a linear plan's self-check, a prefill or a graph's first, eager step). Two
// threads raising it at once is harmless.
#pragma once

#include <cuda_runtime.h>

#include <atomic>
#include <cstdint>

namespace lockstep::cuda::internal {

inline cudaError_t RaiseSharedMemoryLimitOnce(const void* kernel, int bytes,
                                              std::atomic<uint64_t>& raised_on_devices) {
  int device = 0;
  if (const cudaError_t e = cudaGetDevice(&device); e != cudaSuccess) return e;
  const uint64_t device_bit = device < 64 ? uint64_t{1} << device : 0;  // 0: ask every time
  if (device_bit != 0 && (raised_on_devices.load(std::memory_order_relaxed) & device_bit) != 0) {
    return cudaSuccess;
  }
  const cudaError_t e =
      cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, bytes);
  if (e == cudaSuccess) raised_on_devices.fetch_or(device_bit, std::memory_order_relaxed);
  return e;
}

}  // namespace lockstep::cuda::internal
