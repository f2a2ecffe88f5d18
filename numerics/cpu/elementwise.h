// Row-wise ops with no reduction on the CPU backend: embedding lookup,
// residual add, SwiGLU. Each output element depends only on the matching
// input elements, so all are trivially batch-invariant.
#pragma once

#include <cstdint>
#include <span>

#include "absl/status/status.h"
#include "numerics/tensor.h"

namespace lockstep::cpu {

// out[t, :] = table[ids[t], :] (exact copy; rounds if dtypes differ). ids are range-checked.
absl::Status Embedding(ConstMatrixView table, std::span<const int32_t> ids, MatrixView out);

// out = round(a + b), fp32 add. out may alias a or b.
absl::Status AddResidual(ConstMatrixView a, ConstMatrixView b, MatrixView out);

// out = round(round(silu(gate)) * up), silu(g) = g / (1 + exp(−g)) in fp32.
// (The intermediate rounding mirrors HF's act_fn(gate_proj(x)) * up_proj(x).)
absl::Status SwiGlu(ConstMatrixView gate, ConstMatrixView up, MatrixView out);

}  // namespace lockstep::cpu
