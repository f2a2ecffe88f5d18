// A tiny HF model directory for tests that must run without downloads: random
// Qwen2 weights (config.json + safetensors), a byte-level BPE tokenizer.json
// (256 byte tokens, a few merges, <|endoftext|> as the post-processor's BOS,
// ChatML specials) and optionally Qwen2.5's tokenizer_config.json (chat template).
#pragma once

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "model/generation_config.h"
#include "model/weights.h"
#include "nlohmann/json.hpp"
#include "tests/model/gpt2_byte_symbol.h"

namespace lockstep::testing_util {

constexpr int32_t kTinyEndOfText = 300, kTinyImStart = 301, kTinyImEnd = 302;
constexpr int32_t kTinyTokenizerIds = 303;  // bytes, 4 merges (256..259), added 300..302

// `with_bos`: a TemplateProcessing post-processor puts <|endoftext|> before a sequence.
inline nlohmann::json TinyHfTokenizerJson(bool with_bos) {
  using nlohmann::json;
  json vocab = json::object();
  for (int b = 0; b < 256; ++b) vocab[Gpt2ByteSymbol(b)] = b;
  vocab["99"] = 256;
  vocab["12"] = 257;
  vocab["he"] = 258;
  vocab["im"] = 259;
  json byte_level = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", false},
                     {"use_regex", true}};
  json added = json::array();
  for (auto [id, text] : {std::pair{kTinyEndOfText, "<|endoftext|>"}, std::pair{kTinyImStart, "<|im_start|>"},
                          std::pair{kTinyImEnd, "<|im_end|>"}}) {
    added.push_back({{"id", id}, {"content", text}, {"special", true}});
  }
  json post = byte_level;
  if (with_bos) {
    post = {{"type", "TemplateProcessing"},
            {"single", json::array({{{"SpecialToken", {{"id", "<|endoftext|>"}, {"type_id", 0}}}},
                                    {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}})},
            {"pair", json::array()},
            {"special_tokens",
             {{"<|endoftext|>", {{"id", "<|endoftext|>"}, {"ids", {kTinyEndOfText}}, {"tokens", {"<|endoftext|>"}}}}}}};
  }
  return {{"added_tokens", added},
          {"normalizer", nullptr},
          {"pre_tokenizer", byte_level},
          {"post_processor", post},
          {"decoder", byte_level},
          {"model",
           {{"type", "BPE"},
            {"vocab", vocab},
            {"merges", {"9 9", "1 2", "h e", "i m"}}}}};
}

inline ModelConfig TinyHfConfig(int vocab_size = 304, int max_positions = 160) {
  ModelConfig config;
  config.family = ModelFamily::kQwen2;
  config.attention_bias = true;
  config.tie_word_embeddings = true;
  config.hidden_size = 32;
  config.num_layers = 1;
  config.num_heads = 2;
  config.num_kv_heads = 1;
  config.head_dim = 16;
  config.intermediate_size = 48;
  config.vocab_size = vocab_size;
  config.max_position_embeddings = max_positions;
  return config;
}

struct TinyHfModelOptions {
  int vocab_size = 304;  // embedding rows (>= kTinyTokenizerIds for a consistent model)
  int max_positions = 160;
  bool with_bos = true;
  bool chat_template = true;              // Qwen2.5's tokenizer_config.json (eos_token <|im_end|>)
  std::vector<int32_t> generation_eos = {};  // generation_config.json's eos_token_id; empty: no file
};

// Writes the directory; the test fails (fatally) if it cannot.
inline void WriteTinyHfModelDir(const std::filesystem::path& dir, const TinyHfModelOptions& o = {}) {
  std::filesystem::create_directories(dir);
  absl::StatusOr<ModelWeights> weights =
      RandomInitWeights(TinyHfConfig(o.vocab_size, o.max_positions), DType::kF32, 7, 0.2f);
  ASSERT_TRUE(weights.ok()) << weights.status();
  SaveModelOptions save;
  if (!o.generation_eos.empty()) {
    GenerationConfig generation;
    generation.eos_token_ids = o.generation_eos;
    save.generation = generation;
  }
  ASSERT_TRUE(SaveModelDir(*weights, dir.string(), save).ok());
  std::ofstream(dir / "tokenizer.json") << TinyHfTokenizerJson(o.with_bos).dump();
  if (o.chat_template) {
    std::filesystem::copy_file(
        std::filesystem::path(LOCKSTEP_SOURCE_DIR) / "data/tokenizers/qwen2_5/tokenizer_config.json",
        dir / "tokenizer_config.json", std::filesystem::copy_options::overwrite_existing);
  }
}

}  // namespace lockstep::testing_util
