// The shape, dtype and device checks of every Backend op, written once: each backend's op
// calls its check first, so the CPU and CUDA backends reject the same bad calls with the
// same message, before any work is enqueued. Messages name the op, the argument and what
// was expected.
#pragma once

#include <span>

#include "absl/status/status.h"
#include "numerics/attention_shape.h"
#include "numerics/backend.h"
#include "numerics/device_tensor.h"
#include "numerics/tensor.h"

namespace lockstep::checks {

// `view` lives on `device`, has row_stride >= cols and a pointer when it has elements.
absl::Status OnDevice(const char* op, const char* name, ConstMatrixView view, Device device);
absl::Status OnDevice(const char* op, const char* name, Int32View view, Device device);
absl::Status IsStorageDType(const char* op, const char* name, DType dtype);  // fp16/bf16/fp32

absl::Status Embedding(Device device, ConstMatrixView table, Int32View ids, MatrixView out);
absl::Status RmsNorm(Device device, ConstMatrixView x, ConstMatrixView weight, float eps,
                     MatrixView out);
absl::Status Linear(Device device, ConstMatrixView x, const PreparedLinear& weight,
                    MatrixView out);
// a, b and out (AddResidual) or gate, up and out (SwiGlu): one shape.
absl::Status SameShape(const char* op, Device device, ConstMatrixView a, ConstMatrixView b,
                       MatrixView out);
absl::Status Rope(Device device, MatrixView x, int num_heads, Int32View positions,
                  const PreparedRope& rope);
absl::Status Shape(const char* op, const AttentionShape& shape);
absl::Status WriteKv(Device device, ConstMatrixView k, ConstMatrixView v, Int32View slots,
                     const KvPoolView& pool);
// Host-checkable facts only (counts, dtypes, devices); index contents on the device are
// checked where they are read.
absl::Status PagedAttention(Device device, ConstMatrixView q, const KvPoolView& pool,
                            const PagedBatchView& batch, const AttentionShape& shape,
                            MatrixView out);
absl::Status CausalAttention(Device device, ConstMatrixView q, ConstMatrixView k,
                             ConstMatrixView v, std::span<const int32_t> sequence_indptr,
                             const AttentionShape& shape, MatrixView out);
absl::Status GatherRows(Device device, ConstMatrixView src, Int32View rows, MatrixView dst);
// params: one entry or one per row; every entry valid; tokens in [0, V).
absl::Status TokenLogprobs(Device device, ConstMatrixView logits, std::span<const int32_t> tokens,
                           std::span<const SamplingParams> params, std::span<float> logprobs);
absl::Status SampleTokens(Device device, ConstMatrixView logits, std::span<const SampleSpec> specs,
                          std::span<SampledToken> out);
// Same-shape copies between devices.
absl::Status Copy(const char* op, ConstMatrixView src, Device src_device, MatrixView dst,
                  Device dst_device);

}  // namespace lockstep::checks
