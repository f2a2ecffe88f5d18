// Causal GQA attention over a paged KV cache, for prefill and decode alike. One block per
// (query, KV head) stages each chunk of keys in shared memory once for all query heads of
// the group; one warp owns one (query, head) and runs the CPU backend's per-query routine
// (numerics/cpu/attention.cc) operation for operation: 16-lane dot in the fixed order, keys in chunks of 64 from
// position 0, an online softmax rescaled once per chunk, values added in key order. The
// sequence of fp32 operations depends only on (query, keys), never on the batch, the page
// layout, or how many queries a sequence brings, so decode == prefill == batched, bit for
// bit. Every product and sum is an _rn intrinsic (no FMA contraction); exp is CUDA's expf.
#include <cuda_runtime.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>

#include "numerics/cuda/element_access.cuh"
#include "numerics/cuda/fixed_order_dot.cuh"
#include "numerics/cuda/kernel_launch.h"
#include "numerics/cuda/shared_memory_limit.cuh"

namespace lockstep::cuda::internal {
namespace {

constexpr unsigned kFullMask = 0xFFFFFFFFu;
constexpr int kWarpSize = 32;
constexpr int kValuesPerLane = kMaxAttentionHeadDim / kWarpSize;
static_assert(kAttentionChunkKeys == 2 * kWarpSize, "each lane scores two keys of a chunk");

// Σ q[e]·k[e] in the CPU's DotLanes order: lane j sums e ≡ j (mod 16) in increasing e,
// then the halving tree j+8, j+4, j+2, j+1.
template <typename T>
__device__ __forceinline__ float DotFixedOrder(const float* q, const T* k, int n) {
  float lanes[kDotLanes];
#pragma unroll
  for (int j = 0; j < kDotLanes; ++j) lanes[j] = 0.0f;
  int e = 0;
  for (; e + kDotLanes <= n; e += kDotLanes) {
#pragma unroll
    for (int j = 0; j < kDotLanes; ++j) {
      lanes[j] = __fadd_rn(lanes[j], __fmul_rn(q[e + j], ToFloat(k[e + j])));
    }
  }
#pragma unroll
  for (int j = 0; j < kDotLanes; ++j) {
    if (e + j < n) lanes[j] = __fadd_rn(lanes[j], __fmul_rn(q[e + j], ToFloat(k[e + j])));
  }
  return CombineDotLanes(lanes);
}

// The same sum, term for term, reading k in 16-byte vectors (needs n % 16 == 0 and a 16-byte
// aligned k): 16 / sizeof(T) elements per load instead of one, so a key's row costs 2-4
// loads instead of 64 (the scoring loop was load-issue bound). The bits are those of
// DotFixedOrder: lanes[j] still adds q[e + j]·k[e + j] for e = 0, 16, 32, ... in order.
template <typename T>
__device__ __forceinline__ float DotFixedOrderVectorized(const float* q, const T* k, int n) {
  constexpr int kPerVector = 16 / static_cast<int>(sizeof(T));
  static_assert(kDotLanes % kPerVector == 0);
  float lanes[kDotLanes];
#pragma unroll
  for (int j = 0; j < kDotLanes; ++j) lanes[j] = 0.0f;
  for (int e = 0; e < n; e += kDotLanes) {
#pragma unroll
    for (int v = 0; v < kDotLanes / kPerVector; ++v) {
      const uint4 packed = *reinterpret_cast<const uint4*>(k + e + v * kPerVector);
      const T* elements = reinterpret_cast<const T*>(&packed);
#pragma unroll
      for (int t = 0; t < kPerVector; ++t) {
        const int j = v * kPerVector + t;
        lanes[j] = __fadd_rn(lanes[j], __fmul_rn(q[e + j], ToFloat(elements[t])));
      }
    }
  }
  return CombineDotLanes(lanes);
}

// Two adjacent elements, loaded as one aligned word.
template <typename T>
struct alignas(2 * sizeof(T)) ElementPair {
  T first;
  T second;
};

// The head_dim element that accumulator slot i of `lane` holds: slot i = lane + 32 i, or,
// with paired values, elements 2 lane and 2 lane + 1 of each 64-element block.
__device__ __forceinline__ int ValueIndex(int i, int lane, bool paired) {
  return paired ? (i / 2) * 2 * kWarpSize + 2 * lane + (i % 2) : i * kWarpSize + lane;
}

__device__ __forceinline__ float WarpMax(float v) {
  for (int offset = kWarpSize / 2; offset >= 1; offset /= 2) {
    v = fmaxf(v, __shfl_xor_sync(kFullMask, v, offset));
  }
  return v;
}

// The sequence owning query row `query`: the largest s with query_indptr[s] <= query.
__device__ __forceinline__ int SequenceOf(const int32_t* query_indptr, int num_sequences, int64_t query) {
  int lo = 0, hi = num_sequences - 1;
  while (lo < hi) {
    const int mid = (lo + hi + 1) / 2;
    if (query_indptr[mid] <= query) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  return lo;
}

// Warps per block: the query heads of one KV head's group (up to this many; a larger group
// is split over several blocks).
constexpr int kMaxWarpsPerBlock = 8;

// The block's shared memory: the chunk's K rows (padded by 16 bytes so that the lanes'
// 16-byte reads of 32 different rows fall in different banks), its V rows, the chunk's
// physical pool rows, and per warp its query (fp32) and the chunk's probabilities.
template <typename T>
struct ChunkLayout {
  int k_stride;  // elements
  size_t k_offset, v_offset, rows_offset, q_offset, p_offset, bytes;
  __host__ __device__ ChunkLayout(int d, int warps) {
    k_stride = d + 16 / static_cast<int>(sizeof(T));
    k_offset = 0;
    v_offset = k_offset + sizeof(T) * size_t(kAttentionChunkKeys) * k_stride;
    rows_offset = (v_offset + sizeof(T) * size_t(kAttentionChunkKeys) * d + 15) / 16 * 16;
    q_offset = rows_offset + sizeof(int64_t) * kAttentionChunkKeys;
    p_offset = q_offset + sizeof(float) * size_t(warps) * d;
    bytes = p_offset + sizeof(float) * size_t(warps) * kAttentionChunkKeys;
  }
};

// Copies `len` rows of `d` elements (row r from src + rows[r] * src_stride) into dst rows of
// `dst_stride` elements, 16 bytes per load when every row allows it; all threads of the block.
template <typename T>
__device__ __forceinline__ void StageRows(const T* src, int64_t src_stride, const int64_t* rows,
                                          int len, int d, bool vectors, T* dst, int dst_stride) {
  if (vectors) {
    constexpr int kPerVector = 16 / static_cast<int>(sizeof(T));
    const int per_row = d / kPerVector;
    for (int v = threadIdx.x; v < len * per_row; v += blockDim.x) {
      const int r = v / per_row, c = (v % per_row) * kPerVector;
      *reinterpret_cast<uint4*>(dst + r * dst_stride + c) =
          *reinterpret_cast<const uint4*>(src + rows[r] * src_stride + c);
    }
  } else {
    for (int v = threadIdx.x; v < len * d; v += blockDim.x) {
      const int r = v / d, c = v % d;
      dst[r * dst_stride + c] = src[rows[r] * src_stride + c];
    }
  }
}

// Block (query, KV head, slice of its group): the block stages each chunk of the query's
// keys — K and V rows of that KV head — in shared memory once, with coalesced loads, and
// every warp (one query head of the group) runs the per-query arithmetic on it. The
// arithmetic of a (query, head) is the same sequence of operations as a warp reading the
// pool directly: staging moves bytes, not sums.
template <typename T>
__global__ void __launch_bounds__(kMaxWarpsPerBlock* kWarpSize)
    PagedAttentionKernel(const T* q, int64_t q_stride, DevicePagedPool pool,
                         DeviceAttentionBatch batch, AttentionDims dims, int warps_per_block,
                         T* out, int64_t out_stride, int32_t* bad_query) {
  extern __shared__ __align__(16) unsigned char shared_bytes[];
  const int d = dims.head_dim;
  const ChunkLayout<T> layout(d, warps_per_block);
  T* k_chunk = reinterpret_cast<T*>(shared_bytes + layout.k_offset);
  T* v_chunk = reinterpret_cast<T*>(shared_bytes + layout.v_offset);
  int64_t* chunk_rows = reinterpret_cast<int64_t*>(shared_bytes + layout.rows_offset);
  const int warp = threadIdx.x / kWarpSize;
  const int lane = threadIdx.x % kWarpSize;
  const int group = dims.num_heads / dims.num_kv_heads;
  const int slices = (group + warps_per_block - 1) / warps_per_block;
  const int kv_head = static_cast<int>(blockIdx.y) / slices;
  const int head_in_group = (static_cast<int>(blockIdx.y) % slices) * warps_per_block + warp;
  // A warp past the group's end still stages rows and meets every barrier; it computes nothing.
  const bool active = head_in_group < group;
  const int head = kv_head * group + head_in_group;
  float* q_head = reinterpret_cast<float*>(shared_bytes + layout.q_offset) + warp * d;
  float* p_chunk = reinterpret_cast<float*>(shared_bytes + layout.p_offset) +
                   warp * kAttentionChunkKeys;
  const int64_t query = blockIdx.x;

  // Validate the query's sequence, position and pages (the same verdict in every warp of
  // the block: it depends on the query alone, so a bad query's block leaves as a whole).
  const int s = SequenceOf(batch.query_indptr, batch.num_sequences, query);
  const int32_t position = batch.positions[query];
  const int32_t page_begin = batch.page_indptr[s];
  const int64_t num_pages = int64_t{batch.page_indptr[s + 1]} - page_begin;
  bool bad = !(batch.query_indptr[s] <= query && query < batch.query_indptr[s + 1]) ||
             position < 0 || int64_t{position} >= num_pages * pool.block_size;
  if (!bad) {
    const int32_t pages_needed = position / pool.block_size + 1;
    for (int32_t p = lane; p < pages_needed; p += kWarpSize) {
      const int32_t page = batch.page_indices[page_begin + p];
      if (page < 0 || page >= pool.num_pages) bad = true;
    }
    bad = __any_sync(kFullMask, bad);
  }
  if (bad) {
    if (active) {
      T* out_row = out + query * out_stride + int64_t{head} * d;
      for (int e = lane; e < d; e += kWarpSize) out_row[e] = FromFloat<T>(NAN);
      if (lane == 0 && bad_query != nullptr) atomicMin(bad_query, static_cast<int32_t>(query));
    }
    return;
  }

  if (active) {
    const T* q_row = q + query * q_stride + int64_t{head} * d;
    for (int e = lane; e < d; e += kWarpSize) q_head[e] = ToFloat(q_row[e]);
  }

  const int32_t* pages = batch.page_indices + page_begin;
  const T* k_pool = static_cast<const T*>(pool.k_pool) + int64_t{kv_head} * d;
  const T* v_pool = static_cast<const T*>(pool.v_pool) + int64_t{kv_head} * d;
  // Rows are staged in 16-byte vectors when every row of this head starts 16-byte aligned.
  const bool stage_vectors =
      (d * sizeof(T)) % 16 == 0 && reinterpret_cast<uintptr_t>(k_pool) % 16 == 0 &&
      reinterpret_cast<uintptr_t>(v_pool) % 16 == 0 &&
      (pool.row_stride * static_cast<int64_t>(sizeof(T))) % 16 == 0;
  // Shared K rows are read in vectors by the dot (same bits as element by element) when
  // they are 16-byte aligned; V rows two elements per lane when d is even.
  const bool vector_keys = d % kDotLanes == 0 && (layout.k_stride * sizeof(T)) % 16 == 0;
  const bool paired_values = d % (2 * kWarpSize) == 0;
  // 32-bit division (keys are int32 positions): a 64-bit one is a slow subroutine call.
  auto physical_row = [&](int32_t key) {
    return int64_t{pages[key / pool.block_size]} * pool.block_size + key % pool.block_size;
  };

  float acc[kValuesPerLane];
#pragma unroll
  for (int i = 0; i < kValuesPerLane; ++i) acc[i] = 0.0f;
  float running_max = -INFINITY;
  float running_sum = 0.0f;
  const int32_t num_keys = position + 1;
  for (int32_t chunk_begin = 0; chunk_begin < num_keys; chunk_begin += kAttentionChunkKeys) {
    const int chunk_len = min(num_keys - chunk_begin, kAttentionChunkKeys);
    for (int j = threadIdx.x; j < chunk_len; j += blockDim.x) {
      chunk_rows[j] = physical_row(chunk_begin + j);
    }
    __syncthreads();  // chunk_rows complete (and q_head, on the first chunk)
    StageRows(k_pool, pool.row_stride, chunk_rows, chunk_len, d, stage_vectors, k_chunk,
              layout.k_stride);
    StageRows(v_pool, pool.row_stride, chunk_rows, chunk_len, d, stage_vectors, v_chunk, d);
    __syncthreads();  // the chunk's K and V rows are staged
    if (active) {
      // Lane l scores keys l and l + 32 of the chunk (-inf past its end).
      auto score_key = [&](int j) {
        if (j >= chunk_len) return -INFINITY;
        const T* k_row = k_chunk + j * layout.k_stride;
        const float dot = vector_keys ? DotFixedOrderVectorized(q_head, k_row, d)
                                      : DotFixedOrder(q_head, k_row, d);
        return __fmul_rn(dot, dims.scale);
      };
      const float score_low = score_key(lane);
      const float score_high = score_key(lane + kWarpSize);
      float chunk_max = fmaxf(score_low, score_high);
      chunk_max = WarpMax(chunk_max);
      const float new_max = fmaxf(running_max, chunk_max);
      const float correction = expf(__fsub_rn(running_max, new_max));
      running_sum = __fmul_rn(running_sum, correction);
#pragma unroll
      for (int i = 0; i < kValuesPerLane; ++i) acc[i] = __fmul_rn(acc[i], correction);
      if (lane < chunk_len) p_chunk[lane] = expf(__fsub_rn(score_low, new_max));
      if (lane + kWarpSize < chunk_len) {
        p_chunk[lane + kWarpSize] = expf(__fsub_rn(score_high, new_max));
      }
      __syncwarp();  // p_chunk is complete
#pragma unroll 8
      for (int j = 0; j < chunk_len; ++j) {
        const float p = p_chunk[j];
        running_sum = __fadd_rn(running_sum, p);
        const T* v_row = v_chunk + j * d;
        if (paired_values) {
#pragma unroll
          for (int i = 0; i < kValuesPerLane; i += 2) {
            const int e = ValueIndex(i, lane, true);
            if (e < d) {
              const ElementPair<T> two = *reinterpret_cast<const ElementPair<T>*>(v_row + e);
              acc[i] = __fadd_rn(acc[i], __fmul_rn(p, ToFloat(two.first)));
              acc[i + 1] = __fadd_rn(acc[i + 1], __fmul_rn(p, ToFloat(two.second)));
            }
          }
        } else {
#pragma unroll
          for (int i = 0; i < kValuesPerLane; ++i) {
            const int e = ValueIndex(i, lane, false);
            if (e < d) acc[i] = __fadd_rn(acc[i], __fmul_rn(p, ToFloat(v_row[e])));
          }
        }
      }
      __syncwarp();  // p_chunk is rewritten by the next chunk
      running_max = new_max;
    }
    __syncthreads();  // the staged rows and chunk_rows are rewritten by the next chunk
  }
  if (!active) return;
  T* out_row = out + query * out_stride + int64_t{head} * d;
#pragma unroll
  for (int i = 0; i < kValuesPerLane; ++i) {
    const int e = ValueIndex(i, lane, paired_values);
    if (e < d) out_row[e] = FromFloat<T>(__fdiv_rn(acc[i], running_sum));
  }
}

// The kernel's dynamic shared memory limit, raised to the largest layout (head_dim 256, a
// full block of warps) once per element type and device.
template <typename T>
cudaError_t AllowSharedMemory() {
  static std::atomic<uint64_t> raised_on_devices{0};
  return RaiseSharedMemoryLimitOnce(
      reinterpret_cast<const void*>(PagedAttentionKernel<T>),
      static_cast<int>(ChunkLayout<T>(kMaxAttentionHeadDim, kMaxWarpsPerBlock).bytes),
      raised_on_devices);
}

}  // namespace

cudaError_t LaunchPagedAttention(DeviceRows q, DevicePagedPool pool, DeviceAttentionBatch batch,
                                 AttentionDims dims, MutableDeviceRows out, int32_t* bad_query,
                                 cudaStream_t stream) {
  return DispatchStorageType(q.type, [&](auto element) {
    using T = decltype(element);
    if (const cudaError_t allowed = AllowSharedMemory<T>(); allowed != cudaSuccess) {
      return allowed;
    }
    const int group = dims.num_heads / dims.num_kv_heads;
    const int warps = std::min(group, kMaxWarpsPerBlock);
    const int slices = (group + warps - 1) / warps;
    const dim3 grid(static_cast<unsigned>(q.rows), static_cast<unsigned>(dims.num_kv_heads * slices));
    const size_t shared = ChunkLayout<T>(dims.head_dim, warps).bytes;
    PagedAttentionKernel<T><<<grid, warps * kWarpSize, shared, stream>>>(
        static_cast<const T*>(q.data), q.row_stride, pool, batch, dims, warps,
        static_cast<T*>(out.data), out.row_stride, bad_query);
    return cudaGetLastError();
  });
}

}  // namespace lockstep::cuda::internal
