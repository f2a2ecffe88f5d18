// Reads the config sections shared by training jobs ([model], [train],
// [optim], [actor], [algorithm]) into the library structs, with every error
// naming its key. Reading builds nothing (BuildModelWeights does).
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "config/config.h"
#include "model/weights.h"
#include "trainer/advantages.h"
#include "trainer/policy_loss.h"
#include "trainer/trainer.h"

namespace lockstep::jobs {

// Where a job's initial weights come from: an HF-layout directory lockstep
// wrote, or a fresh random initialization of an architecture.
struct ModelSpec {
  std::string init_from;     // non-empty: load this directory; the rest is unused
  ModelConfig architecture;  // validated; vocab_size of the char tokenizer
  double init_std = 0.02;
  uint64_t seed = 1;
};

// [model]: either `init_from = "DIR"` or an architecture (family,
// hidden_size, ...) with init_std and seed. Reads only: builds no weights.
absl::StatusOr<ModelSpec> ReadModelSection(const config::Config& config);

// The weights `spec` describes, in `dtype`.
absl::StatusOr<ModelWeights> BuildModelWeights(const ModelSpec& spec, DType dtype);

// [train] dtype, micro_batch and [optim] lr, schedule, ...; `total_steps` for the schedule.
absl::StatusOr<trainer::TrainerConfig> ReadTrainerSections(const config::Config& config,
                                                           int64_t total_steps);

// [actor] (the GRPO-family loss, names as verl uses them): policy_loss
// (ppo_clip | gspo), clip_low, clip_high, dual_clip, loss_agg_mode,
// max_response_length, kl_coef, kl_estimator (k1|k2|k3), entropy_coef,
// rollout_correction (none|tis|mis), rollout_correction_cap. And
// [algorithm] advantage (grpo | dr_grpo | rloo).
absl::StatusOr<trainer::PolicyLossConfig> ReadActorSection(const config::Config& config);
absl::StatusOr<trainer::AdvantageEstimator> ReadAdvantageEstimator(const config::Config& config);

}  // namespace lockstep::jobs
