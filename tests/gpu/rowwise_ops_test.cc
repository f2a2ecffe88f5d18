// CUDA row-wise ops and dtype conversions against the CPU backend, bit for bit
// (memcmp), for fp16, bf16 and fp32, on odd shapes; batch invariance with ==;
// every fp16/bf16 bit pattern widened and every fp32 bit pattern narrowed.
// Without a GPU every test skips with a message, or fails when
// LOCKSTEP_REQUIRE_GPU is set (scripts/gpu-check.sh sets it).
#include "numerics/cuda/rowwise_ops.h"

#include <cuda_runtime_api.h>

#include <algorithm>
#include <bit>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <iostream>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "numerics/cpu/elementwise.h"
#include "numerics/cpu/rmsnorm.h"
#include "numerics/cpu/rope.h"
#include "numerics/cuda/convert.h"
#include "numerics/cuda/cuda_status.h"
#include "numerics/cuda/device_buffer.h"
#include "numerics/cuda/device_info.h"
#include "numerics/dtype.h"
#include "numerics/tensor.h"
#include "tests/gpu/gpu_test_util.h"
#include "tests/numerics/test_util.h"

namespace lockstep::cuda {
namespace {

using gpu_testing::Check;
using gpu_testing::DeviceMatrix;
using gpu_testing::GpuTest;
using gpu_testing::PoisonedDevice;
using gpu_testing::Sync;
using gpu_testing::Unwrap;
using gpu_testing::UploadVector;
using ::lockstep::testing::ExpectRowWiseBatchInvariant;
using ::lockstep::testing::PoisonedTensor;
using ::lockstep::testing::RandomTensor;
using ::lockstep::testing::RowBitsEqual;

// Ops run for fp16, bf16 and fp32; conversions for the two 16-bit types.
class GpuDTypeTest : public GpuTest, public ::testing::WithParamInterface<DType> {};
class GpuHalfTypeTest : public GpuTest, public ::testing::WithParamInterface<DType> {};

// Copies a (possibly strided) host view into a dense device matrix.
DeviceMatrix Upload(ConstMatrixView host) {
  Tensor dense(host.dtype, {host.rows, host.cols});
  const size_t row_bytes = host.cols * DTypeSize(host.dtype);
  for (int64_t r = 0; r < host.rows; ++r) {
    std::memcpy(dense.AsMatrix().RowPtr(r), host.RowPtr(r), row_bytes);
  }
  DeviceMatrix out;
  out.buffer = Unwrap(DeviceBuffer::FromTensor(dense));
  out.view = MatrixView{host.dtype, out.buffer.data(), host.rows, host.cols, host.cols};
  return out;
}

// Waits for the device and copies a dense device view back to a host tensor.
Tensor Download(MatrixView device) {
  Sync();
  EXPECT_EQ(device.row_stride, device.cols) << "Download takes dense views";
  Tensor host(device.dtype, {device.rows, device.cols});
  Check(CudaStatus(cudaMemcpy(host.data(), device.data, host.nbytes(), cudaMemcpyDeviceToHost),
                   "cudaMemcpy device->host"));
  return host;
}

int32_t ReadInt32(const DeviceBuffer& buffer) {
  Sync();
  int32_t value = 0;
  Check(buffer.CopyToHost(&value, sizeof(value)));
  return value;
}

// memcmp of two tensors; on a mismatch, reports how many elements differ and the first one.
void ExpectBitwiseEqual(const Tensor& gpu, const Tensor& cpu, const std::string& what) {
  ASSERT_EQ(gpu.dtype(), cpu.dtype()) << what;
  ASSERT_EQ(gpu.shape(), cpu.shape()) << what;
  if (std::memcmp(gpu.data(), cpu.data(), gpu.nbytes()) == 0) return;
  const size_t size = DTypeSize(gpu.dtype());
  const auto* g = static_cast<const unsigned char*>(gpu.data());
  const auto* c = static_cast<const unsigned char*>(cpu.data());
  int64_t differing = 0, first = -1;
  for (int64_t i = 0; i < gpu.numel(); ++i) {
    if (std::memcmp(g + i * size, c + i * size, size) != 0) {
      if (first < 0) first = i;
      ++differing;
    }
  }
  ADD_FAILURE() << what << ": " << differing << " of " << gpu.numel()
                << " elements differ from the CPU backend; first at flat index " << first
                << ": gpu " << gpu.GetFloat(first) << " vs cpu " << cpu.GetFloat(first);
}

std::string Describe(DType dtype, int64_t rows, int64_t cols) {
  return std::string(DTypeName(dtype)) + " (" + std::to_string(rows) + ", " + std::to_string(cols) +
         ")";
}

TEST_F(GpuTest, ReportsDevice) {
  const DeviceInfo info = Unwrap(CurrentDevice());
  std::cout << "[ device   ] " << DescribeDevice(info) << "\n";
  // The kernels are built for sm_90a only (numerics/CMakeLists.txt).
  EXPECT_EQ(info.compute_major * 10 + info.compute_minor, 90)
      << "lockstep's CUDA kernels are built for sm_90a (H100/H200); this GPU is "
      << DescribeDevice(info);
}

// ---- Conversions

// Every one of the 65,536 fp16 / bf16 bit patterns widened on the GPU equals
// HalfBitsToFloat / Bf16BitsToFloat. NaN patterns must stay NaN; their payloads
// are counted separately (arithmetic on the GPU returns the canonical NaN anyway).
TEST_P(GpuHalfTypeTest, WideningMatchesCpuForEveryPattern) {
  const DType dtype = GetParam();
  std::vector<uint16_t> patterns(65536);
  for (int i = 0; i < 65536; ++i) patterns[i] = static_cast<uint16_t>(i);
  const DeviceBuffer in = UploadVector(patterns);
  DeviceBuffer out = Unwrap(DeviceBuffer::Allocate(65536 * sizeof(float)));
  Check(ConvertToFloat(in.data(), dtype, out.as<float>(), 65536, nullptr));
  Sync();
  std::vector<uint32_t> gpu(65536);
  Check(out.CopyToHost(gpu.data(), 65536 * sizeof(float)));
  int64_t value_mismatches = 0, nan_payload_mismatches = 0, nan_patterns = 0;
  for (int i = 0; i < 65536; ++i) {
    const float cpu = LoadAsFloat(&patterns[i], dtype, 0);
    const uint32_t cpu_bits = std::bit_cast<uint32_t>(cpu);
    if (std::isnan(cpu)) {
      ++nan_patterns;
      const float g = std::bit_cast<float>(gpu[i]);
      if (!std::isnan(g))
        ++value_mismatches;
      else if (gpu[i] != cpu_bits)
        ++nan_payload_mismatches;
    } else if (gpu[i] != cpu_bits) {
      if (value_mismatches < 5) {
        ADD_FAILURE() << DTypeName(dtype) << " pattern 0x" << std::hex << i << ": gpu 0x" << gpu[i]
                      << " cpu 0x" << cpu_bits << std::dec;
      }
      ++value_mismatches;
    }
  }
  std::cout << "[ widen    ] " << DTypeName(dtype) << ": 65536 patterns, " << value_mismatches
            << " value mismatches, " << nan_payload_mismatches << " of " << nan_patterns
            << " NaN patterns with a different payload\n";
  EXPECT_EQ(value_mismatches, 0);
}

// Every one of the 2^32 fp32 bit patterns narrowed on the GPU (cvt.rn) equals
// FloatToHalfBits / FloatToBf16Bits, NaN included (both give 0x7FFF).
TEST_P(GpuHalfTypeTest, NarrowingMatchesCpuForEveryFloat) {
  const DType dtype = GetParam();
  constexpr int64_t kChunk = int64_t{1} << 26;
  const unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  DeviceBuffer in = Unwrap(DeviceBuffer::Allocate(kChunk * sizeof(float)));
  DeviceBuffer out = Unwrap(DeviceBuffer::Allocate(kChunk * sizeof(uint16_t)));
  std::vector<uint32_t> patterns(kChunk);
  std::vector<uint16_t> gpu(kChunk);
  // Per thread: mismatches on non-NaN inputs (with the first one), and on NaN inputs.
  std::vector<int64_t> value_mismatches(threads, 0), nan_mismatches(threads, 0);
  std::vector<uint32_t> first_value_mismatch(threads, 0);
  const auto cpu_bits = [dtype](float f) {
    return dtype == DType::kF16 ? FloatToHalfBits(f) : FloatToBf16Bits(f);
  };
  const auto parallel = [&](const std::function<void(unsigned, int64_t, int64_t)>& body) {
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < threads; ++t) {
      pool.emplace_back(body, t, kChunk * t / threads, kChunk * (t + 1) / threads);
    }
    for (std::thread& th : pool) th.join();
  };
  for (int64_t start = 0; start < (int64_t{1} << 32); start += kChunk) {
    parallel([&](unsigned, int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) patterns[i] = static_cast<uint32_t>(start + i);
    });
    Check(in.CopyFromHost(patterns.data(), kChunk * sizeof(float)));
    Check(out.Fill(0xA5));  // an unwritten element reads 0xA5A5: right for one input in 2^16
    Check(ConvertFromFloat(in.as<float>(), dtype, out.data(), kChunk, nullptr));
    Sync();
    Check(out.CopyToHost(gpu.data(), kChunk * sizeof(uint16_t)));
    parallel([&](unsigned t, int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        const float f = std::bit_cast<float>(patterns[i]);
        if (gpu[i] == cpu_bits(f)) continue;
        if (std::isnan(f)) {
          ++nan_mismatches[t];
        } else if (value_mismatches[t]++ == 0) {
          first_value_mismatch[t] = patterns[i];
        }
      }
    });
  }
  int64_t values = 0, nans = 0;
  for (unsigned t = 0; t < threads; ++t) {
    values += value_mismatches[t];
    nans += nan_mismatches[t];
    if (value_mismatches[t] > 0) {
      const float f = std::bit_cast<float>(first_value_mismatch[t]);
      ADD_FAILURE() << DTypeName(dtype) << " narrowing of 0x" << std::hex << first_value_mismatch[t]
                    << " (" << f << ") differs; cpu gives 0x" << cpu_bits(f) << std::dec;
    }
  }
  std::cout << "[ narrow   ] " << DTypeName(dtype) << ": all 2^32 fp32 patterns, " << values
            << " non-NaN mismatches, " << nans << " NaN mismatches\n";
  EXPECT_EQ(values, 0);
  EXPECT_EQ(nans, 0) << "the GPU does not narrow every NaN to 0x7FFF";
}

// ---- RMSNorm

Tensor CpuRmsNorm(ConstMatrixView x, const Tensor& w, float eps, DType out_dtype) {
  Tensor out = PoisonedTensor(out_dtype, x.rows, x.cols);
  Check(cpu::RmsNorm(x, w.AsMatrix(), eps, out.AsMatrix()));
  return out;
}

Tensor GpuRmsNorm(ConstMatrixView x, const Tensor& w, float eps, DType out_dtype) {
  const DeviceMatrix dx = Upload(x);
  const DeviceMatrix dw = Upload(w.AsMatrix());
  DeviceMatrix out = PoisonedDevice(out_dtype, x.rows, x.cols);
  Check(RmsNorm(dx.view, dw.view, eps, out.view, nullptr));
  return Download(out.view);
}

TEST_P(GpuDTypeTest, RmsNormMatchesCpuBitwise) {
  const DType dtype = GetParam();
  for (int64_t rows : {1, 19, 99}) {
    for (int64_t h : {1, 111, 500, 4096}) {
      const Tensor x = RandomTensor(dtype, rows, h, 100 + rows * 7 + h, 2.0f);
      const Tensor w = RandomTensor(dtype, 1, h, 200 + h);
      const std::string what = "RmsNorm " + Describe(dtype, rows, h);
      ExpectBitwiseEqual(GpuRmsNorm(x.AsMatrix(), w, 1e-6f, dtype),
                         CpuRmsNorm(x.AsMatrix(), w, 1e-6f, dtype), what);
      // fp32 output shows any difference in the fp32 reduction that a 16-bit
      // rounding could hide.
      ExpectBitwiseEqual(GpuRmsNorm(x.AsMatrix(), w, 1e-6f, DType::kF32),
                         CpuRmsNorm(x.AsMatrix(), w, 1e-6f, DType::kF32), what + " -> fp32");
    }
  }
}

// The bitwise test above can see a wrong reduction order: summing the squares
// in plain sequential order instead of the 16-lane order changes fp32 outputs.
TEST_F(GpuTest, RmsNormTestDetectsAReorderedReduction) {
  const Tensor x = RandomTensor(DType::kF32, 19, 4096, 7, 2.0f);
  const Tensor w = RandomTensor(DType::kF32, 1, 4096, 8);
  const Tensor fixed = CpuRmsNorm(x.AsMatrix(), w, 1e-6f, DType::kF32);
  int64_t rows_differing = 0;
  for (int64_t r = 0; r < 19; ++r) {
    float sumsq = 0.0f;
    for (int64_t c = 0; c < 4096; ++c) sumsq += x.GetFloat(r * 4096 + c) * x.GetFloat(r * 4096 + c);
    const float inv = 1.0f / std::sqrt(sumsq / 4096.0f + 1e-6f);
    bool differs = false;
    for (int64_t c = 0; c < 4096; ++c) {
      const float y = (x.GetFloat(r * 4096 + c) * inv) * w.GetFloat(c);
      differs |=
          std::bit_cast<uint32_t>(y) != std::bit_cast<uint32_t>(fixed.GetFloat(r * 4096 + c));
    }
    rows_differing += differs;
  }
  EXPECT_GT(rows_differing, 0) << "sequential and 16-lane sums agreed on every row; the bitwise "
                                  "RmsNorm test would not notice a wrong order";
}

TEST_P(GpuDTypeTest, RmsNormMixedDTypesStridedInPlaceAndTinyValues) {
  const DType dtype = GetParam();
  // Residual stream in fp32, weight and output in the job dtype.
  {
    const Tensor x = RandomTensor(DType::kF32, 19, 500, 11, 3.0f);
    const Tensor w = RandomTensor(dtype, 1, 500, 12);
    ExpectBitwiseEqual(GpuRmsNorm(x.AsMatrix(), w, 1e-5f, dtype),
                       CpuRmsNorm(x.AsMatrix(), w, 1e-5f, dtype), "RmsNorm fp32 x -> dtype");
  }
  // A column band of a wider matrix (row_stride > cols) on the device.
  {
    const Tensor wide = RandomTensor(dtype, 19, 600, 13);
    const Tensor w = RandomTensor(dtype, 1, 500, 14);
    const DeviceMatrix dwide = Upload(wide.AsMatrix());
    const DeviceMatrix dw = Upload(w.AsMatrix());
    DeviceMatrix out = PoisonedDevice(dtype, 19, 500);
    Check(
        RmsNorm(ConstMatrixView(dwide.view).ColRange(37, 500), dw.view, 1e-6f, out.view, nullptr));
    ExpectBitwiseEqual(Download(out.view),
                       CpuRmsNorm(wide.AsMatrix().ColRange(37, 500), w, 1e-6f, dtype),
                       "RmsNorm strided band");
  }
  // In place (out aliases x), as the model's per-head q/k norm calls it.
  {
    const Tensor x = RandomTensor(dtype, 99, 128, 15);
    const Tensor w = RandomTensor(dtype, 1, 128, 16);
    DeviceMatrix dx = Upload(x.AsMatrix());
    const DeviceMatrix dw = Upload(w.AsMatrix());
    Check(RmsNorm(dx.view, dw.view, 1e-6f, dx.view, nullptr));
    ExpectBitwiseEqual(Download(dx.view), CpuRmsNorm(x.AsMatrix(), w, 1e-6f, dtype),
                       "RmsNorm in place");
  }
  // Tiny values whose squares are fp32 subnormals (or zero): no flush-to-zero
  // on either side; and an all-zero row, where only eps keeps inv finite.
  {
    Tensor x = RandomTensor(dtype, 3, 500, 17, dtype == DType::kF16 ? 1e-3f : 1e-21f);
    for (int64_t c = 0; c < 500; ++c) x.SetFloat(2 * 500 + c, 0.0f);
    const Tensor w = RandomTensor(dtype, 1, 500, 18);
    ExpectBitwiseEqual(GpuRmsNorm(x.AsMatrix(), w, 1e-6f, DType::kF32),
                       CpuRmsNorm(x.AsMatrix(), w, 1e-6f, DType::kF32), "RmsNorm tiny values");
  }
}

TEST_P(GpuDTypeTest, RmsNormIsBatchInvariant) {
  const DType dtype = GetParam();
  for (int64_t h : {111, 4096}) {
    const Tensor inputs = RandomTensor(dtype, 99, h, 300 + h, 2.0f);
    const Tensor w = RandomTensor(dtype, 1, h, 301 + h);
    ExpectRowWiseBatchInvariant(
        inputs, [&](ConstMatrixView rows) { return GpuRmsNorm(rows, w, 1e-6f, dtype); });
  }
}

// ---- Residual add

Tensor GpuAdd(ConstMatrixView a, ConstMatrixView b, DType out_dtype) {
  const DeviceMatrix da = Upload(a);
  const DeviceMatrix db = Upload(b);
  DeviceMatrix out = PoisonedDevice(out_dtype, a.rows, a.cols);
  Check(AddResidual(da.view, db.view, out.view, nullptr));
  return Download(out.view);
}

Tensor CpuAdd(ConstMatrixView a, ConstMatrixView b, DType out_dtype) {
  Tensor out = PoisonedTensor(out_dtype, a.rows, a.cols);
  Check(cpu::AddResidual(a, b, out.AsMatrix()));
  return out;
}

TEST_P(GpuDTypeTest, AddResidualMatchesCpuBitwise) {
  const DType dtype = GetParam();
  for (int64_t rows : {1, 19, 99}) {
    for (int64_t cols : {111, 500, 4096}) {
      const Tensor a = RandomTensor(dtype, rows, cols, 400 + rows + cols, 4.0f);
      const Tensor b = RandomTensor(dtype, rows, cols, 500 + rows + cols);
      const std::string what = "AddResidual " + Describe(dtype, rows, cols);
      ExpectBitwiseEqual(GpuAdd(a.AsMatrix(), b.AsMatrix(), dtype),
                         CpuAdd(a.AsMatrix(), b.AsMatrix(), dtype), what);
      // fp32 residual stream plus a dtype branch output, into fp32.
      const Tensor a32 = RandomTensor(DType::kF32, rows, cols, 600 + rows + cols, 4.0f);
      ExpectBitwiseEqual(GpuAdd(a32.AsMatrix(), b.AsMatrix(), DType::kF32),
                         CpuAdd(a32.AsMatrix(), b.AsMatrix(), DType::kF32), what + " fp32 stream");
    }
  }
  // In place: out aliases a.
  const Tensor a = RandomTensor(dtype, 19, 500, 700, 4.0f);
  const Tensor b = RandomTensor(dtype, 19, 500, 701);
  DeviceMatrix da = Upload(a.AsMatrix());
  const DeviceMatrix db = Upload(b.AsMatrix());
  Check(AddResidual(da.view, db.view, da.view, nullptr));
  ExpectBitwiseEqual(Download(da.view), CpuAdd(a.AsMatrix(), b.AsMatrix(), dtype),
                     "AddResidual in place");
}

TEST_P(GpuDTypeTest, AddResidualIsBatchInvariant) {
  const DType dtype = GetParam();
  const Tensor inputs = RandomTensor(dtype, 99, 500, 800, 4.0f);
  const Tensor other = RandomTensor(dtype, 99, 500, 801);
  // The second operand is the matching rows of `other` (same offset as the first).
  ExpectRowWiseBatchInvariant(inputs, [&](ConstMatrixView rows) {
    const int64_t start =
        (static_cast<const char*>(rows.data) - static_cast<const char*>(inputs.data())) /
        static_cast<int64_t>(500 * DTypeSize(dtype));
    return GpuAdd(rows, other.AsMatrix().RowRange(start, rows.rows), dtype);
  });
}

// ---- Embedding

TEST_P(GpuDTypeTest, EmbeddingMatchesCpuBitwise) {
  const DType dtype = GetParam();
  constexpr int64_t kVocab = 999;
  std::mt19937 rng(21);
  std::uniform_int_distribution<int32_t> token(0, kVocab - 1);
  for (int64_t cols : {111, 500, 4096}) {
    const Tensor table = RandomTensor(dtype, kVocab, cols, 900 + cols);
    const DeviceMatrix dtable = Upload(table.AsMatrix());
    for (int64_t rows : {1, 19, 99}) {
      std::vector<int32_t> ids(rows);
      for (int32_t& id : ids) id = token(rng);
      ids.back() = kVocab - 1;  // the last table row
      const DeviceBuffer dids = UploadVector(ids);
      for (DType out_dtype : {dtype, DType::kF32}) {
        DeviceMatrix out = PoisonedDevice(out_dtype, rows, cols);
        Check(Embedding(dtable.view, dids.as<int32_t>(), out.view, nullptr, nullptr));
        Tensor cpu_out = PoisonedTensor(out_dtype, rows, cols);
        Check(cpu::Embedding(table.AsMatrix(), ids, cpu_out.AsMatrix()));
        ExpectBitwiseEqual(Download(out.view), cpu_out,
                           "Embedding " + Describe(dtype, rows, cols) + " -> " +
                               std::string(DTypeName(out_dtype)));
      }
    }
  }
}

TEST_P(GpuDTypeTest, EmbeddingFlagsOutOfRangeIds) {
  const DType dtype = GetParam();
  const Tensor table = RandomTensor(dtype, 50, 111, 1000);
  const DeviceMatrix dtable = Upload(table.AsMatrix());
  const std::vector<int32_t> ids = {3, 49, 50, 7, -1};  // rows 2 and 4 are bad
  const DeviceBuffer dids = UploadVector(ids);
  DeviceBuffer bad_row = UploadVector(std::vector<int32_t>{INT32_MAX});
  DeviceMatrix out = PoisonedDevice(dtype, 5, 111);
  Check(Embedding(dtable.view, dids.as<int32_t>(), out.view, bad_row.as<int32_t>(), nullptr));
  EXPECT_EQ(ReadInt32(bad_row), 2);
  const Tensor host = Download(out.view);
  for (int64_t r : {0, 1, 3}) {
    EXPECT_TRUE(RowBitsEqual(host.AsMatrix(), r, table.AsMatrix(), ids[r])) << "row " << r;
  }
  for (int64_t r : {2, 4}) {
    for (int64_t c = 0; c < 111; ++c) ASSERT_TRUE(std::isnan(host.GetFloat(r * 111 + c)));
  }
}

// ---- RoPE

struct RopeShape {
  int num_heads;
  int head_dim;
};

Tensor GpuRope(ConstMatrixView x, int num_heads, const std::vector<int32_t>& positions,
               const DeviceRopeTable& table) {
  DeviceMatrix dx = Upload(x);
  const DeviceBuffer dpos = UploadVector(positions);
  Check(ApplyRope(dx.view, num_heads, dpos.as<int32_t>(), table, nullptr, nullptr));
  return Download(dx.view);
}

TEST_P(GpuDTypeTest, RopeMatchesCpuBitwiseAndIsBatchInvariant) {
  const DType dtype = GetParam();
  constexpr int kMaxPositions = 4096;
  std::mt19937 rng(31);
  std::uniform_int_distribution<int32_t> position(0, kMaxPositions - 1);
  for (const RopeShape shape :
       {RopeShape{1, 2}, RopeShape{3, 38}, RopeShape{7, 64}, RopeShape{32, 128}}) {
    const cpu::RopeTable table(shape.head_dim, 1e6, kMaxPositions);
    const DeviceRopeTable dtable = Unwrap(DeviceRopeTable::Upload(table));
    const int64_t cols = int64_t{shape.num_heads} * shape.head_dim;
    for (int64_t rows : {1, 19, 99}) {
      const Tensor x = RandomTensor(dtype, rows, cols, 1100 + rows + cols, 2.0f);
      std::vector<int32_t> positions(rows);
      for (int32_t& p : positions) p = position(rng);
      positions.front() = kMaxPositions - 1;
      Tensor cpu_out = x;
      Check(cpu::ApplyRope(cpu_out.AsMatrix(), shape.num_heads, positions, table));
      ExpectBitwiseEqual(GpuRope(x.AsMatrix(), shape.num_heads, positions, dtable), cpu_out,
                         "ApplyRope " + Describe(dtype, rows, cols));
    }
    const Tensor inputs = RandomTensor(dtype, 99, cols, 1200 + cols, 2.0f);
    std::vector<int32_t> positions(99);
    for (int32_t& p : positions) p = position(rng);
    ExpectRowWiseBatchInvariant(inputs, [&](ConstMatrixView rows) {
      const int64_t start =
          (static_cast<const char*>(rows.data) - static_cast<const char*>(inputs.data())) /
          static_cast<int64_t>(cols * DTypeSize(dtype));
      const std::vector<int32_t> part(positions.begin() + start,
                                      positions.begin() + start + rows.rows);
      return GpuRope(rows, shape.num_heads, part, dtable);
    });
  }
}

TEST_P(GpuDTypeTest, RopeFlagsOutOfRangePositions) {
  const DType dtype = GetParam();
  const cpu::RopeTable table(64, 1e4, 16);
  const DeviceRopeTable dtable = Unwrap(DeviceRopeTable::Upload(table));
  const Tensor x = RandomTensor(dtype, 3, 128, 1300);
  DeviceMatrix dx = Upload(x.AsMatrix());
  const DeviceBuffer dpos = UploadVector(std::vector<int32_t>{15, 16, 0});
  DeviceBuffer bad_row = UploadVector(std::vector<int32_t>{INT32_MAX});
  Check(ApplyRope(dx.view, 2, dpos.as<int32_t>(), dtable, bad_row.as<int32_t>(), nullptr));
  EXPECT_EQ(ReadInt32(bad_row), 1);
  const Tensor host = Download(dx.view);
  for (int64_t c = 0; c < 128; ++c) ASSERT_TRUE(std::isnan(host.GetFloat(128 + c)));
  const std::vector<int32_t> good = {15, 0};
  Tensor two(dtype, {2, 128});
  std::memcpy(two.AsMatrix().RowPtr(0), x.AsMatrix().RowPtr(0), 128 * DTypeSize(dtype));
  std::memcpy(two.AsMatrix().RowPtr(1), x.AsMatrix().RowPtr(2), 128 * DTypeSize(dtype));
  Check(cpu::ApplyRope(two.AsMatrix(), 2, good, table));
  EXPECT_TRUE(RowBitsEqual(host.AsMatrix(), 0, two.AsMatrix(), 0));
  EXPECT_TRUE(RowBitsEqual(host.AsMatrix(), 2, two.AsMatrix(), 1));
}

// ---- Argument checks (host side; no kernel runs)

TEST_F(GpuTest, ShapeErrorsNameTheOperands) {
  DeviceMatrix x = PoisonedDevice(DType::kBF16, 4, 64);
  DeviceMatrix w = PoisonedDevice(DType::kBF16, 1, 32);
  const absl::Status s = RmsNorm(x.view, w.view, 1e-6f, x.view, nullptr);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("weight is (1, 32)"), std::string::npos) << s;
  const cpu::RopeTable table(16, 1e4, 8);
  const DeviceRopeTable dtable = Unwrap(DeviceRopeTable::Upload(table));
  const DeviceBuffer pos = UploadVector(std::vector<int32_t>{0, 1, 2, 3});
  EXPECT_EQ(ApplyRope(x.view, 3, pos.as<int32_t>(), dtable, nullptr, nullptr).code(),
            absl::StatusCode::kInvalidArgument);
}

INSTANTIATE_TEST_SUITE_P(AllDTypes, GpuDTypeTest,
                         ::testing::Values(DType::kF16, DType::kBF16, DType::kF32),
                         ::lockstep::testing::DTypeParamName);
INSTANTIATE_TEST_SUITE_P(HalfDTypes, GpuHalfTypeTest, ::testing::Values(DType::kF16, DType::kBF16),
                         ::lockstep::testing::DTypeParamName);

}  // namespace
}  // namespace lockstep::cuda
