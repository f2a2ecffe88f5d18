// Program rewards judged by the sandbox: one test per outcome (pass, wrong
// answer with fraction and all-or-nothing scoring, compile error, runtime
// error, time limit, no code block), and infrastructure failures (missing
// toolchain, unreachable pool) that must never read as a judged 0. Uses
// python3 and g++, which every dev machine and CI image has.
#include "rewards/program_reward.h"

#include <chrono>

#include "gtest/gtest.h"
#include "rewards/problem_set.h"
#include "sandbox/language.h"

namespace lockstep::rewards {
namespace {

ProblemSet AddingProblems() {
  ProblemSet set;
  set.dir = "(in memory)";
  Problem add;
  add.id = "add";
  add.tests = {{"1 2\n", "3\n"}, {"10 -4\n", "6\n"}, {"0 0\n", "0\n"}, {"5 5\n", "10\n"}};
  set.problems.push_back(add);
  return set;
}

class ProgramRewardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sandbox::RunnerOptions options;
    options.cache_results = false;
    auto runner = sandbox::Runner::Create(options);
    ASSERT_TRUE(runner.ok()) << runner.status();
    runner_ = std::move(*runner);
    executor_ = std::make_unique<LocalExecutor>(runner_.get(), 2);
  }

  RewardResult Score(const std::string& language, const std::string& completion,
                     ProgramScoring scoring = ProgramScoring::kAllOrNothing) {
    ProgramRewardOptions options;
    options.scoring = scoring;
    options.limits.cpu_time_s = 1;
    options.limits.wall_time_s = 3;
    ProgramReward reward(&problems_, executor_.get(), options);
    return reward.Score({"add", language, completion});
  }

  ProblemSet problems_ = AddingProblems();
  std::unique_ptr<sandbox::Runner> runner_;
  std::unique_ptr<LocalExecutor> executor_;
};

constexpr char kPythonAdd[] = "```python\na, b = map(int, input().split())\nprint(a + b)\n```\n";
// Right only when a == b or b == 0 ... wrong on tests 1 and 2, right on 3 and 4.
constexpr char kPythonDouble[] = "```python\na, b = map(int, input().split())\nprint(2 * a)\n```\n";

TEST_F(ProgramRewardTest, CorrectProgramPasses) {
  const RewardResult r = Score("python", kPythonAdd);
  EXPECT_EQ(r.status, RewardStatus::kOk) << r.detail;
  EXPECT_EQ(r.value, 1.0);
  EXPECT_EQ(r.detail, "4/4 tests passed");
  const RewardResult cpp = Score(
      "cpp", "```cpp\n#include <iostream>\nint main(){long a,b;std::cin>>a>>b;std::cout<<a+b<<\"\\n\";}\n```");
  EXPECT_EQ(cpp.status, RewardStatus::kOk) << cpp.detail;
}

TEST_F(ProgramRewardTest, WrongAnswerFractionAndAllOrNothing) {
  const RewardResult fraction = Score("python", kPythonDouble, ProgramScoring::kFractionPassed);
  EXPECT_EQ(fraction.status, RewardStatus::kWrongAnswer);
  EXPECT_DOUBLE_EQ(fraction.value, 0.5);
  EXPECT_NE(fraction.detail.find("2/4 tests passed; test 1: wrong_answer"), std::string::npos)
      << fraction.detail;
  const RewardResult strict = Score("python", kPythonDouble);
  EXPECT_EQ(strict.status, RewardStatus::kWrongAnswer);
  EXPECT_EQ(strict.value, 0.0);
}

TEST_F(ProgramRewardTest, CompileRuntimeTimeAndNoAnswer) {
  const RewardResult compile = Score("cpp", "```cpp\nint main( { return 0; }\n```");
  EXPECT_EQ(compile.status, RewardStatus::kCompileError);
  EXPECT_EQ(compile.value, 0.0);
  EXPECT_NE(compile.detail.find("error"), std::string::npos) << compile.detail;
  const RewardResult crash = Score("python", "```python\nraise SystemExit(3)\n```", ProgramScoring::kFractionPassed);
  EXPECT_EQ(crash.status, RewardStatus::kRuntimeError);
  EXPECT_EQ(crash.value, 0.0);
  const RewardResult slow = Score("python", "```python\nwhile True: pass\n```");
  EXPECT_EQ(slow.status, RewardStatus::kTimeLimit);
  EXPECT_FALSE(IsInfrastructureFailure(slow.status));  // a timeout is the program's fault
  const RewardResult none = Score("python", "```java\nclass Main {}\n```");
  EXPECT_EQ(none.status, RewardStatus::kNoAnswer);
}

TEST_F(ProgramRewardTest, MissingToolchainIsNotJudged) {
  // A runner whose python spec points at an interpreter that does not exist.
  sandbox::RunnerOptions options;
  sandbox::LanguageSpec python = *sandbox::FindLanguage("python");
  python.run = {"lockstep-no-such-interpreter", "{src}"};
  python.version_probe = {"lockstep-no-such-interpreter", "--version"};
  options.languages = {python};
  auto runner = sandbox::Runner::Create(options);
  ASSERT_TRUE(runner.ok()) << runner.status();
  LocalExecutor executor(runner->get(), 1);
  ProgramReward reward(&problems_, &executor, {});
  const RewardResult r = reward.Score({"add", "python", kPythonAdd});
  EXPECT_EQ(r.status, RewardStatus::kToolchainUnavailable) << r.detail;
  EXPECT_TRUE(IsInfrastructureFailure(r.status));
  EXPECT_FALSE(r.passed());
  EXPECT_NE(r.detail.find("not judged"), std::string::npos) << r.detail;
}

TEST_F(ProgramRewardTest, UnreachablePoolIsASandboxError) {
  PoolExecutor pool("tcp://127.0.0.1:9", std::chrono::milliseconds(300));
  ProgramReward reward(&problems_, &pool, {});
  const RewardResult r = reward.Score({"add", "python", kPythonAdd});
  EXPECT_EQ(r.status, RewardStatus::kSandboxError) << r.detail;
  EXPECT_TRUE(IsInfrastructureFailure(r.status));
  EXPECT_NE(r.detail.find("tcp://127.0.0.1:9"), std::string::npos) << r.detail;
}

TEST(RewardStatusTest, NamesRoundTrip) {
  for (RewardStatus s : {RewardStatus::kOk, RewardStatus::kNoAnswer, RewardStatus::kTimeLimit,
                         RewardStatus::kSandboxError, RewardStatus::kToolchainUnavailable}) {
    EXPECT_EQ(ParseRewardStatus(RewardStatusName(s)).value(), s);
  }
  EXPECT_FALSE(ParseRewardStatus("nope").ok());
  EXPECT_EQ(FromRunStatus(sandbox::RunStatus::kMemoryLimit), RewardStatus::kMemoryLimit);
}

TEST(ProblemSetTest, LoadsThePuzzleSet) {
  auto set = LoadProblemSet(LOCKSTEP_SOURCE_DIR "/data/puzzles");
  ASSERT_TRUE(set.ok()) << set.status();
  ASSERT_GE(set->problems.size(), 1u);
  for (const Problem& p : set->problems) {
    EXPECT_FALSE(p.tests.empty()) << p.id;
    EXPECT_FALSE(p.statement.empty()) << p.id;
    EXPECT_TRUE(p.solutions.contains("python")) << p.id;
  }
  EXPECT_FALSE(LoadProblemSet("/nonexistent/puzzles").ok());
}

}  // namespace
}  // namespace lockstep::rewards
