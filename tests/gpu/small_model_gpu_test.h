// A GPU test fixture holding a small random bf16 model on a CUDA backend (2 layers, hidden
// 128, 4 heads / 2 KV heads, vocab 512): Qwen2 with q/k/v bias or Qwen3 with q/k norm.
// Skips, like every GPU test, where no GPU is visible.
#pragma once

#include <memory>

#include "model/config.h"
#include "model/transformer.h"
#include "model/weights.h"
#include "numerics/cuda/cuda_backend.h"
#include "tests/gpu/gpu_test_util.h"

namespace lockstep::cuda::gpu_testing {

class SmallModelGpuTest : public GpuTest {
 protected:
  // Call from SetUp after GpuTest::SetUp (it does nothing when the test is skipped).
  void BuildSmallModel(ModelFamily family) {
    if (IsSkipped() || HasFailure()) return;
    backend_ = Unwrap(CreateCudaBackend(BackendOptions{.device = Device::kCuda}));
    config_.family = family;
    config_.attention_bias = family == ModelFamily::kQwen2;
    config_.qk_norm = family == ModelFamily::kQwen3;
    config_.hidden_size = 128;
    config_.num_layers = 2;
    config_.num_heads = 4;
    config_.num_kv_heads = 2;
    config_.head_dim = 32;
    config_.intermediate_size = 256;
    config_.vocab_size = 512;
    config_.max_position_embeddings = 512;
    weights_ = Unwrap(RandomInitWeights(config_, DType::kBF16, 7, 0.05f));
    model_ = Unwrap(Transformer::Create(weights_, *backend_));
  }

  std::unique_ptr<Backend> backend_;
  ModelConfig config_;
  ModelWeights weights_;
  std::unique_ptr<Transformer> model_;
};

}  // namespace lockstep::cuda::gpu_testing
