// The shipped puzzle set (data/puzzles/) is well formed, and every reference
// solution passes every hidden test case through the real runner in every
// language whose toolchain is installed. Each (puzzle, language) is one test:
// the runner's artefact cache compiles the solution once and the cases reuse
// the binary. A missing toolchain fails the test for the languages CI must
// have (sandbox/toolchain.h) and skips it, naming the language, otherwise.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "sandbox/language.h"
#include "sandbox/runner.h"
#include "sandbox/toolchain.h"

namespace lockstep::sandbox {
namespace {

namespace fs = std::filesystem;

// The languages every puzzle ships a reference solution in.
const std::vector<std::string>& ReferenceLanguages() {
  static const std::vector<std::string> names = {"python", "typescript", "go",   "rust", "kotlin",
                                                 "ocaml",  "zig",        "hack", "cpp",  "java"};
  return names;
}

std::string PuzzlesDir() { return std::string(LOCKSTEP_SOURCE_DIR) + "/data/puzzles"; }

std::vector<std::string> PuzzleIds() {
  std::vector<std::string> ids;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(PuzzlesDir(), ec)) {
    if (entry.is_directory()) ids.push_back(entry.path().filename().string());
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::string ReadFile(const fs::path& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

struct TestCase {
  std::string stdin_data, expected_stdout;
};

std::vector<TestCase> LoadCases(const std::string& id) {
  const fs::path path = fs::path(PuzzlesDir()) / id / "tests.json";
  std::vector<TestCase> cases;
  const nlohmann::json json = nlohmann::json::parse(ReadFile(path), nullptr, false);
  if (!json.is_array()) return cases;
  for (const nlohmann::json& item : json) {
    if (!item.is_object() || !item.contains("stdin") || !item.contains("expected_stdout") ||
        !item["stdin"].is_string() || !item["expected_stdout"].is_string()) {
      return {};
    }
    cases.push_back({item["stdin"].get<std::string>(), item["expected_stdout"].get<std::string>()});
  }
  return cases;
}

TEST(PuzzleSetTest, TwentyPuzzlesEachComplete) {
  const std::vector<std::string> ids = PuzzleIds();
  ASSERT_EQ(ids.size(), 20u);
  for (size_t i = 0; i < ids.size(); ++i) {
    const std::string& id = ids[i];
    SCOPED_TRACE(id);
    // "NN-slug", numbered 01..20 in order of difficulty.
    std::string number = std::to_string(i + 1) + "-";
    if (number.size() < 3) number.insert(number.begin(), '0');
    EXPECT_EQ(id.rfind(number, 0), 0u);
    const fs::path dir = fs::path(PuzzlesDir()) / id;
    const std::string statement = ReadFile(dir / "statement.md");
    EXPECT_EQ(statement.rfind("# ", 0), 0u) << "statement.md starts with a title";
    EXPECT_NE(statement.find("## Input"), std::string::npos);
    EXPECT_NE(statement.find("## Output"), std::string::npos);
    for (const std::string& language : ReferenceLanguages()) {
      const LanguageSpec* spec = FindLanguage(language);
      ASSERT_NE(spec, nullptr) << language;
      EXPECT_TRUE(fs::is_regular_file(dir / ("solution" + SourceExtension(*spec))))
          << "missing solution" << SourceExtension(*spec);
    }
  }
}

// Hidden cases read their input from stdin and differ from one another, so
// a solution cannot print one constant; outputs are whole lines.
TEST(PuzzleSetTest, TestCasesAreVariedAndWellFormed) {
  for (const std::string& id : PuzzleIds()) {
    SCOPED_TRACE(id);
    const std::vector<TestCase> cases = LoadCases(id);
    ASSERT_GE(cases.size(), 3u) << "tests.json: at least 3 {stdin, expected_stdout}";
    std::set<std::string> inputs, outputs;
    for (const TestCase& test : cases) {
      EXPECT_FALSE(test.stdin_data.empty());
      ASSERT_FALSE(test.expected_stdout.empty());
      EXPECT_EQ(test.expected_stdout.back(), '\n');
      inputs.insert(test.stdin_data);
      outputs.insert(test.expected_stdout);
    }
    EXPECT_EQ(inputs.size(), cases.size()) << "duplicate inputs";
    EXPECT_GE(outputs.size(), 2u) << "every case has the same answer";
  }
}

struct Reference {
  std::string puzzle, language;
};

// Readable test names in ctest ("... # GetParam() = 01-sum-of-multiples/go").
void PrintTo(const Reference& ref, std::ostream* os) { *os << ref.puzzle << "/" << ref.language; }

std::vector<Reference> AllReferences() {
  std::vector<Reference> all;
  for (const std::string& id : PuzzleIds()) {
    for (const std::string& language : ReferenceLanguages()) all.push_back({id, language});
  }
  return all;
}

class PuzzleReferenceTest : public ::testing::TestWithParam<Reference> {
 protected:
  static void SetUpTestSuite() {
    auto runner = Runner::Create();
    ASSERT_TRUE(runner.ok()) << runner.status();
    runner_ = std::move(*runner).release();
  }
  static void TearDownTestSuite() {
    delete runner_;
    runner_ = nullptr;
  }
  static Runner* runner_;
};

Runner* PuzzleReferenceTest::runner_ = nullptr;

TEST_P(PuzzleReferenceTest, PassesEveryCase) {
  const Reference& ref = GetParam();
  const LanguageSpec* spec = FindLanguage(ref.language);
  ASSERT_NE(spec, nullptr);
  ASSERT_NE(runner_, nullptr);
  const RunResult probe = runner_->ProbeToolchain(*spec);
  if (probe.status != RunStatus::kOk) {
    ASSERT_EQ(probe.status, RunStatus::kToolchainUnavailable) << probe.message;
    if (IsRequiredLanguage(spec->name)) {
      FAIL() << spec->name << " toolchain missing, and CI requires it: " << probe.message;
    }
    GTEST_SKIP() << spec->name << ": toolchain not installed";
  }
  const fs::path source =
      fs::path(PuzzlesDir()) / ref.puzzle / ("solution" + SourceExtension(*spec));
  const std::vector<TestCase> cases = LoadCases(ref.puzzle);
  ASSERT_FALSE(cases.empty());
  for (size_t i = 0; i < cases.size(); ++i) {
    RunRequest request;
    request.language = spec->name;
    request.source = ReadFile(source);
    request.stdin_data = cases[i].stdin_data;
    request.expected_stdout = cases[i].expected_stdout;
    // The references run in well under a second; the slack is for loaded CI.
    request.limits.cpu_time_s = 5;
    request.limits.wall_time_s = 30;
    const RunResult result = runner_->Run(request);
    EXPECT_EQ(result.status, RunStatus::kOk)
        << ref.puzzle << "/" << source.filename().string() << " case " << i << ": "
        << RunStatusName(result.status) << " " << result.message
        << (result.compile ? "\ncompiler stderr:\n" + result.compile->stderr_data : "")
        << "\nstdout:\n"
        << result.run.stdout_data.substr(0, 500) << "\nexpected:\n"
        << cases[i].expected_stdout.substr(0, 500) << "\nstderr:\n"
        << result.run.stderr_data.substr(0, 2000);
    if (result.status == RunStatus::kCompileError) break;  // the other cases say nothing new
  }
}

INSTANTIATE_TEST_SUITE_P(DataPuzzles, PuzzleReferenceTest, ::testing::ValuesIn(AllReferences()),
                         [](const ::testing::TestParamInfo<Reference>& info) {
                           std::string name = info.param.puzzle + "_" + info.param.language;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

}  // namespace
}  // namespace lockstep::sandbox
