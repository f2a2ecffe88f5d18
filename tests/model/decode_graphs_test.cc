// DecodeGraphCache bookkeeping (least recently used past the cap, dropping every graph when
// what they point at changes, turning off after a failure) and that the CPU backend, which
// cannot capture, runs decode steps eagerly with graphs enabled. The graphs themselves run in
// tests/gpu/decode_graphs_test.cc.
#include "model/decode_graphs.h"

#include <memory>
#include <vector>

#include "gtest/gtest.h"
#include "model/forward_workspace.h"
#include "model/kv_cache.h"
#include "model/transformer.h"
#include "model/weights.h"
#include "numerics/cpu/cpu_backend.h"

namespace lockstep::model {
namespace {

class FakeGraph : public CapturedGraph {};

void Capture(DecodeGraphCache::Entry& entry) { entry.graph = std::make_unique<FakeGraph>(); }

TEST(DecodeGraphCacheTest, EvictsTheLeastRecentlyUsedPastTheCap) {
  DecodeGraphCache cache(3);
  cache.Validate(GraphKey{.workspace_generation = 1});
  for (int batch : {1, 2, 3}) Capture(cache.Insert(batch));
  ASSERT_NE(cache.Find(1), nullptr);  // 1 is now the most recently used; 2 the least
  Capture(cache.Insert(4));
  EXPECT_EQ(cache.size(), 3);
  EXPECT_EQ(cache.Find(2), nullptr);
  EXPECT_NE(cache.Find(1), nullptr);
  EXPECT_NE(cache.Find(3), nullptr);
  EXPECT_NE(cache.Find(4), nullptr);
  EXPECT_EQ(cache.stats().evictions, 1);
  // An entry that was never captured is dropped without counting an eviction.
  cache.Insert(5);  // evicts 1 (least recent after the Finds above)
  EXPECT_EQ(cache.Find(1), nullptr);
  EXPECT_EQ(cache.stats().evictions, 2);
  cache.Insert(6);  // evicts 3
  cache.Insert(7);  // evicts 4
  cache.Insert(8);  // evicts 5, never captured
  EXPECT_EQ(cache.stats().evictions, 4);
}

TEST(DecodeGraphCacheTest, ADifferentKeyDropsEveryGraph) {
  DecodeGraphCache cache;
  const GraphKey key{.workspace_generation = 1, .scratch_generation = 0};
  cache.Validate(key);
  cache.Insert(8);  // seen eagerly, not captured
  cache.Validate(key);
  EXPECT_NE(cache.Find(8), nullptr);
  cache.Validate(GraphKey{.workspace_generation = 2});
  EXPECT_EQ(cache.Find(8), nullptr);
  EXPECT_EQ(cache.stats().invalidations, 0) << "nothing captured, nothing invalidated";
  Capture(cache.Insert(8));
  cache.Validate(GraphKey{.workspace_generation = 2, .scratch_generation = 1});
  EXPECT_EQ(cache.Find(8), nullptr);
  EXPECT_EQ(cache.stats().invalidations, 1);
}

TEST(DecodeGraphCacheTest, AFailureTurnsTheCacheOff) {
  DecodeGraphCache cache;
  cache.set_enabled(true);
  if (!cache.enabled()) GTEST_SKIP() << "LOCKSTEP_CUDA_GRAPHS=0 is set";
  Capture(cache.Insert(2));
  cache.DisableAfterFailure(absl::InternalError("test: capture failed"));
  EXPECT_FALSE(cache.enabled());
  EXPECT_EQ(cache.size(), 0);
  EXPECT_EQ(cache.stats().capture_failures, 1);
  cache.set_enabled(true);
  EXPECT_FALSE(cache.enabled()) << "stays off after a failure";
}

TEST(DecodeGraphCacheTest, SetEnabledFalseDropsTheGraphs) {
  DecodeGraphCache cache;
  Capture(cache.Insert(2));
  cache.set_enabled(false);
  EXPECT_FALSE(cache.enabled());
  EXPECT_EQ(cache.size(), 0);
}

TEST(DecodeGraphsOnCpuTest, DecodeStepsRunEagerlyOnABackendWithoutGraphs) {
  ModelConfig config;
  config.hidden_size = 32;
  config.num_layers = 1;
  config.num_heads = 2;
  config.num_kv_heads = 1;
  config.head_dim = 16;
  config.intermediate_size = 48;
  config.vocab_size = 24;
  config.max_position_embeddings = 64;
  const ModelWeights weights = RandomInitWeights(config, DType::kF32, 3, 0.1f).value();
  const std::unique_ptr<Transformer> model = Transformer::Create(weights).value();
  ASSERT_FALSE(model->backend().SupportsGraphs());
  PagedKvCache cache(config, DType::kF32, KvCacheOptions{.block_size = 4, .num_blocks = 8});
  ASSERT_TRUE(cache.Reserve(0, 8).ok());
  ForwardWorkspace ws(model->backend());
  ws.decode_graphs().set_enabled(true);
  const std::vector<int32_t> tokens = {1, 2, 3, 4, 5, 6};
  for (int step = 0; step < 6; ++step) {
    const StepEntry entry{.sequence_id = 0, .start_position = step,
                          .tokens = std::span<const int32_t>(&tokens[step], 1)};
    ConstMatrixView logits;
    ASSERT_TRUE(model->ForwardStep({&entry, 1}, cache, ws, &logits).ok());
  }
  const DecodeGraphStats& stats = ws.decode_graphs().stats();
  EXPECT_EQ(stats.eager_steps + stats.captures + stats.replays, 0);
}

}  // namespace
}  // namespace lockstep::model
