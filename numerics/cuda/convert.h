// Bulk dtype conversions on the CUDA backend: fp32 -> fp16/bf16 rounds to
// nearest even (cvt.rn; no FTZ, NaN -> 0x7FFF) and fp16/bf16 -> fp32 is exact,
// both bit for bit as numerics/dtype.h. Pointers are DEVICE memory; enqueued on `stream`.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "absl/status/status.h"
#include "numerics/dtype.h"

namespace lockstep::cuda {

// out[i] = round(in[i]) to `dtype` (a plain copy for kF32), i < n.
absl::Status ConvertFromFloat(const float* in, DType dtype, void* out, int64_t n,
                              cudaStream_t stream);
// out[i] = in[i] widened to fp32, i < n.
absl::Status ConvertToFloat(const void* in, DType dtype, float* out, int64_t n,
                            cudaStream_t stream);

}  // namespace lockstep::cuda
