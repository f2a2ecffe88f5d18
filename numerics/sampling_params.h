// How a token is drawn from a row of logits: temperature, top-k, top-p. Backend-neutral:
// the CPU and CUDA backends, the rollout engine, the trainer and the wire format all read
// these same fields, so one request means one candidate set on every backend.
#pragma once

#include <cstdint>

#include "absl/status/status.h"

namespace lockstep {

struct SamplingParams {
  float temperature = 1.0f;  // 0 means greedy (argmax, lowest id on ties; logprob 0)
  int top_k = 0;             // 0 = off
  float top_p = 1.0f;        // 1 = off; keep the smallest prefix (by prob desc) with mass >= top_p
};

// InvalidArgument naming the field and its allowed range.
absl::Status ValidateSamplingParams(const SamplingParams& params);

struct SampledToken {
  int32_t token = 0;
  float logprob = 0.0f;  // == the backend's TokenLogprobs for (row, token, params), bit for bit
};

}  // namespace lockstep
