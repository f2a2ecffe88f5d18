// The tokenizer of a model directory, behind one interface for jobs that turn
// text into prompts and completions back into text: tokenizer.json present ->
// the byte-level BPE HfTokenizer (with the post-processor's BOS and the eos ids
// of generation_config.json / tokenizer_config.json); otherwise lockstep's char
// tokenizer (<bos> first, <eos> ends), byte for byte as the char jobs always used it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "model/char_tokenizer.h"
#include "model/hf_tokenizer.h"
#include "nlohmann/json.hpp"

namespace lockstep {

class TextTokenizer {
 public:
  // lockstep's char tokenizer: prompts start with <bos>, <eos> ends a completion.
  static TextTokenizer Char();
  // `prefix`/`suffix`: the ids the tokenizer adds around a single sequence;
  // `eos_ids`: the ids that end generation; `source` names the file in messages.
  static TextTokenizer Hf(HfTokenizer tokenizer, std::vector<int32_t> prefix, std::vector<int32_t> suffix,
                          std::vector<int32_t> eos_ids, std::string source);

  bool is_char() const { return !hf_.has_value(); }
  // "char tokenizer" or the tokenizer.json path.
  const std::string& source() const { return source_; }
  // One more than the largest id the tokenizer can produce.
  int32_t vocab_size() const;

  // Plain text to ids (HF: added tokens in the text become their ids).
  std::vector<int32_t> Encode(std::string_view text) const;
  // Generated ids to text; special tokens (<eos>, <|im_end|>) are dropped.
  std::string Decode(const std::vector<int32_t>& ids) const;
  // A raw prompt: the ids added around a single sequence (char: <bos>) + Encode(text).
  std::vector<int32_t> EncodePrompt(std::string_view text) const;
  // A chat-template rendering. HF: the template wrote every special token, so
  // nothing is added. Char: <bos> first, as lockstep's char models always saw it.
  std::vector<int32_t> EncodeChat(std::string_view rendered) const;
  // The ids that end a completion (char: <eos>); may be empty for an HF
  // tokenizer whose directory names no eos token.
  const std::vector<int32_t>& eos_ids() const { return eos_ids_; }
  void set_eos_ids(std::vector<int32_t> ids) { eos_ids_ = std::move(ids); }

 private:
  TextTokenizer() = default;

  std::optional<HfTokenizer> hf_;
  CharTokenizer chars_;
  std::vector<int32_t> prefix_, suffix_, eos_ids_;
  std::string source_;
};

// The tokenizer for `model_dir`: DIR/tokenizer.json when present (eos ids from
// DIR/generation_config.json, else DIR/tokenizer_config.json's eos_token), else
// the char tokenizer. Errors name the file.
absl::StatusOr<std::shared_ptr<const TextTokenizer>> LoadModelDirTokenizer(const std::string& model_dir);

// An HF tokenizer from a tokenizer.json path: its post-processor's ids and the
// eos_token of the tokenizer_config.json beside it (if any).
absl::StatusOr<TextTokenizer> LoadHfTextTokenizer(const std::string& tokenizer_json_path);

// The shared pieces of reading an HF tokenizer directory (serve uses them too).
// A JSON file; NotFound or InvalidArgument naming `path`.
absl::StatusOr<nlohmann::json> ReadJsonFile(const std::string& path);
// The special-token ids tokenizer.json's TemplateProcessing puts before and
// after a single sequence (inside a Sequence post-processor too).
void PostProcessorIds(const nlohmann::json& post_processor, std::vector<int32_t>& prefix,
                      std::vector<int32_t>& suffix);
// tokenizer_config.json's eos_token as an id of `tokenizer`, or nullopt.
std::optional<int32_t> TokenizerConfigEosId(const nlohmann::json& tokenizer_config,
                                            const HfTokenizer& tokenizer);

}  // namespace lockstep
