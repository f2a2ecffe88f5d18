// A set of programming problems on disk (data/puzzles/ layout): one directory
// per problem, named by its id, holding statement.md, tests.json (hidden
// stdin/stdout cases) and reference solutions solution.<ext> (the extension
// names the language, sandbox/toolchain.h SourceExtension). Problems are kept
// in directory-name order, so ids and indices are stable.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace lockstep::rewards {

struct ProgramTest {
  std::string stdin_data;
  std::string expected_stdout;
};

struct Problem {
  std::string id;         // the directory name, "01-sum-of-multiples"
  std::string statement;  // statement.md
  std::vector<ProgramTest> tests;
  std::map<std::string, std::string> solutions;  // language spec name → source
};

struct ProblemSet {
  std::string dir;
  std::vector<Problem> problems;
  const Problem* Find(const std::string& id) const;
};

// Loads every subdirectory of `dir` holding a tests.json. tests.json is an
// array of {"stdin", "expected_stdout"} (or an object with such a "tests"
// array). Errors name the file and the field; a set with no problem is an error.
absl::StatusOr<ProblemSet> LoadProblemSet(const std::string& dir);

}  // namespace lockstep::rewards
