// A rollout engine whose decode steps run as graphs per batch-size bucket (padded with dummy
// rows) gives every request the same tokens and logprobs, bit for bit, as one running every
// step eagerly and unpadded; a run whose batch shrinks from N to 1 captures one graph per
// bucket touched; and a second identical run replays them without a device allocation.
// Graphs run on GraphRecordingBackend (the CPU backend's ops, recorded and replayed like a
// CUDA graph); tests/gpu/decode_graphs_test.cc runs the same on the GPU.
#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

#include "gtest/gtest.h"
#include "model/weights.h"
#include "numerics/cpu/cpu_backend.h"
#include "rollout/engine.h"
#include "tests/model/graph_recording_backend.h"
#include "tests/rollout/same_generations.h"

namespace lockstep {
namespace {

ModelConfig SmallConfig() {
  ModelConfig c;
  c.family = ModelFamily::kQwen3;
  c.qk_norm = true;
  c.hidden_size = 32;
  c.num_layers = 2;
  c.num_heads = 2;
  c.num_kv_heads = 1;
  c.head_dim = 16;
  c.intermediate_size = 48;
  c.vocab_size = 48;
  c.max_position_embeddings = 256;
  return c;
}

class EngineGraphBucketsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    weights_ = RandomInitWeights(SmallConfig(), DType::kBF16, 9, 0.2f).value();
    model_ = Transformer::Create(weights_, backend_).value();
  }

  std::unique_ptr<RolloutEngine> Engine(bool graphs, int max_batch) {
    EngineOptions options;
    options.max_batch_sequences = max_batch;
    options.kv_cache = {.block_size = 4, .num_blocks = 1024};
    options.cuda_graphs = graphs;
    return RolloutEngine::Create(*model_, options).value();
  }

  static std::vector<GenerationResult> Run(RolloutEngine& engine,
                                           std::vector<GenerationRequest> requests) {
    for (GenerationRequest& r : requests) EXPECT_TRUE(engine.Submit(std::move(r)).ok());
    std::vector<GenerationResult> results = engine.RunToCompletion().value();
    std::sort(results.begin(), results.end(),
              [](const auto& a, const auto& b) { return a.request_id < b.request_id; });
    return results;
  }

  GraphRecordingBackend backend_{cpu::ProcessCpuBackend()};
  ModelWeights weights_;
  std::unique_ptr<Transformer> model_;
};

// 14 requests of different prompts and lengths, sampled, some stopping early: with at most 6
// running, the batch size moves over 1..6 (buckets 1, 2, 4, 6).
std::vector<GenerationRequest> MixedRequests() {
  std::vector<GenerationRequest> out;
  for (int i = 0; i < 14; ++i) {
    GenerationRequest r;
    r.request_id = static_cast<uint32_t>(i);
    for (int t = 0; t < 2 + (7 * i) % 11; ++t) r.prompt.push_back(3 + (5 * i + 3 * t) % 40);
    r.max_new_tokens = 6 + (13 * i) % 29;
    r.sampling = {
        .temperature = 1.0f, .top_k = (i % 3 == 0) ? 10 : 0, .top_p = (i % 2) ? 0.9f : 1.0f};
    r.seed = 31;
    r.stop_tokens = {1};
    out.push_back(r);
  }
  return out;
}

TEST_F(EngineGraphBucketsTest, PaddedGraphedStepsGiveTheSameTokensAndLogprobsAsEager) {
  std::unique_ptr<RolloutEngine> graphed = Engine(true, 6);
  if (!graphed->workspace().decode_graphs().enabled()) {
    GTEST_SKIP() << "LOCKSTEP_CUDA_GRAPHS=0 is set";
  }
  std::unique_ptr<RolloutEngine> eager = Engine(false, 6);
  const std::vector<GenerationResult> a = Run(*graphed, MixedRequests());
  const std::vector<GenerationResult> b = Run(*eager, MixedRequests());
  testing::ExpectSameGenerations(a, b);
  const model::DecodeGraphStats& stats = graphed->workspace().decode_graphs().stats();
  EXPECT_EQ(stats.capture_failures, 0);
  EXPECT_GE(stats.captures, 2);
  EXPECT_GE(stats.replays, 10);
  EXPECT_GT(stats.padded_rows, 0) << "batches of 3 and 5 ran padded";
  const model::DecodeGraphStats& none = eager->workspace().decode_graphs().stats();
  EXPECT_EQ(none.captures + none.replays + none.padded_rows, 0);
}

TEST_F(EngineGraphBucketsTest, OneGraphPerBucketTouchedAndNoAllocationOnReplay) {
  constexpr int kRequests = 20;
  // Request i makes 3 (i + 1) tokens and never stops early: after the prefill the batch
  // shrinks 20, 19, ..., 1, at least two decode steps at each size.
  std::vector<GenerationRequest> requests;
  for (int i = 0; i < kRequests; ++i) {
    GenerationRequest r;
    r.request_id = static_cast<uint32_t>(i);
    r.prompt = {static_cast<int32_t>(4 + i), 7, static_cast<int32_t>(9 + i % 5)};
    r.max_new_tokens = 3 * (i + 1);
    r.sampling = {.temperature = 0.8f};
    r.seed = 5;
    requests.push_back(r);
  }
  std::unique_ptr<RolloutEngine> engine = Engine(true, kRequests);
  if (!engine->workspace().decode_graphs().enabled()) {
    GTEST_SKIP() << "LOCKSTEP_CUDA_GRAPHS=0 is set";
  }
  const std::vector<GenerationResult> first = Run(*engine, requests);
  const model::DecodeGraphCache& graphs = engine->workspace().decode_graphs();
  const std::vector<int> buckets = {1, 2, 4, 8, 16, 20};
  EXPECT_EQ(graphs.captured_batches(), buckets);
  EXPECT_EQ(graphs.stats().captures, static_cast<int64_t>(buckets.size()));
  EXPECT_EQ(graphs.stats().eager_steps, static_cast<int64_t>(buckets.size()));
  EXPECT_EQ(graphs.stats().invalidations, 0);
  EXPECT_EQ(graphs.stats().capture_failures, 0);

  // The same requests again: every decode step replays, nothing is allocated, same bits.
  const int64_t allocations = backend_.allocations();
  const int64_t replays = graphs.stats().replays;
  const std::vector<GenerationResult> second = Run(*engine, requests);
  EXPECT_EQ(backend_.allocations(), allocations);
  EXPECT_EQ(graphs.stats().captures, static_cast<int64_t>(buckets.size()));
  EXPECT_EQ(graphs.stats().eager_steps, static_cast<int64_t>(buckets.size()));
  EXPECT_EQ(graphs.stats().replays - replays, 3 * kRequests - 1) << "every decode step";
  ASSERT_EQ(first.size(), second.size());
  for (size_t i = 0; i < first.size(); ++i) {
    EXPECT_EQ(first[i].tokens, second[i].tokens);
    EXPECT_EQ(first[i].logprobs, second[i].logprobs);
  }
  // And the eager, unpadded engine agrees.
  std::unique_ptr<RolloutEngine> eager = Engine(false, kRequests);
  testing::ExpectSameGenerations(first, Run(*eager, requests));
}

}  // namespace
}  // namespace lockstep
