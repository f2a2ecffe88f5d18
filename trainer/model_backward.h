// Backward pass of the whole decoder, from d loss / d logits to every weight,
// using the activations Transformer::ForwardSequences recorded. FP32
// gradients, deterministic (every op in numerics/cpu/backward.h has a fixed
// reduction order; per-sequence attention runs in sequence order). Gradients
// accumulate, so micro-batches add up in the order they are passed.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "model/transformer.h"
#include "model/weights.h"

namespace lockstep::trainer {

// FP32 gradients named and ordered like ModelWeights::NamedTensors().
class ModelGradients {
 public:
  explicit ModelGradients(const ModelWeights& weights);
  void SetZero();
  std::vector<std::pair<std::string, std::vector<float>*>> Named();
  // The gradient of the tensor `name`; nullptr if the model has none.
  std::vector<float>* Find(const std::string& name);

 private:
  std::vector<std::string> names_;
  std::vector<std::vector<float>> grads_;
};

// dlogits: (rows, vocab) fp32, rows as in `acts` (the packed sequences).
absl::Status BackwardSequences(const Transformer& model, const ForwardActivations& acts,
                               const std::vector<float>& dlogits, ModelGradients* grads);

}  // namespace lockstep::trainer
