// CPU numerics throughput: Linear (GFLOP/s) at decode and prefill row counts,
// against two baselines measured in the same run — the same kernel forced onto
// the portable (no-AVX) code path, and a plain one-dot-at-a-time loop with the
// same fixed reduction order. Also full-sequence causal attention.
//   build/bin/numerics_cpu_bench
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "numerics/cpu/attention.h"
#include "numerics/cpu/linear.h"
#include "numerics/cpu/parallel.h"

namespace {

using lockstep::DType;
using lockstep::Tensor;
using namespace lockstep::cpu;
using Clock = std::chrono::steady_clock;

Tensor Random(int64_t rows, int64_t cols, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> n(0.0f, 0.5f);
  Tensor t(DType::kBF16, {rows, cols});
  for (int64_t i = 0; i < t.numel(); ++i) t.SetFloat(i, n(rng));
  return t;
}

template <class F>
double SecondsPerCall(F&& f, double min_seconds = 0.3) {
  f();  // warm up
  int reps = 0;
  const auto start = Clock::now();
  double s = 0.0;
  do {
    f();
    ++reps;
    s = std::chrono::duration<double>(Clock::now() - start).count();
  } while (s < min_seconds);
  return s / reps;
}

}  // namespace

int main() {
  std::printf("threads %d, detected ISA %s\n", NumThreads(),
              std::string(CpuIsaName(DetectedCpuIsa())).c_str());
  std::printf("%-4s %-6s %12s %14s %12s %8s\n", "M", "N=K", "GFLOP/s", "portable path",
              "naive loop", "speedup");
  for (int64_t nk : {256, 512, 1024}) {
    const Tensor w = Random(nk, nk, 1);
    const LinearWeight lw = PrepareLinearWeight(w.AsMatrix(), nullptr);
    for (int64_t m : {1, 8, 64}) {
      const Tensor x = Random(m, nk, 2);
      Tensor out(DType::kBF16, {m, nk});
      const double flops = 2.0 * m * nk * nk;
      SetLinearIsaForTesting(DetectedCpuIsa());
      const double best = SecondsPerCall([&] { (void)Linear(x.AsMatrix(), lw, out.AsMatrix()); });
      SetLinearIsaForTesting(CpuIsa::kBaseline);
      const double portable =
          SecondsPerCall([&] { (void)Linear(x.AsMatrix(), lw, out.AsMatrix()); });
      SetLinearIsaForTesting(DetectedCpuIsa());
      // Naive: one DotFixedOrder per output element, single thread.
      std::vector<float> xf(static_cast<size_t>(m * nk));
      for (int64_t i = 0; i < m * nk; ++i) xf[i] = x.GetFloat(i);
      volatile float sink = 0.0f;
      const double naive = SecondsPerCall([&] {
        for (int64_t r = 0; r < m; ++r)
          for (int64_t c = 0; c < nk; ++c)
            sink = DotFixedOrder(xf.data() + r * nk, lw.weight_f32.data() + c * nk, nk);
      });
      std::printf("%-4lld %-6lld %12.1f %14.1f %12.1f %7.1fx\n", static_cast<long long>(m),
                  static_cast<long long>(nk), flops / best / 1e9, flops / portable / 1e9,
                  flops / naive / 1e9, naive / best);
    }
  }
  const AttentionShape shape{.num_heads = 8, .num_kv_heads = 2, .head_dim = 64, .scale = 0.125f};
  for (int64_t t : {128, 512}) {
    const Tensor q = Random(t, 8 * 64, 3), k = Random(t, 2 * 64, 4), v = Random(t, 2 * 64, 5);
    Tensor out(DType::kBF16, {t, 8 * 64});
    const double s = SecondsPerCall(
        [&] { (void)CausalAttention(q.AsMatrix(), k.AsMatrix(), v.AsMatrix(), shape, out.AsMatrix()); });
    // QKᵀ and PV over the causal half: 2 · 2 · T²/2 · heads · head_dim.
    std::printf("causal attention T=%-4lld (8 q heads, 2 kv, d=64): %.2f ms, %.1f GFLOP/s\n",
                static_cast<long long>(t), s * 1e3, 2.0 * t * t * 8 * 64 / s / 1e9);
  }
  return 0;
}
