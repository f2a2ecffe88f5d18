// The model on the Backend interface gives the same bits as the code before the port:
// FNV-1a hashes of the logits of ForwardSequences, of every ForwardStep (prefill + decode)
// and of an engine's sampled tokens and logprobs, recorded from the pre-backend
// implementation (commit 28d9e2b, direct cpu:: calls) for seeded models. Also: a workspace
// reaches a steady state where steps make no more device allocations.
#include <cstring>
#include <memory>
#include <vector>

#include "gtest/gtest.h"
#include "model/transformer.h"
#include "model/weights.h"
#include "numerics/backends/create_backend.h"
#include "numerics/fnv1a.h"
#include "rollout/engine.h"

namespace lockstep {
namespace {

// The recorded hashes are FNV-1a chains started from this value (FNV's offset basis short
// of its last digit, as first written); the values below depend on it.
constexpr uint64_t kGoldenHashStart = 1469598103934665603ull;


ModelConfig Config(ModelFamily family) {
  ModelConfig c;
  c.family = family;
  c.hidden_size = 64;
  c.num_layers = 2;
  c.num_heads = 4;
  c.num_kv_heads = 2;
  c.head_dim = 16;
  c.intermediate_size = 96;
  c.vocab_size = 97;
  c.max_position_embeddings = 64;
  c.attention_bias = family == ModelFamily::kQwen2;
  c.qk_norm = family == ModelFamily::kQwen3;
  return c;
}

const std::vector<std::vector<int32_t>>& Sequences() {
  static const std::vector<std::vector<int32_t>> kSequences = {
      {1, 5, 9, 13, 17, 21, 25}, {2, 4}, {3, 6, 9, 12, 15, 18, 21, 24, 27, 30, 33}};
  return kSequences;
}

struct Golden {
  ModelFamily family;
  DType dtype;
  uint64_t sequences, step, engine;
};

class BackendGoldenTest : public ::testing::TestWithParam<Golden> {};

TEST_P(BackendGoldenTest, SameBitsAsBeforeThePort) {
  const Golden g = GetParam();
  const ModelWeights w = RandomInitWeights(Config(g.family), g.dtype, 7, 0.05f).value();
  auto backend = CreateBackend(BackendOptions{}).value();
  auto model = Transformer::Create(w, *backend).value();
  const auto& seqs = Sequences();
  std::vector<std::span<const int32_t>> spans(seqs.begin(), seqs.end());
  Tensor logits;
  ASSERT_TRUE(model->ForwardSequences(spans, &logits).ok());
  EXPECT_EQ(Fnv1a64(logits.data(), logits.nbytes(), kGoldenHashStart), g.sequences);

  // Two identical passes of prefill + decode steps through one workspace: the second
  // makes no device allocation (the buffers have grown to what these steps need).
  ForwardWorkspace workspace(*backend);
  uint64_t step_hash = kGoldenHashStart;
  int64_t allocations_after_first_pass = 0;
  for (int pass = 0; pass < 2; ++pass) {
    auto cache =
        PagedKvCache::Create(*backend, w.config, g.dtype, {.block_size = 4, .num_blocks = 64})
            .value();
    for (size_t s = 0; s < seqs.size(); ++s) {
      ASSERT_TRUE(
          cache->Reserve(static_cast<int64_t>(s), static_cast<int64_t>(seqs[s].size())).ok());
    }
    std::vector<int64_t> done(seqs.size(), 0);
    for (int step = 0; step < 12; ++step) {
      std::vector<StepEntry> entries;
      for (size_t s = 0; s < seqs.size(); ++s) {
        const int64_t len = static_cast<int64_t>(seqs[s].size());
        if (done[s] >= len) continue;
        const int64_t n = step == 0 ? std::max<int64_t>(1, len / 2) : 1;
        entries.push_back({static_cast<int64_t>(s), done[s],
                           std::span<const int32_t>(seqs[s]).subspan(done[s], n)});
        done[s] += n;
      }
      if (entries.empty()) break;
      ConstMatrixView last;
      ASSERT_TRUE(model->ForwardStep(entries, *cache, workspace, &last).ok());
      if (pass == 1) continue;
      Tensor host(last.dtype, {last.rows, last.cols});
      ASSERT_TRUE(backend->CopyToHost(last, host.AsMatrix()).ok());
      step_hash = Fnv1a64(host.data(), host.nbytes(), step_hash);
    }
    if (pass == 0) allocations_after_first_pass = workspace.allocations();
  }
  EXPECT_GT(allocations_after_first_pass, 0);
  EXPECT_EQ(workspace.allocations(), allocations_after_first_pass);
  EXPECT_EQ(step_hash, g.step);

  EngineOptions options;
  options.max_batch_sequences = 2;
  options.kv_cache = {.block_size = 4, .num_blocks = 64};
  auto engine = RolloutEngine::Create(*model, options).value();
  for (int r = 0; r < 3; ++r) {
    GenerationRequest q;
    q.request_id = static_cast<uint32_t>(r);
    q.prompt = seqs[r];
    q.max_new_tokens = 9;
    q.seed = 42;
    q.sampling.temperature = r == 1 ? 0.7f : 1.0f;
    q.sampling.top_k = r == 2 ? 20 : 0;
    ASSERT_TRUE(engine->Submit(q).ok());
  }
  const auto results = engine->RunToCompletion().value();
  uint64_t engine_hash = kGoldenHashStart;
  for (const auto& r : results) {
    engine_hash = Fnv1a64(r.tokens.data(), r.tokens.size() * 4, engine_hash);
    engine_hash = Fnv1a64(r.logprobs.data(), r.logprobs.size() * 4, engine_hash);
  }
  EXPECT_EQ(engine_hash, g.engine);
}

INSTANTIATE_TEST_SUITE_P(
    Recorded, BackendGoldenTest,
    ::testing::Values(Golden{ModelFamily::kQwen2, DType::kBF16, 0x597e0a8adfc232ffull,
                             0xef54565d156c56faull, 0xb35106c5b9d53136ull},
                      Golden{ModelFamily::kQwen2, DType::kF16, 0x43bbb9ba33381359ull,
                             0x11f2658a5a4bbfcbull, 0x3af4b995f652a24bull},
                      Golden{ModelFamily::kQwen3, DType::kBF16, 0x539e7f6418195c2dull,
                             0x6d4b06a97641bdd7ull, 0xe35b01060eee7bc9ull},
                      Golden{ModelFamily::kQwen3, DType::kF16, 0x628ef09ce82f0f17ull,
                             0xcfd964129e4b9263ull, 0x51005b0d178ca4c6ull}));

TEST(BackendPlumbing, CacheOnAnotherBackendIsRefused) {
  const ModelWeights w = RandomInitWeights(Config(ModelFamily::kQwen2), DType::kBF16, 7).value();
  auto backend = CreateBackend(BackendOptions{}).value();
  auto model = Transformer::Create(w, *backend).value();
  PagedKvCache other(w.config, DType::kBF16, {.block_size = 4, .num_blocks = 8});  // process CPU
  ASSERT_TRUE(other.Reserve(0, 3).ok());
  const int32_t tokens[] = {1, 2, 3};
  const StepEntry entries[] = {{.sequence_id = 0, .start_position = 0, .tokens = tokens}};
  Tensor logits;
  const absl::Status status = model->ForwardStep(entries, other, &logits);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("backend"), std::string::npos) << status;
}

}  // namespace
}  // namespace lockstep
