// Backward ops of the CPU backend, used by the trainer. Inputs are the
// forward's stored activations (storage dtype, exactly what the forward
// read); gradients are FP32 arrays, row-major. Rounding in the forward is
// treated as identity (straight-through), as every mixed-precision trainer
// does. Guarantee: deterministic — every reduction (over rows for weight
// gradients, over keys for attention) runs in a fixed order that does not
// depend on the thread count; no atomics. Parameter-gradient outputs
// (dweight, dbias, dtable) are ACCUMULATED into (+=), so micro-batches add up
// in call order; input-gradient outputs (dx, dq, ...) are OVERWRITTEN.
#pragma once

#include <cstdint>
#include <span>

#include "absl/status/status.h"
#include "numerics/cpu/attention.h"
#include "numerics/cpu/linear.h"
#include "numerics/cpu/logprob.h"
#include "numerics/cpu/rope.h"
#include "numerics/tensor.h"

namespace lockstep::cpu {

// y = x·Wᵀ + b.  x: (M, K); dy: (M, N); dx: (M, K) or nullptr; dweight: (N, K)
// or nullptr; dbias: (N) or nullptr.
absl::Status LinearBackward(ConstMatrixView x, const LinearWeight& weight, const float* dy,
                            float* dx, float* dweight, float* dbias);

// y = x·rsqrt(mean(x²)+eps)·w.  x: (M, H); weight: (1, H); dy, dx: (M, H); dweight: (H).
absl::Status RmsNormBackward(ConstMatrixView x, ConstMatrixView weight, float eps, const float* dy,
                             float* dx, float* dweight);

// RoPE is a rotation: its backward rotates by the negative angle, in place.
// dx: (T, num_heads*head_dim).
absl::Status RopeBackward(float* dx, int64_t rows, int num_heads, std::span<const int32_t> positions,
                          const RopeTable& table);

// out = silu(gate)·up.  gate, up: (M, F); dy, dgate, dup: (M, F).
absl::Status SwiGluBackward(ConstMatrixView gate, ConstMatrixView up, const float* dy,
                            float* dgate, float* dup);

// Causal GQA attention of one sequence (as CausalAttention).  q: (T, Hq·D),
// k, v: (T, Hkv·D); dout, dq: (T, Hq·D); dk, dv: (T, Hkv·D) (overwritten; a kv
// head's gradient sums its query heads in ascending head order).
absl::Status CausalAttentionBackward(ConstMatrixView q, ConstMatrixView k, ConstMatrixView v,
                                     const AttentionShape& shape, const float* dout, float* dq,
                                     float* dk, float* dv);

// out[t] = table[ids[t]].  dy: (T, H); dtable: (V, H), rows accumulated in ascending t.
absl::Status EmbeddingBackward(std::span<const int32_t> ids, const float* dy, int64_t hidden,
                               int64_t vocab, float* dtable);

// d logprob(token) / d logits for one row, scaled by `dlogprob`, written to
// dlogits (V), ACCUMULATED (+=) so logprob and entropy terms add. The candidate set (top-k/top-p) is held fixed:
// tokens outside it get 0. Temperature included.
void TokenLogprobBackward(ConstMatrixView logits_row, int32_t token, const SamplingParams& params,
                          float dlogprob, float* dlogits);

// Entropy of the sampled distribution (candidate set, temperature) of one row,
// and its gradient w.r.t. the logits scaled by `dentropy`, accumulated (+=).
float TokenEntropy(ConstMatrixView logits_row, const SamplingParams& params);
void TokenEntropyBackward(ConstMatrixView logits_row, const SamplingParams& params, float dentropy,
                          float* dlogits);

}  // namespace lockstep::cpu
