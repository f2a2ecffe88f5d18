// Pins advantages, ratios, clip fractions and losses of one small fixed batch to
// values worked out by hand from the published definitions of GRPO, Dr. GRPO,
// DAPO's clip-higher and GSPO, so that a change of convention cannot pass unseen.
#include <cmath>
#include <vector>

#include "gtest/gtest.h"
#include "trainer/advantages.h"
#include "trainer/policy_loss.h"

namespace lockstep::trainer {
namespace {

// The batch: two prompts, four samples each (G = 4), rewards
//   group A = {1, 1, 0, 0}, group B = {2, 0, 0, 0}.
const std::vector<float> kRewards = {1, 1, 0, 0, 2, 0, 0, 0};
constexpr int kGroup = 4;

// s = sqrt(3) / 2, the size of every GRPO advantage in group A (see below).
const double kS = std::sqrt(3.0) / 2.0;  // 0.8660254037844386

// Per-token ratios pi / pi_old of the eight responses (14 tokens in all). Chosen so
// that each clip case occurs: 1.25 lies between 1.2 and 1.28 (clipped by GRPO's
// eps = 0.2, not by DAPO's clip_high = 0.28), 1.5 above both, 0.7 and 0.75 below
// 0.8 with a negative advantage, 0.5 below 0.8 with a positive one (no clip: the
// unclipped branch is the max), 1.3 above with a negative one (no clip either).
const std::vector<std::vector<double>> kRatios = {
    {1.1, 1.25}, {1.5}, {0.7, 1.0}, {1.3, 0.9, 1.0},  // group A
    {0.5},       {1.0, 1.0}, {0.75}, {1.1, 1.0},      // group B
};
// Old logprobs differ per token (only the difference to the new one matters).
const std::vector<std::vector<float>> kOldLogprobs = {
    {-0.5f, -1.0f}, {-2.0f}, {-0.25f, -3.0f}, {-1.5f, -0.75f, -4.0f},
    {-1.0f},        {-0.5f, -2.5f}, {-1.25f}, {-3.5f, -0.125f},
};

std::vector<ResponseTokens> Batch(const std::vector<float>& advantages) {
  std::vector<ResponseTokens> batch(kRatios.size());
  for (size_t i = 0; i < kRatios.size(); ++i) {
    for (size_t t = 0; t < kRatios[i].size(); ++t) {
      const float old = kOldLogprobs[i][t];
      batch[i].old_logprobs.push_back(old);
      batch[i].logprobs.push_back(static_cast<float>(old + std::log(kRatios[i][t])));
    }
    batch[i].advantage = advantages[i];
  }
  return batch;
}

// The logprobs are floats, so a ratio is exact to ~1e-7 relative; the pins allow 1e-6.
constexpr double kTol = 1e-6;

std::vector<float> Advantages(AdvantageEstimator estimator, StdNormalization normalization) {
  // eps = 0 so that the hand values are exact (the default 1e-6 shifts them by ~1e-6).
  return ComputeAdvantages(kRewards, kGroup,
                           AdvantageOptions{.estimator = estimator,
                                            .std_normalization = normalization,
                                            .eps = 0.0})
      .value();
}

TEST(GrpoReferenceValues, GroupNormalisedAdvantagesUseTheUnbiasedStdByDefault) {
  // Group A: mean 0.5, deviations ±0.5, sum of squares 4 · 0.25 = 1.
  //   unbiased std = sqrt(1 / 3) = 0.577350  ->  A = ±0.5 / 0.577350 = ±sqrt(3)/2 = ±0.866025
  // Group B: mean 2 / 4 = 0.5, deviations 1.5, -0.5, -0.5, -0.5, squares 2.25 + 3 · 0.25 = 3.
  //   unbiased std = sqrt(3 / 3) = 1  ->  A = 1.5, -0.5, -0.5, -0.5
  const std::vector<double> want = {kS, kS, -kS, -kS, 1.5, -0.5, -0.5, -0.5};
  const std::vector<float> got =
      Advantages(AdvantageEstimator::kGrpo, StdNormalization::kUnbiased);
  const std::vector<float> by_default =
      ComputeAdvantages(kRewards, kGroup, AdvantageEstimator::kGrpo, 0.0).value();
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_NEAR(got[i], want[i], kTol) << i;
    EXPECT_EQ(by_default[i], got[i]) << i;
  }
}

TEST(GrpoReferenceValues, PopulationStdIsSelectable) {
  // Group A: population std = sqrt(1 / 4) = 0.5  ->  A = ±1.
  // Group B: population std = sqrt(3 / 4) = 0.866025  ->  A = 1.5 / 0.866025 = sqrt(3) = 1.732051,
  //   -0.5 / 0.866025 = -1 / sqrt(3) = -0.577350. (Each is sqrt(4/3) = 1.1547 x the unbiased one.)
  const double r3 = std::sqrt(3.0);
  const std::vector<double> want = {1, 1, -1, -1, r3, -1 / r3, -1 / r3, -1 / r3};
  const std::vector<float> got =
      Advantages(AdvantageEstimator::kGrpo, StdNormalization::kPopulation);
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], kTol) << i;
}

TEST(GrpoReferenceValues, DrGrpoAdvantagesAreMeanCentredOnly) {
  // Dr. GRPO (Liu et al. 2025): A = r - mean(group), no std.
  //   group A: 1 - 0.5 = 0.5 (x2), 0 - 0.5 = -0.5 (x2); group B: 2 - 0.5 = 1.5, -0.5 (x3).
  const std::vector<double> want = {0.5, 0.5, -0.5, -0.5, 1.5, -0.5, -0.5, -0.5};
  for (StdNormalization n : {StdNormalization::kUnbiased, StdNormalization::kPopulation}) {
    const std::vector<float> got = Advantages(AdvantageEstimator::kDrGrpo, n);
    for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(got[i], want[i]) << i;
  }
}

// GRPO (DeepSeekMath) per token: l = max(-A·r, -A·clip(r, 1 - 0.2, 1 + 0.2)), i.e.
// minus PPO's min(r·A, clip(r)·A). With the GRPO advantages above (s = 0.866025):
//   resp 0, A =  s: r 1.1  -> -1.1 s;  r 1.25 -> max(-1.25 s, -1.2 s) = -1.2 s   CLIPPED
//   resp 1, A =  s: r 1.5  -> max(-1.5 s, -1.2 s) = -1.2 s                         CLIPPED
//   resp 2, A = -s: r 0.7  -> max(0.7 s, 0.8 s) = 0.8 s                             CLIPPED
//                   r 1.0  -> 1.0 s
//   resp 3, A = -s: r 1.3  -> max(1.3 s, 1.2 s) = 1.3 s (unclipped)
//                   r 0.9  -> 0.9 s;  r 1.0 -> 1.0 s
//   resp 4, A = 1.5: r 0.5 -> max(-0.75, -1.2) = -0.75 (unclipped)
//   resp 5, A = -0.5: r 1.0, 1.0 -> 0.5, 0.5
//   resp 6, A = -0.5: r 0.75 -> max(0.375, 0.4) = 0.4                               CLIPPED
//   resp 7, A = -0.5: r 1.1 -> 0.55;  r 1.0 -> 0.5
// Sum of the s terms: -1.1 - 1.2 - 1.2 + 0.8 + 1.0 + 1.3 + 0.9 + 1.0 = 1.5  ->  1.5 s = 1.299038
// Other terms: -0.75 + 0.5 + 0.5 + 0.4 + 0.55 + 0.5 = 1.7
const double kGrpoTokenSum = 1.5 * kS + 1.7;  // 2.999038

TEST(GrpoReferenceValues, GrpoTokenMeanPpoClip) {
  PolicyLossConfig config;  // ppo_clip, clip 0.2 / 0.2, token-mean
  const std::vector<float> adv =
      Advantages(AdvantageEstimator::kGrpo, StdNormalization::kUnbiased);
  const PolicyLossOutput out = ComputePolicyLoss(config, Batch(adv)).value();
  // token-mean: 2.999038 / 14 tokens = 0.214217
  EXPECT_NEAR(out.loss, kGrpoTokenSum / 14.0, kTol);
  EXPECT_NEAR(out.loss, 0.2142170075, kTol);
  EXPECT_NEAR(out.pg_loss, out.loss, 1e-12);
  EXPECT_NEAR(out.pg_clipfrac, 4.0 / 14.0, 1e-12);  // 4 clipped tokens of 14
  EXPECT_EQ(out.tokens, 14);
  // Ratios: max 1.5, min 0.5, mean (1.1 + 1.25 + 1.5 + 0.7 + 1.0 + 1.3 + 0.9 + 1.0 + 0.5
  //   + 1.0 + 1.0 + 0.75 + 1.1 + 1.0) / 14 = 14.1 / 14 = 1.007143
  EXPECT_NEAR(out.ratio_max, 1.5, kTol);
  EXPECT_NEAR(out.ratio_min, 0.5, kTol);
  EXPECT_NEAR(out.ratio_mean, 14.1 / 14.0, kTol);
  // Gradient w.r.t. a logprob: d(-A·r)/d logprob = -A·r on the unclipped branch, 0 on
  // the clipped one, times the token-mean weight 1/14:
  //   resp 0 token 0: -s · 1.1 / 14 = -0.068045;  resp 0 token 1 (clipped): 0
  //   resp 3 token 0: +s · 1.3 / 14 = 0.080417;   resp 4: -1.5 · 0.5 / 14 = -0.053571
  EXPECT_NEAR(out.grad_logprobs[0][0], -kS * 1.1 / 14.0, kTol);
  EXPECT_EQ(out.grad_logprobs[0][1], 0.0);
  EXPECT_NEAR(out.grad_logprobs[3][0], kS * 1.3 / 14.0, kTol);
  EXPECT_NEAR(out.grad_logprobs[4][0], -0.75 / 14.0, kTol);
}

TEST(GrpoReferenceValues, GrpoSequenceMeanTokenMeanAsInDeepSeekMath) {
  // DeepSeekMath's own aggregation: (1/G) Σ_i (1/|o_i|) Σ_t l_it, same token losses:
  //   resp 0: (-1.1 s - 1.2 s) / 2 = -1.15 s   resp 1: -1.2 s
  //   resp 2: (0.8 s + 1.0 s) / 2 = 0.9 s     resp 3: (1.3 + 0.9 + 1.0) s / 3 = 1.066667 s
  //   resp 4: -0.75   resp 5: 0.5   resp 6: 0.4   resp 7: (0.55 + 0.5) / 2 = 0.525
  //   s terms: -1.15 - 1.2 + 0.9 + 1.066667 = -0.383333 -> -0.331976; others: 0.675
  //   (0.675 - 0.331976) / 8 responses = 0.042878
  PolicyLossConfig config;
  config.aggregation = LossAggregation::kSeqMeanTokenMean;
  const std::vector<float> adv =
      Advantages(AdvantageEstimator::kGrpo, StdNormalization::kUnbiased);
  const PolicyLossOutput out = ComputePolicyLoss(config, Batch(adv)).value();
  EXPECT_NEAR(out.loss, (0.675 - (1.15 + 1.2 - 0.9 - 3.2 / 3.0) * kS) / 8.0, kTol);
  EXPECT_NEAR(out.loss, 0.0428779494, kTol);
  EXPECT_NEAR(out.pg_clipfrac, 4.0 / 14.0, 1e-12);  // clipping does not depend on aggregation
}

TEST(GrpoReferenceValues, DapoClipHigher) {
  // DAPO (Yu et al. 2025): clip(r, 1 - 0.2, 1 + 0.28), token-mean, GRPO advantages.
  // Only ratios above 1.2 change against GRPO:
  //   resp 0, A = s: r 1.25 -> now inside [0.8, 1.28]: -1.25 s (unclipped)
  //   resp 1, A = s: r 1.5  -> max(-1.5 s, -1.28 s) = -1.28 s               CLIPPED
  //   resp 3, A = -s: r 1.3 -> max(1.3 s, 1.28 s) = 1.3 s (unclipped, as before)
  // s terms: -1.1 - 1.25 - 1.28 + 0.8 + 1.0 + 1.3 + 0.9 + 1.0 = 1.37 -> 1.186455
  // others unchanged: 1.7.  Loss = (1.37 s + 1.7) / 14 = 0.206175
  // Clipped: resp 1, resp 2 token 0 (0.7), resp 6 (0.75) -> 3 / 14.
  PolicyLossConfig config;
  config.clip_low = 0.2;
  config.clip_high = 0.28;
  const std::vector<float> adv =
      Advantages(AdvantageEstimator::kGrpo, StdNormalization::kUnbiased);
  const PolicyLossOutput out = ComputePolicyLoss(config, Batch(adv)).value();
  EXPECT_NEAR(out.loss, (1.37 * kS + 1.7) / 14.0, kTol);
  EXPECT_NEAR(out.loss, 0.2061753431, kTol);
  EXPECT_NEAR(out.pg_clipfrac, 3.0 / 14.0, 1e-12);
  // resp 0 token 1 now carries gradient: -s · 1.25 / 14 = -0.077324.
  EXPECT_NEAR(out.grad_logprobs[0][1], -kS * 1.25 / 14.0, kTol);
}

TEST(GrpoReferenceValues, DrGrpoSequenceMeanTokenSumOverMaxLength) {
  // Dr. GRPO: A = r - mean (no std), PPO-clip 0.2, and each response's token SUM
  // divided by a constant, the generation budget L_max (here 4), then the mean over
  // responses: loss = (1/8) Σ_i Σ_t l_it / 4.
  //   resp 0, A =  0.5: r 1.1 -> -0.55;  r 1.25 -> max(-0.625, -0.6) = -0.6 (clipped)  sum -1.15
  //   resp 1, A =  0.5: r 1.5 -> max(-0.75, -0.6) = -0.6 (clipped)                      sum -0.6
  //   resp 2, A = -0.5: r 0.7 -> max(0.35, 0.4) = 0.4 (clipped); r 1.0 -> 0.5           sum 0.9
  //   resp 3, A = -0.5: r 1.3 -> 0.65; 0.9 -> 0.45; 1.0 -> 0.5                          sum 1.6
  //   resp 4, A =  1.5: r 0.5 -> -0.75                                                   sum -0.75
  //   resp 5, A = -0.5: 0.5 + 0.5                                                        sum 1.0
  //   resp 6, A = -0.5: r 0.75 -> max(0.375, 0.4) = 0.4 (clipped)                        sum 0.4
  //   resp 7, A = -0.5: 0.55 + 0.5                                                       sum 1.05
  //   total 2.45;  loss = 2.45 / (8 · 4) = 0.0765625;  clipped 4 / 14.
  PolicyLossConfig config;
  config.aggregation = LossAggregation::kSeqMeanTokenSumNorm;
  config.max_response_length = 4;
  const std::vector<float> adv =
      Advantages(AdvantageEstimator::kDrGrpo, StdNormalization::kUnbiased);
  const PolicyLossOutput out = ComputePolicyLoss(config, Batch(adv)).value();
  EXPECT_NEAR(out.loss, 0.0765625, kTol);
  EXPECT_NEAR(out.pg_clipfrac, 4.0 / 14.0, 1e-12);
  // Gradient of resp 3 token 0: -A · r / (8 · 4) = 0.5 · 1.3 / 32 = 0.0203125.
  EXPECT_NEAR(out.grad_logprobs[3][0], 0.0203125, kTol);
}

TEST(GrpoReferenceValues, GspoSequenceRatioAndClip) {
  // GSPO (Zheng et al. 2025): one ratio per response, s_i = exp(mean_t log r_it) (the
  // geometric mean of its token ratios), loss (1/G) Σ_i max(-A s_i, -A clip(s_i, 1 - 3e-4,
  // 1 + 4e-4)), the paper's clip range; GRPO advantages.
  //   resp 0: sqrt(1.1 · 1.25) = sqrt(1.375) = 1.172604 > 1.0004, A = s:  -1.0004 s   CLIPPED
  //   resp 1: 1.5, A = s: -1.0004 s                                                     CLIPPED
  //   resp 2: sqrt(0.7) = 0.836660 < 0.9997, A = -s: max(0.836660 s, 0.9997 s) = 0.9997 s
  //                                                                                     CLIPPED
  //   resp 3: cbrt(1.3 · 0.9 · 1.0) = cbrt(1.17) = 1.053728, A = -s: max(1.053728 s, 1.0004 s)
  //           = 1.053728 s (unclipped)
  //   resp 4: 0.5, A = 1.5: max(-0.75, -1.49955) = -0.75 (unclipped)
  //   resp 5: 1.0, A = -0.5: 0.5
  //   resp 6: 0.75, A = -0.5: max(0.375, 0.49985) = 0.49985                              CLIPPED
  //   resp 7: sqrt(1.1) = 1.048809, A = -0.5: max(0.524404, 0.5002) = 0.524404
  // s terms: -1.0004 - 1.0004 + 0.9997 + 1.053728 = 0.052628 -> 0.045577
  // others: -0.75 + 0.5 + 0.49985 + 0.524404 = 0.774254
  // loss = (0.045577 + 0.774254) / 8 = 0.102479
  // Clip fraction counts every token of a clipped response: (2 + 1 + 2 + 1) / 14 = 6 / 14.
  PolicyLossConfig config;
  config.kind = PolicyLossKind::kGspo;
  config.clip_low = 3e-4;
  config.clip_high = 4e-4;
  const std::vector<float> adv =
      Advantages(AdvantageEstimator::kGrpo, StdNormalization::kUnbiased);
  const PolicyLossOutput out = ComputePolicyLoss(config, Batch(adv)).value();
  const double s_terms = -1.0004 - 1.0004 + 0.9997 + std::cbrt(1.17);
  const double others = -0.75 + 0.5 + 0.49985 + 0.5 * std::sqrt(1.1);
  EXPECT_NEAR(out.loss, (s_terms * kS + others) / 8.0, kTol);
  EXPECT_NEAR(out.loss, 0.1024789774, kTol);
  EXPECT_NEAR(out.pg_clipfrac, 6.0 / 14.0, 1e-12);
  EXPECT_NEAR(out.ratio_max, 1.5, kTol);
  EXPECT_NEAR(out.ratio_min, 0.5, kTol);
  // Gradient of the unclipped resp 3 w.r.t. each of its 3 logprobs:
  //   d(-A s_3)/d logprob = -A · s_3 / |o_3| / G = s · 1.053728 / 3 / 8 = 0.038024
  EXPECT_NEAR(out.grad_logprobs[3][1], kS * std::cbrt(1.17) / 24.0, kTol);
  EXPECT_EQ(out.grad_logprobs[0][0], 0.0);  // clipped response: no gradient
}

}  // namespace
}  // namespace lockstep::trainer
