// Dense row-major host tensors (owning) and 2-D matrix views (non-owning) in one of
// the storage dtypes. Views carry a row stride so a view can be a slice of
// rows or a band of columns of a larger matrix, and the device whose memory they
// point to (Get/Set/RowPtr arithmetic only; Get/Set read host memory). No
// arithmetic happens here.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "numerics/device.h"
#include "numerics/dtype.h"

namespace lockstep {

// A non-owning (rows, cols) view; element (r, c) lives at data + (r*row_stride + c)
// elements. `row_stride` is in elements, >= cols.
struct MatrixView {
  DType dtype = DType::kF32;
  void* data = nullptr;
  int64_t rows = 0;
  int64_t cols = 0;
  int64_t row_stride = 0;
  Device device = Device::kCpu;  // whose memory `data` is

  float Get(int64_t r, int64_t c) const;
  void Set(int64_t r, int64_t c, float value) const;  // rounds to dtype (RNE)
  void* RowPtr(int64_t r) const;
  MatrixView RowRange(int64_t begin, int64_t count) const;
  MatrixView ColRange(int64_t begin, int64_t count) const;
};

struct ConstMatrixView {
  DType dtype = DType::kF32;
  const void* data = nullptr;
  int64_t rows = 0;
  int64_t cols = 0;
  int64_t row_stride = 0;
  Device device = Device::kCpu;

  ConstMatrixView() = default;
  ConstMatrixView(DType dt, const void* d, int64_t r, int64_t c, int64_t stride,
                  Device dev = Device::kCpu)
      : dtype(dt), data(d), rows(r), cols(c), row_stride(stride), device(dev) {}
  ConstMatrixView(const MatrixView& v)  // NOLINT: a mutable view reads too
      : dtype(v.dtype),
        data(v.data),
        rows(v.rows),
        cols(v.cols),
        row_stride(v.row_stride),
        device(v.device) {}

  float Get(int64_t r, int64_t c) const;
  const void* RowPtr(int64_t r) const;
  ConstMatrixView RowRange(int64_t begin, int64_t count) const;
  ConstMatrixView ColRange(int64_t begin, int64_t count) const;
};

// An owning dense tensor, row-major, zero-initialised.
class Tensor {
 public:
  Tensor() = default;
  Tensor(DType dtype, std::vector<int64_t> shape);

  static Tensor FromFloats(DType dtype, std::vector<int64_t> shape, std::span<const float> values);

  DType dtype() const { return dtype_; }
  const std::vector<int64_t>& shape() const { return shape_; }
  int64_t dim(int i) const { return shape_.at(i); }
  int rank() const { return static_cast<int>(shape_.size()); }
  int64_t numel() const { return numel_; }
  size_t nbytes() const { return bytes_.size(); }
  void* data() { return bytes_.data(); }
  const void* data() const { return bytes_.data(); }

  float GetFloat(int64_t flat_index) const;
  void SetFloat(int64_t flat_index, float value);  // rounds to dtype (RNE)
  std::vector<float> ToFloats() const;

  // The tensor as a matrix: rank 1 -> (1, n); rank >= 2 -> (prod of leading dims, last dim).
  MatrixView AsMatrix();
  ConstMatrixView AsMatrix() const;

  std::string ShapeString() const;  // "[4, 256]"

 private:
  DType dtype_ = DType::kF32;
  std::vector<int64_t> shape_;
  int64_t numel_ = 0;
  std::vector<std::byte> bytes_;
};

}  // namespace lockstep
