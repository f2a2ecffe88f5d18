#include "trainer/policy_loss.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"

namespace lockstep::trainer {

absl::Status PolicyLossConfig::Validate() const {
  auto bad = [](const char* field, double value, const char* want) {
    return absl::InvalidArgumentError(
        absl::StrCat("actor.", field, " = ", value, ": ", want));
  };
  if (!(clip_low >= 0.0 && clip_low < 1.0)) return bad("clip_low", clip_low, "must be in [0, 1)");
  if (!(clip_high >= 0.0)) return bad("clip_high", clip_high, "must be >= 0");
  if (dual_clip && !(*dual_clip > 1.0)) return bad("dual_clip", *dual_clip, "must be > 1");
  if (aggregation == LossAggregation::kSeqMeanTokenSumNorm && max_response_length < 1) {
    return bad("max_response_length", max_response_length,
               "must be >= 1 for loss_agg_mode seq-mean-token-sum-norm");
  }
  if (!(kl_coef >= 0.0)) return bad("kl_coef", kl_coef, "must be >= 0");
  if (!(entropy_coef >= 0.0)) return bad("entropy_coef", entropy_coef, "must be >= 0");
  if (rollout_correction != RolloutCorrection::kNone && !(rollout_correction_cap > 0.0)) {
    return bad("rollout_correction_cap", rollout_correction_cap, "must be > 0");
  }
  return absl::OkStatus();
}

absl::StatusOr<PolicyLossKind> ParsePolicyLossKind(const std::string& name) {
  if (name == "ppo_clip" || name == "grpo") return PolicyLossKind::kPpoClip;
  if (name == "gspo") return PolicyLossKind::kGspo;
  return absl::InvalidArgumentError(
      absl::StrCat("actor.policy_loss: unknown loss '", name, "' (expected ppo_clip or gspo)"));
}

absl::StatusOr<LossAggregation> ParseLossAggregation(const std::string& name) {
  if (name == "token-mean") return LossAggregation::kTokenMean;
  if (name == "seq-mean-token-sum") return LossAggregation::kSeqMeanTokenSum;
  if (name == "seq-mean-token-mean") return LossAggregation::kSeqMeanTokenMean;
  if (name == "seq-mean-token-sum-norm") return LossAggregation::kSeqMeanTokenSumNorm;
  return absl::InvalidArgumentError(absl::StrCat(
      "actor.loss_agg_mode: unknown mode '", name,
      "' (expected token-mean, seq-mean-token-sum, seq-mean-token-mean, seq-mean-token-sum-norm)"));
}

absl::StatusOr<KlEstimator> ParseKlEstimator(const std::string& name) {
  if (name == "k1") return KlEstimator::kK1;
  if (name == "k2") return KlEstimator::kK2;
  if (name == "k3" || name == "low_var_kl") return KlEstimator::kK3;
  return absl::InvalidArgumentError(
      absl::StrCat("actor.kl_estimator: unknown estimator '", name, "' (expected k1, k2 or k3)"));
}

absl::StatusOr<RolloutCorrection> ParseRolloutCorrection(const std::string& name) {
  if (name == "none") return RolloutCorrection::kNone;
  if (name == "tis") return RolloutCorrection::kTis;
  if (name == "mis") return RolloutCorrection::kMis;
  return absl::InvalidArgumentError(absl::StrCat(
      "actor.rollout_correction: unknown mode '", name, "' (expected none, tis or mis)"));
}

double KlValue(KlEstimator estimator, double d) {
  switch (estimator) {
    case KlEstimator::kK1: return d;
    case KlEstimator::kK2: return 0.5 * d * d;
    case KlEstimator::kK3: return std::exp(-d) - 1.0 + d;
  }
  return 0.0;
}

double KlGrad(KlEstimator estimator, double d) {
  switch (estimator) {
    case KlEstimator::kK1: return 1.0;
    case KlEstimator::kK2: return d;
    case KlEstimator::kK3: return 1.0 - std::exp(-d);
  }
  return 0.0;
}

absl::StatusOr<std::vector<float>> KlPenalizedRewards(
    const std::vector<float>& rewards, const std::vector<std::vector<float>>& logprobs,
    const std::vector<std::vector<float>>& ref_logprobs, KlEstimator estimator, double coef) {
  if (logprobs.size() != rewards.size() || ref_logprobs.size() != rewards.size()) {
    return absl::InvalidArgumentError("KL in reward: rewards, logprobs and ref_logprobs differ in count");
  }
  if (!(coef >= 0.0)) {
    return absl::InvalidArgumentError(absl::StrCat("algorithm.kl_in_reward_coef = ", coef, ": must be >= 0"));
  }
  std::vector<float> out(rewards.size());
  for (size_t i = 0; i < rewards.size(); ++i) {
    if (logprobs[i].size() != ref_logprobs[i].size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("KL in reward: response ", i, " has ", logprobs[i].size(),
                       " logprobs but ", ref_logprobs[i].size(), " reference logprobs"));
    }
    double kl = 0.0;
    for (size_t t = 0; t < logprobs[i].size(); ++t) {
      kl += KlValue(estimator, static_cast<double>(logprobs[i][t]) - ref_logprobs[i][t]);
    }
    out[i] = static_cast<float>(rewards[i] - coef * kl);
  }
  return out;
}

namespace {

// Weight of token t of sequence i in the aggregated loss.
double TokenWeight(LossAggregation agg, size_t num_seqs, int64_t total_tokens, size_t seq_len,
                   int max_response_length) {
  const double n = static_cast<double>(num_seqs);
  switch (agg) {
    case LossAggregation::kTokenMean: return 1.0 / static_cast<double>(total_tokens);
    case LossAggregation::kSeqMeanTokenSum: return 1.0 / n;
    case LossAggregation::kSeqMeanTokenMean: return 1.0 / (n * static_cast<double>(seq_len));
    case LossAggregation::kSeqMeanTokenSumNorm: return 1.0 / (n * max_response_length);
  }
  return 0.0;
}

}  // namespace

absl::StatusOr<PolicyLossOutput> ComputePolicyLoss(const PolicyLossConfig& config,
                                                   const std::vector<ResponseTokens>& batch) {
  if (absl::Status s = config.Validate(); !s.ok()) return s;
  PolicyLossOutput out;
  int64_t total_tokens = 0;
  for (size_t i = 0; i < batch.size(); ++i) {
    const ResponseTokens& r = batch[i];
    const size_t n = r.logprobs.size();
    auto check = [&](const std::vector<float>& v, const char* name, bool needed) -> absl::Status {
      if ((needed || !v.empty()) && v.size() != n) {
        return absl::InvalidArgumentError(absl::StrCat("policy loss: response ", i, " has ", n,
                                                       " logprobs but ", v.size(), " ", name));
      }
      return absl::OkStatus();
    };
    for (absl::Status s :
         {check(r.old_logprobs, "old_logprobs", true),
          check(r.rollout_logprobs, "rollout_logprobs",
                config.rollout_correction != RolloutCorrection::kNone),
          check(r.ref_logprobs, "ref_logprobs", config.kl_coef > 0.0),
          check(r.entropies, "entropies", config.entropy_coef > 0.0)}) {
      if (!s.ok()) return s;
    }
    total_tokens += static_cast<int64_t>(n);
  }
  out.tokens = total_tokens;
  out.grad_logprobs.resize(batch.size());
  out.grad_entropies.resize(batch.size());
  if (total_tokens == 0) return out;

  const double lo = 1.0 - config.clip_low, hi = 1.0 + config.clip_high;
  int64_t clipped = 0, dual_clipped = 0, masked = 0;
  double ratio_sum = 0.0, is_weight_sum = 0.0;
  out.ratio_max = -std::numeric_limits<double>::infinity();
  out.ratio_min = std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < batch.size(); ++i) {
    const ResponseTokens& r = batch[i];
    const size_t n = r.logprobs.size();
    out.grad_logprobs[i].assign(n, 0.0);
    out.grad_entropies[i].assign(n, 0.0);
    if (n == 0) continue;
    const double a = r.advantage;
    const double w_agg = TokenWeight(config.aggregation, batch.size(), total_tokens, n,
                                     config.max_response_length);

    // Rollout correction weight per token (detached): w = exp(old - rollout).
    std::vector<double> is_weight(n, 1.0);
    if (config.rollout_correction != RolloutCorrection::kNone) {
      for (size_t t = 0; t < n; ++t) {
        const double w = std::exp(static_cast<double>(r.old_logprobs[t]) - r.rollout_logprobs[t]);
        if (config.rollout_correction == RolloutCorrection::kTis) {
          is_weight[t] = std::min(w, config.rollout_correction_cap);
        } else {
          is_weight[t] = w > config.rollout_correction_cap ? 0.0 : 1.0;
          if (is_weight[t] == 0.0) ++masked;
        }
        is_weight_sum += is_weight[t];
      }
    }

    if (config.kind == PolicyLossKind::kPpoClip) {
      for (size_t t = 0; t < n; ++t) {
        const double ratio = std::exp(static_cast<double>(r.logprobs[t]) - r.old_logprobs[t]);
        ratio_sum += ratio;
        out.ratio_max = std::max(out.ratio_max, ratio);
        out.ratio_min = std::min(out.ratio_min, ratio);
        const double unclipped = -a * ratio;
        const double clipped_loss = -a * std::clamp(ratio, lo, hi);
        double loss = std::max(unclipped, clipped_loss);
        // Gradient flows only through the unclipped branch when it is the max.
        double dloss_dratio = unclipped >= clipped_loss ? -a : 0.0;
        if (clipped_loss > unclipped) ++clipped;
        if (config.dual_clip && a < 0.0 && loss > -a * *config.dual_clip) {
          loss = -a * *config.dual_clip;
          dloss_dratio = 0.0;
          ++dual_clipped;
        }
        const double w = w_agg * is_weight[t];
        out.pg_loss += w * loss;
        out.grad_logprobs[i][t] += w * dloss_dratio * ratio;  // d ratio / d logprob = ratio
      }
    } else {
      // GSPO: one ratio per sequence, exp(mean_t(logprob - old)); every token
      // of the sequence shares its loss, aggregated as a sequence mean.
      double mean_log_ratio = 0.0;
      for (size_t t = 0; t < n; ++t) {
        mean_log_ratio += (static_cast<double>(r.logprobs[t]) - r.old_logprobs[t]) * is_weight[t];
      }
      mean_log_ratio /= static_cast<double>(n);
      const double ratio = std::exp(mean_log_ratio);
      ratio_sum += ratio * static_cast<double>(n);
      out.ratio_max = std::max(out.ratio_max, ratio);
      out.ratio_min = std::min(out.ratio_min, ratio);
      const double unclipped = -a * ratio;
      const double clipped_loss = -a * std::clamp(ratio, lo, hi);
      const double loss = std::max(unclipped, clipped_loss);
      const double dloss_dratio = unclipped >= clipped_loss ? -a : 0.0;
      if (clipped_loss > unclipped) clipped += static_cast<int64_t>(n);
      const double w_seq = 1.0 / static_cast<double>(batch.size());
      out.pg_loss += w_seq * loss;
      for (size_t t = 0; t < n; ++t) {
        out.grad_logprobs[i][t] +=
            w_seq * dloss_dratio * ratio * is_weight[t] / static_cast<double>(n);
      }
    }

    for (size_t t = 0; t < n; ++t) {
      if (config.kl_coef > 0.0) {
        const double d = static_cast<double>(r.logprobs[t]) - r.ref_logprobs[t];
        out.kl += w_agg * KlValue(config.kl_estimator, d);
        out.grad_logprobs[i][t] += config.kl_coef * w_agg * KlGrad(config.kl_estimator, d);
      }
      if (!r.entropies.empty()) out.entropy += w_agg * r.entropies[t];
      if (config.entropy_coef > 0.0) out.grad_entropies[i][t] = -config.entropy_coef * w_agg;
    }
  }
  out.loss = out.pg_loss + config.kl_coef * out.kl - config.entropy_coef * out.entropy;
  out.pg_clipfrac = static_cast<double>(clipped) / static_cast<double>(total_tokens);
  out.pg_clipfrac_lower = static_cast<double>(dual_clipped) / static_cast<double>(total_tokens);
  out.ratio_mean = ratio_sum / static_cast<double>(total_tokens);
  if (config.rollout_correction != RolloutCorrection::kNone) {
    out.rollout_is_weight_mean = is_weight_sum / static_cast<double>(total_tokens);
    out.rollout_masked_fraction = static_cast<double>(masked) / static_cast<double>(total_tokens);
  }
  return out;
}

}  // namespace lockstep::trainer
