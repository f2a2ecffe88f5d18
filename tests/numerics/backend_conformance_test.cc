// Every Backend op against the direct cpu:: function on packed batches of several
// sequences, on every backend this build has (CreateBackend; cuda is skipped, with the
// reason, when the build or the machine has none). The CPU backend must match bit for bit.
// Other backends: row copies (Embedding, GatherRows, WriteKv, Copy) and AddResidual bit
// for bit; everything else within a relative-norm bound ‖out − ref‖ / ‖ref‖ per dtype —
// one rounding for RmsNorm/ApplyRope/SwiGlu (fp32 1e-6, fp16 1e-3, bf16 8e-3), and for
// Linear, attention and logprobs (reductions in another order) fp32 1e-5, fp16 1e-3,
// bf16 2e-2; sampled tokens must be equal. Bad calls (wrong device tag, wrong shapes)
// fail with the shared checks' errors on every backend.
#include <cmath>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "numerics/backend.h"
#include "numerics/backends/create_backend.h"
#include "numerics/cpu/attention.h"
#include "numerics/cpu/elementwise.h"
#include "numerics/cpu/linear.h"
#include "numerics/cpu/logprob.h"
#include "numerics/cpu/rmsnorm.h"
#include "numerics/cpu/rope.h"
#include "test_util.h"

namespace lockstep {
namespace {

using ::lockstep::testing::RandomTensor;
using ::lockstep::testing::RelativeNormError;
using ::lockstep::testing::AsDoubles;

enum class Bound { kBitwise, kOneRounding, kReduction };

double Tolerance(Bound bound, DType dtype) {
  if (bound == Bound::kBitwise) return 0.0;
  if (bound == Bound::kOneRounding) {
    return dtype == DType::kF32 ? 1e-6 : dtype == DType::kF16 ? 1e-3 : 8e-3;
  }
  return dtype == DType::kF32 ? 1e-5 : dtype == DType::kF16 ? 1e-3 : 2e-2;
}

struct Param {
  Device device;
  DType dtype;
};

std::string ParamName(const ::testing::TestParamInfo<Param>& info) {
  return std::string(DeviceName(info.param.device)) + "_" +
         std::string(DTypeName(info.param.dtype));
}

class BackendConformance : public ::testing::TestWithParam<Param> {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<Backend>> made =
        CreateBackend(BackendOptions{.device = GetParam().device});
    if (!made.ok()) GTEST_SKIP() << "no such backend here: " << made.status().message();
    backend_ = *std::move(made);
  }

  Backend& b() { return *backend_; }
  DType dtype() const { return GetParam().dtype; }
  bool reference() const { return GetParam().device == Device::kCpu; }

  DeviceTensor Up(const Tensor& host) {
    absl::StatusOr<DeviceTensor> t = b().Upload(host.AsMatrix());
    EXPECT_TRUE(t.ok()) << t.status();
    return *std::move(t);
  }
  DeviceInt32s UpInts(const std::vector<int32_t>& host) {
    absl::StatusOr<DeviceInt32s> t = b().UploadInt32(host);
    EXPECT_TRUE(t.ok()) << t.status();
    return *std::move(t);
  }
  DeviceTensor Out(int64_t rows, int64_t cols, DType dt) {
    return b().Allocate(dt, rows, cols).value();
  }
  Tensor Down(const DeviceTensor& t) {
    Tensor host(t.dtype(), {t.rows(), t.cols()});
    EXPECT_TRUE(b().CopyToHost(t.view(), host.AsMatrix()).ok());
    return host;
  }
  // Bitwise on the CPU backend (and for kBitwise ops everywhere); else the bound.
  void ExpectMatches(const DeviceTensor& got, const Tensor& want, Bound bound,
                     const std::string& what) {
    const Tensor host = Down(got);
    ASSERT_EQ(host.nbytes(), want.nbytes()) << what;
    if (reference() || bound == Bound::kBitwise) {
      EXPECT_EQ(std::memcmp(host.data(), want.data(), want.nbytes()), 0) << what << " differs";
    } else {
      EXPECT_LE(RelativeNormError(host, AsDoubles(want)), Tolerance(bound, host.dtype())) << what;
    }
  }
  // A view of host memory tagged as this backend's device is impossible to make safely;
  // the other way round is: a device view tagged as the other device.
  Device OtherDevice() const {
    return GetParam().device == Device::kCpu ? Device::kCuda : Device::kCpu;
  }

  std::unique_ptr<Backend> backend_;
};

TEST_P(BackendConformance, MemoryIsZeroFilledAndCopiesRoundTrip) {
  DeviceTensor zeros = Out(3, 5, dtype());
  const Tensor host_zero = Down(zeros);
  for (int64_t i = 0; i < host_zero.numel(); ++i) EXPECT_EQ(host_zero.GetFloat(i), 0.0f);
  const Tensor x = RandomTensor(dtype(), 4, 6, 1);
  DeviceTensor d = Up(x);
  DeviceTensor copy = Out(4, 6, dtype());
  ASSERT_TRUE(b().Copy(d.view(), copy.view()).ok());
  ExpectMatches(copy, x, Bound::kBitwise, "Copy");
  const absl::Status bad = b().Copy(d.view(), Out(4, 5, dtype()).view());
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.message().find("Copy"), std::string::npos) << bad;
  ASSERT_TRUE(b().Synchronize().ok());
}

TEST_P(BackendConformance, Embedding) {
  const Tensor table = RandomTensor(dtype(), 50, 24, 2);
  const std::vector<int32_t> ids = {3, 49, 0, 3, 17, 8, 8, 22, 41, 5};
  DeviceTensor d_table = Up(table);
  DeviceInt32s d_ids = UpInts(ids);
  DeviceTensor out = Out(10, 24, dtype());
  ASSERT_TRUE(b().Embedding(d_table.view(), d_ids.view(), out.view()).ok());
  Tensor want(dtype(), {10, 24});
  ASSERT_TRUE(cpu::Embedding(table.AsMatrix(), ids, want.AsMatrix()).ok());
  ExpectMatches(out, want, Bound::kBitwise, "Embedding");

  // Wrong shape, wrong device tag.
  DeviceTensor small = Out(9, 24, dtype());
  EXPECT_EQ(b().Embedding(d_table.view(), d_ids.view(), small.view()).code(),
            absl::StatusCode::kInvalidArgument);
  Int32View mistagged = d_ids.view();
  mistagged.device = OtherDevice();
  const absl::Status s = b().Embedding(d_table.view(), mistagged, out.view());
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("ids is in"), std::string::npos) << s;
  if (reference()) {  // CUDA reports a bad id at the next Synchronize instead
    DeviceInt32s bad = UpInts({1, 50});
    DeviceTensor two = Out(2, 24, dtype());
    EXPECT_FALSE(b().Embedding(d_table.view(), bad.view(), two.view()).ok());
  }
}

TEST_P(BackendConformance, RmsNormIncludingInPlace) {
  const Tensor x = RandomTensor(dtype(), 7, 40, 3);
  const Tensor w = RandomTensor(dtype(), 1, 40, 4);
  DeviceTensor d_x = Up(x), d_w = Up(w), out = Out(7, 40, dtype());
  ASSERT_TRUE(b().RmsNorm(d_x.view(), d_w.view(), 1e-6f, out.view()).ok());
  Tensor want(dtype(), {7, 40});
  ASSERT_TRUE(cpu::RmsNorm(x.AsMatrix(), w.AsMatrix(), 1e-6f, want.AsMatrix()).ok());
  ExpectMatches(out, want, Bound::kOneRounding, "RmsNorm");
  ASSERT_TRUE(b().RmsNorm(d_x.view(), d_w.view(), 1e-6f, d_x.view()).ok());
  ExpectMatches(d_x, want, Bound::kOneRounding, "RmsNorm in place");

  DeviceTensor w_short = Up(RandomTensor(dtype(), 1, 39, 5));
  const absl::Status s = b().RmsNorm(d_x.view(), w_short.view(), 1e-6f, out.view());
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("RmsNorm"), std::string::npos) << s;
}

TEST_P(BackendConformance, LinearWithAndWithoutBias) {
  const Tensor x = RandomTensor(dtype(), 9, 48, 6);
  const Tensor w = RandomTensor(dtype(), 40, 48, 7, 0.2f);
  const Tensor bias = RandomTensor(dtype(), 1, 40, 8);
  DeviceTensor d_x = Up(x);
  for (bool with_bias : {false, true}) {
    auto prepared =
        b().PrepareLinear(w.AsMatrix(), with_bias ? bias.AsMatrix() : ConstMatrixView());
    ASSERT_TRUE(prepared.ok()) << prepared.status();
    EXPECT_EQ((*prepared)->has_bias(), with_bias);
    EXPECT_EQ((*prepared)->out_features(), 40);
    DeviceTensor out = Out(9, 40, dtype());
    ASSERT_TRUE(b().Linear(d_x.view(), **prepared, out.view()).ok());
    const cpu::LinearWeight ref =
        cpu::PrepareLinearWeight(w.AsMatrix(), with_bias ? bias.data() : nullptr);
    Tensor want(dtype(), {9, 40});
    ASSERT_TRUE(cpu::Linear(x.AsMatrix(), ref, want.AsMatrix()).ok());
    ExpectMatches(out, want, Bound::kReduction, with_bias ? "Linear+bias" : "Linear");
    // One row alone gives the same bits as inside the batch (batch invariance).
    DeviceTensor row_out = Out(1, 40, dtype());
    ASSERT_TRUE(b().Linear(d_x.Rows(5, 1), **prepared, row_out.view()).ok());
    const Tensor batch_host = Down(out), row_host = Down(row_out);
    EXPECT_EQ(std::memcmp(row_host.data(), batch_host.AsMatrix().RowPtr(5),
                          row_host.nbytes()), 0);
    DeviceTensor wrong = Out(9, 39, dtype());
    const absl::Status s = b().Linear(d_x.view(), **prepared, wrong.view());
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(s.message().find("Linear"), std::string::npos) << s;
  }
}

TEST_P(BackendConformance, AddResidualAndSwiGlu) {
  const Tensor a = RandomTensor(dtype(), 6, 40, 9), c = RandomTensor(dtype(), 6, 40, 10);
  DeviceTensor d_a = Up(a), d_c = Up(c), out = Out(6, 40, dtype());
  ASSERT_TRUE(b().AddResidual(d_a.view(), d_c.view(), out.view()).ok());
  Tensor want(dtype(), {6, 40});
  ASSERT_TRUE(cpu::AddResidual(a.AsMatrix(), c.AsMatrix(), want.AsMatrix()).ok());
  ExpectMatches(out, want, Bound::kBitwise, "AddResidual");
  ASSERT_TRUE(b().SwiGlu(d_a.view(), d_c.view(), out.view()).ok());
  ASSERT_TRUE(cpu::SwiGlu(a.AsMatrix(), c.AsMatrix(), want.AsMatrix()).ok());
  ExpectMatches(out, want, Bound::kOneRounding, "SwiGlu");
  DeviceTensor other = Out(5, 40, dtype());
  EXPECT_EQ(b().SwiGlu(d_a.view(), other.view(), out.view()).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(b().AddResidual(d_a.view(), d_c.view(), other.view()).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_P(BackendConformance, ApplyRope) {
  const RopeTable table(16, 10000.0, 64);
  auto rope = b().PrepareRope(table).value();
  const Tensor x = RandomTensor(dtype(), 8, 4 * 16, 11);
  const std::vector<int32_t> positions = {0, 1, 2, 63, 7, 0, 30, 31};
  DeviceTensor d_x = Up(x);
  DeviceInt32s d_pos = UpInts(positions);
  ASSERT_TRUE(b().ApplyRope(d_x.view(), 4, d_pos.view(), *rope).ok());
  Tensor want = x;
  ASSERT_TRUE(cpu::ApplyRope(want.AsMatrix(), 4, positions, table).ok());
  ExpectMatches(d_x, want, Bound::kOneRounding, "ApplyRope");
  DeviceInt32s short_pos = UpInts({0, 1});
  const absl::Status s = b().ApplyRope(d_x.view(), 4, short_pos.view(), *rope);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("ApplyRope"), std::string::npos) << s;
}

// Three sequences over a paged pool: a 9-token prefill, one decode row at position 13,
// and the continuation rows 2..6 of a third; pages scattered through the pool.
TEST_P(BackendConformance, WriteKvAndPagedAttentionMatchPerSequenceAttention) {
  const AttentionShape shape{.num_heads = 4, .num_kv_heads = 2, .head_dim = 16,
                             .scale = 0.25f};
  const int block = 4, pages = 16;
  const int64_t kv_cols = 2 * 16, q_cols = 4 * 16;
  const std::vector<int> lengths = {9, 14, 7};           // keys each sequence holds
  const std::vector<int> first_query = {0, 13, 2};       // query rows: first..length-1
  const std::vector<std::vector<int32_t>> tables = {{5, 0, 12}, {3, 9, 1, 14}, {7, 2}};
  std::vector<int32_t> query_indptr = {0}, page_indptr = {0}, page_indices, positions, slots;
  std::vector<int32_t> key_slots;
  for (size_t s = 0; s < lengths.size(); ++s) {
    page_indices.insert(page_indices.end(), tables[s].begin(), tables[s].end());
    page_indptr.push_back(static_cast<int32_t>(page_indices.size()));
    for (int p = first_query[s]; p < lengths[s]; ++p) positions.push_back(p);
    query_indptr.push_back(static_cast<int32_t>(positions.size()));
    for (int p = 0; p < lengths[s]; ++p) key_slots.push_back(tables[s][p / block] * block + p % block);
  }
  const int64_t keys = static_cast<int64_t>(key_slots.size());
  const Tensor k = RandomTensor(dtype(), keys, kv_cols, 12), v = RandomTensor(dtype(), keys, kv_cols, 13);
  const Tensor q = RandomTensor(dtype(), static_cast<int64_t>(positions.size()), q_cols, 14);

  DeviceTensor k_pool = Out(pages * block, kv_cols, dtype()), v_pool = Out(pages * block, kv_cols, dtype());
  const KvPoolView pool{.dtype = dtype(), .k_pool = k_pool.view().data, .v_pool = v_pool.view().data,
                        .row_stride = kv_cols, .block_size = block, .num_pages = pages,
                        .device = b().device()};
  DeviceTensor d_k = Up(k), d_v = Up(v), d_q = Up(q);
  DeviceInt32s d_slots = UpInts(key_slots);
  ASSERT_TRUE(b().WriteKv(d_k.view(), d_v.view(), d_slots.view(), pool).ok());
  // The pool rows are the written rows, bit for bit.
  Tensor host_pool = Down(k_pool);
  for (int64_t t = 0; t < keys; ++t) {
    EXPECT_EQ(std::memcmp(host_pool.AsMatrix().RowPtr(key_slots[t]), k.AsMatrix().RowPtr(t),
                          kv_cols * DTypeSize(dtype())), 0) << "row " << t;
  }
  DeviceInt32s d_qp = UpInts(query_indptr), d_pp = UpInts(page_indptr),
               d_pi = UpInts(page_indices), d_pos = UpInts(positions);
  const PagedBatchView batch{.num_sequences = 3, .query_indptr = d_qp.view(),
                             .page_indptr = d_pp.view(), .page_indices = d_pi.view(),
                             .positions = d_pos.view()};
  DeviceTensor out = Out(q.dim(0), q_cols, dtype());
  ASSERT_TRUE(b().PagedAttention(d_q.view(), pool, batch, shape, out.view()).ok());

  // Reference: cpu::AttentionOverKv per sequence over a host copy of the pool.
  Tensor host_v = Down(v_pool);
  Tensor want(dtype(), {q.dim(0), q_cols});
  for (size_t s = 0; s < lengths.size(); ++s) {
    cpu::KvRowSource source{.dtype = dtype(), .k_base = host_pool.data(), .v_base = host_v.data(),
                            .row_stride = kv_cols, .block_table = tables[s].data(),
                            .block_size = block};
    const int32_t begin = query_indptr[s], count = query_indptr[s + 1] - begin;
    ASSERT_TRUE(cpu::AttentionOverKv(q.AsMatrix().RowRange(begin, count),
                                     std::span<const int32_t>(positions).subspan(begin, count),
                                     source, shape, want.AsMatrix().RowRange(begin, count))
                    .ok());
  }
  ExpectMatches(out, want, Bound::kReduction, "PagedAttention");

  // Bad calls: positions of the wrong count; a pool tagged with the other device; a slot
  // past the pool (CPU checks contents on the host).
  PagedBatchView short_batch = batch;
  short_batch.positions = d_pos.view().Slice(0, 3);
  EXPECT_EQ(b().PagedAttention(d_q.view(), pool, short_batch, shape, out.view()).code(),
            absl::StatusCode::kInvalidArgument);
  KvPoolView elsewhere = pool;
  elsewhere.device = OtherDevice();
  const absl::Status s = b().WriteKv(d_k.view(), d_v.view(), d_slots.view(), elsewhere);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("another device"), std::string::npos) << s;
  AttentionShape bad_shape = shape;
  bad_shape.num_kv_heads = 3;
  EXPECT_EQ(b().PagedAttention(d_q.view(), pool, batch, bad_shape, out.view()).code(),
            absl::StatusCode::kInvalidArgument);
  if (reference()) {
    DeviceInt32s past = UpInts(std::vector<int32_t>(keys, pages * block));
    EXPECT_FALSE(b().WriteKv(d_k.view(), d_v.view(), past.view(), pool).ok());
  }
}

TEST_P(BackendConformance, CausalAttentionPerSequenceIncludingEmpty) {
  const AttentionShape shape{.num_heads = 4, .num_kv_heads = 1, .head_dim = 16, .scale = 0.25f};
  const std::vector<int32_t> indptr = {0, 5, 5, 16, 17};
  const int64_t rows = indptr.back();
  const Tensor q = RandomTensor(dtype(), rows, 64, 15), k = RandomTensor(dtype(), rows, 16, 16),
               v = RandomTensor(dtype(), rows, 16, 17);
  DeviceTensor d_q = Up(q), d_k = Up(k), d_v = Up(v), out = Out(rows, 64, dtype());
  ASSERT_TRUE(b().CausalAttention(d_q.view(), d_k.view(), d_v.view(), indptr, shape, out.view()).ok());
  Tensor want(dtype(), {rows, 64});
  for (size_t s = 0; s + 1 < indptr.size(); ++s) {
    const int64_t begin = indptr[s], count = indptr[s + 1] - begin;
    if (count == 0) continue;
    ASSERT_TRUE(cpu::CausalAttention(q.AsMatrix().RowRange(begin, count),
                                     k.AsMatrix().RowRange(begin, count),
                                     v.AsMatrix().RowRange(begin, count), shape,
                                     want.AsMatrix().RowRange(begin, count))
                    .ok());
  }
  ExpectMatches(out, want, Bound::kReduction, "CausalAttention");
  const std::vector<int32_t> short_indptr = {0, 5, 15};
  const absl::Status s =
      b().CausalAttention(d_q.view(), d_k.view(), d_v.view(), short_indptr, shape, out.view());
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("sequence_indptr"), std::string::npos) << s;
}

TEST_P(BackendConformance, GatherRows) {
  const Tensor src = RandomTensor(dtype(), 10, 24, 18);
  const std::vector<int32_t> rows = {9, 0, 3, 3};
  DeviceTensor d_src = Up(src), out = Out(4, 24, dtype());
  DeviceInt32s d_rows = UpInts(rows);
  ASSERT_TRUE(b().GatherRows(d_src.view(), d_rows.view(), out.view()).ok());
  Tensor want(dtype(), {4, 24});
  for (size_t i = 0; i < rows.size(); ++i) {
    std::memcpy(want.AsMatrix().RowPtr(static_cast<int64_t>(i)), src.AsMatrix().RowPtr(rows[i]),
                24 * DTypeSize(dtype()));
  }
  ExpectMatches(out, want, Bound::kBitwise, "GatherRows");
  DeviceTensor three = Out(3, 24, dtype());
  EXPECT_EQ(b().GatherRows(d_src.view(), d_rows.view(), three.view()).code(),
            absl::StatusCode::kInvalidArgument);
}

std::vector<SamplingParams> FourSamplings() {
  return {{.temperature = 1.0f, .top_k = 0, .top_p = 1.0f},
          {.temperature = 0.7f, .top_k = 20, .top_p = 1.0f},
          {.temperature = 1.0f, .top_k = 0, .top_p = 0.9f},
          {.temperature = 0.0f, .top_k = 0, .top_p = 1.0f}};
}

TEST_P(BackendConformance, TokenLogprobsAndSampleTokens) {
  const int64_t rows = 8, vocab = 300;
  const Tensor logits = RandomTensor(dtype(), rows, vocab, 19, 3.0f);
  DeviceTensor d_logits = Up(logits);
  std::vector<SampleSpec> specs;
  std::vector<SamplingParams> params;
  for (int64_t r = 0; r < rows; ++r) {
    const SamplingParams p = FourSamplings()[r % 4];
    params.push_back(p);
    specs.push_back({.params = p, .seed = 99, .request = static_cast<uint32_t>(r / 2),
                     .sample_index = static_cast<uint32_t>(r % 2), .position = 17});
  }
  std::vector<SampledToken> sampled(rows);
  ASSERT_TRUE(b().SampleTokens(d_logits.view(), specs, sampled).ok());
  std::vector<int32_t> tokens;
  for (int64_t r = 0; r < rows; ++r) {
    const ConstMatrixView row = logits.AsMatrix().RowRange(r, 1);
    const SampledToken want =
        cpu::SampleToken(row, specs[r].params, 99, specs[r].request, specs[r].sample_index, 17);
    EXPECT_EQ(sampled[r].token, want.token) << "row " << r;
    if (reference()) {
      EXPECT_EQ(std::bit_cast<uint32_t>(sampled[r].logprob), std::bit_cast<uint32_t>(want.logprob));
    } else {
      EXPECT_NEAR(sampled[r].logprob, want.logprob,
                  Tolerance(Bound::kReduction, dtype()) * std::max(1.0f, std::fabs(want.logprob)));
    }
    tokens.push_back(sampled[r].token);
  }
  // TokenLogprobs of the sampled tokens equals SampleTokens' logprob bit for bit (every
  // backend), and cpu::TokenLogprob on the CPU backend.
  std::vector<float> logprobs(rows);
  ASSERT_TRUE(b().TokenLogprobs(d_logits.view(), tokens, params, logprobs).ok());
  for (int64_t r = 0; r < rows; ++r) {
    EXPECT_EQ(std::bit_cast<uint32_t>(logprobs[r]), std::bit_cast<uint32_t>(sampled[r].logprob))
        << "row " << r;
    if (reference()) {
      const float want = cpu::TokenLogprob(logits.AsMatrix().RowRange(r, 1), tokens[r], params[r]);
      EXPECT_EQ(std::bit_cast<uint32_t>(logprobs[r]), std::bit_cast<uint32_t>(want));
    }
  }
  // One params entry for all rows is accepted; two for eight rows is not; nor a token id
  // outside the vocabulary.
  ASSERT_TRUE(b().TokenLogprobs(d_logits.view(), tokens, std::span(params).first(1), logprobs).ok());
  absl::Status s = b().TokenLogprobs(d_logits.view(), tokens, std::span(params).first(2), logprobs);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("sampling params"), std::string::npos) << s;
  std::vector<int32_t> bad_tokens = tokens;
  bad_tokens[3] = static_cast<int32_t>(vocab);
  s = b().TokenLogprobs(d_logits.view(), bad_tokens, params, logprobs);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("outside the vocabulary"), std::string::npos) << s;
  EXPECT_EQ(b().SampleTokens(d_logits.view(), std::span(specs).first(3), sampled).code(),
            absl::StatusCode::kInvalidArgument);
}

INSTANTIATE_TEST_SUITE_P(
    EveryBackend, BackendConformance,
    ::testing::Values(Param{Device::kCpu, DType::kF32}, Param{Device::kCpu, DType::kF16},
                      Param{Device::kCpu, DType::kBF16}, Param{Device::kCuda, DType::kF32},
                      Param{Device::kCuda, DType::kF16}, Param{Device::kCuda, DType::kBF16}),
    ParamName);

}  // namespace
}  // namespace lockstep
