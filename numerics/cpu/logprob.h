// Log-probabilities and sampling on the CPU backend.
// The rollout records, and the trainer recomputes, the log-probability of the
// token under the distribution actually sampled from: softmax(logits / T)
// restricted to the top-k / top-p candidate set and renormalised. Both sides
// call TokenLogprob, so equal logits give equal bits. Every reduction runs
// over the vocabulary in ascending token id with fixed fp32 lanes: invariant
// to the batch. Candidate selection ties break toward the lower token id.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "numerics/tensor.h"

namespace lockstep::cpu {

struct SamplingParams {
  float temperature = 1.0f;  // 0 means greedy (argmax, lowest id on ties; logprob 0)
  int top_k = 0;             // 0 = off
  float top_p = 1.0f;        // 1 = off; keep the smallest prefix (by prob desc) with mass >= top_p
};

absl::Status ValidateSamplingParams(const SamplingParams& params);

// Full log-softmax of one row of logits at temperature T (no truncation): (V) floats.
std::vector<float> LogSoftmax(ConstMatrixView logits_row, float temperature);

// log p(token) under the sampled distribution for one row (1, V).
// Returns -inf if the token is outside the candidate set.
float TokenLogprob(ConstMatrixView logits_row, int32_t token, const SamplingParams& params);

// Batched: row m of logits (M, V) with tokens[m] -> logprobs[m].
absl::Status TokenLogprobs(ConstMatrixView logits, std::span<const int32_t> tokens,
                           const SamplingParams& params, std::span<float> logprobs);

struct SampledToken {
  int32_t token = 0;
  float logprob = 0.0f;  // == TokenLogprob(row, token, params), bit for bit
};

// Draws from the candidate distribution by inverse CDF over candidates in
// ascending token id, with the Philox uniform keyed by (seed, request, sample_index, position).
SampledToken SampleToken(ConstMatrixView logits_row, const SamplingParams& params, uint64_t seed,
                         uint32_t request, uint32_t sample_index, uint32_t position);

}  // namespace lockstep::cpu
