// Argument checks for the bulk conversions, then one kernel launch each
// (kernels in convert_kernels.cu).
#include "numerics/cuda/convert.h"

#include "numerics/cuda/cuda_status.h"
#include "numerics/cuda/device_rows.h"
#include "numerics/cuda/kernel_launch.h"

namespace lockstep::cuda {

absl::Status ConvertFromFloat(const float* in, DType dtype, void* out, int64_t n,
                              cudaStream_t stream) {
  if (n < 0) return absl::InvalidArgumentError("cuda::ConvertFromFloat: n < 0");
  if (n > 0 && (in == nullptr || out == nullptr)) {
    return absl::InvalidArgumentError("cuda::ConvertFromFloat: null pointer");
  }
  return CudaStatus(
      internal::LaunchConvertFromFloat(in, internal::ToStorageType(dtype), out, n, stream),
      "cuda::ConvertFromFloat kernel launch");
}

absl::Status ConvertToFloat(const void* in, DType dtype, float* out, int64_t n,
                            cudaStream_t stream) {
  if (n < 0) return absl::InvalidArgumentError("cuda::ConvertToFloat: n < 0");
  if (n > 0 && (in == nullptr || out == nullptr)) {
    return absl::InvalidArgumentError("cuda::ConvertToFloat: null pointer");
  }
  return CudaStatus(
      internal::LaunchConvertToFloat(in, internal::ToStorageType(dtype), out, n, stream),
      "cuda::ConvertToFloat kernel launch");
}

}  // namespace lockstep::cuda
