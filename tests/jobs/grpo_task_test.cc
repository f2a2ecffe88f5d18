// GRPO tasks: prompts are a pure function of the index, completions stop at
// the newline, the exact-answer reward is right on hand-picked completions.
#include "jobs/grpo_task.h"

#include <algorithm>
#include <vector>

#include "gtest/gtest.h"

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

}  // namespace
}  // namespace lockstep::jobs
