// The CPU backend (numerics/cpu/cpu_backend.h): every Backend op is its shared check
// (numerics/backend_checks.h) followed by the tested cpu:: function, so the backend gives
// exactly the bits those functions give. Packed batches are split per sequence here;
// copies, KV writes and row gathers are memcpy.
#include "numerics/cpu/cpu_backend.h"

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "numerics/backend_checks.h"
#include "numerics/cpu/attention.h"
#include "numerics/cpu/elementwise.h"
#include "numerics/cpu/host_memory.h"
#include "numerics/cpu/logprob.h"
#include "numerics/cpu/parallel.h"
#include "numerics/cpu/rmsnorm.h"
#include "numerics/cpu/rope.h"
#include "numerics/status_macros.h"

namespace lockstep::cpu {
namespace {

constexpr size_t kAlignment = 64;

void FreeHost(void* data) { std::free(data); }

// Zero-filled, 64-byte aligned host memory (nullptr for zero bytes).
absl::StatusOr<void*> AllocateHost(size_t bytes) {
  if (bytes == 0) return nullptr;
  const size_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
  void* data = std::aligned_alloc(kAlignment, rounded);
  if (data == nullptr) {
    return absl::ResourceExhaustedError(
        absl::StrCat("cpu backend: could not allocate ", bytes, " bytes of host memory"));
  }
  std::memset(data, 0, rounded);
  return data;
}

// Row-by-row copy between two same-shape host views (strides may differ).
void CopyRows(ConstMatrixView src, MatrixView dst) {
  const size_t row_bytes = static_cast<size_t>(src.cols) * DTypeSize(src.dtype);
  if (row_bytes == 0) return;
  for (int64_t r = 0; r < src.rows; ++r) std::memcpy(dst.RowPtr(r), src.RowPtr(r), row_bytes);
}

class CpuPreparedLinear final : public PreparedLinear {
 public:
  CpuPreparedLinear(DeviceTensor weight, DeviceTensor bias)
      : weight_(std::move(weight)), bias_(std::move(bias)) {
    linear_ = PrepareLinearWeight(weight_.view(), bias_.empty() ? nullptr : bias_.view().data);
  }
  int64_t out_features() const override { return weight_.rows(); }
  int64_t in_features() const override { return weight_.cols(); }
  DType dtype() const override { return weight_.dtype(); }
  bool has_bias() const override { return !bias_.empty(); }
  ConstMatrixView weight() const override { return weight_.view(); }
  const LinearWeight& linear() const { return linear_; }

 private:
  DeviceTensor weight_;  // the backend's own copy of the storage values
  DeviceTensor bias_;
  LinearWeight linear_;  // views weight_/bias_, plus the exact fp32 copies
};

class CpuPreparedRope final : public PreparedRope {
 public:
  explicit CpuPreparedRope(const RopeTable& table) : table_(table) {}
  int head_dim() const override { return table_.head_dim(); }
  int max_positions() const override { return table_.max_positions(); }
  const RopeTable& table() const { return table_; }

 private:
  RopeTable table_;
};

class CpuBackend final : public Backend {
 public:
  explicit CpuBackend(NumericsMode mode) : mode_(mode) {}

  Device device() const override { return Device::kCpu; }
  NumericsMode mode() const override { return mode_; }
  std::string Describe() const override {
    return absl::StrCat("cpu (", std::string(CpuIsaName(ActiveLinearIsa())), ", ", NumThreads(),
                        " threads, ", std::string(NumericsModeName(mode_)),
                        "; every op batch-invariant)");
  }

  absl::StatusOr<DeviceMemoryInfo> MemoryInfo() const override { return HostMemoryInfo(); }

  absl::StatusOr<DeviceTensor> Allocate(DType dtype, int64_t rows, int64_t cols) override {
    LOCKSTEP_RETURN_IF_ERROR(checks::IsStorageDType("Allocate", "dtype", dtype));
    if (rows < 0 || cols < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("Allocate: (", rows, ", ", cols, ") has a negative size"));
    }
    LOCKSTEP_ASSIGN_OR_RETURN(void* data,
                              AllocateHost(static_cast<size_t>(rows * cols) * DTypeSize(dtype)));
    return DeviceTensor(Device::kCpu, dtype, rows, cols, data, &FreeHost);
  }

  absl::StatusOr<DeviceInt32s> AllocateInt32(int64_t size) override {
    if (size < 0) return absl::InvalidArgumentError("AllocateInt32: negative size");
    LOCKSTEP_ASSIGN_OR_RETURN(void* data, AllocateHost(static_cast<size_t>(size) * 4));
    return DeviceInt32s(Device::kCpu, size, static_cast<int32_t*>(data), &FreeHost);
  }

  absl::Status CopyFromHost(ConstMatrixView host, MatrixView dst) override {
    LOCKSTEP_RETURN_IF_ERROR(checks::Copy("CopyFromHost", host, Device::kCpu, dst, Device::kCpu));
    CopyRows(host, dst);
    return absl::OkStatus();
  }

  absl::Status CopyInt32FromHost(std::span<const int32_t> host, MutableInt32View dst) override {
    LOCKSTEP_RETURN_IF_ERROR(checks::OnDevice("CopyInt32FromHost", "dst", dst, Device::kCpu));
    if (static_cast<int64_t>(host.size()) != dst.size) {
      return absl::InvalidArgumentError(absl::StrCat("CopyInt32FromHost: ", host.size(),
                                                     " values into an array of ", dst.size));
    }
    if (!host.empty()) std::memcpy(dst.data, host.data(), host.size() * sizeof(int32_t));
    return absl::OkStatus();
  }

  absl::Status CopyToHost(ConstMatrixView src, MatrixView host) override {
    LOCKSTEP_RETURN_IF_ERROR(checks::Copy("CopyToHost", src, Device::kCpu, host, Device::kCpu));
    CopyRows(src, host);
    return absl::OkStatus();
  }

  absl::Status Copy(ConstMatrixView src, MatrixView dst) override {
    LOCKSTEP_RETURN_IF_ERROR(checks::Copy("Copy", src, Device::kCpu, dst, Device::kCpu));
    CopyRows(src, dst);
    return absl::OkStatus();
  }

  absl::Status Synchronize() override { return absl::OkStatus(); }  // every op already ran

  absl::StatusOr<std::unique_ptr<PreparedLinear>> PrepareLinear(ConstMatrixView weight,
                                                                ConstMatrixView bias) override {
    LOCKSTEP_RETURN_IF_ERROR(checks::OnDevice("PrepareLinear", "weight", weight, Device::kCpu));
    LOCKSTEP_RETURN_IF_ERROR(checks::IsStorageDType("PrepareLinear", "weight", weight.dtype));
    DeviceTensor bias_copy;
    if (bias.rows != 0) {
      LOCKSTEP_RETURN_IF_ERROR(checks::OnDevice("PrepareLinear", "bias", bias, Device::kCpu));
      if (bias.rows != 1 || bias.cols != weight.rows || bias.dtype != weight.dtype) {
        return absl::InvalidArgumentError(absl::StrCat(
            "PrepareLinear: bias is (", bias.rows, ", ", bias.cols, "); need (1, ", weight.rows,
            ") in the weight's dtype"));
      }
      LOCKSTEP_ASSIGN_OR_RETURN(bias_copy, Upload(bias));
    }
    LOCKSTEP_ASSIGN_OR_RETURN(DeviceTensor weight_copy, Upload(weight));
    return std::unique_ptr<PreparedLinear>(
        new CpuPreparedLinear(std::move(weight_copy), std::move(bias_copy)));
  }

  absl::StatusOr<std::unique_ptr<PreparedRope>> PrepareRope(const RopeTable& table) override {
    return std::unique_ptr<PreparedRope>(new CpuPreparedRope(table));
  }

  absl::Status Embedding(ConstMatrixView table, Int32View ids, MatrixView out) override {
    LOCKSTEP_RETURN_IF_ERROR(checks::Embedding(Device::kCpu, table, ids, out));
    return cpu::Embedding(table, ids.host_span(), out);
  }

  absl::Status RmsNorm(ConstMatrixView x, ConstMatrixView weight, float eps,
                       MatrixView out) override {
    LOCKSTEP_RETURN_IF_ERROR(checks::RmsNorm(Device::kCpu, x, weight, eps, out));
    return cpu::RmsNorm(x, weight, eps, out);
  }

  absl::Status Linear(ConstMatrixView x, const PreparedLinear& weight, MatrixView out) override {
    LOCKSTEP_RETURN_IF_ERROR(checks::Linear(Device::kCpu, x, weight, out));
    const LinearWeight* linear = AsCpuLinearWeight(weight);
    if (linear == nullptr) {
      return absl::InvalidArgumentError(
          "Linear: the weight was prepared by another backend; prepare it on this one");
    }
    return cpu::Linear(x, *linear, out);
  }

  absl::Status AddResidual(ConstMatrixView a, ConstMatrixView b, MatrixView out) override {
    LOCKSTEP_RETURN_IF_ERROR(checks::SameShape("AddResidual", Device::kCpu, a, b, out));
    return cpu::AddResidual(a, b, out);
  }

  absl::Status SwiGlu(ConstMatrixView gate, ConstMatrixView up, MatrixView out) override {
    LOCKSTEP_RETURN_IF_ERROR(checks::SameShape("SwiGlu", Device::kCpu, gate, up, out));
    return cpu::SwiGlu(gate, up, out);
  }

  absl::Status ApplyRope(MatrixView x, int num_heads, Int32View positions,
                         const PreparedRope& rope) override {
    LOCKSTEP_RETURN_IF_ERROR(checks::Rope(Device::kCpu, x, num_heads, positions, rope));
    const RopeTable* table = AsCpuRopeTable(rope);
    if (table == nullptr) {
      return absl::InvalidArgumentError(
          "ApplyRope: the rope table was prepared by another backend; prepare it on this one");
    }
    for (int32_t p : positions.host_span()) {
      if (p < 0 || p >= table->max_positions()) {
        return absl::OutOfRangeError(absl::StrCat("ApplyRope: position ", p,
                                                  " outside the rope table [0, ",
                                                  table->max_positions(), ")"));
      }
    }
    return cpu::ApplyRope(x, num_heads, positions.host_span(), *table);
  }

  absl::Status WriteKv(ConstMatrixView k, ConstMatrixView v, Int32View slots,
                       const KvPoolView& pool) override {
    LOCKSTEP_RETURN_IF_ERROR(checks::WriteKv(Device::kCpu, k, v, slots, pool));
    const int64_t pool_rows = pool.num_pages * pool.block_size;
    const size_t row_bytes = static_cast<size_t>(k.cols) * DTypeSize(pool.dtype);
    const size_t stride_bytes = static_cast<size_t>(pool.row_stride) * DTypeSize(pool.dtype);
    for (int64_t t = 0; t < k.rows; ++t) {
      const int32_t slot = slots.data[t];
      if (slot < 0 || slot >= pool_rows) {
        return absl::OutOfRangeError(absl::StrCat("WriteKv: slot ", slot, " of row ", t,
                                                  " outside the pool's ", pool_rows, " rows"));
      }
      std::memcpy(static_cast<std::byte*>(pool.k_pool) + slot * stride_bytes, k.RowPtr(t),
                  row_bytes);
      std::memcpy(static_cast<std::byte*>(pool.v_pool) + slot * stride_bytes, v.RowPtr(t),
                  row_bytes);
    }
    return absl::OkStatus();
  }

  absl::Status PagedAttention(ConstMatrixView q, const KvPoolView& pool,
                              const PagedBatchView& batch, const AttentionShape& shape,
                              MatrixView out) override {
    LOCKSTEP_RETURN_IF_ERROR(checks::PagedAttention(Device::kCpu, q, pool, batch, shape, out));
    LOCKSTEP_RETURN_IF_ERROR(CheckPagedIndices(q, pool, batch));
    KvRowSource source;
    source.dtype = pool.dtype;
    source.k_base = pool.k_pool;
    source.v_base = pool.v_pool;
    source.row_stride = pool.row_stride;
    source.block_size = pool.block_size;
    for (int s = 0; s < batch.num_sequences; ++s) {
      const int32_t begin = batch.query_indptr.data[s];
      const int32_t count = batch.query_indptr.data[s + 1] - begin;
      if (count == 0) continue;
      source.block_table = batch.page_indices.data + batch.page_indptr.data[s];
      LOCKSTEP_RETURN_IF_ERROR(AttentionOverKv(q.RowRange(begin, count),
                                               batch.positions.host_span().subspan(begin, count),
                                               source, shape, out.RowRange(begin, count)));
    }
    return absl::OkStatus();
  }

  absl::Status CausalAttention(ConstMatrixView q, ConstMatrixView k, ConstMatrixView v,
                               std::span<const int32_t> sequence_indptr,
                               const AttentionShape& shape, MatrixView out) override {
    LOCKSTEP_RETURN_IF_ERROR(
        checks::CausalAttention(Device::kCpu, q, k, v, sequence_indptr, shape, out));
    for (size_t s = 0; s + 1 < sequence_indptr.size(); ++s) {
      const int64_t begin = sequence_indptr[s];
      const int64_t count = sequence_indptr[s + 1] - begin;
      if (count == 0) continue;
      LOCKSTEP_RETURN_IF_ERROR(cpu::CausalAttention(q.RowRange(begin, count),
                                                    k.RowRange(begin, count),
                                                    v.RowRange(begin, count), shape,
                                                    out.RowRange(begin, count)));
    }
    return absl::OkStatus();
  }

  absl::Status GatherRows(ConstMatrixView src, Int32View rows, MatrixView dst) override {
    LOCKSTEP_RETURN_IF_ERROR(checks::GatherRows(Device::kCpu, src, rows, dst));
    const size_t row_bytes = static_cast<size_t>(src.cols) * DTypeSize(src.dtype);
    for (int64_t i = 0; i < rows.size; ++i) {
      const int32_t r = rows.data[i];
      if (r < 0 || r >= src.rows) {
        return absl::OutOfRangeError(absl::StrCat("GatherRows: row index ", r, " at ", i,
                                                  " outside the source's ", src.rows, " rows"));
      }
      std::memcpy(dst.RowPtr(i), src.RowPtr(r), row_bytes);
    }
    return absl::OkStatus();
  }

  absl::Status TokenLogprobs(ConstMatrixView logits, std::span<const int32_t> tokens,
                             std::span<const SamplingParams> params,
                             std::span<float> logprobs) override {
    LOCKSTEP_RETURN_IF_ERROR(checks::TokenLogprobs(Device::kCpu, logits, tokens, params, logprobs));
    // Each row is cpu::TokenLogprob alone: the split over threads changes no bits.
    ParallelFor(logits.rows, 1, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        const SamplingParams& p = params.size() == 1 ? params[0] : params[r];
        logprobs[r] = TokenLogprob(logits.RowRange(r, 1), tokens[r], p);
      }
    });
    return absl::OkStatus();
  }

  absl::Status SampleTokens(ConstMatrixView logits, std::span<const SampleSpec> specs,
                            std::span<SampledToken> out) override {
    LOCKSTEP_RETURN_IF_ERROR(checks::SampleTokens(Device::kCpu, logits, specs, out));
    ParallelFor(logits.rows, 1, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        const SampleSpec& s = specs[r];
        out[r] = SampleToken(logits.RowRange(r, 1), s.params, s.seed, s.request, s.sample_index,
                             s.position);
      }
    });
    return absl::OkStatus();
  }

 private:
  // The index contents checks::PagedAttention cannot see (on the CPU they are readable):
  // monotone indptrs, pages inside the pool, and every position inside its pages.
  static absl::Status CheckPagedIndices(ConstMatrixView q, const KvPoolView& pool,
                                        const PagedBatchView& batch) {
    const int32_t* qp = batch.query_indptr.data;
    const int32_t* pp = batch.page_indptr.data;
    if (qp[0] != 0 || qp[batch.num_sequences] != q.rows || pp[0] != 0 ||
        pp[batch.num_sequences] > batch.page_indices.size) {
      return absl::InvalidArgumentError(absl::StrCat(
          "PagedAttention: query_indptr must run from 0 to ", q.rows,
          " and page_indptr from 0 to at most ", batch.page_indices.size, " pages"));
    }
    for (int s = 0; s < batch.num_sequences; ++s) {
      if (qp[s + 1] < qp[s] || pp[s + 1] < pp[s]) {
        return absl::InvalidArgumentError(
            absl::StrCat("PagedAttention: indptr arrays decrease at sequence ", s));
      }
      const int64_t capacity = int64_t{pp[s + 1] - pp[s]} * pool.block_size;
      for (int32_t i = qp[s]; i < qp[s + 1]; ++i) {
        const int32_t p = batch.positions.data[i];
        if (p < 0 || p >= capacity) {
          return absl::OutOfRangeError(absl::StrCat("PagedAttention: query row ", i, " of sequence ",
                                                    s, " at position ", p, " is past its ",
                                                    pp[s + 1] - pp[s], " pages"));
        }
      }
      for (int32_t k = pp[s]; k < pp[s + 1]; ++k) {
        if (batch.page_indices.data[k] < 0 || batch.page_indices.data[k] >= pool.num_pages) {
          return absl::OutOfRangeError(absl::StrCat("PagedAttention: page ",
                                                    batch.page_indices.data[k],
                                                    " outside the pool's ", pool.num_pages));
        }
      }
    }
    return absl::OkStatus();
  }

  NumericsMode mode_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Backend>> CreateCpuBackend(const BackendOptions& options) {
  if (options.device != Device::kCpu) {
    return absl::InvalidArgumentError("CreateCpuBackend: options.device must be cpu");
  }
  return std::unique_ptr<Backend>(new CpuBackend(options.mode));
}

Backend& ProcessCpuBackend() {
  static Backend* const backend = new CpuBackend(NumericsMode::kBatchInvariant);
  return *backend;
}

const LinearWeight* AsCpuLinearWeight(const PreparedLinear& prepared) {
  const auto* cpu = dynamic_cast<const CpuPreparedLinear*>(&prepared);
  return cpu == nullptr ? nullptr : &cpu->linear();
}

const RopeTable* AsCpuRopeTable(const PreparedRope& prepared) {
  const auto* cpu = dynamic_cast<const CpuPreparedRope*>(&prepared);
  return cpu == nullptr ? nullptr : &cpu->table();
}

}  // namespace lockstep::cpu
