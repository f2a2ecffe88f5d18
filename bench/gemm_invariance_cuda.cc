// Benchmark (binary gemm_invariance_bench): the batch-invariant cuBLASLt linear
// (numerics/cuda/linear.h) against cuBLASLt's own heuristic in the same run, on the weight
// shapes of Qwen2.5-0.5B, 1.5B and 7B, for M = 1, 2, 4, ..., 4096: µs per call (median of
// CUDA-event samples, weights rotated through copies larger than L2), the ratio, and the
// worst ratio over M per shape (goal <= 1.10). --sweep also times forced split-K counts.
// --configs times every configuration cuBLASLt proposes at any M (each also forced to
// split-K 1..4 with fp32 partials) at every M, with a hash of output row 0: configurations
// with equal hashes sum in the same order, so a per-bucket table can be read off the CSV.
// (Also forced: split-K 2..4 with the in-place scheme, for the record.)
//
//   gemm_invariance_bench [--dtype bf16|fp16|both] [--sweep | --configs] [--csv FILE] [--quick]
#include <cuda_runtime_api.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "numerics/cuda/cublaslt_matmul.h"
#include "numerics/cuda/cuda_status.h"
#include "numerics/cuda/device_buffer.h"
#include "numerics/cuda/device_info.h"
#include "numerics/cuda/device_rows.h"
#include "numerics/cuda/kernel_launch.h"
#include "numerics/cuda/linear.h"
#include "numerics/fnv1a.h"
#include "numerics/status_macros.h"

namespace lockstep::bench {
namespace {

using cuda::LinearContext;
using cuda::LinearMode;
using cuda::LinearPlan;
using cuda::LinearShape;

struct Layer {
  const char* model;
  const char* name;
  int64_t n, k;
  bool bias;
};

// Qwen2.5: q/k/v carry a bias, o/gate/up/down/lm_head do not.
constexpr Layer kLayers[] = {
    {"0.5B", "q", 896, 896, true},
    {"0.5B", "k/v", 128, 896, true},
    {"0.5B", "o", 896, 896, false},
    {"0.5B", "gate/up", 4864, 896, false},
    {"0.5B", "down", 896, 4864, false},
    {"0.5B", "lm_head", 151936, 896, false},
    {"1.5B", "q/o", 1536, 1536, true},
    {"1.5B", "k/v", 256, 1536, true},
    {"1.5B", "gate/up", 8960, 1536, false},
    {"1.5B", "down", 1536, 8960, false},
    {"1.5B", "lm_head", 151936, 1536, false},
    {"7B", "q/o", 3584, 3584, true},
    {"7B", "k/v", 512, 3584, true},
    {"7B", "gate/up", 18944, 3584, false},
    {"7B", "down", 3584, 18944, false},
    {"7B", "lm_head", 152064, 3584, false},
};

constexpr int64_t kMaxRows = 4096;
// Ceilings measured on this workplace's H200s (device notes): copy bandwidth and bf16 GEMM.
constexpr double kBandwidthBytesPerSecond = 4.3e12;
constexpr double kMatrixFlopsPerSecond = 790e12;
// Weight copies rotate so that their total (256 MB) exceeds the 60 MB L2 several times
// over, as in a decode step, where every layer's weights come from memory.
constexpr size_t kRotationBytes = size_t{256} << 20;
constexpr int64_t kMaxCopies = 4096;

struct Options {
  std::vector<DType> dtypes = {DType::kBF16};
  bool sweep = false;
  bool configs = false;
  bool quick = false;
  std::string csv;
};

absl::StatusOr<cuda::DeviceBuffer> RandomBuffer(DType dtype, int64_t elements, uint64_t seed) {
  LOCKSTEP_ASSIGN_OR_RETURN(cuda::DeviceBuffer b,
                            cuda::DeviceBuffer::Allocate(elements * DTypeSize(dtype)));
  LOCKSTEP_RETURN_IF_ERROR(
      cuda::CudaStatus(cuda::internal::LaunchFillUniform(cuda::internal::ToStorageType(dtype),
                                                         b.data(), elements, seed, nullptr),
                       "fill"));
  return b;
}

// Device memory of one layer: `copies` weight copies in one allocation (each starting on a
// 256-byte boundary), one bias, X and Y for kMaxRows rows.
struct LayerBuffers {
  cuda::DeviceBuffer weights;
  int64_t copies = 1;
  int64_t copy_elements = 0;  // stride between copies, in elements
  cuda::DeviceBuffer bias, x, y;
  const void* Weight(int64_t i, DType dtype) const {
    return static_cast<const char*>(weights.data()) + i * copy_elements * DTypeSize(dtype);
  }
};

absl::StatusOr<LayerBuffers> MakeBuffers(DType dtype, const Layer& layer) {
  LayerBuffers b;
  const int64_t per_256 = 256 / static_cast<int64_t>(DTypeSize(dtype));
  b.copy_elements = (layer.n * layer.k + per_256 - 1) / per_256 * per_256;
  const int64_t copy_bytes = b.copy_elements * static_cast<int64_t>(DTypeSize(dtype));
  b.copies = std::clamp<int64_t>(
      (static_cast<int64_t>(kRotationBytes) + copy_bytes - 1) / copy_bytes, 1, kMaxCopies);
  LOCKSTEP_ASSIGN_OR_RETURN(b.weights, RandomBuffer(dtype, b.copies * b.copy_elements, 100));
  LOCKSTEP_ASSIGN_OR_RETURN(b.bias, RandomBuffer(dtype, layer.n, 7));
  LOCKSTEP_ASSIGN_OR_RETURN(b.x, RandomBuffer(dtype, kMaxRows * layer.k, 8));
  LOCKSTEP_ASSIGN_OR_RETURN(b.y,
                            cuda::DeviceBuffer::Allocate(kMaxRows * layer.n * DTypeSize(dtype)));
  return b;
}

// Times several plans at `rows` rows, interleaved sample by sample so that clock and
// power drift hit every plan alike. Each sample is one event-timed group of calls, each
// call on the next weight copy. Returns the median µs per call of each plan.
absl::StatusOr<std::vector<double>> TimePlans(const std::vector<const LinearPlan*>& plans,
                                              LayerBuffers& b, const Layer& layer, int64_t rows,
                                              int samples, cudaStream_t stream, cudaEvent_t start,
                                              cudaEvent_t stop) {
  const DType dtype = plans.front()->shape().dtype;
  const ConstMatrixView x(dtype, b.x.data(), rows, layer.k, layer.k);
  const MatrixView y{dtype, b.y.data(), rows, layer.n, layer.n};
  const void* bias = layer.bias ? b.bias.data() : nullptr;
  int64_t next = 0;
  auto call = [&](const LinearPlan& plan) -> absl::Status {
    const ConstMatrixView w(dtype, b.Weight(next, dtype), layer.n, layer.k, layer.k);
    next = (next + 1) % b.copies;
    return plan.Run(x, w, bias, y, stream);
  };
  auto time_group = [&](const LinearPlan& plan, int calls) -> absl::StatusOr<double> {
    LOCKSTEP_RETURN_IF_ERROR(cuda::CudaStatus(cudaEventRecord(start, stream), "event"));
    for (int c = 0; c < calls; ++c) LOCKSTEP_RETURN_IF_ERROR(call(plan));
    LOCKSTEP_RETURN_IF_ERROR(cuda::CudaStatus(cudaEventRecord(stop, stream), "event"));
    LOCKSTEP_RETURN_IF_ERROR(cuda::CudaStatus(cudaEventSynchronize(stop), "event sync"));
    float ms = 0;
    cudaEventElapsedTime(&ms, start, stop);
    return 1000.0 * ms / calls;
  };
  // Warm-up (module load, heuristic cache), then a group size giving ~200 µs per sample.
  int calls = 50;
  for (const LinearPlan* plan : plans) {
    for (int i = 0; i < 3; ++i) LOCKSTEP_RETURN_IF_ERROR(call(*plan));
    LOCKSTEP_ASSIGN_OR_RETURN(double one_us, time_group(*plan, 1));
    calls = std::min(calls, std::clamp(static_cast<int>(200.0 / std::max(one_us, 0.1)), 1, 50));
  }
  std::vector<std::vector<double>> us(plans.size());
  for (int s = 0; s < samples; ++s) {
    for (size_t p = 0; p < plans.size(); ++p) {
      LOCKSTEP_ASSIGN_OR_RETURN(double sample, time_group(*plans[p], calls));
      us[p].push_back(sample);
    }
  }
  std::vector<double> medians;
  for (std::vector<double>& u : us) {
    std::sort(u.begin(), u.end());
    medians.push_back(u[u.size() / 2]);
  }
  return medians;
}

// The time no implementation beats: weights + X + Y once through memory, or the FLOPs.
double FloorMicroseconds(const Layer& layer, int64_t rows, DType dtype) {
  const double bytes =
      static_cast<double>(DTypeSize(dtype)) * (layer.n * layer.k + rows * (layer.k + layer.n));
  const double flops = 2.0 * rows * layer.n * layer.k;
  return 1e6 * std::max(bytes / kBandwidthBytesPerSecond, flops / kMatrixFlopsPerSecond);
}

struct Variant {
  std::string name;  // "heuristic", "invariant", "split3"
  std::unique_ptr<LinearPlan> plan;
};

absl::Status BenchLayer(LinearContext* context, const Layer& layer, DType dtype,
                        const Options& options, std::ofstream* csv, cudaStream_t stream,
                        cudaEvent_t start, cudaEvent_t stop) {
  const LinearShape shape{dtype, layer.n, layer.k, layer.bias};
  std::vector<Variant> variants;
  LOCKSTEP_ASSIGN_OR_RETURN(auto heuristic,
                            LinearPlan::Create(context, shape, {.mode = LinearMode::kHeuristic}));
  variants.push_back({"heuristic", std::move(heuristic)});
  const auto plan_start = std::chrono::steady_clock::now();
  LOCKSTEP_ASSIGN_OR_RETURN(auto invariant, LinearPlan::Create(context, shape));
  const double plan_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - plan_start)
          .count();
  const int chosen_split = invariant->split_k();
  std::printf("\n%s %s (%lld, %lld)%s %s: plan made in %.1f ms; %s\n%s", layer.model, layer.name,
              static_cast<long long>(layer.n), static_cast<long long>(layer.k),
              layer.bias ? " +bias" : "", std::string(DTypeName(dtype)).c_str(), plan_ms,
              invariant->self_check_note().c_str(), invariant->Describe().c_str());
  variants.push_back({"invariant", std::move(invariant)});
  if (options.sweep) {
    for (int split : {1, 2, 3, 4}) {
      if (split == chosen_split) continue;
      absl::StatusOr<std::unique_ptr<LinearPlan>> forced =
          LinearPlan::Create(context, shape, {.split_k = split});
      if (!forced.ok()) {
        std::printf("  split-K %d: no plan (%s)\n", split, forced.status().ToString().c_str());
        continue;
      }
      std::printf("  split-K %d: %s\n", split, (*forced)->self_check_note().c_str());
      variants.push_back({absl::StrCat("split", split), *std::move(forced)});
    }
  }
  LOCKSTEP_ASSIGN_OR_RETURN(LayerBuffers buffers, MakeBuffers(dtype, layer));
  const int samples = options.quick ? 7 : 25;
  std::printf("  %5s %10s %10s %7s %8s", "M", "heur_us", "inv_us", "ratio", "floor_us");
  for (size_t v = 2; v < variants.size(); ++v) std::printf(" %8s", variants[v].name.c_str());
  std::printf("   heuristic config\n");
  double worst_ratio = 0;
  int64_t worst_rows = 0;
  std::vector<double> worst_sweep(variants.size(), 0.0);
  std::vector<const LinearPlan*> plans;
  for (const Variant& v : variants) plans.push_back(v.plan.get());
  for (int64_t rows = 1; rows <= kMaxRows; rows *= 2) {
    LOCKSTEP_ASSIGN_OR_RETURN(std::vector<double> us,
                              TimePlans(plans, buffers, layer, rows, samples, stream, start, stop));
    for (size_t v = 0; v < variants.size(); ++v) {
      worst_sweep[v] = std::max(worst_sweep[v], us[v] / us[0]);
    }
    const double ratio = us[1] / us[0];
    if (ratio > worst_ratio) {
      worst_ratio = ratio;
      worst_rows = rows;
    }
    LOCKSTEP_ASSIGN_OR_RETURN(std::string heuristic_config,
                              variants[0].plan->DescribeConfigFor(rows));
    const double floor_us = FloorMicroseconds(layer, rows, dtype);
    std::printf("  %5lld %10.2f %10.2f %7.3f %8.2f", static_cast<long long>(rows), us[0], us[1],
                ratio, floor_us);
    for (size_t v = 2; v < variants.size(); ++v) std::printf(" %8.2f", us[v]);
    std::printf("   %s\n", heuristic_config.c_str());
    if (csv != nullptr) {
      for (size_t v = 0; v < variants.size(); ++v) {
        *csv << layer.model << "," << layer.name << "," << layer.n << "," << layer.k << ","
             << DTypeName(dtype) << "," << rows << "," << variants[v].name << ","
             << variants[v].plan->split_k() << "," << absl::StrFormat("%.3f", us[v]) << ","
             << absl::StrFormat("%.3f", us[v] / us[0]) << "," << absl::StrFormat("%.3f", floor_us)
             << "\n";
      }
    }
  }
  std::printf("  WORST %s %s %s: invariant/heuristic %.3f at M = %lld (split-K %d)", layer.model,
              layer.name, std::string(DTypeName(dtype)).c_str(), worst_ratio,
              static_cast<long long>(worst_rows), chosen_split);
  for (size_t v = 2; v < variants.size(); ++v) {
    std::printf("; %s %.3f", variants[v].name.c_str(), worst_sweep[v]);
  }
  std::printf("\n");
  return absl::OkStatus();
}

// ---- --configs: every proposed configuration at every M -------------------------------

// Shapes the configuration sweep covers: those of the tuned table (numerics/cuda/linear.cc),
// the ones where the heuristic rule missed the 1.10 goal or nearly did.
bool InConfigSweep(const Layer& layer) {
  const std::string name = layer.name;
  return name == "down" || (std::string(layer.model) == "7B" && name == "q/o");
}

// The configurations cuBLASLt proposes at any bucket's M, each as proposed and forced to
// split-K 1..4 (fp32 partials), without repeats.
absl::StatusOr<std::vector<cuda::internal::AlgoConfig>> PooledConfigs(
    cublasLtHandle_t handle, const cuda::internal::MatmulProblem& base) {
  using cuda::internal::AlgoConfig;
  std::vector<AlgoConfig> pool;
  auto add = [&pool](const AlgoConfig& c) {
    if (std::find(pool.begin(), pool.end(), c) == pool.end()) pool.push_back(c);
  };
  for (int64_t rows = 1; rows <= kMaxRows; rows *= 2) {
    cuda::internal::MatmulProblem p = base;
    p.rows = rows;
    LOCKSTEP_ASSIGN_OR_RETURN(
        std::vector<cuda::internal::AlgoChoice> proposed,
        cuda::internal::HeuristicCandidates(handle, p, LinearContext::kMaxWorkspaceBytes,
                                            CUBLASLT_REDUCTION_SCHEME_MASK, 32));
    for (const auto& c : proposed) {
      add(c.config);
      for (int32_t split = 1; split <= 4; ++split) {
        AlgoConfig forced = c.config;
        forced.split_k = split;
        forced.reduction =
            split > 1 ? CUBLASLT_REDUCTION_SCHEME_COMPUTE_TYPE : CUBLASLT_REDUCTION_SCHEME_NONE;
        add(forced);
        if (split > 1) {  // partials added in order into the output (16-bit roundings)
          forced.reduction = CUBLASLT_REDUCTION_SCHEME_INPLACE;
          add(forced);
        }
      }
    }
  }
  return pool;
}

absl::Status SweepConfigs(LinearContext* context, const Layer& layer, DType dtype,
                          std::ofstream* csv, cudaStream_t stream, cudaEvent_t start,
                          cudaEvent_t stop) {
  using cuda::internal::AlgoChoice;
  const LinearShape shape{dtype, layer.n, layer.k, layer.bias};
  LOCKSTEP_ASSIGN_OR_RETURN(auto heuristic,
                            LinearPlan::Create(context, shape, {.mode = LinearMode::kHeuristic}));
  LOCKSTEP_RETURN_IF_ERROR(context->ReserveWorkspace(LinearContext::kMaxWorkspaceBytes));
  LOCKSTEP_ASSIGN_OR_RETURN(LayerBuffers b, MakeBuffers(dtype, layer));
  cuda::internal::MatmulProblem base;
  base.dtype = dtype;
  base.out_features = layer.n;
  base.in_features = layer.k;
  base.has_bias = layer.bias;
  base.x_stride = layer.k;
  base.w_stride = layer.k;
  base.y_stride = layer.n;
  base.alignment_bytes = heuristic->alignment_bytes();
  LOCKSTEP_ASSIGN_OR_RETURN(std::vector<cuda::internal::AlgoConfig> pool,
                            PooledConfigs(context->handle(), base));
  std::printf("\nconfigs %s %s (%lld, %lld) %s: %zu configurations\n", layer.model, layer.name,
              static_cast<long long>(layer.n), static_cast<long long>(layer.k),
              std::string(DTypeName(dtype)).c_str(), pool.size());
  const void* bias = layer.bias ? b.bias.data() : nullptr;
  std::vector<unsigned char> row0(layer.n * DTypeSize(dtype));
  int64_t next = 0;
  for (int64_t rows = 1; rows <= kMaxRows; rows *= 2) {
    cuda::internal::MatmulProblem p = base;
    p.rows = rows;
    const ConstMatrixView x(dtype, b.x.data(), rows, layer.k, layer.k);
    const MatrixView y{dtype, b.y.data(), rows, layer.n, layer.n};
    // One timed group of `calls` calls, each on the next weight copy; µs per call.
    auto time_group = [&](const AlgoChoice* algo, int calls) -> absl::StatusOr<double> {
      LOCKSTEP_RETURN_IF_ERROR(cuda::CudaStatus(cudaEventRecord(start, stream), "event"));
      for (int c = 0; c < calls; ++c) {
        const void* w = b.Weight(next, dtype);
        next = (next + 1) % b.copies;
        if (algo == nullptr) {
          LOCKSTEP_RETURN_IF_ERROR(heuristic->Run(
              x, ConstMatrixView(dtype, w, layer.n, layer.k, layer.k), bias, y, stream));
        } else {
          LOCKSTEP_RETURN_IF_ERROR(cuda::internal::EnqueueMatmul(
              context->handle(), p, algo->algo, b.x.data(), w, bias, b.y.data(),
              context->workspace(), context->workspace_bytes(), stream));
        }
      }
      LOCKSTEP_RETURN_IF_ERROR(cuda::CudaStatus(cudaEventRecord(stop, stream), "event"));
      LOCKSTEP_RETURN_IF_ERROR(cuda::CudaStatus(cudaEventSynchronize(stop), "event sync"));
      float ms = 0;
      cudaEventElapsedTime(&ms, start, stop);
      return 1000.0 * ms / calls;
    };
    // Median of 3 groups of ~100 µs after one warm-up call.
    auto time_one = [&](const AlgoChoice* algo) -> absl::StatusOr<double> {
      LOCKSTEP_ASSIGN_OR_RETURN(double first, time_group(algo, 1));
      const int calls = std::clamp(static_cast<int>(100.0 / std::max(first, 0.1)), 1, 16);
      std::vector<double> us;
      for (int s = 0; s < 3; ++s) {
        LOCKSTEP_ASSIGN_OR_RETURN(double sample, time_group(algo, calls));
        us.push_back(sample);
      }
      std::sort(us.begin(), us.end());
      return us[us.size() / 2];
    };
    LOCKSTEP_ASSIGN_OR_RETURN(double heur_before, time_one(nullptr));
    LOCKSTEP_ASSIGN_OR_RETURN(std::string heur_config, heuristic->DescribeConfigFor(rows));
    struct Row {
      std::string config;
      int32_t split;
      uint32_t reduction;
      double us;
      uint64_t hash;
    };
    std::vector<Row> timed;
    for (const auto& config : pool) {
      absl::StatusOr<AlgoChoice> algo =
          cuda::internal::AlgoFromConfig(context->handle(), p, config);
      if (!algo.ok() || algo->workspace_bytes > LinearContext::kMaxWorkspaceBytes) continue;
      LOCKSTEP_ASSIGN_OR_RETURN(double us, time_one(&*algo));
      // Row 0 from weight copy 0, so that equal hashes mean equal arithmetic.
      LOCKSTEP_RETURN_IF_ERROR(cuda::internal::EnqueueMatmul(
          context->handle(), p, algo->algo, b.x.data(), b.Weight(0, dtype), bias, b.y.data(),
          context->workspace(), context->workspace_bytes(), stream));
      LOCKSTEP_RETURN_IF_ERROR(cuda::CudaStatus(cudaStreamSynchronize(stream), "sync"));
      LOCKSTEP_RETURN_IF_ERROR(cuda::CudaStatus(
          cudaMemcpy(row0.data(), b.y.data(), row0.size(), cudaMemcpyDeviceToHost), "copy"));
      timed.push_back({cuda::internal::DescribeAlgoConfig(config), config.split_k, config.reduction,
                       us, Fnv1a64(row0.data(), row0.size())});
    }
    LOCKSTEP_ASSIGN_OR_RETURN(double heur_after, time_one(nullptr));
    const double heur_us = std::min(heur_before, heur_after);
    double best_by_split[5] = {1e30, 1e30, 1e30, 1e30, 1e30};
    for (const Row& r : timed) {
      if (r.reduction == CUBLASLT_REDUCTION_SCHEME_COMPUTE_TYPE ||
          r.reduction == CUBLASLT_REDUCTION_SCHEME_NONE) {
        if (r.split >= 1 && r.split <= 4)
          best_by_split[r.split] = std::min(best_by_split[r.split], r.us);
      }
      if (csv != nullptr) {
        *csv << layer.model << "," << layer.name << "," << layer.n << "," << layer.k << ","
             << DTypeName(dtype) << "," << rows << "," << r.split << "," << r.reduction << ","
             << r.config << "," << absl::StrFormat("%.3f", r.us) << ","
             << absl::StrFormat("%.3f", heur_us) << "," << absl::StrFormat("%.3f", r.us / heur_us)
             << "," << absl::StrFormat("%016x", r.hash) << "," << heur_config << "\n";
      }
    }
    std::printf(
        "  M %4lld heur %8.2f (%8.2f) best split1..4 ratio %.3f %.3f %.3f %.3f  %zu timed; %s\n",
        static_cast<long long>(rows), heur_us, std::max(heur_before, heur_after),
        best_by_split[1] / heur_us, best_by_split[2] / heur_us, best_by_split[3] / heur_us,
        best_by_split[4] / heur_us, timed.size(), heur_config.c_str());
    std::fflush(stdout);
    if (csv != nullptr) csv->flush();
  }
  return absl::OkStatus();
}

absl::StatusOr<Options> ParseOptions(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--sweep") {
      o.sweep = true;
    } else if (arg == "--configs") {
      o.configs = true;
    } else if (arg == "--quick") {
      o.quick = true;
    } else if (arg == "--csv" && i + 1 < argc) {
      o.csv = argv[++i];
    } else if (arg == "--dtype" && i + 1 < argc) {
      const std::string d = argv[++i];
      if (d == "bf16")
        o.dtypes = {DType::kBF16};
      else if (d == "fp16")
        o.dtypes = {DType::kF16};
      else if (d == "both")
        o.dtypes = {DType::kBF16, DType::kF16};
      else
        return absl::InvalidArgumentError("--dtype takes bf16, fp16 or both");
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown argument '", arg,
                       "'; usage: gemm_invariance_bench [--dtype bf16|fp16|both] "
                       "[--sweep | --configs] [--csv FILE] [--quick]"));
    }
  }
  return o;
}

absl::Status Main(int argc, char** argv) {
  LOCKSTEP_ASSIGN_OR_RETURN(Options options, ParseOptions(argc, argv));
  LOCKSTEP_ASSIGN_OR_RETURN(cuda::DeviceInfo device, cuda::CurrentDevice());
  std::printf("device: %s; cuBLASLt %zu\n", cuda::DescribeDevice(device).c_str(),
              cublasLtGetVersion());
  LOCKSTEP_ASSIGN_OR_RETURN(std::unique_ptr<LinearContext> context, LinearContext::Create());
  std::ofstream csv;
  if (!options.csv.empty()) {
    csv.open(options.csv);
    if (!csv) return absl::NotFoundError(absl::StrCat("cannot write --csv ", options.csv));
    csv << (options.configs ? "model,layer,n,k,dtype,m,split_k,reduction,config,us,heur_us,"
                              "ratio_to_heuristic,row0_hash,heuristic_config\n"
                            : "model,layer,n,k,dtype,m,variant,split_k,us,ratio_to_heuristic,"
                              "floor_us\n");
  }
  cudaStream_t stream = nullptr;
  cudaEvent_t start = nullptr, stop = nullptr;
  LOCKSTEP_RETURN_IF_ERROR(cuda::CudaStatus(cudaStreamCreate(&stream), "cudaStreamCreate"));
  LOCKSTEP_RETURN_IF_ERROR(cuda::CudaStatus(cudaEventCreate(&start), "cudaEventCreate"));
  LOCKSTEP_RETURN_IF_ERROR(cuda::CudaStatus(cudaEventCreate(&stop), "cudaEventCreate"));
  for (DType dtype : options.dtypes) {
    for (const Layer& layer : kLayers) {
      // One layer failing (no plan, say) is reported and the others still run.
      if (options.configs && !InConfigSweep(layer)) continue;
      const absl::Status layer_status =
          options.configs ? SweepConfigs(context.get(), layer, dtype,
                                         csv.is_open() ? &csv : nullptr, stream, start, stop)
                          : BenchLayer(context.get(), layer, dtype, options,
                                       csv.is_open() ? &csv : nullptr, stream, start, stop);
      if (!layer_status.ok()) {
        std::printf("  LAYER FAILED %s %s %s: %s\n", layer.model, layer.name,
                    std::string(DTypeName(dtype)).c_str(), layer_status.ToString().c_str());
      }
      std::fflush(stdout);
    }
  }
  return absl::OkStatus();
}

}  // namespace
}  // namespace lockstep::bench

int main(int argc, char** argv) {
  const absl::Status status = lockstep::bench::Main(argc, argv);
  if (!status.ok()) {
    std::fprintf(stderr, "gemm_invariance_bench: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}
