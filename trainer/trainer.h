// The trainer: FP32 master weights, an FP16/BF16 compute copy that the
// forward runs on (the same Transformer the rollout uses), micro-batched
// forward + backward in a fixed order, AdamW, loss scaling, and checkpoints
// that resume bit for bit. Losses plug in as a function of per-token
// logprobs, so next-token pretraining and the GRPO family share one step.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "model/transformer.h"
#include "model/weights.h"
#include "nlohmann/json.hpp"
#include "numerics/cpu/logprob.h"
#include "trainer/optimizer.h"

namespace lockstep::trainer {

// One training sequence: tokens[prompt_length..] are scored, each predicted
// from the tokens before it under `sampling` (the rollout's T / top-k / top-p,
// so the logprob is that of the distribution actually sampled from).
struct TrainSequence {
  std::vector<int32_t> tokens;
  int prompt_length = 1;
  SamplingParams sampling;
  int64_t num_scored() const { return static_cast<int64_t>(tokens.size()) - prompt_length; }
};

// What a loss sees of each sequence, and what it returns.
struct TokenStats {
  std::vector<float> logprobs;   // one per scored token, the trainer forward's bits
  std::vector<float> entropies;  // filled when the loss asks for entropy
};
struct TokenLossResult {
  double loss = 0.0;
  std::vector<std::vector<double>> grad_logprobs;   // per sequence, per scored token
  std::vector<std::vector<double>> grad_entropies;  // empty, or like grad_logprobs
  nlohmann::json metrics = nlohmann::json::object();
};
using TokenLossFn =
    std::function<absl::StatusOr<TokenLossResult>(const std::vector<TokenStats>& stats)>;

struct TrainerConfig {
  DType dtype = DType::kBF16;
  // Only kCpu trains today: the backward pass runs the cpu:: backward ops on host
  // activations. kCuda is refused by Create with a clear error.
  Device device = Device::kCpu;
  OptimizerConfig optim;
  int micro_batch_sequences = 4;
  bool want_entropy = false;
  double initial_loss_scale = 65536.0;  // FP16 only; BF16 needs none
  int64_t loss_scale_growth_interval = 200;
};

struct StepResult {
  double loss = 0.0;
  StepStats optimizer;
  double loss_scale = 1.0;
  int64_t tokens = 0;
  std::vector<TokenStats> stats;  // what the loss saw
  nlohmann::json metrics;         // the loss's metrics
};

class Trainer {
 public:
  // Starts from `weights` (any dtype; the masters are their exact FP32 widening).
  static absl::StatusOr<std::unique_ptr<Trainer>> Create(const ModelWeights& weights,
                                                         const TrainerConfig& config);
  // Resumes from a directory written by SaveCheckpoint.
  static absl::StatusOr<std::unique_ptr<Trainer>> LoadCheckpoint(const std::string& dir,
                                                                 const TrainerConfig& config,
                                                                 nlohmann::json* user_state);

  const ModelWeights& weights() const { return weights_; }
  // The FP32 master weights, in ModelWeights::NamedTensors() order.
  const std::vector<Parameter>& parameters() const { return params_; }
  double loss_scale() const { return scaler_.scale(); }
  const Transformer& model() const { return *model_; }
  int64_t step() const { return optimizer_.step(); }
  const TrainerConfig& config() const { return config_; }

  // Forward only: per-token logprobs (and entropies if asked) of every scored token.
  absl::StatusOr<std::vector<TokenStats>> Score(const std::vector<TrainSequence>& batch,
                                                bool with_entropy = false) const;

  // One optimizer step over `batch`: forward every micro-batch, call `loss`
  // once on the whole batch, backward every micro-batch in order, AdamW.
  absl::StatusOr<StepResult> Step(const std::vector<TrainSequence>& batch,
                                  const TokenLossFn& loss);

  // Writes model.safetensors + config.json (compute dtype, HF names),
  // optimizer.safetensors (FP32 masters and Adam moments) and trainer_state.json
  // (optimizer step, loss scaler, and `user_state`: data position, RNG, ...).
  absl::Status SaveCheckpoint(const std::string& dir, const nlohmann::json& user_state) const;

 private:
  Trainer(ModelWeights weights, const TrainerConfig& config);
  absl::Status RebuildComputeCopy();
  absl::Status ForwardMicroBatch(const std::vector<TrainSequence>& batch, size_t begin, size_t end,
                                 Tensor* logits, ForwardActivations* acts) const;

  TrainerConfig config_;
  ModelWeights weights_;  // compute copy, round(master)
  std::unique_ptr<Transformer> model_;
  std::vector<Parameter> params_;  // FP32 masters in NamedTensors order
  AdamW optimizer_;
  LossScaler scaler_;
};

// Next-token cross-entropy over every scored token (token-mean), the pretraining loss.
TokenLossFn NextTokenLoss();

}  // namespace lockstep::trainer
