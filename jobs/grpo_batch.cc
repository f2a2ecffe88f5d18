#include "jobs/grpo_batch.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace lockstep::jobs {

std::vector<SampleRequest> StepRequests(const std::vector<GrpoPrompt>& prompts,
                                        int samples_per_prompt) {
  std::vector<SampleRequest> out;
  out.reserve(prompts.size() * static_cast<size_t>(samples_per_prompt));
  for (const GrpoPrompt& p : prompts) {
    for (int s = 0; s < samples_per_prompt; ++s) {
      out.push_back({.request_id = static_cast<uint32_t>(p.index),
                     .sample_index = static_cast<uint32_t>(s),
                     .prompt = &p});
    }
  }
  return out;
}

TrainingBatch AssembleTrainingBatch(const std::vector<GrpoSample>& samples,
                                    const SamplingParams& sampling) {
  TrainingBatch batch;
  batch.sequences.reserve(samples.size());
  batch.responses.reserve(samples.size());
  for (const GrpoSample& s : samples) {
    trainer::TrainSequence seq;
    seq.tokens = s.prompt->tokens;
    seq.tokens.insert(seq.tokens.end(), s.tokens.begin(), s.tokens.end());
    seq.prompt_length = static_cast<int>(s.prompt->tokens.size());
    seq.sampling = sampling;
    batch.sequences.push_back(std::move(seq));
    trainer::ResponseTokens r;
    r.old_logprobs = s.logprobs;
    r.rollout_logprobs = s.logprobs;
    r.advantage = s.advantage;
    batch.responses.push_back(std::move(r));
  }
  return batch;
}

MismatchStats ComputeMismatch(const std::vector<GrpoSample>& samples,
                              const std::vector<trainer::TokenStats>& trainer_stats) {
  MismatchStats m;
  double kl_sum = 0.0;
  for (size_t i = 0; i < samples.size() && i < trainer_stats.size(); ++i) {
    if (samples[i].staleness != 0) continue;
    const std::vector<float>& rollout = samples[i].logprobs;
    const std::vector<float>& trained = trainer_stats[i].logprobs;
    for (size_t t = 0; t < rollout.size() && t < trained.size(); ++t) {
      ++m.tokens;
      if (std::bit_cast<uint32_t>(rollout[t]) == std::bit_cast<uint32_t>(trained[t])) {
        ++m.bitwise_equal;
      }
      const double d = static_cast<double>(trained[t]) - static_cast<double>(rollout[t]);
      m.max_abs_diff = std::max(m.max_abs_diff, std::fabs(d));
      kl_sum += std::exp(d) - 1.0 - d;  // k3 of KL(rollout || trainer), r = exp(d)
    }
  }
  if (m.tokens > 0) m.k3_kl = kl_sum / static_cast<double>(m.tokens);
  return m;
}

RewardStats SummariseRewards(const std::vector<GrpoSample>& samples) {
  RewardStats r;
  if (samples.empty()) return r;
  const double n = static_cast<double>(samples.size());
  for (const GrpoSample& s : samples) {
    r.mean += s.reward.value;
    if (s.reward.passed()) r.pass_fraction += 1.0;
  }
  r.mean /= n;
  r.pass_fraction /= n;
  if (samples.size() > 1) {
    double ss = 0.0;
    for (const GrpoSample& s : samples) ss += (s.reward.value - r.mean) * (s.reward.value - r.mean);
    r.std = std::sqrt(ss / (n - 1.0));
  }
  return r;
}

}  // namespace lockstep::jobs
