// Shape checks for cuda::TokenLogprobs, then one launch (logprob_kernels.cu).
#include "numerics/cuda/logprob.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "numerics/cuda/cuda_status.h"
#include "numerics/cuda/device_rows.h"
#include "numerics/cuda/kernel_launch.h"
#include "numerics/status_macros.h"

namespace lockstep::cuda {

absl::Status TokenLogprobs(ConstMatrixView logits, const int32_t* tokens, float temperature,
                           float* logprobs, float* logsumexp, int32_t* bad_row,
                           cudaStream_t stream) {
  if (!(temperature > 0.0f) || !std::isfinite(temperature)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cuda::TokenLogprobs: temperature is ", temperature,
        "; need a finite value > 0 (temperature 0 is greedy: logprob 0, no kernel needed)"));
  }
  LOCKSTEP_RETURN_IF_ERROR(internal::CheckLayout("cuda::TokenLogprobs", "logits", logits));
  if (logits.rows == 0) return absl::OkStatus();
  if (logits.cols == 0) {
    return absl::InvalidArgumentError("cuda::TokenLogprobs: logits have no columns (V = 0)");
  }
  if (tokens == nullptr || logprobs == nullptr) {
    return absl::InvalidArgumentError("cuda::TokenLogprobs: tokens and logprobs must be set");
  }
  return CudaStatus(internal::LaunchTokenLogprobs(internal::ToDeviceRows(logits), tokens,
                                                  temperature, logprobs, logsumexp, bad_row,
                                                  stream),
                    "cuda::TokenLogprobs kernel launch");
}

}  // namespace lockstep::cuda
