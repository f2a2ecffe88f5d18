// The GRPO-family policy loss over a mini-batch of response tokens, with its
// exact gradient with respect to each token's log-probability (and entropy).
// Covers PPO-clip with clip_low/clip_high (DAPO clip-higher) and dual-clip,
// GSPO's sequence-level ratio, the four loss aggregations, KL to a reference
// policy (k1/k2/k3) in the loss, an entropy bonus, and truncated / masked
// importance sampling against rollout logprobs. Deterministic: double
// accumulation in sequence, then token order.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace lockstep::trainer {

enum class PolicyLossKind { kPpoClip, kGspo };
enum class LossAggregation { kTokenMean, kSeqMeanTokenSum, kSeqMeanTokenMean, kSeqMeanTokenSumNorm };
enum class KlEstimator { kK1, kK2, kK3 };
enum class RolloutCorrection { kNone, kTis, kMis };

struct PolicyLossConfig {
  PolicyLossKind kind = PolicyLossKind::kPpoClip;
  double clip_low = 0.2;   // ratio lower bound 1 - clip_low
  double clip_high = 0.2;  // ratio upper bound 1 + clip_high (DAPO: 0.28)
  std::optional<double> dual_clip;  // c > 1: for A < 0 the loss is capped at -A·c
  LossAggregation aggregation = LossAggregation::kTokenMean;
  int max_response_length = 0;  // the constant of seq-mean-token-sum-norm (Dr. GRPO)
  double kl_coef = 0.0;         // KL to the reference policy, added to the loss
  KlEstimator kl_estimator = KlEstimator::kK3;
  double entropy_coef = 0.0;    // loss -= entropy_coef · aggregated entropy
  RolloutCorrection rollout_correction = RolloutCorrection::kNone;
  double rollout_correction_cap = 2.0;  // TIS: min(w, cap); MIS: w > cap -> masked

  absl::Status Validate() const;  // errors name the field
};

absl::StatusOr<PolicyLossKind> ParsePolicyLossKind(const std::string& name);      // ppo_clip, gspo
absl::StatusOr<LossAggregation> ParseLossAggregation(const std::string& name);    // token-mean, ...
absl::StatusOr<KlEstimator> ParseKlEstimator(const std::string& name);            // k1, k2, k3
absl::StatusOr<RolloutCorrection> ParseRolloutCorrection(const std::string& name);// none, tis, mis

// One response: per-token arrays of equal length.
struct ResponseTokens {
  std::vector<float> logprobs;          // current policy (the trainer's forward)
  std::vector<float> old_logprobs;      // policy that the ratio is taken against
  std::vector<float> rollout_logprobs;  // as recorded by the rollout (for TIS/MIS); may be empty
  std::vector<float> ref_logprobs;      // reference policy (for KL); may be empty
  std::vector<float> entropies;         // per-token entropy (for the bonus); may be empty
  float advantage = 0.0f;
};

struct PolicyLossOutput {
  double loss = 0.0;
  // d loss / d logprobs[i][t] and d loss / d entropies[i][t].
  std::vector<std::vector<double>> grad_logprobs;
  std::vector<std::vector<double>> grad_entropies;
  // Metrics under the names the field uses (actor/pg_loss, actor/pg_clipfrac, ...).
  double pg_loss = 0.0;
  double pg_clipfrac = 0.0;        // fraction of tokens whose clipped branch is active
  double pg_clipfrac_lower = 0.0;  // dual-clip active
  double kl = 0.0;
  double entropy = 0.0;
  double ratio_max = 0.0, ratio_min = 0.0, ratio_mean = 0.0;
  double rollout_is_weight_mean = 1.0;
  double rollout_masked_fraction = 0.0;
  int64_t tokens = 0;
};

absl::StatusOr<PolicyLossOutput> ComputePolicyLoss(const PolicyLossConfig& config,
                                                   const std::vector<ResponseTokens>& batch);

// KL in the reward instead of the loss: reward_i − coef · Σ_t KL_t(logprob, ref),
// per response, to be applied before advantages are computed. `logprobs` and
// `ref_logprobs` are per response, per token (the rollout's and the reference's).
absl::StatusOr<std::vector<float>> KlPenalizedRewards(
    const std::vector<float>& rewards, const std::vector<std::vector<float>>& logprobs,
    const std::vector<std::vector<float>>& ref_logprobs, KlEstimator estimator, double coef);

// Per-token KL estimate and its derivative w.r.t. the policy logprob, for
// d = logprob - ref_logprob: k1 = d; k2 = d²/2; k3 = exp(-d) - 1 + d.
double KlValue(KlEstimator estimator, double d);
double KlGrad(KlEstimator estimator, double d);

}  // namespace lockstep::trainer
