// Backward of the element-wise ops (elementwise.h): SwiGLU and the embedding
// lookup. SwiGLU has no reduction. The embedding gradient sums, per vocabulary
// row, the dy rows of every position holding that id, strictly in ascending
// position from +0.0f, and adds that sum to dtable once; work is split over
// distinct ids only, so the thread count cannot change a bit.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "numerics/cpu/backward.h"
#include "numerics/cpu/parallel.h"

namespace lockstep::cpu {

absl::Status SwiGluBackward(ConstMatrixView gate, ConstMatrixView up, const float* dy, float* dgate,
                            float* dup) {
  if (gate.rows != up.rows || gate.cols != up.cols) {
    return absl::InvalidArgumentError(absl::StrCat("SwiGluBackward: gate is (", gate.rows, ", ",
                                                   gate.cols, ") but up is (", up.rows, ", ",
                                                   up.cols, "); need equal shapes"));
  }
  const int64_t f = gate.cols;
  if (gate.rows * f > 0 && dy == nullptr) {
    return absl::InvalidArgumentError("SwiGluBackward: dy is null");
  }
  // silu(g) = g·σ(g) with σ(g) = 1 / (1 + exp(−g)); silu'(g) = σ·(1 + g·(1 − σ)).
  // silu itself is computed as the forward does, g / (1 + exp(−g)); the
  // forward's roundings (of silu and of the product) are taken as identity.
  ParallelFor(gate.rows, 8, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      for (int64_t c = 0; c < f; ++c) {
        const float g = gate.Get(r, c), u = up.Get(r, c), d = dy[r * f + c];
        const float denom = 1.0f + std::exp(-g);
        const float sigma = 1.0f / denom;
        if (dup != nullptr) dup[r * f + c] = d * (g / denom);
        if (dgate != nullptr) dgate[r * f + c] = (d * u) * (sigma * (1.0f + g * (1.0f - sigma)));
      }
    }
  });
  return absl::OkStatus();
}

absl::Status EmbeddingBackward(std::span<const int32_t> ids, const float* dy, int64_t hidden,
                               int64_t vocab, float* dtable) {
  for (size_t t = 0; t < ids.size(); ++t) {
    if (ids[t] < 0 || ids[t] >= vocab) {
      return absl::OutOfRangeError(absl::StrCat("EmbeddingBackward: token id ", ids[t],
                                                " at position ", t,
                                                " is outside the vocabulary [0, ", vocab, ")"));
    }
  }
  if (ids.empty() || hidden <= 0) return absl::OkStatus();
  if (dy == nullptr || dtable == nullptr) {
    return absl::InvalidArgumentError("EmbeddingBackward: dy and dtable must not be null");
  }
  // Positions sorted by (id, position): a stable sort keeps each id's
  // positions ascending. runs[i] .. runs[i + 1] is one id's run.
  std::vector<int64_t> order(ids.size());
  std::iota(order.begin(), order.end(), int64_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return ids[a] < ids[b]; });
  std::vector<int64_t> runs;
  for (size_t i = 0; i < order.size(); ++i) {
    if (i == 0 || ids[order[i]] != ids[order[i - 1]]) runs.push_back(static_cast<int64_t>(i));
  }
  runs.push_back(static_cast<int64_t>(order.size()));
  const int64_t num_runs = static_cast<int64_t>(runs.size()) - 1;
  ParallelFor(num_runs, 16, [&](int64_t begin, int64_t end) {
    std::vector<float> sum(static_cast<size_t>(hidden));
    for (int64_t run = begin; run < end; ++run) {
      std::fill(sum.begin(), sum.end(), 0.0f);
      for (int64_t i = runs[run]; i < runs[run + 1]; ++i) {
        const float* dy_row = dy + order[i] * hidden;
        for (int64_t c = 0; c < hidden; ++c) sum[c] += dy_row[c];
      }
      float* out = dtable + int64_t{ids[order[runs[run]]]} * hidden;
      for (int64_t c = 0; c < hidden; ++c) out[c] += sum[c];
    }
  });
  return absl::OkStatus();
}

}  // namespace lockstep::cpu
