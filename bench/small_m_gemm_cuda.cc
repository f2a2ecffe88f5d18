// Benchmark + bit experiment (binary small_m_gemm_bench) for the small-M fixed-order GEMM
// (numerics/cuda/small_m_gemm.h). Part 1 (--check): does one fp32 chain over K in k16
// mma.sync steps give the bits of the batch-invariant cuBLASLt plan (split-K 1, algo 66)?
// Counts differing elements and ulps per shape, dtype and M, with a negative control (two
// accumulators, even/odd k16 steps) that must differ, and a plan with the kernel wired in
// for M <= 128 against the cuBLASLt-only plan. Part 2 (--time): µs per call of every
// kernel tiling, the cuBLASLt-only plan, that mixed plan and the default plan against
// cuBLASLt's heuristic, same run (CUDA events, median of 25, weights rotated over 256 MB).
// Part 3 (--sliced): the K-sliced chain order (k_sliced_order.h) over M = 1..4096: do the
// small-M kernel and the wgmma kernel (wgmma_gemm.h) give the same bits for each slice count,
// every tiling and every M (and S = 1 the cuBLASLt split-K-1 plan's)? Then µs per call of
// each against cuBLASLt's heuristic, same run.
//
//   small_m_gemm_bench [--check] [--time] [--sliced] [--sliced-shape NAME] [--slices S]
//                      [--csv FILE]   (no flag: check + time; the last two imply --sliced)
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "numerics/cuda/cuda_status.h"
#include "numerics/cuda/device_buffer.h"
#include "numerics/cuda/device_rows.h"
#include "numerics/cuda/kernel_launch.h"
#include "numerics/cuda/linear.h"
#include "numerics/cuda/small_m_gemm.h"
#include "numerics/cuda/wgmma_gemm.h"
#include "numerics/dtype.h"
#include "numerics/status_macros.h"

namespace lockstep::bench {
namespace {

using cuda::LinearContext;
using cuda::LinearMode;
using cuda::LinearPlan;
using cuda::LinearShape;
using cuda::internal::SmallMConfig;
using cuda::internal::SmallMOrder;

struct Shape {
  const char* name;
  int64_t n, k;
};
constexpr Shape kShapes[] = {
    {"1.5B down", 1536, 8960},
    {"0.5B down", 896, 4864},
    {"7B down", 3584, 18944},
    {"0.5B q/o", 896, 896},
};
constexpr int64_t kRowCounts[] = {1, 2, 4, 8, 16, 32, 64, 128};
constexpr int64_t kMaxRows = 128;
constexpr size_t kRotationBytes = size_t{256} << 20;

// A timed variant: `plan` on the first `rows` rows of x, with the weight the timer passes.
std::function<absl::Status(const void*)> PlanCall(const LinearPlan* plan, DType dtype,
                                                  const void* x, void* y, int64_t rows, int64_t n,
                                                  int64_t k, cudaStream_t stream) {
  return [=](const void* weight) {
    const ConstMatrixView xv(dtype, x, rows, k, k, Device::kCuda);
    const ConstMatrixView wv(dtype, weight, n, k, k, Device::kCuda);
    const MatrixView yv{dtype, y, rows, n, n, Device::kCuda};
    return plan->Run(xv, wv, nullptr, yv, stream);
  };
}

std::string ConfigName(SmallMConfig c) {
  return absl::StrCat("w", c.warps, "t", c.row_tiles, "s", c.stages);
}

// N(0, 1) * scale, rounded to the dtype, as 16-bit patterns.
std::vector<uint16_t> NormalBits(DType dtype, int64_t count, float scale, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<uint16_t> bits(count);
  for (uint16_t& b : bits) {
    const float v = normal(rng) * scale;
    b = dtype == DType::kBF16 ? FloatToBf16Bits(v) : FloatToHalfBits(v);
  }
  return bits;
}

float BitsToFloat(DType dtype, uint16_t b) {
  return dtype == DType::kBF16 ? Bf16BitsToFloat(b) : HalfBitsToFloat(b);
}

// Distance in units in the last place between two finite 16-bit floats of one dtype.
int UlpDistance(uint16_t a, uint16_t b) {
  auto ordered = [](uint16_t v) { return (v & 0x8000) ? -static_cast<int>(v & 0x7fff) : v; };
  return std::abs(ordered(a) - ordered(b));
}

struct Diff {
  int64_t differing = 0;
  int max_ulps = 0;
};
Diff Compare(const std::vector<uint16_t>& a, const std::vector<uint16_t>& b, int64_t count) {
  Diff d;
  for (int64_t i = 0; i < count; ++i) {
    if (a[i] == b[i]) continue;
    ++d.differing;
    d.max_ulps = std::max(d.max_ulps, UlpDistance(a[i], b[i]));
  }
  return d;
}

absl::StatusOr<std::vector<uint16_t>> Download(const cuda::DeviceBuffer& b, int64_t count) {
  std::vector<uint16_t> out(count);
  LOCKSTEP_RETURN_IF_ERROR(b.CopyToHost(out.data(), count * 2));
  return out;
}

cuda::internal::DeviceRows Rows(DType dtype, const void* data, int64_t rows, int64_t cols) {
  return {cuda::internal::ToStorageType(dtype), data, rows, cols, cols};
}
cuda::internal::MutableDeviceRows MutableRows(DType dtype, void* data, int64_t rows,
                                              int64_t cols) {
  return {cuda::internal::ToStorageType(dtype), data, rows, cols, cols};
}

// ---- Part 1: bits ----------------------------------------------------------------------

absl::Status CheckShape(LinearContext* context, const Shape& shape, DType dtype,
                        std::ofstream* csv) {
  const int64_t n = shape.n, k = shape.k;
  const std::vector<uint16_t> w_host = NormalBits(dtype, n * k, 0.05f, 1000 + n + k);
  const std::vector<uint16_t> x_host = NormalBits(dtype, kMaxRows * k, 1.0f, 2000 + n + k);
  LOCKSTEP_ASSIGN_OR_RETURN(cuda::DeviceBuffer w, cuda::DeviceBuffer::FromHost(w_host.data(),
                                                                               n * k * 2));
  LOCKSTEP_ASSIGN_OR_RETURN(cuda::DeviceBuffer x,
                            cuda::DeviceBuffer::FromHost(x_host.data(), kMaxRows * k * 2));
  LOCKSTEP_ASSIGN_OR_RETURN(cuda::DeviceBuffer y, cuda::DeviceBuffer::Allocate(kMaxRows * n * 2));
  const LinearShape linear_shape{dtype, n, k, false};
  // The reference: cuBLASLt alone (the own kernel off in every bucket).
  LOCKSTEP_ASSIGN_OR_RETURN(auto invariant,
                            LinearPlan::Create(context, linear_shape, {.small_m_max_rows = 0}));
  LOCKSTEP_ASSIGN_OR_RETURN(
      auto heuristic, LinearPlan::Create(context, linear_shape, {.mode = LinearMode::kHeuristic}));
  // The plan with the own kernel wired in for M <= 128 (self-checked across the switch).
  LOCKSTEP_ASSIGN_OR_RETURN(auto mixed,
                            LinearPlan::Create(context, linear_shape, {.small_m_max_rows = 128}));
  std::printf("\n%s (%lld, %lld) %s: cuBLASLt-only plan: %s\n  plan with the kernel for M <= 128: "
              "%s (M = 1 %s)\n",
              shape.name, static_cast<long long>(n), static_cast<long long>(k),
              std::string(DTypeName(dtype)).c_str(), invariant->self_check_note().c_str(),
              mixed->self_check_note().c_str(),
              mixed->UsesSmallMKernel(1) ? "on the kernel" : "on cuBLASLt");
  std::printf("  %4s %10s %9s %9s %9s %9s %9s %9s %8s %8s %10s  plan config\n", "M", "elements",
              "chain!=", "chain_ulp", "ctrl!=", "ctrl_ulp", "heur!=", "heur_ulp", "cfg!=",
              "crossM!=", "rel_err");

  auto run_plan = [&](const LinearPlan& plan, int64_t rows) -> absl::StatusOr<std::vector<uint16_t>> {
    LOCKSTEP_RETURN_IF_ERROR(y.Fill(0xA5));
    const ConstMatrixView xv(dtype, x.data(), rows, k, k, Device::kCuda);
    const ConstMatrixView wv(dtype, w.data(), n, k, k, Device::kCuda);
    const MatrixView yv{dtype, y.data(), rows, n, n, Device::kCuda};
    LOCKSTEP_RETURN_IF_ERROR(plan.Run(xv, wv, nullptr, yv, nullptr));
    LOCKSTEP_RETURN_IF_ERROR(cuda::CudaStatus(cudaDeviceSynchronize(), "plan run"));
    return Download(y, rows * n);
  };
  auto run_kernel = [&](SmallMConfig config, SmallMOrder order,
                        int64_t rows) -> absl::StatusOr<std::vector<uint16_t>> {
    LOCKSTEP_RETURN_IF_ERROR(y.Fill(0xA5));
    LOCKSTEP_RETURN_IF_ERROR(cuda::CudaStatus(
        cuda::internal::LaunchSmallMGemm(Rows(dtype, x.data(), rows, k), Rows(dtype, w.data(), n, k),
                                         MutableRows(dtype, y.data(), rows, n), config, order,
                                         1, nullptr),
        absl::StrCat("small-M GEMM ", ConfigName(config))));
    LOCKSTEP_RETURN_IF_ERROR(cuda::CudaStatus(cudaDeviceSynchronize(), "small-M GEMM"));
    return Download(y, rows * n);
  };

  LOCKSTEP_ASSIGN_OR_RETURN(std::vector<uint16_t> chain_all,
                            run_kernel(cuda::internal::SmallMDefaultConfig(kMaxRows),
                                       SmallMOrder::kChain, kMaxRows));
  for (int64_t rows : kRowCounts) {
    const int64_t count = rows * n;
    LOCKSTEP_ASSIGN_OR_RETURN(std::vector<uint16_t> ref, run_plan(*invariant, rows));
    LOCKSTEP_ASSIGN_OR_RETURN(std::vector<uint16_t> heur, run_plan(*heuristic, rows));
    LOCKSTEP_ASSIGN_OR_RETURN(std::vector<uint16_t> mixed_out, run_plan(*mixed, rows));
    const int64_t mixed_differing = Compare(ref, mixed_out, count).differing;
    LOCKSTEP_ASSIGN_OR_RETURN(std::vector<uint16_t> chain,
                              run_kernel(cuda::internal::SmallMDefaultConfig(rows),
                                         SmallMOrder::kChain, rows));
    LOCKSTEP_ASSIGN_OR_RETURN(std::vector<uint16_t> control,
                              run_kernel(cuda::internal::SmallMConfigAt(0),
                                         SmallMOrder::kEvenOddControl, rows));
    // Every compiled tiling must give the default tiling's bits.
    int64_t config_differing = 0;
    for (int c = 0; c < cuda::internal::SmallMConfigCount(); ++c) {
      LOCKSTEP_ASSIGN_OR_RETURN(std::vector<uint16_t> other,
                                run_kernel(cuda::internal::SmallMConfigAt(c), SmallMOrder::kChain,
                                           rows));
      config_differing += Compare(chain, other, count).differing;
    }
    const Diff chain_diff = Compare(ref, chain, count);
    const Diff control_diff = Compare(ref, control, count);
    const Diff heur_diff = Compare(ref, heur, count);
    const int64_t cross_m = Compare(chain_all, chain, count).differing;
    // Accuracy against fp64 on sampled elements (a wrong kernel must not pass as "another
    // order"): max |chain - exact| / max |exact|.
    double max_err = 0, max_ref = 0;
    for (int s = 0; s < 64; ++s) {
      const int64_t r = s % rows, f = (s * 7919) % n;
      double exact = 0;
      for (int64_t kk = 0; kk < k; ++kk) {
        exact += static_cast<double>(BitsToFloat(dtype, x_host[r * k + kk])) *
                 BitsToFloat(dtype, w_host[f * k + kk]);
      }
      max_err = std::max(max_err, std::abs(BitsToFloat(dtype, chain[r * n + f]) - exact));
      max_ref = std::max(max_ref, std::abs(exact));
    }
    LOCKSTEP_ASSIGN_OR_RETURN(std::string plan_config, invariant->DescribeConfigFor(rows));
    std::printf("  %4lld %10lld %9lld %9d %9lld %9d %9lld %9d %8lld %8lld %8lld %10.2e  %s\n",
                static_cast<long long>(rows), static_cast<long long>(count),
                static_cast<long long>(chain_diff.differing), chain_diff.max_ulps,
                static_cast<long long>(control_diff.differing), control_diff.max_ulps,
                static_cast<long long>(heur_diff.differing), heur_diff.max_ulps,
                static_cast<long long>(config_differing), static_cast<long long>(cross_m),
                static_cast<long long>(mixed_differing), max_err / std::max(max_ref, 1e-30), plan_config.c_str());
    if (csv != nullptr) {
      *csv << "check," << shape.name << "," << n << "," << k << "," << DTypeName(dtype) << ","
           << rows << "," << count << "," << chain_diff.differing << "," << chain_diff.max_ulps
           << "," << control_diff.differing << "," << control_diff.max_ulps << ","
           << heur_diff.differing << "," << heur_diff.max_ulps << "," << config_differing << ","
           << cross_m << "," << mixed_differing << "\n";
    }
  }
  return absl::OkStatus();
}

// ---- Part 2: time ----------------------------------------------------------------------

struct Timed {
  std::string name;
  std::function<absl::Status(const void* weight)> call;
};

// Median µs per call of each variant, interleaved sample by sample; each sample is one
// event-timed group of calls, each call on the next weight copy.
absl::StatusOr<std::vector<double>> TimeVariants(const std::vector<Timed>& variants,
                                                 const std::vector<const void*>& weights,
                                                 cudaStream_t stream) {
  cudaEvent_t start, stop;
  LOCKSTEP_RETURN_IF_ERROR(cuda::CudaStatus(cudaEventCreate(&start), "event"));
  LOCKSTEP_RETURN_IF_ERROR(cuda::CudaStatus(cudaEventCreate(&stop), "event"));
  size_t next = 0;
  auto group = [&](const Timed& v, int calls) -> absl::StatusOr<double> {
    LOCKSTEP_RETURN_IF_ERROR(cuda::CudaStatus(cudaEventRecord(start, stream), "event"));
    for (int c = 0; c < calls; ++c) {
      LOCKSTEP_RETURN_IF_ERROR(v.call(weights[next]));
      next = (next + 1) % weights.size();
    }
    LOCKSTEP_RETURN_IF_ERROR(cuda::CudaStatus(cudaEventRecord(stop, stream), "event"));
    LOCKSTEP_RETURN_IF_ERROR(cuda::CudaStatus(cudaEventSynchronize(stop), "event sync"));
    float ms = 0;
    cudaEventElapsedTime(&ms, start, stop);
    return 1000.0 * ms / calls;
  };
  constexpr int kCalls = 20, kSamples = 25;
  for (const Timed& v : variants) {
    for (int i = 0; i < 3; ++i) LOCKSTEP_RETURN_IF_ERROR(group(v, 1).status());
  }
  std::vector<std::vector<double>> us(variants.size());
  for (int s = 0; s < kSamples; ++s) {
    for (size_t v = 0; v < variants.size(); ++v) {
      LOCKSTEP_ASSIGN_OR_RETURN(double sample, group(variants[v], kCalls));
      us[v].push_back(sample);
    }
  }
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  std::vector<double> medians;
  for (std::vector<double>& u : us) {
    std::sort(u.begin(), u.end());
    medians.push_back(u[u.size() / 2]);
  }
  return medians;
}

// One CSV row per variant: part, shape, N, K, dtype, M, variant, µs, ratio to variant 0.
void WriteTimes(std::ofstream* csv, const char* part, const Shape& shape, DType dtype, int64_t rows,
                const std::vector<Timed>& variants, const std::vector<double>& us) {
  if (csv == nullptr) return;
  for (size_t v = 0; v < variants.size(); ++v) {
    *csv << part << "," << shape.name << "," << shape.n << "," << shape.k << ","
         << DTypeName(dtype) << "," << rows << "," << variants[v].name << ","
         << absl::StrFormat("%.3f", us[v]) << "," << absl::StrFormat("%.3f", us[v] / us[0])
         << "\n";
  }
}

absl::Status TimeShape(LinearContext* context, const Shape& shape, DType dtype,
                       std::ofstream* csv) {
  const int64_t n = shape.n, k = shape.k;
  const int64_t copy_bytes = (n * k * 2 + 255) / 256 * 256;
  const int64_t copies = std::max<int64_t>(2, (kRotationBytes + copy_bytes - 1) / copy_bytes);
  LOCKSTEP_ASSIGN_OR_RETURN(cuda::DeviceBuffer weights,
                            cuda::DeviceBuffer::Allocate(copies * copy_bytes));
  LOCKSTEP_RETURN_IF_ERROR(cuda::CudaStatus(
      cuda::internal::LaunchFillUniform(cuda::internal::ToStorageType(dtype), weights.data(),
                                        copies * copy_bytes / 2, 11, nullptr),
      "fill weights"));
  LOCKSTEP_ASSIGN_OR_RETURN(cuda::DeviceBuffer x, cuda::DeviceBuffer::Allocate(kMaxRows * k * 2));
  LOCKSTEP_RETURN_IF_ERROR(cuda::CudaStatus(
      cuda::internal::LaunchFillUniform(cuda::internal::ToStorageType(dtype), x.data(),
                                        kMaxRows * k, 12, nullptr),
      "fill x"));
  LOCKSTEP_ASSIGN_OR_RETURN(cuda::DeviceBuffer y, cuda::DeviceBuffer::Allocate(kMaxRows * n * 2));
  std::vector<const void*> weight_ptrs;
  for (int64_t c = 0; c < copies; ++c) {
    weight_ptrs.push_back(static_cast<const char*>(weights.data()) + c * copy_bytes);
  }
  const LinearShape linear_shape{dtype, n, k, false};
  LOCKSTEP_ASSIGN_OR_RETURN(auto invariant,
                            LinearPlan::Create(context, linear_shape, {.small_m_max_rows = 0}));
  LOCKSTEP_ASSIGN_OR_RETURN(auto mixed,
                            LinearPlan::Create(context, linear_shape, {.small_m_max_rows = 128}));
  LOCKSTEP_ASSIGN_OR_RETURN(auto default_plan, LinearPlan::Create(context, linear_shape));
  LOCKSTEP_ASSIGN_OR_RETURN(
      auto heuristic, LinearPlan::Create(context, linear_shape, {.mode = LinearMode::kHeuristic}));
  cudaStream_t stream;
  LOCKSTEP_RETURN_IF_ERROR(cuda::CudaStatus(cudaStreamCreate(&stream), "stream"));
  const int configs = cuda::internal::SmallMConfigCount();
  std::printf("\n%s (%lld, %lld) %s, µs per call (median of 25; %lld weight copies)\n",
              shape.name, static_cast<long long>(n), static_cast<long long>(k),
              std::string(DTypeName(dtype)).c_str(), static_cast<long long>(copies));
  std::printf("  %4s %8s %8s %9s %8s %8s %9s %14s %8s %9s %9s\n", "M", "heur", "cublas",
              "cubl/heur", "mma", "mma/heur", "best_mma", "best_config", "best/heur",
              "plan+mma", "default");
  for (int64_t rows : kRowCounts) {
    std::vector<Timed> variants;
    auto plan_call = [&, rows](const LinearPlan* plan) {
      return PlanCall(plan, dtype, x.data(), y.data(), rows, n, k, stream);
    };
    auto kernel_call = [&, rows](SmallMConfig config) {
      return [&, config, rows](const void* weight) {
        return cuda::CudaStatus(
            cuda::internal::LaunchSmallMGemm(Rows(dtype, x.data(), rows, k),
                                             Rows(dtype, weight, n, k),
                                             MutableRows(dtype, y.data(), rows, n), config,
                                             SmallMOrder::kChain, 1, stream),
            "small-M GEMM");
      };
    };
    variants.push_back({"heuristic", plan_call(heuristic.get())});
    variants.push_back({"plan_cublaslt", plan_call(invariant.get())});
    const SmallMConfig default_config = cuda::internal::SmallMDefaultConfig(rows);
    variants.push_back({"mma_default", kernel_call(default_config)});
    variants.push_back({"plan_mma128", plan_call(mixed.get())});
    variants.push_back({"plan_default", plan_call(default_plan.get())});
    constexpr size_t kFirstConfig = 5;
    for (int c = 0; c < configs; ++c) {
      const SmallMConfig config = cuda::internal::SmallMConfigAt(c);
      if (config.row_tiles * 8 > std::max<int64_t>(8, 2 * rows)) continue;  // mostly padding
      if (n % (16 * config.warps) != 0) continue;
      variants.push_back({ConfigName(config), kernel_call(config)});
    }
    LOCKSTEP_ASSIGN_OR_RETURN(std::vector<double> us, TimeVariants(variants, weight_ptrs, stream));
    size_t best = kFirstConfig;
    for (size_t v = kFirstConfig; v < variants.size(); ++v) {
      if (us[v] < us[best]) best = v;
    }
    std::printf("  %4lld %8.2f %8.2f %9.3f %8.2f %8.3f %9.2f %14s %8.3f %9.3f %9.3f\n",
                static_cast<long long>(rows), us[0], us[1], us[1] / us[0], us[2], us[2] / us[0],
                us[best], variants[best].name.c_str(), us[best] / us[0], us[3] / us[0],
                us[4] / us[0]);
    WriteTimes(csv, "time", shape, dtype, rows, variants, us);
  }
  cudaStreamDestroy(stream);
  return absl::OkStatus();
}

// ---- Part 3: the K-sliced order on both own kernels ------------------------------------

using cuda::internal::WgmmaGemmConfig;

std::string WgmmaName(WgmmaGemmConfig c) {
  return absl::StrCat("wg", c.block_m, "x", c.block_n, "s", c.stages,
                      c.slice_groups > 1 ? absl::StrCat("g", c.slice_groups) : "");
}

constexpr Shape kSlicedShapes[] = {
    {"1.5B down", 1536, 8960},
    {"0.5B down", 896, 4864},
    {"7B down", 3584, 18944},
};
constexpr int64_t kSlicedCheckRows[] = {1, 3, 64, 128, 200, 256, 1000, 4096};
constexpr int kSliceCounts[] = {1, 2, 4};
// Timing: the slice count a plan would run the own kernels with (cuBLASLt's heuristic
// splits K of 1.5B down in 4 at M <= 128, with these very bits), by default on the shape whose
// cuBLASLt-only invariant plan missed the heuristic by more than 10 % (--sliced-shape NAME
// times another of kSlicedShapes).
// (--slices S times another slice count: S = 1, the plain chain, is what cuBLASLt's
// split-K-1 plans compute.)
constexpr int kDefaultTimedSlices = 4;
constexpr const char* kDefaultTimedSlicedShape = "1.5B down";

absl::Status CheckSliced(LinearContext* context, const Shape& shape, DType dtype) {
  const int64_t n = shape.n, k = shape.k, max_rows = 4096;
  const auto type = cuda::internal::ToStorageType(dtype);
  LOCKSTEP_ASSIGN_OR_RETURN(cuda::DeviceBuffer w, cuda::DeviceBuffer::Allocate(n * k * 2));
  LOCKSTEP_ASSIGN_OR_RETURN(cuda::DeviceBuffer x, cuda::DeviceBuffer::Allocate(max_rows * k * 2));
  LOCKSTEP_ASSIGN_OR_RETURN(cuda::DeviceBuffer y, cuda::DeviceBuffer::Allocate(max_rows * n * 2));
  const size_t workspace_bytes = static_cast<size_t>(max_rows + 256) * n * 4;
  LOCKSTEP_ASSIGN_OR_RETURN(cuda::DeviceBuffer workspace,
                            cuda::DeviceBuffer::Allocate(workspace_bytes));
  LOCKSTEP_RETURN_IF_ERROR(cuda::CudaStatus(
      cuda::internal::LaunchFillUniform(type, w.data(), n * k, 21, nullptr), "fill w"));
  LOCKSTEP_RETURN_IF_ERROR(cuda::CudaStatus(
      cuda::internal::LaunchFillUniform(type, x.data(), max_rows * k, 22, nullptr), "fill x"));
  const LinearShape linear_shape{dtype, n, k, false};
  LOCKSTEP_ASSIGN_OR_RETURN(auto split1,
                            LinearPlan::Create(context, linear_shape, {.split_k = 1, .small_m_max_rows = 0}));
  LOCKSTEP_ASSIGN_OR_RETURN(
      auto heuristic, LinearPlan::Create(context, linear_shape, {.mode = LinearMode::kHeuristic}));
  auto finish = [&](cudaError_t e, const std::string& what,
                    int64_t rows) -> absl::StatusOr<std::vector<uint16_t>> {
    LOCKSTEP_RETURN_IF_ERROR(cuda::CudaStatus(e, what));
    LOCKSTEP_RETURN_IF_ERROR(cuda::CudaStatus(cudaDeviceSynchronize(), what));
    return Download(y, rows * n);
  };
  auto small_m = [&](int slices, int64_t rows) {
    (void)y.Fill(0xA5);
    return finish(cuda::internal::LaunchSmallMGemm(
                      Rows(dtype, x.data(), rows, k), Rows(dtype, w.data(), n, k),
                      MutableRows(dtype, y.data(), rows, n),
                      cuda::internal::SmallMDefaultConfig(std::min<int64_t>(rows, 128)),
                      SmallMOrder::kChain, slices, nullptr),
                  absl::StrCat("small-M S=", slices), rows);
  };
  auto wgmma = [&](int slices, WgmmaGemmConfig config, int64_t rows) {
    (void)y.Fill(0xA5);
    return finish(cuda::internal::LaunchWgmmaGemm(Rows(dtype, x.data(), rows, k),
                                                  Rows(dtype, w.data(), n, k),
                                                  MutableRows(dtype, y.data(), rows, n), slices,
                                                  config, workspace.data(), workspace_bytes,
                                                  nullptr),
                  absl::StrCat("wgmma S=", slices, " ", WgmmaName(config)), rows);
  };
  auto plan = [&](const LinearPlan& p, int64_t rows) -> absl::StatusOr<std::vector<uint16_t>> {
    (void)y.Fill(0xA5);
    const ConstMatrixView xv(dtype, x.data(), rows, k, k, Device::kCuda);
    const ConstMatrixView wv(dtype, w.data(), n, k, k, Device::kCuda);
    const MatrixView yv{dtype, y.data(), rows, n, n, Device::kCuda};
    LOCKSTEP_RETURN_IF_ERROR(p.Run(xv, wv, nullptr, yv, nullptr));
    return finish(cudaSuccess, "plan", rows);
  };
  std::printf("\n%s (%lld, %lld) %s: differing elements (of M x N)\n", shape.name,
              static_cast<long long>(n), static_cast<long long>(k),
              std::string(DTypeName(dtype)).c_str());
  std::printf("  %4s %2s %10s %10s %10s %10s %10s %10s\n", "M", "S", "wg!=mma", "cfgs!=",
              "crossM!=", "S1:cublas", "S:heur", "S:S/2");
  for (int slices : kSliceCounts) {
    if (!cuda::internal::KSlicesFit(k, slices)) continue;
    // The default tiling for M rows (one CTA per tile where the slices cannot be halved).
    auto default_config = [&](int64_t rows) {
      WgmmaGemmConfig c = cuda::internal::WgmmaGemmDefaultConfig(rows, n);
      if (slices % 2 != 0) c.slice_groups = 1;
      return c;
    };
    // The reference rows: the wgmma kernel's default tiling on all 4096 rows.
    LOCKSTEP_ASSIGN_OR_RETURN(std::vector<uint16_t> all,
                              wgmma(slices, default_config(max_rows), max_rows));
    for (int64_t rows : kSlicedCheckRows) {
      const int64_t count = rows * n;
      LOCKSTEP_ASSIGN_OR_RETURN(std::vector<uint16_t> mma, small_m(slices, rows));
      LOCKSTEP_ASSIGN_OR_RETURN(std::vector<uint16_t> wg, wgmma(slices, default_config(rows), rows));
      int64_t config_differing = 0;
      for (int c = 0; c < cuda::internal::WgmmaGemmConfigCount(); ++c) {
        const WgmmaGemmConfig config = cuda::internal::WgmmaGemmConfigAt(c);
        if (n % config.block_n != 0 || (config.slice_groups > 1 && slices % 2 != 0)) continue;
        LOCKSTEP_ASSIGN_OR_RETURN(std::vector<uint16_t> other, wgmma(slices, config, rows));
        config_differing += Compare(wg, other, count).differing;
      }
      int64_t cublas = -1, heur = -1, half = -1;
      if (slices == 1) {
        LOCKSTEP_ASSIGN_OR_RETURN(std::vector<uint16_t> ref, plan(*split1, rows));
        cublas = Compare(ref, wg, count).differing;
      } else {
        LOCKSTEP_ASSIGN_OR_RETURN(std::vector<uint16_t> h, plan(*heuristic, rows));
        heur = Compare(h, wg, count).differing;
        LOCKSTEP_ASSIGN_OR_RETURN(std::vector<uint16_t> other, small_m(slices / 2, rows));
        half = Compare(other, wg, count).differing;
      }
      std::printf("  %4lld %2d %10lld %10lld %10lld %10lld %10lld %10lld\n",
                  static_cast<long long>(rows), slices,
                  static_cast<long long>(Compare(mma, wg, count).differing),
                  static_cast<long long>(config_differing),
                  static_cast<long long>(Compare(all, wg, count).differing),
                  static_cast<long long>(cublas), static_cast<long long>(heur),
                  static_cast<long long>(half));
    }
  }
  return absl::OkStatus();
}

absl::Status TimeSliced(LinearContext* context, const Shape& shape, DType dtype, int timed_slices,
                        std::ofstream* csv) {
  const int kTimedSliceCounts[] = {timed_slices};
  const int64_t n = shape.n, k = shape.k, max_rows = 4096;
  const auto type = cuda::internal::ToStorageType(dtype);
  const int64_t copy_bytes = (n * k * 2 + 255) / 256 * 256;
  const int64_t copies = std::max<int64_t>(2, (kRotationBytes + copy_bytes - 1) / copy_bytes);
  LOCKSTEP_ASSIGN_OR_RETURN(cuda::DeviceBuffer weights,
                            cuda::DeviceBuffer::Allocate(copies * copy_bytes));
  LOCKSTEP_RETURN_IF_ERROR(cuda::CudaStatus(
      cuda::internal::LaunchFillUniform(type, weights.data(), copies * copy_bytes / 2, 11, nullptr),
      "fill weights"));
  LOCKSTEP_ASSIGN_OR_RETURN(cuda::DeviceBuffer x, cuda::DeviceBuffer::Allocate(max_rows * k * 2));
  LOCKSTEP_RETURN_IF_ERROR(cuda::CudaStatus(
      cuda::internal::LaunchFillUniform(type, x.data(), max_rows * k, 12, nullptr), "fill x"));
  LOCKSTEP_ASSIGN_OR_RETURN(cuda::DeviceBuffer y, cuda::DeviceBuffer::Allocate(max_rows * n * 2));
  const size_t workspace_bytes = static_cast<size_t>(max_rows + 256) * n * 4;
  LOCKSTEP_ASSIGN_OR_RETURN(cuda::DeviceBuffer workspace,
                            cuda::DeviceBuffer::Allocate(workspace_bytes));
  std::vector<const void*> weight_ptrs;
  for (int64_t c = 0; c < copies; ++c) {
    weight_ptrs.push_back(static_cast<const char*>(weights.data()) + c * copy_bytes);
  }
  const LinearShape linear_shape{dtype, n, k, false};
  LOCKSTEP_ASSIGN_OR_RETURN(auto default_plan, LinearPlan::Create(context, linear_shape));
  LOCKSTEP_ASSIGN_OR_RETURN(
      auto heuristic, LinearPlan::Create(context, linear_shape, {.mode = LinearMode::kHeuristic}));
  LOCKSTEP_ASSIGN_OR_RETURN(auto cublas_split,
                            LinearPlan::Create(context, linear_shape,
                                               {.split_k = timed_slices, .small_m_max_rows = 0}));
  const std::string cublas_name = absl::StrCat("cublas_S", timed_slices);
  cudaStream_t stream;
  LOCKSTEP_RETURN_IF_ERROR(cuda::CudaStatus(cudaStreamCreate(&stream), "stream"));
  std::printf("\n%s (%lld, %lld) %s, µs per call (median of 25), best tiling per kernel and S"
              " (plan: today's invariant plan; cublas_S%d: cuBLASLt split-K %d plan)\n",
              shape.name, static_cast<long long>(n), static_cast<long long>(k),
              std::string(DTypeName(dtype)).c_str(), timed_slices, timed_slices);
  for (int64_t rows = 1; rows <= max_rows; rows *= 2) {
    std::vector<Timed> variants;
    auto plan_call = [&, rows](const LinearPlan* plan) {
      return PlanCall(plan, dtype, x.data(), y.data(), rows, n, k, stream);
    };
    variants.push_back({"heuristic", plan_call(heuristic.get())});
    variants.push_back({"plan_default", plan_call(default_plan.get())});
    variants.push_back({cublas_name, plan_call(cublas_split.get())});
    for (int slices : kTimedSliceCounts) {
      if (!cuda::internal::KSlicesFit(k, slices)) continue;
      if (rows <= 256) {
        for (int c = 0; c < cuda::internal::SmallMConfigCount(); ++c) {
          const SmallMConfig config = cuda::internal::SmallMConfigAt(c);
          if (config.row_tiles * 8 > std::max<int64_t>(8, 2 * rows)) continue;
          if (config.row_tiles * 8 * 8 < rows) continue;  // too many row blocks
          if (n % (16 * config.warps) != 0 || config.warps * slices > 8) continue;
          if (slices > 1 && config.row_tiles > 8) continue;  // not compiled sliced
          variants.push_back(
              {absl::StrCat("mma_S", slices, "_", ConfigName(config)),
               [&, config, rows, slices](const void* weight) {
                 return cuda::CudaStatus(
                     cuda::internal::LaunchSmallMGemm(Rows(dtype, x.data(), rows, k),
                                                      Rows(dtype, weight, n, k),
                                                      MutableRows(dtype, y.data(), rows, n), config,
                                                      SmallMOrder::kChain, slices, stream),
                     "small-M GEMM");
               }});
        }
      }
      if (rows >= 16) {
        for (int c = 0; c < cuda::internal::WgmmaGemmConfigCount(); ++c) {
          const WgmmaGemmConfig config = cuda::internal::WgmmaGemmConfigAt(c);
          if (n % config.block_n != 0 || (config.slice_groups > 1 && slices % 2 != 0)) continue;
          variants.push_back({absl::StrCat("wg_S", slices, "_", WgmmaName(config)),
                              [&, config, rows, slices](const void* weight) {
                                return cuda::CudaStatus(
                                    cuda::internal::LaunchWgmmaGemm(
                                        Rows(dtype, x.data(), rows, k), Rows(dtype, weight, n, k),
                                        MutableRows(dtype, y.data(), rows, n), slices, config,
                                        workspace.data(), workspace_bytes, stream),
                                    "wgmma GEMM");
                              }});
        }
      }
    }
    LOCKSTEP_ASSIGN_OR_RETURN(std::vector<double> us, TimeVariants(variants, weight_ptrs, stream));
    std::string line =
        absl::StrFormat("  M %4lld heur %8.2f plan %6.3f %s %6.3f", static_cast<long long>(rows),
                        us[0], us[1] / us[0], cublas_name, us[2] / us[0]);
    for (int slices : kTimedSliceCounts) {
      for (const char* kind : {"mma", "wg"}) {
        const std::string prefix = absl::StrCat(kind, "_S", slices, "_");
        size_t best = 0;
        for (size_t v = 3; v < variants.size(); ++v) {
          if (variants[v].name.rfind(prefix, 0) == 0 && (best == 0 || us[v] < us[best])) best = v;
        }
        if (best != 0) {
          absl::StrAppendFormat(&line, " | %s %6.3f %s", prefix, us[best] / us[0],
                                variants[best].name.substr(prefix.size()));
        }
      }
    }
    std::printf("%s\n", line.c_str());
    WriteTimes(csv, "sliced", shape, dtype, rows, variants, us);
  }
  cudaStreamDestroy(stream);
  return absl::OkStatus();
}

constexpr const char* kUsage =
    "small_m_gemm_bench [--check] [--time] [--sliced] [--sliced-shape NAME] [--slices S] "
    "[--csv FILE]\n"
    "  --check         bits: the own mma.sync kernel against cuBLASLt's split-K-1 plan\n"
    "  --time          speed of the small-M kernel's tilings against cuBLASLt's heuristic\n"
    "  --sliced        the K-sliced order on the own kernels (bits, then speed)\n"
    "  --sliced-shape  which shape --sliced times: \"1.5B down\" (default), \"0.5B down\",\n"
    "                  \"7B down\"\n"
    "  --slices S      the slice count --sliced times: 1, 2 or 4 (default 4)\n"
    "  --csv FILE      also write every timing and bit count as CSV\n"
    "  (no flag: --check and --time; needs a CUDA GPU)\n";

absl::Status Main(int argc, char** argv) {
  bool check = false, time = false, sliced = false;
  std::string csv_path;
  std::string timed_sliced_shape = kDefaultTimedSlicedShape;
  int timed_slices = kDefaultTimedSlices;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--check") {
      check = true;
    } else if (arg == "--time") {
      time = true;
    } else if (arg == "--sliced") {
      sliced = true;
    } else if (arg == "--csv" && i + 1 < argc) {
      csv_path = argv[++i];
    } else if (arg == "--help" || arg == "-h") {
      std::printf("%s", kUsage);
      std::exit(0);
    } else if (arg == "--slices" && i + 1 < argc) {
      timed_slices = std::atoi(argv[++i]);
      sliced = true;
      if (timed_slices != 1 && timed_slices != 2 && timed_slices != 4) {
        return absl::InvalidArgumentError("small_m_gemm_bench: --slices takes 1, 2 or 4");
      }
    } else if (arg == "--sliced-shape" && i + 1 < argc) {
      timed_sliced_shape = argv[++i];
      sliced = true;
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("small_m_gemm_bench: unknown argument '", arg, "'; usage:\n", kUsage));
    }
  }
  if (!check && !time && !sliced) check = time = true;
  const Shape* timed_shape = nullptr;
  for (const Shape& shape : kSlicedShapes) {
    if (timed_sliced_shape == shape.name) timed_shape = &shape;
  }
  if (timed_shape == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "small_m_gemm_bench: --sliced-shape '", timed_sliced_shape,
        "' is not one of \"1.5B down\", \"0.5B down\", \"7B down\""));
  }
  std::ofstream csv_file;
  std::ofstream* csv = nullptr;
  if (!csv_path.empty()) {
    csv_file.open(csv_path);
    if (!csv_file) return absl::InvalidArgumentError(absl::StrCat("cannot write ", csv_path));
    csv = &csv_file;
  }
  cudaDeviceProp prop{};
  LOCKSTEP_RETURN_IF_ERROR(cuda::CudaStatus(cudaGetDeviceProperties(&prop, 0), "device"));
  LOCKSTEP_ASSIGN_OR_RETURN(auto context, LinearContext::Create());
  std::printf("device %s, %d SMs, cuBLASLt %zu\n", prop.name, prop.multiProcessorCount,
              context->cublaslt_version());
  for (DType dtype : {DType::kBF16, DType::kF16}) {
    if (check) {
      for (const Shape& shape : kShapes) {
        LOCKSTEP_RETURN_IF_ERROR(CheckShape(context.get(), shape, dtype, csv));
      }
    }
  }
  if (sliced) {
    for (DType dtype : {DType::kBF16, DType::kF16}) {
      for (const Shape& shape : kSlicedShapes) {
        LOCKSTEP_RETURN_IF_ERROR(CheckSliced(context.get(), shape, dtype));
      }
    }
    for (DType dtype : {DType::kBF16, DType::kF16}) {
      LOCKSTEP_RETURN_IF_ERROR(TimeSliced(context.get(), *timed_shape, dtype, timed_slices, csv));
    }
  }
  for (DType dtype : {DType::kBF16, DType::kF16}) {
    if (time) {
      for (const Shape& shape : kShapes) {
        LOCKSTEP_RETURN_IF_ERROR(TimeShape(context.get(), shape, dtype, csv));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace
}  // namespace lockstep::bench

int main(int argc, char** argv) {
  const absl::Status status = lockstep::bench::Main(argc, argv);
  if (!status.ok()) {
    std::fprintf(stderr, "small_m_gemm_bench: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}
