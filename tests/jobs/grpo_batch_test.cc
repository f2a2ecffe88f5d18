// The pure pieces of a GRPO step: request ids, trainer batches, the mismatch
// metrics (checked on hand-made logprobs, including a one-ulp difference) and
// reward statistics (unbiased std, as the metrics promise).
#include "jobs/grpo_batch.h"

#include <bit>
#include <cmath>

#include "gtest/gtest.h"

namespace lockstep::jobs {
namespace {

GrpoPrompt MakePrompt(uint64_t index, std::vector<int32_t> tokens) {
  return GrpoPrompt{.index = index, .text = "1+1=", .answer = "2", .tokens = std::move(tokens)};
}

TEST(GrpoBatchTest, StepRequestsKeyEverySampleByPromptIndex) {
  std::vector<GrpoPrompt> prompts = {MakePrompt(32, {1, 5}), MakePrompt(33, {1, 6})};
  const std::vector<SampleRequest> requests = StepRequests(prompts, 3);
  ASSERT_EQ(requests.size(), 6u);
  EXPECT_EQ(requests[0].request_id, 32u);
  EXPECT_EQ(requests[2].sample_index, 2u);
  EXPECT_EQ(requests[3].request_id, 33u);
  EXPECT_EQ(requests[3].sample_index, 0u);
  EXPECT_EQ(requests[5].prompt, &prompts[1]);
}

TEST(GrpoBatchTest, TrainingBatchIsPromptPlusCompletionWithRolloutAsOldPolicy) {
  const GrpoPrompt prompt = MakePrompt(0, {1, 10, 11});
  GrpoSample s;
  s.prompt = &prompt;
  s.tokens = {20, 21};
  s.logprobs = {-0.5f, -1.25f};
  s.advantage = 0.75f;
  SamplingParams sampling;
  sampling.temperature = 0.7f;
  sampling.top_k = 5;
  const TrainingBatch batch = AssembleTrainingBatch({s}, sampling);
  ASSERT_EQ(batch.sequences.size(), 1u);
  EXPECT_EQ(batch.sequences[0].tokens, (std::vector<int32_t>{1, 10, 11, 20, 21}));
  EXPECT_EQ(batch.sequences[0].prompt_length, 3);
  EXPECT_EQ(batch.sequences[0].num_scored(), 2);
  EXPECT_EQ(batch.sequences[0].sampling.temperature, 0.7f);
  EXPECT_EQ(batch.sequences[0].sampling.top_k, 5);
  EXPECT_EQ(batch.responses[0].old_logprobs, s.logprobs);
  EXPECT_EQ(batch.responses[0].rollout_logprobs, s.logprobs);
  EXPECT_EQ(batch.responses[0].advantage, 0.75f);
}

TEST(GrpoBatchTest, MismatchCountsBitsAndSeesOneUlp) {
  const GrpoPrompt prompt = MakePrompt(0, {1});
  GrpoSample a, b, stale;
  a.prompt = b.prompt = stale.prompt = &prompt;
  a.logprobs = {-0.5f, -2.0f};
  b.logprobs = {-1.0f};
  stale.logprobs = {-3.0f};
  stale.staleness = 1;  // off-policy samples are not part of the on-policy check
  const float one_ulp_up = std::nextafter(-1.0f, 0.0f);
  std::vector<trainer::TokenStats> trainer_stats(3);
  trainer_stats[0].logprobs = {-0.5f, -2.0f};
  trainer_stats[1].logprobs = {one_ulp_up};
  trainer_stats[2].logprobs = {-9.0f};
  const MismatchStats m = ComputeMismatch({a, b, stale}, trainer_stats);
  EXPECT_EQ(m.tokens, 3);
  EXPECT_EQ(m.bitwise_equal, 2);
  EXPECT_DOUBLE_EQ(m.max_abs_diff, static_cast<double>(one_ulp_up) + 1.0);
  const double d = static_cast<double>(one_ulp_up) + 1.0;
  EXPECT_NEAR(m.k3_kl, (std::exp(d) - 1.0 - d) / 3.0, 1e-20);
  EXPECT_GT(m.k3_kl, 0.0);
  EXPECT_NEAR(m.bitwise_equal_fraction(), 2.0 / 3.0, 1e-15);
}

TEST(GrpoBatchTest, MismatchOfIdenticalLogprobsIsExactlyZero) {
  const GrpoPrompt prompt = MakePrompt(0, {1});
  GrpoSample a;
  a.prompt = &prompt;
  a.logprobs = {-0.1f, -7.5f, -0.0f};
  std::vector<trainer::TokenStats> stats(1);
  stats[0].logprobs = a.logprobs;
  const MismatchStats m = ComputeMismatch({a}, stats);
  EXPECT_EQ(m.bitwise_equal_fraction(), 1.0);
  EXPECT_EQ(m.max_abs_diff, 0.0);
  EXPECT_EQ(m.k3_kl, 0.0);
}

TEST(GrpoBatchTest, RewardStdIsUnbiased) {
  std::vector<GrpoSample> samples(4);
  const double values[] = {1, 0, 0, 1};
  for (int i = 0; i < 4; ++i) {
    samples[i].reward.value = values[i];
    samples[i].reward.status = values[i] > 0 ? rewards::RewardStatus::kOk
                                             : rewards::RewardStatus::kWrongAnswer;
  }
  const RewardStats r = SummariseRewards(samples);
  EXPECT_DOUBLE_EQ(r.mean, 0.5);
  // sum of squares 4 * 0.25 = 1, divided by n - 1 = 3.
  EXPECT_DOUBLE_EQ(r.std, std::sqrt(1.0 / 3.0));
  EXPECT_DOUBLE_EQ(r.pass_fraction, 0.5);
}

}  // namespace
}  // namespace lockstep::jobs
