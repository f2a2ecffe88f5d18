// Maps cudaError_t to absl::Status with the failing call named.
#include "numerics/cuda/cuda_status.h"

#include <string>

#include "absl/strings/str_cat.h"

namespace lockstep::cuda {

absl::Status CudaStatus(cudaError_t error, std::string_view what) {
  if (error == cudaSuccess) return absl::OkStatus();
  std::string message = absl::StrCat(std::string(what), " failed: ", cudaGetErrorName(error), " (",
                                     cudaGetErrorString(error), ")");
  switch (error) {
    case cudaErrorNoDevice:
    case cudaErrorInsufficientDriver:
    case cudaErrorCallRequiresNewerDriver:
      return absl::FailedPreconditionError(
          absl::StrCat(message, "; this needs an NVIDIA GPU with a driver for CUDA ",
                       CUDART_VERSION / 1000, ".", (CUDART_VERSION % 1000) / 10, " or newer"));
    case cudaErrorMemoryAllocation:
      return absl::ResourceExhaustedError(message);
    case cudaErrorInvalidValue:
    case cudaErrorInvalidConfiguration:
      return absl::InvalidArgumentError(message);
    default:
      return absl::InternalError(message);
  }
}

absl::Status LastLaunchStatus(std::string_view kernel) {
  return CudaStatus(cudaGetLastError(), absl::StrCat("launch of ", std::string(kernel)));
}

}  // namespace lockstep::cuda
