// GRPO tasks: prompts are a pure function of the index, completions stop at
// the newline, the exact-answer reward is right on hand-picked completions.
#include "jobs/grpo_task.h"

#include <algorithm>
#include <vector>

#include "gtest/gtest.h"
#include "sandbox/runner.h"

namespace lockstep::jobs {
namespace {

GrpoTaskOptions Arithmetic() {
  GrpoTaskOptions o;
  o.kind = "arithmetic";
  o.arithmetic.max_digits = 2;
  o.seed = 5;
  return o;
}

TEST(GrpoTaskTest, PromptsArePureFunctionsOfTheIndex) {
  auto a = GrpoTask::Create(Arithmetic(), nullptr).value();
  auto b = GrpoTask::Create(Arithmetic(), nullptr).value();
  for (uint64_t i : std::vector<uint64_t>{0, 7, 123456, kHeldOutPromptBase + 3}) {
    const GrpoPrompt pa = a->Prompt(i), pb = b->Prompt(i);
    EXPECT_EQ(pa.text, pb.text);
    EXPECT_EQ(pa.tokens, pb.tokens);
    EXPECT_EQ(pa.tokens.front(), CharTokenizer::kBos);
    EXPECT_EQ(pa.index, i);
  }
  EXPECT_NE(a->Prompt(0).text + a->Prompt(1).text, a->Prompt(1).text + a->Prompt(0).text);
}

TEST(GrpoTaskTest, CompletionStopsAtNewline) {
  auto task = GrpoTask::Create(Arithmetic(), nullptr).value();
  const CharTokenizer& tok = task->tokenizer();
  EXPECT_EQ(task->CompletionText(tok.Encode("42\n7")), "42");
  std::vector<int32_t> with_eos = tok.Encode("13");
  with_eos.push_back(CharTokenizer::kEos);
  EXPECT_EQ(task->CompletionText(with_eos), "13");
  const std::vector<int32_t> stop = task->StopTokens();
  EXPECT_NE(std::find(stop.begin(), stop.end(), CharTokenizer::kEos), stop.end());
  EXPECT_NE(std::find(stop.begin(), stop.end(), tok.Encode("\n")[0]), stop.end());
}

TEST(GrpoTaskTest, ExactAnswerReward) {
  auto task = GrpoTask::Create(Arithmetic(), nullptr).value();
  EXPECT_FALSE(task->NeedsSandbox());
  const GrpoPrompt p = task->Prompt(3);
  const auto rewards = task->Score({&p, &p, &p, &p}, {p.answer, p.answer + "0", "", " " + p.answer}).value();
  EXPECT_EQ(rewards[0].status, rewards::RewardStatus::kOk);
  EXPECT_EQ(rewards[0].value, 1.0);
  EXPECT_EQ(rewards[1].status, rewards::RewardStatus::kWrongAnswer);
  EXPECT_EQ(rewards[1].value, 0.0);
  EXPECT_EQ(rewards[2].status, rewards::RewardStatus::kNoAnswer);
  EXPECT_EQ(rewards[3].value, 0.0);  // exact: no trimming
}

TEST(GrpoTaskTest, UnknownKindAndMissingSandboxAreErrors) {
  GrpoTaskOptions o = Arithmetic();
  o.kind = "chess";
  EXPECT_FALSE(GrpoTask::Create(o, nullptr).ok());
  o.kind = "python_expression";
  const auto no_pool = GrpoTask::Create(o, nullptr);
  ASSERT_FALSE(no_pool.ok());
  EXPECT_NE(no_pool.status().message().find("sandbox"), std::string::npos);
}

// A pool whose first batch fails like a killed sandbox worker (sandbox_error),
// then runs programs by a fixed rule: print(<digits>) prints the digits.
class FlakyExecutor : public rewards::ProgramExecutor {
 public:
  std::vector<sandbox::RunResult> RunBatch(std::span<const sandbox::RunRequest> requests) override {
    ++batches;
    std::vector<sandbox::RunResult> out(requests.size());
    for (size_t i = 0; i < requests.size(); ++i) {
      if (batches == 1 && i == 0) {
        out[i].status = sandbox::RunStatus::kSandboxError;
        out[i].message = "worker killed";
        continue;
      }
      const std::string& src = requests[i].source;  // "print(<expr>)\n"
      const std::string expr = src.substr(6, src.size() - 8);
      out[i].status = expr + "\n" == requests[i].expected_stdout ? sandbox::RunStatus::kOk
                                                                  : sandbox::RunStatus::kWrongAnswer;
      ran.push_back(expr);
    }
    return out;
  }
  std::string Describe() const override { return "flaky test pool"; }
  int batches = 0;
  std::vector<std::string> ran;
};

TEST(GrpoTaskTest, SandboxErrorIsRetriedNeverScoredZero) {
  GrpoTaskOptions o = Arithmetic();
  o.kind = "python_expression";
  FlakyExecutor pool;
  auto task = GrpoTask::Create(o, &pool).value();
  EXPECT_TRUE(task->NeedsSandbox());
  const GrpoPrompt p = task->Prompt(1);
  const auto rewards = task->Score({&p, &p, &p}, {p.answer, "0", ""}).value();
  EXPECT_EQ(pool.batches, 2);  // the failed sample ran again, alone
  EXPECT_EQ(pool.ran, (std::vector<std::string>{"0", p.answer}));
  EXPECT_EQ(rewards[0].status, rewards::RewardStatus::kOk);  // not 0 for the worker's death
  EXPECT_EQ(rewards[0].value, 1.0);
  EXPECT_EQ(rewards[1].status, rewards::RewardStatus::kWrongAnswer);
  EXPECT_EQ(rewards[2].status, rewards::RewardStatus::kNoAnswer);  // never executed
}

class BrokenExecutor : public rewards::ProgramExecutor {
 public:
  std::vector<sandbox::RunResult> RunBatch(std::span<const sandbox::RunRequest> requests) override {
    std::vector<sandbox::RunResult> out(requests.size());
    for (auto& r : out) r.status = sandbox::RunStatus::kSandboxError;
    return out;
  }
  std::string Describe() const override { return "broken test pool"; }
};

TEST(GrpoTaskTest, PersistentSandboxErrorFailsTheStepLoudly) {
  GrpoTaskOptions o = Arithmetic();
  o.kind = "python_expression";
  o.max_sandbox_retries = 2;
  BrokenExecutor pool;
  auto task = GrpoTask::Create(o, &pool).value();
  const GrpoPrompt p = task->Prompt(1);
  const auto rewards = task->Score({&p}, {p.answer});
  ASSERT_FALSE(rewards.ok());
  EXPECT_NE(rewards.status().message().find("broken test pool"), std::string::npos);
}

}  // namespace
}  // namespace lockstep::jobs
