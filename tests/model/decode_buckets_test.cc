// Decode graphs per batch-size bucket, on the CPU: the bucket sizes; a decode step padded
// with dummy rows to its bucket gives the real rows the same logits bits as the unpadded
// step and leaves every sequence's KV pages as the unpadded step does (the dummies write the
// scratch page only); a run through batch sizes N..1..N captures one graph per bucket
// touched and, once they are captured, allocates nothing. The graphed path runs on
// GraphRecordingBackend (the CPU backend's ops, recorded and replayed like a CUDA graph);
// tests/gpu/decode_graphs_test.cc runs the same checks on the GPU.
#include <cstdint>
#include <cstring>
#include <memory>
#include <set>
#include <span>
#include <vector>

#include "gtest/gtest.h"
#include "model/decode_graphs.h"
#include "model/forward_workspace.h"
#include "model/kv_cache.h"
#include "model/transformer.h"
#include "model/weights.h"
#include "numerics/cpu/cpu_backend.h"
#include "tests/model/graph_recording_backend.h"

namespace lockstep {
namespace {

using model::DecodeBatchBucket;

TEST(DecodeBatchBucketTest, PowersOfTwoToFourThenMultiplesOfEightThenOfThirtyTwo) {
  const std::vector<std::pair<int, int>> expected = {
      {1, 1},     {2, 2},     {3, 4},     {4, 4},     {5, 8},     {8, 8},
      {9, 16},    {16, 16},   {17, 24},   {33, 40},   {64, 64},   {65, 72},
      {255, 256}, {256, 256}, {257, 288}, {288, 288}, {289, 320}, {1000, 1024}};
  for (const auto& [batch, bucket] : expected) {
    EXPECT_EQ(DecodeBatchBucket(batch, 0), bucket) << "batch " << batch;
  }
  EXPECT_EQ(DecodeBatchBucket(0, 0), 0);
}

TEST(DecodeBatchBucketTest, CappedAtTheLargestBatchItsOwnerRuns) {
  EXPECT_EQ(DecodeBatchBucket(5, 6), 6);
  EXPECT_EQ(DecodeBatchBucket(6, 6), 6);
  EXPECT_EQ(DecodeBatchBucket(3, 6), 4);
  EXPECT_EQ(DecodeBatchBucket(17, 20), 20);
  EXPECT_EQ(DecodeBatchBucket(9, 20), 16);
  EXPECT_EQ(DecodeBatchBucket(7, 6), 8) << "past the cap: the usual bucket";
}

TEST(DecodeBatchBucketTest, FewBucketsCoverEveryBatchWithLittlePadding) {
  std::set<int> up_to_256, up_to_1024;
  int previous = 0;
  for (int batch = 1; batch <= 1024; ++batch) {
    const int bucket = DecodeBatchBucket(batch, 1024);
    ASSERT_GE(bucket, batch);
    ASSERT_GE(bucket, previous) << "buckets grow with the batch";
    previous = bucket;
    EXPECT_EQ(DecodeBatchBucket(bucket, 1024), bucket) << "a bucket is its own bucket";
    if (batch > 64) {
      EXPECT_LT(8 * (bucket - batch), batch) << "padding under 12.5 %";
    }
    if (batch <= 256) up_to_256.insert(bucket);
    up_to_1024.insert(bucket);
  }
  EXPECT_EQ(up_to_256.size(), 35u);
  EXPECT_EQ(up_to_1024.size(), 59u);
  EXPECT_LE(static_cast<int>(up_to_1024.size()), model::DecodeGraphCache::kDefaultMaxGraphs);
}

ModelConfig SmallConfig() {
  ModelConfig c;
  c.family = ModelFamily::kQwen2;
  c.hidden_size = 32;
  c.num_layers = 2;
  c.num_heads = 2;
  c.num_kv_heads = 1;
  c.head_dim = 16;
  c.intermediate_size = 48;
  c.vocab_size = 40;
  c.attention_bias = true;
  c.max_position_embeddings = 256;
  return c;
}

// A model on a GraphRecordingBackend over the CPU backend, and two KV caches + workspaces
// stepping the same sequences: one graphed (padded to buckets), one eager (unpadded).
class DecodeBucketsTest : public ::testing::Test {
 protected:
  static constexpr KvCacheOptions kKv{.block_size = 4, .num_blocks = 1024};

  void SetUp() override {
    weights_ = RandomInitWeights(SmallConfig(), DType::kBF16, 5, 0.1f).value();
    model_ = Transformer::Create(weights_, backend_).value();
    graphed_cache_ = PagedKvCache::Create(backend_, weights_.config, DType::kBF16, kKv).value();
    eager_cache_ = PagedKvCache::Create(backend_, weights_.config, DType::kBF16, kKv).value();
    graphed_ws_ = std::make_unique<ForwardWorkspace>(backend_);
    eager_ws_ = std::make_unique<ForwardWorkspace>(backend_);
    graphed_ws_->decode_graphs().set_enabled(true);
    eager_ws_->decode_graphs().set_enabled(false);
  }

  // Reserves `count` sequences of prompt (3 + s) tokens + `decode_steps`, and prefills them
  // in one step on both caches.
  void Prefill(int count, int decode_steps) {
    for (int s = 0; s < count; ++s) {
      std::vector<int32_t> prompt;
      for (int t = 0; t < 3 + s; ++t) prompt.push_back(static_cast<int32_t>((5 * s + t) % 40));
      prompts_.push_back(prompt);
      for (PagedKvCache* cache : {graphed_cache_.get(), eager_cache_.get()}) {
        ASSERT_TRUE(cache->Reserve(s, static_cast<int64_t>(prompt.size()) + decode_steps).ok());
      }
    }
    std::vector<StepEntry> entries;
    for (int s = 0; s < count; ++s) {
      entries.push_back({.sequence_id = s, .start_position = 0, .tokens = prompts_[s]});
    }
    Step(entries);
    for (int s = 0; s < count; ++s) lengths_.push_back(static_cast<int64_t>(prompts_[s].size()));
  }

  // One decode step of the given sequences on both caches; the logits must agree bitwise.
  void Decode(const std::vector<int>& sequences) {
    std::vector<StepEntry> entries;
    next_tokens_.resize(sequences.size());
    for (size_t i = 0; i < sequences.size(); ++i) {
      const int s = sequences[i];
      next_tokens_[i] = static_cast<int32_t>((7 * s + 3 * lengths_[s]) % 40);
      entries.push_back({.sequence_id = s,
                         .start_position = lengths_[s],
                         .tokens = std::span<const int32_t>(&next_tokens_[i], 1)});
    }
    Step(entries);
    for (int s : sequences) ++lengths_[s];
  }

  void Step(const std::vector<StepEntry>& entries) {
    ConstMatrixView graphed, eager;
    ASSERT_TRUE(model_->ForwardStep(entries, *graphed_cache_, *graphed_ws_, &graphed).ok());
    ASSERT_TRUE(model_->ForwardStep(entries, *eager_cache_, *eager_ws_, &eager).ok());
    ASSERT_EQ(graphed.rows, static_cast<int64_t>(entries.size())) << "the dummies' rows dropped";
    ASSERT_EQ(eager.rows, graphed.rows);
    const size_t row_bytes = static_cast<size_t>(graphed.cols) * DTypeSize(graphed.dtype);
    for (int64_t r = 0; r < graphed.rows; ++r) {
      ASSERT_EQ(std::memcmp(graphed.RowPtr(r), eager.RowPtr(r), row_bytes), 0)
          << "step " << steps_ << " entry " << r << " (sequence " << entries[r].sequence_id << ")";
    }
    ++steps_;
  }

  // Bytes of `rows` pool rows from `first` of one layer's K or V.
  static std::span<const std::byte> PoolRows(PagedKvCache& cache, int layer, bool keys,
                                             int64_t first, int64_t rows) {
    const KvPoolView pool = cache.pool(layer);
    const size_t row_bytes = static_cast<size_t>(pool.row_stride) * DTypeSize(pool.dtype);
    const auto* base = static_cast<const std::byte*>(keys ? pool.k_pool : pool.v_pool);
    return {base + first * row_bytes, static_cast<size_t>(rows) * row_bytes};
  }

  GraphRecordingBackend backend_{cpu::ProcessCpuBackend()};
  ModelWeights weights_;
  std::unique_ptr<Transformer> model_;
  std::unique_ptr<PagedKvCache> graphed_cache_, eager_cache_;
  std::unique_ptr<ForwardWorkspace> graphed_ws_, eager_ws_;
  std::vector<std::vector<int32_t>> prompts_;
  std::vector<int64_t> lengths_;
  std::vector<int32_t> next_tokens_;
  int steps_ = 0;
};

TEST_F(DecodeBucketsTest, PaddedStepsGiveTheRealRowsTheUnpaddedBitsAndKvPages) {
  ASSERT_EQ(backend_.mode(), NumericsMode::kBatchInvariant);
  // Batch sizes off the buckets (5 -> 8, 3 -> 4, 7 -> 8, 6 -> 8), subsets that skip
  // sequences, each size long enough to capture and replay.
  const std::vector<std::vector<int>> schedule = {
      {0, 1, 2, 3, 4}, {0, 2, 4}, {1, 2, 3, 4, 5, 6, 0}, {6, 5, 4, 3, 2, 1}, {3}, {1, 4}};
  Prefill(7, /*decode_steps=*/24);
  int64_t expected_dummies = 0;
  for (const std::vector<int>& batch : schedule) {
    for (int repeat = 0; repeat < 4; ++repeat) {
      Decode(batch);
      const int b = static_cast<int>(batch.size());
      expected_dummies += DecodeBatchBucket(b, 0) - b;
    }
  }
  const model::DecodeGraphStats& stats = graphed_ws_->decode_graphs().stats();
  EXPECT_EQ(stats.padded_rows, expected_dummies);
  EXPECT_GT(stats.padded_rows, 0);
  EXPECT_EQ(stats.capture_failures, 0);
  EXPECT_GE(stats.captures, 3);
  EXPECT_GE(stats.replays, 10);
  EXPECT_EQ(eager_ws_->decode_graphs().stats().padded_rows, 0);

  // Every page a sequence can hold is byte-identical in the two caches; the graphed cache's
  // scratch page was written (the dummies ran), the eager one's never.
  const int64_t sequence_rows = int64_t{kKv.num_blocks} * kKv.block_size;
  const int64_t scratch_row = int64_t{graphed_cache_->scratch_page()} * kKv.block_size;
  ASSERT_EQ(scratch_row, sequence_rows);
  for (int layer = 0; layer < weights_.config.num_layers; ++layer) {
    for (bool keys : {true, false}) {
      const auto a = PoolRows(*graphed_cache_, layer, keys, 0, sequence_rows);
      const auto b = PoolRows(*eager_cache_, layer, keys, 0, sequence_rows);
      EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size()), 0)
          << "layer " << layer << (keys ? " K" : " V");
      const auto scratch = PoolRows(*graphed_cache_, layer, keys, scratch_row, 1);
      const auto untouched = PoolRows(*eager_cache_, layer, keys, scratch_row, kKv.block_size);
      const std::vector<std::byte> zeros(untouched.size(), std::byte{0});
      EXPECT_NE(std::memcmp(scratch.data(), zeros.data(), scratch.size()), 0)
          << "the dummy rows wrote their K/V to the scratch page";
      EXPECT_EQ(std::memcmp(untouched.data(), zeros.data(), untouched.size()), 0);
    }
  }
}

TEST_F(DecodeBucketsTest, OneGraphPerBucketTouchedAndNoAllocationOnceCaptured) {
  constexpr int kMax = 20;
  graphed_ws_->decode_graphs().set_max_batch(kMax);
  Prefill(kMax, /*decode_steps=*/4 * kMax + 2);
  auto first = [](int count) {
    std::vector<int> out;
    for (int s = 0; s < count; ++s) out.push_back(s);
    return out;
  };
  // Down from the largest batch, two steps at each size: the first step at a bucket runs
  // eagerly, the second captures.
  for (int b = kMax; b >= 1; --b) {
    Decode(first(b));
    Decode(first(b));
  }
  const std::vector<int> buckets = {1, 2, 4, 8, 16, 20};
  model::DecodeGraphCache& graphs = graphed_ws_->decode_graphs();
  EXPECT_EQ(graphs.captured_batches(), buckets);
  EXPECT_EQ(graphs.stats().captures, static_cast<int64_t>(buckets.size()));
  EXPECT_EQ(graphs.stats().eager_steps, static_cast<int64_t>(buckets.size()));
  EXPECT_EQ(graphs.stats().invalidations, 0);
  EXPECT_EQ(graphs.stats().replays, 2 * kMax - 2 * static_cast<int64_t>(buckets.size()));

  // Back up through every size: replays only, and no device allocation on the graphed side
  // (the backend's only new allocations are the eager workspace's growing page lists).
  const int64_t backend_allocations = backend_.allocations();
  const int64_t graphed_allocations = graphed_ws_->allocations();
  const int64_t eager_allocations = eager_ws_->allocations();
  const int64_t replays = graphs.stats().replays;
  for (int b = 1; b <= kMax; ++b) Decode(first(b));
  EXPECT_EQ(graphed_ws_->allocations(), graphed_allocations);
  EXPECT_EQ(backend_.allocations() - backend_allocations,
            eager_ws_->allocations() - eager_allocations);
  EXPECT_EQ(graphs.stats().captures, static_cast<int64_t>(buckets.size()));
  EXPECT_EQ(graphs.stats().replays, replays + kMax);
  // A capture step replays its new graph once too.
  EXPECT_EQ(backend_.replays(), graphs.stats().replays + graphs.stats().captures);
}

TEST(DecodeBucketsFastModeTest, FastModeKeepsOneGraphPerExactBatchSize) {
  // Padding is bit-safe only with batch-invariant ops: a kFast backend gets no dummies.
  GraphRecordingBackend fast(cpu::ProcessCpuBackend(), NumericsMode::kFast);
  const ModelWeights weights = RandomInitWeights(SmallConfig(), DType::kBF16, 5, 0.1f).value();
  const std::unique_ptr<Transformer> model = Transformer::Create(weights, fast).value();
  std::unique_ptr<PagedKvCache> cache =
      PagedKvCache::Create(fast, weights.config, DType::kBF16, {.block_size = 4, .num_blocks = 16})
          .value();
  ForwardWorkspace ws(fast);
  ws.decode_graphs().set_enabled(true);
  const std::vector<int32_t> tokens = {3, 4, 5};
  for (int s = 0; s < 3; ++s) ASSERT_TRUE(cache->Reserve(s, 8).ok());
  for (int step = 0; step < 3; ++step) {
    std::vector<StepEntry> entries;
    for (int s = 0; s < 3; ++s) {
      entries.push_back({.sequence_id = s,
                         .start_position = step,
                         .tokens = std::span<const int32_t>(&tokens[s], 1)});
    }
    ConstMatrixView logits;
    ASSERT_TRUE(model->ForwardStep(entries, *cache, ws, &logits).ok());
    EXPECT_EQ(logits.rows, 3);
  }
  EXPECT_EQ(ws.decode_graphs().stats().padded_rows, 0);
  EXPECT_EQ(ws.decode_graphs().captured_batches(), std::vector<int>{3});
}

}  // namespace
}  // namespace lockstep
