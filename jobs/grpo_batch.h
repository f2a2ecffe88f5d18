// The pure middle of a GRPO step, between the rollout and the optimizer:
// which requests a step sends, how rewarded samples become trainer sequences
// and loss inputs, and how far the rollout's recorded log-probabilities are
// from the trainer's recomputation (the mismatch metrics). No I/O, no state:
// the same inputs give the same bits, which is what exact resume relies on.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "jobs/grpo_task.h"
#include "numerics/cpu/logprob.h"
#include "rewards/reward.h"
#include "trainer/policy_loss.h"
#include "trainer/trainer.h"

namespace lockstep::jobs {

// One generated sample and everything the job learned about it.
struct GrpoSample {
  const GrpoPrompt* prompt = nullptr;
  uint32_t sample_index = 0;
  std::vector<int32_t> tokens;    // generated tokens (stop token included)
  std::vector<float> logprobs;    // as the rollout recorded them
  std::string finish_reason;      // "stop" | "length"
  int64_t weight_version = 0;     // the weights that generated it
  int64_t staleness = 0;          // trainer version at update time minus weight_version
  std::string completion;         // text up to the first newline
  rewards::RewardResult reward;
  float advantage = 0.0f;
};

// The rollout request of sample s of prompt p: request id = the prompt's index
// (so Philox keys, and therefore tokens, do not depend on which engine or batch
// serves it).
struct SampleRequest {
  uint32_t request_id = 0;
  uint32_t sample_index = 0;
  const GrpoPrompt* prompt = nullptr;
};
std::vector<SampleRequest> StepRequests(const std::vector<GrpoPrompt>& prompts,
                                        int samples_per_prompt);

// Trainer inputs for a whole step: sequences (prompt + generated tokens) and
// the loss's per-response inputs. The old policy of the ratio is the rollout's
// own log-probabilities (bitwise the trainer's for on-policy samples, so the
// first update's ratio is exactly 1); they are also the TIS/MIS reference.
struct TrainingBatch {
  std::vector<trainer::TrainSequence> sequences;
  std::vector<trainer::ResponseTokens> responses;
};
TrainingBatch AssembleTrainingBatch(const std::vector<GrpoSample>& samples,
                                    const SamplingParams& sampling);

// Rollout vs trainer log-probabilities over the samples with staleness 0.
struct MismatchStats {
  int64_t tokens = 0;
  int64_t bitwise_equal = 0;
  double max_abs_diff = 0.0;
  double k3_kl = 0.0;  // mean over tokens of r - 1 - log r, r = p_trainer / p_rollout
  double bitwise_equal_fraction() const {
    return tokens == 0 ? 1.0 : static_cast<double>(bitwise_equal) / static_cast<double>(tokens);
  }
};
MismatchStats ComputeMismatch(const std::vector<GrpoSample>& samples,
                              const std::vector<trainer::TokenStats>& trainer_stats);

// Mean and (unbiased) standard deviation of the rewards.
struct RewardStats {
  double mean = 0.0, std = 0.0;
  double pass_fraction = 0.0;  // samples with status ok
};
RewardStats SummariseRewards(const std::vector<GrpoSample>& samples);

}  // namespace lockstep::jobs
