// What a GRPO job trains on: a stream of prompts that is a pure function of the
// prompt index (so a resumed job sees exactly the prompts it would have seen),
// and a verifiable reward for each completion. Two tasks ship:
//   arithmetic         "17+25=" -> the completion must be exactly "42"
//   python_expression  "17+25=" -> the completion is a Python expression; the
//                      sandbox runs print(<completion>) and its output must be 42
// With task.prompt_format = "chat" the prompt text is the task text as a user turn
// (after task.system_prompt) rendered by the model directory's chat template.
// Prompts are tokenized, and completions decoded, by the model directory's
// tokenizer (model/text_tokenizer.h): an HF tokenizer.json encodes the rendered
// template's markers as its special tokens; the char tokenizer of lockstep's own
// models spells them character by character.
// Rewards never fold an infrastructure failure into a 0: a sample whose sandbox
// run failed (sandbox_error) is re-run, and the step fails loudly if it keeps failing.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "model/chat_prompt.h"
#include "model/text_tokenizer.h"
#include "rewards/arithmetic_task.h"
#include "rewards/program_executor.h"
#include "rewards/reward.h"

namespace lockstep::jobs {

struct GrpoPrompt {
  uint64_t index = 0;           // global prompt index; also the rollout request id
  std::string text;             // the prompt text, e.g. "17+25=" (chat: rendered by the template)
  std::string answer;           // the reference, e.g. "42"
  std::vector<int32_t> tokens;  // the rollout prompt: text tokenized (char: <bos> + text)
};

struct GrpoTaskOptions {
  std::string kind = "arithmetic";  // arithmetic | python_expression
  rewards::ArithmeticTaskOptions arithmetic;
  uint64_t seed = 11;
  // python_expression: per-run sandbox limits and how often a sandbox_error is retried.
  double time_limit_s = 2.0;
  int memory_limit_mb = 256;
  int max_sandbox_retries = 3;
  // task.prompt_format = "chat" (ReadGrpoOptions loads model.init_from's template);
  // unset: the raw task text. task.system_prompt is inside it.
  std::optional<ChatPrompter> chat;
  // model.init_from's tokenizer (ReadGrpoOptions loads it); null: the char tokenizer.
  std::shared_ptr<const TextTokenizer> tokenizer;
};

// The prompt text of task text `task_text`: itself, or rendered through `chat`.
absl::StatusOr<std::string> GrpoPromptText(const std::optional<ChatPrompter>& chat,
                                           const std::string& task_text);

// Held-out prompts (greedy accuracy before/after) start at this index, far
// beyond any training prompt.
inline constexpr uint64_t kHeldOutPromptBase = uint64_t{1} << 40;

class GrpoTask {
 public:
  // `executor` is needed (non-null) for python_expression only.
  static absl::StatusOr<std::unique_ptr<GrpoTask>> Create(const GrpoTaskOptions& options,
                                                          rewards::ProgramExecutor* executor);
  virtual ~GrpoTask() = default;

  GrpoPrompt Prompt(uint64_t index) const;
  // The completion text of generated tokens: specials dropped, up to the first newline.
  std::string CompletionText(const std::vector<int32_t>& tokens) const;
  // Tokens that end a completion (newline, the tokenizer's eos ids).
  std::vector<int32_t> StopTokens() const;
  const TextTokenizer& tokenizer() const { return *tokenizer_; }
  // Whether rewards need a sandbox pool (the driver starts one).
  virtual bool NeedsSandbox() const = 0;

  // One reward per (prompt, completion) pair, in order. Infrastructure
  // failures are retried; an error means they persisted.
  virtual absl::StatusOr<std::vector<rewards::RewardResult>> Score(
      const std::vector<const GrpoPrompt*>& prompts,
      const std::vector<std::string>& completions) const = 0;

 protected:
  explicit GrpoTask(rewards::ArithmeticTask problems) : problems_(std::move(problems)) {}

 private:
  rewards::ArithmeticTask problems_;
  std::shared_ptr<const TextTokenizer> tokenizer_;
  std::optional<ChatPrompter> chat_;
};

}  // namespace lockstep::jobs
