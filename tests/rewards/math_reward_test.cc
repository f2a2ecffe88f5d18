// Math answers: extraction (\boxed{}, last number), exact rationals, tolerances,
// and the format reward.
#include "rewards/math_reward.h"

#include "gtest/gtest.h"
#include "rewards/format_reward.h"

namespace lockstep::rewards {
namespace {

RewardResult Score(const std::string& reference, const std::string& completion,
                   MathRewardOptions options = {}) {
  auto reward = MathAnswerReward::Create(reference, options);
  EXPECT_TRUE(reward.ok()) << reward.status();
  return reward->ScoreText(completion);
}

TEST(ExactNumberTest, ParsesAndReduces) {
  EXPECT_EQ(ExactNumber::Parse("6/8")->ToString(), "3/4");
  EXPECT_EQ(ExactNumber::Parse("-0.125")->ToString(), "-1/8");
  EXPECT_EQ(ExactNumber::Parse("1,234,567")->ToString(), "1234567");
  EXPECT_EQ(ExactNumber::Parse("\\frac{3}{-6}")->ToString(), "-1/2");
  EXPECT_EQ(ExactNumber::Parse("-\\dfrac{10}{4}")->ToString(), "-5/2");
  EXPECT_EQ(ExactNumber::Parse("2.50")->ToString(), "5/2");
  EXPECT_EQ(ExactNumber::Parse("1e3")->ToString(), "1000");
  EXPECT_EQ(ExactNumber::Parse("2.5e-2")->ToString(), "1/40");
  EXPECT_EQ(ExactNumber::Parse("$42$")->ToString(), "42");
  EXPECT_EQ(ExactNumber::Parse("+7.")->ToString(), "7");
  EXPECT_EQ(ExactNumber::Parse("-0")->ToString(), "0");
  EXPECT_EQ(ExactNumber::Parse("123456789012345678901234567890")->ToString(),
            "123456789012345678901234567890");
  EXPECT_FALSE(ExactNumber::Parse("1/0").ok());
  EXPECT_FALSE(ExactNumber::Parse("abc").ok());
  EXPECT_FALSE(ExactNumber::Parse("1,23").ok());
  EXPECT_FALSE(ExactNumber::Parse("3 apples").ok());
  EXPECT_EQ(ExactNumber::Parse("1" + std::string(45, '0')).status().code(),
            absl::StatusCode::kOutOfRange);
}

TEST(ExtractionTest, BoxedIsLastAndBalanced) {
  EXPECT_EQ(ExtractBoxed("first \\boxed{1} then \\boxed{\\frac{1}{2}} end"), "\\frac{1}{2}");
  EXPECT_EQ(ExtractBoxed("\\fbox{7} and \\boxed{8}"), "8");
  EXPECT_EQ(ExtractBoxed("\\boxed{8} and \\fbox{7}"), "7");
  EXPECT_FALSE(ExtractBoxed("\\boxed{unclosed").has_value());
  EXPECT_FALSE(ExtractBoxed("no box").has_value());
}

TEST(ExtractionTest, LastNumber) {
  EXPECT_EQ(ExtractLastNumber("so 3 + 4 = 7."), "7");
  EXPECT_EQ(ExtractLastNumber("the answer is -3/4!"), "-3/4");
  EXPECT_EQ(ExtractLastNumber("total 1,234.5 dollars"), "1,234.5");
  EXPECT_EQ(ExtractLastNumber("x-5"), "5");  // a hyphen after a letter is not a sign
  EXPECT_EQ(ExtractLastNumber("values 1,2"), "2");
  EXPECT_FALSE(ExtractLastNumber("no digits here").has_value());
}

TEST(MathAnswerRewardTest, ExactComparisons) {
  EXPECT_TRUE(Score("42", "The answer is \\boxed{42}.").passed());
  EXPECT_TRUE(Score("3/4", "\\boxed{\\frac{6}{8}}").passed());
  EXPECT_TRUE(Score("0.75", "\\boxed{3/4}").passed());
  EXPECT_TRUE(Score("1234", "\\boxed{1,234}").passed());
  EXPECT_TRUE(Score("-2", "so x = -2").passed());  // last-number fallback
  const RewardResult wrong = Score("3/4", "\\boxed{0.7500001}");
  EXPECT_EQ(wrong.status, RewardStatus::kWrongAnswer);
  EXPECT_EQ(wrong.value, 0.0);
  // The boxed answer wins over a later number.
  EXPECT_EQ(Score("5", "\\boxed{5} (checked with 6 examples)").status, RewardStatus::kOk);
  // A 30-digit answer off by one in the last digit is wrong (no floating point).
  EXPECT_FALSE(Score("123456789012345678901234567890", "\\boxed{123456789012345678901234567891}").passed());
}

TEST(MathAnswerRewardTest, ToleranceAndNoAnswer) {
  MathRewardOptions tol;
  tol.abs_tolerance = 1e-3;
  EXPECT_TRUE(Score("3.14159", "\\boxed{3.1412}", tol).passed());
  EXPECT_FALSE(Score("3.14159", "\\boxed{3.14}", tol).passed());
  MathRewardOptions rel;
  rel.rel_tolerance = 0.01;
  EXPECT_TRUE(Score("1000", "about 1009", rel).passed());
  EXPECT_FALSE(Score("1000", "about 1011", rel).passed());
  EXPECT_EQ(Score("1", "I do not know").status, RewardStatus::kNoAnswer);
  MathRewardOptions strict;
  strict.last_number_fallback = false;
  EXPECT_EQ(Score("7", "it is 7", strict).status, RewardStatus::kNoAnswer);
  EXPECT_EQ(Score("7", "\\boxed{seven}").status, RewardStatus::kWrongAnswer);
  // A non-numeric reference compares as text.
  EXPECT_TRUE(Score("x^2", "\\boxed{ x^2 }").passed());
  MathRewardOptions bad;
  bad.abs_tolerance = -1;
  EXPECT_FALSE(MathAnswerReward::Create("1", bad).ok());
}

TEST(FormatRewardTest, Checks) {
  FormatRewardOptions boxed;
  boxed.require_boxed = true;
  boxed.forbid_text_after_answer = true;
  FormatReward format(boxed);
  EXPECT_TRUE(format.Score({"", "", "work... \\boxed{\\frac{1}{2}}\n"}).passed());
  EXPECT_EQ(format.Score({"", "", "\\boxed{1} and more"}).status, RewardStatus::kFormatError);
  EXPECT_EQ(format.Score({"", "", "no box"}).status, RewardStatus::kFormatError);
  FormatRewardOptions code;
  code.require_code_block = true;
  code.max_chars = 40;
  FormatReward code_format(code);
  EXPECT_TRUE(code_format.Score({"", "python", "```python\nprint(1)\n```"}).passed());
  EXPECT_FALSE(code_format.Score({"", "python", "print(1)"}).passed());  // no fence
  EXPECT_FALSE(code_format.Score({"", "python", "```rust\nfn main(){}\n```"}).passed());
  EXPECT_FALSE(code_format.Score({"", "python", "```python\n" + std::string(50, '#') + "\n```"}).passed());
}

}  // namespace
}  // namespace lockstep::rewards
