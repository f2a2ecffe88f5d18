// CUDA device query through the runtime API.
#include "numerics/cuda/device_info.h"

#include <cuda_runtime_api.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "numerics/cuda/cuda_status.h"

namespace lockstep::cuda {

absl::StatusOr<DeviceInfo> CurrentDevice() {
  int count = 0;
  LOCKSTEP_RETURN_IF_CUDA_ERROR(cudaGetDeviceCount(&count));
  if (count == 0) {
    return absl::FailedPreconditionError("cudaGetDeviceCount: no CUDA device on this host");
  }
  DeviceInfo info;
  LOCKSTEP_RETURN_IF_CUDA_ERROR(cudaGetDevice(&info.ordinal));
  cudaDeviceProp prop;
  LOCKSTEP_RETURN_IF_CUDA_ERROR(cudaGetDeviceProperties(&prop, info.ordinal));
  info.name = prop.name;
  info.compute_major = prop.major;
  info.compute_minor = prop.minor;
  info.multiprocessors = prop.multiProcessorCount;
  info.global_memory_bytes = prop.totalGlobalMem;
  LOCKSTEP_RETURN_IF_CUDA_ERROR(cudaDriverGetVersion(&info.driver_version));
  LOCKSTEP_RETURN_IF_CUDA_ERROR(cudaRuntimeGetVersion(&info.runtime_version));
  return info;
}

std::string DescribeDevice(const DeviceInfo& info) {
  return absl::StrFormat("%s (sm_%d%d, %d SMs, %.1f GiB, driver %d.%d, runtime %d.%d)", info.name,
                         info.compute_major, info.compute_minor, info.multiprocessors,
                         static_cast<double>(info.global_memory_bytes) / (1 << 30),
                         info.driver_version / 1000, (info.driver_version % 1000) / 10,
                         info.runtime_version / 1000, (info.runtime_version % 1000) / 10);
}

}  // namespace lockstep::cuda
