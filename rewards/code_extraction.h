// Extracts the program from a model completion. Fenced blocks are lines
// "```info" ... "```" (three or more backticks, optionally indented). The rule:
//   1. candidates are the blocks whose info string's first word names the
//      target language (name or alias, sandbox/language.h); if there are none,
//      the blocks with an empty info string; blocks in other languages never count;
//   2. of the candidates the LAST is taken (models restate a fixed version at
//      the end), or the FIRST with ExtractionRule::kFirst;
//   3. a block left open at the end (generation cut off) runs to the end;
//   4. with prompt_opens_fence (the prompt ended inside "```lang"), the text
//      up to the first fence line is a candidate block in the target language;
//   5. a completion with no fence line at all is taken whole if raw_fallback.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace lockstep::rewards {

enum class ExtractionRule { kLast, kFirst };

struct ExtractionOptions {
  ExtractionRule rule = ExtractionRule::kLast;
  bool prompt_opens_fence = false;
  bool raw_fallback = true;
};

// The code, or nullopt when the completion holds no usable block.
std::optional<std::string> ExtractCode(std::string_view completion, std::string_view language,
                                       const ExtractionOptions& options = {});

// Whether `prompt` ends inside an open fenced block (an odd number of fence lines).
bool EndsInsideFence(std::string_view prompt);

}  // namespace lockstep::rewards
