// CUDA graphs for decode steps, one per batch-size bucket (steps padded with dummy rows on
// the KV cache's scratch page), must not change a bit: a rollout engine with graphs on and
// off gives identical tokens and logprobs (sequences finishing at different steps, so the
// batch size changes and several graphs are captured and replayed many times); a run whose
// batch shrinks from 20 to 1 captures one graph per bucket touched and replays them without
// allocating; a padded graphed step's logits and the sequences' KV pages equal the eager,
// unpadded step's; and the backend's capture API records, replays and refuses what cannot
// be captured. (The same checks run on the CPU through GraphRecordingBackend:
// tests/model/decode_buckets_test.cc, tests/rollout/engine_graph_buckets_test.cc.)
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "model/forward_workspace.h"
#include "model/kv_cache.h"
#include "model/transformer.h"
#include "model/weights.h"
#include "numerics/cuda/cuda_backend.h"
#include "rollout/engine.h"
#include "tests/gpu/gpu_test_util.h"
#include "tests/gpu/small_model_gpu_test.h"
#include "tests/rollout/same_generations.h"

namespace lockstep::cuda::gpu_testing {
namespace {

class DecodeGraphsTest : public SmallModelGpuTest {
 protected:
  void SetUp() override {
    GpuTest::SetUp();
    BuildSmallModel(ModelFamily::kQwen2);
  }
};

std::vector<GenerationRequest> Requests() {
  std::mt19937 rng(17);
  std::vector<GenerationRequest> out;
  for (int i = 0; i < 14; ++i) {
    GenerationRequest r;
    r.request_id = static_cast<uint32_t>(i);
    const int prompt = 2 + static_cast<int>(rng() % 25);
    for (int t = 0; t < prompt; ++t) r.prompt.push_back(static_cast<int32_t>(3 + rng() % 500));
    // Different lengths: sequences leave at different steps, so B changes.
    r.max_new_tokens = 20 + static_cast<int>(rng() % 100);
    r.sampling = {.temperature = 1.0f, .top_k = (i % 3 == 0) ? 40 : 0,
                  .top_p = (i % 2) ? 0.95f : 1.0f};
    r.seed = 23;
    r.stop_tokens = {1};
    out.push_back(r);
  }
  return out;
}

struct EngineRun {
  std::vector<GenerationResult> results;
  model::DecodeGraphStats stats;
  std::vector<int> captured_batches;
};

EngineRun Generate(const Transformer& model, bool graphs) {
  EngineOptions options;
  options.max_batch_sequences = 6;  // 14 requests: later ones join as earlier ones finish
  options.kv_cache = {.block_size = 4, .num_blocks = 1024};
  options.cuda_graphs = graphs;
  RolloutEngine engine(model, options);
  Check(engine.status());
  for (GenerationRequest& r : Requests()) Check(engine.Submit(std::move(r)));
  EngineRun run;
  run.results = Unwrap(engine.RunToCompletion());
  run.stats = engine.workspace().decode_graphs().stats();
  run.captured_batches = engine.workspace().decode_graphs().captured_batches();
  std::sort(run.results.begin(), run.results.end(),
            [](const auto& a, const auto& b) { return a.request_id < b.request_id; });
  return run;
}

TEST_F(DecodeGraphsTest, EngineWithGraphsGivesTheSameTokensAndLogprobsAsWithout) {
  const EngineRun eager = Generate(*model_, false);
  const EngineRun graphed = Generate(*model_, true);
  EXPECT_EQ(eager.stats.captures + eager.stats.replays, 0);
  // The graphs really ran, for several batch sizes, and were replayed many times.
  EXPECT_EQ(graphed.stats.capture_failures, 0);
  EXPECT_GE(graphed.stats.captures, 3);
  EXPECT_GE(graphed.stats.replays, 100);
  // Graphs only for buckets 1, 2, 4, 6 (max_batch_sequences): a batch of 3 or 5 ran padded.
  for (int batch : graphed.captured_batches) {
    EXPECT_TRUE(batch == 1 || batch == 2 || batch == 4 || batch == 6) << batch;
  }
  EXPECT_GT(graphed.stats.padded_rows, 0);
  ::lockstep::testing::ExpectSameGenerations(eager.results, graphed.results);
}

TEST_F(DecodeGraphsTest, OneGraphPerBucketTouchedSameBitsAndNoAllocationOnReplay) {
  constexpr int kRequests = 20;
  // Request i makes 3 (i + 1) tokens and never stops early: after the prefill the batch
  // shrinks 20, 19, ..., 1, at least two decode steps at each size.
  std::vector<GenerationRequest> requests;
  for (int i = 0; i < kRequests; ++i) {
    GenerationRequest r;
    r.request_id = static_cast<uint32_t>(i);
    r.prompt = {static_cast<int32_t>(4 + i), 7, static_cast<int32_t>(9 + 3 * i)};
    r.max_new_tokens = 3 * (i + 1);
    r.sampling = {.temperature = 1.0f, .top_p = (i % 2) ? 0.9f : 1.0f};
    r.seed = 5;
    requests.push_back(r);
  }
  auto run = [&](RolloutEngine& engine) {
    for (const GenerationRequest& r : requests) Check(engine.Submit(r));
    std::vector<GenerationResult> results = Unwrap(engine.RunToCompletion());
    std::sort(results.begin(), results.end(),
              [](const auto& a, const auto& b) { return a.request_id < b.request_id; });
    return results;
  };
  EngineOptions options;
  options.max_batch_sequences = kRequests;
  options.kv_cache = {.block_size = 4, .num_blocks = 1024};
  options.cuda_graphs = true;
  RolloutEngine graphed(*model_, options);
  Check(graphed.status());
  if (!graphed.workspace().decode_graphs().enabled()) {
    GTEST_SKIP() << "LOCKSTEP_CUDA_GRAPHS=0 is set";
  }
  options.cuda_graphs = false;
  RolloutEngine eager(*model_, options);
  Check(eager.status());

  const std::vector<GenerationResult> first = run(graphed);
  const model::DecodeGraphCache& graphs = graphed.workspace().decode_graphs();
  const std::vector<int> buckets = {1, 2, 4, 8, 16, 20};
  EXPECT_EQ(graphs.captured_batches(), buckets);
  EXPECT_EQ(graphs.stats().captures, static_cast<int64_t>(buckets.size()));
  EXPECT_EQ(graphs.stats().eager_steps, static_cast<int64_t>(buckets.size()));
  EXPECT_EQ(graphs.stats().invalidations, 0);
  EXPECT_EQ(graphs.stats().capture_failures, 0);
  EXPECT_GT(graphs.stats().padded_rows, 0);

  // The same requests again: every decode step replays, and nothing is allocated.
  const int64_t allocations = graphed.workspace().allocations();
  const int64_t scratch = backend_->ScratchGeneration();
  const int64_t replays = graphs.stats().replays;
  const std::vector<GenerationResult> second = run(graphed);
  EXPECT_EQ(graphed.workspace().allocations(), allocations);
  EXPECT_EQ(backend_->ScratchGeneration(), scratch);
  EXPECT_EQ(graphs.stats().captures, static_cast<int64_t>(buckets.size()));
  EXPECT_EQ(graphs.stats().replays - replays, 3 * kRequests - 1) << "every decode step";

  const std::vector<GenerationResult> reference = run(eager);
  EXPECT_EQ(eager.workspace().decode_graphs().stats().padded_rows, 0);
  for (const std::vector<GenerationResult>* results : {&first, &second}) {
    ::lockstep::testing::ExpectSameGenerations(*results, reference,
                                               /*compare_finished_step=*/false);
    if (HasFatalFailure()) return;
  }
}

// The sequences' rows of every layer's K and V pool, copied to the host.
std::vector<uint16_t> SequencePages(Backend& backend, PagedKvCache& cache, int num_layers) {
  const int64_t rows = int64_t{cache.num_blocks()} * cache.block_size();
  std::vector<uint16_t> out;
  for (int layer = 0; layer < num_layers; ++layer) {
    const KvPoolView pool = cache.pool(layer);
    for (void* base : {pool.k_pool, pool.v_pool}) {
      std::vector<uint16_t> host(static_cast<size_t>(rows * pool.row_stride));
      Check(backend.CopyToHost(
          ConstMatrixView{pool.dtype, base, rows, pool.row_stride, pool.row_stride, pool.device},
          MatrixView{pool.dtype, host.data(), rows, pool.row_stride, pool.row_stride,
                     Device::kCpu}));
      out.insert(out.end(), host.begin(), host.end());
    }
  }
  return out;
}

// Runs the same decode steps through a graphed workspace and an eager one (two caches with
// the same reservations), comparing the logits bit for bit at every step. The 5 sequences
// run padded to bucket 8; the sequences' KV pages end equal.
TEST_F(DecodeGraphsTest, GraphedStepsEqualEagerStepsAndSteadyStateAllocatesNothing) {
  constexpr int kBatch = 5;
  constexpr int kSteps = 60;
  const KvCacheOptions kv{.block_size = 4, .num_blocks = 256};
  std::unique_ptr<PagedKvCache> cache_graphed =
      Unwrap(PagedKvCache::Create(*backend_, config_, DType::kBF16, kv));
  std::unique_ptr<PagedKvCache> cache_eager =
      Unwrap(PagedKvCache::Create(*backend_, config_, DType::kBF16, kv));
  ForwardWorkspace ws_graphed(*backend_);
  ForwardWorkspace ws_eager(*backend_);
  ws_graphed.decode_graphs().set_enabled(true);
  ws_eager.decode_graphs().set_enabled(false);
  if (!ws_graphed.decode_graphs().enabled()) GTEST_SKIP() << "LOCKSTEP_CUDA_GRAPHS=0 is set";

  std::vector<std::vector<int32_t>> prompts(kBatch);
  for (int s = 0; s < kBatch; ++s) {
    for (int t = 0; t < 3 + 2 * s; ++t) prompts[s].push_back(static_cast<int32_t>(5 + 7 * s + t));
    for (PagedKvCache* cache : {cache_graphed.get(), cache_eager.get()}) {
      Check(cache->Reserve(s, static_cast<int64_t>(prompts[s].size()) + kSteps));
    }
  }
  std::vector<int64_t> length(kBatch, 0);
  std::vector<std::vector<int32_t>> next(kBatch);
  std::vector<uint16_t> logits_graphed(kBatch * config_.vocab_size);
  std::vector<uint16_t> logits_eager(logits_graphed.size());
  int64_t allocations_after_capture = -1;
  int64_t scratch_after_capture = -1;
  for (int step = 0; step <= kSteps; ++step) {
    std::vector<StepEntry> entries;
    for (int s = 0; s < kBatch; ++s) {
      const std::vector<int32_t>& tokens = step == 0 ? prompts[s] : next[s];
      entries.push_back({.sequence_id = s, .start_position = length[s], .tokens = tokens});
    }
    ConstMatrixView graphed, eager;
    Check(model_->ForwardStep(entries, *cache_graphed, ws_graphed, &graphed));
    Check(model_->ForwardStep(entries, *cache_eager, ws_eager, &eager));
    Check(backend_->CopyToHost(graphed, MatrixView{DType::kBF16, logits_graphed.data(), kBatch,
                                                   config_.vocab_size, config_.vocab_size,
                                                   Device::kCpu}));
    Check(backend_->CopyToHost(eager, MatrixView{DType::kBF16, logits_eager.data(), kBatch,
                                                 config_.vocab_size, config_.vocab_size,
                                                 Device::kCpu}));
    Check(backend_->Synchronize());
    ASSERT_EQ(logits_graphed, logits_eager) << "step " << step;
    for (int s = 0; s < kBatch; ++s) {
      length[s] += static_cast<int64_t>(entries[s].tokens.size());
      // The next token: a deterministic function of the logits (their argmax bits).
      int best = 0;
      for (int v = 1; v < config_.vocab_size; ++v) {
        if (logits_graphed[s * config_.vocab_size + v] >
            logits_graphed[s * config_.vocab_size + best]) {
          best = v;
        }
      }
      next[s] = {best};
    }
    if (step == 3) {  // prefill, eager decode, capture, first replay
      allocations_after_capture = ws_graphed.allocations();
      scratch_after_capture = backend_->ScratchGeneration();
    }
  }
  const model::DecodeGraphStats& stats = ws_graphed.decode_graphs().stats();
  EXPECT_EQ(stats.eager_steps, 1);
  EXPECT_EQ(stats.captures, 1);
  EXPECT_EQ(stats.replays, kSteps - 2);
  EXPECT_EQ(stats.invalidations, 0);
  EXPECT_EQ(stats.capture_failures, 0);
  EXPECT_EQ(stats.padded_rows, 3 * kSteps) << "5 sequences run as bucket 8";
  EXPECT_EQ(ws_graphed.decode_graphs().captured_batches(), std::vector<int>{8});
  EXPECT_EQ(SequencePages(*backend_, *cache_graphed, config_.num_layers),
            SequencePages(*backend_, *cache_eager, config_.num_layers));
  EXPECT_EQ(ws_graphed.allocations(), allocations_after_capture);
  EXPECT_EQ(backend_->ScratchGeneration(), scratch_after_capture);
  // The eager workspace never captured.
  EXPECT_EQ(ws_eager.decode_graphs().stats().captures, 0);
}

TEST_F(DecodeGraphsTest, CaptureRecordsAndReplaysAndRefusesWhatCannotBeCaptured) {
  ASSERT_TRUE(backend_->SupportsGraphs());
  const std::vector<uint16_t> ones(8, 0x3f80);  // bf16 1.0
  DeviceTensor a = Unwrap(backend_->Upload(
      ConstMatrixView{DType::kBF16, ones.data(), 2, 4, 4, Device::kCpu}));
  DeviceTensor out = Unwrap(backend_->Allocate(DType::kBF16, 2, 4));
  Check(backend_->BeginCapture());
  EXPECT_FALSE(backend_->Allocate(DType::kBF16, 1, 1).ok());
  EXPECT_FALSE(backend_->Synchronize().ok());
  Check(backend_->AddResidual(a.view(), a.view(), out.view()));
  std::unique_ptr<CapturedGraph> graph = Unwrap(backend_->EndCapture());
  std::vector<uint16_t> host(8, 0);
  const MatrixView host_view{DType::kBF16, host.data(), 2, 4, 4, Device::kCpu};
  Check(backend_->CopyToHost(out.view(), host_view));
  EXPECT_EQ(host, std::vector<uint16_t>(8, 0)) << "capturing must not run the op";
  Check(backend_->Replay(*graph));
  Check(backend_->CopyToHost(out.view(), host_view));
  EXPECT_EQ(host, std::vector<uint16_t>(8, 0x4000));  // 1 + 1 = 2
  // A replay reads the buffers' contents at replay time.
  const std::vector<uint16_t> twos(8, 0x4000);
  Check(backend_->CopyFromHost(ConstMatrixView{DType::kBF16, twos.data(), 2, 4, 4, Device::kCpu},
                               a.view()));
  Check(backend_->Replay(*graph));
  Check(backend_->CopyToHost(out.view(), host_view));
  EXPECT_EQ(host, std::vector<uint16_t>(8, 0x4080));  // 2 + 2 = 4
  EXPECT_FALSE(backend_->EndCapture().ok()) << "no capture is running";
}

}  // namespace
}  // namespace lockstep::cuda::gpu_testing
