// The large-M GEMM kernel (wgmma_gemm.h). Warpgroup 0 is the producer: its first warp walks
// the K blocks of the CTA's slices in order and lane 0 TMA-loads each block's X rows and W
// rows into the next free stage (128-byte swizzle, so wgmma reads them without bank
// conflicts). Warpgroups 1.. are consumers, each owning 64 rows of the CTA's tile: per K
// block four wgmma k16 steps into `chain`, in increasing k; at each slice's end `total` =
// total + chain (fp32 RN). With two CTAs per tile the second CTA's slice sums are added
// after the first CTA's total, in the same order. That is exactly the K-sliced chain order
// (k_sliced_order.h): the tile shape, stage count, CTAs per tile and M only decide who
// loads and adds what, never the order. The rounded tile goes out through shared memory
// (row-contiguous 16-byte stores), not straight from the wgmma register layout.
// Tried and left out (bench/RESULTS.md, 2026-11-30): clusters of two CTAs sharing the X tile
// by TMA multicast gave the same bits but ran 1.05-1.5x slower than these tilings (and ~1 us
// per stage while the remote releases used .release.cluster semantics); handing the first
// CTA's sum over through distributed shared memory (~32 GB/s per SM: 3.1 us for a 128 x 192
// fp32 tile, against 2.4 us through L2); parking the second CTA's first slice sum in global
// memory instead of its idle second register set (+2.5 us at M = 1024).
#include <cuda.h>
#include <cudaTypedefs.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <atomic>
#include <cstdint>

#include "numerics/cuda/shared_memory_limit.cuh"
#include "numerics/cuda/wgmma_gemm.h"

namespace lockstep::cuda::internal {
namespace {

constexpr int kBlockK = kKSliceGranule;  // K columns per stage
constexpr int kRowBytes = kBlockK * 2;    // 128 bytes: one swizzle row per matrix row
constexpr int kWarpgroupThreads = 128;
constexpr int kSwizzleAtomBytes = 1024;   // 8 rows x 128 bytes: the 128-byte swizzle's period

__device__ __forceinline__ uint32_t SharedAddress(const void* p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

__device__ __forceinline__ void BarrierInit(uint32_t bar, uint32_t count) {
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" ::"r"(bar), "r"(count) : "memory");
}
__device__ __forceinline__ void BarrierExpectBytes(uint32_t bar, uint32_t bytes) {
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n" ::"r"(bar), "r"(bytes)
               : "memory");
}
__device__ __forceinline__ void BarrierArrive(uint32_t bar) {
  asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];\n" ::"r"(bar) : "memory");
}
// Returns once the barrier's phase with this parity has completed. The suspend-time hint
// lets a waiting thread sleep until the phase completes instead of re-polling: polling
// warps compete with wgmma for the shared-memory pipe (Nsight Compute, bench/RESULTS.md).
constexpr uint32_t kSuspendHintNs = 0x989680;
__device__ __forceinline__ void BarrierWait(uint32_t bar, uint32_t parity) {
  asm volatile(
      "{\n"
      ".reg .pred done;\n"
      "WAIT_AGAIN:\n"
      "mbarrier.try_wait.parity.shared::cta.b64 done, [%0], %1, %2;\n"
      "@!done bra WAIT_AGAIN;\n"
      "}\n" ::"r"(bar),
      "r"(parity), "r"(kSuspendHintNs)
      : "memory");
}

// Box (64 columns from c0, rows from c1) of the tensor map into `dst`; signals `bar` with
// the bytes (rows past the matrix are zero-filled and counted too).
__device__ __forceinline__ void TmaLoad(uint32_t dst, const CUtensorMap* map, uint32_t bar, int c0,
                                        int c1) {
  asm volatile(
      "cp.async.bulk.tensor.2d.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1, {%3, "
      "%4}], [%2];\n" ::"r"(dst),
      "l"(reinterpret_cast<uint64_t>(map)), "r"(bar), "r"(c0), "r"(c1)
      : "memory");
}

__device__ __forceinline__ uint32_t ClusterRank() {
  uint32_t rank;
  asm volatile("mov.u32 %0, %%cluster_ctarank;\n" : "=r"(rank));
  return rank;
}
// Every thread of both CTAs arrives (release: its earlier global writes are visible to the
// cluster) and waits (acquire).
__device__ __forceinline__ void ClusterSync() {
  asm volatile("barrier.cluster.arrive;\nbarrier.cluster.wait;\n" ::: "memory");
}

// wgmma shared-memory descriptor for a K-major operand stored as TMA's 128-byte swizzle
// writes it: rows of 128 bytes, groups of 8 rows 1024 bytes apart (stride byte offset),
// leading byte offset unused for this layout (1 by convention). Advancing the start address
// by 32 bytes moves 16 columns along K inside the swizzled rows.
__device__ __forceinline__ uint64_t SwizzledKMajorDescriptor(uint32_t smem) {
  return uint64_t{(smem & 0x3FFFFu) >> 4} | (uint64_t{1} << 16) |
         (uint64_t{kSwizzleAtomBytes >> 4} << 32) | (uint64_t{1} << 62);
}

__device__ __forceinline__ void WgmmaFence() { asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory"); }
__device__ __forceinline__ void WgmmaCommit() {
  asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
}
template <int kPending>
__device__ __forceinline__ void WgmmaWait() {
  asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(kPending) : "memory");
}
// Keeps the compiler from moving reads or writes of accumulator registers across a wgmma
// fence or wait (the asm statements themselves do not name them).
template <int kCount>
__device__ __forceinline__ void PinRegisters(float (&r)[kCount]) {
#pragma unroll
  for (int i = 0; i < kCount; ++i) asm volatile("" : "+f"(r[i])::"memory");
}

// d(64 x N) += A(64 x 16, K-major in shared memory) * B(16 x N, K-major in shared memory).
template <typename T, int kN>
__device__ __forceinline__ void Wgmma(float (&d)[kN / 2], uint64_t a_desc, uint64_t b_desc);

template <>
__device__ __forceinline__ void Wgmma<__nv_bfloat16, 64>(float (&d)[32], uint64_t a_desc,
                                                      uint64_t b_desc) {
  asm volatile(
      "{\n.reg .pred p;\nsetp.ne.b32 p, %34, 0;\n"
      "wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 {%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31}, %32, %33, p, 1, 1, 0, 0;\n}\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31])
      : "l"(a_desc), "l"(b_desc), "r"(1));
}

template <>
__device__ __forceinline__ void Wgmma<__half, 64>(float (&d)[32], uint64_t a_desc,
                                                      uint64_t b_desc) {
  asm volatile(
      "{\n.reg .pred p;\nsetp.ne.b32 p, %34, 0;\n"
      "wgmma.mma_async.sync.aligned.m64n64k16.f32.f16.f16 {%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31}, %32, %33, p, 1, 1, 0, 0;\n}\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31])
      : "l"(a_desc), "l"(b_desc), "r"(1));
}

template <>
__device__ __forceinline__ void Wgmma<__nv_bfloat16, 128>(float (&d)[64], uint64_t a_desc,
                                                      uint64_t b_desc) {
  asm volatile(
      "{\n.reg .pred p;\nsetp.ne.b32 p, %66, 0;\n"
      "wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63}, %64, %65, p, 1, 1, 0, 0;\n}\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]), "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]), "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]), "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63])
      : "l"(a_desc), "l"(b_desc), "r"(1));
}

template <>
__device__ __forceinline__ void Wgmma<__half, 128>(float (&d)[64], uint64_t a_desc,
                                                      uint64_t b_desc) {
  asm volatile(
      "{\n.reg .pred p;\nsetp.ne.b32 p, %66, 0;\n"
      "wgmma.mma_async.sync.aligned.m64n128k16.f32.f16.f16 {%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63}, %64, %65, p, 1, 1, 0, 0;\n}\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]), "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]), "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]), "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63])
      : "l"(a_desc), "l"(b_desc), "r"(1));
}

template <>
__device__ __forceinline__ void Wgmma<__nv_bfloat16, 96>(float (&d)[48], uint64_t a_desc,
                                                      uint64_t b_desc) {
  asm volatile(
      "{\n.reg .pred p;\nsetp.ne.b32 p, %50, 0;\n"
      "wgmma.mma_async.sync.aligned.m64n96k16.f32.bf16.bf16 {%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47}, %48, %49, p, 1, 1, 0, 0;\n}\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]), "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47])
      : "l"(a_desc), "l"(b_desc), "r"(1));
}

template <>
__device__ __forceinline__ void Wgmma<__half, 96>(float (&d)[48], uint64_t a_desc,
                                                      uint64_t b_desc) {
  asm volatile(
      "{\n.reg .pred p;\nsetp.ne.b32 p, %50, 0;\n"
      "wgmma.mma_async.sync.aligned.m64n96k16.f32.f16.f16 {%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47}, %48, %49, p, 1, 1, 0, 0;\n}\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]), "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47])
      : "l"(a_desc), "l"(b_desc), "r"(1));
}

template <>
__device__ __forceinline__ void Wgmma<__nv_bfloat16, 192>(float (&d)[96], uint64_t a_desc,
                                                      uint64_t b_desc) {
  asm volatile(
      "{\n.reg .pred p;\nsetp.ne.b32 p, %98, 0;\n"
      "wgmma.mma_async.sync.aligned.m64n192k16.f32.bf16.bf16 {%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63, %64, %65, %66, %67, %68, %69, %70, %71, %72, %73, %74, %75, %76, %77, %78, %79, %80, %81, %82, %83, %84, %85, %86, %87, %88, %89, %90, %91, %92, %93, %94, %95}, %96, %97, p, 1, 1, 0, 0;\n}\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]), "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]), "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]), "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63]), "+f"(d[64]), "+f"(d[65]), "+f"(d[66]), "+f"(d[67]), "+f"(d[68]), "+f"(d[69]), "+f"(d[70]), "+f"(d[71]), "+f"(d[72]), "+f"(d[73]), "+f"(d[74]), "+f"(d[75]), "+f"(d[76]), "+f"(d[77]), "+f"(d[78]), "+f"(d[79]), "+f"(d[80]), "+f"(d[81]), "+f"(d[82]), "+f"(d[83]), "+f"(d[84]), "+f"(d[85]), "+f"(d[86]), "+f"(d[87]), "+f"(d[88]), "+f"(d[89]), "+f"(d[90]), "+f"(d[91]), "+f"(d[92]), "+f"(d[93]), "+f"(d[94]), "+f"(d[95])
      : "l"(a_desc), "l"(b_desc), "r"(1));
}

template <>
__device__ __forceinline__ void Wgmma<__half, 192>(float (&d)[96], uint64_t a_desc,
                                                      uint64_t b_desc) {
  asm volatile(
      "{\n.reg .pred p;\nsetp.ne.b32 p, %98, 0;\n"
      "wgmma.mma_async.sync.aligned.m64n192k16.f32.f16.f16 {%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63, %64, %65, %66, %67, %68, %69, %70, %71, %72, %73, %74, %75, %76, %77, %78, %79, %80, %81, %82, %83, %84, %85, %86, %87, %88, %89, %90, %91, %92, %93, %94, %95}, %96, %97, p, 1, 1, 0, 0;\n}\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]), "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]), "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]), "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63]), "+f"(d[64]), "+f"(d[65]), "+f"(d[66]), "+f"(d[67]), "+f"(d[68]), "+f"(d[69]), "+f"(d[70]), "+f"(d[71]), "+f"(d[72]), "+f"(d[73]), "+f"(d[74]), "+f"(d[75]), "+f"(d[76]), "+f"(d[77]), "+f"(d[78]), "+f"(d[79]), "+f"(d[80]), "+f"(d[81]), "+f"(d[82]), "+f"(d[83]), "+f"(d[84]), "+f"(d[85]), "+f"(d[86]), "+f"(d[87]), "+f"(d[88]), "+f"(d[89]), "+f"(d[90]), "+f"(d[91]), "+f"(d[92]), "+f"(d[93]), "+f"(d[94]), "+f"(d[95])
      : "l"(a_desc), "l"(b_desc), "r"(1));
}
// Two fp32 values rounded to T (RN) and packed, first in the low half.
template <typename T>
__device__ __forceinline__ uint32_t PackPair(float a, float b);
template <>
__device__ __forceinline__ uint32_t PackPair<__nv_bfloat16>(float a, float b) {
  const __nv_bfloat162 v = __floats2bfloat162_rn(a, b);
  return *reinterpret_cast<const uint32_t*>(&v);
}
template <>
__device__ __forceinline__ uint32_t PackPair<__half>(float a, float b) {
  const __half2 v = __floats2half2_rn(a, b);
  return *reinterpret_cast<const uint32_t*>(&v);
}

// A consumer warpgroup's main loop: its 64 rows of the CTA's tile over its `slices` K slices.
// kFold: on return `total` = ((p_a + p_b) + ...) over all of them, in order. !kFold (a CTA
// whose one or two slices must be added after the sum of earlier ones, not known yet): on
// return `chain` = the last slice's sum and, with two, `total` = the first's; nothing added.
template <typename T, int kConsumers, int kBlockN, int kStages, bool kFold>
__device__ __forceinline__ void ConsumeSlices(int consumer, uint32_t base, uint32_t full_bars,
                                              uint32_t empty_bars, int blocks_per_slice,
                                              int slices, float (&chain)[kBlockN / 2],
                                              float (&total)[kBlockN / 2]) {
  constexpr int kBlockM = 64 * kConsumers;
  constexpr int kABytes = kBlockM * kRowBytes;
  constexpr int kStageBytes = kABytes + kBlockN * kRowBytes;
  constexpr int kAccumulators = kBlockN / 2;
  const uint32_t a_rows = consumer * 64 * kRowBytes;  // this warpgroup's 64 rows of the X tile
  const bool signals = (threadIdx.x & 31) == 0;
  auto release = [&](int block) {
    if (signals) BarrierArrive(empty_bars + 8 * (block % kStages));
  };
  int i = 0;
  for (int slice = 0; slice < slices; ++slice) {
#pragma unroll
    for (int e = 0; e < kAccumulators; ++e) chain[e] = 0.0f;
    for (int b = 0; b < blocks_per_slice; ++b, ++i) {
      const int stage = i % kStages;
      BarrierWait(full_bars + 8 * stage, (i / kStages) & 1);
      const uint32_t a = base + stage * kStageBytes + a_rows;
      const uint32_t w = base + stage * kStageBytes + kABytes;
      PinRegisters(chain);
      WgmmaFence();
#pragma unroll
      for (int step = 0; step < kBlockK / 16; ++step) {
        Wgmma<T, kBlockN>(chain, SwizzledKMajorDescriptor(a + step * 32),
                          SwizzledKMajorDescriptor(w + step * 32));
      }
      WgmmaCommit();
      WgmmaWait<1>();  // the previous block's steps are done: its stage may be refilled
      PinRegisters(chain);
      if (b > 0) release(i - 1);
    }
    WgmmaWait<0>();
    PinRegisters(chain);
    release(i - 1);
    if constexpr (kFold) {
#pragma unroll
      for (int e = 0; e < kAccumulators; ++e) {
        total[e] = slice == 0 ? chain[e] : __fadd_rn(total[e], chain[e]);
      }
    } else if (slice < slices - 1) {
#pragma unroll
      for (int e = 0; e < kAccumulators; ++e) total[e] = chain[e];
    }
  }
}

// Bytes of one staged output row: padded by 16 so the eight rows one pair-write instruction
// touches fall in different banks.
template <int kBlockN>
constexpr int kStagedRowBytes = kBlockN * 2 + 16;

// Rounds a consumer warpgroup's 64 x kBlockN sums, stages them in shared memory at `staging`
// and stores the rows below `rows` row-contiguously: 16 bytes per thread and instruction when
// `wide` (y 16-byte aligned, row stride a multiple of 8), else 4. wgmma m64nN layout: register
// 4j + 2h + c holds row 16 * warp + lane / 4 + 8h, column 8j + 2 * (lane % 4) + c.
// Storing from that layout directly wrote 16-byte pieces of 8 rows per instruction (the
// epilogue took ~3 us for a 128 x 192 tile at M = 1024, bench/RESULTS.md).
template <typename T, int kBlockN>
__device__ __forceinline__ void StoreTile(const float (&total)[kBlockN / 2], uint32_t staging,
                                          T* __restrict__ y, int64_t y_stride, int rows, int row0,
                                          int feature0, int consumer, bool wide) {
  constexpr int kRow = kStagedRowBytes<kBlockN>;
  const int lane = threadIdx.x & 31;
  const int warp = (threadIdx.x / 32) & 3;
#pragma unroll
  for (int j = 0; j < kBlockN / 8; ++j) {
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const int r = warp * 16 + (lane >> 2) + 8 * h;
      const uint32_t pair = PackPair<T>(total[4 * j + 2 * h], total[4 * j + 2 * h + 1]);
      asm volatile("st.shared.b32 [%0], %1;\n" ::"r"(staging + r * kRow + (8 * j + 2 * (lane & 3)) * 2),
                   "r"(pair)
                   : "memory");
    }
  }
  // Only this warpgroup's 128 threads (named barrier 2 + consumer; 0 is __syncthreads, 1 the
  // consumers' barrier before staging).
  asm volatile("bar.sync %0, 128;\n" ::"r"(2 + consumer) : "memory");
  constexpr int kChunks = kBlockN / 8;  // 16-byte pieces per row
  const int thread = threadIdx.x % kWarpgroupThreads;
#pragma unroll 4
  for (int index = thread; index < 64 * kChunks; index += kWarpgroupThreads) {
    const int r = index / kChunks;
    const int c = index % kChunks;
    if (row0 + r >= rows) continue;
    uint4 v;
    asm volatile("ld.shared.v4.b32 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
                 : "r"(staging + r * kRow + c * 16));
    T* const out = y + (row0 + r) * y_stride + feature0 + c * 8;
    if (wide) {
      *reinterpret_cast<uint4*>(out) = v;
    } else {
      uint32_t* const words = reinterpret_cast<uint32_t*>(out);
      words[0] = v.x;
      words[1] = v.y;
      words[2] = v.z;
      words[3] = v.w;
    }
  }
}

// Grid: x = column tiles of kBlockN features (fastest, so CTAs that read the same X rows run
// together) times kSliceGroups, y = row tiles of 64 * kConsumers rows.
// kSliceGroups = 2 (with 2 or 4 K slices): a cluster of two CTAs shares one output tile, for
// M where one CTA per tile would leave SMs idle. CTA 0 runs the first half of the slices and
// adds them up; CTA 1 runs the second half and keeps each slice's sum apart (in its two
// register sets). CTA 0 writes its sum to `workspace` (one float per output, through L2),
// both pass the cluster barrier, and CTA 1 adds its slice sums after it, in slice order.
template <typename T, int kConsumers, int kBlockN, int kStages, int kSliceGroups>
__global__ void __launch_bounds__((kConsumers + 1) * kWarpgroupThreads, 1)
    WgmmaGemmKernel(const __grid_constant__ CUtensorMap x_map,
                    const __grid_constant__ CUtensorMap w_map, T* __restrict__ y, int64_t y_stride,
                    int rows, int blocks_per_slice, int k_slices, float* __restrict__ workspace,
                    bool wide_stores) {
  constexpr int kBlockM = 64 * kConsumers;
  constexpr int kABytes = kBlockM * kRowBytes;
  constexpr int kStageBytes = kABytes + kBlockN * kRowBytes;
  constexpr int kAccumulators = kBlockN / 2;  // fp32 registers per thread per 64 x kBlockN set
  static_assert(kStageBytes % kSwizzleAtomBytes == 0);
  static_assert(kSliceGroups == 1 || kSliceGroups == 2);
  static_assert(kConsumers * 64 * kStagedRowBytes<kBlockN> <= kStages * kStageBytes,
                "the output tile is staged in the (then idle) stage buffers");

  extern __shared__ unsigned char smem_raw[];
  const uint32_t base = (SharedAddress(smem_raw) + kSwizzleAtomBytes - 1) & ~uint32_t{kSwizzleAtomBytes - 1};
  const uint32_t full_bars = base + kStages * kStageBytes;  // TMA landed
  const uint32_t empty_bars = full_bars + kStages * 8;       // consumers done reading

  const int warpgroup = threadIdx.x / kWarpgroupThreads;
  const int group = kSliceGroups > 1 ? static_cast<int>(ClusterRank()) : 0;
  const int tile_n = blockIdx.x / kSliceGroups;
  const int feature0 = tile_n * kBlockN;
  const int row0 = blockIdx.y * kBlockM;
  const int slices = k_slices / kSliceGroups;
  const int first_block = group * slices * blocks_per_slice;
  const int total_blocks = blocks_per_slice * slices;

  if (threadIdx.x == 0) {
    for (int s = 0; s < kStages; ++s) {
      BarrierInit(full_bars + 8 * s, 1);
      BarrierInit(empty_bars + 8 * s, kConsumers * 4);  // one arrival per consumer warp
    }
    asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
  }
  __syncthreads();

  // Wide tiles hold 2 x kBlockN / 2 accumulator registers per consumer thread: move registers
  // from the producer (which needs few) to the consumers (40 + 2 x 232 per 128 threads fits).
  // (With one consumer warpgroup the launch bound already allows 255 registers.)
  constexpr bool kRebalanceRegisters = kConsumers > 1 && kBlockN > 128;
  if (warpgroup == 0) {
    if constexpr (kRebalanceRegisters) asm volatile("setmaxnreg.dec.sync.aligned.u32 40;\n");
    // The whole first warp walks the loop and lane 0 issues, so no warp is split across the
    // cluster barriers below.
    if (threadIdx.x < 32) {
      for (int i = 0; i < total_blocks; ++i) {
        const int stage = i % kStages;
        if (i >= kStages) BarrierWait(empty_bars + 8 * stage, ((i / kStages) - 1) & 1);
        if (threadIdx.x == 0) {
          const uint32_t a = base + stage * kStageBytes;
          BarrierExpectBytes(full_bars + 8 * stage, kStageBytes);
          TmaLoad(a, &x_map, full_bars + 8 * stage, (first_block + i) * kBlockK, row0);
          TmaLoad(a + kABytes, &w_map, full_bars + 8 * stage, (first_block + i) * kBlockK,
                  feature0);
        }
        __syncwarp();
      }
    }
    if constexpr (kSliceGroups > 1) ClusterSync();  // the producer's part in the consumers' barrier
    return;
  }

  if constexpr (kRebalanceRegisters) asm volatile("setmaxnreg.inc.sync.aligned.u32 232;\n");
  const int consumer = warpgroup - 1;
  const int thread = threadIdx.x % kWarpgroupThreads;
  // CTA 0's sum goes to the tile's slot in the workspace as this thread's float4s, [q][thread]
  // (q = e / 4) with a stride of 128: each store and load instruction covers 512 contiguous
  // bytes.
  constexpr int kQuads = kAccumulators / 4;
  float4* const handoff =
      kSliceGroups > 1
          ? reinterpret_cast<float4*>(workspace) +
                ((static_cast<int64_t>(blockIdx.y) * (gridDim.x / kSliceGroups) + tile_n) *
                     kConsumers + consumer) * kQuads * kWarpgroupThreads + thread
          : nullptr;
  float chain[kAccumulators];
  float total[kAccumulators];
  if (kSliceGroups == 1 || group == 0) {
    ConsumeSlices<T, kConsumers, kBlockN, kStages, /*kFold=*/true>(
        consumer, base, full_bars, empty_bars, blocks_per_slice, slices, chain, total);
    if constexpr (kSliceGroups > 1) {
#pragma unroll
      for (int q = 0; q < kQuads; ++q) {
        __stcg(handoff + q * kWarpgroupThreads,
               make_float4(total[4 * q], total[4 * q + 1], total[4 * q + 2], total[4 * q + 3]));
      }
      ClusterSync();  // the sum is visible to CTA 1, which stores the tile
      return;
    }
    // Both consumers are past their last wgmma before either overwrites a stage buffer.
    asm volatile("bar.sync 1, %0;\n" ::"n"(kConsumers * kWarpgroupThreads) : "memory");
  } else {
    ConsumeSlices<T, kConsumers, kBlockN, kStages, /*kFold=*/false>(
        consumer, base, full_bars, empty_bars, blocks_per_slice, slices, chain, total);
    ClusterSync();  // CTA 0's sum has landed; also both consumers are past their last wgmma
#pragma unroll
    for (int q = 0; q < kQuads; ++q) {
      const float4 t = __ldcg(handoff + q * kWarpgroupThreads);
      float earlier[4] = {t.x, t.y, t.z, t.w};
      if (slices == 2) {
#pragma unroll
        for (int c = 0; c < 4; ++c) earlier[c] = __fadd_rn(earlier[c], total[4 * q + c]);
      }
#pragma unroll
      for (int c = 0; c < 4; ++c) total[4 * q + c] = __fadd_rn(earlier[c], chain[4 * q + c]);
    }
  }
  StoreTile<T, kBlockN>(total, base + consumer * 64 * kStagedRowBytes<kBlockN>, y, y_stride, rows,
                        row0 + consumer * 64, feature0, consumer, wide_stores);
}

PFN_cuTensorMapEncodeTiled_v12000 TensorMapEncoder() {
  static const PFN_cuTensorMapEncodeTiled_v12000 encoder = [] {
    void* fn = nullptr;
    cudaDriverEntryPointQueryResult found{};
    if (cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", &fn, 12000, cudaEnableDefault,
                                         &found) != cudaSuccess ||
        found != cudaDriverEntryPointSuccess) {
      return PFN_cuTensorMapEncodeTiled_v12000{nullptr};
    }
    return reinterpret_cast<PFN_cuTensorMapEncodeTiled_v12000>(fn);
  }();
  return encoder;
}

// A tensor map over `m`'s rows whose box is 64 columns x box_rows rows, 128-byte swizzled.
bool MakeRowsMap(CUtensorMap* map, const void* data, StorageType type, int64_t rows, int64_t cols,
                 int64_t row_stride, int box_rows) {
  const PFN_cuTensorMapEncodeTiled_v12000 encode = TensorMapEncoder();
  if (encode == nullptr) return false;
  const cuuint64_t dims[2] = {static_cast<cuuint64_t>(cols), static_cast<cuuint64_t>(rows)};
  const cuuint64_t strides[1] = {static_cast<cuuint64_t>(row_stride) * 2};
  const cuuint32_t box[2] = {static_cast<cuuint32_t>(kBlockK), static_cast<cuuint32_t>(box_rows)};
  const cuuint32_t element_strides[2] = {1, 1};
  return encode(map,
                type == StorageType::kBF16 ? CU_TENSOR_MAP_DATA_TYPE_BFLOAT16
                                           : CU_TENSOR_MAP_DATA_TYPE_FLOAT16,
                2, const_cast<void*>(data), dims, strides, box, element_strides,
                CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B,
                CU_TENSOR_MAP_L2_PROMOTION_L2_256B,
                CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE) == CUDA_SUCCESS;
}

template <typename T, int kConsumers, int kBlockN, int kStages, int kSliceGroups>
cudaError_t LaunchConfig(DeviceRows x, DeviceRows w, MutableDeviceRows y, int k_slices,
                         void* workspace, size_t workspace_bytes, cudaStream_t stream) {
  constexpr int kBlockM = 64 * kConsumers;
  constexpr int kSmemBytes =
      kSwizzleAtomBytes + kStages * (kBlockM + kBlockN) * kRowBytes + 2 * kStages * 8;
  auto* kernel = WgmmaGemmKernel<T, kConsumers, kBlockN, kStages, kSliceGroups>;
  const dim3 grid(static_cast<unsigned>(w.rows / kBlockN * kSliceGroups),
                  static_cast<unsigned>((x.rows + kBlockM - 1) / kBlockM));
  if (kSliceGroups > 1 &&
      ((k_slices != 2 && k_slices != 4) ||
       workspace_bytes < WgmmaGemmWorkspaceBytes(x.rows, w.rows,
                                                 {kBlockM, kBlockN, kStages, kSliceGroups}) ||
       reinterpret_cast<uintptr_t>(workspace) % 16 != 0)) {
    return cudaErrorInvalidValue;
  }
  static std::atomic<uint64_t> raised_on_devices{0};
  if (const cudaError_t e = RaiseSharedMemoryLimitOnce(reinterpret_cast<const void*>(kernel),
                                                       kSmemBytes, raised_on_devices);
      e != cudaSuccess) {
    return e;
  }
  CUtensorMap x_map, w_map;
  if (!MakeRowsMap(&x_map, x.data, x.type, x.rows, x.cols, x.row_stride, kBlockM) ||
      !MakeRowsMap(&w_map, w.data, w.type, w.rows, w.cols, w.row_stride, kBlockN)) {
    return cudaErrorInvalidValue;
  }
  const int blocks_per_slice = static_cast<int>(x.cols / kBlockK / k_slices);
  cudaLaunchConfig_t launch{};
  launch.gridDim = grid;
  launch.blockDim = dim3((kConsumers + 1) * kWarpgroupThreads);
  launch.dynamicSmemBytes = kSmemBytes;
  launch.stream = stream;
  cudaLaunchAttribute cluster{};
  cluster.id = cudaLaunchAttributeClusterDimension;
  cluster.val.clusterDim.x = kSliceGroups;
  cluster.val.clusterDim.y = 1;
  cluster.val.clusterDim.z = 1;
  launch.attrs = &cluster;
  launch.numAttrs = 1;
  const bool wide_stores = reinterpret_cast<uintptr_t>(y.data) % 16 == 0 && y.row_stride % 8 == 0;
  return cudaLaunchKernelEx(&launch, kernel, x_map, w_map, static_cast<T*>(y.data), y.row_stride,
                            static_cast<int>(x.rows), blocks_per_slice, k_slices,
                            static_cast<float*>(workspace), wide_stores);
}

// The compiled tilings {block_m, block_n, stages, slice_groups}.
constexpr WgmmaGemmConfig kConfigs[] = {
    {128, 128, 6, 1}, {128, 128, 4, 1}, {64, 128, 8, 1}, {128, 64, 8, 1},  {64, 64, 10, 1},
    {128, 96, 6, 1},  {128, 96, 4, 1},  {64, 96, 8, 1},  {128, 192, 5, 1}, {128, 192, 4, 1},
    {128, 192, 3, 1}, {128, 192, 4, 2}, {128, 192, 3, 2}, {128, 128, 4, 2}, {64, 128, 8, 2},
    {128, 96, 8, 1},
};
constexpr int kConfigCount = sizeof(kConfigs) / sizeof(kConfigs[0]);

template <typename T, int kIndex>
cudaError_t LaunchIndexed(int index, DeviceRows x, DeviceRows w, MutableDeviceRows y, int k_slices,
                          void* workspace, size_t workspace_bytes, cudaStream_t stream) {
  if constexpr (kIndex == kConfigCount) {
    return cudaErrorInvalidValue;
  } else {
    if (index == kIndex) {
      constexpr WgmmaGemmConfig c = kConfigs[kIndex];
      return LaunchConfig<T, c.block_m / 64, c.block_n, c.stages, c.slice_groups>(
          x, w, y, k_slices, workspace, workspace_bytes, stream);
    }
    return LaunchIndexed<T, kIndex + 1>(index, x, w, y, k_slices, workspace, workspace_bytes,
                                        stream);
  }
}

// Whether the current device is sm_90. A device's compute capability never changes, so the
// answer is kept per device (one bit each) and later launches pay one cudaGetDevice.
bool DeviceIsSm90() {
  static std::atomic<uint64_t> asked_devices{0};
  static std::atomic<uint64_t> sm90_devices{0};
  int device = 0;
  if (cudaGetDevice(&device) != cudaSuccess) return false;
  const uint64_t device_bit = device < 64 ? uint64_t{1} << device : 0;  // 0: ask every time
  if ((asked_devices.load(std::memory_order_acquire) & device_bit) != 0) {
    return (sm90_devices.load(std::memory_order_relaxed) & device_bit) != 0;
  }
  int major = 0, minor = 0;
  const bool sm90 =
      cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device) == cudaSuccess &&
      cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, device) == cudaSuccess &&
      major == 9 && minor == 0;
  if (sm90) sm90_devices.fetch_or(device_bit, std::memory_order_relaxed);
  asked_devices.fetch_or(device_bit, std::memory_order_release);  // after the answer's bit
  return sm90;
}

}  // namespace

int WgmmaGemmConfigCount() { return kConfigCount; }
WgmmaGemmConfig WgmmaGemmConfigAt(int index) { return kConfigs[index]; }

bool WgmmaGemmSupports(StorageType type, int64_t out_features, int64_t in_features, int k_slices) {
  return (type == StorageType::kBF16 || type == StorageType::kF16) && out_features > 0 &&
         out_features % 32 == 0 && out_features <= (int64_t{1} << 31) - 1 &&
         in_features <= (int64_t{1} << 31) - 1 && KSlicesFit(in_features, k_slices);
}

size_t WgmmaGemmWorkspaceBytes(int64_t rows, int64_t out_features, WgmmaGemmConfig config) {
  if (config.slice_groups <= 1) return 0;
  const int64_t row_tiles = (rows + config.block_m - 1) / config.block_m;
  return static_cast<size_t>(row_tiles * config.block_m * out_features) * sizeof(float);
}

cudaError_t LaunchWgmmaGemm(DeviceRows x, DeviceRows w, MutableDeviceRows y, int k_slices,
                            WgmmaGemmConfig config, void* workspace, size_t workspace_bytes,
                            cudaStream_t stream) {
  if (!WgmmaGemmSupports(x.type, w.rows, w.cols, k_slices) || w.type != x.type ||
      y.type != x.type || x.cols != w.cols || y.rows != x.rows || y.cols != w.rows ||
      w.rows % config.block_n != 0 || x.row_stride % 8 != 0 || w.row_stride % 8 != 0 ||
      y.row_stride % 2 != 0 || x.rows > (int64_t{1} << 31) - 1 ||
      reinterpret_cast<uintptr_t>(x.data) % 16 != 0 ||
      reinterpret_cast<uintptr_t>(w.data) % 16 != 0 ||
      reinterpret_cast<uintptr_t>(y.data) % 4 != 0 || !DeviceIsSm90()) {
    return cudaErrorInvalidValue;
  }
  if (x.rows == 0) return cudaSuccess;
  int index = -1;
  for (int i = 0; i < kConfigCount; ++i) {
    if (kConfigs[i].block_m == config.block_m && kConfigs[i].block_n == config.block_n &&
        kConfigs[i].stages == config.stages && kConfigs[i].slice_groups == config.slice_groups) {
      index = i;
    }
  }
  if (index < 0) return cudaErrorInvalidValue;
  if (x.type == StorageType::kBF16) {
    return LaunchIndexed<__nv_bfloat16, 0>(index, x, w, y, k_slices, workspace, workspace_bytes,
                                           stream);
  }
  return LaunchIndexed<__half, 0>(index, x, w, y, k_slices, workspace, workspace_bytes, stream);
}

}  // namespace lockstep::cuda::internal
