// A Backend that runs every op on another backend but reports fixed free/total bytes from
// MemoryInfo, so a KV cache sized from a memory fraction gets a known block count in tests.
#pragma once

#include <memory>
#include <span>
#include <string>

#include "numerics/backend.h"

namespace lockstep {

class FixedMemoryBackend final : public Backend {
 public:
  FixedMemoryBackend(Backend& inner, DeviceMemoryInfo memory) : inner_(inner), memory_(memory) {}

  absl::StatusOr<DeviceMemoryInfo> MemoryInfo() const override { return memory_; }

  Device device() const override { return inner_.device(); }
  NumericsMode mode() const override { return inner_.mode(); }
  std::string Describe() const override { return "fixed-memory " + inner_.Describe(); }
  absl::StatusOr<DeviceTensor> Allocate(DType dtype, int64_t rows, int64_t cols) override {
    return inner_.Allocate(dtype, rows, cols);
  }
  absl::StatusOr<DeviceInt32s> AllocateInt32(int64_t size) override {
    return inner_.AllocateInt32(size);
  }
  absl::Status CopyFromHost(ConstMatrixView host, MatrixView dst) override {
    return inner_.CopyFromHost(host, dst);
  }
  absl::Status CopyInt32FromHost(std::span<const int32_t> host, MutableInt32View dst) override {
    return inner_.CopyInt32FromHost(host, dst);
  }
  absl::Status CopyToHost(ConstMatrixView src, MatrixView host) override {
    return inner_.CopyToHost(src, host);
  }
  absl::Status Copy(ConstMatrixView src, MatrixView dst) override { return inner_.Copy(src, dst); }
  absl::Status Synchronize() override { return inner_.Synchronize(); }
  absl::StatusOr<std::unique_ptr<PreparedLinear>> PrepareLinear(ConstMatrixView weight,
                                                                ConstMatrixView bias) override {
    return inner_.PrepareLinear(weight, bias);
  }
  absl::StatusOr<std::unique_ptr<PreparedRope>> PrepareRope(const RopeTable& table) override {
    return inner_.PrepareRope(table);
  }
  absl::Status Embedding(ConstMatrixView table, Int32View ids, MatrixView out) override {
    return inner_.Embedding(table, ids, out);
  }
  absl::Status RmsNorm(ConstMatrixView x, ConstMatrixView weight, float eps,
                       MatrixView out) override {
    return inner_.RmsNorm(x, weight, eps, out);
  }
  absl::Status Linear(ConstMatrixView x, const PreparedLinear& weight, MatrixView out) override {
    return inner_.Linear(x, weight, out);
  }
  absl::Status AddResidual(ConstMatrixView a, ConstMatrixView b, MatrixView out) override {
    return inner_.AddResidual(a, b, out);
  }
  absl::Status SwiGlu(ConstMatrixView gate, ConstMatrixView up, MatrixView out) override {
    return inner_.SwiGlu(gate, up, out);
  }
  absl::Status ApplyRope(MatrixView x, int num_heads, Int32View positions,
                         const PreparedRope& rope) override {
    return inner_.ApplyRope(x, num_heads, positions, rope);
  }
  absl::Status WriteKv(ConstMatrixView k, ConstMatrixView v, Int32View slots,
                       const KvPoolView& pool) override {
    return inner_.WriteKv(k, v, slots, pool);
  }
  absl::Status PagedAttention(ConstMatrixView q, const KvPoolView& pool,
                              const PagedBatchView& batch, const AttentionShape& shape,
                              MatrixView out) override {
    return inner_.PagedAttention(q, pool, batch, shape, out);
  }
  absl::Status CausalAttention(ConstMatrixView q, ConstMatrixView k, ConstMatrixView v,
                               std::span<const int32_t> sequence_indptr,
                               const AttentionShape& shape, MatrixView out) override {
    return inner_.CausalAttention(q, k, v, sequence_indptr, shape, out);
  }
  absl::Status GatherRows(ConstMatrixView src, Int32View rows, MatrixView dst) override {
    return inner_.GatherRows(src, rows, dst);
  }
  absl::Status TokenLogprobs(ConstMatrixView logits, std::span<const int32_t> tokens,
                             std::span<const SamplingParams> params,
                             std::span<float> logprobs) override {
    return inner_.TokenLogprobs(logits, tokens, params, logprobs);
  }
  absl::Status SampleTokens(ConstMatrixView logits, std::span<const SampleSpec> specs,
                            std::span<SampledToken> out) override {
    return inner_.SampleTokens(logits, specs, out);
  }

 private:
  Backend& inner_;
  DeviceMemoryInfo memory_;
};

}  // namespace lockstep
