// cuda::TokenLogprobs: bitwise batch invariance (a row alone == the same row inside
// batches of 3, 19 and 99 at several offsets; V = 100 and 151936; fp16 and bf16 logits),
// agreement with cpu::TokenLogprob within a stated tolerance (the measured gap is
// printed), a row whose logits are all equal, and large-magnitude logits.
// Skips without a GPU unless LOCKSTEP_REQUIRE_GPU is set.
#include "numerics/cuda/logprob.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <iostream>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "gtest/gtest.h"
#include "numerics/cpu/logprob.h"
#include "numerics/dtype.h"
#include "numerics/tensor.h"
#include "tests/gpu/gpu_test_util.h"
#include "tests/numerics/test_util.h"

namespace lockstep::cuda {
namespace {

using gpu_testing::Check;
using gpu_testing::DeviceMatrix;
using gpu_testing::DownloadVector;
using gpu_testing::UlpDistance;
using gpu_testing::UploadTensor;
using gpu_testing::UploadVector;
using gpu_testing::Unwrap;

struct LogprobResult {
  std::vector<float> logprobs;
  std::vector<float> logsumexp;
};

// Runs TokenLogprobs on `count` rows of `logits` starting at `begin`, with those rows' tokens.
LogprobResult RunRows(const DeviceMatrix& logits, const std::vector<int32_t>& tokens,
                      int64_t begin, int64_t count, float temperature) {
  const std::vector<int32_t> slice(tokens.begin() + begin, tokens.begin() + begin + count);
  DeviceBuffer device_tokens = UploadVector(slice);
  DeviceBuffer logprobs = Unwrap(DeviceBuffer::Allocate(count * sizeof(float)));
  DeviceBuffer logsumexp = Unwrap(DeviceBuffer::Allocate(count * sizeof(float)));
  Check(logprobs.Fill(0xFF));
  Check(logsumexp.Fill(0xFF));
  Check(TokenLogprobs(logits.Rows(begin, count), device_tokens.as<int32_t>(), temperature,
                      logprobs.as<float>(), logsumexp.as<float>(), nullptr, nullptr));
  return {DownloadVector<float>(logprobs, count), DownloadVector<float>(logsumexp, count)};
}

std::vector<int32_t> RandomTokens(int64_t rows, int64_t vocab, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int32_t> pick(0, static_cast<int32_t>(vocab - 1));
  std::vector<int32_t> tokens(rows);
  for (auto& t : tokens) t = pick(rng);
  return tokens;
}

bool SameBits(float a, float b) { return std::memcmp(&a, &b, sizeof(float)) == 0; }

// The largest |gpu - cpu| and ulp distance over rows; asserts |gpu - cpu| <= abs_tol +
// rel_tol * |cpu| for each row.
struct Gap {
  double max_abs = 0.0;
  int64_t max_ulp = 0;
};
Gap CompareWithCpu(const Tensor& logits, const std::vector<int32_t>& tokens,
                   const std::vector<float>& gpu, float temperature, double abs_tol,
                   double rel_tol) {
  Gap gap;
  cpu::SamplingParams params;
  params.temperature = temperature;
  for (int64_t r = 0; r < logits.shape()[0]; ++r) {
    const float expected = cpu::TokenLogprob(logits.AsMatrix().RowRange(r, 1), tokens[r], params);
    EXPECT_TRUE(std::isfinite(gpu[r])) << "row " << r << ": " << gpu[r];
    const double diff = std::fabs(double{gpu[r]} - double{expected});
    EXPECT_LE(diff, abs_tol + rel_tol * std::fabs(expected))
        << "row " << r << " token " << tokens[r] << ": gpu " << gpu[r] << ", cpu " << expected;
    gap.max_abs = std::max(gap.max_abs, diff);
    gap.max_ulp = std::max(gap.max_ulp, UlpDistance(gpu[r], expected));
  }
  return gap;
}

class LogprobTest : public gpu_testing::GpuTest,
                    public ::testing::WithParamInterface<std::tuple<DType, int64_t>> {};

// 140 rows of N(0, 3) logits: each row alone, then inside batches of 3, 19 and 99 at
// offsets 0, 7 and 41: every logprob and logsumexp has the same bits.
TEST_P(LogprobTest, RowAloneEqualsRowInsideBatchesBitwise) {
  const auto [dtype, vocab] = GetParam();
  constexpr int64_t kRows = 140;
  constexpr float kTemperature = 0.7f;
  const Tensor host = testing::RandomTensor(dtype, kRows, vocab, 11, 3.0f);
  const std::vector<int32_t> tokens = RandomTokens(kRows, vocab, 12);
  const DeviceMatrix logits = UploadTensor(host);
  std::vector<LogprobResult> alone;
  for (int64_t r = 0; r < kRows; ++r) alone.push_back(RunRows(logits, tokens, r, 1, kTemperature));
  for (int64_t batch : {3, 19, 99}) {
    for (int64_t offset : {0, 7, 41}) {
      const LogprobResult got = RunRows(logits, tokens, offset, batch, kTemperature);
      for (int64_t i = 0; i < batch; ++i) {
        ASSERT_TRUE(SameBits(got.logprobs[i], alone[offset + i].logprobs[0]))
            << "batch " << batch << " offset " << offset << " row " << i << ": "
            << got.logprobs[i] << " vs alone " << alone[offset + i].logprobs[0];
        ASSERT_TRUE(SameBits(got.logsumexp[i], alone[offset + i].logsumexp[0]))
            << "batch " << batch << " offset " << offset << " row " << i;
      }
    }
  }
}

// Against cpu::TokenLogprob (glibc expf/logf, 16-lane sum) at temperatures 1 and 0.7, and
// the logsumexp against a double-precision reference. Tolerance: 1e-5 absolute + 1e-6
// relative; the measured gap is printed.
TEST_P(LogprobTest, AgreesWithCpuReference) {
  const auto [dtype, vocab] = GetParam();
  constexpr int64_t kRows = 64;
  const Tensor host = testing::RandomTensor(dtype, kRows, vocab, 21, 3.0f);
  std::vector<int32_t> tokens = RandomTokens(kRows, vocab, 22);
  const DeviceMatrix logits = UploadTensor(host);
  for (float temperature : {1.0f, 0.7f}) {
    const LogprobResult got = RunRows(logits, tokens, 0, kRows, temperature);
    const Gap gap = CompareWithCpu(host, tokens, got.logprobs, temperature, 1e-5, 1e-6);
    double lse_gap = 0.0;
    for (int64_t r = 0; r < kRows; ++r) {
      double m = -INFINITY, s = 0.0;
      for (int64_t i = 0; i < vocab; ++i) m = std::max(m, double{host.AsMatrix().Get(r, i) / temperature});
      for (int64_t i = 0; i < vocab; ++i) s += std::exp(double{host.AsMatrix().Get(r, i) / temperature} - m);
      const double expected = m + std::log(s);
      lse_gap = std::max(lse_gap, std::fabs(got.logsumexp[r] - expected));
      EXPECT_LE(std::fabs(got.logsumexp[r] - expected), 1e-5 + 1e-6 * std::fabs(expected))
          << "row " << r;
    }
    std::cout << "[ gap      ] " << DTypeName(dtype) << " V=" << vocab << " T=" << temperature
              << ": logprob vs cpu max |diff| " << gap.max_abs << " (" << gap.max_ulp
              << " ulp); logsumexp vs fp64 max |diff| " << lse_gap << "\n";
  }
}

INSTANTIATE_TEST_SUITE_P(
    DTypesAndVocabularies, LogprobTest,
    ::testing::Combine(::testing::Values(DType::kF16, DType::kBF16),
                       ::testing::Values(int64_t{100}, int64_t{151936})),
    [](const ::testing::TestParamInfo<std::tuple<DType, int64_t>>& info) {
      return std::string(DTypeName(std::get<0>(info.param))) + "_V" +
             std::to_string(std::get<1>(info.param));
    });

class LogprobEdgeTest : public gpu_testing::GpuTest,
                        public ::testing::WithParamInterface<DType> {};

// All logits equal: every token has logprob -log(V) (the sum of V ones is exact), the same
// bits for every token, and logsumexp = c + log(V); within 2 ulp of the CPU.
TEST_P(LogprobEdgeTest, AllEqualLogits) {
  const DType dtype = GetParam();
  constexpr int64_t kVocab = 151936;
  Tensor host(dtype, {4, kVocab});
  for (int64_t i = 0; i < host.numel(); ++i) host.SetFloat(i, 3.5f);
  const std::vector<int32_t> tokens = {0, 1, 77777, kVocab - 1};
  const LogprobResult got = RunRows(UploadTensor(host), tokens, 0, 4, 1.0f);
  for (int r = 0; r < 4; ++r) {
    EXPECT_TRUE(SameBits(got.logprobs[r], got.logprobs[0])) << "token " << tokens[r];
    EXPECT_NEAR(got.logprobs[r], -std::log(double{kVocab}), 2e-6);
    EXPECT_NEAR(got.logsumexp[r], 3.5 + std::log(double{kVocab}), 4e-6);
  }
  const Gap gap = CompareWithCpu(host, tokens, got.logprobs, 1.0f, 0.0, 3e-7);
  EXPECT_LE(gap.max_ulp, 2);  // CUDA's logf is within 1 ulp, glibc's within 1 ulp
}

// Logits near the dtype's range (fp16: +-60000; bf16: +-1e37) at temperature 1 and 0.5:
// finite results, a unique maximum (1.05 * scale) has logprob exactly 0 (every other exp
// underflows),
// and every logprob agrees with the CPU to 1e-6 relative.
TEST_P(LogprobEdgeTest, LargeMagnitudeLogits) {
  const DType dtype = GetParam();
  const float scale = dtype == DType::kF16 ? 60000.0f : 1e37f;
  constexpr int64_t kRows = 8, kVocab = 5000;
  std::mt19937_64 rng(31);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  Tensor host(dtype, {kRows, kVocab});
  for (int64_t i = 0; i < host.numel(); ++i) host.SetFloat(i, scale * uniform(rng));
  std::vector<int32_t> tokens = RandomTokens(kRows, kVocab, 32);
  for (int64_t r = 0; r < kRows; r += 2) {  // every other row asks for a unique maximum
    host.AsMatrix().Set(r, tokens[r], 1.05f * scale);  // above every other logit by >= 3000
  }
  const DeviceMatrix logits = UploadTensor(host);
  for (float temperature : {1.0f, 0.5f}) {
    const LogprobResult got = RunRows(logits, tokens, 0, kRows, temperature);
    for (int64_t r = 0; r < kRows; r += 2) EXPECT_EQ(got.logprobs[r], 0.0f) << "row " << r;
    for (int64_t r = 0; r < kRows; ++r) EXPECT_TRUE(std::isfinite(got.logsumexp[r]));
    CompareWithCpu(host, tokens, got.logprobs, temperature, 1e-5, 1e-6);
  }
}

// A token outside [0, V) gives NaN and reports the first bad row; temperature 0 is refused.
TEST_P(LogprobEdgeTest, BadTokenAndTemperature) {
  const DType dtype = GetParam();
  const Tensor host = testing::RandomTensor(dtype, 5, 100, 41);
  const DeviceMatrix logits = UploadTensor(host);
  DeviceBuffer tokens = UploadVector(std::vector<int32_t>{1, 2, 100, 3, -1});
  DeviceBuffer logprobs = Unwrap(DeviceBuffer::Allocate(5 * sizeof(float)));
  DeviceBuffer bad_row = UploadVector(std::vector<int32_t>{INT32_MAX});
  Check(TokenLogprobs(logits.view, tokens.as<int32_t>(), 1.0f, logprobs.as<float>(), nullptr,
                      bad_row.as<int32_t>(), nullptr));
  const std::vector<float> got = DownloadVector<float>(logprobs, 5);
  EXPECT_TRUE(std::isfinite(got[0]) && std::isfinite(got[1]) && std::isfinite(got[3]));
  EXPECT_TRUE(std::isnan(got[2]) && std::isnan(got[4]));
  EXPECT_EQ(DownloadVector<int32_t>(bad_row, 1)[0], 2);
  EXPECT_FALSE(TokenLogprobs(logits.view, tokens.as<int32_t>(), 0.0f, logprobs.as<float>(),
                             nullptr, nullptr, nullptr)
                   .ok());
}

INSTANTIATE_TEST_SUITE_P(HalfTypes, LogprobEdgeTest, ::testing::Values(DType::kF16, DType::kBF16),
                         testing::DTypeParamName);

}  // namespace
}  // namespace lockstep::cuda
