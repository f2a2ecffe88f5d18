// Byte-level BPE tokenizer (GPT-2 / Qwen / Llama-3 style) loaded from a HF
// tokenizer.json. Decode(Encode(text)) == Normalize(text) for every byte string,
// valid UTF-8 or not (unless tokenizer.json sets add_prefix_space, as in HF).
// The pre-tokenizer regexes from the file run in PCRE2 and the NFC normalizer
// in ICU; ids match transformers.js on the reference corpus in data/tokenizers/.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "model/pcre2_regex.h"
#include "nlohmann/json.hpp"

namespace lockstep {

class HfTokenizer {
 public:
  // The regex splitting text into words before BPE, identified from tokenizer.json.
  enum class PreTokenizer {
    kGpt2,    // ByteLevel(use_regex): 's|'t|...| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
    kQwen2,   // Split: (?i:'s|...)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|...
    kLlama3,  // as kQwen2 but numbers in runs of up to three digits: \p{N}{1,3}
    kCustom,  // any other Split regex sequence
  };

  static absl::StatusOr<HfTokenizer> FromFile(const std::string& path);
  // `source` names the file in errors.
  static absl::StatusOr<HfTokenizer> FromJson(const nlohmann::json& json,
                                              const std::string& source = "tokenizer.json");

  // Added tokens (e.g. <|im_start|>) in `text` become their ids when
  // `parse_special` is true; otherwise they are encoded as plain text.
  std::vector<int32_t> Encode(std::string_view text, bool parse_special = true) const;
  // Ids outside the vocabulary are skipped; so are special added tokens when
  // `skip_special` is true. `clean_up_spaces` applies HF's
  // clean_up_tokenization_spaces (" ." -> ".", " n't" -> "n't", ...), which
  // tokenizer_config.json turns on for some models (Llama-3).
  std::string Decode(const std::vector<int32_t>& ids, bool skip_special = false,
                     bool clean_up_spaces = false) const;

  // tokenizer.json's normalizer (NFC or none) applied to text outside added tokens.
  std::string Normalize(std::string_view text) const;
  // The words BPE runs on, as byte strings of the normalized input (for tests and debugging).
  std::vector<std::string> PreTokenize(std::string_view text) const;

  // One more than the largest id (vocabulary and added tokens).
  int32_t vocab_size() const { return static_cast<int32_t>(id_to_token_.size()); }
  // The id of a token in its tokenizer.json spelling (e.g. "Ġthe"), or -1.
  int32_t TokenId(const std::string& token) const;
  // The token's tokenizer.json spelling, or "" for an unused id.
  std::string TokenText(int32_t id) const;
  PreTokenizer pre_tokenizer() const { return pre_tokenizer_; }

 private:
  struct AddedToken {
    std::string content;
    int32_t id = 0;
    bool special = false;
  };

  void EncodeWord(std::string_view word, std::vector<int32_t>& out) const;
  std::string DecodeRaw(const std::vector<int32_t>& ids, bool skip_special) const;

  PreTokenizer pre_tokenizer_ = PreTokenizer::kGpt2;
  std::vector<Pcre2Regex> splits_;  // applied in order, each to every piece of the last
  bool nfc_ = false;
  std::array<bool, 256> added_first_bytes_{};  // bytes an added token can start with
  bool add_prefix_space_ = false;
  bool ignore_merges_ = false;  // Llama-3: a word found whole in the vocab is one token
  std::unordered_map<std::string, int32_t> vocab_;        // byte-level spelling -> id
  std::unordered_map<std::string, int32_t> merge_ranks_;  // "left right" -> rank
  std::vector<std::string> id_to_token_;                  // "" for unused ids
  std::vector<bool> is_special_;
  std::vector<AddedToken> added_;  // longest content first, for matching
};

}  // namespace lockstep
