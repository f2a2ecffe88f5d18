#include "model/char_tokenizer.h"

#include <algorithm>

namespace lockstep {
namespace {

constexpr const char* kSpecialNames[] = {"<pad>", "<bos>", "<eos>", "<unk>"};
constexpr int32_t kNumSpecials = 4;

}  // namespace

CharTokenizer::CharTokenizer() {
  // Printable ASCII (space through '~') then newline; the id of a character is
  // kNumSpecials + its position here, so the mapping never changes.
  for (int c = 32; c <= 126; ++c) alphabet_.push_back(static_cast<char>(c));
  alphabet_.push_back('\n');
  std::fill(std::begin(char_to_id_), std::end(char_to_id_), kUnk);
  for (size_t i = 0; i < alphabet_.size(); ++i) {
    char_to_id_[static_cast<unsigned char>(alphabet_[i])] = kNumSpecials + static_cast<int32_t>(i);
  }
}

int32_t CharTokenizer::vocab_size() const {
  return kNumSpecials + static_cast<int32_t>(alphabet_.size());
}

std::vector<int32_t> CharTokenizer::Encode(std::string_view text) const {
  // Byte by byte: a multi-byte UTF-8 character becomes one kUnk per byte.
  std::vector<int32_t> ids;
  ids.reserve(text.size());
  for (char c : text) ids.push_back(char_to_id_[static_cast<unsigned char>(c)]);
  return ids;
}

std::string CharTokenizer::Decode(const std::vector<int32_t>& ids) const {
  // Specials carry no text. Ids past the alphabet (a model's vocabulary may be
  // padded beyond vocab_size()) are dropped too, so Decode never fails.
  std::string text;
  text.reserve(ids.size());
  for (int32_t id : ids) {
    if (id >= kNumSpecials && id < vocab_size()) text.push_back(alphabet_[id - kNumSpecials]);
  }
  return text;
}

std::string CharTokenizer::TokenText(int32_t id) const {
  if (id >= 0 && id < kNumSpecials) return kSpecialNames[id];
  if (id >= kNumSpecials && id < vocab_size()) return std::string(1, alphabet_[id - kNumSpecials]);
  return "<invalid:" + std::to_string(id) + ">";
}

}  // namespace lockstep
