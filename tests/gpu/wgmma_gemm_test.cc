// The K-sliced chain order (numerics/cuda/k_sliced_order.h) on the Hopper wgmma kernel
// (wgmma_gemm.h): for 1, 2 and 4 slices, every compiled tiling (one CTA or a cluster of two
// per tile) gives the small-M mma.sync kernel's bits at every M, writes only the M rows,
// sums small integers exactly, and one slice gives cuBLASLt's split-K-1 bits where that was
// measured; the tile reaches an output with odd row strides through 4-byte stores unchanged;
// slice counts change the bits (so the comparisons can fail); bad calls are
// refused. Without an sm_90 GPU every test skips, or fails when LOCKSTEP_REQUIRE_GPU is set.
#include "numerics/cuda/wgmma_gemm.h"

#include <cuda_runtime_api.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "numerics/cuda/counter_hash.h"
#include "numerics/cuda/cuda_status.h"
#include "numerics/cuda/device_buffer.h"
#include "numerics/cuda/device_rows.h"
#include "numerics/cuda/kernel_launch.h"
#include "numerics/cuda/linear.h"
#include "numerics/cuda/small_m_gemm.h"
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
using internal::WgmmaGemmConfig;

constexpr int64_t kN = 1536, kK = 8960;  // Qwen2.5-1.5B down_proj
constexpr int64_t kMaxRows = 1100;
constexpr int64_t kSpareRows = 3;  // poisoned rows after the output, never to be written

std::string Name(WgmmaGemmConfig c) {
  return std::to_string(c.block_m) + "x" + std::to_string(c.block_n) + " stages " +
         std::to_string(c.stages) + " CTAs/tile " + std::to_string(c.slice_groups);
}

class WgmmaGemmTest : public GpuTest, public ::testing::WithParamInterface<DType> {
 protected:
  void SetUp() override {
    GpuTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    int device = 0, major = 0;
    Check(CudaStatus(cudaGetDevice(&device), "cudaGetDevice"));
    Check(CudaStatus(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device),
                     "attribute"));
    if (major != 9) GTEST_SKIP() << "the wgmma kernel needs an sm_90 GPU";
    workspace_ = Unwrap(DeviceBuffer::Allocate(WorkspaceBytes()));
  }
  static size_t WorkspaceBytes() { return (kMaxRows + 256) * kN * sizeof(float); }

  cudaError_t Wgmma(const ConstMatrixView& x, const DeviceMatrix& w, MatrixView y, int k_slices,
                    WgmmaGemmConfig config, size_t workspace_bytes = WorkspaceBytes()) {
    return internal::LaunchWgmmaGemm(internal::ToDeviceRows(x),
                                     internal::ToDeviceRows(ConstMatrixView(w.view)),
                                     internal::ToDeviceRows(y), k_slices, config,
                                     workspace_.data(), workspace_bytes, nullptr);
  }
  void SmallM(const ConstMatrixView& x, const DeviceMatrix& w, MatrixView y, int k_slices) {
    Check(CudaStatus(internal::LaunchSmallMGemm(
                         internal::ToDeviceRows(x), internal::ToDeviceRows(ConstMatrixView(w.view)),
                         internal::ToDeviceRows(y), internal::SmallMDefaultConfig(16),
                         internal::SmallMOrder::kChain, k_slices, nullptr),
                     "LaunchSmallMGemm"));
  }
  DeviceBuffer workspace_;
};

TEST_P(WgmmaGemmTest, EveryTilingGivesTheSmallMKernelsBitsForEverySliceCount) {
  const DType dtype = GetParam();
  const DeviceMatrix x = DeviceRandom(dtype, kMaxRows, kK, 51);
  const DeviceMatrix w = DeviceRandom(dtype, kN, kK, 52);
  for (int slices : {1, 2, 4}) {
    for (int64_t rows : {int64_t{1}, int64_t{5}, int64_t{130}, kMaxRows}) {
      const DeviceMatrix reference = PoisonedDevice(dtype, rows, kN);
      SmallM(x.Rows(0, rows), w, reference.view, slices);
      const std::vector<uint16_t> expected = DeviceBits16(reference.view);
      for (int c = 0; c < internal::WgmmaGemmConfigCount(); ++c) {
        const WgmmaGemmConfig config = internal::WgmmaGemmConfigAt(c);
        if (kN % config.block_n != 0 || (config.slice_groups > 1 && slices % 2 != 0)) continue;
        const DeviceMatrix y = PoisonedDevice(dtype, rows + kSpareRows, kN);
        const MatrixView y_rows{dtype, y.view.data, rows, kN, kN, Device::kCuda};
        ASSERT_EQ(Wgmma(x.Rows(0, rows), w, y_rows, slices, config), cudaSuccess) << Name(config);
        const std::vector<uint16_t> all = DeviceBits16(y.view);
        EXPECT_EQ(CountDifferingBits16(expected, all, rows * kN), 0)
            << Name(config) << ", " << slices << " slices, M = " << rows;
        for (int64_t i = rows * kN; i < (rows + kSpareRows) * kN; ++i) {
          ASSERT_EQ(all[i], 0xFFFF) << Name(config) << " wrote past row " << rows;
        }
      }
    }
  }
}

// The comparisons above can fail: other slice counts are other summation orders.
TEST_P(WgmmaGemmTest, SliceCountsGiveDifferentBits) {
  const DType dtype = GetParam();
  constexpr int64_t kRows = 256;
  const DeviceMatrix x = DeviceRandom(dtype, kRows, kK, 61);
  const DeviceMatrix w = DeviceRandom(dtype, kN, kK, 62);
  std::vector<std::vector<uint16_t>> outputs;
  for (int slices : {1, 2, 4}) {
    const DeviceMatrix y = PoisonedDevice(dtype, kRows, kN);
    ASSERT_EQ(Wgmma(x.Rows(0, kRows), w, y.view, slices, {128, 128, 6, 1}), cudaSuccess);
    outputs.push_back(DeviceBits16(y.view));
  }
  EXPECT_GT(CountDifferingBits16(outputs[0], outputs[1], kRows * kN), 0);
  EXPECT_GT(CountDifferingBits16(outputs[1], outputs[2], kRows * kN), 0);
  EXPECT_GT(CountDifferingBits16(outputs[0], outputs[2], kRows * kN), 0);
}

// Equal bits to each other are not enough: on small integers every partial sum is exact,
// so every tiling must give the exact dot product.
TEST_P(WgmmaGemmTest, SmallIntegersSumExactly) {
  const DType dtype = GetParam();
  constexpr int64_t kRows = 200;
  constexpr int kRange = 3;  // |x|, |w| <= 3: |sum| <= 9 * 8960, exact in fp32, rounded once
  constexpr uint64_t kSeedX = 71, kSeedW = 72;
  DeviceMatrix x = PoisonedDevice(dtype, kRows, kK);
  DeviceMatrix w = PoisonedDevice(dtype, kN, kK);
  const auto type = internal::ToStorageType(dtype);
  Check(CudaStatus(internal::LaunchFillSmallIntegers(type, x.buffer.data(), kRows * kK, kSeedX,
                                                     kRange, nullptr),
                   "fill x"));
  Check(CudaStatus(internal::LaunchFillSmallIntegers(type, w.buffer.data(), kN * kK, kSeedW,
                                                     kRange, nullptr),
                   "fill w"));
  for (int c = 0; c < internal::WgmmaGemmConfigCount(); ++c) {
    const WgmmaGemmConfig config = internal::WgmmaGemmConfigAt(c);
    if (kN % config.block_n != 0) continue;
    const DeviceMatrix y = PoisonedDevice(dtype, kRows, kN);
    ASSERT_EQ(Wgmma(x.Rows(0, kRows), w, y.view, 4, config), cudaSuccess) << Name(config);
    const std::vector<uint16_t> bits = DeviceBits16(y.view);
    for (int s = 0; s < 40; ++s) {
      const int64_t r = (s * 37) % kRows, f = (s * 7919) % kN;
      int64_t exact = 0;
      for (int64_t k = 0; k < kK; ++k) {
        exact += int64_t{internal::SmallIntegerAt(kSeedX, r * kK + k, kRange)} *
                 internal::SmallIntegerAt(kSeedW, f * kK + k, kRange);
      }
      const float expected = static_cast<float>(exact);
      const uint16_t want =
          dtype == DType::kBF16 ? FloatToBf16Bits(expected) : FloatToHalfBits(expected);
      EXPECT_EQ(bits[r * kN + f], want) << Name(config) << " row " << r << " feature " << f
                                        << " exact " << exact;
    }
  }
}

// The tile leaves through shared memory in 16-byte stores when the output allows them; an
// output 4-byte aligned with a row stride that is not a multiple of 8 takes 4-byte stores of
// the same staged values: the same bits, and nothing written between the rows.
TEST_P(WgmmaGemmTest, NarrowOutputRowsGetTheSameBits) {
  const DType dtype = GetParam();
  constexpr int64_t kRows = 130;
  constexpr int64_t kOffset = 2, kStride = kN + 4;  // 4 bytes in; stride % 8 == 4
  const DeviceMatrix x = DeviceRandom(dtype, kRows, kK, 95);
  const DeviceMatrix w = DeviceRandom(dtype, kN, kK, 96);
  for (const WgmmaGemmConfig config :
       {WgmmaGemmConfig{128, 192, 4, 2}, WgmmaGemmConfig{128, 128, 6, 1},
        WgmmaGemmConfig{64, 96, 8, 1}}) {
    const DeviceMatrix wide = PoisonedDevice(dtype, kRows, kN);
    ASSERT_EQ(Wgmma(x.Rows(0, kRows), w, wide.view, 4, config), cudaSuccess) << Name(config);
    const DeviceMatrix padded = PoisonedDevice(dtype, kRows, kStride);
    const MatrixView narrow{dtype, static_cast<uint16_t*>(padded.view.data) + kOffset, kRows, kN,
                            kStride, Device::kCuda};
    ASSERT_EQ(Wgmma(x.Rows(0, kRows), w, narrow, 4, config), cudaSuccess) << Name(config);
    const std::vector<uint16_t> expected = DeviceBits16(wide.view);
    const std::vector<uint16_t> all = DeviceBits16(padded.view);
    int64_t differing = 0, stray = 0;
    for (int64_t r = 0; r < kRows; ++r) {
      for (int64_t c = 0; c < kStride; ++c) {
        const uint16_t got = all[r * kStride + c];
        if (c >= kOffset && c < kOffset + kN) {
          differing += got != expected[r * kN + c - kOffset];
        } else {
          stray += got != 0xFFFF;
        }
      }
    }
    EXPECT_EQ(differing, 0) << Name(config);
    EXPECT_EQ(stray, 0) << Name(config) << " wrote outside the output's columns";
  }
}

// One slice is the plain chain, which on the H200 with cuBLASLt 13.1 is what cuBLASLt's
// split-K-1 kernels compute (bench/RESULTS.md); elsewhere that was not measured.
TEST_P(WgmmaGemmTest, OneSliceEqualsSplitK1CublasLtWhereMeasured) {
  auto context = Unwrap(LinearContext::Create());
  if (context->gpu_name() != "NVIDIA H200" || context->cublaslt_version() / 100 != 1301) {
    GTEST_SKIP() << "measured on an H200 with cuBLASLt 13.1 only";
  }
  const DType dtype = GetParam();
  const auto cublaslt = Unwrap(LinearPlan::Create(context.get(), LinearShape{dtype, kN, kK, false},
                                                  {.split_k = 1, .small_m_max_rows = 0}));
  const DeviceMatrix x = DeviceRandom(dtype, 600, kK, 81);
  const DeviceMatrix w = DeviceRandom(dtype, kN, kK, 82);
  for (int64_t rows : {7, 600}) {
    const DeviceMatrix y_ref = PoisonedDevice(dtype, rows, kN);
    const DeviceMatrix y = PoisonedDevice(dtype, rows, kN);
    Check(cublaslt->Run(x.Rows(0, rows), w.view, nullptr, y_ref.view, nullptr));
    ASSERT_EQ(Wgmma(x.Rows(0, rows), w, y.view, 1, {128, 192, 4, 1}), cudaSuccess);
    EXPECT_EQ(CountDifferingBits16(DeviceBits16(y_ref.view), DeviceBits16(y.view), rows * kN), 0)
        << "M = " << rows;
  }
}

TEST_P(WgmmaGemmTest, RefusesWhatItCannotRun) {
  const DType dtype = GetParam();
  const DeviceMatrix x = DeviceRandom(dtype, 64, kK, 91);
  const DeviceMatrix w = DeviceRandom(dtype, kN, kK, 92);
  const DeviceMatrix y = PoisonedDevice(dtype, 64, kN);
  // 8960 is not a multiple of 3 x 64: no 3 slices.
  EXPECT_EQ(Wgmma(x.Rows(0, 64), w, y.view, 3, {128, 128, 6, 1}), cudaErrorInvalidValue);
  // Two CTAs per tile split the slices in halves: not with one slice, nor without workspace.
  EXPECT_EQ(Wgmma(x.Rows(0, 64), w, y.view, 1, {128, 192, 4, 2}), cudaErrorInvalidValue);
  EXPECT_EQ(Wgmma(x.Rows(0, 64), w, y.view, 4, {128, 192, 4, 2}, 1024), cudaErrorInvalidValue);
  // A tiling that was not compiled, and a width the tile does not divide.
  EXPECT_EQ(Wgmma(x.Rows(0, 64), w, y.view, 4, {128, 128, 7, 1}), cudaErrorInvalidValue);
  const DeviceMatrix w_narrow = DeviceRandom(dtype, 896, kK, 93);
  const DeviceMatrix y_narrow = PoisonedDevice(dtype, 64, 896);
  EXPECT_EQ(Wgmma(x.Rows(0, 64), w_narrow, y_narrow.view, 4, {128, 192, 4, 1}),
            cudaErrorInvalidValue);
  EXPECT_FALSE(internal::WgmmaGemmSupports(internal::StorageType::kF32, kN, kK, 4));
  const std::vector<uint16_t> untouched = DeviceBits16(y.view);
  for (uint16_t b : untouched) ASSERT_EQ(b, 0xFFFF) << "a refused call wrote";
}

// Host only: every default tiling is one that was compiled and divides N (a default that
// is not compiled makes every call of its bucket fail), and the workspace is one float per
// padded output exactly when a tile is split over two CTAs.
TEST(WgmmaGemmConfigTest, DefaultTilingsAreCompiledAndFitTheirShapes) {
  for (int64_t n : {int64_t{896}, int64_t{1536}, int64_t{3584}, int64_t{4864}}) {
    for (int64_t rows = 1; rows <= 8192; rows *= 2) {
      const WgmmaGemmConfig d = internal::WgmmaGemmDefaultConfig(rows, n);
      bool compiled = false;
      for (int c = 0; c < internal::WgmmaGemmConfigCount(); ++c) {
        const WgmmaGemmConfig k = internal::WgmmaGemmConfigAt(c);
        compiled = compiled || (k.block_m == d.block_m && k.block_n == d.block_n &&
                                k.stages == d.stages && k.slice_groups == d.slice_groups);
      }
      EXPECT_TRUE(compiled) << "N " << n << " M " << rows << ": " << Name(d);
      EXPECT_EQ(n % d.block_n, 0) << "N " << n << " M " << rows << ": " << Name(d);
      const size_t padded_rows = (rows + d.block_m - 1) / d.block_m * d.block_m;
      EXPECT_EQ(internal::WgmmaGemmWorkspaceBytes(rows, n, d),
                d.slice_groups > 1 ? padded_rows * n * sizeof(float) : 0u)
          << "N " << n << " M " << rows;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(HalfTypes, WgmmaGemmTest, ::testing::Values(DType::kF16, DType::kBF16),
                         [](const ::testing::TestParamInfo<DType>& info) {
                           return std::string(DTypeName(info.param));
                         });

}  // namespace
}  // namespace lockstep::cuda
