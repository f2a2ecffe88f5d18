// Prompt rendering for pass@k sampling (eval/prompts.h).
#include "eval/prompts.h"

#include "absl/strings/str_replace.h"

namespace lockstep::eval {

std::string RenderPrompt(const std::string& prompt_template, const rewards::Problem& problem,
                         const std::string& language) {
  return absl::StrReplaceAll(prompt_template, {{"{statement}", problem.statement},
                                               {"{language}", language},
                                               {"{problem}", problem.id}});
}

absl::StatusOr<std::string> TaskPromptText(const std::string& prompt_template,
                                           const rewards::Problem& problem,
                                           const std::string& language, const ChatPrompter* chat) {
  std::string text = RenderPrompt(prompt_template, problem, language);
  if (chat == nullptr) return text;
  return chat->Render(text);
}

std::vector<std::pair<const rewards::Problem*, std::string>> PromptPairs(
    const rewards::ProblemSet& problems, const std::vector<std::string>& languages) {
  std::vector<std::pair<const rewards::Problem*, std::string>> out;
  for (const rewards::Problem& p : problems.problems) {
    for (const std::string& language : languages) out.emplace_back(&p, language);
  }
  return out;
}

}  // namespace lockstep::eval
