#include "trainer/optimizer.h"

#include <cmath>
#include <numbers>

#include "absl/strings/str_cat.h"

namespace lockstep::trainer {

absl::StatusOr<LrSchedule> ParseLrSchedule(const std::string& name) {
  if (name == "constant") return LrSchedule::kConstant;
  if (name == "warmup") return LrSchedule::kWarmupConstant;
  if (name == "cosine") return LrSchedule::kCosine;
  return absl::InvalidArgumentError(absl::StrCat("optim.schedule: unknown schedule '", name,
                                                 "' (expected constant, warmup or cosine)"));
}

absl::Status OptimizerConfig::Validate() const {
  auto bad = [](const char* field, double v, const char* want) {
    return absl::InvalidArgumentError(absl::StrCat("optim.", field, " = ", v, ": ", want));
  };
  if (!(lr > 0.0)) return bad("lr", lr, "must be > 0");
  if (!(beta1 >= 0.0 && beta1 < 1.0)) return bad("beta1", beta1, "must be in [0, 1)");
  if (!(beta2 >= 0.0 && beta2 < 1.0)) return bad("beta2", beta2, "must be in [0, 1)");
  if (!(eps > 0.0)) return bad("eps", eps, "must be > 0");
  if (!(weight_decay >= 0.0)) return bad("weight_decay", weight_decay, "must be >= 0");
  if (warmup_steps < 0) return bad("warmup_steps", static_cast<double>(warmup_steps), "must be >= 0");
  if (total_steps < 1) return bad("total_steps", static_cast<double>(total_steps), "must be >= 1");
  if (!(min_lr_ratio >= 0.0 && min_lr_ratio <= 1.0)) {
    return bad("min_lr_ratio", min_lr_ratio, "must be in [0, 1]");
  }
  return absl::OkStatus();
}

double OptimizerConfig::LearningRate(int64_t step) const {
  if (schedule != LrSchedule::kConstant && step < warmup_steps) {
    return lr * static_cast<double>(step + 1) / static_cast<double>(warmup_steps);
  }
  if (schedule == LrSchedule::kCosine) {
    const double span = static_cast<double>(std::max<int64_t>(1, total_steps - warmup_steps));
    const double progress =
        std::min(1.0, static_cast<double>(step - warmup_steps) / span);
    const double cosine = 0.5 * (1.0 + std::cos(std::numbers::pi * progress));
    return lr * (min_lr_ratio + (1.0 - min_lr_ratio) * cosine);
  }
  return lr;
}

StepStats AdamW::Step(std::vector<Parameter>& params, double grad_scale) {
  StepStats stats;
  stats.lr = config_.LearningRate(step_);
  const double inv_scale = 1.0 / grad_scale;
  double sumsq = 0.0;
  bool finite = true;
  for (Parameter& p : params) {
    for (float& g : p.grad) {
      const double unscaled = static_cast<double>(g) * inv_scale;
      g = static_cast<float>(unscaled);
      if (!std::isfinite(unscaled)) finite = false;
      sumsq += unscaled * unscaled;
    }
  }
  stats.grad_norm = std::sqrt(sumsq);
  if (!finite || !std::isfinite(stats.grad_norm)) {
    stats.skipped = true;
    for (Parameter& p : params) std::fill(p.grad.begin(), p.grad.end(), 0.0f);
    return stats;
  }
  const double clip = (config_.max_grad_norm > 0.0 && stats.grad_norm > config_.max_grad_norm)
                          ? config_.max_grad_norm / (stats.grad_norm + 1e-6)
                          : 1.0;
  ++step_;
  const double bias1 = 1.0 - std::pow(config_.beta1, static_cast<double>(step_));
  const double bias2 = 1.0 - std::pow(config_.beta2, static_cast<double>(step_));
  for (Parameter& p : params) {
    if (p.exp_avg.size() != p.master.size()) p.exp_avg.assign(p.master.size(), 0.0f);
    if (p.exp_avg_sq.size() != p.master.size()) p.exp_avg_sq.assign(p.master.size(), 0.0f);
    const double decay = p.decay ? config_.weight_decay : 0.0;
    for (size_t i = 0; i < p.master.size(); ++i) {
      const double g = static_cast<double>(p.grad[i]) * clip;
      const double m = config_.beta1 * p.exp_avg[i] + (1.0 - config_.beta1) * g;
      const double v = config_.beta2 * p.exp_avg_sq[i] + (1.0 - config_.beta2) * g * g;
      p.exp_avg[i] = static_cast<float>(m);
      p.exp_avg_sq[i] = static_cast<float>(v);
      double w = p.master[i];
      w -= stats.lr * decay * w;  // decoupled weight decay
      w -= stats.lr * (m / bias1) / (std::sqrt(v / bias2) + config_.eps);
      p.master[i] = static_cast<float>(w);
      p.grad[i] = 0.0f;
    }
  }
  return stats;
}

LossScaler::LossScaler(bool enabled, double initial_scale, int64_t growth_interval,
                       double growth_factor, double backoff_factor)
    : enabled_(enabled),
      scale_(initial_scale),
      growth_interval_(growth_interval),
      growth_factor_(growth_factor),
      backoff_factor_(backoff_factor) {}

void LossScaler::Update(bool found_inf) {
  if (!enabled_) return;
  if (found_inf) {
    scale_ = std::max(1.0, scale_ * backoff_factor_);
    clean_steps_ = 0;
    return;
  }
  if (++clean_steps_ >= growth_interval_) {
    scale_ *= growth_factor_;
    clean_steps_ = 0;
  }
}

nlohmann::json LossScaler::ToJson() const {
  return {{"enabled", enabled_}, {"scale", scale_}, {"clean_steps", clean_steps_},
          {"growth_interval", growth_interval_}};
}

absl::Status LossScaler::FromJson(const nlohmann::json& json) {
  try {
    enabled_ = json.at("enabled").get<bool>();
    scale_ = json.at("scale").get<double>();
    clean_steps_ = json.at("clean_steps").get<int64_t>();
    growth_interval_ = json.at("growth_interval").get<int64_t>();
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("loss scaler state: ", e.what()));
  }
  return absl::OkStatus();
}

}  // namespace lockstep::trainer
