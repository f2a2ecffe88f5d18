// TokenLogprobBackward, TokenEntropy and TokenEntropyBackward: against float64
// references of the log-softmax at temperature T over a fixed candidate set
// (top-k, top-p), with finite differences for the gradients; tokens outside
// the set get exactly zero; accumulate semantics; 16-bit logits; determinism.
#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include "gtest/gtest.h"
#include "numerics/cpu/backward.h"
#include "numerics/cpu/logprob.h"
#include "tests/numerics/backward_test_util.h"
#include "tests/numerics/test_util.h"

namespace lockstep::cpu {
namespace {

using ::lockstep::testing::AllCoords;
using ::lockstep::testing::AsDoubles;
using ::lockstep::testing::BitsEqual;
using ::lockstep::testing::ExpectGradientMatches;
using ::lockstep::testing::RandomTensor;
using ::lockstep::testing::Restored;

constexpr int64_t kVocab = 37;

struct ParamsCase {
  const char* name;
  SamplingParams params;
};

const ParamsCase kParams[] = {
    {"plain", {.temperature = 1.0f}},
    {"top-k", {.temperature = 0.7f, .top_k = 10}},
    {"top-p", {.temperature = 1.3f, .top_p = 0.8f}},
    {"top-k + top-p", {.temperature = 0.9f, .top_k = 20, .top_p = 0.9f}},
};

// The candidate set as the forward defines it: the tokens whose TokenLogprob is finite.
std::vector<int32_t> FiniteLogprobTokens(ConstMatrixView row, const SamplingParams& params) {
  std::vector<int32_t> ids;
  for (int32_t i = 0; i < row.cols; ++i)
    if (std::isfinite(TokenLogprob(row, i, params))) ids.push_back(i);
  return ids;
}

// log p(token) over the fixed set, z = logit / T, in float64.
double ReferenceLogprob(const std::vector<double>& logits, const std::vector<int32_t>& set,
                        int32_t token, double temperature) {
  double m = -std::numeric_limits<double>::infinity();
  for (int32_t id : set) m = std::max(m, logits[id] / temperature);
  double sum = 0.0;
  for (int32_t id : set) sum += std::exp(logits[id] / temperature - m);
  return (logits[token] / temperature - m) - std::log(sum);
}

// −Σ p·log p over the fixed set, in float64.
double ReferenceEntropy(const std::vector<double>& logits, const std::vector<int32_t>& set,
                        double temperature) {
  double entropy = 0.0;
  for (int32_t id : set) {
    const double lp = ReferenceLogprob(logits, set, id, temperature);
    entropy -= std::exp(lp) * lp;
  }
  return entropy;
}

TEST(LogprobBackwardTest, MatchesFloat64ReferenceAndFiniteDifferences) {
  uint64_t seed = 600;
  for (const ParamsCase& pc : kParams) {
    SCOPED_TRACE(pc.name);
    const SamplingParams& params = pc.params;
    const Tensor logits = RandomTensor(DType::kF32, 1, kVocab, seed += 10, 2.0f);
    const ConstMatrixView row = logits.AsMatrix();
    const std::vector<double> l = AsDoubles(logits);
    const double t = params.temperature;

    const std::vector<int32_t> set = FiniteLogprobTokens(row, params);
    EXPECT_EQ(CandidateTokenIds(row, params), set);
    // The truncation is active: top-k keeps exactly k, top-p strictly fewer.
    if (params.top_k > 0 && params.top_p == 1.0f) {
      EXPECT_EQ(set.size(), static_cast<size_t>(params.top_k));
    }
    if (params.top_p < 1.0f) {
      EXPECT_LT(set.size(), static_cast<size_t>(params.top_k > 0 ? params.top_k : kVocab));
    }
    ASSERT_FALSE(set.empty());
    const int32_t token = set[set.size() / 2];

    // Forward values against the reference (fp32 log/exp over 37 terms).
    EXPECT_NEAR(TokenLogprob(row, token, params), ReferenceLogprob(l, set, token, t), 1e-5);
    const double entropy = ReferenceEntropy(l, set, t);
    EXPECT_NEAR(TokenEntropy(row, params), entropy, 1e-5 * std::max(1.0, entropy));

    constexpr float kDlogprob = 0.7f, kDentropy = -0.3f;
    std::vector<float> dlogprob(kVocab, 0.0f), dentropy(kVocab, 0.0f);
    TokenLogprobBackward(row, token, params, kDlogprob, dlogprob.data());
    TokenEntropyBackward(row, params, kDentropy, dentropy.data());
    for (int32_t i = 0; i < kVocab; ++i) {
      if (std::binary_search(set.begin(), set.end(), i)) continue;
      EXPECT_EQ(dlogprob[i], 0.0f) << "token " << i << " is outside the set";
      EXPECT_EQ(dentropy[i], 0.0f) << "token " << i << " is outside the set";
    }
    ExpectGradientMatches(
        "dlogits of logprob", dlogprob, l,
        [&](const std::vector<double>& x) {
          return kDlogprob * ReferenceLogprob(x, set, token, t);
        },
        AllCoords(kVocab));
    ExpectGradientMatches(
        "dlogits of entropy", dentropy, l,
        [&](const std::vector<double>& x) { return kDentropy * ReferenceEntropy(x, set, t); },
        AllCoords(kVocab));
  }
}

TEST(LogprobBackwardTest, TokenOutsideTheSetAndGreedyGiveNoGradient) {
  const Tensor logits = RandomTensor(DType::kF32, 1, kVocab, 71, 2.0f);
  const ConstMatrixView row = logits.AsMatrix();
  const SamplingParams top_k{.temperature = 0.8f, .top_k = 5};
  const std::vector<int32_t> set = CandidateTokenIds(row, top_k);
  int32_t outside = 0;
  while (std::binary_search(set.begin(), set.end(), outside)) ++outside;
  std::vector<float> dlogits(kVocab, 0.0f);
  TokenLogprobBackward(row, outside, top_k, 1.0f, dlogits.data());
  for (float g : dlogits) EXPECT_EQ(g, 0.0f);

  const SamplingParams greedy{.temperature = 0.0f};
  TokenLogprobBackward(row, set[0], greedy, 1.0f, dlogits.data());
  TokenEntropyBackward(row, greedy, 1.0f, dlogits.data());
  for (float g : dlogits) EXPECT_EQ(g, 0.0f);
  EXPECT_EQ(TokenEntropy(row, greedy), 0.0f);
}

TEST(LogprobBackwardTest, AccumulatesIntoDlogits) {
  const Tensor logits = RandomTensor(DType::kF32, 1, kVocab, 81, 2.0f);
  const ConstMatrixView row = logits.AsMatrix();
  const SamplingParams params{.temperature = 0.9f, .top_k = 20, .top_p = 0.9f};
  const int32_t token = CandidateTokenIds(row, params)[0];
  std::vector<float> a(kVocab, 0.0f), b(kVocab, 0.0f), both(kVocab, 0.0f);
  TokenLogprobBackward(row, token, params, 0.5f, a.data());
  TokenEntropyBackward(row, params, 0.25f, b.data());
  TokenLogprobBackward(row, token, params, 0.5f, both.data());
  TokenEntropyBackward(row, params, 0.25f, both.data());
  for (int64_t i = 0; i < kVocab; ++i) ASSERT_EQ(both[i], a[i] + b[i]) << i;
}

class LogprobBackwardStorageTest : public ::testing::TestWithParam<DType> {};

TEST_P(LogprobBackwardStorageTest, WidensExactlyAndStaysCloseToFp32) {
  const Tensor logits32 = RandomTensor(DType::kF32, 1, kVocab, 91, 2.0f);
  const Tensor logits16 = Restored(logits32, GetParam());
  const Tensor rounded32 = Restored(logits16, DType::kF32);
  auto grads = [](const Tensor& logits, const SamplingParams& params) {
    std::vector<float> g(kVocab, 0.0f);
    TokenLogprobBackward(logits.AsMatrix(), 3, params, 1.0f, g.data());
    TokenEntropyBackward(logits.AsMatrix(), params, 1.0f, g.data());
    return g;
  };
  for (const ParamsCase& pc : kParams) {
    EXPECT_TRUE(BitsEqual(grads(logits16, pc.params), grads(rounded32, pc.params))) << pc.name;
  }
  // Without truncation (rounding may move a token across a top-k/top-p edge).
  const SamplingParams plain{.temperature = 0.8f};
  EXPECT_LE(lockstep::testing::RelativeDifference(grads(logits16, plain), grads(logits32, plain)),
            lockstep::testing::StorageRoundingBound(GetParam()));
}

INSTANTIATE_TEST_SUITE_P(Dtypes, LogprobBackwardStorageTest,
                         ::testing::Values(DType::kF16, DType::kBF16),
                         lockstep::testing::DTypeParamName);

TEST(LogprobBackwardTest, DeterministicAcrossThreadsAndRepeats) {
  const Tensor logits = RandomTensor(DType::kF32, 1, 5000, 101, 3.0f);
  const SamplingParams params{.temperature = 0.9f, .top_k = 200, .top_p = 0.95f};
  lockstep::testing::ExpectDeterministicAcrossThreads([&] {
    std::vector<float> g(5000, 0.0f);
    TokenLogprobBackward(logits.AsMatrix(), CandidateTokenIds(logits.AsMatrix(), params)[0], params,
                         1.0f, g.data());
    TokenEntropyBackward(logits.AsMatrix(), params, 1.0f, g.data());
    return std::vector<std::vector<float>>{g};
  });
}

TEST(LogprobBackwardTest, RejectsBadParamsAndTokens) {
  const Tensor logits = RandomTensor(DType::kF32, 1, kVocab, 111);
  std::vector<float> g(kVocab, 0.0f);
  EXPECT_THROW(TokenLogprobBackward(logits.AsMatrix(), 0, {.top_p = 0.0f}, 1.0f, g.data()),
               std::invalid_argument);
  EXPECT_THROW(TokenLogprobBackward(logits.AsMatrix(), kVocab, {}, 1.0f, g.data()),
               std::out_of_range);
  EXPECT_THROW(TokenEntropy(logits.AsMatrix(), {.temperature = -1.0f}), std::invalid_argument);
}

}  // namespace
}  // namespace lockstep::cpu
