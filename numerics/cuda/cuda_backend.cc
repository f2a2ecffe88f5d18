// CudaBackend: the Backend interface on one GPU and one non-blocking stream, over the
// kernels of numerics/cuda and cuBLASLt plans. Every op runs its shared check
// (numerics/backend_checks.h) first, then enqueues; nothing in an op allocates or waits in
// steady state (scratch buffers grow on first use only), except the host-result ops, which
// must wait. Device-side index checks lower per-op int32 error words that Synchronize reads.
// Graph capture records the stream's work (cudaStreamBeginCapture, thread-local mode); while
// it runs, anything that would allocate or wait returns an error instead, so a capture
// either records exactly the enqueued ops or fails cleanly at EndCapture.
#include "numerics/cuda/cuda_backend.h"

#include <cublasLt.h>
#include <cuda_runtime_api.h>

#include <array>
#include <climits>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "numerics/backend_checks.h"
#include "numerics/cuda/attention.h"
#include "numerics/cuda/backend_kernels.h"
#include "numerics/cuda/cuda_status.h"
#include "numerics/cuda/device_buffer.h"
#include "numerics/cuda/device_info.h"
#include "numerics/cuda/device_rows.h"
#include "numerics/cuda/linear.h"
#include "numerics/cuda/op_profile.h"
#include "numerics/cuda/rowwise_ops.h"
#include "numerics/status_macros.h"

namespace lockstep::cuda {
namespace {

using internal::DeviceSampledRow;
using internal::DeviceSamplingRow;
using internal::ToDeviceRows;

void FreeDeviceMemory(void* data) {
  // A failing cudaFree (only after a sticky context error) has no one to report to here;
  // the next CUDA call returns that error.
  cudaFree(data);
}

// One error word per op that checks indices on the device; INT32_MAX = nothing recorded,
// else the lowest bad row since the last Synchronize.
enum ErrorSlot : int { kEmbeddingError, kRopeError, kWriteKvError, kAttentionError,
                       kGatherError, kErrorSlots };
constexpr std::array<const char*, kErrorSlots> kErrorMeaning = {
    "Embedding: a token id outside the table [0, vocab) (that output row is NaN)",
    "ApplyRope: a position outside the rope table [0, max_positions) (that row is NaN)",
    "WriteKv: a slot outside the KV pool [0, num_pages * block_size) (that row was not written)",
    "PagedAttention/CausalAttention: a query outside every sequence, a position < 0 or beyond "
    "its pages, or a page id outside the pool (that query's output is NaN)",
    "GatherRows: a row index outside the source (that output row is NaN)",
};
constexpr std::array<int32_t, kErrorSlots> kNoErrors = {INT32_MAX, INT32_MAX, INT32_MAX,
                                                        INT32_MAX, INT32_MAX};

// What the backend's scratch buffers share: whether a capture is running (then none may
// grow) and a generation that changes whenever one that a graph can hold reallocates (a
// captured graph holding the old pointer is then stale; Backend::ScratchGeneration).
struct ScratchState {
  bool capturing = false;
  int64_t generation = 0;
};

// A device buffer that only grows: ops reserve it before enqueueing, so steady-state calls
// allocate nothing (the first, larger call does; a CUDA graph must be captured after it).
// `in_graphs`: an op that can be captured uses it, so growing it makes graphs stale (a
// buffer only the host-copying or host-result ops use cannot end up in a graph: those ops
// refuse to run while capturing).
class Scratch {
 public:
  Scratch(ScratchState& state, bool in_graphs) : state_(&state), in_graphs_(in_graphs) {}
  absl::StatusOr<void*> Reserve(size_t bytes) {
    if (bytes > buffer_.size()) {
      if (state_->capturing) {
        return absl::FailedPreconditionError(absl::StrCat(
            "CudaBackend: a scratch buffer must grow to ", bytes,
            " bytes during graph capture; run the same ops once eagerly before capturing"));
      }
      LOCKSTEP_ASSIGN_OR_RETURN(buffer_, DeviceBuffer::Allocate(bytes));
      if (in_graphs_) ++state_->generation;
    }
    return buffer_.data();
  }

 private:
  ScratchState* state_;
  bool in_graphs_;
  DeviceBuffer buffer_;
};

// An instantiated CUDA graph and the backend that captured it (only that one replays it).
class CudaCapturedGraph : public CapturedGraph {
 public:
  CudaCapturedGraph(const void* owner, cudaGraph_t graph, cudaGraphExec_t exec)
      : owner_(owner), graph_(graph), exec_(exec) {}
  ~CudaCapturedGraph() override {
    // Failures here only follow a sticky context error, which the next call reports.
    cudaGraphExecDestroy(exec_);
    cudaGraphDestroy(graph_);
  }
  CudaCapturedGraph(const CudaCapturedGraph&) = delete;
  CudaCapturedGraph& operator=(const CudaCapturedGraph&) = delete;
  const void* owner() const { return owner_; }
  cudaGraphExec_t exec() const { return exec_; }

 private:
  const void* owner_;
  cudaGraph_t graph_;
  cudaGraphExec_t exec_;
};

class CudaPreparedLinear : public PreparedLinear {
 public:
  CudaPreparedLinear(DeviceTensor weight, DeviceTensor bias, std::unique_ptr<LinearPlan> plan)
      : weight_(std::move(weight)), bias_(std::move(bias)), plan_(std::move(plan)) {}
  int64_t out_features() const override { return weight_.rows(); }
  int64_t in_features() const override { return weight_.cols(); }
  DType dtype() const override { return weight_.dtype(); }
  bool has_bias() const override { return !bias_.empty(); }
  ConstMatrixView weight() const override { return weight_.view(); }
  std::string Describe() const override {
    if (plan_ == nullptr) {
      return "fp32: fixed-order kernel (the CPU's 16-lane order, bitwise cpu::Linear; slow)";
    }
    return absl::StrCat(plan_->Describe(), plan_->self_check_note());
  }
  const void* bias_data() const { return bias_.empty() ? nullptr : bias_.view().data; }
  const LinearPlan* plan() const { return plan_.get(); }  // null: the fp32 kernel

 private:
  DeviceTensor weight_;
  DeviceTensor bias_;
  std::unique_ptr<LinearPlan> plan_;
};

class CudaPreparedRope : public PreparedRope {
 public:
  explicit CudaPreparedRope(DeviceRopeTable table) : table_(std::move(table)) {}
  int head_dim() const override { return table_.head_dim(); }
  int max_positions() const override { return table_.max_positions(); }
  const DeviceRopeTable& table() const { return table_; }

 private:
  DeviceRopeTable table_;
};

class CudaBackend : public Backend {
 public:
  static absl::StatusOr<std::unique_ptr<Backend>> Create(const BackendOptions& options);
  ~CudaBackend() override;

  Device device() const override { return Device::kCuda; }
  NumericsMode mode() const override { return mode_; }
  std::string Describe() const override { return description_; }

  absl::StatusOr<DeviceMemoryInfo> MemoryInfo() const override;
  absl::StatusOr<DeviceTensor> Allocate(DType dtype, int64_t rows, int64_t cols) override;
  absl::StatusOr<DeviceInt32s> AllocateInt32(int64_t size) override;
  absl::Status CopyFromHost(ConstMatrixView host, MatrixView dst) override;
  absl::Status CopyInt32FromHost(std::span<const int32_t> host, MutableInt32View dst) override;
  absl::Status CopyToHost(ConstMatrixView src, MatrixView host) override;
  absl::Status Copy(ConstMatrixView src, MatrixView dst) override;
  absl::Status Synchronize() override;

  bool SupportsGraphs() const override { return true; }
  absl::Status BeginCapture() override;
  absl::StatusOr<std::unique_ptr<CapturedGraph>> EndCapture() override;
  absl::Status Replay(const CapturedGraph& graph) override;
  int64_t ScratchGeneration() const override { return scratch_state_.generation; }

  absl::StatusOr<std::unique_ptr<PreparedLinear>> PrepareLinear(ConstMatrixView weight,
                                                                ConstMatrixView bias) override;
  absl::StatusOr<std::unique_ptr<PreparedRope>> PrepareRope(const RopeTable& table) override;

  absl::Status Embedding(ConstMatrixView table, Int32View ids, MatrixView out) override;
  absl::Status RmsNorm(ConstMatrixView x, ConstMatrixView weight, float eps,
                       MatrixView out) override;
  absl::Status Linear(ConstMatrixView x, const PreparedLinear& weight, MatrixView out) override;
  absl::Status AddResidual(ConstMatrixView a, ConstMatrixView b, MatrixView out) override;
  absl::Status SwiGlu(ConstMatrixView gate, ConstMatrixView up, MatrixView out) override;
  absl::Status ApplyRope(MatrixView x, int num_heads, Int32View positions,
                         const PreparedRope& rope) override;
  absl::Status WriteKv(ConstMatrixView k, ConstMatrixView v, Int32View slots,
                       const KvPoolView& pool) override;
  absl::Status PagedAttention(ConstMatrixView q, const KvPoolView& pool,
                              const PagedBatchView& batch, const AttentionShape& shape,
                              MatrixView out) override;
  absl::Status CausalAttention(ConstMatrixView q, ConstMatrixView k, ConstMatrixView v,
                               std::span<const int32_t> sequence_indptr,
                               const AttentionShape& shape, MatrixView out) override;
  absl::Status GatherRows(ConstMatrixView src, Int32View rows, MatrixView dst) override;
  absl::Status TokenLogprobs(ConstMatrixView logits, std::span<const int32_t> tokens,
                             std::span<const SamplingParams> params,
                             std::span<float> logprobs) override;
  absl::Status SampleTokens(ConstMatrixView logits, std::span<const SampleSpec> specs,
                            std::span<SampledToken> out) override;

 private:
  CudaBackend(int device_index, NumericsMode mode) : device_index_(device_index), mode_(mode) {}
  absl::Status Activate() const {
    // A capture runs on the thread (and device) that began it: nothing to switch.
    if (scratch_state_.capturing) return absl::OkStatus();
    return CudaStatus(cudaSetDevice(device_index_), "cudaSetDevice");
  }
  int32_t* ErrorWord(ErrorSlot slot) { return error_words_.as<int32_t>() + slot; }
  absl::Status ResetErrorWords();
  // An error naming `op` while a graph is being captured (it would allocate or wait).
  absl::Status NotWhileCapturing(const char* op) const;
  absl::Status Copy2D(const void* src, int64_t src_stride, void* dst, int64_t dst_stride,
                      int64_t rows, int64_t cols, DType dtype, cudaMemcpyKind kind);
  // Both host-result ops: uploads host_rows_, runs the one sampling kernel, waits, and
  // leaves the results in host_results_.
  absl::Status RunSampling(ConstMatrixView logits, bool sample, OpScope& profile_scope);

  int device_index_;
  NumericsMode mode_;
  cudaStream_t stream_ = nullptr;
  std::unique_ptr<LinearContext> linear_context_;
  DeviceBuffer error_words_;
  std::string description_;
  ScratchState scratch_state_;
  // CausalAttention's host-built indices and the sampling rows: never in a graph.
  Scratch attention_indices_{scratch_state_, /*in_graphs=*/false};
  Scratch sampling_rows_{scratch_state_, /*in_graphs=*/false};
  Scratch sampling_results_{scratch_state_, /*in_graphs=*/false};
  std::vector<int32_t> host_indices_;
  std::vector<DeviceSamplingRow> host_rows_;
  std::vector<DeviceSampledRow> host_results_;
  OpProfile profile_;  // LOCKSTEP_CUDA_PROFILE=1; declared last, so it reports first
};

std::string CublasLtVersion() {
  const size_t v = cublasLtGetVersion();  // e.g. 130100
  return absl::StrCat(v / 10000, ".", (v / 100) % 100, ".", v % 100);
}

absl::StatusOr<std::unique_ptr<Backend>> CudaBackend::Create(const BackendOptions& options) {
  if (options.device != Device::kCuda) {
    return absl::InvalidArgumentError("CreateCudaBackend: options.device must be cuda");
  }
  int count = 0;
  const cudaError_t count_error = cudaGetDeviceCount(&count);
  if (count_error != cudaSuccess || count == 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "device = cuda, but no usable CUDA GPU is visible (cudaGetDeviceCount: ",
        count_error == cudaSuccess ? "0 devices" : cudaGetErrorString(count_error),
        "); run on a host with an NVIDIA GPU and a driver for CUDA ", CUDART_VERSION / 1000,
        ", check CUDA_VISIBLE_DEVICES, or use device = cpu"));
  }
  if (options.cuda_device_index < 0 || options.cuda_device_index >= count) {
    return absl::InvalidArgumentError(
        absl::StrCat("cuda_device_index ", options.cuda_device_index, " is not a visible GPU (",
                     count, " visible: 0..", count - 1, ")"));
  }
  std::unique_ptr<CudaBackend> backend(new CudaBackend(options.cuda_device_index, options.mode));
  LOCKSTEP_RETURN_IF_ERROR(backend->Activate());
  LOCKSTEP_RETURN_IF_CUDA_ERROR(cudaStreamCreateWithFlags(&backend->stream_,
                                                          cudaStreamNonBlocking));
  LOCKSTEP_ASSIGN_OR_RETURN(backend->linear_context_, LinearContext::Create());
  LOCKSTEP_ASSIGN_OR_RETURN(backend->error_words_,
                            DeviceBuffer::Allocate(kErrorSlots * sizeof(int32_t)));
  LOCKSTEP_RETURN_IF_ERROR(backend->ResetErrorWords());
  LOCKSTEP_ASSIGN_OR_RETURN(DeviceInfo info, CurrentDevice());
  backend->description_ =
      absl::StrCat("cuda:", options.cuda_device_index, " ", DescribeDevice(info), ", cuBLASLt ",
                   CublasLtVersion(), ", ",
                   options.mode == NumericsMode::kBatchInvariant ? "invariant GEMM"
                                                                 : "fast GEMM (heuristic per M)");
  return std::unique_ptr<Backend>(std::move(backend));
}

CudaBackend::~CudaBackend() {
  if (stream_ != nullptr) {
    cudaSetDevice(device_index_);
    if (scratch_state_.capturing) {
      cudaGraph_t abandoned = nullptr;
      if (cudaStreamEndCapture(stream_, &abandoned) == cudaSuccess && abandoned != nullptr) {
        cudaGraphDestroy(abandoned);
      }
    }
    cudaStreamSynchronize(stream_);
    cudaStreamDestroy(stream_);
  }
}

absl::Status CudaBackend::ResetErrorWords() {
  return CudaStatus(cudaMemcpyAsync(error_words_.data(), kNoErrors.data(),
                                    kErrorSlots * sizeof(int32_t), cudaMemcpyHostToDevice,
                                    stream_),
                    "CudaBackend: resetting the error words");
}

absl::Status CudaBackend::NotWhileCapturing(const char* op) const {
  if (!scratch_state_.capturing) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      op, " was called while a CUDA graph is being captured; it allocates or waits, which a "
      "graph cannot record: call it before BeginCapture or after EndCapture"));
}

// ---- Graph capture

absl::Status CudaBackend::BeginCapture() {
  if (scratch_state_.capturing) {
    return absl::FailedPreconditionError("BeginCapture: a capture is already running");
  }
  LOCKSTEP_RETURN_IF_ERROR(Activate());
  // Thread-local mode: an unsafe call (cudaMalloc, a synchronising copy) from this thread
  // fails and invalidates the capture instead of silently escaping it.
  LOCKSTEP_RETURN_IF_CUDA_ERROR(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal));
  scratch_state_.capturing = true;
  profile_.set_paused(true);
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<CapturedGraph>> CudaBackend::EndCapture() {
  if (!scratch_state_.capturing) {
    return absl::FailedPreconditionError("EndCapture: no capture is running (call BeginCapture)");
  }
  scratch_state_.capturing = false;
  profile_.set_paused(false);
  LOCKSTEP_RETURN_IF_ERROR(Activate());
  cudaGraph_t graph = nullptr;
  const cudaError_t end_error = cudaStreamEndCapture(stream_, &graph);
  if (end_error != cudaSuccess || graph == nullptr) {
    cudaGetLastError();  // the capture error is not sticky; clear it for the next call
    if (graph != nullptr) cudaGraphDestroy(graph);
    return CudaStatus(end_error == cudaSuccess ? cudaErrorStreamCaptureInvalidated : end_error,
                      "EndCapture: cudaStreamEndCapture (an op in the capture could not be "
                      "recorded)");
  }
  cudaGraphExec_t exec = nullptr;
  const cudaError_t instantiate_error = cudaGraphInstantiate(&exec, graph, 0);
  if (instantiate_error != cudaSuccess) {
    cudaGetLastError();
    cudaGraphDestroy(graph);
    return CudaStatus(instantiate_error, "EndCapture: cudaGraphInstantiate");
  }
  return std::unique_ptr<CapturedGraph>(new CudaCapturedGraph(this, graph, exec));
}

absl::Status CudaBackend::Replay(const CapturedGraph& graph) {
  OpScope profile_scope(profile_, "GraphReplay", stream_);
  const auto* cuda_graph = dynamic_cast<const CudaCapturedGraph*>(&graph);
  if (cuda_graph == nullptr || cuda_graph->owner() != this) {
    return absl::InvalidArgumentError(
        "Replay: the graph was captured by another backend; replay it on the one that "
        "captured it");
  }
  LOCKSTEP_RETURN_IF_ERROR(NotWhileCapturing("Replay"));
  LOCKSTEP_RETURN_IF_ERROR(Activate());
  return CudaStatus(cudaGraphLaunch(cuda_graph->exec(), stream_), "Replay: cudaGraphLaunch");
}

// ---- Memory

// cudaMemGetInfo on this backend's GPU: what other processes and contexts hold counts as used.
absl::StatusOr<DeviceMemoryInfo> CudaBackend::MemoryInfo() const {
  LOCKSTEP_RETURN_IF_ERROR(NotWhileCapturing("MemoryInfo"));
  LOCKSTEP_RETURN_IF_ERROR(Activate());
  size_t free_bytes = 0;
  size_t total_bytes = 0;
  LOCKSTEP_RETURN_IF_CUDA_ERROR(cudaMemGetInfo(&free_bytes, &total_bytes));
  return DeviceMemoryInfo{static_cast<int64_t>(free_bytes), static_cast<int64_t>(total_bytes)};
}

absl::StatusOr<DeviceTensor> CudaBackend::Allocate(DType dtype, int64_t rows, int64_t cols) {
  LOCKSTEP_RETURN_IF_ERROR(NotWhileCapturing("Allocate"));
  LOCKSTEP_RETURN_IF_ERROR(checks::IsStorageDType("Allocate", "the tensor", dtype));
  if (rows < 0 || cols < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("Allocate: (", rows, ", ", cols, ") has a negative size"));
  }
  LOCKSTEP_RETURN_IF_ERROR(Activate());
  const size_t bytes = static_cast<size_t>(rows) * static_cast<size_t>(cols) * DTypeSize(dtype);
  void* data = nullptr;
  if (bytes > 0) {
    const cudaError_t error = cudaMalloc(&data, bytes);
    if (error != cudaSuccess) {
      return CudaStatus(error, absl::StrCat("Allocate: cudaMalloc of (", rows, ", ", cols, ") ",
                                            std::string(DTypeName(dtype)), " = ", bytes,
                                            " bytes"));
    }
    DeviceTensor tensor(Device::kCuda, dtype, rows, cols, data, &FreeDeviceMemory);
    LOCKSTEP_RETURN_IF_CUDA_ERROR(cudaMemsetAsync(data, 0, bytes, stream_));
    return tensor;
  }
  return DeviceTensor(Device::kCuda, dtype, rows, cols, nullptr, &FreeDeviceMemory);
}

absl::StatusOr<DeviceInt32s> CudaBackend::AllocateInt32(int64_t size) {
  LOCKSTEP_RETURN_IF_ERROR(NotWhileCapturing("AllocateInt32"));
  if (size < 0) return absl::InvalidArgumentError("AllocateInt32: negative size");
  LOCKSTEP_RETURN_IF_ERROR(Activate());
  void* data = nullptr;
  const size_t bytes = static_cast<size_t>(size) * sizeof(int32_t);
  if (bytes > 0) {
    const cudaError_t error = cudaMalloc(&data, bytes);
    if (error != cudaSuccess) {
      return CudaStatus(error, absl::StrCat("AllocateInt32: cudaMalloc of ", size, " int32"));
    }
    DeviceInt32s out(Device::kCuda, size, static_cast<int32_t*>(data), &FreeDeviceMemory);
    LOCKSTEP_RETURN_IF_CUDA_ERROR(cudaMemsetAsync(data, 0, bytes, stream_));
    return out;
  }
  return DeviceInt32s(Device::kCuda, 0, nullptr, &FreeDeviceMemory);
}

absl::Status CudaBackend::Copy2D(const void* src, int64_t src_stride, void* dst,
                                 int64_t dst_stride, int64_t rows, int64_t cols, DType dtype,
                                 cudaMemcpyKind kind) {
  if (rows == 0 || cols == 0) return absl::OkStatus();
  LOCKSTEP_RETURN_IF_ERROR(Activate());
  const size_t elem = DTypeSize(dtype);
  // Host -> device from pageable memory is staged before the call returns, so the caller
  // may reuse its buffer at once.
  return CudaStatus(cudaMemcpy2DAsync(dst, dst_stride * elem, src, src_stride * elem,
                                      cols * elem, rows, kind, stream_),
                    "cudaMemcpy2DAsync");
}

absl::Status CudaBackend::CopyFromHost(ConstMatrixView host, MatrixView dst) {
  OpScope profile_scope(profile_, "CopyFromHost", stream_);
  // A host copy in a graph would re-read the host pointer at every replay: copy eagerly.
  LOCKSTEP_RETURN_IF_ERROR(NotWhileCapturing("CopyFromHost"));
  LOCKSTEP_RETURN_IF_ERROR(checks::Copy("CopyFromHost", host, Device::kCpu, dst, Device::kCuda));
  return Copy2D(host.data, host.row_stride, dst.data, dst.row_stride, host.rows, host.cols,
                host.dtype, cudaMemcpyHostToDevice);
}

absl::Status CudaBackend::CopyInt32FromHost(std::span<const int32_t> host, MutableInt32View dst) {
  OpScope profile_scope(profile_, "CopyInt32FromHost", stream_);
  LOCKSTEP_RETURN_IF_ERROR(NotWhileCapturing("CopyInt32FromHost"));
  LOCKSTEP_RETURN_IF_ERROR(checks::OnDevice("CopyInt32FromHost", "dst", dst, Device::kCuda));
  if (static_cast<int64_t>(host.size()) != dst.size) {
    return absl::InvalidArgumentError(absl::StrCat("CopyInt32FromHost: ", host.size(),
                                                   " values into an array of ", dst.size));
  }
  if (host.empty()) return absl::OkStatus();
  LOCKSTEP_RETURN_IF_ERROR(Activate());
  return CudaStatus(cudaMemcpyAsync(dst.data, host.data(), host.size_bytes(),
                                    cudaMemcpyHostToDevice, stream_),
                    "CopyInt32FromHost: cudaMemcpyAsync");
}

absl::Status CudaBackend::CopyToHost(ConstMatrixView src, MatrixView host) {
  OpScope profile_scope(profile_, "CopyToHost", stream_);
  LOCKSTEP_RETURN_IF_ERROR(NotWhileCapturing("CopyToHost"));
  LOCKSTEP_RETURN_IF_ERROR(checks::Copy("CopyToHost", src, Device::kCuda, host, Device::kCpu));
  LOCKSTEP_RETURN_IF_ERROR(Copy2D(src.data, src.row_stride, host.data, host.row_stride, src.rows,
                                  src.cols, src.dtype, cudaMemcpyDeviceToHost));
  LOCKSTEP_RETURN_IF_ERROR(
      CudaStatus(cudaStreamSynchronize(stream_), "CopyToHost: cudaStreamSynchronize"));
  profile_scope.End();
  profile_.Collect();
  return absl::OkStatus();
}

absl::Status CudaBackend::Copy(ConstMatrixView src, MatrixView dst) {
  OpScope profile_scope(profile_, "Copy", stream_);
  LOCKSTEP_RETURN_IF_ERROR(checks::Copy("Copy", src, Device::kCuda, dst, Device::kCuda));
  return Copy2D(src.data, src.row_stride, dst.data, dst.row_stride, src.rows, src.cols,
                src.dtype, cudaMemcpyDeviceToDevice);
}

absl::Status CudaBackend::Synchronize() {
  LOCKSTEP_RETURN_IF_ERROR(NotWhileCapturing("Synchronize"));
  LOCKSTEP_RETURN_IF_ERROR(Activate());
  LOCKSTEP_RETURN_IF_CUDA_ERROR(cudaStreamSynchronize(stream_));
  std::array<int32_t, kErrorSlots> words{};
  LOCKSTEP_RETURN_IF_CUDA_ERROR(cudaMemcpyAsync(words.data(), error_words_.data(),
                                                kErrorSlots * sizeof(int32_t),
                                                cudaMemcpyDeviceToHost, stream_));
  LOCKSTEP_RETURN_IF_CUDA_ERROR(cudaStreamSynchronize(stream_));
  profile_.Collect();
  std::string failures;
  for (int slot = 0; slot < kErrorSlots; ++slot) {
    if (words[slot] == INT32_MAX) continue;
    absl::StrAppend(&failures, failures.empty() ? "" : "; ", kErrorMeaning[slot],
                    ", first at row ", words[slot]);
  }
  if (failures.empty()) return absl::OkStatus();
  LOCKSTEP_RETURN_IF_ERROR(ResetErrorWords());
  return absl::InvalidArgumentError(absl::StrCat(
      "CUDA backend: a device-side check failed in an op enqueued since the last Synchronize: ",
      failures, ". Fix the ids, positions, slots or page tables handed to that op"));
}

// ---- Prepared weights

absl::StatusOr<std::unique_ptr<PreparedLinear>> CudaBackend::PrepareLinear(
    ConstMatrixView weight, ConstMatrixView bias) {
  LOCKSTEP_RETURN_IF_ERROR(NotWhileCapturing("PrepareLinear"));
  LOCKSTEP_RETURN_IF_ERROR(checks::OnDevice("PrepareLinear", "weight", weight, Device::kCpu));
  LOCKSTEP_RETURN_IF_ERROR(checks::IsStorageDType("PrepareLinear", "weight", weight.dtype));
  const bool has_bias = bias.rows > 0;
  if (has_bias) {
    LOCKSTEP_RETURN_IF_ERROR(checks::OnDevice("PrepareLinear", "bias", bias, Device::kCpu));
    if (bias.rows != 1 || bias.cols != weight.rows || bias.dtype != weight.dtype) {
      return absl::InvalidArgumentError(absl::StrCat(
          "PrepareLinear: bias is (", bias.rows, ", ", bias.cols, ") ",
          std::string(DTypeName(bias.dtype)), "; need (1, ", weight.rows, ") in the weight's ",
          std::string(DTypeName(weight.dtype))));
    }
  }
  if (weight.rows <= 0 || weight.cols <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("PrepareLinear: weight is (", weight.rows,
                                                   ", ", weight.cols, "); need N, K > 0"));
  }
  LOCKSTEP_ASSIGN_OR_RETURN(DeviceTensor device_weight, Upload(weight));
  DeviceTensor device_bias;
  if (has_bias) {
    LOCKSTEP_ASSIGN_OR_RETURN(device_bias, Upload(bias));
  }
  // Plans run their self-check on other streams: let the uploads land first.
  LOCKSTEP_RETURN_IF_CUDA_ERROR(cudaStreamSynchronize(stream_));
  std::unique_ptr<LinearPlan> plan;
  if (weight.dtype != DType::kF32) {
    LinearPlanOptions plan_options;
    plan_options.mode = mode_ == NumericsMode::kBatchInvariant ? LinearMode::kBatchInvariant
                                                               : LinearMode::kHeuristic;
    LOCKSTEP_ASSIGN_OR_RETURN(
        plan, LinearPlan::Create(linear_context_.get(),
                                 LinearShape{weight.dtype, weight.rows, weight.cols, has_bias},
                                 plan_options));
  }
  return std::unique_ptr<PreparedLinear>(new CudaPreparedLinear(
      std::move(device_weight), std::move(device_bias), std::move(plan)));
}

absl::StatusOr<std::unique_ptr<PreparedRope>> CudaBackend::PrepareRope(const RopeTable& table) {
  LOCKSTEP_RETURN_IF_ERROR(NotWhileCapturing("PrepareRope"));
  LOCKSTEP_RETURN_IF_ERROR(Activate());
  LOCKSTEP_ASSIGN_OR_RETURN(DeviceRopeTable device_table, DeviceRopeTable::Upload(table));
  return std::unique_ptr<PreparedRope>(new CudaPreparedRope(std::move(device_table)));
}

// ---- Forward ops

absl::Status CudaBackend::Embedding(ConstMatrixView table, Int32View ids, MatrixView out) {
  OpScope profile_scope(profile_, "Embedding", stream_);
  LOCKSTEP_RETURN_IF_ERROR(checks::Embedding(Device::kCuda, table, ids, out));
  LOCKSTEP_RETURN_IF_ERROR(Activate());
  return cuda::Embedding(table, ids.data, out, ErrorWord(kEmbeddingError), stream_);
}

absl::Status CudaBackend::RmsNorm(ConstMatrixView x, ConstMatrixView weight, float eps,
                                  MatrixView out) {
  OpScope profile_scope(profile_, "RmsNorm", stream_);
  LOCKSTEP_RETURN_IF_ERROR(checks::RmsNorm(Device::kCuda, x, weight, eps, out));
  LOCKSTEP_RETURN_IF_ERROR(Activate());
  return cuda::RmsNorm(x, weight, eps, out, stream_);
}

absl::Status CudaBackend::Linear(ConstMatrixView x, const PreparedLinear& weight,
                                 MatrixView out) {
  OpScope profile_scope(profile_, "Linear", stream_);
  if (profile_.recording()) {
    profile_scope.set_name(absl::StrCat("Linear ", weight.out_features(), "x",
                                        weight.in_features(), x.rows == 1 ? " M=1" : ""));
  }
  LOCKSTEP_RETURN_IF_ERROR(checks::Linear(Device::kCuda, x, weight, out));
  const auto* prepared = dynamic_cast<const CudaPreparedLinear*>(&weight);
  if (prepared == nullptr) {
    return absl::InvalidArgumentError(
        "Linear: the weight was prepared by another backend; prepare it with this backend's "
        "PrepareLinear");
  }
  LOCKSTEP_RETURN_IF_ERROR(Activate());
  if (prepared->plan() != nullptr) {
    return prepared->plan()->Run(x, prepared->weight(), prepared->bias_data(), out, stream_);
  }
  if (x.dtype != DType::kF32 || out.dtype != DType::kF32) {
    return absl::InvalidArgumentError(
        "Linear: the weight is fp32, so x and out must be fp32 too");
  }
  LOCKSTEP_RETURN_IF_ERROR(internal::CheckLayout("Linear", "x", x));
  if (x.rows == 0) return absl::OkStatus();
  return CudaStatus(internal::LaunchFixedOrderLinear(ToDeviceRows(x),
                                                     ToDeviceRows(prepared->weight()),
                                                     prepared->bias_data(), ToDeviceRows(out),
                                                     stream_),
                    "Linear: fixed-order fp32 kernel launch");
}

absl::Status CudaBackend::AddResidual(ConstMatrixView a, ConstMatrixView b, MatrixView out) {
  OpScope profile_scope(profile_, "AddResidual", stream_);
  LOCKSTEP_RETURN_IF_ERROR(checks::SameShape("AddResidual", Device::kCuda, a, b, out));
  LOCKSTEP_RETURN_IF_ERROR(Activate());
  return cuda::AddResidual(a, b, out, stream_);
}

absl::Status CudaBackend::SwiGlu(ConstMatrixView gate, ConstMatrixView up, MatrixView out) {
  OpScope profile_scope(profile_, "SwiGlu", stream_);
  LOCKSTEP_RETURN_IF_ERROR(checks::SameShape("SwiGlu", Device::kCuda, gate, up, out));
  LOCKSTEP_RETURN_IF_ERROR(internal::CheckLayout("SwiGlu", "gate", gate));
  if (gate.rows == 0 || gate.cols == 0) return absl::OkStatus();
  LOCKSTEP_RETURN_IF_ERROR(Activate());
  return CudaStatus(
      internal::LaunchSwiGlu(ToDeviceRows(gate), ToDeviceRows(up), ToDeviceRows(out), stream_),
      "SwiGlu kernel launch");
}

absl::Status CudaBackend::ApplyRope(MatrixView x, int num_heads, Int32View positions,
                                    const PreparedRope& rope) {
  OpScope profile_scope(profile_, "ApplyRope", stream_);
  LOCKSTEP_RETURN_IF_ERROR(checks::Rope(Device::kCuda, x, num_heads, positions, rope));
  const auto* prepared = dynamic_cast<const CudaPreparedRope*>(&rope);
  if (prepared == nullptr) {
    return absl::InvalidArgumentError(
        "ApplyRope: the rope table was prepared by another backend; use this backend's "
        "PrepareRope");
  }
  LOCKSTEP_RETURN_IF_ERROR(Activate());
  return cuda::ApplyRope(x, num_heads, positions.data, prepared->table(), ErrorWord(kRopeError),
                         stream_);
}

absl::Status CudaBackend::WriteKv(ConstMatrixView k, ConstMatrixView v, Int32View slots,
                                  const KvPoolView& pool) {
  OpScope profile_scope(profile_, "WriteKv", stream_);
  LOCKSTEP_RETURN_IF_ERROR(checks::WriteKv(Device::kCuda, k, v, slots, pool));
  if (k.rows == 0 || k.cols == 0) return absl::OkStatus();
  if (pool.k_pool == nullptr || pool.v_pool == nullptr || pool.block_size <= 0 ||
      pool.num_pages <= 0) {
    return absl::InvalidArgumentError(
        "WriteKv: the KV pool needs k_pool and v_pool, block_size > 0 and num_pages > 0");
  }
  LOCKSTEP_RETURN_IF_ERROR(internal::CheckLayout("WriteKv", "k", k));
  LOCKSTEP_RETURN_IF_ERROR(Activate());
  return CudaStatus(internal::LaunchWriteKv(ToDeviceRows(k), ToDeviceRows(v), slots.data,
                                            pool.k_pool, pool.v_pool, pool.row_stride,
                                            pool.num_pages * pool.block_size,
                                            ErrorWord(kWriteKvError), stream_),
                    "WriteKv kernel launch");
}

absl::Status CudaBackend::PagedAttention(ConstMatrixView q, const KvPoolView& pool,
                                         const PagedBatchView& batch,
                                         const AttentionShape& shape, MatrixView out) {
  OpScope profile_scope(profile_, "PagedAttention", stream_);
  LOCKSTEP_RETURN_IF_ERROR(checks::PagedAttention(Device::kCuda, q, pool, batch, shape, out));
  if (q.rows == 0) return absl::OkStatus();
  LOCKSTEP_RETURN_IF_ERROR(Activate());
  const PagedKvPool kv{pool.dtype,      pool.k_pool,    pool.v_pool,
                       pool.row_stride, pool.block_size, pool.num_pages};
  const PagedAttentionBatch device_batch{batch.num_sequences, batch.query_indptr.data,
                                         batch.page_indptr.data, batch.page_indices.data,
                                         batch.positions.data};
  return cuda::PagedAttention(q, kv, device_batch, shape, out, ErrorWord(kAttentionError),
                              stream_);
}

// The same kernel as PagedAttention over k/v seen as a pool of one-key pages: sequence s's
// pages are its own rows, so each query sees exactly the (query, keys) it would see in the
// paged cache, and the kernel's per-query arithmetic gives the same bits.
absl::Status CudaBackend::CausalAttention(ConstMatrixView q, ConstMatrixView k,
                                          ConstMatrixView v,
                                          std::span<const int32_t> sequence_indptr,
                                          const AttentionShape& shape, MatrixView out) {
  OpScope profile_scope(profile_, "CausalAttention", stream_);
  LOCKSTEP_RETURN_IF_ERROR(
      checks::CausalAttention(Device::kCuda, q, k, v, sequence_indptr, shape, out));
  const int64_t tokens = q.rows;
  if (tokens == 0) return absl::OkStatus();
  if (k.row_stride != v.row_stride || k.dtype != v.dtype) {
    return absl::InvalidArgumentError(absl::StrCat(
        "CausalAttention: k and v must share dtype and row stride on the CUDA backend (got ",
        k.row_stride, " and ", v.row_stride, "); copy them into matrices of one layout"));
  }
  LOCKSTEP_RETURN_IF_ERROR(Activate());
  // One upload: [indptr (S+1) | positions (T) | page ids 0..T-1 (T)]. The indptr serves as
  // both query_indptr and page_indptr (one page per row).
  const int num_sequences = static_cast<int>(sequence_indptr.size()) - 1;
  host_indices_.assign(sequence_indptr.begin(), sequence_indptr.end());
  host_indices_.resize(sequence_indptr.size() + 2 * static_cast<size_t>(tokens));
  int32_t* positions = host_indices_.data() + sequence_indptr.size();
  int32_t* pages = positions + tokens;
  for (int s = 0; s < num_sequences; ++s) {
    for (int32_t row = sequence_indptr[s]; row < sequence_indptr[s + 1]; ++row) {
      positions[row] = row - sequence_indptr[s];
    }
  }
  for (int64_t row = 0; row < tokens; ++row) pages[row] = static_cast<int32_t>(row);
  const size_t bytes = host_indices_.size() * sizeof(int32_t);
  LOCKSTEP_ASSIGN_OR_RETURN(void* device_indices, attention_indices_.Reserve(bytes));
  LOCKSTEP_RETURN_IF_CUDA_ERROR(cudaMemcpyAsync(device_indices, host_indices_.data(), bytes,
                                                cudaMemcpyHostToDevice, stream_));
  const auto* indptr = static_cast<const int32_t*>(device_indices);
  const int32_t* device_positions = indptr + sequence_indptr.size();
  const PagedKvPool kv{k.dtype, k.data, v.data, k.row_stride, 1, tokens};
  const PagedAttentionBatch batch{num_sequences, indptr, indptr, device_positions + tokens,
                                  device_positions};
  return cuda::PagedAttention(q, kv, batch, shape, out, ErrorWord(kAttentionError), stream_);
}

absl::Status CudaBackend::GatherRows(ConstMatrixView src, Int32View rows, MatrixView dst) {
  OpScope profile_scope(profile_, "GatherRows", stream_);
  LOCKSTEP_RETURN_IF_ERROR(checks::GatherRows(Device::kCuda, src, rows, dst));
  if (dst.rows == 0 || dst.cols == 0) return absl::OkStatus();
  LOCKSTEP_RETURN_IF_ERROR(internal::CheckLayout("GatherRows", "dst", dst));
  LOCKSTEP_RETURN_IF_ERROR(Activate());
  return CudaStatus(internal::LaunchGatherRows(ToDeviceRows(src), rows.data, ToDeviceRows(dst),
                                               ErrorWord(kGatherError), stream_),
                    "GatherRows kernel launch");
}

// ---- Host results

DeviceSamplingRow ToDeviceRow(const SamplingParams& params) {
  DeviceSamplingRow row{};
  row.temperature = params.temperature;
  row.top_k = params.top_k;
  row.top_p = params.top_p;
  return row;
}

absl::Status CudaBackend::RunSampling(ConstMatrixView logits, bool sample,
                                      OpScope& profile_scope) {
  LOCKSTEP_RETURN_IF_ERROR(NotWhileCapturing(sample ? "SampleTokens" : "TokenLogprobs"));
  LOCKSTEP_RETURN_IF_ERROR(internal::CheckLayout(sample ? "SampleTokens" : "TokenLogprobs",
                                                 "logits", logits));
  LOCKSTEP_RETURN_IF_ERROR(Activate());
  const size_t rows = host_rows_.size();
  LOCKSTEP_ASSIGN_OR_RETURN(void* device_rows,
                            sampling_rows_.Reserve(rows * sizeof(DeviceSamplingRow)));
  LOCKSTEP_ASSIGN_OR_RETURN(void* device_results,
                            sampling_results_.Reserve(rows * sizeof(DeviceSampledRow)));
  LOCKSTEP_RETURN_IF_CUDA_ERROR(cudaMemcpyAsync(device_rows, host_rows_.data(),
                                                rows * sizeof(DeviceSamplingRow),
                                                cudaMemcpyHostToDevice, stream_));
  LOCKSTEP_RETURN_IF_ERROR(CudaStatus(
      internal::LaunchSampling(ToDeviceRows(logits),
                               static_cast<const DeviceSamplingRow*>(device_rows), sample ? 1 : 0,
                               static_cast<DeviceSampledRow*>(device_results), stream_),
      sample ? "SampleTokens kernel launch" : "TokenLogprobs kernel launch"));
  host_results_.resize(rows);
  LOCKSTEP_RETURN_IF_CUDA_ERROR(cudaMemcpyAsync(host_results_.data(), device_results,
                                                rows * sizeof(DeviceSampledRow),
                                                cudaMemcpyDeviceToHost, stream_));
  LOCKSTEP_RETURN_IF_ERROR(CudaStatus(cudaStreamSynchronize(stream_),
                                      sample ? "SampleTokens: cudaStreamSynchronize"
                                             : "TokenLogprobs: cudaStreamSynchronize"));
  profile_scope.End();
  profile_.Collect();
  return absl::OkStatus();
}

absl::Status CudaBackend::TokenLogprobs(ConstMatrixView logits, std::span<const int32_t> tokens,
                                        std::span<const SamplingParams> params,
                                        std::span<float> logprobs) {
  OpScope profile_scope(profile_, "TokenLogprobs", stream_);
  LOCKSTEP_RETURN_IF_ERROR(
      checks::TokenLogprobs(Device::kCuda, logits, tokens, params, logprobs));
  if (logits.rows == 0) return absl::OkStatus();
  host_rows_.resize(static_cast<size_t>(logits.rows));
  for (size_t r = 0; r < host_rows_.size(); ++r) {
    host_rows_[r] = ToDeviceRow(params.size() == 1 ? params[0] : params[r]);
    host_rows_[r].token = tokens[r];
  }
  LOCKSTEP_RETURN_IF_ERROR(RunSampling(logits, /*sample=*/false, profile_scope));
  for (size_t r = 0; r < host_rows_.size(); ++r) logprobs[r] = host_results_[r].logprob;
  return absl::OkStatus();
}

absl::Status CudaBackend::SampleTokens(ConstMatrixView logits, std::span<const SampleSpec> specs,
                                       std::span<SampledToken> out) {
  OpScope profile_scope(profile_, "SampleTokens", stream_);
  LOCKSTEP_RETURN_IF_ERROR(checks::SampleTokens(Device::kCuda, logits, specs, out));
  if (logits.rows == 0) return absl::OkStatus();
  host_rows_.resize(static_cast<size_t>(logits.rows));
  for (size_t r = 0; r < host_rows_.size(); ++r) {
    host_rows_[r] = ToDeviceRow(specs[r].params);
    host_rows_[r].seed = specs[r].seed;
    host_rows_[r].request = specs[r].request;
    host_rows_[r].sample_index = specs[r].sample_index;
    host_rows_[r].position = specs[r].position;
  }
  LOCKSTEP_RETURN_IF_ERROR(RunSampling(logits, /*sample=*/true, profile_scope));
  for (size_t r = 0; r < host_rows_.size(); ++r) {
    out[r] = SampledToken{host_results_[r].token, host_results_[r].logprob};
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Backend>> CreateCudaBackend(const BackendOptions& options) {
  return CudaBackend::Create(options);
}

}  // namespace lockstep::cuda
