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
#include "numerics/sampling_params.h"
#include "numerics/tensor.h"

namespace lockstep::cpu {

using lockstep::SamplingParams;  // backend-neutral (numerics/sampling_params.h)
using lockstep::SampledToken;
using lockstep::ValidateSamplingParams;

// The single-row functions below cannot return a Status: they throw
// std::invalid_argument for params that ValidateSamplingParams rejects and
// std::out_of_range for a token id outside [0, V). Validate params once up front.

// Full log-softmax of one row of logits at temperature T (no truncation): (V) floats.
std::vector<float> LogSoftmax(ConstMatrixView logits_row, float temperature);

// log p(token) under the sampled distribution for one row (1, V).
// Returns -inf if the token is outside the candidate set.
float TokenLogprob(ConstMatrixView logits_row, int32_t token, const SamplingParams& params);

// Batched: row m of logits (M, V) with tokens[m] -> logprobs[m].
absl::Status TokenLogprobs(ConstMatrixView logits, std::span<const int32_t> tokens,
                           const SamplingParams& params, std::span<float> logprobs);

// The candidate set TokenLogprob and SampleToken use for this row, in
// ascending token id: top-k, then top-p over the renormalised top-k set; all V
// ids when neither is active; {argmax} at temperature 0. Backward ops
// (backward.h) hold exactly this set fixed. Throws like TokenLogprob.
std::vector<int32_t> CandidateTokenIds(ConstMatrixView logits_row, const SamplingParams& params);

// Draws from the candidate distribution by inverse CDF over candidates in
// ascending token id, with the Philox uniform keyed by (seed, request, sample_index, position):
// the first candidate whose sequential fp32 cumulative weight exp(z - m) exceeds u * total.
// (If rounding leaves u * total == total, the last candidate with non-zero weight is taken.)
SampledToken SampleToken(ConstMatrixView logits_row, const SamplingParams& params, uint64_t seed,
                         uint32_t request, uint32_t sample_index, uint32_t position);

}  // namespace lockstep::cpu
