// Token log-probabilities over the vocabulary on the CUDA backend (full softmax at a
// temperature; no top-k / top-p yet). Batch-invariant bit for bit: each row is reduced by
// one block alone, in an order fixed by the vocabulary size. Not bitwise equal to
// cpu::TokenLogprob (a different summation tree, CUDA's expf/logf vs glibc's); the tests
// state the measured gap. Pointers are DEVICE memory; work is enqueued, not synchronised.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "absl/status/status.h"
#include "numerics/tensor.h"

namespace lockstep::cuda {

// logits: (M, V) fp32/fp16/bf16; tokens: M device int32; logprobs: M device floats;
// logsumexp: M device floats or null. With z = float(logit) / temperature and
// m = max z: logprobs[r] = (z[tokens[r]] - m) - log Σ exp(z - m), logsumexp[r] =
// m + log Σ exp(z - m). temperature must be > 0 (greedy decoding has logprob 0 and needs
// no kernel). A token outside [0, V) is checked on the device: its logprob is NaN and
// *bad_row (device int32, if not null) = min(*bad_row, r); set it to INT32_MAX first.
absl::Status TokenLogprobs(ConstMatrixView logits, const int32_t* tokens, float temperature,
                           float* logprobs, float* logsumexp, int32_t* bad_row,
                           cudaStream_t stream);

}  // namespace lockstep::cuda
