// An engine whose KV cache is sized from a memory fraction: the block count follows from the
// backend's free bytes (fixed here by FixedMemoryBackend) and the per-block formula, the
// engine generates as one sized by block count does, and a pool too small for one sequence
// is refused at creation.
#include <memory>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/kv_cache_sizing.h"
#include "numerics/cpu/cpu_backend.h"
#include "rollout/engine.h"
#include "tests/rollout/fixed_memory_backend.h"

namespace lockstep {
namespace {

using ::testing::HasSubstr;

ModelConfig SmallConfig() {
  ModelConfig config;
  config.family = ModelFamily::kQwen3;
  config.qk_norm = true;
  config.hidden_size = 64;
  config.num_layers = 2;
  config.num_heads = 4;
  config.num_kv_heads = 1;
  config.head_dim = 16;
  config.intermediate_size = 80;
  config.vocab_size = 40;
  config.max_position_embeddings = 128;
  return config;
}

// 2 (K, V) * 2 layers * 4 tokens * 1 kv head * 16 dims * 2 bytes (bf16).
constexpr int64_t kBlockBytes = 512;

struct SizedModel {
  explicit SizedModel(int64_t free_bytes)
      : weights(RandomInitWeights(SmallConfig(), DType::kBF16, 3, 0.1f).value()),
        backend(cpu::ProcessCpuBackend(), {free_bytes, 4 * free_bytes}),
        model(Transformer::Create(weights, backend).value()) {}
  ModelWeights weights;
  FixedMemoryBackend backend;
  std::unique_ptr<Transformer> model;
};

EngineOptions FractionOptions(double fraction) {
  EngineOptions options;
  options.kv_cache = {.block_size = 4, .num_blocks = 7, .memory_fraction = fraction};
  return options;
}

TEST(EngineKvMemoryTest, BlockCountFollowsFreeMemory) {
  ASSERT_EQ(KvBlockBytes(SmallConfig(), DType::kBF16, 4), kBlockBytes);
  SizedModel sized(1000 * kBlockBytes + 100);
  auto engine = RolloutEngine::Create(*sized.model, FractionOptions(0.5));
  ASSERT_TRUE(engine.ok()) << engine.status();
  // floor(0.5 * 512100 / 512) = 500; num_blocks = 7 is ignored.
  EXPECT_EQ((*engine)->kv_cache_options().num_blocks, 500);
  EXPECT_EQ((*engine)->kv_cache_options().memory_fraction, 0.0);
}

TEST(EngineKvMemoryTest, GeneratesAsABlockCountEngine) {
  SizedModel sized(200 * kBlockBytes);
  GenerationRequest request;
  request.prompt = {5, 6, 7, 8, 9};
  request.max_new_tokens = 12;
  request.sampling = {.temperature = 0.8f};
  request.seed = 4;
  auto run = [&](EngineOptions options) {
    auto engine = RolloutEngine::Create(*sized.model, options);
    EXPECT_TRUE(engine.ok()) << engine.status();
    EXPECT_TRUE((*engine)->Submit(request).ok());
    return (*engine)->RunToCompletion().value();
  };
  const auto by_fraction = run(FractionOptions(0.25));  // 50 blocks
  EngineOptions by_count_options;
  by_count_options.kv_cache = {.block_size = 4, .num_blocks = 50};
  const auto by_count = run(by_count_options);
  ASSERT_EQ(by_fraction.size(), 1u);
  ASSERT_EQ(by_count.size(), 1u);
  EXPECT_EQ(by_fraction[0].tokens, by_count[0].tokens);
  EXPECT_EQ(by_fraction[0].logprobs, by_count[0].logprobs);
}

TEST(EngineKvMemoryTest, TooLittleMemoryForOneSequenceIsRefused) {
  // 0.5 * 60 blocks = 30 < 32 blocks, one 128-token sequence.
  SizedModel sized(60 * kBlockBytes);
  auto engine = RolloutEngine::Create(*sized.model, FractionOptions(0.5));
  ASSERT_FALSE(engine.ok());
  EXPECT_EQ(engine.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(engine.status().message(), HasSubstr("max_position_embeddings"));
  EXPECT_THAT(engine.status().message(), HasSubstr("30 blocks"));
  // Just enough: 0.5 * 64 = 32 blocks.
  SizedModel enough(64 * kBlockBytes);
  auto fits = RolloutEngine::Create(*enough.model, FractionOptions(0.5));
  ASSERT_TRUE(fits.ok()) << fits.status();
  EXPECT_EQ((*fits)->kv_cache_options().num_blocks, 32);
}

TEST(EngineKvMemoryTest, BadFractionIsRefused) {
  SizedModel sized(1000 * kBlockBytes);
  for (double fraction : {-0.1, 1.0, 1.5}) {
    auto engine = RolloutEngine::Create(*sized.model, FractionOptions(fraction));
    ASSERT_FALSE(engine.ok()) << fraction;
    EXPECT_EQ(engine.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(engine.status().message(), HasSubstr("(0, 1)"));
  }
}

TEST(EngineKvMemoryTest, ProcessCpuBackendSizesFromHostMemory) {
  // The CPU backend reports host memory (MemAvailable), so a fraction works there too: the
  // count is whatever that allows, at least one sequence, or a clear refusal.
  auto weights = RandomInitWeights(SmallConfig(), DType::kBF16, 3, 0.1f).value();
  auto model = Transformer::Create(weights).value();
  auto engine = RolloutEngine::Create(*model, FractionOptions(1e-6));
  if (!engine.ok()) {
    EXPECT_EQ(engine.status().code(), absl::StatusCode::kResourceExhausted) << engine.status();
    return;
  }
  EXPECT_GE((*engine)->kv_cache_options().num_blocks, 32);
}

}  // namespace
}  // namespace lockstep
