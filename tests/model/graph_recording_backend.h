// A Backend that runs every op on another (eager) backend but supports graph capture the way
// CudaBackend does: between BeginCapture and EndCapture the enqueuing ops are recorded, not
// run, and anything that would allocate, copy from or to the host, wait or return a host
// result is refused (and fails the capture); Replay runs the recorded ops again on whatever
// their buffers hold then. So the CPU tests run the model's whole graphed decode path
// (buckets, padding, capture, replay, invalidation) with the CPU backend's bits. It counts
// device allocations, so a test can check that steady-state steps make none. It can report
// another numerics mode than the inner backend's (to take the model's kFast branches).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "numerics/backend.h"

namespace lockstep {

class GraphRecordingBackend final : public Backend {
 public:
  explicit GraphRecordingBackend(Backend& inner) : inner_(inner), mode_(inner.mode()) {}
  GraphRecordingBackend(Backend& inner, NumericsMode reported_mode)
      : inner_(inner), mode_(reported_mode) {}

  // Allocate/AllocateInt32 calls that succeeded.
  int64_t allocations() const { return allocations_; }
  int64_t replays() const { return replays_; }

  Device device() const override { return inner_.device(); }
  NumericsMode mode() const override { return mode_; }
  std::string Describe() const override { return "graph-recording " + inner_.Describe(); }
  absl::StatusOr<DeviceMemoryInfo> MemoryInfo() const override { return inner_.MemoryInfo(); }

  // ---- Graphs.
  bool SupportsGraphs() const override { return true; }
  absl::Status BeginCapture() override {
    if (capturing_) return absl::FailedPreconditionError("BeginCapture: a capture is running");
    capturing_ = true;
    capture_error_ = absl::OkStatus();
    recording_ = std::make_unique<RecordedGraph>(this);
    return absl::OkStatus();
  }
  absl::StatusOr<std::unique_ptr<CapturedGraph>> EndCapture() override {
    if (!capturing_) return absl::FailedPreconditionError("EndCapture: no capture is running");
    capturing_ = false;
    std::unique_ptr<RecordedGraph> graph = std::move(recording_);
    if (!capture_error_.ok()) return capture_error_;
    return std::unique_ptr<CapturedGraph>(std::move(graph));
  }
  absl::Status Replay(const CapturedGraph& graph) override {
    const auto* recorded = dynamic_cast<const RecordedGraph*>(&graph);
    if (recorded == nullptr || recorded->owner != this) {
      return absl::InvalidArgumentError("Replay: the graph was captured by another backend");
    }
    if (capturing_) return Refuse("Replay");
    ++replays_;
    for (const auto& op : recorded->ops) {
      if (absl::Status s = op(); !s.ok()) return s;
    }
    return absl::OkStatus();
  }
  int64_t ScratchGeneration() const override { return inner_.ScratchGeneration(); }

  // ---- Memory: refused while capturing.
  absl::StatusOr<DeviceTensor> Allocate(DType dtype, int64_t rows, int64_t cols) override {
    if (capturing_) return Refuse("Allocate");
    ++allocations_;
    return inner_.Allocate(dtype, rows, cols);
  }
  absl::StatusOr<DeviceInt32s> AllocateInt32(int64_t size) override {
    if (capturing_) return Refuse("AllocateInt32");
    ++allocations_;
    return inner_.AllocateInt32(size);
  }
  absl::Status CopyFromHost(ConstMatrixView host, MatrixView dst) override {
    if (capturing_) return Refuse("CopyFromHost");
    return inner_.CopyFromHost(host, dst);
  }
  absl::Status CopyInt32FromHost(std::span<const int32_t> host, MutableInt32View dst) override {
    if (capturing_) return Refuse("CopyInt32FromHost");
    return inner_.CopyInt32FromHost(host, dst);
  }
  absl::Status CopyToHost(ConstMatrixView src, MatrixView host) override {
    if (capturing_) return Refuse("CopyToHost");
    return inner_.CopyToHost(src, host);
  }
  absl::Status Copy(ConstMatrixView src, MatrixView dst) override {
    return Enqueue([=, this] { return inner_.Copy(src, dst); });
  }
  absl::Status Synchronize() override {
    if (capturing_) return Refuse("Synchronize");
    return inner_.Synchronize();
  }
  absl::StatusOr<std::unique_ptr<PreparedLinear>> PrepareLinear(ConstMatrixView weight,
                                                                ConstMatrixView bias) override {
    if (capturing_) return Refuse("PrepareLinear");
    return inner_.PrepareLinear(weight, bias);
  }
  absl::StatusOr<std::unique_ptr<PreparedRope>> PrepareRope(const RopeTable& table) override {
    if (capturing_) return Refuse("PrepareRope");
    return inner_.PrepareRope(table);
  }

  // ---- Enqueuing ops: recorded while capturing, run now otherwise.
  absl::Status Embedding(ConstMatrixView table, Int32View ids, MatrixView out) override {
    return Enqueue([=, this] { return inner_.Embedding(table, ids, out); });
  }
  absl::Status RmsNorm(ConstMatrixView x, ConstMatrixView weight, float eps,
                       MatrixView out) override {
    return Enqueue([=, this] { return inner_.RmsNorm(x, weight, eps, out); });
  }
  absl::Status Linear(ConstMatrixView x, const PreparedLinear& weight, MatrixView out) override {
    const PreparedLinear* w = &weight;
    return Enqueue([=, this] { return inner_.Linear(x, *w, out); });
  }
  absl::Status AddResidual(ConstMatrixView a, ConstMatrixView b, MatrixView out) override {
    return Enqueue([=, this] { return inner_.AddResidual(a, b, out); });
  }
  absl::Status SwiGlu(ConstMatrixView gate, ConstMatrixView up, MatrixView out) override {
    return Enqueue([=, this] { return inner_.SwiGlu(gate, up, out); });
  }
  absl::Status ApplyRope(MatrixView x, int num_heads, Int32View positions,
                         const PreparedRope& rope) override {
    const PreparedRope* r = &rope;
    return Enqueue([=, this] { return inner_.ApplyRope(x, num_heads, positions, *r); });
  }
  absl::Status WriteKv(ConstMatrixView k, ConstMatrixView v, Int32View slots,
                       const KvPoolView& pool) override {
    return Enqueue([=, this] { return inner_.WriteKv(k, v, slots, pool); });
  }
  absl::Status PagedAttention(ConstMatrixView q, const KvPoolView& pool,
                              const PagedBatchView& batch, const AttentionShape& shape,
                              MatrixView out) override {
    return Enqueue([=, this] { return inner_.PagedAttention(q, pool, batch, shape, out); });
  }
  absl::Status CausalAttention(ConstMatrixView q, ConstMatrixView k, ConstMatrixView v,
                               std::span<const int32_t> sequence_indptr,
                               const AttentionShape& shape, MatrixView out) override {
    // A host array: a graph keeps its own copy, as a CUDA graph keeps the kernel arguments.
    std::vector<int32_t> indptr(sequence_indptr.begin(), sequence_indptr.end());
    return Enqueue([=, this] { return inner_.CausalAttention(q, k, v, indptr, shape, out); });
  }
  absl::Status GatherRows(ConstMatrixView src, Int32View rows, MatrixView dst) override {
    return Enqueue([=, this] { return inner_.GatherRows(src, rows, dst); });
  }

  // ---- Host results: refused while capturing.
  absl::Status TokenLogprobs(ConstMatrixView logits, std::span<const int32_t> tokens,
                             std::span<const SamplingParams> params,
                             std::span<float> logprobs) override {
    if (capturing_) return Refuse("TokenLogprobs");
    return inner_.TokenLogprobs(logits, tokens, params, logprobs);
  }
  absl::Status SampleTokens(ConstMatrixView logits, std::span<const SampleSpec> specs,
                            std::span<SampledToken> out) override {
    if (capturing_) return Refuse("SampleTokens");
    return inner_.SampleTokens(logits, specs, out);
  }

 private:
  struct RecordedGraph : CapturedGraph {
    explicit RecordedGraph(const GraphRecordingBackend* o) : owner(o) {}
    const GraphRecordingBackend* owner;
    std::vector<std::function<absl::Status()>> ops;
  };

  absl::Status Enqueue(std::function<absl::Status()> op) {
    if (!capturing_) return op();
    recording_->ops.push_back(std::move(op));
    return absl::OkStatus();
  }
  // What CudaBackend does with a call a graph cannot record: refuse it and fail the capture.
  absl::Status Refuse(const char* call) {
    absl::Status refused =
        absl::FailedPreconditionError(absl::StrCat(call, " while a graph is being captured"));
    if (capture_error_.ok()) capture_error_ = refused;
    return refused;
  }

  Backend& inner_;
  NumericsMode mode_;
  bool capturing_ = false;
  absl::Status capture_error_;
  std::unique_ptr<RecordedGraph> recording_;
  int64_t allocations_ = 0;
  int64_t replays_ = 0;
};

}  // namespace lockstep
