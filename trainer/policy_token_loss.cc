#include "trainer/policy_token_loss.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace lockstep::trainer {

TokenLossFn PolicyTokenLoss(PolicyLossConfig config, std::vector<ResponseTokens> responses) {
  return [config, responses = std::move(responses)](
             const std::vector<TokenStats>& stats) mutable -> absl::StatusOr<TokenLossResult> {
    if (stats.size() != responses.size()) {
      return absl::InvalidArgumentError(absl::StrCat("policy loss: ", stats.size(),
                                                     " scored sequences but ", responses.size(),
                                                     " responses"));
    }
    for (size_t i = 0; i < stats.size(); ++i) {
      responses[i].logprobs = stats[i].logprobs;
      if (config.entropy_coef > 0.0) responses[i].entropies = stats[i].entropies;
    }
    absl::StatusOr<PolicyLossOutput> out = ComputePolicyLoss(config, responses);
    if (!out.ok()) return out.status();
    TokenLossResult r;
    r.loss = out->loss;
    r.grad_logprobs = std::move(out->grad_logprobs);
    if (config.entropy_coef > 0.0) r.grad_entropies = std::move(out->grad_entropies);
    r.metrics = {{"actor/pg_loss", out->pg_loss},
                 {"actor/pg_clipfrac", out->pg_clipfrac},
                 {"actor/pg_clipfrac_lower", out->pg_clipfrac_lower},
                 {"actor/kl", out->kl},
                 {"actor/entropy", out->entropy},
                 {"actor/ratio_max", out->ratio_max},
                 {"actor/ratio_min", out->ratio_min},
                 {"actor/ratio_mean", out->ratio_mean},
                 {"actor/rollout_is_weight_mean", out->rollout_is_weight_mean},
                 {"actor/rollout_masked_fraction", out->rollout_masked_fraction},
                 {"actor/loss", out->loss}};
    return r;
  };
}

}  // namespace lockstep::trainer
