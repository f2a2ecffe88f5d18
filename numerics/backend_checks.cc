// Every Backend op's argument checks (see backend_checks.h): one message per mistake, naming the
// op, the argument and what was expected, shared by the CPU and CUDA backends.
#include "numerics/backend_checks.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "numerics/status_macros.h"

namespace lockstep::checks {
namespace {

std::string Dims(ConstMatrixView v) { return absl::StrCat("(", v.rows, ", ", v.cols, ")"); }

absl::Status Error(const char* op, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat(op, ": ", what));
}

}  // namespace

absl::Status OnDevice(const char* op, const char* name, ConstMatrixView view, Device device) {
  if (view.device != device) {
    return Error(op, absl::StrCat(name, " is in ", std::string(DeviceName(view.device)),
                                  " memory; this backend runs on ", std::string(DeviceName(device))));
  }
  if (view.rows < 0 || view.cols < 0 || view.row_stride < view.cols) {
    return Error(op, absl::StrCat(name, " is ", Dims(view), " with row_stride ", view.row_stride,
                                  "; need rows, cols >= 0 and row_stride >= cols"));
  }
  if (view.rows > 0 && view.cols > 0 && view.data == nullptr) {
    return Error(op, absl::StrCat(name, " is ", Dims(view), " with a null pointer"));
  }
  return absl::OkStatus();
}

absl::Status OnDevice(const char* op, const char* name, Int32View view, Device device) {
  if (view.device != device) {
    return Error(op, absl::StrCat(name, " is in ", std::string(DeviceName(view.device)),
                                  " memory; this backend runs on ", std::string(DeviceName(device))));
  }
  if (view.size < 0 || (view.size > 0 && view.data == nullptr)) {
    return Error(op, absl::StrCat(name, " has size ", view.size, " and no data"));
  }
  return absl::OkStatus();
}

absl::Status IsStorageDType(const char* op, const char* name, DType dtype) {
  if (dtype != DType::kF32 && dtype != DType::kF16 && dtype != DType::kBF16) {
    return Error(op, absl::StrCat(name, " has an unknown dtype"));
  }
  return absl::OkStatus();
}

absl::Status Embedding(Device device, ConstMatrixView table, Int32View ids, MatrixView out) {
  LOCKSTEP_RETURN_IF_ERROR(OnDevice("Embedding", "table", table, device));
  LOCKSTEP_RETURN_IF_ERROR(OnDevice("Embedding", "ids", ids, device));
  LOCKSTEP_RETURN_IF_ERROR(OnDevice("Embedding", "out", out, device));
  if (out.rows != ids.size || out.cols != table.cols) {
    return Error("Embedding", absl::StrCat("out is ", Dims(out), "; need (", ids.size, ", ",
                                           table.cols, ") for ", ids.size, " ids"));
  }
  return absl::OkStatus();
}

absl::Status RmsNorm(Device device, ConstMatrixView x, ConstMatrixView weight, float eps,
                     MatrixView out) {
  LOCKSTEP_RETURN_IF_ERROR(OnDevice("RmsNorm", "x", x, device));
  LOCKSTEP_RETURN_IF_ERROR(OnDevice("RmsNorm", "weight", weight, device));
  LOCKSTEP_RETURN_IF_ERROR(OnDevice("RmsNorm", "out", out, device));
  if (weight.rows != 1 || weight.cols != x.cols || out.rows != x.rows || out.cols != x.cols) {
    return Error("RmsNorm", absl::StrCat("x ", Dims(x), ", weight ", Dims(weight), ", out ",
                                         Dims(out), "; need weight (1, H) and out like x"));
  }
  if (!(eps >= 0.0f)) return Error("RmsNorm", "eps must be >= 0");
  return absl::OkStatus();
}

absl::Status Linear(Device device, ConstMatrixView x, const PreparedLinear& weight,
                    MatrixView out) {
  LOCKSTEP_RETURN_IF_ERROR(OnDevice("Linear", "x", x, device));
  LOCKSTEP_RETURN_IF_ERROR(OnDevice("Linear", "out", out, device));
  if (x.cols != weight.in_features() || out.rows != x.rows ||
      out.cols != weight.out_features()) {
    return Error("Linear", absl::StrCat("x ", Dims(x), ", weight (", weight.out_features(), ", ",
                                        weight.in_features(), "), out ", Dims(out),
                                        "; need x (M, K), weight (N, K), out (M, N)"));
  }
  return absl::OkStatus();
}

absl::Status SameShape(const char* op, Device device, ConstMatrixView a, ConstMatrixView b,
                       MatrixView out) {
  LOCKSTEP_RETURN_IF_ERROR(OnDevice(op, "first input", a, device));
  LOCKSTEP_RETURN_IF_ERROR(OnDevice(op, "second input", b, device));
  LOCKSTEP_RETURN_IF_ERROR(OnDevice(op, "out", out, device));
  if (a.rows != b.rows || a.cols != b.cols || out.rows != a.rows || out.cols != a.cols) {
    return Error(op, absl::StrCat("shape mismatch: ", Dims(a), ", ", Dims(b), " -> ", Dims(out)));
  }
  return absl::OkStatus();
}

absl::Status Rope(Device device, MatrixView x, int num_heads, Int32View positions,
                  const PreparedRope& rope) {
  LOCKSTEP_RETURN_IF_ERROR(OnDevice("ApplyRope", "x", x, device));
  LOCKSTEP_RETURN_IF_ERROR(OnDevice("ApplyRope", "positions", positions, device));
  if (num_heads <= 0 || x.cols != int64_t{num_heads} * rope.head_dim() ||
      positions.size != x.rows) {
    return Error("ApplyRope", absl::StrCat("x ", Dims(x), " with ", num_heads, " heads of ",
                                           rope.head_dim(), " and ", positions.size,
                                           " positions; need x (T, heads*head_dim), T positions"));
  }
  return absl::OkStatus();
}

absl::Status Shape(const char* op, const AttentionShape& shape) {
  if (shape.num_heads <= 0 || shape.num_kv_heads <= 0 || shape.head_dim <= 0 ||
      shape.num_heads % shape.num_kv_heads != 0) {
    return Error(op, absl::StrCat("attention shape: ", shape.num_heads, " heads, ",
                                  shape.num_kv_heads, " kv heads, head_dim ", shape.head_dim,
                                  "; need positive sizes and heads % kv_heads == 0"));
  }
  return absl::OkStatus();
}

absl::Status WriteKv(Device device, ConstMatrixView k, ConstMatrixView v, Int32View slots,
                     const KvPoolView& pool) {
  LOCKSTEP_RETURN_IF_ERROR(OnDevice("WriteKv", "k", k, device));
  LOCKSTEP_RETURN_IF_ERROR(OnDevice("WriteKv", "v", v, device));
  LOCKSTEP_RETURN_IF_ERROR(OnDevice("WriteKv", "slots", slots, device));
  if (pool.device != device) return Error("WriteKv", "the KV pool is on another device");
  if (k.rows != v.rows || k.cols != v.cols || slots.size != k.rows ||
      k.cols > pool.row_stride || k.dtype != pool.dtype || v.dtype != pool.dtype) {
    return Error("WriteKv", absl::StrCat("k ", Dims(k), ", v ", Dims(v), ", ", slots.size,
                                         " slots, pool rows of ", pool.row_stride,
                                         " elements; need k, v alike in the pool's dtype, "
                                         "one slot per row"));
  }
  return absl::OkStatus();
}

absl::Status PagedAttention(Device device, ConstMatrixView q, const KvPoolView& pool,
                            const PagedBatchView& batch, const AttentionShape& shape,
                            MatrixView out) {
  constexpr const char* kOp = "PagedAttention";
  LOCKSTEP_RETURN_IF_ERROR(Shape(kOp, shape));
  LOCKSTEP_RETURN_IF_ERROR(OnDevice(kOp, "q", q, device));
  LOCKSTEP_RETURN_IF_ERROR(OnDevice(kOp, "out", out, device));
  LOCKSTEP_RETURN_IF_ERROR(OnDevice(kOp, "query_indptr", batch.query_indptr, device));
  LOCKSTEP_RETURN_IF_ERROR(OnDevice(kOp, "page_indptr", batch.page_indptr, device));
  LOCKSTEP_RETURN_IF_ERROR(OnDevice(kOp, "page_indices", batch.page_indices, device));
  LOCKSTEP_RETURN_IF_ERROR(OnDevice(kOp, "positions", batch.positions, device));
  if (pool.device != device) return Error(kOp, "the KV pool is on another device");
  const int64_t q_cols = int64_t{shape.num_heads} * shape.head_dim;
  const int64_t kv_cols = int64_t{shape.num_kv_heads} * shape.head_dim;
  if (q.cols != q_cols || out.rows != q.rows || out.cols != q_cols ||
      pool.row_stride < kv_cols || pool.block_size <= 0 || batch.num_sequences < 0 ||
      batch.query_indptr.size != batch.num_sequences + 1 ||
      batch.page_indptr.size != batch.num_sequences + 1 || batch.positions.size != q.rows ||
      q.dtype != pool.dtype || out.dtype != pool.dtype) {
    return Error(kOp, absl::StrCat("q ", Dims(q), ", out ", Dims(out), ", ", batch.num_sequences,
                                   " sequences, ", batch.positions.size,
                                   " positions, pool rows of ", pool.row_stride,
                                   "; need q and out (rows, heads*head_dim) in the pool's "
                                   "dtype, indptr arrays of sequences+1, one position per row"));
  }
  return absl::OkStatus();
}

absl::Status CausalAttention(Device device, ConstMatrixView q, ConstMatrixView k,
                             ConstMatrixView v, std::span<const int32_t> sequence_indptr,
                             const AttentionShape& shape, MatrixView out) {
  constexpr const char* kOp = "CausalAttention";
  LOCKSTEP_RETURN_IF_ERROR(Shape(kOp, shape));
  LOCKSTEP_RETURN_IF_ERROR(OnDevice(kOp, "q", q, device));
  LOCKSTEP_RETURN_IF_ERROR(OnDevice(kOp, "k", k, device));
  LOCKSTEP_RETURN_IF_ERROR(OnDevice(kOp, "v", v, device));
  LOCKSTEP_RETURN_IF_ERROR(OnDevice(kOp, "out", out, device));
  const int64_t q_cols = int64_t{shape.num_heads} * shape.head_dim;
  const int64_t kv_cols = int64_t{shape.num_kv_heads} * shape.head_dim;
  if (q.cols != q_cols || k.cols != kv_cols || v.cols != kv_cols || k.rows != q.rows ||
      v.rows != q.rows || out.rows != q.rows || out.cols != q_cols) {
    return Error(kOp, absl::StrCat("q ", Dims(q), ", k ", Dims(k), ", v ", Dims(v), ", out ",
                                   Dims(out), "; need q/out (T, heads*head_dim), k/v (T, "
                                   "kv_heads*head_dim)"));
  }
  if (sequence_indptr.empty() || sequence_indptr.front() != 0 ||
      sequence_indptr.back() != q.rows) {
    return Error(kOp, absl::StrCat("sequence_indptr must start at 0 and end at ", q.rows));
  }
  for (size_t s = 1; s < sequence_indptr.size(); ++s) {
    if (sequence_indptr[s] < sequence_indptr[s - 1]) {
      return Error(kOp, "sequence_indptr must be non-decreasing");
    }
  }
  return absl::OkStatus();
}

absl::Status GatherRows(Device device, ConstMatrixView src, Int32View rows, MatrixView dst) {
  LOCKSTEP_RETURN_IF_ERROR(OnDevice("GatherRows", "src", src, device));
  LOCKSTEP_RETURN_IF_ERROR(OnDevice("GatherRows", "rows", rows, device));
  LOCKSTEP_RETURN_IF_ERROR(OnDevice("GatherRows", "dst", dst, device));
  if (dst.rows != rows.size || dst.cols != src.cols || dst.dtype != src.dtype) {
    return Error("GatherRows", absl::StrCat("src ", Dims(src), ", ", rows.size, " rows, dst ",
                                            Dims(dst), "; need dst (rows, src cols), same dtype"));
  }
  return absl::OkStatus();
}

namespace {

absl::Status CheckParamsCount(const char* op, size_t count, int64_t rows) {
  if (count != 1 && static_cast<int64_t>(count) != rows) {
    return Error(op, absl::StrCat(count, " sampling params for ", rows,
                                  " rows; give one for all rows or one per row"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status TokenLogprobs(Device device, ConstMatrixView logits, std::span<const int32_t> tokens,
                           std::span<const SamplingParams> params, std::span<float> logprobs) {
  LOCKSTEP_RETURN_IF_ERROR(OnDevice("TokenLogprobs", "logits", logits, device));
  LOCKSTEP_RETURN_IF_ERROR(CheckParamsCount("TokenLogprobs", params.size(), logits.rows));
  for (const SamplingParams& p : params) LOCKSTEP_RETURN_IF_ERROR(ValidateSamplingParams(p));
  if (static_cast<int64_t>(tokens.size()) != logits.rows ||
      static_cast<int64_t>(logprobs.size()) != logits.rows) {
    return Error("TokenLogprobs", absl::StrCat(tokens.size(), " tokens and ", logprobs.size(),
                                               " outputs for ", logits.rows, " rows"));
  }
  for (size_t r = 0; r < tokens.size(); ++r) {
    if (tokens[r] < 0 || tokens[r] >= logits.cols) {
      return Error("TokenLogprobs", absl::StrCat("token id ", tokens[r], " at row ", r,
                                                 " is outside the vocabulary [0, ", logits.cols,
                                                 ")"));
    }
  }
  return absl::OkStatus();
}

absl::Status SampleTokens(Device device, ConstMatrixView logits, std::span<const SampleSpec> specs,
                          std::span<SampledToken> out) {
  LOCKSTEP_RETURN_IF_ERROR(OnDevice("SampleTokens", "logits", logits, device));
  if (static_cast<int64_t>(specs.size()) != logits.rows ||
      static_cast<int64_t>(out.size()) != logits.rows) {
    return Error("SampleTokens", absl::StrCat(specs.size(), " specs and ", out.size(),
                                              " outputs for ", logits.rows, " rows"));
  }
  for (const SampleSpec& s : specs) LOCKSTEP_RETURN_IF_ERROR(ValidateSamplingParams(s.params));
  if (logits.cols <= 0) return Error("SampleTokens", "logits have no columns");
  return absl::OkStatus();
}

absl::Status Copy(const char* op, ConstMatrixView src, Device src_device, MatrixView dst,
                  Device dst_device) {
  LOCKSTEP_RETURN_IF_ERROR(OnDevice(op, "src", src, src_device));
  LOCKSTEP_RETURN_IF_ERROR(OnDevice(op, "dst", dst, dst_device));
  if (src.rows != dst.rows || src.cols != dst.cols || src.dtype != dst.dtype) {
    return Error(op, absl::StrCat("src ", Dims(src), " ", std::string(DTypeName(src.dtype)), " vs dst ",
                                  Dims(dst), " ", std::string(DTypeName(dst.dtype)),
                                  "; copies keep shape and dtype"));
  }
  return absl::OkStatus();
}

}  // namespace lockstep::checks
