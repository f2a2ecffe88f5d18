// One test per run status, plus output comparison, caching and JSON round trips.
#include <cmath>
#include <signal.h>

#include <thread>

#include "gtest/gtest.h"
#include "sandbox/runner.h"
#include "tests/sandbox/sandbox_test_support.h"

namespace lockstep::sandbox {
namespace {

using testing::MakeRunner;
using testing::Request;
using testing::UniqueMarker;

class RunnerStatusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    marker_ = UniqueMarker(::testing::UnitTest::GetInstance()->current_test_info()->name());
    runner_ = MakeRunner(marker_);
    ASSERT_NE(runner_, nullptr);
  }
  void TearDown() override { EXPECT_TRUE(testing::ProcessesWithMarker(marker_).empty()); }

  std::string marker_;
  std::unique_ptr<Runner> runner_;
};

TEST_F(RunnerStatusTest, OkWithStdinAndMeasurements) {
  RunRequest request = Request("python", "import sys\nprint(sum(int(t) for t in sys.stdin.read().split()))\n");
  request.stdin_data = "1 2 3\n4\n";
  request.expected_stdout = "10\n";
  const RunResult result = runner_->Run(request);
  EXPECT_EQ(result.status, RunStatus::kOk) << result.message << result.run.stderr_data;
  EXPECT_EQ(result.run.stdout_data, "10\n");
  EXPECT_EQ(result.run.exit_code, 0);
  EXPECT_FALSE(result.run.signal.has_value());
  EXPECT_FALSE(result.run.stdout_truncated);
  EXPECT_GT(result.run.wall_ms, 0);
  EXPECT_GT(result.run.peak_memory_kb, 1000);  // a python interpreter is megabytes
  EXPECT_EQ(result.language, "python");
}

TEST_F(RunnerStatusTest, AliasIsAccepted) {
  const RunResult result = runner_->Run(Request("PY", "print('hi')\n"));
  EXPECT_EQ(result.status, RunStatus::kOk) << result.message;
  EXPECT_EQ(result.run.stdout_data, "hi\n");
}

TEST_F(RunnerStatusTest, WrongAnswerAfterNormalisation) {
  RunRequest request = Request("python", "print('1 2 ')\nprint('3')\nprint()\n");
  request.expected_stdout = "1 2\r\n3";  // trailing spaces, CRLF, blank lines ignored
  EXPECT_EQ(runner_->Run(request).status, RunStatus::kOk);
  request.expected_stdout = "1  2\n3\n";  // inner whitespace is significant
  const RunResult result = runner_->Run(request);
  EXPECT_EQ(result.status, RunStatus::kWrongAnswer);
  EXPECT_EQ(result.run.exit_code, 0);
}

TEST_F(RunnerStatusTest, CompileError) {
  const RunResult result = runner_->Run(Request("c", "int main( { return 0; }\n"));
  EXPECT_EQ(result.status, RunStatus::kCompileError) << result.message;
  ASSERT_TRUE(result.compile.has_value());
  EXPECT_NE(result.compile->exit_code.value_or(0), 0);
  EXPECT_NE(result.compile->stderr_data.find("error"), std::string::npos);
}

TEST_F(RunnerStatusTest, CompiledProgramRunsAndCompileIsCached) {
  const std::string source =
      "#include <stdio.h>\nint main(){int a,b; if(scanf(\"%d %d\",&a,&b)!=2) return 2;"
      " printf(\"%d\\n\", a+b); return 0;}\n";
  RunRequest request = Request("c", source);
  request.stdin_data = "2 40";
  const RunResult first = runner_->Run(request);
  EXPECT_EQ(first.status, RunStatus::kOk) << first.message << first.run.stderr_data;
  EXPECT_EQ(first.run.stdout_data, "42\n");
  EXPECT_TRUE(first.compile.has_value());
  request.stdin_data = "1 1";
  const RunResult second = runner_->Run(request);
  EXPECT_EQ(second.run.stdout_data, "2\n");
  EXPECT_FALSE(second.compile.has_value());  // the artefact came from the cache
}

TEST_F(RunnerStatusTest, RuntimeErrorKeepsExitCode) {
  const RunResult result = runner_->Run(Request("python", "import sys\nsys.exit(3)\n"));
  EXPECT_EQ(result.status, RunStatus::kRuntimeError);
  EXPECT_EQ(result.run.exit_code, 3);
}

TEST_F(RunnerStatusTest, ExitCode137IsNotSigkill) {
  const RunResult exited = runner_->Run(Request("python", "import sys\nsys.exit(137)\n"));
  EXPECT_EQ(exited.status, RunStatus::kRuntimeError);
  EXPECT_EQ(exited.run.exit_code, 137);
  EXPECT_FALSE(exited.run.signal.has_value());
  const RunResult killed = runner_->Run(Request("python", "import os\nos.kill(os.getpid(), 9)\n"));
  EXPECT_EQ(killed.status, RunStatus::kSignal);
  EXPECT_EQ(killed.run.signal, SIGKILL);
  EXPECT_FALSE(killed.run.exit_code.has_value());
  EXPECT_EQ(ResultToJson(killed)["signal"], "SIGKILL");
}

TEST_F(RunnerStatusTest, SignalNamesTheSignal) {
  const RunResult result =
      runner_->Run(Request("c", "#include <stdlib.h>\nint main(){abort();}\n"));
  EXPECT_EQ(result.status, RunStatus::kSignal) << result.message;
  EXPECT_EQ(result.run.signal, SIGABRT);
}

TEST_F(RunnerStatusTest, CpuTimeLimit) {
  const RunResult result = runner_->Run(Request("python", "while True:\n    pass\n", 1, 10));
  EXPECT_EQ(result.status, RunStatus::kTimeLimit) << result.message;
  EXPECT_EQ(result.time_limit_kind, TimeLimitKind::kCpu) << result.message;
  // The program really spun; RLIMIT_CPU is enforced at tick granularity, so
  // the measured figure can sit a little under the limit.
  EXPECT_GE(result.run.cpu_ms, 500) << result.message;
}

TEST_F(RunnerStatusTest, WallTimeLimit) {
  const RunResult result = runner_->Run(Request("python", "import time\ntime.sleep(60)\n", 1, 0.5));
  EXPECT_EQ(result.status, RunStatus::kTimeLimit) << result.message;
  EXPECT_EQ(result.time_limit_kind, TimeLimitKind::kWall);
  EXPECT_LT(result.run.wall_ms, 5000);
}

TEST_F(RunnerStatusTest, MemoryLimit) {
  RunRequest request = Request("python", "a = []\nwhile True:\n    a.append(bytearray(8 << 20))\n");
  request.limits.memory_mb = 128;
  const RunResult result = runner_->Run(request);
  EXPECT_EQ(result.status, RunStatus::kMemoryLimit) << result.message << result.run.stderr_data;
}

TEST_F(RunnerStatusTest, MemoryLimitInCompiledProgram) {
  // Touches every page until malloc fails, then dereferences the NULL.
  RunRequest request = Request(
      "c", "#include <stdlib.h>\n#include <string.h>\nint main(){for(;;){char*p=malloc(1<<20);"
           "memset(p,1,1<<20);}}\n");
  request.limits.memory_mb = 64;
  const RunResult result = runner_->Run(request);
  EXPECT_EQ(result.status, RunStatus::kMemoryLimit) << result.message;
  EXPECT_GE(result.run.peak_memory_kb, 50 * 1024);
}

TEST_F(RunnerStatusTest, OutputLimit) {
  RunRequest request = Request("python", "import sys\nwhile True:\n    sys.stdout.write('x' * 65536)\n");
  request.limits.output_limit_bytes = 1 << 20;
  const RunResult result = runner_->Run(request);
  EXPECT_EQ(result.status, RunStatus::kOutputLimit) << result.message;
  EXPECT_TRUE(result.run.stdout_truncated);
  EXPECT_EQ(result.run.stdout_data.size(), size_t{1} << 20);
  EXPECT_GT(result.run.stdout_bytes, int64_t{1} << 20);
}

TEST_F(RunnerStatusTest, ToolchainUnavailable) {
  const RunResult result = runner_->Run(Request("missing", "whatever"));
  EXPECT_EQ(result.status, RunStatus::kToolchainUnavailable);
  EXPECT_NE(result.message.find("not installed"), std::string::npos) << result.message;
  const RunResult unknown = runner_->Run(Request("brainfudge", "+"));
  EXPECT_EQ(unknown.status, RunStatus::kToolchainUnavailable);
  EXPECT_NE(unknown.message.find("unknown language"), std::string::npos);
}

TEST_F(RunnerStatusTest, InvalidLimitsAreASandboxErrorNamingTheLimit) {
  RunRequest request = Request("python", "print(1)\n");
  request.limits.work_dir_mb = -1;
  RunResult result = runner_->Run(request);
  EXPECT_EQ(result.status, RunStatus::kSandboxError);
  EXPECT_NE(result.message.find("work_dir_mb"), std::string::npos) << result.message;
  request.limits.work_dir_mb = 64;
  request.limits.wall_time_s = std::nan("");
  result = runner_->Run(request);
  EXPECT_EQ(result.status, RunStatus::kSandboxError);
  EXPECT_NE(result.message.find("wall_time_s"), std::string::npos) << result.message;
  EXPECT_FALSE(LimitsFromJson({{"memory_mb", -5}}).ok());
}

TEST_F(RunnerStatusTest, SandboxErrorWhenTheRunsSandboxCannotBeBuilt) {
  // More open files than the kernel allows (fs.nr_open): the init cannot set
  // the limit, and the run says so instead of running with a weaker limit or
  // reporting a program error.
  RunRequest request = Request("python", "print(1)\n");
  request.limits.max_open_files = 1 << 30;
  const RunResult result = runner_->Run(request);
  EXPECT_EQ(result.status, RunStatus::kSandboxError) << result.message;
  EXPECT_FALSE(result.message.empty());
}

TEST(RunnerCreateTest, MissingInitIsAClearError) {
  RunnerOptions options;
  options.init_path = "/nonexistent/lockstep-sandbox-init";
  auto runner = Runner::Create(options);
  ASSERT_FALSE(runner.ok());
  EXPECT_NE(runner.status().message().find("lockstep-sandbox-init"), std::string::npos);
}

TEST(RunnerCreateTest, MissingBubblewrapIsAClearError) {
  RunnerOptions options;
  options.bwrap_path = "/nonexistent/bwrap";
  auto runner = Runner::Create(options);
  ASSERT_FALSE(runner.ok());
  EXPECT_NE(runner.status().message().find("bubblewrap"), std::string::npos);
}

TEST(RunnerCacheTest, SameRequestIsServedFromCache) {
  const std::string marker = UniqueMarker("cache");
  auto runner = MakeRunner(marker, /*cache=*/true);
  ASSERT_NE(runner, nullptr);
  RunRequest request = Request("python", "import random\nprint(random.random())\n");
  const RunResult first = runner->Run(request);
  const RunResult second = runner->Run(request);
  EXPECT_FALSE(first.cached);
  EXPECT_TRUE(second.cached);
  EXPECT_EQ(first.run.stdout_data, second.run.stdout_data);
  request.stdin_data = "different";
  const RunResult third = runner->Run(request);
  EXPECT_FALSE(third.cached);
  // The expected answer is judged after the cache lookup.
  request.expected_stdout = "not it";
  EXPECT_EQ(runner->Run(request).status, RunStatus::kWrongAnswer);
}

TEST(RunnerConcurrencyTest, ParallelRunsKeepTheirOwnOutput) {
  const std::string marker = UniqueMarker("parallel");
  auto runner = MakeRunner(marker);
  ASSERT_NE(runner, nullptr);
  constexpr int kThreads = 8;
  std::vector<RunResult> results(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      RunRequest request = Request("python", "import sys\nprint(sys.stdin.read() * 2)\n");
      request.stdin_data = std::to_string(i);
      results[i] = runner->Run(request);
    });
  }
  for (auto& thread : threads) thread.join();
  for (int i = 0; i < kThreads; ++i) {
    EXPECT_EQ(results[i].status, RunStatus::kOk) << results[i].message;
    EXPECT_EQ(results[i].run.stdout_data, std::to_string(i) + std::to_string(i) + "\n");
  }
}

TEST(NormaliseOutputTest, Rules) {
  EXPECT_EQ(NormaliseOutput("a \t\r\nb\n\n\n"), "a\nb");
  EXPECT_EQ(NormaliseOutput(""), "");
  EXPECT_EQ(NormaliseOutput("\n\n"), "");
  EXPECT_EQ(NormaliseOutput(" a"), " a");  // leading whitespace is kept
  EXPECT_TRUE(OutputsMatch("x\n", "x"));
  EXPECT_FALSE(OutputsMatch("X", "x"));
  EXPECT_FALSE(OutputsMatch("a\n\nb", "a\nb"));  // inner blank lines count
}

TEST(ResultJsonTest, RoundTrip) {
  RunResult result;
  result.status = RunStatus::kTimeLimit;
  result.time_limit_kind = TimeLimitKind::kWall;
  result.language = "python";
  result.run.signal = SIGKILL;
  result.run.stdout_data = "out";
  result.run.stdout_truncated = true;
  result.run.wall_ms = 12;
  result.compile = StepOutput{};
  result.compile->exit_code = 0;
  const nlohmann::json json = ResultToJson(result);
  for (const char* key : {"status", "exit_code", "signal", "stdout", "stderr", "stdout_truncated",
                          "wall_ms", "cpu_ms", "peak_memory_kb", "time_limit_kind"}) {
    EXPECT_TRUE(json.contains(key)) << key;
  }
  EXPECT_EQ(json["status"], "time_limit");
  EXPECT_EQ(json["time_limit_kind"], "wall");
  auto back = ResultFromJson(json);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->status, RunStatus::kTimeLimit);
  EXPECT_EQ(back->time_limit_kind, TimeLimitKind::kWall);
  EXPECT_EQ(back->run.signal, SIGKILL);
  EXPECT_EQ(back->run.stdout_data, "out");
  EXPECT_TRUE(back->compile.has_value());
  EXPECT_FALSE(ResultFromJson(nlohmann::json{{"status", "bogus"}}).ok());
}

TEST(StatusNameTest, EveryStatusRoundTrips) {
  for (RunStatus status :
       {RunStatus::kOk, RunStatus::kWrongAnswer, RunStatus::kCompileError,
        RunStatus::kRuntimeError, RunStatus::kSignal, RunStatus::kTimeLimit,
        RunStatus::kMemoryLimit, RunStatus::kOutputLimit, RunStatus::kToolchainUnavailable,
        RunStatus::kSandboxError}) {
    auto parsed = ParseRunStatus(RunStatusName(status));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, status);
  }
}

}  // namespace
}  // namespace lockstep::sandbox
