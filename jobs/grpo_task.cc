#include "jobs/grpo_task.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "numerics/status_macros.h"
#include "sandbox/status.h"

namespace lockstep::jobs {
namespace {

// Exact text match: the completion (up to its newline) must be the answer.
class ArithmeticExactTask : public GrpoTask {
 public:
  explicit ArithmeticExactTask(rewards::ArithmeticTask problems) : GrpoTask(std::move(problems)) {}
  bool NeedsSandbox() const override { return false; }

  absl::StatusOr<std::vector<rewards::RewardResult>> Score(
      const std::vector<const GrpoPrompt*>& prompts,
      const std::vector<std::string>& completions) const override {
    std::vector<rewards::RewardResult> out(prompts.size());
    for (size_t i = 0; i < prompts.size(); ++i) {
      rewards::RewardResult& r = out[i];
      if (completions[i].empty()) {
        r.status = rewards::RewardStatus::kNoAnswer;
        r.detail = "empty completion";
      } else if (completions[i] == prompts[i]->answer) {
        r.status = rewards::RewardStatus::kOk;
        r.value = 1.0;
      } else {
        r.status = rewards::RewardStatus::kWrongAnswer;
        r.detail = absl::StrCat("expected ", prompts[i]->answer);
      }
    }
    return out;
  }
};

// The completion is a Python expression, judged by running print(<expr>) in
// the sandbox against the answer.
class PythonExpressionTask : public GrpoTask {
 public:
  PythonExpressionTask(rewards::ArithmeticTask problems, const GrpoTaskOptions& options,
                       rewards::ProgramExecutor* executor)
      : GrpoTask(std::move(problems)), options_(options), executor_(executor) {}
  bool NeedsSandbox() const override { return true; }

  absl::StatusOr<std::vector<rewards::RewardResult>> Score(
      const std::vector<const GrpoPrompt*>& prompts,
      const std::vector<std::string>& completions) const override {
    std::vector<rewards::RewardResult> out(prompts.size());
    std::vector<size_t> pending;  // samples still to run in the sandbox
    for (size_t i = 0; i < prompts.size(); ++i) {
      if (completions[i].empty()) {
        out[i].status = rewards::RewardStatus::kNoAnswer;
        out[i].detail = "empty completion";
      } else {
        pending.push_back(i);
      }
    }
    for (int attempt = 0; !pending.empty(); ++attempt) {
      if (attempt > options_.max_sandbox_retries) {
        return absl::UnavailableError(absl::StrCat(
            pending.size(), " sample(s) still failed in the sandbox after ",
            options_.max_sandbox_retries, " retries (", executor_->Describe(), "): ",
            out[pending[0]].detail, ". Check the sandbox pool's log; the job keeps its last checkpoint."));
      }
      std::vector<sandbox::RunRequest> requests;
      for (size_t i : pending) {
        sandbox::RunRequest r;
        r.language = "python";
        r.source = absl::StrCat("print(", completions[i], ")\n");
        r.expected_stdout = prompts[i]->answer + "\n";
        r.limits.cpu_time_s = options_.time_limit_s;
        r.limits.wall_time_s = 2 * options_.time_limit_s + 1;
        r.limits.memory_mb = options_.memory_limit_mb;
        requests.push_back(std::move(r));
      }
      const std::vector<sandbox::RunResult> results = executor_->RunBatch(requests);
      std::vector<size_t> failed;
      for (size_t k = 0; k < pending.size(); ++k) {
        rewards::RewardResult& r = out[pending[k]];
        r.status = rewards::FromRunStatus(results[k].status);
        r.value = r.status == rewards::RewardStatus::kOk ? 1.0 : 0.0;
        r.detail = std::string(sandbox::RunStatusName(results[k].status));
        if (r.status == rewards::RewardStatus::kToolchainUnavailable) {
          return absl::FailedPreconditionError(
              "python is not installed where the sandbox runs: scripts/install-toolchains.sh python");
        }
        if (rewards::IsInfrastructureFailure(r.status)) failed.push_back(pending[k]);
      }
      pending = std::move(failed);
    }
    return out;
  }

 private:
  GrpoTaskOptions options_;
  rewards::ProgramExecutor* executor_;
};

}  // namespace

absl::StatusOr<std::string> GrpoPromptText(const std::optional<ChatPrompter>& chat,
                                           const std::string& task_text) {
  if (!chat.has_value()) return task_text;
  return chat->Render(task_text);
}

absl::StatusOr<std::unique_ptr<GrpoTask>> GrpoTask::Create(const GrpoTaskOptions& options,
                                                           rewards::ProgramExecutor* executor) {
  LOCKSTEP_ASSIGN_OR_RETURN(rewards::ArithmeticTask problems,
                            rewards::ArithmeticTask::Create(options.arithmetic, options.seed));
  // Every prompt renders the same [system,] user roles, so one successful render
  // here means Prompt() cannot fail later.
  LOCKSTEP_RETURN_IF_ERROR(GrpoPromptText(options.chat, "1+1=").status());
  std::unique_ptr<GrpoTask> task;
  if (options.kind == "arithmetic") {
    task = std::make_unique<ArithmeticExactTask>(std::move(problems));
  } else if (options.kind == "python_expression") {
    if (executor == nullptr) {
      return absl::FailedPreconditionError("task python_expression needs a sandbox pool");
    }
    task = std::make_unique<PythonExpressionTask>(std::move(problems), options, executor);
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "task.kind = \"", options.kind, "\": must be one of arithmetic, python_expression"));
  }
  task->chat_ = options.chat;
  task->tokenizer_ = options.tokenizer != nullptr
                         ? options.tokenizer
                         : std::make_shared<const TextTokenizer>(TextTokenizer::Char());
  return task;
}

GrpoPrompt GrpoTask::Prompt(uint64_t index) const {
  const rewards::ArithmeticProblem p = problems_.Problem(index);
  GrpoPrompt out{.index = index, .text = p.prompt, .answer = p.answer, .tokens = {}};
  if (chat_.has_value()) {
    out.text = GrpoPromptText(chat_, p.prompt).value();  // checked in Create
    out.tokens = tokenizer_->EncodeChat(out.text);
  } else {
    out.tokens = tokenizer_->EncodePrompt(out.text);
  }
  return out;
}

std::string GrpoTask::CompletionText(const std::vector<int32_t>& tokens) const {
  std::string text = tokenizer_->Decode(tokens);
  const size_t newline = text.find('\n');
  if (newline != std::string::npos) text.resize(newline);
  return text;
}

std::vector<int32_t> GrpoTask::StopTokens() const {
  std::vector<int32_t> stop = tokenizer_->Encode("\n");
  for (int32_t id : tokenizer_->eos_ids()) stop.push_back(id);
  return stop;
}

}  // namespace lockstep::jobs
