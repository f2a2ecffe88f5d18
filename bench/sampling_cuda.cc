// Times the CUDA backend's TokenLogprobs and SampleTokens (one kernel: candidate selection,
// softmax over the candidates, inverse-CDF draw) at V = 151936 for several batch sizes and
// sampling params, against the full-softmax-only cuda::TokenLogprobs kernel in the same run
// (the baseline: what full softmax cost before top-k/top-p). Wall time per call, including
// the host round trip the host-result ops need. Prints one CSV line per case.
#include <chrono>
#include <cstdint>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "numerics/backend.h"
#include "numerics/cuda/cuda_backend.h"
#include "numerics/cuda/logprob.h"
#include "numerics/tensor.h"

namespace {

using lockstep::Backend;
using lockstep::DType;
using lockstep::SamplingParams;

constexpr int64_t kVocab = 151936;
constexpr int kIterations = 20;

template <typename F>
double MicrosPerCall(F&& call) {
  call();  // warm-up (grows scratch buffers)
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kIterations; ++i) call();
  const auto end = std::chrono::steady_clock::now();
  return std::chrono::duration<double, std::micro>(end - start).count() / kIterations;
}

int Run() {
  lockstep::BackendOptions options;
  options.device = lockstep::Device::kCuda;
  auto created = lockstep::cuda::CreateCudaBackend(options);
  if (!created.ok()) {
    std::cerr << created.status() << "\n";
    return 1;
  }
  std::unique_ptr<Backend> backend = *std::move(created);
  std::cout << "device," << backend->Describe() << "\n";
  std::cout << "op,params,rows,us_per_call,baseline_us_per_call\n";
  const std::vector<std::pair<std::string, SamplingParams>> cases = {
      {"full_T1", {1.0f, 0, 1.0f}},
      {"top_k50", {1.0f, 50, 1.0f}},
      {"top_p0.9", {1.0f, 0, 0.9f}},
      {"top_k50_top_p0.9", {1.0f, 50, 0.9f}},
      {"greedy", {0.0f, 0, 1.0f}},
  };
  for (int64_t rows : {1, 8, 64, 256}) {
    lockstep::Tensor host(DType::kBF16, {rows, kVocab});
    std::mt19937_64 rng(rows);
    std::normal_distribution<float> normal(0.0f, 3.0f);
    for (int64_t i = 0; i < host.numel(); ++i) host.SetFloat(i, normal(rng));
    auto logits = backend->Upload(host.AsMatrix());
    auto tokens_device = backend->UploadInt32(std::vector<int32_t>(rows, 17));
    auto outputs = backend->Allocate(DType::kF32, 1, rows);
    if (!logits.ok() || !tokens_device.ok() || !outputs.ok()) return 1;
    const std::vector<int32_t> tokens(rows, 17);
    std::vector<float> logprobs(rows);
    std::vector<lockstep::SampledToken> samples(rows);
    // Baseline: the full-softmax kernel alone, synchronised the same way.
    const double baseline = MicrosPerCall([&] {
      (void)lockstep::cuda::TokenLogprobs(logits->view(), tokens_device->view().data, 1.0f,
                                          static_cast<float*>(outputs->view().data), nullptr,
                                          nullptr, nullptr);
      (void)cudaDeviceSynchronize();
    });
    for (const auto& [name, params] : cases) {
      const std::vector<SamplingParams> one = {params};
      std::vector<lockstep::SampleSpec> specs(rows);
      for (int64_t r = 0; r < rows; ++r) specs[r] = {params, 5, static_cast<uint32_t>(r), 0, 3};
      const double score = MicrosPerCall(
          [&] { (void)backend->TokenLogprobs(logits->view(), tokens, one, logprobs); });
      const double sample =
          MicrosPerCall([&] { (void)backend->SampleTokens(logits->view(), specs, samples); });
      std::cout << "TokenLogprobs," << name << "," << rows << "," << score << "," << baseline
                << "\n";
      std::cout << "SampleTokens," << name << "," << rows << "," << sample << "," << baseline
                << "\n";
    }
  }
  return 0;
}

}  // namespace

int main() { return Run(); }
