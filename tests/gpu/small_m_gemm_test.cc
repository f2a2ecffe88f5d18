// The small-M fixed-order mma.sync GEMM (numerics/cuda/small_m_gemm.h) and its use inside
// LinearPlan: equal bits to the split-K-1 cuBLASLt plan (on the GPU/cuBLASLt where that was
// measured, i.e. where the shipped 0.5B o_proj plan uses the kernel), a negative control in
// another summation order that must differ, every tiling giving the same bits with nothing
// written past M, and plans mixing the kernel and cuBLASLt, invariant across the switch.
// Without a GPU every test skips, or fails when LOCKSTEP_REQUIRE_GPU is set.
#include "numerics/cuda/small_m_gemm.h"

#include <cuda_runtime_api.h>

#include <cstdint>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "numerics/cuda/cuda_status.h"
#include "numerics/cuda/device_buffer.h"
#include "numerics/cuda/device_rows.h"
#include "numerics/cuda/kernel_launch.h"
#include "numerics/cuda/linear.h"
#include "numerics/dtype.h"
#include "numerics/tensor.h"
#include "tests/gpu/gpu_test_util.h"

namespace lockstep::cuda {
namespace {

using gpu_testing::Check;
using gpu_testing::CountDifferingBits16;
using gpu_testing::DeviceBits16;
using gpu_testing::DeviceMatrix;
using gpu_testing::DeviceRandom;
using gpu_testing::GpuTest;
using gpu_testing::PoisonedDevice;
using gpu_testing::Sync;
using gpu_testing::Unwrap;
using internal::SmallMConfig;
using internal::SmallMOrder;

constexpr int64_t kDownN = 1536, kDownK = 8960;  // Qwen2.5-1.5B down_proj
constexpr int64_t kOProj = 896;                   // Qwen2.5-0.5B o_proj: 896 x 896

void LaunchKernel(const DeviceMatrix& x, int64_t rows, const DeviceMatrix& w, MatrixView y,
                  SmallMConfig config, SmallMOrder order) {
  const ConstMatrixView xv = x.Rows(0, rows);
  Check(CudaStatus(internal::LaunchSmallMGemm(internal::ToDeviceRows(xv),
                                              internal::ToDeviceRows(ConstMatrixView(w.view)),
                                              internal::ToDeviceRows(y), config, order, 1, nullptr),
                   "LaunchSmallMGemm"));
}

class SmallMGemmTest : public GpuTest, public ::testing::WithParamInterface<DType> {
 protected:
  void SetUp() override {
    GpuTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    context_ = Unwrap(LinearContext::Create());
  }
  // The 0.5B o_proj plan as shipped; it uses the kernel only on the GPU/cuBLASLt where
  // the kernel's bits were measured equal to cuBLASLt's.
  bool ShippedPlanUsesKernel() {
    const auto plan =
        Unwrap(LinearPlan::Create(context_.get(), LinearShape{GetParam(), kOProj, kOProj, false}));
    return plan->UsesSmallMKernel(1);
  }
  std::unique_ptr<LinearContext> context_;
};

TEST_P(SmallMGemmTest, ChainEqualsSplitK1CublasLtBitwise) {
  if (!ShippedPlanUsesKernel()) {
    GTEST_SKIP() << "this GPU/cuBLASLt is not the one the equality was measured on";
  }
  const DType dtype = GetParam();
  for (const auto& [n, k] : {std::pair<int64_t, int64_t>{kDownN, kDownK}, {kOProj, kOProj}}) {
    const auto cublaslt = Unwrap(LinearPlan::Create(
        context_.get(), LinearShape{dtype, n, k, false}, {.split_k = 1, .small_m_max_rows = 0}));
    ASSERT_EQ(cublaslt->split_k(), 1);
    const DeviceMatrix x = DeviceRandom(dtype, 128, k, 11);
    const DeviceMatrix w = DeviceRandom(dtype, n, k, 12);
    for (int64_t rows : {1, 3, 8, 16, 37, 64, 128}) {
      const DeviceMatrix y_ref = PoisonedDevice(dtype, rows, n);
      const DeviceMatrix y = PoisonedDevice(dtype, rows, n);
      Check(cublaslt->Run(x.Rows(0, rows), w.view, nullptr, y_ref.view, nullptr));
      LaunchKernel(x, rows, w, y.view, internal::SmallMDefaultConfig(rows), SmallMOrder::kChain);
      EXPECT_EQ(CountDifferingBits16(DeviceBits16(y_ref.view), DeviceBits16(y.view)), 0)
          << "(" << n << ", " << k << ") M = " << rows;
    }
  }
}

// The comparison above can fail: the same sums in another order (even and odd k16 steps
// in two accumulators) give other bits for some elements.
TEST_P(SmallMGemmTest, EvenOddControlDiffersFromTheChain) {
  const DType dtype = GetParam();
  const DeviceMatrix x = DeviceRandom(dtype, 16, kDownK, 21);
  const DeviceMatrix w = DeviceRandom(dtype, kDownN, kDownK, 22);
  const DeviceMatrix chain = PoisonedDevice(dtype, 16, kDownN);
  const DeviceMatrix control = PoisonedDevice(dtype, 16, kDownN);
  LaunchKernel(x, 16, w, chain.view, internal::SmallMConfigAt(0), SmallMOrder::kChain);
  LaunchKernel(x, 16, w, control.view, internal::SmallMConfigAt(0),
               SmallMOrder::kEvenOddControl);
  EXPECT_GT(CountDifferingBits16(DeviceBits16(chain.view), DeviceBits16(control.view)), 0);
}

// Tilings move data, never arithmetic; rows past M (37, not a multiple of 8) stay poisoned.
TEST_P(SmallMGemmTest, EveryTilingGivesTheSameBitsAndWritesOnlyMRows) {
  const DType dtype = GetParam();
  constexpr int64_t kN = 896, kK = 4864, kRows = 37, kSpare = 11;
  const DeviceMatrix x = DeviceRandom(dtype, kRows, kK, 31);
  const DeviceMatrix w = DeviceRandom(dtype, kN, kK, 32);
  std::vector<uint16_t> first;
  for (int c = 0; c < internal::SmallMConfigCount(); ++c) {
    const SmallMConfig config = internal::SmallMConfigAt(c);
    const DeviceMatrix y = PoisonedDevice(dtype, kRows + kSpare, kN);
    const MatrixView y_rows{dtype, y.view.data, kRows, kN, kN, Device::kCuda};
    LaunchKernel(x, kRows, w, y_rows, config, SmallMOrder::kChain);
    std::vector<uint16_t> all = DeviceBits16(y.view);
    for (int64_t i = kRows * kN; i < (kRows + kSpare) * kN; ++i) {
      ASSERT_EQ(all[i], 0xFFFF) << "config " << c << " wrote past row " << kRows;
    }
    all.resize(kRows * kN);
    for (int64_t i = 0; i < kRows * kN; ++i) {
      ASSERT_NE(all[i], 0xFFFF) << "config " << c << " left element " << i << " unwritten";
    }
    if (c == 0) {
      first = all;
    } else {
      EXPECT_EQ(CountDifferingBits16(first, all), 0) << "config " << c;
    }
  }
}

// Plans with the kernel for M <= 128 and cuBLASLt above (the shipped o_proj plan, and 1.5B
// down forced to it): the self-check passed with the kernel in, and rows alone (kernel)
// equal the same rows in batches on either side of the switch.
TEST_P(SmallMGemmTest, PlanIsInvariantAcrossTheKernelSwitch) {
  if (!ShippedPlanUsesKernel()) {
    GTEST_SKIP() << "this GPU/cuBLASLt is not the one the equality was measured on";
  }
  const DType dtype = GetParam();
  struct Case {
    int64_t n, k, small_m_max_rows;
  };
  for (const Case c : {Case{kOProj, kOProj, -1}, Case{kDownN, kDownK, 128}}) {
    const auto plan = Unwrap(LinearPlan::Create(context_.get(), LinearShape{dtype, c.n, c.k, false},
                                                {.small_m_max_rows = c.small_m_max_rows}));
    std::cout << plan->self_check_note() << "\n" << plan->Describe();
    ASSERT_NE(plan->self_check_note().find("passed"), std::string::npos);
    ASSERT_EQ(plan->self_check_note().find("DROPPED"), std::string::npos);
    ASSERT_TRUE(plan->UsesSmallMKernel(1));
    ASSERT_TRUE(plan->UsesSmallMKernel(128));
    ASSERT_FALSE(plan->UsesSmallMKernel(129));
    constexpr int64_t kOffset = 5;
    const DeviceMatrix x = DeviceRandom(dtype, 600 + kOffset, c.k, 41);
    const DeviceMatrix w = DeviceRandom(dtype, c.n, c.k, 42);
    const DeviceMatrix y_alone = PoisonedDevice(dtype, 1, c.n);
    for (int64_t batch : {2, 37, 128, 129, 600}) {
      const DeviceMatrix y = PoisonedDevice(dtype, batch, c.n);
      Check(plan->Run(x.Rows(kOffset, batch), w.view, nullptr, y.view, nullptr));
      const std::vector<uint16_t> batch_bits = DeviceBits16(y.view);
      for (int64_t r : {int64_t{0}, batch / 2, batch - 1}) {
        Check(plan->Run(x.Rows(kOffset + r, 1), w.view, nullptr, y_alone.view, nullptr));
        const std::vector<uint16_t> alone = DeviceBits16(y_alone.view);
        const std::vector<uint16_t> row(batch_bits.begin() + r * c.n,
                                        batch_bits.begin() + (r + 1) * c.n);
        EXPECT_EQ(CountDifferingBits16(alone, row), 0)
            << "(" << c.n << ", " << c.k << ") batch " << batch << " row " << r;
      }
    }
  }
}

// Shapes the kernel cannot take keep cuBLASLt in every bucket, whatever is asked.
TEST_P(SmallMGemmTest, UnsupportedShapesStayOnCublasLt) {
  const DType dtype = GetParam();
  for (LinearShape shape : {LinearShape{dtype, 896, 904, false},    // K % 64 != 0
                            LinearShape{dtype, 904, 896, false},    // N % 16 != 0
                            LinearShape{dtype, 896, 896, true}}) {  // bias
    const auto plan =
        Unwrap(LinearPlan::Create(context_.get(), shape, {.small_m_max_rows = 4096}));
    EXPECT_FALSE(plan->UsesSmallMKernel(1)) << plan->Describe();
  }
  EXPECT_FALSE(internal::SmallMGemmSupports(internal::StorageType::kF32, 1536, 8960));
}

INSTANTIATE_TEST_SUITE_P(HalfTypes, SmallMGemmTest, ::testing::Values(DType::kF16, DType::kBF16),
                         [](const ::testing::TestParamInfo<DType>& info) {
                           return std::string(DTypeName(info.param));
                         });

}  // namespace
}  // namespace lockstep::cuda
