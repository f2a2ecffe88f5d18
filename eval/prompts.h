// The prompts `lockstep eval passk` sends to a model (engine or endpoint): one
// per (problem, language), problem-major, from a template with {statement},
// {language} and {problem} placeholders.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "model/chat_prompt.h"
#include "rewards/problem_set.h"

namespace lockstep::eval {

// The prompt for one (problem, language): `prompt_template` with {statement},
// {language}, {problem} replaced.
std::string RenderPrompt(const std::string& prompt_template, const rewards::Problem& problem,
                         const std::string& language);

// The text a local model is given for one (problem, language): RenderPrompt's,
// or, with `chat` (prompt.format = "chat"), that as a user turn rendered by the
// model's chat template with the generation prompt.
absl::StatusOr<std::string> TaskPromptText(const std::string& prompt_template,
                                           const rewards::Problem& problem,
                                           const std::string& language, const ChatPrompter* chat);

// Progress of sample generation: completions done of total.
using SampleProgress = std::function<void(int64_t done, int64_t total)>;

// The (problem, language) pairs to sample, problem-major.
std::vector<std::pair<const rewards::Problem*, std::string>> PromptPairs(
    const rewards::ProblemSet& problems, const std::vector<std::string>& languages);

}  // namespace lockstep::eval
