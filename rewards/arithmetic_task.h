// A synthetic arithmetic task with verifiable answers: "417+86=" -> "503".
// Problem i is a pure function of (options, seed, i), so a corpus or a prompt
// stream can be regenerated from its position alone (exact resume), and the
// same generator feeds pretraining text and GRPO prompts with their rewards.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace lockstep::rewards {

struct ArithmeticTaskOptions {
  int max_digits = 3;          // operands in [0, 10^max_digits)
  std::string operators = "+";  // any of "+-*"
};

struct ArithmeticProblem {
  std::string prompt;  // "417+86="
  std::string answer;  // "503"
};

class ArithmeticTask {
 public:
  static absl::StatusOr<ArithmeticTask> Create(ArithmeticTaskOptions options, uint64_t seed);
  ArithmeticProblem Problem(uint64_t index) const;
  // The training text of problem `index`: prompt, answer, newline.
  std::string CorpusLine(uint64_t index) const;

 private:
  ArithmeticTask(ArithmeticTaskOptions options, uint64_t seed) : options_(options), seed_(seed) {}
  ArithmeticTaskOptions options_;
  uint64_t seed_;
};

}  // namespace lockstep::rewards
