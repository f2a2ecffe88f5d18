// The trainer's full-sequence forward, prefill and step-by-step decode over
// the paged KV cache must produce bitwise-identical logits for every family
// (Llama, Qwen2 with q/k/v bias, Qwen3 with q/k norm) and both 16-bit dtypes.
#include "model/transformer.h"

#include <cstring>
#include <random>
#include <span>
#include <vector>

#include "gtest/gtest.h"

namespace lockstep {
namespace {

ModelConfig SmallConfig(ModelFamily family) {
  ModelConfig c;
  c.family = family;
  c.hidden_size = 64;
  c.num_layers = 2;
  c.num_heads = 4;
  c.num_kv_heads = 2;
  c.head_dim = 16;
  c.intermediate_size = 96;
  c.vocab_size = 50;
  c.attention_bias = family == ModelFamily::kQwen2;
  c.qk_norm = family == ModelFamily::kQwen3;
  c.tie_word_embeddings = family == ModelFamily::kLlama;
  c.max_position_embeddings = 256;
  return c;
}

std::vector<int32_t> RandomTokens(std::mt19937& rng, int n, int vocab) {
  std::vector<int32_t> t(n);
  for (auto& x : t) x = static_cast<int32_t>(rng() % vocab);
  return t;
}

bool RowsEqual(const Tensor& a, int64_t ra, const Tensor& b, int64_t rb) {
  const size_t bytes = static_cast<size_t>(a.dim(1)) * DTypeSize(a.dtype());
  return std::memcmp(a.AsMatrix().RowPtr(ra), b.AsMatrix().RowPtr(rb), bytes) == 0;
}

class TransformerTest : public ::testing::TestWithParam<std::tuple<ModelFamily, DType>> {};

TEST_P(TransformerTest, TrainerPrefillAndDecodeAgreeBitwise) {
  const auto [family, dtype] = GetParam();
  const ModelConfig config = SmallConfig(family);
  auto weights = RandomInitWeights(config, dtype, /*seed=*/7, 0.1f);
  ASSERT_TRUE(weights.ok()) << weights.status();
  auto model = Transformer::Create(*weights);
  ASSERT_TRUE(model.ok()) << model.status();

  std::mt19937 rng(42);
  // Lengths straddle the attention chunk (64) and the KV block size.
  const std::vector<int> lengths = {1, 5, 17, 63, 64, 65, 100};
  std::vector<std::vector<int32_t>> seqs;
  for (int n : lengths) seqs.push_back(RandomTokens(rng, n, config.vocab_size));

  // Trainer: all sequences in one packed forward, and each alone.
  std::vector<std::span<const int32_t>> spans(seqs.begin(), seqs.end());
  Tensor packed;
  ASSERT_TRUE((*model)->ForwardSequences(spans, &packed).ok());
  int64_t offset = 0;
  for (size_t s = 0; s < seqs.size(); ++s) {
    Tensor alone;
    std::span<const int32_t> one[] = {seqs[s]};
    ASSERT_TRUE((*model)->ForwardSequences(one, &alone).ok());
    for (int64_t t = 0; t < static_cast<int64_t>(seqs[s].size()); ++t) {
      ASSERT_TRUE(RowsEqual(alone, t, packed, offset + t)) << "seq " << s << " pos " << t;
    }
    offset += static_cast<int64_t>(seqs[s].size());
  }

  // Rollout: prefill a prefix of each sequence, then decode the rest one token
  // per step, all sequences in the same steps.
  PagedKvCache cache(config, dtype, {.block_size = 8, .num_blocks = 128});
  offset = 0;
  std::vector<int64_t> offsets;
  for (size_t s = 0; s < seqs.size(); ++s) {
    ASSERT_TRUE(cache.Reserve(static_cast<int64_t>(s), static_cast<int64_t>(seqs[s].size())).ok());
    offsets.push_back(offset);
    offset += static_cast<int64_t>(seqs[s].size());
  }
  std::vector<int64_t> done(seqs.size(), 0);
  for (size_t s = 0; s < seqs.size(); ++s) done[s] = 0;
  bool any = true;
  int step = 0;
  while (any) {
    any = false;
    std::vector<StepEntry> entries;
    std::vector<size_t> which;
    for (size_t s = 0; s < seqs.size(); ++s) {
      const int64_t len = static_cast<int64_t>(seqs[s].size());
      if (done[s] >= len) continue;
      // First step: a prompt of about half the sequence; then single tokens.
      const int64_t n = step == 0 ? std::max<int64_t>(1, len / 2) : 1;
      entries.push_back({static_cast<int64_t>(s), done[s],
                         std::span<const int32_t>(seqs[s]).subspan(done[s], n)});
      which.push_back(s);
      any = true;
    }
    if (!any) break;
    Tensor last;
    ASSERT_TRUE((*model)->ForwardStep(entries, cache, &last).ok());
    for (size_t e = 0; e < entries.size(); ++e) {
      const size_t s = which[e];
      done[s] += static_cast<int64_t>(entries[e].tokens.size());
      ASSERT_TRUE(RowsEqual(last, static_cast<int64_t>(e), packed, offsets[s] + done[s] - 1))
          << "decode differs from trainer: seq " << s << " pos " << done[s] - 1;
    }
    ++step;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Families, TransformerTest,
    ::testing::Combine(::testing::Values(ModelFamily::kLlama, ModelFamily::kQwen2,
                                         ModelFamily::kQwen3),
                       ::testing::Values(DType::kF16, DType::kBF16)));

TEST(TransformerErrors, PositionBeyondTableIsRejected) {
  ModelConfig config = SmallConfig(ModelFamily::kLlama);
  config.max_position_embeddings = 8;
  auto weights = RandomInitWeights(config, DType::kBF16, 1);
  ASSERT_TRUE(weights.ok());
  auto model = Transformer::Create(*weights);
  ASSERT_TRUE(model.ok());
  std::vector<int32_t> tokens(9, 3);
  std::span<const int32_t> one[] = {tokens};
  Tensor logits;
  const absl::Status status = (*model)->ForwardSequences(one, &logits);
  EXPECT_EQ(status.code(), absl::StatusCode::kOutOfRange);
  EXPECT_NE(status.message().find("max_position_embeddings"), std::string::npos);
}

TEST(KvCache, ReserveReleaseAndExhaustion) {
  const ModelConfig config = SmallConfig(ModelFamily::kLlama);
  PagedKvCache cache(config, DType::kF16, {.block_size = 4, .num_blocks = 3});
  EXPECT_EQ(cache.BlocksFor(9), 3);
  ASSERT_TRUE(cache.Reserve(1, 8).ok());
  EXPECT_EQ(cache.free_blocks(), 1);
  const absl::Status full = cache.Reserve(2, 9);
  EXPECT_EQ(full.code(), absl::StatusCode::kResourceExhausted);
  cache.Release(1);
  EXPECT_EQ(cache.free_blocks(), 3);
  EXPECT_TRUE(cache.Reserve(2, 9).ok());
  KvStepIndices indices;
  const KvStepRows past_end[] = {{.sequence_id = 2, .start_position = 12, .count = 1}};
  EXPECT_EQ(cache.BuildStep(past_end, &indices).code(), absl::StatusCode::kOutOfRange);
  const KvStepRows last[] = {{.sequence_id = 2, .start_position = 11, .count = 1}};
  ASSERT_TRUE(cache.BuildStep(last, &indices).ok());
  // Position 11 of a 4-row-block table is block 2, offset 3.
  ASSERT_EQ(indices.slots.size(), 1u);
  EXPECT_EQ(indices.page_indptr, (std::vector<int32_t>{0, 3}));
  EXPECT_EQ(indices.slots[0], indices.page_indices[2] * 4 + 3);
  const KvStepRows unknown[] = {{.sequence_id = 7, .start_position = 0, .count = 1}};
  EXPECT_EQ(cache.BuildStep(unknown, &indices).code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace lockstep
