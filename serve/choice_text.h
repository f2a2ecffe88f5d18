// The text of one generated choice as its tokens arrive: decoded, cut at the
// first stop string (which is not included, as vLLM and OpenAI do), and handed
// out as deltas that never have to be taken back. A delta holds back the last
// (longest stop string - 1) bytes and any incomplete UTF-8 character until the
// choice finishes, so the concatenated deltas always equal the final text.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace lockstep::serve {

class ChoiceText {
 public:
  // `decode` maps ids to generated text; it must decode a list as the
  // concatenation of its tokens' decodings (true of byte-level BPE and the char tokenizer).
  using Decoder = std::function<std::string(const std::vector<int32_t>&)>;
  ChoiceText(Decoder decode, std::vector<std::string> stop);

  struct Update {
    std::string delta;       // new text, safe to send
    bool stopped = false;    // a stop string was found: the choice is finished
    int kept_tokens = 0;     // tokens that count (up to the one completing the stop string)
  };
  // `tokens`: everything generated so far (each call's list extends the last
  // one's, so only the new tokens are decoded and searched); `finished`: the
  // engine ended the sequence.
  Update Advance(const std::vector<int32_t>& tokens, bool finished);

  const std::string& text() const { return text_; }  // everything handed out so far

 private:
  Decoder decode_;
  std::vector<std::string> stop_;
  size_t hold_back_ = 0;
  std::string decoded_;        // decoding of the first decoded_tokens_ tokens
  size_t decoded_tokens_ = 0;
  std::string text_;
};

// Bytes of `text` up to the last complete UTF-8 character at or before `limit`.
size_t CompleteUtf8Prefix(const std::string& text, size_t limit);

}  // namespace lockstep::serve
