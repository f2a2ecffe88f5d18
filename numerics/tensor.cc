#include "numerics/tensor.h"

#include <cstring>
#include <stdexcept>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace lockstep {

float MatrixView::Get(int64_t r, int64_t c) const {
  return LoadAsFloat(data, dtype, r * row_stride + c);
}
void MatrixView::Set(int64_t r, int64_t c, float value) const {
  StoreFromFloat(data, dtype, r * row_stride + c, value);
}
void* MatrixView::RowPtr(int64_t r) const {
  return static_cast<std::byte*>(data) + r * row_stride * static_cast<int64_t>(DTypeSize(dtype));
}
MatrixView MatrixView::RowRange(int64_t begin, int64_t count) const {
  return MatrixView{dtype, RowPtr(begin), count, cols, row_stride, device};
}
MatrixView MatrixView::ColRange(int64_t begin, int64_t count) const {
  return MatrixView{dtype,
                    static_cast<std::byte*>(data) + begin * static_cast<int64_t>(DTypeSize(dtype)),
                    rows, count, row_stride, device};
}

float ConstMatrixView::Get(int64_t r, int64_t c) const {
  return LoadAsFloat(data, dtype, r * row_stride + c);
}
const void* ConstMatrixView::RowPtr(int64_t r) const {
  return static_cast<const std::byte*>(data) +
         r * row_stride * static_cast<int64_t>(DTypeSize(dtype));
}
ConstMatrixView ConstMatrixView::RowRange(int64_t begin, int64_t count) const {
  return ConstMatrixView(dtype, RowPtr(begin), count, cols, row_stride, device);
}
ConstMatrixView ConstMatrixView::ColRange(int64_t begin, int64_t count) const {
  return ConstMatrixView(
      dtype, static_cast<const std::byte*>(data) + begin * static_cast<int64_t>(DTypeSize(dtype)),
      rows, count, row_stride, device);
}

Tensor::Tensor(DType dtype, std::vector<int64_t> shape) : dtype_(dtype), shape_(std::move(shape)) {
  numel_ = 1;
  for (int64_t d : shape_) {
    if (d < 0) throw std::invalid_argument("Tensor: negative dimension");
    numel_ *= d;
  }
  bytes_.assign(static_cast<size_t>(numel_) * DTypeSize(dtype_), std::byte{0});
}

Tensor Tensor::FromFloats(DType dtype, std::vector<int64_t> shape, std::span<const float> values) {
  Tensor t(dtype, std::move(shape));
  if (static_cast<int64_t>(values.size()) != t.numel()) {
    throw std::invalid_argument("Tensor::FromFloats: value count does not match shape");
  }
  for (int64_t i = 0; i < t.numel(); ++i) t.SetFloat(i, values[i]);
  return t;
}

float Tensor::GetFloat(int64_t flat_index) const { return LoadAsFloat(data(), dtype_, flat_index); }
void Tensor::SetFloat(int64_t flat_index, float value) {
  StoreFromFloat(data(), dtype_, flat_index, value);
}

std::vector<float> Tensor::ToFloats() const {
  std::vector<float> out(static_cast<size_t>(numel_));
  for (int64_t i = 0; i < numel_; ++i) out[i] = GetFloat(i);
  return out;
}

MatrixView Tensor::AsMatrix() {
  const int64_t cols = shape_.empty() ? 1 : shape_.back();
  const int64_t rows = cols == 0 ? 0 : numel_ / cols;
  return MatrixView{dtype_, data(), rows, cols, cols};
}
ConstMatrixView Tensor::AsMatrix() const {
  const int64_t cols = shape_.empty() ? 1 : shape_.back();
  const int64_t rows = cols == 0 ? 0 : numel_ / cols;
  return ConstMatrixView(dtype_, data(), rows, cols, cols);
}

// StrCat, not "[" + ...: GCC 12 emits a false -Wrestrict for const char* + std::string&&.
std::string Tensor::ShapeString() const { return absl::StrCat("[", absl::StrJoin(shape_, ", "), "]"); }

}  // namespace lockstep
