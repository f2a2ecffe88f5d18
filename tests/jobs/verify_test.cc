// A scaled-down `lockstep verify` must pass in both dtypes, with every schedule
// checked and the JSON carrying the fields users script against.
#include "jobs/verify.h"

#include "gtest/gtest.h"

namespace lockstep::jobs {
namespace {

// A small model and few sequences, so a test run takes well under a second.
VerifyOptions SmallOptions(int sequences, int new_tokens, int max_prompt_tokens) {
  VerifyOptions o;
  o.num_sequences = sequences;
  o.max_new_tokens = new_tokens;
  o.max_prompt_tokens = max_prompt_tokens;
  o.hidden_size = 64;
  o.num_layers = 2;
  o.num_heads = 4;
  o.num_kv_heads = 2;
  o.intermediate_size = 96;
  return o;
}

class VerifyTest : public ::testing::TestWithParam<DType> {};

TEST_P(VerifyTest, SmallRunIsBitwiseEqual) {
  VerifyOptions o = SmallOptions(12, 10, 40);
  o.dtype = GetParam();
  auto report = RunVerification(o);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->schedules.size(), 4u);
  EXPECT_GT(report->tokens, 4 * 12);
  EXPECT_EQ(report->bitwise_equal, report->tokens);
  EXPECT_TRUE(report->schedules_agree);
  EXPECT_TRUE(report->passed());
  const auto json = report->ToJson();
  for (const char* key : {"backend", "dtype", "tokens", "bitwise_equal_fraction",
                          "max_abs_logprob_diff", "schedules_agree"}) {
    EXPECT_TRUE(json.contains(key)) << key;
  }
  EXPECT_EQ(json["bitwise_equal_fraction"].get<double>(), 1.0);
  EXPECT_EQ(json["dtype"], GetParam() == DType::kF16 ? "fp16" : "bf16");
}

INSTANTIATE_TEST_SUITE_P(DTypes, VerifyTest, ::testing::Values(DType::kF16, DType::kBF16));

}  // namespace
}  // namespace lockstep::jobs

namespace lockstep::jobs {
namespace {

// The negative control: the check must be able to fail. An fp32 trainer
// against a bf16 rollout (the usual mismatched setup) is not bitwise equal.
TEST(VerifyNegativeControl, MismatchedTrainerDtypeIsDetected) {
  VerifyOptions o = SmallOptions(6, 8, 20);
  o.dtype = DType::kBF16;
  o.trainer_dtype = DType::kF32;
  auto report = RunVerification(o);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_LT(report->bitwise_equal_fraction(), 0.5);
  EXPECT_GT(report->max_abs_logprob_diff, 0.0);
  EXPECT_FALSE(report->passed());
  EXPECT_EQ(report->ToJson()["trainer_dtype"], "fp32");
}

}  // namespace
}  // namespace lockstep::jobs
