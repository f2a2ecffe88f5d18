// Log-probabilities and sampling: float64 reference, hand-made top-k / top-p
// cases, sampled logprob == TokenLogprob bitwise, empirical frequencies,
// greedy, batch invariance, parameter validation.
#include "numerics/cpu/logprob.h"

#include <cmath>
#include <map>
#include <set>

#include "tests/numerics/test_util.h"

namespace lockstep::cpu {
namespace {

using ::lockstep::testing::RandomTensor;

Tensor Row(std::vector<float> values, DType dtype = DType::kF32) {
  return Tensor::FromFloats(dtype, {1, static_cast<int64_t>(values.size())}, values);
}

uint32_t Bits(float f) { return std::bit_cast<uint32_t>(f); }

class LogprobTest : public ::testing::TestWithParam<DType> {};

TEST_P(LogprobTest, LogSoftmaxMatchesFloat64Reference) {
  const DType dtype = GetParam();
  for (int64_t vocab : {1, 19, 500, 4099}) {
    const Tensor logits = RandomTensor(dtype, 1, vocab, 10 + vocab, 4.0f);
    for (float temperature : {1.0f, 0.7f, 1.9f}) {
      const std::vector<float> out = LogSoftmax(logits.AsMatrix(), temperature);
      ASSERT_EQ(out.size(), static_cast<size_t>(vocab));
      double m = -INFINITY;
      for (int64_t i = 0; i < vocab; ++i) m = std::max(m, double{logits.GetFloat(i)} / temperature);
      double sum = 0.0;
      for (int64_t i = 0; i < vocab; ++i)
        sum += std::exp(logits.GetFloat(i) / double{temperature} - m);
      for (int64_t i = 0; i < vocab; ++i) {
        const double ref = logits.GetFloat(i) / double{temperature} - m - std::log(sum);
        // fp32 arithmetic on values of magnitude <= ~40: a few fp32 ulps of 40.
        ASSERT_NEAR(out[i], ref, 2e-5) << "vocab " << vocab << " id " << i;
      }
    }
  }
}

TEST_P(LogprobTest, UntruncatedTokenLogprobIsLogSoftmaxBitwise) {
  const Tensor logits = RandomTensor(GetParam(), 1, 1000, 3, 3.0f);
  const std::vector<float> full = LogSoftmax(logits.AsMatrix(), 0.8f);
  for (int32_t t = 0; t < 1000; ++t) {
    ASSERT_EQ(Bits(TokenLogprob(logits.AsMatrix(), t, {.temperature = 0.8f})), Bits(full[t]));
  }
}

TEST_P(LogprobTest, SampledLogprobEqualsTokenLogprobBitwise) {
  const DType dtype = GetParam();
  const Tensor logits = RandomTensor(dtype, 19, 777, 4, 2.5f);
  const SamplingParams configs[] = {{1.0f, 0, 1.0f},  {0.7f, 50, 1.0f}, {1.3f, 0, 0.9f},
                                    {0.6f, 20, 0.8f}, {1.0f, 1, 1.0f},  {0.0f, 0, 1.0f}};
  for (const SamplingParams& p : configs) {
    for (int64_t r = 0; r < 19; ++r) {
      const ConstMatrixView row = logits.AsMatrix().RowRange(r, 1);
      for (uint32_t pos = 0; pos < 20; ++pos) {
        const SampledToken s = SampleToken(row, p, 1234, static_cast<uint32_t>(r), 2, pos);
        ASSERT_GE(s.token, 0);
        ASSERT_LT(s.token, 777);
        ASSERT_EQ(Bits(s.logprob), Bits(TokenLogprob(row, s.token, p)))
            << "T=" << p.temperature << " k=" << p.top_k << " p=" << p.top_p;
        ASSERT_TRUE(std::isfinite(s.logprob));
        // The same key always draws the same token.
        ASSERT_EQ(SampleToken(row, p, 1234, static_cast<uint32_t>(r), 2, pos).token, s.token);
      }
    }
  }
}

TEST_P(LogprobTest, TokenLogprobsBatchInvariant) {
  const DType dtype = GetParam();
  const Tensor logits = RandomTensor(dtype, 99, 500, 5, 3.0f);
  std::vector<int32_t> tokens(99);
  for (int i = 0; i < 99; ++i) tokens[i] = (i * 37) % 500;
  for (const SamplingParams p : {SamplingParams{1.0f, 0, 1.0f}, SamplingParams{0.7f, 40, 0.95f}}) {
    ::lockstep::testing::ExpectRowWiseBatchInvariant(logits, [&](ConstMatrixView rows) {
      const int64_t first = (static_cast<const std::byte*>(rows.data) -
                             static_cast<const std::byte*>(logits.data())) /
                            static_cast<int64_t>(500 * DTypeSize(dtype));
      std::vector<float> lp(static_cast<size_t>(rows.rows), NAN);
      EXPECT_TRUE(TokenLogprobs(rows, std::span(tokens).subspan(first, rows.rows), p, lp).ok());
      return Tensor::FromFloats(DType::kF32, {rows.rows, 1}, lp);
    });
    std::vector<float> batched(99);
    ASSERT_TRUE(TokenLogprobs(logits.AsMatrix(), tokens, p, batched).ok());
    for (int i = 0; i < 99; ++i) {
      ASSERT_EQ(Bits(batched[i]),
                Bits(TokenLogprob(logits.AsMatrix().RowRange(i, 1), tokens[i], p)));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(DTypes, LogprobTest, ::testing::ValuesIn(::lockstep::testing::kAllDTypes),
                         ::lockstep::testing::DTypeParamName);

// The candidate set of a row: tokens with a finite logprob.
std::set<int32_t> CandidateSet(const Tensor& row, const SamplingParams& p) {
  std::set<int32_t> out;
  for (int32_t t = 0; t < row.dim(1); ++t) {
    const float lp = TokenLogprob(row.AsMatrix(), t, p);
    if (lp != -INFINITY) out.insert(t);
  }
  return out;
}

TEST(CandidateSetTest, TopKTakesHighestWithTiesTowardLowerId) {
  const Tensor row = Row({1.0f, 3.0f, 3.0f, 2.0f, 0.5f, 3.0f});
  EXPECT_EQ(CandidateSet(row, {1.0f, 2, 1.0f}), (std::set<int32_t>{1, 2}));
  EXPECT_EQ(CandidateSet(row, {1.0f, 4, 1.0f}), (std::set<int32_t>{1, 2, 3, 5}));
  EXPECT_EQ(CandidateSet(row, {1.0f, 1, 1.0f}), (std::set<int32_t>{1}));
  EXPECT_EQ(CandidateSet(row, {1.0f, 6, 1.0f}).size(), 6u);
  EXPECT_EQ(CandidateSet(row, {1.0f, 100, 1.0f}).size(), 6u);  // k > V keeps all
  // Inside the set: renormalised softmax; top-1 has logprob exactly 0.
  const float lp1 = TokenLogprob(row.AsMatrix(), 1, {1.0f, 2, 1.0f});
  EXPECT_NEAR(lp1, std::log(0.5), 1e-6);
  EXPECT_EQ(TokenLogprob(row.AsMatrix(), 1, {1.0f, 1, 1.0f}), 0.0f);
  EXPECT_EQ(TokenLogprob(row.AsMatrix(), 0, {1.0f, 2, 1.0f}), -INFINITY);
}

TEST(CandidateSetTest, TopPKeepsSmallestPrefixReachingP) {
  // Probabilities 0.5, 0.2, 0.3 at T = 1.
  const Tensor row = Row({std::log(0.5f), std::log(0.2f), std::log(0.3f)});
  EXPECT_EQ(CandidateSet(row, {1.0f, 0, 0.45f}), (std::set<int32_t>{0}));
  EXPECT_EQ(CandidateSet(row, {1.0f, 0, 0.6f}), (std::set<int32_t>{0, 2}));
  EXPECT_EQ(CandidateSet(row, {1.0f, 0, 0.95f}), (std::set<int32_t>{0, 1, 2}));
  EXPECT_EQ(CandidateSet(row, {1.0f, 0, 1e-6f}), (std::set<int32_t>{0}));  // always >= 1 token
  // Equal probabilities: ties toward the lower id; 0.25 + 0.25 reaches 0.5 exactly.
  const Tensor flat = Row({0.0f, 0.0f, 0.0f, 0.0f});
  EXPECT_EQ(CandidateSet(flat, {1.0f, 0, 0.5f}), (std::set<int32_t>{0, 1}));
  EXPECT_EQ(CandidateSet(flat, {1.0f, 0, 0.51f}), (std::set<int32_t>{0, 1, 2}));
  // Top-p applies to the top-k renormalised probabilities: {0.4, 0.3} -> {0.571, 0.429}.
  const Tensor four = Row({std::log(0.4f), std::log(0.3f), std::log(0.2f), std::log(0.1f)});
  EXPECT_EQ(CandidateSet(four, {1.0f, 2, 0.5f}), (std::set<int32_t>{0}));
  EXPECT_EQ(CandidateSet(four, {1.0f, 2, 0.6f}), (std::set<int32_t>{0, 1}));
  EXPECT_EQ(CandidateSet(four, {1.0f, 0, 0.6f}), (std::set<int32_t>{0, 1}));
  EXPECT_EQ(CandidateSet(four, {1.0f, 0, 0.75f}), (std::set<int32_t>{0, 1, 2}));
  EXPECT_NEAR(TokenLogprob(four.AsMatrix(), 1, {1.0f, 0, 0.75f}), std::log(0.3 / 0.9), 1e-6);
}

TEST(SamplingTest, FrequenciesMatchProbabilities) {
  const Tensor row = Row({0.3f, -1.0f, 2.0f, 1.1f, 0.0f, -0.5f, 1.6f, 0.9f}, DType::kBF16);
  for (const SamplingParams p : {SamplingParams{0.9f, 0, 1.0f}, SamplingParams{1.2f, 5, 0.9f}}) {
    constexpr int kDraws = 40000;
    std::map<int32_t, int> counts;
    for (uint32_t pos = 0; pos < kDraws; ++pos) {
      const SampledToken s = SampleToken(row.AsMatrix(), p, 99, 7, pos % 3, pos);
      ++counts[s.token];
    }
    // Pearson chi-square over the candidate set; no token outside it drawn.
    double chi2 = 0.0;
    int cells = 0;
    for (int32_t t = 0; t < 8; ++t) {
      const double prob = std::exp(double{TokenLogprob(row.AsMatrix(), t, p)});
      if (prob == 0.0) {
        EXPECT_EQ(counts[t], 0) << "token " << t << " is outside the candidate set";
        continue;
      }
      const double expected = prob * kDraws;
      chi2 += (counts[t] - expected) * (counts[t] - expected) / expected;
      ++cells;
    }
    // 0.999 quantiles of chi-square with cells - 1 degrees of freedom (<= 7): < 24.4.
    EXPECT_LT(chi2, 24.4) << "with " << cells << " candidates";
  }
}

TEST(SamplingTest, GreedyTakesLowestArgmaxWithLogprobZero) {
  const Tensor row = Row({0.5f, 2.0f, -1.0f, 2.0f});
  const SampledToken s = SampleToken(row.AsMatrix(), {0.0f, 0, 1.0f}, 1, 2, 3, 4);
  EXPECT_EQ(s.token, 1);
  EXPECT_EQ(s.logprob, 0.0f);
  EXPECT_EQ(TokenLogprob(row.AsMatrix(), 1, {0.0f, 0, 1.0f}), 0.0f);
  EXPECT_EQ(TokenLogprob(row.AsMatrix(), 3, {0.0f, 0, 1.0f}), -INFINITY);
  const std::vector<float> greedy = LogSoftmax(row.AsMatrix(), 0.0f);
  EXPECT_EQ(greedy[1], 0.0f);
  EXPECT_EQ(greedy[3], -INFINITY);
}

TEST(SamplingTest, DependsOnTheKeyOnly) {
  const Tensor logits = RandomTensor(DType::kF16, 1, 300, 8);
  int differing = 0;
  for (uint32_t pos = 0; pos < 64; ++pos) {
    const int32_t a = SampleToken(logits.AsMatrix(), {}, 5, 0, 0, pos).token;
    const int32_t b = SampleToken(logits.AsMatrix(), {}, 5, 0, 1, pos).token;
    differing += a != b;
  }
  EXPECT_GT(differing, 32);  // different sample indices draw independent streams
}

TEST(SamplingParamsTest, InvalidParamsAreRejectedWithClearErrors) {
  EXPECT_TRUE(ValidateSamplingParams({}).ok());
  EXPECT_TRUE(ValidateSamplingParams({0.0f, 0, 1.0f}).ok());
  for (const SamplingParams p : {SamplingParams{-0.1f, 0, 1.0f}, SamplingParams{NAN, 0, 1.0f},
                                 SamplingParams{INFINITY, 0, 1.0f}}) {
    const absl::Status s = ValidateSamplingParams(p);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(s.message().find("temperature"), std::string_view::npos) << s;
  }
  EXPECT_NE(ValidateSamplingParams({1.0f, -1, 1.0f}).message().find("top_k"),
            std::string_view::npos);
  EXPECT_NE(ValidateSamplingParams({1.0f, 0, 0.0f}).message().find("top_p"),
            std::string_view::npos);
  EXPECT_NE(ValidateSamplingParams({1.0f, 0, 1.5f}).message().find("top_p"),
            std::string_view::npos);
  const Tensor row = Row({1.0f, 2.0f});
  EXPECT_THROW(TokenLogprob(row.AsMatrix(), 0, {1.0f, 0, 2.0f}), std::invalid_argument);
  EXPECT_THROW(TokenLogprob(row.AsMatrix(), 2, {}), std::out_of_range);
  EXPECT_THROW(SampleToken(row.AsMatrix(), {-1.0f, 0, 1.0f}, 0, 0, 0, 0), std::invalid_argument);
  std::vector<float> lp(1);
  const std::vector<int32_t> bad_token = {5};
  EXPECT_EQ(TokenLogprobs(row.AsMatrix(), bad_token, {}, lp).code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(TokenLogprobs(row.AsMatrix(), bad_token, {1.0f, 0, 0.0f}, lp).code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace lockstep::cpu
