// Log-probabilities and sampling. TokenLogprob and SampleToken share
// ScaledLogits -> SelectCandidates -> CandidateLogprob, so the logprob the
// rollout records is computed by exactly the code the trainer runs.
#include "numerics/cpu/logprob.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>

#include "absl/strings/str_cat.h"
#include "numerics/cpu/fixed_order.h"
#include "numerics/cpu/parallel.h"
#include "numerics/philox.h"

namespace lockstep::cpu {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

void ThrowIfInvalid(const SamplingParams& params) {
  if (absl::Status s = ValidateSamplingParams(params); !s.ok()) {
    throw std::invalid_argument(std::string(s.message()));
  }
}

// z_i = float(logit_i) / T.
std::vector<float> ScaledLogits(ConstMatrixView row, float temperature) {
  std::vector<float> z(static_cast<size_t>(row.cols));
  for (int64_t i = 0; i < row.cols; ++i) z[i] = row.Get(0, i) / temperature;
  return z;
}

int32_t Argmax(ConstMatrixView row) {
  int32_t best = 0;
  float best_value = row.cols > 0 ? row.Get(0, 0) : 0.0f;
  for (int64_t i = 1; i < row.cols; ++i) {
    const float v = row.Get(0, i);
    if (v > best_value || (std::isnan(best_value) && !std::isnan(v))) {
      best_value = v;
      best = static_cast<int32_t>(i);
    }
  }
  return best;
}

// A sort key that is a strict weak order even with NaN logits (NaN ranks last).
float RankKey(float z) { return std::isnan(z) ? kNegInf : z; }

// The candidate set in ascending token id. Empty `ids` with all == true
// stands for the whole vocabulary (the common case, kept allocation-free).
struct Candidates {
  bool all = true;
  std::vector<int32_t> ids;
  int64_t size(int64_t vocab) const { return all ? vocab : static_cast<int64_t>(ids.size()); }
  int32_t id(int64_t k) const { return all ? static_cast<int32_t>(k) : ids[k]; }
};

float CandidateMax(const std::vector<float>& z, const Candidates& c) {
  float m = kNegInf;
  const int64_t n = c.size(static_cast<int64_t>(z.size()));
  for (int64_t k = 0; k < n; ++k) m = std::max(m, z[c.id(k)]);
  return m;
}

// Σ exp(z_i − m) over the candidates in ascending id, in the 16-lane order.
float CandidateSum(const std::vector<float>& z, const Candidates& c, float m) {
  return SumFixedOrder(c.size(static_cast<int64_t>(z.size())),
                       [&](int64_t k) { return std::exp(z[c.id(k)] - m); });
}

Candidates SelectCandidates(const std::vector<float>& z, const SamplingParams& params) {
  const int64_t vocab = static_cast<int64_t>(z.size());
  Candidates out;
  const bool use_top_k = params.top_k > 0 && params.top_k < vocab;
  const bool use_top_p = params.top_p < 1.0f;
  if (!use_top_k && !use_top_p) return out;
  // Highest z first, ties toward the lower id.
  auto by_z_desc = [&](int32_t a, int32_t b) {
    const float za = RankKey(z[a]), zb = RankKey(z[b]);
    return za > zb || (za == zb && a < b);
  };
  std::vector<int32_t> order(static_cast<size_t>(vocab));
  std::iota(order.begin(), order.end(), 0);
  if (use_top_k) {
    std::partial_sort(order.begin(), order.begin() + params.top_k, order.end(), by_z_desc);
    order.resize(static_cast<size_t>(params.top_k));
  }
  if (use_top_p) {
    // Probabilities renormalised over the top-k set (summed in ascending id).
    Candidates top_k_set;
    top_k_set.all = false;
    top_k_set.ids = order;
    std::sort(top_k_set.ids.begin(), top_k_set.ids.end());
    const float m = CandidateMax(z, top_k_set);
    const float total = CandidateSum(z, top_k_set, m);
    std::vector<std::pair<float, int32_t>> probs;
    probs.reserve(order.size());
    for (int32_t id : top_k_set.ids) probs.emplace_back(std::exp(z[id] - m) / total, id);
    std::sort(probs.begin(), probs.end(), [](const auto& a, const auto& b) {
      const float pa = std::isnan(a.first) ? -1.0f : a.first;
      const float pb = std::isnan(b.first) ? -1.0f : b.first;
      return pa > pb || (pa == pb && a.second < b.second);
    });
    // The smallest prefix whose mass reaches top_p; at least one token. If
    // rounding keeps the sum just below top_p, every candidate stays.
    size_t keep = probs.size();
    float cumulative = 0.0f;
    for (size_t i = 0; i < probs.size(); ++i) {
      cumulative += probs[i].first;
      if (cumulative >= params.top_p) {
        keep = i + 1;
        break;
      }
    }
    order.clear();
    for (size_t i = 0; i < keep; ++i) order.push_back(probs[i].second);
  }
  std::sort(order.begin(), order.end());
  out.all = false;
  out.ids = std::move(order);
  return out;
}

float CandidateLogprob(const std::vector<float>& z, const Candidates& c, int32_t token) {
  if (!c.all && !std::binary_search(c.ids.begin(), c.ids.end(), token)) return kNegInf;
  const float m = CandidateMax(z, c);
  const float sum = CandidateSum(z, c, m);
  return (z[token] - m) - std::log(sum);
}

void CheckToken(ConstMatrixView row, int32_t token) {
  if (token < 0 || token >= row.cols) {
    throw std::out_of_range(
        absl::StrCat("token id ", token, " is outside the vocabulary [0, ", row.cols, ")"));
  }
}

}  // namespace

std::vector<float> LogSoftmax(ConstMatrixView logits_row, float temperature) {
  const int64_t vocab = logits_row.cols;
  if (temperature == 0.0f) {
    std::vector<float> out(static_cast<size_t>(vocab), kNegInf);
    if (vocab > 0) out[Argmax(logits_row)] = 0.0f;
    return out;
  }
  ThrowIfInvalid(SamplingParams{.temperature = temperature});
  std::vector<float> z = ScaledLogits(logits_row, temperature);
  const Candidates all;
  const float m = CandidateMax(z, all);
  const float log_sum = std::log(CandidateSum(z, all, m));
  for (float& v : z) v = (v - m) - log_sum;
  return z;
}

float TokenLogprob(ConstMatrixView logits_row, int32_t token, const SamplingParams& params) {
  ThrowIfInvalid(params);
  CheckToken(logits_row, token);
  if (params.temperature == 0.0f) return token == Argmax(logits_row) ? 0.0f : kNegInf;
  const std::vector<float> z = ScaledLogits(logits_row, params.temperature);
  return CandidateLogprob(z, SelectCandidates(z, params), token);
}

absl::Status TokenLogprobs(ConstMatrixView logits, std::span<const int32_t> tokens,
                           const SamplingParams& params, std::span<float> logprobs) {
  if (absl::Status s = ValidateSamplingParams(params); !s.ok()) return s;
  if (static_cast<int64_t>(tokens.size()) != logits.rows || logprobs.size() != tokens.size()) {
    return absl::InvalidArgumentError(absl::StrCat("TokenLogprobs: ", logits.rows, " logit rows, ",
                                                   tokens.size(), " tokens, ", logprobs.size(),
                                                   " outputs; need equal counts"));
  }
  for (size_t m = 0; m < tokens.size(); ++m) {
    if (tokens[m] < 0 || tokens[m] >= logits.cols) {
      return absl::OutOfRangeError(absl::StrCat("TokenLogprobs: token id ", tokens[m], " (row ", m,
                                                ") is outside the vocabulary [0, ", logits.cols,
                                                ")"));
    }
  }
  ParallelFor(logits.rows, 1, [&](int64_t begin, int64_t end) {
    for (int64_t m = begin; m < end; ++m) {
      logprobs[m] = TokenLogprob(logits.RowRange(m, 1), tokens[m], params);
    }
  });
  return absl::OkStatus();
}

SampledToken SampleToken(ConstMatrixView logits_row, const SamplingParams& params, uint64_t seed,
                         uint32_t request, uint32_t sample_index, uint32_t position) {
  ThrowIfInvalid(params);
  if (logits_row.cols <= 0) throw std::invalid_argument("SampleToken: empty logits row");
  if (params.temperature == 0.0f) return SampledToken{Argmax(logits_row), 0.0f};
  const std::vector<float> z = ScaledLogits(logits_row, params.temperature);
  const Candidates candidates = SelectCandidates(z, params);
  const int64_t n = candidates.size(logits_row.cols);
  const float m = CandidateMax(z, candidates);
  // Inverse CDF with plain sequential fp32 sums in ascending id.
  float total = 0.0f;
  for (int64_t k = 0; k < n; ++k) total += std::exp(z[candidates.id(k)] - m);
  const float threshold = SamplingUniform(seed, request, sample_index, position) * total;
  float cumulative = 0.0f;
  int32_t chosen = -1;
  int32_t last_positive = candidates.id(0);
  for (int64_t k = 0; k < n; ++k) {
    const float weight = std::exp(z[candidates.id(k)] - m);
    if (weight > 0.0f) last_positive = candidates.id(k);
    cumulative += weight;
    if (cumulative > threshold) {
      chosen = candidates.id(k);
      break;
    }
  }
  // u * total can round up to total when u is just below 1: take the last
  // candidate that has probability mass (never a zero-probability token).
  if (chosen < 0) chosen = last_positive;
  return SampledToken{chosen, CandidateLogprob(z, candidates, chosen)};
}

std::vector<int32_t> CandidateTokenIds(ConstMatrixView logits_row, const SamplingParams& params) {
  ThrowIfInvalid(params);
  if (logits_row.cols <= 0) return {};
  if (params.temperature == 0.0f) return {Argmax(logits_row)};
  const std::vector<float> z = ScaledLogits(logits_row, params.temperature);
  Candidates candidates = SelectCandidates(z, params);
  if (!candidates.all) return std::move(candidates.ids);
  std::vector<int32_t> ids(static_cast<size_t>(logits_row.cols));
  std::iota(ids.begin(), ids.end(), 0);
  return ids;
}

}  // namespace lockstep::cpu
