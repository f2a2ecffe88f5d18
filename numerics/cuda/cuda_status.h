// CUDA runtime errors as absl::Status. Nothing here touches numerics; every
// CUDA call in lockstep goes through CudaStatus so an error names the call that
// failed and is returned to the caller, never turned into exit().
#pragma once

#include <cuda_runtime_api.h>

#include <string_view>

#include "absl/status/status.h"

namespace lockstep::cuda {

// OK for cudaSuccess; otherwise an error naming `what` (the call or op) and
// CUDA's own name and text for `error`. No device present / driver too old map
// to FailedPrecondition (the host needs a GPU or a newer driver), everything
// else to Internal.
absl::Status CudaStatus(cudaError_t error, std::string_view what);

// The status of the last kernel launch on this thread (cudaGetLastError), for
// use right after a <<<...>>> launch. Clears CUDA's sticky launch error.
absl::Status LastLaunchStatus(std::string_view kernel);

}  // namespace lockstep::cuda

// Returns CudaStatus(expr, #expr) from the enclosing function if `expr` (a
// cudaError_t) is not cudaSuccess.
#define LOCKSTEP_RETURN_IF_CUDA_ERROR(expr)                             \
  do {                                                                  \
    const cudaError_t lockstep_cuda_error_ = (expr);                    \
    if (lockstep_cuda_error_ != cudaSuccess) {                          \
      return ::lockstep::cuda::CudaStatus(lockstep_cuda_error_, #expr); \
    }                                                                   \
  } while (0)
