// Causal GQA attention. Both entry points first widen the needed key/value
// rows to fp32 (exact), then run the same per-query routine, AttendOneQuery,
// so where the rows came from (a contiguous matrix or a paged pool) cannot
// change a bit. Per query and head: keys in chunks of kAttentionKeyChunk from
// 0 upward; scores = DotFixedOrder(q, k) * scale; an online softmax keeps a
// running max m, running sum l and an fp32 accumulator, all rescaled by
// exp(m_old - m_new) at every chunk; keys inside a chunk are added in
// increasing position; out = acc / l, rounded once.
#include "numerics/cpu/attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "numerics/cpu/fixed_order.h"
#include "numerics/cpu/parallel.h"

namespace lockstep::cpu {
namespace {

// Key/value rows 0..rows-1 widened to fp32: row j, kv head g starts at
// k + j*row_width + g*head_dim, row_width = num_kv_heads*head_dim.
struct KvF32 {
  std::vector<float> k;
  std::vector<float> v;
  int64_t rows = 0;
  int64_t row_width = 0;
};

void WidenRow(const void* src, DType dtype, int64_t n, float* dst) {
  for (int64_t i = 0; i < n; ++i) dst[i] = LoadAsFloat(src, dtype, i);
}

// The one per-query routine. q: head_dim floats; keys 0..num_keys-1 of kv head
// `kv_head`; writes head_dim floats (not yet rounded) to `result`. Cloned per
// instruction set for speed only: the dot has explicit lanes, the value
// accumulation is element-wise and nothing is contracted, so every clone
// gives the same bits (the attention tests compare against DotFixedOrder,
// which is compiled for baseline x86-64).
__attribute__((target_clones("default", "avx2", "avx512f"))) void AttendOneQuery(const float* q, int64_t num_keys, const KvF32& kv, int kv_head, int head_dim,
                    float scale, float* acc, float* result) {
  const float* k_base = kv.k.data() + int64_t{kv_head} * head_dim;
  const float* v_base = kv.v.data() + int64_t{kv_head} * head_dim;
  float running_max = -std::numeric_limits<float>::infinity();
  float running_sum = 0.0f;
  std::fill(acc, acc + head_dim, 0.0f);
  float scores[kAttentionKeyChunk];
  for (int64_t chunk_begin = 0; chunk_begin < num_keys; chunk_begin += kAttentionKeyChunk) {
    const int64_t chunk_len = std::min<int64_t>(kAttentionKeyChunk, num_keys - chunk_begin);
    float chunk_max = -std::numeric_limits<float>::infinity();
    for (int64_t j = 0; j < chunk_len; ++j) {
      const float* k_row = k_base + (chunk_begin + j) * kv.row_width;
      scores[j] = DotLanes(q, k_row, head_dim) * scale;
      chunk_max = std::max(chunk_max, scores[j]);
    }
    const float new_max = std::max(running_max, chunk_max);
    const float correction = std::exp(running_max - new_max);
    running_sum *= correction;
    for (int d = 0; d < head_dim; ++d) acc[d] *= correction;
    for (int64_t j = 0; j < chunk_len; ++j) {
      const float p = std::exp(scores[j] - new_max);
      running_sum += p;
      const float* v_row = v_base + (chunk_begin + j) * kv.row_width;
      for (int d = 0; d < head_dim; ++d) acc[d] += p * v_row[d];
    }
    running_max = new_max;
  }
  for (int d = 0; d < head_dim; ++d) result[d] = acc[d] / running_sum;
}

absl::Status CheckShape(const AttentionShape& s) {
  if (s.num_heads <= 0 || s.num_kv_heads <= 0 || s.head_dim <= 0 ||
      s.num_heads % s.num_kv_heads != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "attention: bad shape: num_heads=", s.num_heads, ", num_kv_heads=", s.num_kv_heads,
        ", head_dim=", s.head_dim, " (all > 0 and num_heads divisible by num_kv_heads)"));
  }
  return absl::OkStatus();
}

// Runs every (query, head) pair of one sequence over widened K/V.
void RunQueries(ConstMatrixView q, std::span<const int32_t> positions, const KvF32& kv,
                const AttentionShape& shape, MatrixView out) {
  const int d = shape.head_dim;
  const int group = shape.num_heads / shape.num_kv_heads;
  const int64_t items = q.rows * shape.num_heads;
  ParallelFor(items, 4, [&](int64_t begin, int64_t end) {
    std::vector<float> q_head(d), acc(d), result(d);
    for (int64_t item = begin; item < end; ++item) {
      const int64_t i = item / shape.num_heads;
      const int h = static_cast<int>(item % shape.num_heads);
      for (int e = 0; e < d; ++e) q_head[e] = q.Get(i, int64_t{h} * d + e);
      AttendOneQuery(q_head.data(), int64_t{positions[i]} + 1, kv, h / group, d, shape.scale,
                     acc.data(), result.data());
      for (int e = 0; e < d; ++e) out.Set(i, int64_t{h} * d + e, result[e]);
    }
  });
}

}  // namespace

const void* KvRowSource::KRow(int64_t j) const {
  return static_cast<const std::byte*>(k_base) +
         PhysicalRow(j) * row_stride * static_cast<int64_t>(DTypeSize(dtype));
}
const void* KvRowSource::VRow(int64_t j) const {
  return static_cast<const std::byte*>(v_base) +
         PhysicalRow(j) * row_stride * static_cast<int64_t>(DTypeSize(dtype));
}

absl::Status AttentionOverKv(ConstMatrixView q, std::span<const int32_t> positions,
                             const KvRowSource& kv, const AttentionShape& shape, MatrixView out) {
  if (absl::Status s = CheckShape(shape); !s.ok()) return s;
  const int64_t q_width = int64_t{shape.num_heads} * shape.head_dim;
  const int64_t kv_width = int64_t{shape.num_kv_heads} * shape.head_dim;
  if (q.cols != q_width || out.rows != q.rows || out.cols != q_width ||
      static_cast<int64_t>(positions.size()) != q.rows) {
    return absl::InvalidArgumentError(absl::StrCat(
        "AttentionOverKv: q is (", q.rows, ", ", q.cols, "), out (", out.rows, ", ", out.cols,
        "), ", positions.size(), " positions; need q and out (n, ", q_width, ") and n positions"));
  }
  if (kv.k_base == nullptr || kv.v_base == nullptr || kv.row_stride < kv_width ||
      (kv.block_table != nullptr && kv.block_size <= 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("AttentionOverKv: bad KV source (k/v pointers set, row_stride ", kv.row_stride,
                     " >= ", kv_width, ", block_size ", kv.block_size, " > 0 when paged)"));
  }
  int64_t max_position = -1;
  for (size_t i = 0; i < positions.size(); ++i) {
    if (positions[i] < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("AttentionOverKv: negative position ", positions[i], " at query ", i));
    }
    max_position = std::max<int64_t>(max_position, positions[i]);
  }
  if (q.rows == 0) return absl::OkStatus();
  KvF32 widened;
  widened.rows = max_position + 1;
  widened.row_width = kv_width;
  widened.k.resize(static_cast<size_t>(widened.rows * kv_width));
  widened.v.resize(static_cast<size_t>(widened.rows * kv_width));
  for (int64_t j = 0; j < widened.rows; ++j) {
    WidenRow(kv.KRow(j), kv.dtype, kv_width, widened.k.data() + j * kv_width);
    WidenRow(kv.VRow(j), kv.dtype, kv_width, widened.v.data() + j * kv_width);
  }
  RunQueries(q, positions, widened, shape, out);
  return absl::OkStatus();
}

absl::Status CausalAttention(ConstMatrixView q, ConstMatrixView k, ConstMatrixView v,
                             const AttentionShape& shape, MatrixView out) {
  if (absl::Status s = CheckShape(shape); !s.ok()) return s;
  const int64_t q_width = int64_t{shape.num_heads} * shape.head_dim;
  const int64_t kv_width = int64_t{shape.num_kv_heads} * shape.head_dim;
  const int64_t t = q.rows;
  if (q.cols != q_width || k.rows != t || v.rows != t || k.cols != kv_width || v.cols != kv_width ||
      out.rows != t || out.cols != q_width) {
    return absl::InvalidArgumentError(
        absl::StrCat("CausalAttention: q (", q.rows, ", ", q.cols, "), k (", k.rows, ", ", k.cols,
                     "), v (", v.rows, ", ", v.cols, "), out (", out.rows, ", ", out.cols,
                     "); need q and out (T, ", q_width, "), k and v (T, ", kv_width, ")"));
  }
  if (t == 0) return absl::OkStatus();
  KvF32 widened;
  widened.rows = t;
  widened.row_width = kv_width;
  widened.k.resize(static_cast<size_t>(t * kv_width));
  widened.v.resize(static_cast<size_t>(t * kv_width));
  for (int64_t j = 0; j < t; ++j) {
    WidenRow(k.RowPtr(j), k.dtype, kv_width, widened.k.data() + j * kv_width);
    WidenRow(v.RowPtr(j), v.dtype, kv_width, widened.v.data() + j * kv_width);
  }
  std::vector<int32_t> positions(static_cast<size_t>(t));
  for (int64_t i = 0; i < t; ++i) positions[i] = static_cast<int32_t>(i);
  RunQueries(q, positions, widened, shape, out);
  return absl::OkStatus();
}

}  // namespace lockstep::cpu
