// The second step of the rows-first cuBLASLt formulation (cublaslt_matmul.h,
// MatmulOrder::kRowsFirstTransposed, measured by gemm_invariance_bench --orders): a
// column-major (rows, cols) matrix of 16-bit elements copied into row-major Y through
// shared-memory tiles. A pure copy, so the bits are the GEMM's. Declared in
// cublaslt_matmul.h (which uses Abseil, so it is not included here).
#include <cuda_runtime.h>

#include <cstdint>

namespace lockstep::cuda::internal {
namespace {

constexpr int kTile = 32;     // a kTile x kTile block of elements per CTA
constexpr int kTileRows = 8;  // threads per CTA: kTile x kTileRows, each kTile/kTileRows elements
constexpr int kMaxGridY = 65535;

__global__ void __launch_bounds__(kTile* kTileRows)
    ColumnMajorToRowsKernel(const uint16_t* columns, int64_t ld, int64_t rows, int64_t cols,
                            uint16_t* y, int64_t y_stride) {
  __shared__ uint16_t tile[kTile][kTile + 1];  // +1: no bank conflicts on the column reads
  const int64_t row0 = int64_t{blockIdx.x} * kTile;
  const int64_t col0 = int64_t{blockIdx.y} * kTile;
  // Read: consecutive threads take consecutive rows of one column (contiguous in memory).
  for (int j = threadIdx.y; j < kTile; j += kTileRows) {
    const int64_t row = row0 + threadIdx.x, col = col0 + j;
    if (row < rows && col < cols) tile[j][threadIdx.x] = columns[row + col * ld];
  }
  __syncthreads();
  // Write: consecutive threads take consecutive columns of one row of Y.
  for (int j = threadIdx.y; j < kTile; j += kTileRows) {
    const int64_t row = row0 + j, col = col0 + threadIdx.x;
    if (row < rows && col < cols) y[row * y_stride + col] = tile[threadIdx.x][j];
  }
}

}  // namespace

cudaError_t LaunchColumnMajorToRows(const void* columns, int64_t ld, int64_t rows, int64_t cols,
                                    void* y, int64_t y_stride, cudaStream_t stream) {
  if (rows <= 0 || cols <= 0) return cudaSuccess;
  const int64_t col_tiles = (cols + kTile - 1) / kTile;
  if (col_tiles > kMaxGridY) return cudaErrorInvalidValue;
  const dim3 grid(static_cast<unsigned int>((rows + kTile - 1) / kTile),
                  static_cast<unsigned int>(col_tiles));
  ColumnMajorToRowsKernel<<<grid, dim3(kTile, kTileRows), 0, stream>>>(
      static_cast<const uint16_t*>(columns), ld, rows, cols, static_cast<uint16_t*>(y), y_stride);
  return cudaGetLastError();
}

}  // namespace lockstep::cuda::internal
