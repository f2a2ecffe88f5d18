// Adapts the GRPO-family policy loss (policy_loss.h) to the trainer's
// TokenLossFn: the trainer supplies the current logprobs (and entropies), the
// job supplies old / rollout / reference logprobs and advantages. Metrics use
// the field's names: actor/pg_loss, actor/pg_clipfrac, actor/kl, actor/entropy, ...
#pragma once

#include <vector>

#include "trainer/policy_loss.h"
#include "trainer/trainer.h"

namespace lockstep::trainer {

// `responses` carries everything but `logprobs` and `entropies`, which the
// trainer's forward fills in at each call.
TokenLossFn PolicyTokenLoss(PolicyLossConfig config, std::vector<ResponseTokens> responses);

}  // namespace lockstep::trainer
