// Character-level tokenizer for lockstep's synthetic tasks. Ids 0..3 are
// special (<pad>, <bos>, <eos>, <unk>); then one id per character of a fixed
// alphabet (printable ASCII plus newline). Encode∘Decode is the identity on
// text made of the alphabet.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lockstep {

class CharTokenizer {
 public:
  static constexpr int32_t kPad = 0, kBos = 1, kEos = 2, kUnk = 3;
  CharTokenizer();
  int32_t vocab_size() const;
  std::vector<int32_t> Encode(std::string_view text) const;  // unknown chars -> kUnk
  std::string Decode(const std::vector<int32_t>& ids) const;  // specials are dropped
  std::string TokenText(int32_t id) const;                     // "<eos>" for specials

 private:
  std::string alphabet_;
  int32_t char_to_id_[256];
};

}  // namespace lockstep
