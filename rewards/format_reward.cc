#include "rewards/format_reward.h"

#include <cctype>

#include "absl/strings/str_cat.h"
#include "rewards/code_extraction.h"
#include "rewards/math_reward.h"

namespace lockstep::rewards {
namespace {

bool OnlySpaceAfter(std::string_view s, size_t pos) {
  for (size_t i = pos; i < s.size(); ++i) {
    if (!std::isspace(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

}  // namespace

RewardResult FormatReward::Score(const RewardSample& sample) const {
  RewardResult result;
  result.status = RewardStatus::kFormatError;
  const std::string& text = sample.completion;
  if (options_.max_chars > 0 && static_cast<int64_t>(text.size()) > options_.max_chars) {
    result.detail = absl::StrCat("completion has ", text.size(), " characters, more than ",
                                 options_.max_chars);
    return result;
  }
  if (options_.require_boxed && !ExtractBoxed(text)) {
    result.detail = "no \\boxed{...} with balanced braces";
    return result;
  }
  if (options_.require_code_block) {
    ExtractionOptions extraction;
    extraction.raw_fallback = false;
    if (!ExtractCode(text, sample.language, extraction)) {
      result.detail = absl::StrCat("no fenced ```", sample.language, " block");
      return result;
    }
  }
  if (options_.forbid_text_after_answer) {
    size_t end = std::string::npos;
    if (options_.require_boxed) {
      const size_t at = text.rfind("\\boxed");
      // The brace that closes the group opened after \boxed.
      int depth = 0;
      for (size_t i = text.find('{', at); at != std::string::npos && i < text.size(); ++i) {
        if (text[i] == '{') ++depth;
        if (text[i] == '}' && --depth == 0) {
          end = i;
          break;
        }
      }
    } else if (options_.require_code_block) {
      end = text.rfind("```");
      if (end != std::string::npos) end += 2;
    }
    if (end != std::string::npos && !OnlySpaceAfter(text, end + 1)) {
      result.detail = "text after the final answer";
      return result;
    }
  }
  result.status = RewardStatus::kOk;
  result.value = 1.0;
  result.detail = "format ok";
  return result;
}

}  // namespace lockstep::rewards
