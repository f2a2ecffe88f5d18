// Token log-probabilities and sampling with temperature, top-k and top-p on the GPU: one
// block per row, one code path for scoring and for drawing, so a drawn token's logprob is
// the scored logprob bit for bit. Every step's order is fixed by V alone (strided partials
// in increasing id, a fixed halving tree; integer histograms for the selections, which are
// exact in any order), so a row's result never depends on the batch it is launched in.
// Definitions follow numerics/cpu/logprob.cc; the sums run in another order and exp/log are
// CUDA's, so values differ from the CPU in the last bits (tests state the gap).
#include <cuda_runtime.h>

#include <climits>
#include <cmath>
#include <cstdint>

#include "numerics/cuda/backend_kernels.h"
#include "numerics/cuda/element_access.cuh"

namespace lockstep::cuda::internal {
namespace {

constexpr int kThreads = 256;  // a power of two: the halving trees need it
constexpr int kRadixBins = 256;
constexpr int kRadixBits = 8;
// Top-p masses are summed as integers in units of 2^-48: exact, so order-free.
constexpr float kMassScale = 0x1p48f;

// Philox4x32-10 (numerics/philox.cc), device side.
constexpr uint32_t kMultiplier0 = 0xD2511F53u;
constexpr uint32_t kMultiplier1 = 0xCD9E8D57u;
constexpr uint32_t kWeyl0 = 0x9E3779B9u;
constexpr uint32_t kWeyl1 = 0xBB67AE85u;

__device__ float SamplingUniformOnDevice(uint64_t seed, uint32_t request, uint32_t sample_index,
                                         uint32_t position) {
  uint32_t key0 = static_cast<uint32_t>(seed), key1 = static_cast<uint32_t>(seed >> 32);
  uint32_t c0 = request, c1 = sample_index, c2 = position, c3 = 0u;
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      key0 += kWeyl0;
      key1 += kWeyl1;
    }
    const uint32_t hi0 = __umulhi(kMultiplier0, c0), lo0 = kMultiplier0 * c0;
    const uint32_t hi1 = __umulhi(kMultiplier1, c2), lo1 = kMultiplier1 * c2;
    const uint32_t n0 = hi1 ^ c1 ^ key0, n2 = hi0 ^ c3 ^ key1;
    c0 = n0;
    c1 = lo1;
    c2 = n2;
    c3 = lo0;
  }
  return __fmul_rn(__uint2float_rn(c0 >> 8), 0x1.0p-24f);  // 24 bits: exact
}

// z ordered as an unsigned key (larger z -> larger key); NaN ranks with -inf (the CPU's
// RankKey) and -0 with +0 (they compare equal there).
__device__ __forceinline__ uint32_t RankKey(float z) {
  if (isnan(z)) z = -INFINITY;
  if (z == 0.0f) z = 0.0f;
  const uint32_t bits = __float_as_uint(z);
  return (bits & 0x80000000u) ? ~bits : (bits | 0x80000000u);
}
// A probability (>= 0) as an ordered key; NaN ranks last (the CPU sorts it as -1).
__device__ __forceinline__ uint32_t ProbKey(float p) { return isnan(p) ? 0u : __float_as_uint(p); }
__device__ __forceinline__ unsigned long long Mass(float p) {
  return isnan(p) ? 0ull : __float2ull_rn(__fmul_rn(p, kMassScale));
}

// a / b correctly rounded to fp32, as __fdiv_rn and the CPU's `/`, for finite b > 0 (a
// temperature, a candidate total). The quotient is computed in double to a relative error
// far below 2^-50 (an approximate reciprocal, two Newton steps, one residual correction;
// every step an explicit _rn operation), then rounded once to fp32. That rounding is the
// correct one: an exact quotient of two fp32 values is never a fp32 rounding midpoint and
// lies at least 2^-49 (relatively) away from every one, so no error below that can cross a
// midpoint. Checked on the H200 against the host's `/` for every fp16/bf16 value and 2^20
// random fp32 values over 8 divisors: only -0 differed (the residual step made it +0; it is
// now returned as is, as infinities are — that fix is checked by a host emulation of these
// steps with a perturbed reciprocal seed, 0 of 3.1e7 differ, not yet re-run on the GPU).
// Not __fdiv_rn: its slow-path subroutine, inlined at the
// many sites here, makes ptxas spill registers around the calls.
__device__ __forceinline__ float DivideRounded(float a, float b) {
  if (a == 0.0f || isinf(a)) return a;  // b > 0: the sign of a zero or infinity stays
  const double ad = a, bd = b;
  double r;
  asm("rcp.approx.ftz.f64 %0, %1;" : "=d"(r) : "d"(bd));
  double e = __fma_rn(-bd, r, 1.0);
  r = __fma_rn(r, e, r);
  e = __fma_rn(-bd, r, 1.0);
  r = __fma_rn(r, e, r);
  double q = __dmul_rn(ad, r);
  const double residual = __fma_rn(-bd, q, ad);
  q = __fma_rn(r, residual, q);
  return __double2float_rn(q);
}

constexpr int kWarps = kThreads / 32;
// Serial walks (tie cuts, the inverse CDF inside one chunk) read their values from shared
// memory, computed in parallel kPiece at a time: same values, same order, no global-memory
// latency on thread 0's critical path.
constexpr int kPiece = 1024;

struct Shared {
  float partial[kThreads];
  uint32_t keys[kThreads];
  int32_t ids[kThreads];
  // Per-warp histograms (the first radix pass puts most of a row into a few bins: one
  // shared histogram would serialise the whole block on them). Integer sums: order-free.
  unsigned long long hist[kWarps][kRadixBins];
  float piece[kPiece];
  int digit;
  unsigned long long above;
  int32_t chosen;
  float running;
  float threshold;
};

// Halving tree over partial[]: step w combines t and t + w for t < w (w = 128, ..., 1).
template <typename Combine>
__device__ __forceinline__ float BlockReduce(Shared& s, float value, Combine combine) {
  s.partial[threadIdx.x] = value;
  __syncthreads();
  for (int width = kThreads / 2; width >= 1; width /= 2) {
    if (static_cast<int>(threadIdx.x) < width) {
      s.partial[threadIdx.x] = combine(s.partial[threadIdx.x], s.partial[threadIdx.x + width]);
    }
    __syncthreads();
  }
  const float result = s.partial[0];
  __syncthreads();
  return result;
}
__device__ __forceinline__ float BlockSum(Shared& s, float v) {
  return BlockReduce(s, v, [](float a, float b) { return __fadd_rn(a, b); });
}
__device__ __forceinline__ float BlockMax(Shared& s, float v) {
  return BlockReduce(s, v, [](float a, float b) { return fmaxf(a, b); });
}

// The CPU's Argmax over raw logits: the lowest id among the largest non-NaN values (0 if
// every value is NaN).
template <typename T>
__device__ __forceinline__ int32_t BlockArgmax(Shared& s, const T* x, int64_t vocab) {
  uint32_t best_key = 0;
  int32_t best_id = INT32_MAX;
  for (int64_t i = threadIdx.x; i < vocab; i += kThreads) {
    const float v = ToFloat(x[i]);
    const uint32_t key = isnan(v) ? 0u : RankKey(v);  // RankKey(-inf) > 0
    if (key > best_key || best_id == INT32_MAX) {
      best_key = key;
      best_id = static_cast<int32_t>(i);
    }
  }
  s.keys[threadIdx.x] = best_key;
  s.ids[threadIdx.x] = best_id;
  __syncthreads();
  for (int width = kThreads / 2; width >= 1; width /= 2) {
    const int t = threadIdx.x;
    if (t < width) {
      const uint32_t k2 = s.keys[t + width];
      const int32_t i2 = s.ids[t + width];
      if (k2 > s.keys[t] || (k2 == s.keys[t] && i2 < s.ids[t])) {
        s.keys[t] = k2;
        s.ids[t] = i2;
      }
    }
    __syncthreads();
  }
  const int32_t best = s.ids[0] == INT32_MAX ? 0 : s.ids[0];
  __syncthreads();
  return best;
}

// Among the ids `key_mass` accepts (it returns false for the others and sets the element's
// ordered key and weight), finds the largest key t whose elements with key >= t weigh at
// least `target`, by four 8-bit radix passes with exact integer histograms. *above gets
// the weight of the elements with key > t. False if all of them weigh less than target.
template <typename KeyMass>
__device__ __forceinline__ bool RadixSelect(Shared& s, int64_t vocab, unsigned long long target,
                                            KeyMass key_mass, uint32_t* threshold,
                                            unsigned long long* above) {
  const int warp = threadIdx.x / 32;
  uint32_t prefix = 0, mask = 0;
  unsigned long long weight_above = 0;
  for (int shift = 32 - kRadixBits; shift >= 0; shift -= kRadixBits) {
    for (int b = threadIdx.x; b < kWarps * kRadixBins; b += kThreads) {
      s.hist[b / kRadixBins][b % kRadixBins] = 0;
    }
    __syncthreads();
    for (int64_t i = threadIdx.x; i < vocab; i += kThreads) {
      uint32_t key;
      unsigned long long weight;
      if (key_mass(i, &key, &weight) && (key & mask) == prefix && weight != 0) {
        atomicAdd(&s.hist[warp][(key >> shift) & (kRadixBins - 1)], weight);
      }
    }
    __syncthreads();
    for (int b = threadIdx.x; b < kRadixBins; b += kThreads) {  // each thread: its own bins
      unsigned long long total = 0;
      for (int w = 0; w < kWarps; ++w) total += s.hist[w][b];
      s.hist[0][b] = total;
    }
    __syncthreads();
    if (threadIdx.x == 0) {
      int digit = -1;
      unsigned long long acc = weight_above;
      for (int d = kRadixBins - 1; d >= 0; --d) {
        if (acc + s.hist[0][d] >= target) {
          digit = d;
          break;
        }
        acc += s.hist[0][d];
      }
      s.digit = digit;
      s.above = acc;
    }
    __syncthreads();
    const int digit = s.digit;
    weight_above = s.above;
    __syncthreads();
    if (digit < 0) return false;
    prefix |= static_cast<uint32_t>(digit) << shift;
    mask |= static_cast<uint32_t>(kRadixBins - 1) << shift;
  }
  *threshold = prefix;
  *above = weight_above;
  return true;
}

// The id of the `need`-th element (1-based, ascending id) that `is_tie` accepts; INT32_MAX
// if fewer exist. Thread t counts ids [t*C, (t+1)*C); thread 0 finds the chunk holding the
// need-th one and walks it in ascending id over flags the block computes in parallel.
template <typename IsTie>
__device__ __forceinline__ int32_t TieCut(Shared& s, int64_t vocab, unsigned long long need,
                                          IsTie is_tie) {
  const int64_t chunk = (vocab + kThreads - 1) / kThreads;
  const int64_t begin = threadIdx.x * chunk;
  const int64_t end = min(vocab, begin + chunk);
  int32_t count = 0;
  for (int64_t i = begin; i < end; ++i) count += is_tie(i) ? 1 : 0;
  s.ids[threadIdx.x] = count;
  __syncthreads();
  if (threadIdx.x == 0) {
    int found = -1;
    unsigned long long acc = 0;
    for (int j = 0; j < kThreads; ++j) {
      if (acc + static_cast<unsigned long long>(s.ids[j]) >= need) {
        found = j;
        break;
      }
      acc += s.ids[j];
    }
    s.digit = found;
    s.above = acc;
    s.chosen = INT32_MAX;
  }
  __syncthreads();
  const int j = s.digit;
  __syncthreads();
  if (j < 0) return INT32_MAX;
  const int64_t chunk_begin = j * chunk;
  const int64_t chunk_end = min(vocab, chunk_begin + chunk);
  for (int64_t p = chunk_begin; p < chunk_end; p += kPiece) {
    const int n = static_cast<int>(min(static_cast<int64_t>(kPiece), chunk_end - p));
    for (int e = threadIdx.x; e < n; e += kThreads) s.piece[e] = is_tie(p + e) ? 1.0f : 0.0f;
    __syncthreads();
    if (threadIdx.x == 0) {
      unsigned long long acc = s.above;
      for (int e = 0; e < n; ++e) {
        if (s.piece[e] != 0.0f && ++acc == need) {
          s.chosen = static_cast<int32_t>(p + e);
          break;
        }
      }
      s.above = acc;
    }
    __syncthreads();
    const bool done = s.chosen != INT32_MAX;
    __syncthreads();
    if (done) break;
  }
  const int32_t cut = s.chosen;
  __syncthreads();
  return cut;
}

// The candidate set of one row as predicates, identical in every thread.
struct Selection {
  bool all = true;
  uint32_t k_key = 0;  // top-k: key > k_key, or key == k_key and id <= k_tie_cut
  int32_t k_tie_cut = INT32_MAX;
  bool use_p = false;  // top-p over the top-k set, renormalised by p_total
  float p_max = 0.0f;
  float p_total = 1.0f;
  uint32_t p_key = 0;
  int32_t p_tie_cut = INT32_MAX;

  __device__ bool InTopK(int64_t i, float z) const {
    const uint32_t key = RankKey(z);
    return key > k_key || (key == k_key && i <= k_tie_cut);
  }
  __device__ float Prob(float z) const {
    return DivideRounded(expf(__fsub_rn(z, p_max)), p_total);
  }
  __device__ bool In(int64_t i, float z) const {
    if (all) return true;
    if (!InTopK(i, z)) return false;
    if (!use_p) return true;
    const uint32_t key = ProbKey(Prob(z));
    return key > p_key || (key == p_key && i <= p_tie_cut);
  }
};

template <typename ZFn>
__device__ __forceinline__ Selection Select(Shared& s, ZFn z, int64_t vocab, const DeviceSamplingRow& spec) {
  Selection sel;
  const bool use_top_k = spec.top_k > 0 && spec.top_k < vocab;
  const bool use_top_p = spec.top_p < 1.0f;
  if (!use_top_k && !use_top_p) return sel;
  sel.all = false;
  if (use_top_k) {
    uint32_t key = 0;
    unsigned long long above = 0;
    RadixSelect(
        s, vocab, static_cast<unsigned long long>(spec.top_k),
        [&](int64_t i, uint32_t* k, unsigned long long* w) {
          *k = RankKey(z(i));
          *w = 1;
          return true;
        },
        &key, &above);
    sel.k_key = key;
    sel.k_tie_cut = TieCut(s, vocab, static_cast<unsigned long long>(spec.top_k) - above,
                           [&](int64_t i) { return RankKey(z(i)) == key; });
  }
  if (use_top_p) {
    float local_max = -INFINITY;
    for (int64_t i = threadIdx.x; i < vocab; i += kThreads) {
      const float zi = z(i);
      if (sel.InTopK(i, zi)) local_max = fmaxf(local_max, zi);
    }
    sel.p_max = BlockMax(s, local_max);
    float local_sum = 0.0f;
    for (int64_t i = threadIdx.x; i < vocab; i += kThreads) {
      const float zi = z(i);
      if (sel.InTopK(i, zi)) local_sum = __fadd_rn(local_sum, expf(__fsub_rn(zi, sel.p_max)));
    }
    sel.p_total = BlockSum(s, local_sum);
    const unsigned long long target = Mass(spec.top_p);
    uint32_t key = 0;
    unsigned long long above = 0;
    const bool reached = RadixSelect(
        s, vocab, target,
        [&](int64_t i, uint32_t* k, unsigned long long* w) {
          const float zi = z(i);
          if (!sel.InTopK(i, zi)) return false;
          const float p = sel.Prob(zi);
          *k = ProbKey(p);
          *w = Mass(p);
          return true;
        },
        &key, &above);
    // If rounding leaves the whole top-k set short of top_p, every candidate stays.
    if (reached) {
      const unsigned long long each = Mass(__uint_as_float(key));  // > 0: it crossed
      // need = ceil((target - above) / each), in double (exact below 2^53) then fixed up
      // exactly: a 64-bit integer division is a subroutine call that spills registers.
      unsigned long long need = static_cast<unsigned long long>(
          ceil(__ddiv_rn(static_cast<double>(target - above), static_cast<double>(each))));
      while (above + need * each < target) ++need;
      while (need > 1 && above + (need - 1) * each >= target) --need;
      sel.p_key = key;
      sel.p_tie_cut = TieCut(s, vocab, need, [&](int64_t i) {
        const float zi = z(i);
        return sel.InTopK(i, zi) && ProbKey(sel.Prob(zi)) == key;
      });
      sel.use_p = true;
    }
  }
  return sel;
}

// Inverse CDF over the candidates in ascending id: thread t sums its contiguous chunk of
// ids sequentially; thread 0 chains the chunk sums in order (the last link is the total),
// finds the first chunk whose running end exceeds u * total and walks it from the chunk's
// start value: the first id whose running sum exceeds the threshold. If rounding leaves
// none, the last candidate with non-zero weight (as the CPU).
template <typename ZFn>
__device__ __forceinline__ int32_t DrawToken(Shared& s, ZFn z, int64_t vocab,
                                             const Selection& sel, float m, float u) {
  const int64_t chunk = (vocab + kThreads - 1) / kThreads;
  const int64_t begin = threadIdx.x * chunk;
  const int64_t end = min(vocab, begin + chunk);
  auto weight = [&](int64_t i) {
    const float zi = z(i);
    return sel.In(i, zi) ? expf(__fsub_rn(zi, m)) : 0.0f;
  };
  float chunk_sum = 0.0f;
  int32_t last_positive = -1;
  for (int64_t i = begin; i < end; ++i) {
    const float w = weight(i);
    if (w > 0.0f) last_positive = static_cast<int32_t>(i);
    chunk_sum = __fadd_rn(chunk_sum, w);
  }
  s.partial[threadIdx.x] = chunk_sum;
  s.ids[threadIdx.x] = last_positive;
  __syncthreads();
  if (threadIdx.x == 0) {
    float total = 0.0f;
    for (int j = 0; j < kThreads; ++j) total = __fadd_rn(total, s.partial[j]);
    const float threshold = __fmul_rn(u, total);
    int found = -1;
    float start = 0.0f;
    for (int j = 0; j < kThreads; ++j) {
      const float chunk_end = __fadd_rn(start, s.partial[j]);
      if (chunk_end > threshold) {
        found = j;
        break;
      }
      start = chunk_end;
    }
    int32_t fallback = -1;  // no chunk crossed: the last candidate with weight
    for (int j = kThreads - 1; j >= 0 && fallback < 0; --j) fallback = s.ids[j];
    s.digit = found;
    s.running = start;
    s.threshold = threshold;
    s.chosen = found >= 0 ? -1 : (fallback < 0 ? 0 : fallback);
  }
  __syncthreads();
  const int j = s.digit;
  const float threshold = s.threshold;
  __syncthreads();
  if (j >= 0) {
    const int64_t chunk_begin = j * chunk;
    const int64_t chunk_end = min(vocab, chunk_begin + chunk);
    for (int64_t p = chunk_begin; p < chunk_end; p += kPiece) {
      const int n = static_cast<int>(min(static_cast<int64_t>(kPiece), chunk_end - p));
      for (int e = threadIdx.x; e < n; e += kThreads) s.piece[e] = weight(p + e);
      __syncthreads();
      if (threadIdx.x == 0) {
        float running = s.running;
        for (int e = 0; e < n; ++e) {
          running = __fadd_rn(running, s.piece[e]);
          if (running > threshold) {
            s.chosen = static_cast<int32_t>(p + e);
            break;
          }
        }
        s.running = running;
      }
      __syncthreads();
      const bool done = s.chosen >= 0;
      __syncthreads();
      if (done) break;
    }
    if (threadIdx.x == 0 && s.chosen < 0) s.chosen = s.ids[j];  // rounding: chunk's last
    __syncthreads();
  }
  const int32_t chosen = s.chosen;
  __syncthreads();
  return chosen;
}

// One row at temperature > 0, given its tempered logits z(i) = logit / temperature.
template <typename ZFn>
__device__ __forceinline__ void SampleRow(Shared& s, ZFn z, int64_t vocab,
                                          const DeviceSamplingRow& spec, int sample,
                                          DeviceSampledRow* out_row) {
  const Selection sel = Select(s, z, vocab, spec);

  float local_max = -INFINITY;
  for (int64_t i = threadIdx.x; i < vocab; i += kThreads) {
    const float zi = z(i);
    if (sel.In(i, zi)) local_max = fmaxf(local_max, zi);
  }
  const float m = BlockMax(s, local_max);
  float local_sum = 0.0f;
  for (int64_t i = threadIdx.x; i < vocab; i += kThreads) {
    const float zi = z(i);
    if (sel.In(i, zi)) local_sum = __fadd_rn(local_sum, expf(__fsub_rn(zi, m)));
  }
  const float sum = BlockSum(s, local_sum);

  int32_t token = spec.token;
  if (sample != 0) {
    const float u = SamplingUniformOnDevice(spec.seed, spec.request, spec.sample_index,
                                            spec.position);
    token = DrawToken(s, z, vocab, sel, m, u);
  }
  if (threadIdx.x != 0) return;
  if (token < 0 || token >= vocab) {  // the host checks tokens; a guard, not a path
    *out_row = DeviceSampledRow{token, NAN};
    return;
  }
  const float z_token = z(token);
  const float logprob =
      sel.In(token, z_token) ? __fsub_rn(__fsub_rn(z_token, m), logf(sum)) : -INFINITY;
  *out_row = DeviceSampledRow{token, logprob};
}

template <typename T>
__global__ void __launch_bounds__(kThreads)
    SamplingKernel(const T* logits, int64_t stride, int64_t vocab, const DeviceSamplingRow* rows,
                   int sample, DeviceSampledRow* out) {
  __shared__ Shared s;
  const int64_t r = blockIdx.x;
  const DeviceSamplingRow spec = rows[r];
  const T* x = logits + r * stride;
  if (spec.temperature == 0.0f) {
    const int32_t best = BlockArgmax(s, x, vocab);
    if (threadIdx.x == 0) {
      out[r] = sample != 0 ? DeviceSampledRow{best, 0.0f}
                           : DeviceSampledRow{spec.token, spec.token == best ? 0.0f : -INFINITY};
    }
    return;
  }
  const float temperature = spec.temperature;
  if (temperature == 1.0f) {
    // x / 1 rounded is x itself (DivideRounded is correctly rounded): the same z without the
    // double-precision division that every pass over the row would otherwise repeat per
    // element (most of this kernel's time at temperature 1, the usual rollout setting).
    SampleRow(s, [&](int64_t i) { return ToFloat(x[i]); }, vocab, spec, sample, &out[r]);
  } else {
    SampleRow(s, [&](int64_t i) { return DivideRounded(ToFloat(x[i]), temperature); }, vocab,
              spec, sample, &out[r]);
  }
}

__global__ void DivideKernel(const float* a, float b, int64_t n, float* out) {
  const int64_t i = int64_t{blockIdx.x} * blockDim.x + threadIdx.x;
  if (i < n) out[i] = DivideRounded(a[i], b);
}

__global__ void SamplingUniformsKernel(const DeviceSamplingRow* rows, int64_t n, float* out) {
  const int64_t i = int64_t{blockIdx.x} * blockDim.x + threadIdx.x;
  if (i >= n) return;
  out[i] = SamplingUniformOnDevice(rows[i].seed, rows[i].request, rows[i].sample_index,
                                   rows[i].position);
}

}  // namespace

cudaError_t LaunchSampling(DeviceRows logits, const DeviceSamplingRow* rows, int sample,
                           DeviceSampledRow* out, cudaStream_t stream) {
  return DispatchStorageType(logits.type, [&](auto tag) {
    using T = decltype(tag);
    SamplingKernel<T><<<static_cast<unsigned>(logits.rows), kThreads, 0, stream>>>(
        static_cast<const T*>(logits.data), logits.row_stride, logits.cols, rows, sample, out);
    return cudaGetLastError();
  });
}

cudaError_t LaunchSamplingUniforms(const DeviceSamplingRow* rows, int64_t n, float* out,
                                   cudaStream_t stream) {
  constexpr int kUniformThreads = 128;
  SamplingUniformsKernel<<<BlocksFor(n, kUniformThreads), kUniformThreads, 0, stream>>>(rows, n,
                                                                                        out);
  return cudaGetLastError();
}

cudaError_t LaunchDivideForTest(const float* a, float b, int64_t n, float* out,
                               cudaStream_t stream) {
  constexpr int kDivideThreads = 256;
  DivideKernel<<<BlocksFor(n, kDivideThreads), kDivideThreads, 0, stream>>>(a, b, n, out);
  return cudaGetLastError();
}

}  // namespace lockstep::cuda::internal
