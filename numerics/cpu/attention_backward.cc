// CausalAttentionBackward. For query i, query head h (kv head g = h / group),
// keys j <= i: s_ij = DotLanes(q_i, k_j)·scale (the forward's score bits),
// p_ij = exp(s_ij − m_i) / l_i with m_i = max_j s_ij and l_i = Σ_j exp(s_ij − m_i)
// (two-pass softmax; the forward's online chunking is not reproduced, which
// only moves p in the last fp32 bits), dp_ij = dout_i · v_j,
// D_i = Σ_j p_ij·dp_ij, ds_ij = p_ij·(dp_ij − D_i). Then
//   dq_i = scale·Σ_j ds_ij·k_j,  dk_j = scale·Σ_h Σ_i ds_ij·q_i,  dv_j = Σ_h Σ_i p_ij·dout_i.
// Two passes, each parallel over the rows it writes, so no two threads ever
// add into the same element:
//  1. per (i, h): m, l, D (stored) and dq_i (sum over j ascending);
//  2. per (j, g): for each query head h of g in ascending order, the sums over
//     i ascending (from +0.0f, recomputing s, p, dp with the same expressions
//     as pass 1, hence the same bits), then added to dk_j, dv_j.
// l and D use the shared 16-lane order over j; all other sums are sequential.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "numerics/cpu/backward.h"
#include "numerics/cpu/fixed_order.h"
#include "numerics/cpu/parallel.h"

namespace lockstep::cpu {
namespace {

std::vector<float> Widen(ConstMatrixView v) {
  std::vector<float> out(static_cast<size_t>(v.rows * v.cols));
  for (int64_t r = 0; r < v.rows; ++r) {
    const void* row = v.RowPtr(r);
    for (int64_t c = 0; c < v.cols; ++c) out[r * v.cols + c] = LoadAsFloat(row, v.dtype, c);
  }
  return out;
}

// Softmax statistics of one (query, head) row, kept between the passes.
struct RowStats {
  float max = 0.0f;  // m_i
  float sum = 0.0f;  // l_i
  float dot = 0.0f;  // D_i = Σ_j p_ij·dp_ij
};

}  // namespace

absl::Status CausalAttentionBackward(ConstMatrixView q, ConstMatrixView k, ConstMatrixView v,
                                     const AttentionShape& shape, const float* dout, float* dq,
                                     float* dk, float* dv) {
  if (shape.num_heads <= 0 || shape.num_kv_heads <= 0 || shape.head_dim <= 0 ||
      shape.num_heads % shape.num_kv_heads != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("CausalAttentionBackward: bad shape: num_heads=", shape.num_heads,
                     ", num_kv_heads=", shape.num_kv_heads, ", head_dim=", shape.head_dim,
                     " (all > 0 and num_heads divisible by num_kv_heads)"));
  }
  const int d = shape.head_dim;
  const int64_t q_width = int64_t{shape.num_heads} * d;
  const int64_t kv_width = int64_t{shape.num_kv_heads} * d;
  const int64_t t = q.rows;
  if (q.cols != q_width || k.rows != t || v.rows != t || k.cols != kv_width || v.cols != kv_width) {
    return absl::InvalidArgumentError(absl::StrCat("CausalAttentionBackward: q (", q.rows, ", ",
                                                   q.cols, "), k (", k.rows, ", ", k.cols, "), v (",
                                                   v.rows, ", ", v.cols, "); need q (T, ", q_width,
                                                   "), k and v (T, ", kv_width, ")"));
  }
  if (t == 0) return absl::OkStatus();
  if (dout == nullptr || dq == nullptr || dk == nullptr || dv == nullptr) {
    return absl::InvalidArgumentError(
        "CausalAttentionBackward: dout, dq, dk and dv must not be null");
  }
  const std::vector<float> qf = Widen(q), kf = Widen(k), vf = Widen(v);
  const int group = shape.num_heads / shape.num_kv_heads;
  const float scale = shape.scale;
  std::vector<RowStats> stats(static_cast<size_t>(t * shape.num_heads));

  // Pass 1: one item per (query i, head h).
  ParallelFor(t * shape.num_heads, 4, [&](int64_t begin, int64_t end) {
    std::vector<float> s(static_cast<size_t>(t)), dp(static_cast<size_t>(t));
    std::vector<float> acc(static_cast<size_t>(d));
    for (int64_t item = begin; item < end; ++item) {
      const int64_t i = item / shape.num_heads;
      const int h = static_cast<int>(item % shape.num_heads);
      const int64_t kv_off = int64_t{h / group} * d;
      const float* q_row = qf.data() + i * q_width + int64_t{h} * d;
      const float* do_row = dout + i * q_width + int64_t{h} * d;
      const int64_t num_keys = i + 1;
      float m = -std::numeric_limits<float>::infinity();
      for (int64_t j = 0; j < num_keys; ++j) {
        s[j] = DotLanes(q_row, kf.data() + j * kv_width + kv_off, d) * scale;
        dp[j] = DotLanes(do_row, vf.data() + j * kv_width + kv_off, d);
        m = std::max(m, s[j]);
      }
      const float l = SumFixedOrder(num_keys, [&](int64_t j) { return std::exp(s[j] - m); });
      // p overwrites s: only p is needed from here on.
      for (int64_t j = 0; j < num_keys; ++j) s[j] = std::exp(s[j] - m) / l;
      const float big_d = SumFixedOrder(num_keys, [&](int64_t j) { return s[j] * dp[j]; });
      stats[item] = RowStats{m, l, big_d};
      std::fill(acc.begin(), acc.end(), 0.0f);
      for (int64_t j = 0; j < num_keys; ++j) {
        const float ds = s[j] * (dp[j] - big_d);
        const float* k_row = kf.data() + j * kv_width + kv_off;
        for (int e = 0; e < d; ++e) acc[e] += ds * k_row[e];
      }
      float* dq_row = dq + i * q_width + int64_t{h} * d;
      for (int e = 0; e < d; ++e) dq_row[e] = scale * acc[e];
    }
  });

  // Pass 2: one item per (key j, kv head g).
  ParallelFor(t * shape.num_kv_heads, 4, [&](int64_t begin, int64_t end) {
    std::vector<float> acc_k(static_cast<size_t>(d)), acc_v(static_cast<size_t>(d));
    for (int64_t item = begin; item < end; ++item) {
      const int64_t j = item / shape.num_kv_heads;
      const int g = static_cast<int>(item % shape.num_kv_heads);
      const int64_t kv_off = int64_t{g} * d;
      const float* k_row = kf.data() + j * kv_width + kv_off;
      const float* v_row = vf.data() + j * kv_width + kv_off;
      float* dk_row = dk + j * kv_width + kv_off;
      float* dv_row = dv + j * kv_width + kv_off;
      std::fill(dk_row, dk_row + d, 0.0f);
      std::fill(dv_row, dv_row + d, 0.0f);
      for (int h = g * group; h < (g + 1) * group; ++h) {
        std::fill(acc_k.begin(), acc_k.end(), 0.0f);
        std::fill(acc_v.begin(), acc_v.end(), 0.0f);
        for (int64_t i = j; i < t; ++i) {
          const RowStats& st = stats[i * shape.num_heads + h];
          const float* q_row = qf.data() + i * q_width + int64_t{h} * d;
          const float* do_row = dout + i * q_width + int64_t{h} * d;
          const float s = DotLanes(q_row, k_row, d) * scale;
          const float dp = DotLanes(do_row, v_row, d);
          const float p = std::exp(s - st.max) / st.sum;
          const float ds = p * (dp - st.dot);
          for (int e = 0; e < d; ++e) {
            acc_k[e] += ds * q_row[e];
            acc_v[e] += p * do_row[e];
          }
        }
        for (int e = 0; e < d; ++e) {
          dk_row[e] += scale * acc_k[e];
          dv_row[e] += acc_v[e];
        }
      }
    }
  });
  return absl::OkStatus();
}

}  // namespace lockstep::cpu
