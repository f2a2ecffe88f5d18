// Embedding, residual add and SwiGLU: element-wise, one rounding per output
// (SwiGLU rounds silu(gate) once more, as HF's act_fn(gate) * up does).
#include "numerics/cpu/elementwise.h"

#include <cmath>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "numerics/cpu/parallel.h"

namespace lockstep::cpu {
namespace {

absl::Status CheckSameShape(const char* op, ConstMatrixView a, ConstMatrixView b, MatrixView out) {
  if (a.rows != b.rows || a.cols != b.cols || out.rows != a.rows || out.cols != a.cols) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": shape mismatch: (", a.rows, ", ", a.cols,
                                                   "), (", b.rows, ", ", b.cols, ") -> (", out.rows,
                                                   ", ", out.cols, ")"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status Embedding(ConstMatrixView table, std::span<const int32_t> ids, MatrixView out) {
  if (out.rows != static_cast<int64_t>(ids.size()) || out.cols != table.cols) {
    return absl::InvalidArgumentError(absl::StrCat("Embedding: out is (", out.rows, ", ", out.cols,
                                                   "); need (", ids.size(), ", ", table.cols, ")"));
  }
  for (size_t t = 0; t < ids.size(); ++t) {
    if (ids[t] < 0 || ids[t] >= table.rows) {
      return absl::OutOfRangeError(absl::StrCat("Embedding: token id ", ids[t], " at position ", t,
                                                " is outside the vocabulary [0, ", table.rows,
                                                ")"));
    }
  }
  for (size_t t = 0; t < ids.size(); ++t) {
    if (table.dtype == out.dtype) {
      std::memcpy(out.RowPtr(t), table.RowPtr(ids[t]), table.cols * DTypeSize(table.dtype));
    } else {
      for (int64_t c = 0; c < table.cols; ++c) out.Set(t, c, table.Get(ids[t], c));
    }
  }
  return absl::OkStatus();
}

absl::Status AddResidual(ConstMatrixView a, ConstMatrixView b, MatrixView out) {
  if (absl::Status s = CheckSameShape("AddResidual", a, b, out); !s.ok()) return s;
  ParallelFor(a.rows, 32, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r)
      for (int64_t c = 0; c < a.cols; ++c) out.Set(r, c, a.Get(r, c) + b.Get(r, c));
  });
  return absl::OkStatus();
}

absl::Status SwiGlu(ConstMatrixView gate, ConstMatrixView up, MatrixView out) {
  if (absl::Status s = CheckSameShape("SwiGlu", gate, up, out); !s.ok()) return s;
  ParallelFor(gate.rows, 8, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      for (int64_t c = 0; c < gate.cols; ++c) {
        const float g = gate.Get(r, c);
        const float silu = RoundToDType(g / (1.0f + std::exp(-g)), out.dtype);
        out.Set(r, c, silu * up.Get(r, c));
      }
    }
  });
  return absl::OkStatus();
}

}  // namespace lockstep::cpu
