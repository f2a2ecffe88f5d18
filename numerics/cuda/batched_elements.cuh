// One loop shape for element-wise kernels whose output may alias their input (in-place
// calls): the compiler may not move a load above an earlier store it cannot prove
// disjoint, so a plain loop waits for each element's load in turn. This reads a batch of a
// thread's elements first and writes them after, so the batch's loads are in flight
// together. It changes when bytes move, never which operations run: each element is still
// read, computed and written by the same thread (bench/RESULTS.md, session 7: decode 6 %
// faster at batch 256 with the row-wise kernels on it).
#pragma once

#include <cuda_runtime.h>

namespace lockstep::cuda::internal {

// For c = first, first + step, ... < end, in batches of kBatch: load(c, u) for each c of a
// batch (u = its slot, 0..kBatch-1, a compile-time index after unrolling, so arrays indexed
// by it stay in registers), then store(c, u) for the same c in the same order.
template <int kBatch, typename Index, typename Load, typename Store>
__device__ __forceinline__ void LoadThenStoreInBatches(Index first, Index end, Index step,
                                                       Load load, Store store) {
  for (Index c0 = first; c0 < end; c0 += kBatch * step) {
#pragma unroll
    for (int u = 0; u < kBatch; ++u) {
      const Index c = c0 + u * step;
      if (c < end) load(c, u);
    }
#pragma unroll
    for (int u = 0; u < kBatch; ++u) {
      const Index c = c0 + u * step;
      if (c < end) store(c, u);
    }
  }
}

}  // namespace lockstep::cuda::internal
