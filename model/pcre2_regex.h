// A compiled PCRE2 regex for the tokenizer's pre-tokenizer patterns: Unicode
// properties (\p{L}, \p{N}), Unicode \s (PCRE2_UCP), look-ahead, inline
// (?i:...). Input may be invalid UTF-8 (PCRE2_MATCH_INVALID_UTF): invalid bytes
// never match, so they fall into the gaps between matches and no byte is lost.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace lockstep {

class Pcre2Regex {
 public:
  // The error names the pattern and PCRE2's message with its offset.
  static absl::StatusOr<Pcre2Regex> Compile(const std::string& pattern);

  const std::string& pattern() const { return pattern_; }
  // Byte ranges [begin, end) of the successive non-overlapping leftmost matches.
  std::vector<std::pair<size_t, size_t>> FindAll(std::string_view text) const;

 private:
  std::string pattern_;
  std::shared_ptr<void> code_;  // pcre2_code_8, immutable once compiled and JIT-compiled
};

}  // namespace lockstep
