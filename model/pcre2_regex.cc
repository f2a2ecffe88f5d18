#define PCRE2_CODE_UNIT_WIDTH 8
#include "model/pcre2_regex.h"

#include <pcre2.h>

#include "absl/strings/str_cat.h"

namespace lockstep {

absl::StatusOr<Pcre2Regex> Pcre2Regex::Compile(const std::string& pattern) {
  int error = 0;
  PCRE2_SIZE offset = 0;
  pcre2_code* code =
      pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                    PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &error, &offset, nullptr);
  if (code == nullptr) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(error, message, sizeof(message));
    return absl::InvalidArgumentError(absl::StrCat("regex ", pattern,
                                                   " does not compile at offset ", offset, ": ",
                                                   reinterpret_cast<const char*>(message)));
  }
  // JIT is only a speed-up: matching falls back to the interpreter without it.
  pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
  Pcre2Regex regex;
  regex.pattern_ = pattern;
  regex.code_ =
      std::shared_ptr<void>(code, [](void* c) { pcre2_code_free(static_cast<pcre2_code*>(c)); });
  return regex;
}

std::vector<std::pair<size_t, size_t>> Pcre2Regex::FindAll(std::string_view text) const {
  std::vector<std::pair<size_t, size_t>> matches;
  pcre2_code* code = static_cast<pcre2_code*>(code_.get());
  if (code == nullptr) return matches;
  pcre2_match_data* data = pcre2_match_data_create_from_pattern(code, nullptr);
  const PCRE2_SPTR subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  size_t start = 0;
  while (start <= text.size()) {
    const int rc = pcre2_match(code, subject, text.size(), start, 0, data, nullptr);
    if (rc < 0) break;  // PCRE2_ERROR_NOMATCH (or a match-limit error): no more matches
    const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(data);
    const size_t begin = ovector[0], end = ovector[1];
    if (end > begin) {
      matches.emplace_back(begin, end);
      start = end;
    } else {
      // An empty match adds no piece; step over one UTF-8 character.
      start = end + 1;
      while (start < text.size() && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) {
        ++start;
      }
    }
  }
  pcre2_match_data_free(data);
  return matches;
}

}  // namespace lockstep
