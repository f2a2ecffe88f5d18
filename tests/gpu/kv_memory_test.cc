// The CUDA backend's memory report and a KV cache sized from it: MemoryInfo matches
// cudaMemGetInfo's shape (0 < free <= total), and an engine asked for a small fraction of
// free memory takes about that much of the GPU (the pool, nothing hidden) and generates.
#include <cuda_runtime_api.h>

#include <cstdint>
#include <memory>

#include "gtest/gtest.h"
#include "model/kv_cache_sizing.h"
#include "model/transformer.h"
#include "model/weights.h"
#include "numerics/cuda/cuda_backend.h"
#include "rollout/engine.h"
#include "tests/gpu/gpu_test_util.h"
#include "tests/gpu/small_model_gpu_test.h"

namespace lockstep::cuda::gpu_testing {
namespace {

class KvMemoryTest : public SmallModelGpuTest {
 protected:
  void SetUp() override {
    GpuTest::SetUp();
    BuildSmallModel(ModelFamily::kQwen3);
  }
};

TEST_F(KvMemoryTest, MemoryInfoIsFreeAndTotalOfThisGpu) {
  const DeviceMemoryInfo info = Unwrap(backend_->MemoryInfo());
  EXPECT_GT(info.free_bytes, 0);
  EXPECT_LE(info.free_bytes, info.total_bytes);
  size_t free_bytes = 0, total_bytes = 0;
  Check(CudaStatus(cudaMemGetInfo(&free_bytes, &total_bytes), "cudaMemGetInfo"));
  EXPECT_EQ(info.total_bytes, static_cast<int64_t>(total_bytes));
}

TEST_F(KvMemoryTest, EngineTakesAboutTheFractionItWasGiven) {
  constexpr double kFraction = 0.02;
  const int64_t free_before = Unwrap(backend_->MemoryInfo()).free_bytes;
  EngineOptions options;
  options.kv_cache = {.block_size = 16, .num_blocks = 1, .memory_fraction = kFraction};
  std::unique_ptr<RolloutEngine> engine = Unwrap(RolloutEngine::Create(*model_, options));
  const int64_t free_after = Unwrap(backend_->MemoryInfo()).free_bytes;

  const int64_t block_bytes = KvBlockBytes(config_, DType::kBF16, 16);
  const int64_t pool = block_bytes * engine->kv_cache_options().num_blocks;
  const double budget = kFraction * static_cast<double>(free_before);
  // The pool is the fraction of what was free, rounded down to whole blocks (1% slack for
  // whatever else on the GPU moved in between).
  EXPECT_LE(static_cast<double>(pool), budget * 1.01);
  EXPECT_GE(static_cast<double>(pool), budget * 0.99 - static_cast<double>(block_bytes));
  // The GPU lost about the pool: cudaMalloc rounds each of the 2 * layers pools up to its
  // page size; the engine allocates nothing else of note before its first step.
  const int64_t taken = free_before - free_after;
  EXPECT_GE(taken, pool * 99 / 100) << "pool " << pool << " bytes";
  EXPECT_LE(taken, pool + (int64_t{64} << 20)) << "pool " << pool << " bytes";

  GenerationRequest request;
  request.prompt = {5, 6, 7, 8};
  request.max_new_tokens = 8;
  request.seed = 3;
  Check(engine->Submit(request));
  const auto results = Unwrap(engine->RunToCompletion());
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].tokens.size(), 8u);
}

}  // namespace
}  // namespace lockstep::cuda::gpu_testing
