// Incremental detokenization with stop strings (serve/choice_text.h).
#include "serve/choice_text.h"

#include <algorithm>

namespace lockstep::serve {

size_t CompleteUtf8Prefix(const std::string& text, size_t limit) {
  limit = std::min(limit, text.size());
  // Walk back over at most 3 continuation bytes to the start of the last character.
  size_t start = limit;
  while (start > 0 && limit - start < 4 &&
         (static_cast<unsigned char>(text[start - 1]) & 0xC0) == 0x80) {
    --start;
  }
  if (start == 0) return limit;  // only continuation bytes: not UTF-8 to protect
  const unsigned char lead = static_cast<unsigned char>(text[start - 1]);
  size_t need = 1;
  if ((lead & 0xE0) == 0xC0) need = 2;
  if ((lead & 0xF0) == 0xE0) need = 3;
  if ((lead & 0xF8) == 0xF0) need = 4;
  const size_t have = limit - (start - 1);
  return have < need ? start - 1 : limit;
}

ChoiceText::ChoiceText(Decoder decode, std::vector<std::string> stop)
    : decode_(std::move(decode)), stop_(std::move(stop)) {
  for (const std::string& s : stop_) hold_back_ = std::max(hold_back_, s.size() - 1);
}

ChoiceText::Update ChoiceText::Advance(const std::vector<int32_t>& tokens, bool finished) {
  Update update;
  // A stop string starting before `search_from` would lie wholly in text already
  // searched by an earlier call (which found none), so only the tail is searched.
  const size_t search_from = decoded_.size() > hold_back_ ? decoded_.size() - hold_back_ : 0;
  if (tokens.size() > decoded_tokens_) {
    decoded_ += decode_(std::vector<int32_t>(tokens.begin() + decoded_tokens_, tokens.end()));
    decoded_tokens_ = tokens.size();
  }
  const std::string& full = decoded_;
  update.kept_tokens = static_cast<int>(tokens.size());
  // The earliest stop string ends the text; the token that completed it is the last kept.
  size_t cut = std::string::npos;
  for (const std::string& s : stop_) {
    const size_t at = full.find(s, search_from);
    if (at != std::string::npos && (cut == std::string::npos || at < cut)) cut = at;
  }
  size_t safe = full.size();
  if (cut != std::string::npos) {
    size_t end = std::string::npos;  // where the completing stop string ends
    for (const std::string& s : stop_) {
      if (full.compare(cut, s.size(), s) == 0) end = std::min(end, cut + s.size());
    }
    size_t length = 0;
    for (size_t i = 0; i < tokens.size(); ++i) {
      length += decode_({tokens[i]}).size();
      if (length >= end) {
        update.kept_tokens = static_cast<int>(i + 1);
        break;
      }
    }
    update.stopped = true;
    safe = cut;
  } else if (!finished) {
    safe = full.size() > hold_back_ ? full.size() - hold_back_ : 0;
    safe = CompleteUtf8Prefix(full, safe);
  }
  if (safe > text_.size()) {
    update.delta = full.substr(text_.size(), safe - text_.size());
    text_ += update.delta;
  }
  return update;
}

}  // namespace lockstep::serve
