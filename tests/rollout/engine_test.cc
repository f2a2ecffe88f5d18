// Continuous batching must not change what a request produces: the same
// requests under different maximum batch sizes and arrival orders give the
// same tokens and bitwise-equal logprobs.
#include "rollout/engine.h"

#include <algorithm>
#include <bit>
#include <map>
#include <memory>
#include <random>

#include "gtest/gtest.h"

namespace lockstep {
namespace {

struct Fixture {
  ModelConfig config;
  ModelWeights weights;
  std::unique_ptr<Transformer> model;
};

std::unique_ptr<Fixture> MakeFixture(DType dtype) {
  auto f = std::make_unique<Fixture>();
  f->config.family = ModelFamily::kQwen3;
  f->config.qk_norm = true;
  f->config.hidden_size = 64;
  f->config.num_layers = 2;
  f->config.num_heads = 4;
  f->config.num_kv_heads = 1;
  f->config.head_dim = 16;
  f->config.intermediate_size = 80;
  f->config.vocab_size = 40;
  f->config.max_position_embeddings = 128;
  f->weights = RandomInitWeights(f->config, dtype, 3, 0.1f).value();
  f->model = std::move(Transformer::Create(f->weights).value());
  return f;
}

std::vector<GenerationRequest> Requests(int n) {
  std::mt19937 rng(5);
  std::vector<GenerationRequest> out;
  for (int i = 0; i < n; ++i) {
    GenerationRequest r;
    r.request_id = static_cast<uint32_t>(i);
    r.sample_index = static_cast<uint32_t>(i % 3);
    const int len = 1 + static_cast<int>(rng() % 30);
    for (int j = 0; j < len; ++j) r.prompt.push_back(static_cast<int32_t>(4 + rng() % 36));
    r.max_new_tokens = 4 + static_cast<int>(rng() % 20);
    r.sampling = {.temperature = 0.9f, .top_k = (i % 2) ? 10 : 0, .top_p = (i % 3) ? 0.9f : 1.0f};
    r.seed = 11;
    r.stop_tokens = {2};
    out.push_back(r);
  }
  return out;
}

std::vector<GenerationResult> Generate(const Transformer& model, int max_batch, bool reverse) {
  EngineOptions options;
  options.max_batch_sequences = max_batch;
  options.kv_cache = {.block_size = 4, .num_blocks = 512};
  RolloutEngine engine(model, options);
  auto reqs = Requests(24);
  if (reverse) std::reverse(reqs.begin(), reqs.end());
  for (auto& r : reqs) EXPECT_TRUE(engine.Submit(r).ok());
  auto results = engine.RunToCompletion();
  EXPECT_TRUE(results.ok()) << results.status();
  std::sort(results->begin(), results->end(),
            [](const auto& a, const auto& b) { return a.request_id < b.request_id; });
  return *results;
}

class EngineTest : public ::testing::TestWithParam<DType> {};

TEST_P(EngineTest, ScheduleDoesNotChangeSamples) {
  auto f = MakeFixture(GetParam());
  const auto reference = Generate(*f->model, 1, false);
  ASSERT_EQ(reference.size(), 24u);
  for (auto [batch, reverse] : {std::pair{3, false}, std::pair{7, true}, std::pair{64, false}}) {
    const auto other = Generate(*f->model, batch, reverse);
    ASSERT_EQ(other.size(), reference.size());
    for (size_t i = 0; i < other.size(); ++i) {
      EXPECT_EQ(other[i].tokens, reference[i].tokens) << "request " << i << " batch " << batch;
      ASSERT_EQ(other[i].logprobs.size(), reference[i].logprobs.size());
      for (size_t j = 0; j < other[i].logprobs.size(); ++j) {
        EXPECT_EQ(std::bit_cast<uint32_t>(other[i].logprobs[j]),
                  std::bit_cast<uint32_t>(reference[i].logprobs[j]));
      }
      EXPECT_EQ(other[i].finish_reason, reference[i].finish_reason);
    }
  }
}

TEST_P(EngineTest, FinishReasonsAndLengths) {
  auto f = MakeFixture(GetParam());
  const auto results = Generate(*f->model, 8, false);
  const auto reqs = Requests(24);
  for (const auto& r : results) {
    const auto& req = reqs[r.request_id];
    ASSERT_FALSE(r.tokens.empty());
    EXPECT_EQ(r.tokens.size(), r.logprobs.size());
    EXPECT_LE(static_cast<int>(r.tokens.size()), req.max_new_tokens);
    if (r.finish_reason == FinishReason::kStop) {
      EXPECT_EQ(r.tokens.back(), 2);
    } else {
      EXPECT_EQ(static_cast<int>(r.tokens.size()), req.max_new_tokens);
    }
    for (float lp : r.logprobs) EXPECT_LE(lp, 0.0f);
  }
}

// One engine serves requests of different seeds: each request's samples are
// those it gets alone, and a different seed gives different samples.
TEST_P(EngineTest, SeedIsPerRequest) {
  auto f = MakeFixture(GetParam());
  auto run = [&](const std::vector<GenerationRequest>& reqs) {
    RolloutEngine engine(*f->model, EngineOptions{});
    for (const auto& r : reqs) EXPECT_TRUE(engine.Submit(r).ok());
    auto results = engine.RunToCompletion().value();
    std::sort(results.begin(), results.end(),
              [](const auto& a, const auto& b) { return a.request_id < b.request_id; });
    return results;
  };
  GenerationRequest base = Requests(1)[0];
  base.max_new_tokens = 24;
  base.stop_tokens.clear();
  std::vector<GenerationRequest> mixed;
  for (uint64_t seed : {1, 2}) {
    GenerationRequest r = base;
    r.request_id = static_cast<uint32_t>(seed);
    r.seed = seed;
    mixed.push_back(r);
  }
  const auto together = run(mixed);
  ASSERT_EQ(together.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    const auto alone = run({mixed[i]});
    EXPECT_EQ(alone[0].tokens, together[i].tokens) << "seed " << mixed[i].seed;
  }
  GenerationRequest same_id = mixed[1];
  same_id.request_id = 1;  // seed 2 under request 1: only the seed differs from mixed[0]
  EXPECT_NE(run({same_id})[0].tokens, together[0].tokens);
}

// The observer sees exactly each result's tokens and logprobs, in order, and
// observing changes nothing the engine produces.
TEST_P(EngineTest, TokenObserverSeesEveryTokenAndChangesNothing) {
  auto f = MakeFixture(GetParam());
  const auto reference = Generate(*f->model, 5, false);
  std::map<std::pair<uint32_t, uint32_t>, GenerationResult> observed;
  EngineOptions options;
  options.max_batch_sequences = 5;
  options.kv_cache = {.block_size = 4, .num_blocks = 512};
  int64_t calls_this_step = 0;
  options.on_token = [&](uint32_t request_id, uint32_t sample_index, int32_t token, float lp) {
    GenerationResult& r = observed[{request_id, sample_index}];
    r.tokens.push_back(token);
    r.logprobs.push_back(lp);
    ++calls_this_step;
  };
  RolloutEngine engine(*f->model, options);
  for (auto& r : Requests(24)) ASSERT_TRUE(engine.Submit(r).ok());
  std::vector<GenerationResult> results;
  while (!engine.Idle()) {
    calls_this_step = 0;
    const int running_before = engine.running() + std::min(engine.waiting(), 5);
    auto done = engine.Step();
    ASSERT_TRUE(done.ok()) << done.status();
    EXPECT_GT(calls_this_step, 0);
    EXPECT_LE(calls_this_step, running_before);  // one token per running sequence
    for (auto& r : *done) {
      // Every token of a finished request was observed before Step returned it.
      const GenerationResult& seen = observed[{r.request_id, r.sample_index}];
      EXPECT_EQ(seen.tokens, r.tokens);
      results.push_back(std::move(r));
    }
  }
  std::sort(results.begin(), results.end(),
            [](const auto& a, const auto& b) { return a.request_id < b.request_id; });
  ASSERT_EQ(results.size(), reference.size());
  for (size_t i = 0; i < results.size(); ++i) {
    EXPECT_EQ(results[i].tokens, reference[i].tokens) << "request " << i;
    const GenerationResult& seen = observed[{results[i].request_id, results[i].sample_index}];
    ASSERT_EQ(seen.logprobs.size(), reference[i].logprobs.size());
    for (size_t j = 0; j < seen.logprobs.size(); ++j) {
      EXPECT_EQ(std::bit_cast<uint32_t>(seen.logprobs[j]),
                std::bit_cast<uint32_t>(reference[i].logprobs[j]));
    }
  }
}

// A cancelled request (running or still queued) is never reported and the
// others' tokens are unchanged.
TEST_P(EngineTest, CancelDropsARequestAndLeavesTheOthersUnchanged) {
  auto f = MakeFixture(GetParam());
  const auto reference = Generate(*f->model, 4, false);
  EngineOptions options;
  options.max_batch_sequences = 4;
  options.kv_cache = {.block_size = 4, .num_blocks = 512};
  RolloutEngine engine(*f->model, options);
  const auto reqs = Requests(24);
  for (const auto& r : reqs) ASSERT_TRUE(engine.Submit(r).ok());
  ASSERT_TRUE(engine.Step().ok());  // requests 0-3 running, the rest queued
  ASSERT_EQ(engine.running(), 4);
  EXPECT_TRUE(engine.Cancel(reqs[1].request_id, reqs[1].sample_index));    // running
  EXPECT_TRUE(engine.Cancel(reqs[20].request_id, reqs[20].sample_index));  // queued
  EXPECT_FALSE(engine.Cancel(reqs[1].request_id, reqs[1].sample_index));   // already gone
  EXPECT_FALSE(engine.Cancel(999, 0));
  EXPECT_EQ(engine.running(), 3);
  EXPECT_EQ(engine.waiting(), 19);
  std::vector<GenerationResult> results;
  while (!engine.Idle()) {
    auto done = engine.Step();
    ASSERT_TRUE(done.ok()) << done.status();
    for (auto& r : *done) results.push_back(std::move(r));
  }
  ASSERT_EQ(results.size(), 22u);
  for (const auto& r : results) {
    EXPECT_NE(r.request_id, 1u);
    EXPECT_NE(r.request_id, 20u);
    EXPECT_EQ(r.tokens, reference[r.request_id].tokens) << "request " << r.request_id;
  }
}

INSTANTIATE_TEST_SUITE_P(DTypes, EngineTest, ::testing::Values(DType::kF16, DType::kBF16));

TEST(EngineErrors, BadRequestsAreRejectedWithReason) {
  auto f = MakeFixture(DType::kBF16);
  RolloutEngine engine(*f->model, EngineOptions{});
  GenerationRequest empty;
  EXPECT_NE(engine.Submit(empty).message().find("empty prompt"), std::string::npos);
  GenerationRequest bad_token;
  bad_token.prompt = {1, 999};
  EXPECT_NE(engine.Submit(bad_token).message().find("outside vocabulary"), std::string::npos);
  GenerationRequest too_long;
  too_long.prompt = std::vector<int32_t>(100, 5);
  too_long.max_new_tokens = 100;
  EXPECT_NE(engine.Submit(too_long).message().find("max_position_embeddings"), std::string::npos);
  GenerationRequest bad_sampling;
  bad_sampling.prompt = {5};
  bad_sampling.sampling.top_p = 0.0f;
  EXPECT_FALSE(engine.Submit(bad_sampling).ok());
  EXPECT_TRUE(engine.Idle());
}

}  // namespace
}  // namespace lockstep
