#include "rewards/arithmetic_task.h"

#include "absl/strings/str_cat.h"

namespace lockstep::rewards {
namespace {

// splitmix64: a stateless mix of (seed, index, draw) -> 64 random bits.
uint64_t Mix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

}  // namespace

absl::StatusOr<ArithmeticTask> ArithmeticTask::Create(ArithmeticTaskOptions options,
                                                      uint64_t seed) {
  if (options.max_digits < 1 || options.max_digits > 9) {
    return absl::InvalidArgumentError(absl::StrCat("data.max_digits = ", options.max_digits,
                                                   ": must be in [1, 9]"));
  }
  if (options.operators.empty() ||
      options.operators.find_first_not_of("+-*") != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("data.operators = '", options.operators,
                                                   "': use one or more of + - *"));
  }
  return ArithmeticTask(options, seed);
}

ArithmeticProblem ArithmeticTask::Problem(uint64_t index) const {
  const uint64_t base = Mix(seed_ ^ Mix(index));
  int64_t limit = 1;
  for (int i = 0; i < options_.max_digits; ++i) limit *= 10;
  // Digits per operand drawn first, so short and long operands are equally
  // common (a uniform draw over [0, limit) would be almost always long).
  auto operand = [&](uint64_t draw) {
    const uint64_t r = Mix(base + draw);
    int64_t digits_limit = 1;
    for (uint64_t d = 0; d <= r % static_cast<uint64_t>(options_.max_digits); ++d) digits_limit *= 10;
    return static_cast<int64_t>((r >> 8) % static_cast<uint64_t>(digits_limit));
  };
  const int64_t a = operand(1), b = operand(2);
  const char op = options_.operators[Mix(base + 3) % options_.operators.size()];
  const int64_t value = op == '+' ? a + b : op == '-' ? a - b : a * b;
  return ArithmeticProblem{absl::StrCat(a, std::string(1, op), b, "="), absl::StrCat(value)};
}

std::string ArithmeticTask::CorpusLine(uint64_t index) const {
  const ArithmeticProblem p = Problem(index);
  return p.prompt + p.answer + "\n";
}

}  // namespace lockstep::rewards
