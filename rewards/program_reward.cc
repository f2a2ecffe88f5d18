#include "rewards/program_reward.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "sandbox/language.h"

namespace lockstep::rewards {
namespace {

// The first line of a (possibly long) message, capped.
std::string Brief(const std::string& text) {
  std::string line = text.substr(0, text.find('\n'));
  if (line.size() > 200) line = line.substr(0, 200) + "...";
  return line;
}

}  // namespace

RewardResult ProgramReward::Score(const RewardSample& sample) const {
  RewardResult result;
  const Problem* problem = problems_->Find(sample.problem);
  if (problem == nullptr) {
    result.status = RewardStatus::kSandboxError;
    result.detail = absl::StrCat("unknown problem '", sample.problem, "' (not in ", problems_->dir, ")");
    return result;
  }
  std::optional<std::string> code = ExtractCode(sample.completion, sample.language, options_.extraction);
  if (!code) {
    result.status = RewardStatus::kNoAnswer;
    result.detail = absl::StrCat("no ```", sample.language, " (or bare ```) block in the completion");
    return result;
  }
  return ScoreSource(*problem, sample.language, *code);
}

RewardResult ProgramReward::ScoreSource(const Problem& problem, const std::string& language,
                                        const std::string& source) const {
  RewardResult result;
  if (sandbox::FindLanguage(language) == nullptr) {
    result.status = RewardStatus::kToolchainUnavailable;
    result.detail = absl::StrCat("unknown language '", language, "' (sandbox/language.h lists them)");
    return result;
  }
  std::vector<sandbox::RunRequest> requests;
  for (const ProgramTest& test : problem.tests) {
    sandbox::RunRequest r;
    r.language = language;
    r.source = source;
    r.stdin_data = test.stdin_data;
    r.expected_stdout = test.expected_stdout;
    r.limits = options_.limits;
    requests.push_back(std::move(r));
  }
  // The first test alone first: a compile error, a missing toolchain or a
  // broken sandbox would repeat on every test. All-or-nothing then goes on one
  // test at a time and stops at the first failure; fraction runs the rest at once.
  std::vector<sandbox::RunResult> results;
  size_t next = 0;
  while (next < requests.size()) {
    const size_t count =
        (next == 0 || options_.scoring == ProgramScoring::kAllOrNothing) ? 1 : requests.size() - next;
    std::vector<sandbox::RunResult> part =
        executor_->RunBatch(std::span<const sandbox::RunRequest>(requests).subspan(next, count));
    next += count;
    bool stop = false;
    for (auto& r : part) {
      const RewardStatus s = FromRunStatus(r.status);
      if (IsInfrastructureFailure(s) || s == RewardStatus::kCompileError ||
          (s != RewardStatus::kOk && options_.scoring == ProgramScoring::kAllOrNothing)) {
        stop = true;
      }
      results.push_back(std::move(r));
    }
    if (stop) break;
  }
  int passed = 0;
  const sandbox::RunResult* first_failure = nullptr;
  size_t first_failure_index = 0;
  for (size_t i = 0; i < results.size(); ++i) {
    const RewardStatus s = FromRunStatus(results[i].status);
    if (IsInfrastructureFailure(s)) {
      result.status = s;
      result.value = 0.0;
      result.detail = absl::StrCat("test ", i + 1, ": ", std::string(RewardStatusName(s)), ": ",
                                   Brief(results[i].message), " (not judged)");
      return result;
    }
    if (s == RewardStatus::kOk) {
      ++passed;
    } else if (first_failure == nullptr) {
      first_failure = &results[i];
      first_failure_index = i;
    }
  }
  const int total = static_cast<int>(problem.tests.size());
  if (first_failure == nullptr && passed == total) {
    result.status = RewardStatus::kOk;
    result.value = 1.0;
    result.detail = absl::StrCat(total, "/", total, " tests passed");
    return result;
  }
  result.status = FromRunStatus(first_failure->status);
  result.value = options_.scoring == ProgramScoring::kFractionPassed
                     ? static_cast<double>(passed) / total
                     : 0.0;
  std::string why = first_failure->message;
  if (result.status == RewardStatus::kCompileError && first_failure->compile) {
    why = first_failure->compile->stderr_data;
  } else if (result.status == RewardStatus::kRuntimeError) {
    why = first_failure->run.stderr_data;
  }
  result.detail = absl::StrCat(passed, "/", total, " tests passed; test ", first_failure_index + 1,
                               ": ", std::string(RewardStatusName(result.status)));
  if (!why.empty()) absl::StrAppend(&result.detail, ": ", Brief(why));
  return result;
}

}  // namespace lockstep::rewards
