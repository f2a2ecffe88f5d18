#include "rewards/problem_set.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "sandbox/language.h"
#include "sandbox/toolchain.h"

namespace lockstep::rewards {
namespace {

namespace fs = std::filesystem;

absl::StatusOr<std::string> ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path.string()));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

absl::StatusOr<std::vector<ProgramTest>> ParseTests(const fs::path& path) {
  auto text = ReadFile(path);
  if (!text.ok()) return text.status();
  nlohmann::json json = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return absl::InvalidArgumentError(absl::StrCat(path.string(), ": not valid JSON"));
  if (json.is_object() && json.contains("tests")) json = json["tests"];
  if (!json.is_array() || json.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path.string(), ": expected a non-empty array of {\"stdin\", \"expected_stdout\"}"));
  }
  std::vector<ProgramTest> tests;
  for (size_t i = 0; i < json.size(); ++i) {
    const auto& t = json[i];
    if (!t.is_object() || !t.contains("stdin") || !t["stdin"].is_string() ||
        !t.contains("expected_stdout") || !t["expected_stdout"].is_string()) {
      return absl::InvalidArgumentError(absl::StrCat(
          path.string(), ": test ", i, " needs string fields \"stdin\" and \"expected_stdout\""));
    }
    tests.push_back({t["stdin"].get<std::string>(), t["expected_stdout"].get<std::string>()});
  }
  return tests;
}

}  // namespace

const Problem* ProblemSet::Find(const std::string& id) const {
  for (const Problem& p : problems) {
    if (p.id == id) return &p;
  }
  return nullptr;
}

absl::StatusOr<ProblemSet> LoadProblemSet(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return absl::NotFoundError(absl::StrCat("problem set directory '", dir, "' does not exist"));
  }
  std::vector<fs::path> dirs;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.is_directory() && fs::exists(entry.path() / "tests.json")) dirs.push_back(entry.path());
  }
  std::sort(dirs.begin(), dirs.end());
  ProblemSet set;
  set.dir = dir;
  for (const fs::path& d : dirs) {
    Problem p;
    p.id = d.filename().string();
    auto tests = ParseTests(d / "tests.json");
    if (!tests.ok()) return tests.status();
    p.tests = std::move(*tests);
    if (auto statement = ReadFile(d / "statement.md"); statement.ok()) p.statement = *statement;
    for (const auto& file : fs::directory_iterator(d, ec)) {
      const std::string name = file.path().filename().string();
      if (name.rfind("solution.", 0) != 0) continue;
      const std::string ext = file.path().extension().string();
      for (const sandbox::LanguageSpec& spec : sandbox::AllLanguages()) {
        if (sandbox::SourceExtension(spec) == ext) {
          auto source = ReadFile(file.path());
          if (!source.ok()) return source.status();
          p.solutions[spec.name] = *source;
          break;
        }
      }
    }
    set.problems.push_back(std::move(p));
  }
  if (set.problems.empty()) {
    return absl::NotFoundError(
        absl::StrCat("problem set directory '", dir, "' holds no problem (no */tests.json)"));
  }
  return set;
}

}  // namespace lockstep::rewards
