// Exact and numeric math-answer rewards. The answer is taken from the last
// \boxed{...} (balanced braces) or, failing that and if allowed, the last
// number in the completion. Integers, fractions ("3/4", "\frac{3}{4}") and
// finite decimals are compared as exact reduced rationals (no floating point),
// unless a tolerance is stated, in which case |got - want| <= abs + rel*|want|.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "rewards/reward.h"

namespace lockstep::rewards {

// A rational number held exactly: num/den reduced, den > 0. Parses "-12",
// "1,234", "3/4", "-0.125", "\frac{3}{4}", "\dfrac{-3}{4}", "+7", "2.50",
// "1e-3". Values whose reduced numerator or denominator exceed 2^126 are errors.
struct ExactNumber {
  __int128 num = 0;
  __int128 den = 1;
  static absl::StatusOr<ExactNumber> Parse(std::string_view text);
  long double ToLongDouble() const;
  std::string ToString() const;  // "3/4", "-7"
  bool operator==(const ExactNumber&) const = default;
};

// The content of the last \boxed{...} (or \fbox{...}), braces balanced; nullopt if none.
std::optional<std::string> ExtractBoxed(std::string_view completion);
// The last number-looking token ("-3/4", "1,234.5", "7"); nullopt if none.
std::optional<std::string> ExtractLastNumber(std::string_view completion);

struct MathRewardOptions {
  // 0 and 0: exact comparison of rationals. Otherwise numeric with these tolerances.
  double abs_tolerance = 0.0;
  double rel_tolerance = 0.0;
  // When no \boxed{} is present, score the last number (else: no_answer).
  bool last_number_fallback = true;
};

// Scores a completion against a fixed reference answer. A reference that is
// not a number is compared as text (after trimming spaces and a "$" pair).
class MathAnswerReward : public Reward {
 public:
  static absl::StatusOr<MathAnswerReward> Create(std::string reference,
                                                 MathRewardOptions options = {});
  RewardResult Score(const RewardSample& sample) const override;
  // As Score, for a bare completion.
  RewardResult ScoreText(std::string_view completion) const;

 private:
  MathAnswerReward(std::string reference, std::optional<ExactNumber> number,
                   MathRewardOptions options)
      : reference_(std::move(reference)), number_(number), options_(options) {}
  std::string reference_;
  std::optional<ExactNumber> number_;
  MathRewardOptions options_;
};

}  // namespace lockstep::rewards
