// A scaled-down `lockstep verify` must pass in both dtypes, with every schedule
// checked and the JSON carrying the fields users script against.
#include "jobs/verify.h"

#include "gtest/gtest.h"

namespace lockstep::jobs {
namespace {

class VerifyTest : public ::testing::TestWithParam<DType> {};

TEST_P(VerifyTest, SmallRunIsBitwiseEqual) {
  VerifyOptions o;
  o.dtype = GetParam();
  o.num_sequences = 12;
  o.max_new_tokens = 10;
  o.max_prompt_tokens = 40;
  o.hidden_size = 64;
  o.num_layers = 2;
  o.num_heads = 4;
  o.num_kv_heads = 2;
  o.intermediate_size = 96;
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
  VerifyOptions o;
  o.dtype = DType::kBF16;
  o.trainer_dtype = DType::kF32;
  o.num_sequences = 6;
  o.max_new_tokens = 8;
  o.max_prompt_tokens = 20;
  o.hidden_size = 64;
  o.num_layers = 2;
  o.num_heads = 4;
  o.num_kv_heads = 2;
  o.intermediate_size = 96;
  auto report = RunVerification(o);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_LT(report->bitwise_equal_fraction(), 0.5);
  EXPECT_GT(report->max_abs_logprob_diff, 0.0);
  EXPECT_FALSE(report->passed());
  EXPECT_EQ(report->ToJson()["trainer_dtype"], "fp32");
}

}  // namespace
}  // namespace lockstep::jobs
