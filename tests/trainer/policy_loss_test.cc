// Policy losses: analytic gradients match central finite differences for every
// combination of loss kind, aggregation, KL estimator, entropy bonus and
// rollout correction; on-policy ratios of exactly 1 clip nothing.
#include "trainer/policy_loss.h"

#include <cmath>
#include <random>
#include <string>

#include "gtest/gtest.h"
#include "trainer/advantages.h"

namespace lockstep::trainer {
namespace {

std::vector<ResponseTokens> RandomBatch(std::mt19937& rng, bool on_policy) {
  std::normal_distribution<float> noise(0.0f, 0.3f);
  std::uniform_real_distribution<float> lp(-4.0f, -0.1f);
  std::vector<ResponseTokens> batch;
  for (int i = 0; i < 5; ++i) {
    ResponseTokens r;
    const int n = 1 + static_cast<int>(rng() % 9);
    for (int t = 0; t < n; ++t) {
      const float old = lp(rng);
      r.old_logprobs.push_back(old);
      r.logprobs.push_back(on_policy ? old : old + noise(rng));
      r.rollout_logprobs.push_back(old + noise(rng));
      r.ref_logprobs.push_back(old + noise(rng));
      r.entropies.push_back(std::fabs(noise(rng)) + 0.5f);
    }
    r.advantage = noise(rng) * 3.0f;
    batch.push_back(r);
  }
  return batch;
}

struct Case {
  PolicyLossKind kind;
  LossAggregation agg;
  KlEstimator kl;
  RolloutCorrection correction;
  bool dual_clip;
};

class PolicyLossGradTest : public ::testing::TestWithParam<Case> {};

TEST_P(PolicyLossGradTest, MatchesFiniteDifferences) {
  const Case c = GetParam();
  PolicyLossConfig config;
  config.kind = c.kind;
  config.aggregation = c.agg;
  config.max_response_length = 12;
  config.kl_coef = 0.1;
  config.kl_estimator = c.kl;
  config.entropy_coef = 0.01;
  config.rollout_correction = c.correction;
  config.clip_high = 0.28;
  if (c.dual_clip) config.dual_clip = 3.0;
  std::mt19937 rng(17);
  auto batch = RandomBatch(rng, false);
  auto out = ComputePolicyLoss(config, batch);
  ASSERT_TRUE(out.ok()) << out.status();
  const double h = 1e-3;
  for (size_t i = 0; i < batch.size(); ++i) {
    for (size_t t = 0; t < batch[i].logprobs.size(); ++t) {
      auto plus = batch, minus = batch;
      plus[i].logprobs[t] += static_cast<float>(h);
      minus[i].logprobs[t] -= static_cast<float>(h);
      const double dh = static_cast<double>(plus[i].logprobs[t]) - minus[i].logprobs[t];
      const double numeric =
          (ComputePolicyLoss(config, plus)->loss - ComputePolicyLoss(config, minus)->loss) / dh;
      // Kinks (clip boundaries) are measure-zero for random inputs; fp32
      // perturbations limit agreement to ~1e-4 relative.
      EXPECT_NEAR(out->grad_logprobs[i][t], numeric, 2e-4 + 1e-3 * std::fabs(numeric))
          << "seq " << i << " token " << t;
      auto eplus = batch, eminus = batch;
      eplus[i].entropies[t] += static_cast<float>(h);
      eminus[i].entropies[t] -= static_cast<float>(h);
      const double de = static_cast<double>(eplus[i].entropies[t]) - eminus[i].entropies[t];
      const double numeric_e =
          (ComputePolicyLoss(config, eplus)->loss - ComputePolicyLoss(config, eminus)->loss) / de;
      EXPECT_NEAR(out->grad_entropies[i][t], numeric_e, 1e-6 + 1e-3 * std::fabs(numeric_e));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    All, PolicyLossGradTest,
    ::testing::Values(
        Case{PolicyLossKind::kPpoClip, LossAggregation::kTokenMean, KlEstimator::kK1,
             RolloutCorrection::kNone, false},
        Case{PolicyLossKind::kPpoClip, LossAggregation::kSeqMeanTokenSum, KlEstimator::kK2,
             RolloutCorrection::kTis, true},
        Case{PolicyLossKind::kPpoClip, LossAggregation::kSeqMeanTokenMean, KlEstimator::kK3,
             RolloutCorrection::kMis, false},
        Case{PolicyLossKind::kPpoClip, LossAggregation::kSeqMeanTokenSumNorm, KlEstimator::kK3,
             RolloutCorrection::kNone, true},
        Case{PolicyLossKind::kGspo, LossAggregation::kSeqMeanTokenMean, KlEstimator::kK1,
             RolloutCorrection::kNone, false},
        Case{PolicyLossKind::kGspo, LossAggregation::kTokenMean, KlEstimator::kK2,
             RolloutCorrection::kTis, false}));

TEST(PolicyLoss, OnPolicyRatioIsExactlyOneAndNothingClips) {
  std::mt19937 rng(3);
  auto batch = RandomBatch(rng, /*on_policy=*/true);
  PolicyLossConfig config;
  config.clip_low = 0.0;  // even a zero-width clip range must not clip at ratio 1
  config.clip_high = 0.0;
  auto out = ComputePolicyLoss(config, batch);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->pg_clipfrac, 0.0);
  EXPECT_EQ(out->ratio_max, 1.0);
  EXPECT_EQ(out->ratio_min, 1.0);
}

TEST(PolicyLoss, ClipAndDualClipAreCounted) {
  PolicyLossConfig config;
  config.dual_clip = 3.0;
  ResponseTokens pos, neg;
  pos.logprobs = {std::log(2.0f)};
  pos.old_logprobs = {0.0f};
  pos.advantage = 1.0f;
  neg.logprobs = {std::log(5.0f)};
  neg.old_logprobs = {0.0f};
  neg.advantage = -1.0f;
  auto out = ComputePolicyLoss(config, {pos, neg});
  ASSERT_TRUE(out.ok());
  EXPECT_DOUBLE_EQ(out->pg_clipfrac, 0.5);        // the positive-advantage token clips at 1.2
  EXPECT_DOUBLE_EQ(out->pg_clipfrac_lower, 0.5);  // the negative one is capped at 3
  EXPECT_NEAR(out->pg_loss, (-1.2 + 3.0) / 2.0, 1e-6);
  EXPECT_EQ(out->grad_logprobs[0][0], 0.0);
  EXPECT_EQ(out->grad_logprobs[1][0], 0.0);
}

TEST(PolicyLoss, BadConfigNamesTheField) {
  PolicyLossConfig config;
  config.clip_low = -0.1;
  EXPECT_NE(config.Validate().message().find("actor.clip_low"), std::string::npos);
  config = {};
  config.aggregation = LossAggregation::kSeqMeanTokenSumNorm;
  EXPECT_NE(config.Validate().message().find("actor.max_response_length"), std::string::npos);
  EXPECT_NE(ParseLossAggregation("token-sum").status().message().find("actor.loss_agg_mode"),
            std::string::npos);
  EXPECT_NE(ParsePolicyLossKind("ppo2").status().message().find("actor.policy_loss"),
            std::string::npos);
  ResponseTokens mismatched;
  mismatched.logprobs = {-1.0f, -2.0f};
  mismatched.old_logprobs = {-1.0f};
  EXPECT_FALSE(ComputePolicyLoss({}, {mismatched}).ok());
}

TEST(Advantages, GrpoDrGrpoRloo) {
  const std::vector<float> rewards = {1, 0, 0, 1, 2, 2, 2, 2};
  auto grpo = ComputeAdvantages(rewards, 4, AdvantageEstimator::kGrpo);
  ASSERT_TRUE(grpo.ok());
  // mean 0.5; unbiased std sqrt((4 · 0.25) / 3) = 0.57735 (TRL/verl's default,
  // was the population std 0.5 before issue 9 made unbiased the default).
  EXPECT_NEAR((*grpo)[0], 0.5 / std::sqrt(1.0 / 3.0), 1e-5);
  EXPECT_NEAR((*grpo)[1], -0.5 / std::sqrt(1.0 / 3.0), 1e-5);
  auto population = ComputeAdvantages(
      rewards, 4, AdvantageOptions{.std_normalization = StdNormalization::kPopulation});
  ASSERT_TRUE(population.ok());
  EXPECT_NEAR((*population)[0], 0.5 / 0.5, 1e-5);  // population std 0.5
  EXPECT_NEAR((*population)[1], -1.0, 1e-5);
  EXPECT_EQ((*grpo)[4], 0.0f);  // a group with equal rewards carries no signal
  auto dr = ComputeAdvantages(rewards, 4, AdvantageEstimator::kDrGrpo);
  EXPECT_FLOAT_EQ((*dr)[0], 0.5f);
  auto rloo = ComputeAdvantages(rewards, 4, AdvantageEstimator::kRloo);
  EXPECT_NEAR((*rloo)[0], 1.0 - 1.0 / 3.0, 1e-6);
  EXPECT_FALSE(ComputeAdvantages(rewards, 3, AdvantageEstimator::kGrpo).ok());
  EXPECT_FALSE(ComputeAdvantages(rewards, 1, AdvantageEstimator::kRloo).ok());
  EXPECT_FALSE(ParseAdvantageEstimator("ppo").ok());
}

TEST(Advantages, StdNormalizationNamesRoundTrip) {
  for (StdNormalization n : {StdNormalization::kUnbiased, StdNormalization::kPopulation}) {
    EXPECT_EQ(ParseStdNormalization(StdNormalizationName(n)).value(), n);
  }
  const absl::Status bad = ParseStdNormalization("bessel").status();
  EXPECT_NE(std::string(bad.message()).find("algorithm.std_normalization"), std::string::npos);
}

TEST(Advantages, GroupOfOneHasZeroAdvantageUnderBothConventions) {
  const std::vector<float> rewards = {3.0f, -1.0f};
  for (StdNormalization n : {StdNormalization::kUnbiased, StdNormalization::kPopulation}) {
    auto adv = ComputeAdvantages(rewards, 1, AdvantageOptions{.std_normalization = n});
    ASSERT_TRUE(adv.ok());
    EXPECT_EQ((*adv)[0], 0.0f);  // not NaN: the unbiased std of one value is taken as 0
    EXPECT_EQ((*adv)[1], 0.0f);
  }
  auto dr = ComputeAdvantages(rewards, 1, AdvantageEstimator::kDrGrpo);
  EXPECT_EQ((*dr)[0], 0.0f);
}

TEST(Kl, EstimatorsAgreeNearZeroAndAreNonNegativeWhereExpected) {
  for (double d : {-0.5, -0.01, 0.0, 0.01, 0.5}) {
    EXPECT_GE(KlValue(KlEstimator::kK2, d), 0.0);
    EXPECT_GE(KlValue(KlEstimator::kK3, d), 0.0);
  }
  EXPECT_NEAR(KlValue(KlEstimator::kK3, 0.01), KlValue(KlEstimator::kK2, 0.01), 1e-6);
}

}  // namespace
}  // namespace lockstep::trainer

namespace lockstep::trainer {
namespace {

TEST(KlInReward, SubtractsTheSummedEstimate) {
  const std::vector<float> rewards = {1.0f, 0.0f};
  const std::vector<std::vector<float>> lp = {{-1.0f, -2.0f}, {-0.5f}};
  const std::vector<std::vector<float>> ref = {{-1.5f, -2.0f}, {-0.5f}};
  auto out = KlPenalizedRewards(rewards, lp, ref, KlEstimator::kK1, 0.1);
  ASSERT_TRUE(out.ok());
  EXPECT_FLOAT_EQ((*out)[0], 1.0f - 0.1f * 0.5f);
  EXPECT_FLOAT_EQ((*out)[1], 0.0f);
  EXPECT_FALSE(KlPenalizedRewards(rewards, lp, {{-1.0f}}, KlEstimator::kK1, 0.1).ok());
  EXPECT_FALSE(KlPenalizedRewards(rewards, lp, ref, KlEstimator::kK1, -1.0).ok());
}

}  // namespace
}  // namespace lockstep::trainer
