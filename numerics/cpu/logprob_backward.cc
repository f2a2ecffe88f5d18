// Gradients of TokenLogprob and of the entropy of the sampled distribution.
// Both hold fixed the candidate set C that TokenLogprob uses (CandidateTokenIds,
// the same selection code), and recompute its softmax exactly as the forward
// does: z = logit / T, m = max_{c∈C} z_c, S = Σ_{c∈C} exp(z_c − m) in ascending
// id with the shared 16-lane order, p_c = exp(z_c − m) / S. Then, for c ∈ C,
//   d logprob(t) / d logit_c = (δ_ct − p_c) / T
//   d H / d logit_c           = −p_c·(log p_c + H) / T,  H = −Σ_c p_c·log p_c
// and 0 outside C. At temperature 0 (greedy) both quantities are constant,
// so their gradient is 0. Each row is independent: no cross-row reduction.
#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "numerics/cpu/backward.h"
#include "numerics/cpu/fixed_order.h"

namespace lockstep::cpu {
namespace {

// The renormalised distribution over the candidate set, in ascending id.
struct CandidateSoftmax {
  std::vector<int32_t> ids;
  std::vector<float> log_p;  // log p_c = (z_c − m) − log S
  std::vector<float> p;      // p_c = exp(z_c − m) / S
};

CandidateSoftmax Softmax(ConstMatrixView logits_row, const SamplingParams& params) {
  CandidateSoftmax out;
  out.ids = CandidateTokenIds(logits_row, params);
  const int64_t n = static_cast<int64_t>(out.ids.size());
  std::vector<float> z(static_cast<size_t>(n));
  float m = -std::numeric_limits<float>::infinity();
  for (int64_t c = 0; c < n; ++c) {
    z[c] = logits_row.Get(0, out.ids[c]) / params.temperature;
    m = std::max(m, z[c]);
  }
  const float sum = SumFixedOrder(n, [&](int64_t c) { return std::exp(z[c] - m); });
  const float log_sum = std::log(sum);
  out.log_p.resize(static_cast<size_t>(n));
  out.p.resize(static_cast<size_t>(n));
  for (int64_t c = 0; c < n; ++c) {
    out.log_p[c] = (z[c] - m) - log_sum;
    out.p[c] = std::exp(z[c] - m) / sum;
  }
  return out;
}

// −Σ p·log p in the 16-lane order; a term with p == 0 is 0 (its log p may be −inf).
float Entropy(const CandidateSoftmax& sm) {
  const float neg = SumFixedOrder(static_cast<int64_t>(sm.p.size()), [&](int64_t c) {
    return sm.p[c] == 0.0f ? 0.0f : sm.p[c] * sm.log_p[c];
  });
  return -neg;
}

void CheckRow(ConstMatrixView logits_row, const SamplingParams& params) {
  if (absl::Status s = ValidateSamplingParams(params); !s.ok()) {
    throw std::invalid_argument(std::string(s.message()));
  }
  if (logits_row.rows != 1) {
    throw std::invalid_argument(absl::StrCat("logits row must be (1, V), got (", logits_row.rows,
                                             ", ", logits_row.cols, ")"));
  }
}

}  // namespace

void TokenLogprobBackward(ConstMatrixView logits_row, int32_t token, const SamplingParams& params,
                          float dlogprob, float* dlogits) {
  CheckRow(logits_row, params);
  if (token < 0 || token >= logits_row.cols) {
    throw std::out_of_range(
        absl::StrCat("token id ", token, " is outside the vocabulary [0, ", logits_row.cols, ")"));
  }
  if (params.temperature == 0.0f) return;
  const CandidateSoftmax sm = Softmax(logits_row, params);
  // A token outside the set has logprob −inf for every nearby logit: no gradient.
  if (!std::binary_search(sm.ids.begin(), sm.ids.end(), token)) return;
  const float scale = dlogprob / params.temperature;
  for (size_t c = 0; c < sm.ids.size(); ++c) {
    const float delta = sm.ids[c] == token ? 1.0f : 0.0f;
    dlogits[sm.ids[c]] += (delta - sm.p[c]) * scale;
  }
}

float TokenEntropy(ConstMatrixView logits_row, const SamplingParams& params) {
  CheckRow(logits_row, params);
  if (params.temperature == 0.0f || logits_row.cols == 0) return 0.0f;
  return Entropy(Softmax(logits_row, params));
}

void TokenEntropyBackward(ConstMatrixView logits_row, const SamplingParams& params, float dentropy,
                          float* dlogits) {
  CheckRow(logits_row, params);
  if (params.temperature == 0.0f || logits_row.cols == 0) return;
  const CandidateSoftmax sm = Softmax(logits_row, params);
  const float entropy = Entropy(sm);
  const float scale = dentropy / params.temperature;
  for (size_t c = 0; c < sm.ids.size(); ++c) {
    if (sm.p[c] == 0.0f) continue;  // −p·(log p + H) → 0 as p → 0
    dlogits[sm.ids[c]] += (-sm.p[c] * (sm.log_p[c] + entropy)) * scale;
  }
}

}  // namespace lockstep::cpu
