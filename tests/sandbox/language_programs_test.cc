// Every language runs a hello-world and a stdin→stdout program (sum of the
// integers on stdin, 64-bit) through the real runner, with the shipped specs
// of sandbox/language.cc. A language whose toolchain is missing must come back
// as toolchain_unavailable (never as a pass); the test then fails for the
// languages CI is required to have and is skipped, by name, for the others.
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "gtest/gtest.h"
#include "sandbox/language.h"
#include "sandbox/runner.h"
#include "sandbox/toolchain.h"

namespace lockstep::sandbox {
namespace {

std::string ReadProgramFile(const std::string& relative) {
  const std::string path = std::string(LOCKSTEP_SOURCE_DIR) + "/tests/sandbox/programs/" + relative;
  std::ifstream file(path, std::ios::binary);
  EXPECT_TRUE(file.good()) << "cannot read " << path;
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

class LanguageProgramsTest : public ::testing::TestWithParam<std::string> {
 protected:
  static void SetUpTestSuite() {
    RunnerOptions options;
    options.cache_results = false;
    auto runner = Runner::Create(options);
    ASSERT_TRUE(runner.ok()) << runner.status();
    runner_ = std::move(*runner).release();
  }
  static void TearDownTestSuite() {
    delete runner_;
    runner_ = nullptr;
  }

  // Runs tests/sandbox/programs/<lang>/<program><ext> with `stdin_data`.
  RunResult RunProgram(const LanguageSpec& spec, const std::string& program,
                       const std::string& stdin_data, const std::string& expected) {
    RunRequest request;
    request.language = spec.name;
    request.source = ReadProgramFile(spec.name + "/" + program + SourceExtension(spec));
    request.stdin_data = stdin_data;
    request.expected_stdout = expected;
    // Generous for loaded CI machines; a JVM start is ~0.2 s of CPU.
    request.limits.cpu_time_s = 10;
    request.limits.wall_time_s = 30;
    return runner_->Run(request);
  }

  // True when the toolchain is there; otherwise checks that a run reports
  // toolchain_unavailable and records the skip or the failure.
  bool RequireToolchain(const LanguageSpec& spec) {
    const RunResult probe = runner_->ProbeToolchain(spec);
    if (probe.status == RunStatus::kOk) return true;
    EXPECT_EQ(probe.status, RunStatus::kToolchainUnavailable) << probe.message;
    const RunResult run = RunProgram(spec, "hello", "", "hello, lockstep\n");
    EXPECT_EQ(run.status, RunStatus::kToolchainUnavailable)
        << spec.name << ": a missing toolchain must never pass: " << RunStatusName(run.status);
    if (IsRequiredLanguage(spec.name)) {
      ADD_FAILURE() << spec.name << " toolchain missing, and CI requires it: " << probe.message;
    }
    return false;
  }

  static Runner* runner_;
};

Runner* LanguageProgramsTest::runner_ = nullptr;

std::string Describe(const RunResult& result) {
  std::string text = std::string(RunStatusName(result.status)) + ": " + result.message;
  if (result.compile) text += "\ncompiler stderr:\n" + result.compile->stderr_data;
  text += "\nstdout:\n" + result.run.stdout_data + "\nstderr:\n" + result.run.stderr_data;
  return text;
}

TEST_P(LanguageProgramsTest, HelloWorld) {
  const LanguageSpec* spec = FindLanguage(GetParam());
  ASSERT_NE(spec, nullptr);
  if (!RequireToolchain(*spec)) GTEST_SKIP() << spec->name << ": toolchain not installed";
  const RunResult result = RunProgram(*spec, "hello", "", "hello, lockstep\n");
  EXPECT_EQ(result.status, RunStatus::kOk) << Describe(result);
  EXPECT_EQ(result.run.stdout_data, "hello, lockstep\n");
  EXPECT_EQ(result.run.exit_code, 0);
}

// Tabs, blank lines, a negative number and a sum beyond 32 bits.
TEST_P(LanguageProgramsTest, SumsStdin) {
  const LanguageSpec* spec = FindLanguage(GetParam());
  ASSERT_NE(spec, nullptr);
  if (!RequireToolchain(*spec)) GTEST_SKIP() << spec->name << ": toolchain not installed";
  const std::string input = ReadProgramFile("stdin_sum.txt");
  const std::string expected = ReadProgramFile("expected_sum.txt");
  const RunResult result = RunProgram(*spec, "sum", input, expected);
  EXPECT_EQ(result.status, RunStatus::kOk) << Describe(result);
  EXPECT_EQ(result.run.stdout_data, expected);

  // Same program, other input: the answer comes from stdin, not the source.
  const RunResult other = RunProgram(*spec, "sum", "40 2\n", "42\n");
  EXPECT_EQ(other.status, RunStatus::kOk) << Describe(other);
}

std::vector<std::string> LanguageNames() {
  std::vector<std::string> names;
  for (const LanguageSpec& spec : AllLanguages()) names.push_back(spec.name);
  return names;
}

INSTANTIATE_TEST_SUITE_P(AllLanguages, LanguageProgramsTest, ::testing::ValuesIn(LanguageNames()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace lockstep::sandbox
