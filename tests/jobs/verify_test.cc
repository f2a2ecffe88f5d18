// A scaled-down `lockstep verify` must pass in both dtypes, with every schedule
// checked and the JSON carrying the fields users script against.
#include "jobs/verify.h"

#include "gmock/gmock.h"
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

// The samples digest names the sampled bits: the same run twice gives the same digest,
// another seed (other tokens) another one.
TEST_P(VerifyTest, SamplesDigestFollowsTheSampledBits) {
  VerifyOptions o = SmallOptions(4, 6, 10);
  o.dtype = GetParam();
  o.schedules = {"all-at-once"};
  auto first = RunVerification(o);
  auto again = RunVerification(o);
  o.seed += 1;
  auto other = RunVerification(o);
  ASSERT_TRUE(first.ok() && again.ok() && other.ok());
  EXPECT_THAT(first->samples_digest, ::testing::MatchesRegex("[0-9a-f]{16}"));
  EXPECT_EQ(first->samples_digest, again->samples_digest);
  EXPECT_NE(first->samples_digest, other->samples_digest);
  EXPECT_EQ(first->ToJson()["samples_digest"], first->samples_digest);
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
  // It says the mismatch is the expected demonstration, and gives more than the max.
  EXPECT_TRUE(report->negative_control());
  EXPECT_THAT(report->Verdict(), ::testing::StartsWith("EXPECTED MISMATCH"));
  const auto stats = report->abs_logprob_diff;
  EXPECT_GT(stats.mean, 0.0);
  EXPECT_LE(stats.p50, stats.p99);
  EXPECT_LE(stats.p99, stats.max);
  EXPECT_EQ(stats.max, report->max_abs_logprob_diff);
  EXPECT_EQ(report->ToJson()["negative_control"], true);
}

TEST(LogprobDiffStats, MeanAndNearestRankPercentiles) {
  std::vector<double> diffs;
  for (int i = 100; i >= 1; --i) diffs.push_back(static_cast<double>(i));
  const LogprobDiffStats stats = LogprobDiffStats::Of(diffs);
  EXPECT_DOUBLE_EQ(stats.mean, 50.5);
  EXPECT_EQ(stats.p50, 50.0);
  EXPECT_EQ(stats.p99, 99.0);
  EXPECT_EQ(stats.max, 100.0);
  std::vector<double> none;
  EXPECT_EQ(LogprobDiffStats::Of(none).max, 0.0);
}

// `verify --json` prints one document: every dtype's report under "reports",
// "passed" only if all passed, the model it built, and what the fields mean.
TEST(VerifyDocument, OneDocumentForAllDtypes) {
  std::vector<VerifyReport> reports;
  for (DType dtype : {DType::kF16, DType::kBF16}) {
    VerifyOptions o = SmallOptions(4, 6, 12);
    o.dtype = dtype;
    auto report = RunVerification(o);
    ASSERT_TRUE(report.ok()) << report.status();
    EXPECT_EQ(report->abs_logprob_diff.max, 0.0);
    EXPECT_EQ(report->model.hidden_size, 64);
    EXPECT_GT(report->model.parameters, 0);
    EXPECT_FALSE(report->negative_control());
    reports.push_back(*std::move(report));
  }
  nlohmann::json document = VerifyDocument(reports);
  // Round-trips through text as a single value.
  document = nlohmann::json::parse(document.dump(2));
  EXPECT_EQ(document["passed"], true);
  ASSERT_EQ(document["reports"].size(), 2u);
  EXPECT_EQ(document["reports"][1]["dtype"], "bf16");
  EXPECT_EQ(document["reports"][0]["model"]["num_layers"], 2);
  EXPECT_TRUE(document["reports"][0]["abs_logprob_diff"].contains("p99"));
  EXPECT_TRUE(document["fields"].contains("bitwise_equal"));
  reports[0].bitwise_equal -= 1;
  EXPECT_EQ(VerifyDocument(reports)["passed"], false);
}

}  // namespace
}  // namespace lockstep::jobs

namespace lockstep::jobs {
namespace {

// The backend and model-shape options: the report names the backend it ran on, a larger
// vocabulary with tied embeddings (the qwen2-0.5b shape's traits) still verifies bitwise,
// and unknown shapes or an unbuilt backend are clear errors.
TEST(VerifyBackendOptions, ReportNamesTheBackendAndTiedLargeVocabPasses) {
  VerifyOptions o = SmallOptions(3, 4, 8);
  o.vocab_size = 1000;
  o.tie_word_embeddings = true;
  o.backend.mode = NumericsMode::kFast;  // the CPU backend has one (invariant) set of kernels
  auto report = RunVerification(o);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->passed());
  EXPECT_EQ(report->model.vocab_size, 1000);
  EXPECT_TRUE(report->model.tie_word_embeddings);
  const auto json = report->ToJson();
  EXPECT_EQ(json["backend"], "cpu");
  EXPECT_EQ(json["mode"], "fast");
  EXPECT_THAT(json["backend_description"].get<std::string>(), ::testing::StartsWith("cpu ("));
  EXPECT_TRUE(json["negative_control"].get<bool>());
}

TEST(VerifyBackendOptions, ModelShapes) {
  VerifyOptions o;
  ASSERT_TRUE(ApplyModelShape("qwen2-0.5b", &o).ok());
  EXPECT_EQ(o.num_layers, 24);
  EXPECT_EQ(o.hidden_size, 896);
  EXPECT_EQ(o.num_heads, 14);
  EXPECT_EQ(o.num_kv_heads, 2);
  EXPECT_EQ(o.intermediate_size, 4864);
  EXPECT_EQ(o.vocab_size, 151936);
  EXPECT_TRUE(o.tie_word_embeddings);
  ASSERT_TRUE(ApplyModelShape("small", &o).ok());
  EXPECT_EQ(o.hidden_size, VerifyOptions().hidden_size);
  const absl::Status bad = ApplyModelShape("qwen2-7b", &o);
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.message()), ::testing::HasSubstr("qwen2-0.5b"));
}

TEST(VerifyBackendOptions, CudaWithoutACudaBuildOrGpuIsAClearError) {
  VerifyOptions o = SmallOptions(2, 2, 6);
  o.backend.device = Device::kCuda;
  auto report = RunVerification(o);
  if (report.ok()) GTEST_SKIP() << "this build and machine have the CUDA backend";
  EXPECT_EQ(report.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(report.status().message()), ::testing::HasSubstr("cuda"));
}

}  // namespace
}  // namespace lockstep::jobs
