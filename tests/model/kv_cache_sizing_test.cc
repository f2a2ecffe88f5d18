// The KV pool sizing formula and its limits (model/kv_cache_sizing.h): bytes per block,
// blocks for a fraction of free memory, the int32 cap, the one-sequence floor, the accepted
// fraction range, and PagedKvCache's reported size.
#include "model/kv_cache_sizing.h"

#include <limits>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/kv_cache.h"
#include "numerics/cpu/cpu_backend.h"

namespace lockstep {
namespace {

using ::testing::HasSubstr;

ModelConfig Config(int layers, int kv_heads, int head_dim, int max_positions) {
  ModelConfig config;
  config.num_layers = layers;
  config.num_kv_heads = kv_heads;
  config.head_dim = head_dim;
  config.max_position_embeddings = max_positions;
  return config;
}

TEST(KvCacheSizingTest, BlockBytesIsKAndVForEveryLayer) {
  // Qwen3-8B-like: 36 layers, 8 kv heads, head_dim 128, 16-token blocks, bf16:
  // 2 * 36 * 16 * 8 * 128 * 2 = 2359296 bytes (2.25 MiB).
  EXPECT_EQ(KvBlockBytes(Config(36, 8, 128, 40960), DType::kBF16, 16), 2359296);
  EXPECT_EQ(KvBlockBytes(Config(2, 1, 16, 128), DType::kF32, 4), 2 * 2 * 4 * 1 * 16 * 4);
  EXPECT_EQ(KvBlockBytes(Config(2, 1, 16, 128), DType::kF16, 4), 2 * 2 * 4 * 1 * 16 * 2);
}

TEST(KvCacheSizingTest, BlocksAreTheFractionOfFreeBytesRoundedDown) {
  const ModelConfig config = Config(36, 8, 128, 40960);
  const int64_t block = KvBlockBytes(config, DType::kBF16, 16);
  // 0.4 of 100 GiB / 2.25 MiB = 18204.4 -> 18204 blocks.
  const int64_t free_bytes = int64_t{100} << 30;
  auto blocks = KvBlocksForMemory(config, DType::kBF16, 16, 0.4, free_bytes, 40960);
  ASSERT_TRUE(blocks.ok()) << blocks.status();
  EXPECT_EQ(*blocks, 18204);
  EXPECT_LE(*blocks * block, static_cast<int64_t>(0.4 * static_cast<double>(free_bytes)));
  EXPECT_GT((*blocks + 1) * block, static_cast<int64_t>(0.4 * static_cast<double>(free_bytes)));
}

TEST(KvCacheSizingTest, CappedAtWhatInt32SlotsAddress) {
  // One-byte-ish blocks and a huge budget: the count stops at INT32_MAX / block_size.
  const ModelConfig config = Config(1, 1, 1, 16);
  EXPECT_EQ(MaxKvBlocks(16), std::numeric_limits<int32_t>::max() / 16);
  auto blocks = KvBlocksForMemory(config, DType::kBF16, 16, 0.9, int64_t{1} << 50, 16);
  ASSERT_TRUE(blocks.ok()) << blocks.status();
  EXPECT_EQ(*blocks, MaxKvBlocks(16));
  EXPECT_LE(int64_t{*blocks} * 16, int64_t{std::numeric_limits<int32_t>::max()});
}

TEST(KvCacheSizingTest, FewerBlocksThanOneSequenceIsAClearError) {
  const ModelConfig config = Config(2, 1, 16, 128);  // 512-byte blocks of 4 tokens (bf16)
  auto blocks = KvBlocksForMemory(config, DType::kBF16, 4, 0.5, 62 * 512, 128);
  ASSERT_FALSE(blocks.ok());
  EXPECT_EQ(blocks.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(blocks.status().message(), HasSubstr("31 blocks"));
  EXPECT_THAT(blocks.status().message(), HasSubstr("32 blocks"));
  EXPECT_THAT(blocks.status().message(), HasSubstr("128 tokens"));
  EXPECT_THAT(blocks.status().message(), HasSubstr("raise the fraction"));
  EXPECT_EQ(KvBlocksForMemory(config, DType::kBF16, 4, 0.5, 64 * 512, 128).value(), 32);
  EXPECT_FALSE(KvBlocksForMemory(config, DType::kBF16, 4, 0.5, 0, 128).ok());
  EXPECT_FALSE(KvBlocksForMemory(config, DType::kBF16, 4, 0.5, -5, 128).ok());
}

TEST(KvCacheSizingTest, FractionMustBeZeroOrInsideZeroOne) {
  EXPECT_TRUE(ValidateKvMemoryFraction(0.0, "--f").ok());
  EXPECT_TRUE(ValidateKvMemoryFraction(0.4, "--f").ok());
  EXPECT_TRUE(ValidateKvMemoryFraction(0.999, "--f").ok());
  for (double bad : {-0.5, 1.0, 2.0, std::numeric_limits<double>::quiet_NaN(),
                     std::numeric_limits<double>::infinity()}) {
    const absl::Status status = ValidateKvMemoryFraction(bad, "rollout.kv_memory_fraction");
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(status.message(), HasSubstr("rollout.kv_memory_fraction")) << bad;
    EXPECT_THAT(status.message(), HasSubstr("(0, 1)")) << bad;
  }
  const ModelConfig config = Config(2, 1, 16, 128);
  EXPECT_FALSE(KvBlocksForMemory(config, DType::kBF16, 4, 0.0, 1 << 20, 128).ok());
  EXPECT_FALSE(KvBlocksForMemory(config, DType::kBF16, 4, 1.0, 1 << 20, 128).ok());
}

TEST(KvCacheSizingTest, ResolveKeepsABlockCountAndResolvesAFractionOnce) {
  const ModelConfig config = Config(2, 1, 16, 128);
  Backend& cpu = cpu::ProcessCpuBackend();
  KvCacheOptions by_count{.block_size = 4, .num_blocks = 9};
  auto same = ResolveKvCacheOptions(cpu, config, DType::kBF16, by_count);
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->num_blocks, 9);
  // A tiny fraction of host memory: resolved once, then a block count (fraction 0).
  KvCacheOptions by_memory{.block_size = 4, .num_blocks = 9, .memory_fraction = 1e-6};
  auto resolved = ResolveKvCacheOptions(cpu, config, DType::kBF16, by_memory);
  if (!resolved.ok()) {  // a host with under ~16 MiB available
    EXPECT_EQ(resolved.status().code(), absl::StatusCode::kResourceExhausted);
    return;
  }
  EXPECT_EQ(resolved->memory_fraction, 0.0);
  EXPECT_GE(resolved->num_blocks, 32);
  auto again = ResolveKvCacheOptions(cpu, config, DType::kBF16, *resolved);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->num_blocks, resolved->num_blocks);
}

TEST(KvCacheSizingTest, CacheReportsItsBytes) {
  const ModelConfig config = Config(2, 1, 16, 128);
  auto cache = PagedKvCache::Create(cpu::ProcessCpuBackend(), config, DType::kBF16,
                                    {.block_size = 4, .num_blocks = 10});
  ASSERT_TRUE(cache.ok()) << cache.status();
  EXPECT_EQ((*cache)->pool_bytes(), 10 * 512);
  EXPECT_THAT((*cache)->Describe(), HasSubstr("10 blocks x 4 tokens = 40 tokens, 5.0 KiB"));
  EXPECT_FALSE(PagedKvCache::Create(cpu::ProcessCpuBackend(), config, DType::kBF16,
                                    {.block_size = 16, .num_blocks = (1 << 30)})
                   .ok());
  PagedKvCache needs_create(config, DType::kBF16,
                            {.block_size = 4, .num_blocks = 10, .memory_fraction = 0.5});
  EXPECT_FALSE(needs_create.status().ok());
}

TEST(KvCacheSizingTest, FormatBytes) {
  EXPECT_EQ(FormatBytes(512), "512 B");
  EXPECT_EQ(FormatBytes(5120), "5.0 KiB");
  EXPECT_EQ(FormatBytes(3 << 20), "3.0 MiB");
  EXPECT_EQ(FormatBytes(int64_t{3} << 30), "3.00 GiB");
}

}  // namespace
}  // namespace lockstep
