// Attention: float64 reference, the documented chunked online softmax,
// contiguous vs paged KV (bitwise), prefill vs one-query-at-a-time decode
// (bitwise), queries alone vs in batches (bitwise), errors.
#include "numerics/cpu/attention.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cmath>
#include <numeric>
#include <random>

#include "numerics/cpu/linear.h"
#include "tests/numerics/test_util.h"

namespace lockstep::cpu {
namespace {

using ::lockstep::testing::ErrorBound;
using ::lockstep::testing::PoisonedTensor;
using ::lockstep::testing::RandomTensor;
using ::lockstep::testing::RelativeNormError;
using ::lockstep::testing::RowBitsEqual;

constexpr AttentionShape kShape{
    .num_heads = 6, .num_kv_heads = 2, .head_dim = 20, .scale = 0.2236068f};

struct Sequence {
  Tensor q, k, v;  // (T, Hq*D), (T, Hkv*D), (T, Hkv*D)
};

Sequence RandomSequence(DType dtype, int64_t t, uint64_t seed) {
  const int64_t qw = int64_t{kShape.num_heads} * kShape.head_dim;
  const int64_t kvw = int64_t{kShape.num_kv_heads} * kShape.head_dim;
  return {RandomTensor(dtype, t, qw, seed), RandomTensor(dtype, t, kvw, seed + 1),
          RandomTensor(dtype, t, kvw, seed + 2)};
}

Tensor RunCausal(const Sequence& s) {
  Tensor out = PoisonedTensor(s.q.dtype(), s.q.dim(0), s.q.dim(1));
  const absl::Status st =
      CausalAttention(s.q.AsMatrix(), s.k.AsMatrix(), s.v.AsMatrix(), kShape, out.AsMatrix());
  EXPECT_TRUE(st.ok()) << st;
  return out;
}

// A paged pool holding the sequence's K/V rows in shuffled blocks, with
// random rows of other "sequences" everywhere else.
struct PagedKv {
  Tensor k_pool, v_pool;
  std::vector<int32_t> block_table;
  int block_size;
  KvRowSource Source() const {
    return KvRowSource{.dtype = k_pool.dtype(),
                       .k_base = k_pool.data(),
                       .v_base = v_pool.data(),
                       .row_stride = k_pool.dim(1),
                       .block_table = block_table.data(),
                       .block_size = block_size};
  }
};

PagedKv ScatterIntoPool(const Sequence& s, int block_size, uint64_t seed) {
  const int64_t t = s.k.dim(0), width = s.k.dim(1);
  const int64_t blocks_needed = (t + block_size - 1) / block_size;
  const int64_t pool_blocks = blocks_needed * 3 + 1;
  PagedKv p{RandomTensor(s.k.dtype(), pool_blocks * block_size, width, seed),
            RandomTensor(s.k.dtype(), pool_blocks * block_size, width, seed + 1),
            {},
            block_size};
  std::vector<int32_t> physical(static_cast<size_t>(pool_blocks));
  std::iota(physical.begin(), physical.end(), 0);
  std::shuffle(physical.begin(), physical.end(), std::mt19937(static_cast<uint32_t>(seed)));
  p.block_table.assign(physical.begin(), physical.begin() + blocks_needed);
  const size_t row_bytes = width * DTypeSize(s.k.dtype());
  for (int64_t j = 0; j < t; ++j) {
    const int64_t row = int64_t{p.block_table[j / block_size]} * block_size + j % block_size;
    std::memcpy(p.k_pool.AsMatrix().RowPtr(row), s.k.AsMatrix().RowPtr(j), row_bytes);
    std::memcpy(p.v_pool.AsMatrix().RowPtr(row), s.v.AsMatrix().RowPtr(j), row_bytes);
  }
  return p;
}

class AttentionTest : public ::testing::TestWithParam<DType> {};

TEST_P(AttentionTest, MatchesFloat64Reference) {
  const DType dtype = GetParam();
  for (int64_t t : {1, 19, 99, 150}) {
    const Sequence s = RandomSequence(dtype, t, 1000 + t);
    const Tensor out = RunCausal(s);
    const int d = kShape.head_dim, group = kShape.num_heads / kShape.num_kv_heads;
    std::vector<double> ref(static_cast<size_t>(out.numel()));
    for (int64_t i = 0; i < t; ++i) {
      for (int h = 0; h < kShape.num_heads; ++h) {
        const int g = h / group;
        std::vector<double> scores(static_cast<size_t>(i + 1));
        for (int64_t j = 0; j <= i; ++j) {
          double dot = 0.0;
          for (int e = 0; e < d; ++e)
            dot += double{s.q.AsMatrix().Get(i, h * d + e)} * s.k.AsMatrix().Get(j, g * d + e);
          scores[j] = dot * kShape.scale;
        }
        const double m = *std::max_element(scores.begin(), scores.end());
        double denom = 0.0;
        for (double& sc : scores) denom += (sc = std::exp(sc - m));
        for (int e = 0; e < d; ++e) {
          double acc = 0.0;
          for (int64_t j = 0; j <= i; ++j) acc += scores[j] * s.v.AsMatrix().Get(j, g * d + e);
          ref[i * kShape.num_heads * d + h * d + e] = acc / denom;
        }
      }
    }
    EXPECT_LE(RelativeNormError(out, ref), ErrorBound(dtype)) << "T=" << t;
  }
}

TEST_P(AttentionTest, FollowsTheDocumentedChunkedOnlineSoftmax) {
  // The contract written out for one (query, head): any backend that wants
  // the CPU's bits must compute exactly this.
  const DType dtype = GetParam();
  const int64_t t = 150;  // three chunks, the last one partial
  const Sequence s = RandomSequence(dtype, t, 77);
  const Tensor out = RunCausal(s);
  const int d = kShape.head_dim;
  for (int64_t i : {int64_t{0}, int64_t{63}, int64_t{64}, int64_t{149}}) {
    for (int h : {0, 5}) {
      const int g = h / (kShape.num_heads / kShape.num_kv_heads);
      std::vector<float> q(d), k(d), acc(d, 0.0f);
      for (int e = 0; e < d; ++e) q[e] = s.q.AsMatrix().Get(i, h * d + e);
      float m = -INFINITY, l = 0.0f;
      for (int64_t c0 = 0; c0 <= i; c0 += kAttentionKeyChunk) {
        const int64_t c1 = std::min<int64_t>(c0 + kAttentionKeyChunk, i + 1);
        std::vector<float> sc;
        float cmax = -INFINITY;
        for (int64_t j = c0; j < c1; ++j) {
          for (int e = 0; e < d; ++e) k[e] = s.k.AsMatrix().Get(j, g * d + e);
          sc.push_back(DotFixedOrder(q.data(), k.data(), d) * kShape.scale);
          cmax = std::max(cmax, sc.back());
        }
        const float m_new = std::max(m, cmax);
        const float alpha = std::exp(m - m_new);
        l *= alpha;
        for (float& a : acc) a *= alpha;
        for (int64_t j = c0; j < c1; ++j) {
          const float p = std::exp(sc[j - c0] - m_new);
          l += p;
          for (int e = 0; e < d; ++e) acc[e] += p * s.v.AsMatrix().Get(j, g * d + e);
        }
        m = m_new;
      }
      for (int e = 0; e < d; ++e) {
        ASSERT_EQ(out.AsMatrix().Get(i, h * d + e), RoundToDType(acc[e] / l, dtype))
            << "query " << i << " head " << h << " dim " << e;
      }
    }
  }
}

TEST_P(AttentionTest, PagedEqualsContiguousAndDecodeEqualsPrefill) {
  const DType dtype = GetParam();
  const int64_t t = 99;
  const Sequence s = RandomSequence(dtype, t, 5);
  const Tensor prefill = RunCausal(s);
  for (int block_size : {1, 16, 7}) {
    const PagedKv paged = ScatterIntoPool(s, block_size, 60 + block_size);
    // All queries at once over the paged pool.
    std::vector<int32_t> positions(t);
    std::iota(positions.begin(), positions.end(), 0);
    Tensor all = PoisonedTensor(dtype, t, s.q.dim(1));
    ASSERT_TRUE(
        AttentionOverKv(s.q.AsMatrix(), positions, paged.Source(), kShape, all.AsMatrix()).ok());
    ASSERT_EQ(std::memcmp(all.data(), prefill.data(), all.nbytes()), 0)
        << "paged (block " << block_size << ") differs from contiguous";
    // Decode: one query at a time, as the rollout engine issues them.
    for (int64_t i = 0; i < t; ++i) {
      Tensor one = PoisonedTensor(dtype, 1, s.q.dim(1));
      const int32_t pos = static_cast<int32_t>(i);
      ASSERT_TRUE(AttentionOverKv(s.q.AsMatrix().RowRange(i, 1), std::span(&pos, 1), paged.Source(),
                                  kShape, one.AsMatrix())
                      .ok());
      ASSERT_TRUE(RowBitsEqual(one.AsMatrix(), 0, prefill.AsMatrix(), i))
          << "decode of query " << i << " differs from prefill (block " << block_size << ")";
    }
  }
  // Contiguous KvRowSource (no block table) over a matrix with a wider stride.
  const int64_t kvw = s.k.dim(1);
  Tensor k_wide = RandomTensor(dtype, t, kvw + 5, 9), v_wide = RandomTensor(dtype, t, kvw + 5, 10);
  for (int64_t j = 0; j < t; ++j) {
    std::memcpy(k_wide.AsMatrix().RowPtr(j), s.k.AsMatrix().RowPtr(j), kvw * DTypeSize(dtype));
    std::memcpy(v_wide.AsMatrix().RowPtr(j), s.v.AsMatrix().RowPtr(j), kvw * DTypeSize(dtype));
  }
  const KvRowSource contiguous{
      .dtype = dtype, .k_base = k_wide.data(), .v_base = v_wide.data(), .row_stride = kvw + 5};
  const std::vector<int32_t> some = {98, 0, 64, 63};
  Tensor q_some(dtype, {4, s.q.dim(1)});
  for (int r = 0; r < 4; ++r)
    std::memcpy(q_some.AsMatrix().RowPtr(r), s.q.AsMatrix().RowPtr(some[r]),
                s.q.dim(1) * DTypeSize(dtype));
  Tensor out_some = PoisonedTensor(dtype, 4, s.q.dim(1));
  ASSERT_TRUE(
      AttentionOverKv(q_some.AsMatrix(), some, contiguous, kShape, out_some.AsMatrix()).ok());
  for (int r = 0; r < 4; ++r)
    EXPECT_TRUE(RowBitsEqual(out_some.AsMatrix(), r, prefill.AsMatrix(), some[r]));
}

TEST_P(AttentionTest, QueriesAreBatchInvariant) {
  // Each query of a 99-token sequence alone and inside sub-batches of 3, 19
  // and 99 queries (other queries around it), over a paged cache.
  const DType dtype = GetParam();
  const Sequence s = RandomSequence(dtype, 99, 300);
  const PagedKv paged = ScatterIntoPool(s, 16, 301);
  std::vector<int32_t> positions(99);
  std::iota(positions.begin(), positions.end(), 0);
  ::lockstep::testing::ExpectRowWiseBatchInvariant(s.q, [&](ConstMatrixView rows) {
    const int64_t first =
        (static_cast<const std::byte*>(rows.data) - static_cast<const std::byte*>(s.q.data())) /
        static_cast<int64_t>(rows.row_stride * DTypeSize(dtype));
    Tensor out = PoisonedTensor(dtype, rows.rows, rows.cols);
    EXPECT_TRUE(AttentionOverKv(rows, std::span(positions).subspan(first, rows.rows),
                                paged.Source(), kShape, out.AsMatrix())
                    .ok());
    return out;
  });
  // A sequence's result does not depend on another sequence sharing the pool
  // and being computed before it.
  const Sequence other = RandomSequence(dtype, 40, 400);
  const Tensor before = RunCausal(s);
  (void)RunCausal(other);
  const Tensor after = RunCausal(s);
  EXPECT_EQ(std::memcmp(before.data(), after.data(), before.nbytes()), 0);
}

INSTANTIATE_TEST_SUITE_P(DTypes, AttentionTest,
                         ::testing::ValuesIn(::lockstep::testing::kAllDTypes),
                         ::lockstep::testing::DTypeParamName);

TEST(AttentionErrorsTest, RejectsBadShapes) {
  const Sequence s = RandomSequence(DType::kF16, 4, 1);
  Tensor out(DType::kF16, {4, s.q.dim(1)});
  AttentionShape bad = kShape;
  bad.num_kv_heads = 4;  // 6 % 4 != 0
  EXPECT_EQ(
      CausalAttention(s.q.AsMatrix(), s.k.AsMatrix(), s.v.AsMatrix(), bad, out.AsMatrix()).code(),
      absl::StatusCode::kInvalidArgument);
  Tensor short_out(DType::kF16, {3, s.q.dim(1)});
  EXPECT_EQ(
      CausalAttention(s.q.AsMatrix(), s.k.AsMatrix(), s.v.AsMatrix(), kShape, short_out.AsMatrix())
          .code(),
      absl::StatusCode::kInvalidArgument);
  const std::vector<int32_t> negative = {0, 1, -1, 2};
  const KvRowSource kv{
      .dtype = DType::kF16, .k_base = s.k.data(), .v_base = s.v.data(), .row_stride = s.k.dim(1)};
  EXPECT_EQ(AttentionOverKv(s.q.AsMatrix(), negative, kv, kShape, out.AsMatrix()).code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace lockstep::cpu

namespace lockstep::cpu {
namespace {

}  // namespace
}  // namespace lockstep::cpu
