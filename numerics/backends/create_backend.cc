// CreateBackend: the only place that names every backend compiled into this build.
#include "numerics/backends/create_backend.h"

#include "numerics/cpu/cpu_backend.h"
#if LOCKSTEP_HAVE_CUDA
#include "numerics/cuda/cuda_backend.h"
#endif

namespace lockstep {

absl::StatusOr<std::unique_ptr<Backend>> CreateBackend(const BackendOptions& options) {
  switch (options.device) {
    case Device::kCpu:
      return cpu::CreateCpuBackend(options);
    case Device::kCuda:
#if LOCKSTEP_HAVE_CUDA
      return cuda::CreateCudaBackend(options);
#else
      return absl::FailedPreconditionError(
          "device = cuda, but this lockstep was built without the CUDA backend (nvcc was not "
          "found when CMake configured the build); rebuild on a machine with the CUDA toolkit, "
          "or use device = cpu");
#endif
  }
  return absl::InvalidArgumentError("unknown device");
}

}  // namespace lockstep
