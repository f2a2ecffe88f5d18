// AdamW on FP32 master weights, global-norm gradient clipping, learning-rate
// schedules, and FP16 dynamic loss scaling. Deterministic: parameters are
// visited in registration order and norms are summed in double in that order.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace lockstep::trainer {

enum class LrSchedule { kConstant, kWarmupConstant, kCosine };
absl::StatusOr<LrSchedule> ParseLrSchedule(const std::string& name);  // constant, warmup, cosine

struct OptimizerConfig {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;
  double max_grad_norm = 1.0;  // <= 0: no clipping
  LrSchedule schedule = LrSchedule::kConstant;
  int64_t warmup_steps = 0;
  int64_t total_steps = 1;     // for cosine
  double min_lr_ratio = 0.0;   // cosine floor as a fraction of lr

  absl::Status Validate() const;  // errors name the field (optim.*)
  double LearningRate(int64_t step) const;  // step counts from 0
};

// One trainable tensor: FP32 master values, FP32 gradient, Adam moments.
struct Parameter {
  std::string name;
  std::vector<float> master;
  std::vector<float> grad;
  std::vector<float> exp_avg;
  std::vector<float> exp_avg_sq;
  bool decay = true;  // norms and biases usually skip weight decay
};

struct StepStats {
  double grad_norm = 0.0;   // before clipping (of the unscaled gradient)
  double lr = 0.0;
  bool skipped = false;     // inf/NaN gradient (FP16 overflow): nothing was updated
};

class AdamW {
 public:
  explicit AdamW(OptimizerConfig config) : config_(config) {}
  const OptimizerConfig& config() const { return config_; }
  int64_t step() const { return step_; }
  void set_step(int64_t step) { step_ = step; }

  // Divides gradients by `grad_scale` (the loss scale), checks for inf/NaN,
  // clips to max_grad_norm and applies one AdamW update. Gradients are zeroed.
  StepStats Step(std::vector<Parameter>& params, double grad_scale = 1.0);

 private:
  OptimizerConfig config_;
  int64_t step_ = 0;
};

// FP16 dynamic loss scaling: multiply the loss by scale(); after each step call
// Update(found_inf). On overflow the scale backs off; after growth_interval
// clean steps it grows. BF16 runs use a fixed scale of 1 (enabled = false).
class LossScaler {
 public:
  LossScaler(bool enabled, double initial_scale = 65536.0, int64_t growth_interval = 200,
             double growth_factor = 2.0, double backoff_factor = 0.5);
  double scale() const { return enabled_ ? scale_ : 1.0; }
  bool enabled() const { return enabled_; }
  void Update(bool found_inf);
  nlohmann::json ToJson() const;
  absl::Status FromJson(const nlohmann::json& json);

 private:
  bool enabled_;
  double scale_;
  int64_t growth_interval_;
  double growth_factor_;
  double backoff_factor_;
  int64_t clean_steps_ = 0;
};

}  // namespace lockstep::trainer
