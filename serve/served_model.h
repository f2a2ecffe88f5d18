// The model `lockstep serve` answers with: weights loaded from a model directory
// (HF layout or a lockstep checkpoint), the Transformer over them, the tokenizer
// (tokenizer.json, else lockstep's char tokenizer), the chat template if the
// directory has one, and the end-of-sequence ids. Immutable once loaded.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "model/char_tokenizer.h"
#include "model/chat_template.h"
#include "model/hf_tokenizer.h"
#include "model/transformer.h"
#include "model/weights.h"

namespace lockstep::serve {

struct ServedModelOptions {
  std::string model_dir;  // config.json + safetensors [+ tokenizer.json, tokenizer_config.json]
  std::string tokenizer;  // a tokenizer.json or a directory with one; empty: model_dir's
  std::string dtype = "bf16";
  std::string name;       // the served model name; empty: the directory's name
};

class ServedModel {
 public:
  static absl::StatusOr<std::unique_ptr<ServedModel>> Load(const ServedModelOptions& options);

  const std::string& name() const { return name_; }
  const Transformer& transformer() const { return *transformer_; }
  int max_positions() const { return transformer_->max_positions(); }
  int vocab_size() const { return weights_.config.vocab_size; }
  // "qwen3, 2 layers, bf16, tokenizer.json, chat template qwen3" for the startup line.
  std::string Description() const;

  // A completions prompt: the text's ids with what the tokenizer adds around a
  // single sequence (tokenizer.json's TemplateProcessing, e.g. Llama-3's
  // <|begin_of_text|>; <bos> for the char tokenizer).
  std::vector<int32_t> EncodePrompt(const std::string& text) const;
  // A rendered chat: the template already wrote every special token, so nothing is added.
  std::vector<int32_t> EncodeChat(const std::string& rendered) const;
  // Generated text: special tokens (e.g. <|im_end|>) are dropped.
  std::string Decode(const std::vector<int32_t>& ids) const;
  // One token's bytes as generated text holds them ("" for a dropped special token).
  std::string DecodeOne(int32_t id) const;
  // One token's own spelling for logprobs, special tokens included ("<|im_end|>").
  std::string TokenText(int32_t id) const;

  // NotFound naming the file when the directory has no usable chat template.
  absl::StatusOr<std::string> RenderChat(const std::vector<ChatMessage>& messages,
                                         const ChatOptions& options) const;
  // generation_config.json's eos_token_id, else tokenizer_config.json's eos_token.
  const std::vector<int32_t>& stop_token_ids() const { return stop_token_ids_; }

 private:
  ServedModel() = default;
  absl::Status LoadTokenizer(const std::string& path, bool explicit_path);

  std::string name_;
  std::string dir_;
  ModelWeights weights_;  // outlives transformer_
  std::unique_ptr<Transformer> transformer_;
  std::optional<HfTokenizer> hf_;
  CharTokenizer chars_;
  std::string tokenizer_source_;
  std::vector<int32_t> prompt_prefix_, prompt_suffix_;
  std::optional<ChatTemplate> chat_;
  absl::Status chat_error_;  // why chat_ is absent
  std::vector<int32_t> stop_token_ids_;
};

}  // namespace lockstep::serve
