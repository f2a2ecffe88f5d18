// cuda::PagedAttention: bit for bit, decode of a sequence's last token == the last row of
// its prefill == the same query inside a batch of 19 other sequences (mixed prefill and
// decode, other page tables, other block sizes), and a chunked prefill inside a batch ==
// the full prefill's rows; agreement with cpu::AttentionOverKv within a stated tolerance
// (the measured gap is printed); bad positions and page ids are caught on the device.
// Unused pool slots hold NaN, so reading past a query's keys shows. Skips without a GPU
// unless LOCKSTEP_REQUIRE_GPU is set.
#include "numerics/cuda/attention.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <iostream>
#include <numeric>
#include <random>
#include <span>
#include <string>
#include <tuple>
#include <vector>

#include "gtest/gtest.h"
#include "numerics/cpu/attention.h"
#include "numerics/dtype.h"
#include "numerics/tensor.h"
#include "tests/gpu/gpu_test_util.h"
#include "tests/numerics/test_util.h"

namespace lockstep::cuda {
namespace {

using gpu_testing::Check;
using gpu_testing::DownloadTensor;
using gpu_testing::DownloadVector;
using gpu_testing::PoisonedDevice;
using gpu_testing::UlpDistanceAt;
using gpu_testing::UploadTensor;
using gpu_testing::UploadVector;

// One sequence's key and value rows 0..length-1, (length, num_kv_heads*head_dim).
struct Sequence {
  Tensor k;
  Tensor v;
  int64_t length() const { return k.shape()[0]; }
};

// One batch entry: a sequence and its queries (rows of q at `positions`).
struct Entry {
  const Sequence* sequence;
  Tensor q;
  std::vector<int32_t> positions;
};

// A packed batch on the host: the pool (NaN where no key lives) and the indptr arrays.
struct HostBatch {
  Tensor k_pool, v_pool;
  int block_size = 0;
  int64_t num_pages = 0;
  Tensor q;
  std::vector<int32_t> query_indptr{0}, page_indptr{0}, page_indices, positions;
  int num_sequences() const { return static_cast<int>(query_indptr.size()) - 1; }
};

Tensor RowsOf(const Tensor& t, int64_t begin, int64_t count) {
  Tensor out(t.dtype(), {count, t.shape()[1]});
  const size_t row_bytes = t.shape()[1] * DTypeSize(t.dtype());
  std::memcpy(out.data(), static_cast<const std::byte*>(t.data()) + begin * row_bytes,
              count * row_bytes);
  return out;
}

// Packs the entries with their pages shuffled over a pool that has `spare_pages` extra.
HostBatch Pack(const std::vector<Entry>& entries, int block_size, uint64_t layout_seed,
               int spare_pages = 5) {
  HostBatch batch;
  batch.block_size = block_size;
  const DType dtype = entries[0].q.dtype();
  const int64_t kv_width = entries[0].sequence->k.shape()[1];
  const int64_t q_width = entries[0].q.shape()[1];
  int64_t pages = spare_pages, queries = 0;
  for (const Entry& e : entries) {
    pages += (e.sequence->length() + block_size - 1) / block_size;
    queries += e.q.shape()[0];
  }
  batch.num_pages = pages;
  std::vector<int32_t> order(pages);
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(layout_seed);
  std::shuffle(order.begin(), order.end(), rng);
  batch.k_pool = testing::PoisonedTensor(dtype, pages * block_size, kv_width);
  batch.v_pool = testing::PoisonedTensor(dtype, pages * block_size, kv_width);
  batch.q = Tensor(dtype, {queries, q_width});
  const size_t kv_row_bytes = kv_width * DTypeSize(dtype);
  const size_t q_row_bytes = q_width * DTypeSize(dtype);
  size_t next_page = 0;
  int64_t next_query = 0;
  for (const Entry& e : entries) {
    const int64_t n = e.sequence->length();
    for (int64_t j = 0; j < n; ++j) {
      if (j % block_size == 0) batch.page_indices.push_back(order[next_page++]);
      const int64_t row = int64_t{batch.page_indices.back()} * block_size + j % block_size;
      std::memcpy(batch.k_pool.AsMatrix().RowPtr(row), e.sequence->k.AsMatrix().RowPtr(j),
                  kv_row_bytes);
      std::memcpy(batch.v_pool.AsMatrix().RowPtr(row), e.sequence->v.AsMatrix().RowPtr(j),
                  kv_row_bytes);
    }
    const int64_t nq = e.q.shape()[0];
    std::memcpy(batch.q.AsMatrix().RowPtr(next_query), e.q.data(), nq * q_row_bytes);
    next_query += nq;
    batch.positions.insert(batch.positions.end(), e.positions.begin(), e.positions.end());
    batch.query_indptr.push_back(static_cast<int32_t>(next_query));
    batch.page_indptr.push_back(static_cast<int32_t>(batch.page_indices.size()));
  }
  return batch;
}

struct GpuResult {
  Tensor out;
  int32_t bad_query = INT32_MAX;
};

GpuResult RunGpu(const HostBatch& batch, const cpu::AttentionShape& shape) {
  const auto k_pool = UploadTensor(batch.k_pool);
  const auto v_pool = UploadTensor(batch.v_pool);
  const auto q = UploadTensor(batch.q);
  DeviceBuffer query_indptr = UploadVector(batch.query_indptr);
  DeviceBuffer page_indptr = UploadVector(batch.page_indptr);
  DeviceBuffer page_indices = UploadVector(batch.page_indices);
  DeviceBuffer positions = UploadVector(batch.positions);
  DeviceBuffer bad_query = UploadVector(std::vector<int32_t>{INT32_MAX});
  auto out = PoisonedDevice(batch.q.dtype(), batch.q.shape()[0], batch.q.shape()[1]);
  PagedKvPool pool;
  pool.dtype = batch.q.dtype();
  pool.k_pool = k_pool.view.data;
  pool.v_pool = v_pool.view.data;
  pool.row_stride = batch.k_pool.shape()[1];
  pool.block_size = batch.block_size;
  pool.num_pages = batch.num_pages;
  PagedAttentionBatch device_batch;
  device_batch.num_sequences = batch.num_sequences();
  device_batch.query_indptr = query_indptr.as<int32_t>();
  device_batch.page_indptr = page_indptr.as<int32_t>();
  device_batch.page_indices = page_indices.as<int32_t>();
  device_batch.positions = positions.as<int32_t>();
  Check(PagedAttention(q.view, pool, device_batch, shape, out.view, bad_query.as<int32_t>(),
                       nullptr));
  GpuResult result;
  result.out = DownloadTensor(out.view);
  result.bad_query = DownloadVector<int32_t>(bad_query, 1)[0];
  return result;
}

// cpu::AttentionOverKv over the same pool and page tables, one sequence at a time.
Tensor RunCpu(const HostBatch& batch, const cpu::AttentionShape& shape) {
  Tensor out(batch.q.dtype(), batch.q.shape());
  for (int s = 0; s < batch.num_sequences(); ++s) {
    const int64_t begin = batch.query_indptr[s], count = batch.query_indptr[s + 1] - begin;
    cpu::KvRowSource kv;
    kv.dtype = batch.q.dtype();
    kv.k_base = batch.k_pool.data();
    kv.v_base = batch.v_pool.data();
    kv.row_stride = batch.k_pool.shape()[1];
    kv.block_table = batch.page_indices.data() + batch.page_indptr[s];
    kv.block_size = batch.block_size;
    Check(cpu::AttentionOverKv(
        batch.q.AsMatrix().RowRange(begin, count),
        std::span<const int32_t>(batch.positions).subspan(begin, count), kv, shape,
        out.AsMatrix().RowRange(begin, count)));
  }
  return out;
}

bool RowsBitwiseEqual(const Tensor& a, int64_t a_row, const Tensor& b, int64_t b_row) {
  const size_t row_bytes = a.shape()[1] * DTypeSize(a.dtype());
  return std::memcmp(a.AsMatrix().RowPtr(a_row), b.AsMatrix().RowPtr(b_row), row_bytes) == 0;
}

struct ShapeCase {
  const char* name;
  int num_heads, num_kv_heads, head_dim;
};
constexpr ShapeCase kShapes[] = {
    {"qwen05b_14x2x64", 14, 2, 64},
    {"gqa_8x2x128", 8, 2, 128},
    {"mha_4x4x72", 4, 4, 72},  // a head_dim that is not a multiple of 16 or 32
};

class AttentionTest : public gpu_testing::GpuTest,
                      public ::testing::WithParamInterface<std::tuple<DType, ShapeCase>> {
 protected:
  void SetUp() override {
    gpu_testing::GpuTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    const auto [dtype, shape_case] = GetParam();
    dtype_ = dtype;
    shape_.num_heads = shape_case.num_heads;
    shape_.num_kv_heads = shape_case.num_kv_heads;
    shape_.head_dim = shape_case.head_dim;
    shape_.scale = 1.0f / std::sqrt(static_cast<float>(shape_case.head_dim));
    target_ = MakeSequence(kTargetLength, 100);
    target_queries_ = testing::RandomTensor(dtype_, kTargetLength, QueryWidth(), 101, 2.0f);
    std::mt19937_64 rng(102);
    std::uniform_int_distribution<int64_t> length(1, 300);
    for (int i = 0; i < 19; ++i) others_.push_back(MakeSequence(length(rng), 200 + i));
  }

  int64_t QueryWidth() const { return int64_t{shape_.num_heads} * shape_.head_dim; }
  Sequence MakeSequence(int64_t length, uint64_t seed) const {
    const int64_t kv_width = int64_t{shape_.num_kv_heads} * shape_.head_dim;
    return {testing::RandomTensor(dtype_, length, kv_width, seed),
            testing::RandomTensor(dtype_, length, kv_width, seed + 1000)};
  }
  // Queries for positions [begin, end) of `sequence` (seeded by the sequence's index).
  Entry Queries(const Sequence& sequence, int64_t begin, int64_t end, uint64_t seed) const {
    Entry e{&sequence, testing::RandomTensor(dtype_, end - begin, QueryWidth(), seed, 2.0f), {}};
    for (int64_t p = begin; p < end; ++p) e.positions.push_back(static_cast<int32_t>(p));
    return e;
  }
  Entry TargetQueries(int64_t begin, int64_t end) const {
    Entry e{&target_, RowsOf(target_queries_, begin, end - begin), {}};
    for (int64_t p = begin; p < end; ++p) e.positions.push_back(static_cast<int32_t>(p));
    return e;
  }
  // The 19 other sequences, alternately decoding their last token and prefilling a span,
  // with `target` inserted at index `at`.
  std::vector<Entry> BatchWith(Entry target, int at) const {
    std::vector<Entry> entries;
    for (int i = 0; i < 19; ++i) {
      if (i == at) entries.push_back(target);
      const int64_t n = others_[i].length();
      const int64_t begin = i % 2 == 0 ? n - 1 : std::max<int64_t>(0, n - 1 - 3 * i);
      entries.push_back(Queries(others_[i], begin, n, 300 + i));
    }
    if (at >= 19) entries.push_back(target);
    return entries;
  }

  static constexpr int64_t kTargetLength = 150;  // three chunks of 64 keys, the last partial
  DType dtype_ = DType::kF32;
  cpu::AttentionShape shape_;
  Sequence target_;
  Tensor target_queries_;
  std::vector<Sequence> others_;
};

TEST_P(AttentionTest, DecodeEqualsPrefillEqualsBatchedBitwise) {
  const int64_t last = kTargetLength - 1;
  const GpuResult prefill = RunGpu(Pack({TargetQueries(0, kTargetLength)}, 16, 1), shape_);
  ASSERT_EQ(prefill.bad_query, INT32_MAX);
  for (int64_t i = 0; i < prefill.out.numel(); ++i) {
    ASSERT_TRUE(std::isfinite(prefill.out.GetFloat(i))) << "prefill element " << i;
  }
  // Decode alone, under block sizes 16, 5 and 1 and other page orders.
  for (const auto& [block_size, seed] : {std::pair{16, 2}, std::pair{5, 3}, std::pair{1, 4}}) {
    const GpuResult decode = RunGpu(Pack({TargetQueries(last, kTargetLength)}, block_size, seed),
                                    shape_);
    EXPECT_TRUE(RowsBitwiseEqual(decode.out, 0, prefill.out, last))
        << "decode (block size " << block_size << ") != prefill's last row";
  }
  // Decode inside a batch of 20 (target at 7), and at the end.
  for (int at : {7, 19}) {
    const HostBatch batch = Pack(BatchWith(TargetQueries(last, kTargetLength), at), 16, 5 + at);
    const GpuResult got = RunGpu(batch, shape_);
    ASSERT_EQ(got.bad_query, INT32_MAX);
    EXPECT_TRUE(RowsBitwiseEqual(got.out, batch.query_indptr[at], prefill.out, last))
        << "decode inside a batch at " << at << " != prefill's last row";
  }
  // A chunked prefill (positions 100..149) inside a batch, block size 32.
  const HostBatch chunked = Pack(BatchWith(TargetQueries(100, kTargetLength), 12), 32, 9);
  const GpuResult got = RunGpu(chunked, shape_);
  for (int64_t p = 100; p < kTargetLength; ++p) {
    EXPECT_TRUE(RowsBitwiseEqual(got.out, chunked.query_indptr[12] + (p - 100), prefill.out, p))
        << "chunked prefill row at position " << p;
  }
}

// Against cpu::AttentionOverKv on a batch of 20 (mixed prefill and decode). The only
// arithmetic difference is exp (CUDA's expf, <= 2 ulp, vs glibc's), which moves the fp32
// result before rounding by < 1e-6 here (outputs are O(1)). Tolerance per element: fp32
// |diff| <= 2e-5; fp16/bf16 <= 2 ulp of the dtype OR |diff| <= 2e-5 (an output near zero
// has 16-bit ulps finer than that fp32 error: on the H200, 2026-11-29, one bf16 output was
// 7 ulp away, which given the fp32 case's largest |diff| of 4.8e-7 can only be an output
// near zero; this bound was written after that run and not yet re-run). The gap is printed.
TEST_P(AttentionTest, AgreesWithCpuReference) {
  const HostBatch batch = Pack(BatchWith(TargetQueries(0, kTargetLength), 3), 16, 11);
  const GpuResult gpu = RunGpu(batch, shape_);
  ASSERT_EQ(gpu.bad_query, INT32_MAX);
  const Tensor cpu_out = RunCpu(batch, shape_);
  constexpr double kAbsTolerance = 2e-5;
  int64_t max_ulp = 0, differing = 0, beyond_two_ulp = 0;
  double max_abs = 0.0;
  for (int64_t i = 0; i < cpu_out.numel(); ++i) {
    const float g = gpu.out.GetFloat(i), c = cpu_out.GetFloat(i);
    ASSERT_TRUE(std::isfinite(g)) << "element " << i;
    const int64_t ulp = UlpDistanceAt(gpu.out, cpu_out, i);
    const double diff = std::fabs(double{g} - double{c});
    max_ulp = std::max(max_ulp, ulp);
    differing += ulp != 0;
    beyond_two_ulp += ulp > 2;
    max_abs = std::max(max_abs, diff);
    if (dtype_ == DType::kF32) {
      EXPECT_LE(diff, kAbsTolerance) << "element " << i << ": gpu " << g << ", cpu " << c;
    } else {
      EXPECT_TRUE(ulp <= 2 || diff <= kAbsTolerance)
          << "element " << i << ": gpu " << g << ", cpu " << c << " (" << ulp << " ulp)";
    }
  }
  std::cout << "[ gap      ] " << DTypeName(dtype_) << " " << std::get<1>(GetParam()).name
            << ": " << differing << " of " << cpu_out.numel()
            << " outputs differ from the CPU (" << beyond_two_ulp << " by > 2 ulp); max "
            << max_ulp << " ulp, max |diff| " << max_abs << "\n";
}

INSTANTIATE_TEST_SUITE_P(
    DTypesAndShapes, AttentionTest,
    ::testing::Combine(::testing::Values(DType::kF16, DType::kBF16, DType::kF32),
                       ::testing::ValuesIn(kShapes)),
    [](const ::testing::TestParamInfo<std::tuple<DType, ShapeCase>>& info) {
      return std::string(DTypeName(std::get<0>(info.param))) + "_" +
             std::get<1>(info.param).name;
    });

class AttentionCheckTest : public gpu_testing::GpuTest {};

// A position beyond the sequence's pages and a page id outside the pool give NaN rows and
// report the first bad query; the good queries are computed.
TEST_F(AttentionCheckTest, BadPositionsAndPagesAreCaughtOnTheDevice) {
  const cpu::AttentionShape shape{2, 1, 32, 0.25f};
  const Sequence seq{testing::RandomTensor(DType::kBF16, 20, 32, 1),
                     testing::RandomTensor(DType::kBF16, 20, 32, 2)};
  // 20 keys in pages of 8: 3 pages, slots 0..23; position 24 is past them.
  const Entry e{&seq, testing::RandomTensor(DType::kBF16, 3, 64, 3), {19, 24, 5}};
  HostBatch batch = Pack({e}, 8, 4);
  GpuResult got = RunGpu(batch, shape);
  EXPECT_EQ(got.bad_query, 1);
  EXPECT_TRUE(std::isfinite(got.out.AsMatrix().Get(0, 0)));
  EXPECT_TRUE(std::isnan(got.out.AsMatrix().Get(1, 0)));
  EXPECT_TRUE(std::isfinite(got.out.AsMatrix().Get(2, 0)));

  batch.positions = {19, 5, 3};
  batch.page_indices[0] = static_cast<int32_t>(batch.num_pages);  // outside the pool
  got = RunGpu(batch, shape);
  EXPECT_EQ(got.bad_query, 0);
  for (int64_t r = 0; r < 3; ++r) EXPECT_TRUE(std::isnan(got.out.AsMatrix().Get(r, 0)));
}

TEST_F(AttentionCheckTest, RejectsBadShapes) {
  cpu::AttentionShape shape{3, 2, 32, 0.25f};  // 3 heads over 2 KV heads
  Tensor q(DType::kBF16, {1, 96});
  EXPECT_FALSE(PagedAttention(q.AsMatrix(), PagedKvPool{}, PagedAttentionBatch{}, shape,
                              q.AsMatrix(), nullptr, nullptr)
                   .ok());
}

}  // namespace
}  // namespace lockstep::cuda
