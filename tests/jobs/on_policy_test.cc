// On-policy exactness end to end: sequences sampled by the rollout engine from
// the trainer's own weights, fed to the trainer with the rollout's logprobs as
// the old policy, give an importance ratio of exactly 1 on every token at the
// first update — for trainer micro-batches of 1, 3 and 8 — so nothing clips.
#include <bit>
#include <memory>
#include <random>

#include "gtest/gtest.h"
#include "rollout/engine.h"
#include "trainer/advantages.h"
#include "trainer/policy_token_loss.h"
#include "trainer/trainer.h"

namespace lockstep {
namespace {

class OnPolicyTest : public ::testing::TestWithParam<std::tuple<DType, int>> {};

TEST_P(OnPolicyTest, FirstUpdateRatioIsExactlyOne) {
  const auto [dtype, micro_batch] = GetParam();
  ModelConfig config;
  config.family = ModelFamily::kQwen3;
  config.qk_norm = true;
  config.hidden_size = 64;
  config.num_layers = 2;
  config.num_heads = 4;
  config.num_kv_heads = 2;
  config.head_dim = 16;
  config.intermediate_size = 96;
  config.vocab_size = 30;
  config.max_position_embeddings = 96;
  const ModelWeights init = RandomInitWeights(config, DType::kF32, 8, 0.08f).value();
  trainer::TrainerConfig tc;
  tc.dtype = dtype;
  tc.micro_batch_sequences = micro_batch;
  auto trainer = trainer::Trainer::Create(init, tc).value();

  // Rollout: 4 prompts x 4 samples on the trainer's compute weights.
  EngineOptions eo;
  eo.max_batch_sequences = 5;
  RolloutEngine engine(trainer->model(), eo);
  const int kGroup = 4;
  std::mt19937 rng(1);
  for (uint32_t p = 0; p < 4; ++p) {
    std::vector<int32_t> prompt;
    for (int i = 0; i < 3 + static_cast<int>(p) * 5; ++i) {
      prompt.push_back(static_cast<int32_t>(3 + rng() % 27));
    }
    for (uint32_t s = 0; s < kGroup; ++s) {
      GenerationRequest r;
      r.request_id = p;
      r.sample_index = s;
      r.prompt = prompt;
      r.max_new_tokens = 12;
      r.sampling = {.temperature = 0.8f, .top_k = 12, .top_p = 0.95f};
      r.seed = 99;
      r.stop_tokens = {2};
      ASSERT_TRUE(engine.Submit(r).ok());
    }
  }
  auto results = engine.RunToCompletion().value();
  std::sort(results.begin(), results.end(), [](const auto& a, const auto& b) {
    return std::pair(a.request_id, a.sample_index) < std::pair(b.request_id, b.sample_index);
  });

  std::vector<trainer::TrainSequence> batch;
  std::vector<trainer::ResponseTokens> responses;
  std::vector<float> rewards;
  for (const auto& r : results) {
    trainer::TrainSequence s;
    s.tokens = r.prompt;
    s.tokens.insert(s.tokens.end(), r.tokens.begin(), r.tokens.end());
    s.prompt_length = static_cast<int>(r.prompt.size());
    s.sampling = {.temperature = 0.8f, .top_k = 12, .top_p = 0.95f};
    batch.push_back(s);
    trainer::ResponseTokens resp;
    resp.old_logprobs = r.logprobs;
    resp.rollout_logprobs = r.logprobs;
    responses.push_back(resp);
    rewards.push_back(static_cast<float>(r.tokens.size() % 3));  // any reward with spread
  }
  const auto adv =
      trainer::ComputeAdvantages(rewards, kGroup, trainer::AdvantageEstimator::kGrpo).value();
  for (size_t i = 0; i < responses.size(); ++i) responses[i].advantage = adv[i];

  trainer::PolicyLossConfig loss;
  loss.clip_low = 0.2;
  loss.clip_high = 0.28;
  auto step = trainer->Step(batch, trainer::PolicyTokenLoss(loss, responses));
  ASSERT_TRUE(step.ok()) << step.status();
  for (size_t i = 0; i < results.size(); ++i) {
    ASSERT_EQ(step->stats[i].logprobs.size(), results[i].logprobs.size());
    for (size_t t = 0; t < results[i].logprobs.size(); ++t) {
      ASSERT_EQ(std::bit_cast<uint32_t>(step->stats[i].logprobs[t]),
                std::bit_cast<uint32_t>(results[i].logprobs[t]))
          << "sequence " << i << " token " << t;
    }
  }
  EXPECT_EQ(step->metrics["actor/ratio_max"].get<double>(), 1.0);
  EXPECT_EQ(step->metrics["actor/ratio_min"].get<double>(), 1.0);
  EXPECT_EQ(step->metrics["actor/pg_clipfrac"].get<double>(), 0.0);
  EXPECT_FALSE(step->optimizer.skipped);
  EXPECT_GT(step->optimizer.grad_norm, 0.0);
}

INSTANTIATE_TEST_SUITE_P(MicroBatches, OnPolicyTest,
                         ::testing::Combine(::testing::Values(DType::kF16, DType::kBF16),
                                            ::testing::Values(1, 3, 8)));

}  // namespace
}  // namespace lockstep
