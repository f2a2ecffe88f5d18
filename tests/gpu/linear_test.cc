// The cuBLASLt linear (numerics/cuda/linear.h): batch invariance with == on bits for fp16
// and bf16 on odd and Qwen-sized weights (a row alone vs inside batches of 3, 19, 99, 989 at
// several offsets), also for the shapes of the tuned table; a negative control showing the
// heuristic (`fast`) mode is not invariant; agreement with the CPU backend (exact on small
// integers, 2u relative norm vs float64 on random data); graph capture replays the same bits.
// Without a GPU every test skips, or fails when LOCKSTEP_REQUIRE_GPU is set.
#include "numerics/cuda/linear.h"

#include <cuda_runtime_api.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "numerics/cpu/linear.h"
#include "numerics/cuda/cuda_status.h"
#include "numerics/cuda/device_buffer.h"
#include "numerics/cuda/device_info.h"
#include "numerics/cuda/device_rows.h"
#include "numerics/cuda/kernel_launch.h"
#include "numerics/dtype.h"
#include "numerics/tensor.h"
#include "tests/gpu/gpu_test_util.h"
#include "tests/numerics/test_util.h"

namespace lockstep::cuda {
namespace {

using gpu_testing::Check;
using gpu_testing::DeviceMatrix;
using gpu_testing::DeviceRandom;
using gpu_testing::GpuTest;
using gpu_testing::PoisonedDevice;
using gpu_testing::Sync;
using gpu_testing::Unwrap;
using gpu_testing::UploadTensor;
using ::lockstep::testing::AsDoubles;
using ::lockstep::testing::ErrorBound;
using ::lockstep::testing::RandomTensor;
using ::lockstep::testing::RelativeNormError;

class GpuLinearTest : public GpuTest {
 protected:
  void SetUp() override {
    GpuTest::SetUp();  // skips (or fails) without a GPU
    if (IsSkipped() || HasFatalFailure()) return;
    context_ = Unwrap(LinearContext::Create());
  }
  std::unique_ptr<LinearContext> context_;
};

Tensor Download(const DeviceMatrix& m) {
  Sync();
  Tensor host(m.view.dtype, {m.view.rows, m.view.cols});
  Check(m.buffer.CopyToHost(host.data(), host.nbytes()));
  return host;
}

std::vector<unsigned char> DownloadRow(MatrixView m, int64_t row) {
  Sync();
  std::vector<unsigned char> bytes(m.cols * DTypeSize(m.dtype));
  Check(CudaStatus(cudaMemcpy(bytes.data(), m.RowPtr(row), bytes.size(), cudaMemcpyDeviceToHost),
                   "cudaMemcpy row"));
  return bytes;
}

struct WeightShape {
  int64_t n, k;
  bool bias;
};

std::string Name(DType dtype, WeightShape s) {
  return std::string(DTypeName(dtype)) + " weight (" + std::to_string(s.n) + ", " +
         std::to_string(s.k) + ")" + (s.bias ? " +bias" : "");
}

// Rows computed alone vs inside batches of `batch_sizes` at several offsets (each batch's
// first, middle and last row). Returns how many (batch size, offset, row) triples differ,
// and the batch sizes that showed any difference.
struct InvarianceResult {
  int compared = 0;
  int differing = 0;
  std::vector<int64_t> differing_sizes;
};

InvarianceResult CompareAloneWithBatches(const LinearPlan& plan, WeightShape s,
                                         const std::vector<int64_t>& batch_sizes) {
  const DType dtype = plan.shape().dtype;
  constexpr int64_t kOffsets[] = {0, 7, 40};
  int64_t max_batch = 0;
  for (int64_t m : batch_sizes) max_batch = std::max(max_batch, m);
  const DeviceMatrix x = DeviceRandom(dtype, max_batch + 40, s.k, 101);
  const DeviceMatrix w = DeviceRandom(dtype, s.n, s.k, 102);
  const DeviceMatrix bias = DeviceRandom(dtype, 1, s.n, 103);
  const void* bias_ptr = s.bias ? bias.view.data : nullptr;
  const DeviceMatrix y = PoisonedDevice(dtype, max_batch, s.n);
  const DeviceMatrix y_alone = PoisonedDevice(dtype, 1, s.n);
  const ConstMatrixView x_all = x.view;
  std::map<int64_t, std::vector<unsigned char>> alone;  // input row -> its output alone
  auto alone_row = [&](int64_t r) -> const std::vector<unsigned char>& {
    auto it = alone.find(r);
    if (it != alone.end()) return it->second;
    Check(plan.Run(x_all.RowRange(r, 1), w.view, bias_ptr, y_alone.view, nullptr));
    return alone.emplace(r, DownloadRow(y_alone.view, 0)).first->second;
  };
  InvarianceResult result;
  for (int64_t m : batch_sizes) {
    bool size_differs = false;
    for (int64_t offset : kOffsets) {
      const MatrixView y_batch{dtype, y.view.data, m, s.n, s.n};
      Check(plan.Run(x_all.RowRange(offset, m), w.view, bias_ptr, y_batch, nullptr));
      for (int64_t p : {int64_t{0}, m / 2, m - 1}) {
        ++result.compared;
        if (DownloadRow(y_batch, p) != alone_row(offset + p)) {
          ++result.differing;
          size_differs = true;
        }
      }
    }
    if (size_differs) result.differing_sizes.push_back(m);
  }
  return result;
}

const std::vector<int64_t> kBatchSizes = {1, 3, 19, 99, 989};

const WeightShape kInvarianceShapes[] = {
    {111, 500, true},   {896, 896, true},     {4864, 896, false},
    {896, 4864, false}, {151936, 896, false},
};

class GpuLinearInvarianceTest : public GpuLinearTest,
                                public ::testing::WithParamInterface<DType> {};

TEST_P(GpuLinearInvarianceTest, RowsAloneEqualRowsInBatchesBitwise) {
  for (WeightShape s : kInvarianceShapes) {
    const LinearShape shape{GetParam(), s.n, s.k, s.bias};
    const std::unique_ptr<LinearPlan> plan = Unwrap(LinearPlan::Create(context_.get(), shape));
    std::cout << Name(GetParam(), s) << ": " << plan->self_check_note() << "\n" << plan->Describe();
    const InvarianceResult r = CompareAloneWithBatches(*plan, s, kBatchSizes);
    EXPECT_EQ(r.differing, 0) << Name(GetParam(), s) << ": " << r.differing << " of " << r.compared
                              << " rows differ from the row computed alone";
    EXPECT_GT(r.compared, 30);
  }
}

// Default plans of the shapes above mostly use split-K 1 (kMinSplitLength); plans forced
// to split K must be invariant too (same count and fp32-partial reduction for every M).
TEST_P(GpuLinearInvarianceTest, ForcedSplitKPlansAreInvariant) {
  for (auto [s, split] :
       {std::pair{WeightShape{896, 4864, false}, 3}, std::pair{WeightShape{4096, 4096, true}, 2}}) {
    const LinearShape shape{GetParam(), s.n, s.k, s.bias};
    const std::unique_ptr<LinearPlan> plan =
        Unwrap(LinearPlan::Create(context_.get(), shape, {.split_k = split}));
    std::cout << Name(GetParam(), s) << ": " << plan->self_check_note() << "\n";
    EXPECT_EQ(plan->split_k(), split);
    const InvarianceResult r = CompareAloneWithBatches(*plan, s, kBatchSizes);
    EXPECT_EQ(r.differing, 0) << Name(GetParam(), s) << " split-K " << split << ": " << r.differing
                              << " of " << r.compared << " rows differ";
  }
}

// Shapes of the tuned table (linear.cc): on the GPU and cuBLASLt the table was measured on,
// the plan takes the table's configurations (split-K 1, a different tile per bucket),
// passes its self-check without fallback, and is invariant. Elsewhere the heuristic rule
// plans them and only invariance is asserted.
TEST_P(GpuLinearInvarianceTest, TunedTableShapesAreInvariant) {
  const bool table_applies =
      context_->gpu_name() == "NVIDIA H200" && context_->cublaslt_version() / 100 == 1301;
  for (WeightShape s : {WeightShape{896, 4864, false}, WeightShape{3584, 18944, false},
                        WeightShape{3584, 3584, true}}) {
    const LinearShape shape{GetParam(), s.n, s.k, s.bias};
    const std::unique_ptr<LinearPlan> plan = Unwrap(LinearPlan::Create(context_.get(), shape));
    std::cout << Name(GetParam(), s) << ": " << plan->self_check_note() << "\n" << plan->Describe();
    if (table_applies) {
      EXPECT_EQ(plan->config_source().rfind("tuned table", 0), 0u) << plan->config_source();
      EXPECT_EQ(plan->config_source().find("rejected"), std::string::npos) << plan->config_source();
      EXPECT_EQ(plan->split_k(), 1);
      EXPECT_EQ(plan->self_check_note().rfind("self-check passed", 0), 0u)
          << plan->self_check_note();
    }
    const InvarianceResult r = CompareAloneWithBatches(*plan, s, kBatchSizes);
    EXPECT_EQ(r.differing, 0) << Name(GetParam(), s) << ": " << r.differing << " of " << r.compared
                              << " rows differ from the row computed alone";
    EXPECT_GT(r.compared, 30);
  }
}

// The K-sliced table's shape (1.5B down, linear.cc kSlicedShapes): where it was measured,
// split-K 4 at every M, the own mma.sync kernel at M <= 16, cuBLASLt's split-4 kernels up
// to 512 rows and the own wgmma kernel from 1024 on, with the self-check passing across
// all three; rows alone equal the same rows in batches served by each of them.
TEST_P(GpuLinearInvarianceTest, SlicedTableShapeMixesThreeKernelsInvariantly) {
  const WeightShape s{1536, 8960, false};
  const std::unique_ptr<LinearPlan> plan =
      Unwrap(LinearPlan::Create(context_.get(), LinearShape{GetParam(), s.n, s.k, s.bias}));
  std::cout << Name(GetParam(), s) << ": " << plan->self_check_note() << "\n" << plan->Describe();
  if (context_->gpu_name() == "NVIDIA H200" && context_->cublaslt_version() / 100 == 1301) {
    EXPECT_EQ(plan->config_source().rfind("K-sliced table", 0), 0u) << plan->config_source();
    EXPECT_EQ(plan->split_k(), 4);
    EXPECT_EQ(plan->self_check_note().rfind("self-check passed", 0), 0u)
        << plan->self_check_note();
    EXPECT_TRUE(plan->UsesSmallMKernel(1));
    EXPECT_TRUE(plan->UsesSmallMKernel(16));
    EXPECT_FALSE(plan->UsesSmallMKernel(17));
    EXPECT_FALSE(plan->UsesWgmmaKernel(512));
    EXPECT_TRUE(plan->UsesWgmmaKernel(513));
    EXPECT_TRUE(plan->UsesWgmmaKernel(4096));
    // M 129..512: the table's cuBLASLt split-4 configuration, not the heuristic's first.
    const std::string described = plan->Describe();
    EXPECT_NE(described.find("M <= 256: algo 66 tile 28 stages 35 splitK 4"), std::string::npos)
        << described;
    EXPECT_NE(described.find("M <= 512: algo 66 tile 28 stages 35 splitK 4"), std::string::npos)
        << described;
  }
  const InvarianceResult r =
      CompareAloneWithBatches(*plan, s, {1, 3, 16, 17, 99, 200, 512, 600, 1500});
  EXPECT_EQ(r.differing, 0) << Name(GetParam(), s) << ": " << r.differing << " of " << r.compared
                            << " rows differ from the row computed alone";
  EXPECT_GT(r.compared, 20);
}

// The negative control: cuBLASLt's heuristic changes split-K with M, so some rows must
// differ for some shape, or the invariance test above could not tell a broken plan.
TEST_P(GpuLinearInvarianceTest, HeuristicModeDiffersForSomeBatchSizes) {
  const std::vector<int64_t> sizes = {1, 2, 3, 7, 13, 19, 50, 99, 256, 500, 989};
  int total_differing = 0;
  for (WeightShape s : {kInvarianceShapes[1], kInvarianceShapes[2], kInvarianceShapes[3],
                        WeightShape{4096, 4096, false}}) {
    const LinearShape shape{GetParam(), s.n, s.k, s.bias};
    const std::unique_ptr<LinearPlan> plan =
        Unwrap(LinearPlan::Create(context_.get(), shape, {.mode = LinearMode::kHeuristic}));
    const InvarianceResult r = CompareAloneWithBatches(*plan, s, sizes);
    std::cout << Name(GetParam(), s) << " heuristic mode: " << r.differing << " of " << r.compared
              << " rows differ; batch sizes with a difference:";
    for (int64_t m : r.differing_sizes) std::cout << " " << m;
    std::cout << (r.differing == 0 ? " none (cuBLASLt happens to be invariant here)" : "") << "\n";
    total_differing += r.differing;
  }
  EXPECT_GT(total_differing, 0)
      << "the heuristic mode gave identical rows for every batch size and shape: the "
         "invariance test cannot show that it would catch a batch-dependent plan";
}

// The self-check itself can fail: run on a heuristic-mode plan (cuBLASLt's choice per M)
// of a shape where that choice changes split-K with M, it must flag some bucket.
TEST_P(GpuLinearInvarianceTest, SelfCheckFlagsTheHeuristicMode) {
  const std::unique_ptr<LinearPlan> plan = Unwrap(LinearPlan::Create(
      context_.get(), {GetParam(), 4096, 4096, false}, {.mode = LinearMode::kHeuristic}));
  const LinearPlan::SelfCheckResult result = Unwrap(plan->SelfCheck());
  EXPECT_FALSE(result.differing_buckets.empty())
      << "the self-check found the heuristic mode invariant at every bucket";
  EXPECT_TRUE(result.inexact_buckets.empty()) << "the heuristic mode was wrong on exact sums";
}

INSTANTIATE_TEST_SUITE_P(HalfTypes, GpuLinearInvarianceTest,
                         ::testing::Values(DType::kF16, DType::kBF16),
                         ::lockstep::testing::DTypeParamName);

// Small integers: every product and partial sum is an exact integer in fp32 whatever the
// order, so both backends round the same exact value once: bitwise equal to the CPU.
// The invariant mode only: the heuristic may keep split-K partials in the 16-bit output
// type, which rounds them (the tolerance test below covers that mode).
Tensor SmallIntegerTensor(DType dtype, int64_t rows, int64_t cols, uint64_t seed, int range) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> dist(-range, range);
  Tensor t(dtype, {rows, cols});
  for (int64_t i = 0; i < t.numel(); ++i) t.SetFloat(i, static_cast<float>(dist(rng)));
  return t;
}

class GpuLinearCpuTest : public GpuLinearTest, public ::testing::WithParamInterface<DType> {};

TEST_P(GpuLinearCpuTest, SmallIntegersEqualTheCpuBackendBitwise) {
  const DType dtype = GetParam();
  for (WeightShape s :
       {WeightShape{111, 500, true}, WeightShape{896, 896, true}, WeightShape{4864, 896, false}}) {
    {
      const LinearShape shape{dtype, s.n, s.k, s.bias};
      const std::unique_ptr<LinearPlan> plan = Unwrap(LinearPlan::Create(context_.get(), shape));
      const Tensor w = SmallIntegerTensor(dtype, s.n, s.k, 7, 3);
      const Tensor bias = SmallIntegerTensor(dtype, 1, s.n, 8, 50);
      const DeviceMatrix w_dev = UploadTensor(w), bias_dev = UploadTensor(bias);
      const cpu::LinearWeight cpu_w =
          cpu::PrepareLinearWeight(w.AsMatrix(), s.bias ? bias.data() : nullptr);
      for (int64_t m : {1, 19, 99}) {
        const Tensor x = SmallIntegerTensor(dtype, m, s.k, 9 + m, 3);
        const DeviceMatrix x_dev = UploadTensor(x);
        const DeviceMatrix y_dev = PoisonedDevice(dtype, m, s.n);
        Check(plan->Run(x_dev.view, w_dev.view, s.bias ? bias_dev.view.data : nullptr, y_dev.view,
                        nullptr));
        Tensor y_cpu(dtype, {m, s.n});
        Check(cpu::Linear(x.AsMatrix(), cpu_w, y_cpu.AsMatrix()));
        const Tensor y_gpu = Download(y_dev);
        int64_t differing = 0, first = -1;
        for (int64_t i = 0; i < y_cpu.numel(); ++i) {
          if (y_gpu.GetFloat(i) != y_cpu.GetFloat(i)) {
            if (first < 0) first = i;
            ++differing;
          }
        }
        EXPECT_EQ(differing, 0) << Name(dtype, s) << " M = " << m << ": " << differing
                                << " elements differ on exact integer sums; first at ("
                                << first / s.n << ", " << first % s.n << "): gpu "
                                << y_gpu.GetFloat(first) << " cpu " << y_cpu.GetFloat(first);
      }
    }
  }
}

// Random data: relative norm error against a float64 reference within 2u of the output
// dtype (one rounding of the output, plus fp32 accumulation far below it).
TEST_P(GpuLinearCpuTest, RandomDataWithinTwoUnitRoundoffsOfFloat64) {
  const DType dtype = GetParam();
  for (WeightShape s : {WeightShape{111, 500, true}, WeightShape{896, 4864, false}}) {
    for (LinearMode mode : {LinearMode::kBatchInvariant, LinearMode::kHeuristic}) {
      const LinearShape shape{dtype, s.n, s.k, s.bias};
      const std::unique_ptr<LinearPlan> plan =
          Unwrap(LinearPlan::Create(context_.get(), shape, {.mode = mode}));
      const Tensor w = RandomTensor(dtype, s.n, s.k, 21, 0.05f);
      const Tensor bias = RandomTensor(dtype, 1, s.n, 22, 0.5f);
      const DeviceMatrix w_dev = UploadTensor(w), bias_dev = UploadTensor(bias);
      for (int64_t m : {1, 19, 99}) {
        const Tensor x = RandomTensor(dtype, m, s.k, 23 + m);
        const DeviceMatrix x_dev = UploadTensor(x);
        const DeviceMatrix y_dev = PoisonedDevice(dtype, m, s.n);
        Check(plan->Run(x_dev.view, w_dev.view, s.bias ? bias_dev.view.data : nullptr, y_dev.view,
                        nullptr));
        const std::vector<double> xd = AsDoubles(x), wd = AsDoubles(w), bd = AsDoubles(bias);
        std::vector<double> ref(static_cast<size_t>(m * s.n));
        for (int64_t r = 0; r < m; ++r) {
          for (int64_t c = 0; c < s.n; ++c) {
            double acc = s.bias ? bd[c] : 0.0;
            for (int64_t i = 0; i < s.k; ++i) acc += xd[r * s.k + i] * wd[c * s.k + i];
            ref[r * s.n + c] = acc;
          }
        }
        const double error = RelativeNormError(Download(y_dev), ref);
        EXPECT_LE(error, ErrorBound(dtype))
            << Name(dtype, s) << " M = " << m
            << (mode == LinearMode::kHeuristic ? " heuristic" : " invariant");
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(HalfTypes, GpuLinearCpuTest, ::testing::Values(DType::kF16, DType::kBF16),
                         ::lockstep::testing::DTypeParamName);

// A call captured in a CUDA graph (the plan allocates and synchronises nothing in Run)
// replays the bits of the same call made directly.
TEST_F(GpuLinearTest, GraphCapturedRunReplaysTheSameBits) {
  const WeightShape s{896, 4864, false};
  const std::unique_ptr<LinearPlan> plan =
      Unwrap(LinearPlan::Create(context_.get(), {DType::kBF16, s.n, s.k, false}));
  const DeviceMatrix x = DeviceRandom(DType::kBF16, 19, s.k, 31);
  const DeviceMatrix w = DeviceRandom(DType::kBF16, s.n, s.k, 32);
  const DeviceMatrix direct = PoisonedDevice(DType::kBF16, 19, s.n);
  const DeviceMatrix replayed = PoisonedDevice(DType::kBF16, 19, s.n);
  Check(plan->Run(x.view, w.view, nullptr, direct.view, nullptr));
  cudaStream_t stream = nullptr;
  Check(CudaStatus(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "stream"));
  cudaGraph_t graph = nullptr;
  cudaGraphExec_t exec = nullptr;
  Check(CudaStatus(cudaStreamBeginCapture(stream, cudaStreamCaptureModeGlobal), "begin capture"));
  const absl::Status run = plan->Run(x.view, w.view, nullptr, replayed.view, stream);
  Check(CudaStatus(cudaStreamEndCapture(stream, &graph), "end capture"));
  Check(run);
  Check(CudaStatus(cudaGraphInstantiate(&exec, graph, 0), "instantiate"));
  Check(CudaStatus(cudaGraphLaunch(exec, stream), "graph launch"));
  Check(CudaStatus(cudaStreamSynchronize(stream), "sync"));
  const Tensor a = Download(direct), b = Download(replayed);
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.nbytes()), 0);
  cudaGraphExecDestroy(exec);
  cudaGraphDestroy(graph);
  cudaStreamDestroy(stream);
}

TEST_F(GpuLinearTest, RunRejectsWrongShapesDTypesAndBias) {
  const std::unique_ptr<LinearPlan> plan =
      Unwrap(LinearPlan::Create(context_.get(), {DType::kBF16, 896, 896, true}));
  const DeviceMatrix x = DeviceRandom(DType::kBF16, 3, 896, 1);
  const DeviceMatrix w = DeviceRandom(DType::kBF16, 896, 896, 2);
  const DeviceMatrix bias = DeviceRandom(DType::kBF16, 1, 896, 3);
  const DeviceMatrix y = PoisonedDevice(DType::kBF16, 3, 896);
  const DeviceMatrix y_short = PoisonedDevice(DType::kBF16, 2, 896);
  EXPECT_EQ(plan->Run(x.view, w.view, nullptr, y.view, nullptr).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(plan->Run(x.view, w.view, bias.view.data, y_short.view, nullptr).code(),
            absl::StatusCode::kInvalidArgument);
  MatrixView y_f16 = y.view;
  y_f16.dtype = DType::kF16;
  EXPECT_EQ(plan->Run(x.view, w.view, bias.view.data, y_f16, nullptr).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(plan->Run(x.view, w.view, bias.view.data, y.view, nullptr).ok());
  EXPECT_EQ(LinearPlan::Create(context_.get(), {DType::kF32, 8, 8, false}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// Host-only: which bucket (and so which configuration) each M runs with.
TEST(LinearBucketsTest, RowsMapToPowerOfTwoBuckets) {
  EXPECT_EQ(BucketOfRows(1), 0);
  EXPECT_EQ(BucketOfRows(2), 1);
  EXPECT_EQ(BucketOfRows(3), 2);
  EXPECT_EQ(BucketOfRows(4), 2);
  EXPECT_EQ(BucketOfRows(5), 3);
  EXPECT_EQ(BucketOfRows(989), 10);
  EXPECT_EQ(BucketOfRows(4096), 12);
  EXPECT_EQ(BucketOfRows(100000), 12);
  for (int b = 0; b < kLinearBuckets; ++b) EXPECT_EQ(BucketOfRows(BucketUpperRows(b)), b);
}

}  // namespace
}  // namespace lockstep::cuda
