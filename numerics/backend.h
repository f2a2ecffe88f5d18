// The one interface the model, the KV cache, the rollout engine and the trainer run their
// numerics through. A backend owns memory on its device and runs every op on whole packed
// batches (offset/index arrays in flashinfer's indptr style, never per-row calls). Two
// implementations: cpu::CpuBackend (numerics/cpu/cpu_backend.h: adapters over the tested
// cpu:: functions, the bitwise reference) and cuda::CudaBackend (numerics/cuda/
// cuda_backend.h). Guarantees every implementation keeps:
//  - batch invariance: an op's output row depends only on the matching input rows (and,
//    for attention, on that query's keys), never on the batch size, the order or the
//    neighbours in the batch — bit for bit, in kBatchInvariant mode;
//  - one place for shape checks (numerics/backend_checks.h), run before any work;
//  - arguments live on this backend's device (views carry a Device tag and are checked);
//    host copies happen only in Upload*/CopyToHost and in the ops that return host
//    results (TokenLogprobs, SampleTokens);
//  - ops are enqueued in call order; only Synchronize, CopyToHost and the host-result ops
//    wait for the device;
//  - graph capture (optional, SupportsGraphs): the device work of a run of ops can be
//    recorded once and replayed with the same pointers and sizes; a replay gives the same
//    bits as running those ops again on whatever the buffers hold at replay time.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "numerics/attention_shape.h"
#include "numerics/device.h"
#include "numerics/device_tensor.h"
#include "numerics/rope_table.h"
#include "numerics/sampling_params.h"
#include "numerics/tensor.h"

namespace lockstep {

// How GEMMs pick their configuration. kBatchInvariant is the numerics contract; kFast
// takes the library's per-shape defaults (cuBLASLt's heuristic: split-K changes with M),
// for speed comparisons and the diagnostics matrix. The CPU backend has one mode (its
// only kernels are invariant) and accepts both.
enum class NumericsMode { kBatchInvariant, kFast };
std::string_view NumericsModeName(NumericsMode mode);  // "invariant" / "fast"
absl::StatusOr<NumericsMode> ParseNumericsMode(std::string_view name);

struct BackendOptions {
  Device device = Device::kCpu;
  NumericsMode mode = NumericsMode::kBatchInvariant;
  int cuda_device_index = 0;  // kCuda: which GPU
};

// A linear layer's weight (N, K) and optional bias (N), copied to the backend's memory and
// prepared once (CPU: an fp32 copy; CUDA: a cuBLASLt plan, self-checked).
class PreparedLinear {
 public:
  virtual ~PreparedLinear() = default;
  virtual int64_t out_features() const = 0;
  virtual int64_t in_features() const = 0;
  virtual DType dtype() const = 0;
  virtual bool has_bias() const = 0;
  // The weight in the backend's memory, (N, K), for backward ops.
  virtual ConstMatrixView weight() const = 0;
  // One line on how it runs (the CUDA plan's configuration; "" on CPU).
  virtual std::string Describe() const { return ""; }
};

// The rotary factors of a RopeTable in the backend's memory.
class PreparedRope {
 public:
  virtual ~PreparedRope() = default;
  virtual int head_dim() const = 0;
  virtual int max_positions() const = 0;
};

// One layer's paged KV pool: physical row p = page * block_size + slot holds
// num_kv_heads*head_dim elements of `dtype` at k_pool/v_pool + p * row_stride elements.
struct KvPoolView {
  DType dtype = DType::kBF16;
  void* k_pool = nullptr;
  void* v_pool = nullptr;
  int64_t row_stride = 0;
  int block_size = 0;
  int64_t num_pages = 0;
  Device device = Device::kCpu;
};

// A packed batch of sequences for attention over a paged KV pool. Every array lives on the
// backend's device (Int32View tags say which). Sequence s owns query rows
// [query_indptr[s], query_indptr[s+1]) and pages page_indices[page_indptr[s] ..
// page_indptr[s+1]) (logical page k holds keys k*block_size ..); query row i attends keys
// 0..positions[i] of its sequence.
struct PagedBatchView {
  int num_sequences = 0;
  Int32View query_indptr;  // num_sequences + 1, starts at 0, ends at q.rows
  Int32View page_indptr;   // num_sequences + 1
  Int32View page_indices;
  Int32View positions;     // one per query row
};

// What SampleTokens draws for one row of logits: the candidate set of `params`, the Philox
// uniform keyed by (seed, request, sample_index, position) — the same key as
// cpu::SampleToken.
struct SampleSpec {
  SamplingParams params;
  uint64_t seed = 0;
  uint32_t request = 0;
  uint32_t sample_index = 0;
  uint32_t position = 0;
};

// Bytes of the memory a backend allocates from: the CPU's RAM (MemAvailable) or the GPU's.
struct DeviceMemoryInfo {
  int64_t free_bytes = 0;
  int64_t total_bytes = 0;
};

// A recorded sequence of device work (CUDA: an instantiated cudaGraphExec_t), replayed by
// the backend that captured it. It bakes in every pointer and size its ops were given.
class CapturedGraph {
 public:
  virtual ~CapturedGraph() = default;
};

class Backend {
 public:
  virtual ~Backend() = default;

  virtual Device device() const = 0;
  virtual NumericsMode mode() const = 0;
  // "cpu (avx512, 2 threads)", "cuda:0 NVIDIA H200, cuBLASLt 13.0, invariant GEMM".
  virtual std::string Describe() const = 0;

  // ---- Memory. Allocations are zero-filled. ----
  // Free and total bytes of the memory Allocate draws from, now (for sizing the KV cache).
  // Default: Unimplemented.
  virtual absl::StatusOr<DeviceMemoryInfo> MemoryInfo() const;
  virtual absl::StatusOr<DeviceTensor> Allocate(DType dtype, int64_t rows, int64_t cols) = 0;
  virtual absl::StatusOr<DeviceInt32s> AllocateInt32(int64_t size) = 0;
  // Copies a host matrix / int array into a new allocation on the device.
  absl::StatusOr<DeviceTensor> Upload(ConstMatrixView host);
  absl::StatusOr<DeviceInt32s> UploadInt32(std::span<const int32_t> host);
  // Same-shape copies. CopyFromHost: host -> device; CopyToHost waits for queued work and
  // copies device -> host; Copy: device -> device (src and dst may not overlap).
  virtual absl::Status CopyFromHost(ConstMatrixView host, MatrixView dst) = 0;
  virtual absl::Status CopyInt32FromHost(std::span<const int32_t> host, MutableInt32View dst) = 0;
  virtual absl::Status CopyToHost(ConstMatrixView src, MatrixView host) = 0;
  virtual absl::Status Copy(ConstMatrixView src, MatrixView dst) = 0;
  // Waits for every enqueued op; reports a device-side failure (a bad token id, a
  // position past its pages) recorded since the last call.
  virtual absl::Status Synchronize() = 0;

  // ---- Graph capture (default: unsupported; the CPU backend runs everything eagerly). ----
  // Whether BeginCapture/EndCapture/Replay work here.
  virtual bool SupportsGraphs() const { return false; }
  // Starts recording: ops after this are recorded, not run, until EndCapture. Between the
  // two, only enqueueing ops may be called (no Allocate, Upload, CopyToHost, Synchronize
  // or host-result op); one that cannot be recorded makes EndCapture fail.
  virtual absl::Status BeginCapture();
  // Stops recording and returns the graph; an error (and no graph) if anything in between
  // could not be captured. The backend is usable eagerly again either way.
  virtual absl::StatusOr<std::unique_ptr<CapturedGraph>> EndCapture();
  // Enqueues the graph's work, in order with every other op.
  virtual absl::Status Replay(const CapturedGraph& graph);
  // Changes whenever the backend reallocates internal scratch memory that ops read or
  // write; a graph captured under another value may point at freed memory (drop it).
  virtual int64_t ScratchGeneration() const { return 0; }

  // ---- Prepared weights (host views in; the backend keeps its own copy). ----
  // bias: (1, N) or an empty view (rows == 0) for none.
  virtual absl::StatusOr<std::unique_ptr<PreparedLinear>> PrepareLinear(
      ConstMatrixView weight, ConstMatrixView bias) = 0;
  virtual absl::StatusOr<std::unique_ptr<PreparedRope>> PrepareRope(const RopeTable& table) = 0;

  // ---- Forward ops (all views on this device; out may alias an input where stated). ----
  // out[t, :] = table[ids[t], :]. An id outside the table is an error (CPU: returned;
  // CUDA: the row is NaN and the next Synchronize reports it).
  virtual absl::Status Embedding(ConstMatrixView table, Int32View ids, MatrixView out) = 0;
  // Row-wise RMSNorm with a (1, H) weight; out may alias x.
  virtual absl::Status RmsNorm(ConstMatrixView x, ConstMatrixView weight, float eps,
                               MatrixView out) = 0;
  // out = x · Wᵀ (+ b), fp32 accumulation, one rounding.
  virtual absl::Status Linear(ConstMatrixView x, const PreparedLinear& weight, MatrixView out) = 0;
  // out = round(a + b); out may alias a or b.
  virtual absl::Status AddResidual(ConstMatrixView a, ConstMatrixView b, MatrixView out) = 0;
  // out = round(round(silu(gate)) * up).
  virtual absl::Status SwiGlu(ConstMatrixView gate, ConstMatrixView up, MatrixView out) = 0;
  // x: (T, num_heads*head_dim) rotated in place at positions (T).
  virtual absl::Status ApplyRope(MatrixView x, int num_heads, Int32View positions,
                                 const PreparedRope& rope) = 0;
  // Writes row t of k and v to physical row slots[t] of the pool.
  virtual absl::Status WriteKv(ConstMatrixView k, ConstMatrixView v, Int32View slots,
                               const KvPoolView& pool) = 0;
  // Causal attention of the packed queries over the paged pool (prefill and decode).
  virtual absl::Status PagedAttention(ConstMatrixView q, const KvPoolView& pool,
                                      const PagedBatchView& batch, const AttentionShape& shape,
                                      MatrixView out) = 0;
  // The trainer's full-sequence causal attention: sequence s is rows
  // [sequence_indptr[s], sequence_indptr[s+1]) of q, k, v; row i of a sequence attends its
  // rows 0..i. Same bits as PagedAttention for the same (query, keys).
  virtual absl::Status CausalAttention(ConstMatrixView q, ConstMatrixView k, ConstMatrixView v,
                                       std::span<const int32_t> sequence_indptr,
                                       const AttentionShape& shape, MatrixView out) = 0;
  // dst row i = src row rows[i] (e.g. the last new row of each sequence).
  virtual absl::Status GatherRows(ConstMatrixView src, Int32View rows, MatrixView dst) = 0;

  // ---- Results to the host (they wait for the device). ----
  // logprobs[r] = log p(tokens[r]) under row r's candidate distribution of params[r]
  // (one params entry for all rows, or one per row). Bitwise the logprob SampleTokens
  // returns for the same row, token and params.
  virtual absl::Status TokenLogprobs(ConstMatrixView logits, std::span<const int32_t> tokens,
                                     std::span<const SamplingParams> params,
                                     std::span<float> logprobs) = 0;
  // Draws one token per row of logits; out[r] gets the token and its logprob.
  virtual absl::Status SampleTokens(ConstMatrixView logits, std::span<const SampleSpec> specs,
                                    std::span<SampledToken> out) = 0;
};

}  // namespace lockstep
