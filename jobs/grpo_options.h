// Everything a GRPO job is configured with, read once from the config (TOML +
// --set) into one struct, with every error naming its key. Reading validates
// the whole job before any process starts; running never reads the config.
//
// Sections (field names follow verl where one exists):
//   [model]     init_from = DIR | an architecture (job_sections.h). DIR's tokenizer.json
//               (an HF model directory) tokenizes prompts and completions; without
//               one, the char tokenizer (model/text_tokenizer.h, docs/hf-compat.md)
//   [task]      kind, max_digits, operators, seed, time_limit_s, memory_limit_mb,
//               prompt_format (raw|chat), system_prompt
//   [rollout]   engines, n (samples per prompt), max_new_tokens, temperature,
//               top_k, top_p, seed, max_staleness, max_batch, kv_blocks,
//               kv_memory_fraction,
//               transport (ipc|tcp), base_port, engine_timeout_s, device (cpu|cuda),
//               mode (invariant|fast)
//   [sandbox]   workers, timeout_s
//   [train]     dtype, steps, prompts_per_step, micro_batch, checkpoint_every, stop_at_step
//   [optim] [actor]   as in job_sections.h
//   [algorithm] advantage (grpo|dr_grpo|rloo), std_normalization (unbiased|population)
//   [eval]      prompts (held-out greedy accuracy before and after; 0 = off)
//   [report]    samples_per_step
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "config/config.h"
#include "jobs/job_sections.h"
#include "jobs/grpo_task.h"
#include "model/weights.h"
#include "numerics/cpu/logprob.h"
#include "trainer/advantages.h"
#include "trainer/policy_loss.h"
#include "trainer/trainer.h"

namespace lockstep::jobs {

// rollout.kv_memory_fraction's default on rollout.device = "cuda" (without rollout.kv_blocks).
// Below vLLM's 0.9 of total because it is of FREE memory per engine, engines may share a GPU,
// and a weight update briefly holds the old and the new model (each engine's pool is sized
// once; the new model's weights must fit beside it).
inline constexpr double kDefaultCudaKvMemoryFraction = 0.4;

struct GrpoRolloutOptions {
  int engines = 1;
  int samples_per_prompt = 8;  // the group size G
  int max_new_tokens = 8;
  SamplingParams sampling;
  uint64_t seed = 1;
  int max_staleness = 0;  // 0: strictly on-policy; 1: next step's rollouts overlap this update
  int max_batch = 64;     // running sequences per engine step
  int kv_blocks = 512;
  // In (0, 1): each engine's KV cache is this fraction of its device's free memory after
  // its first weights load (kv_blocks is then unused); 0: kv_blocks.
  double kv_memory_fraction = 0.0;
  std::string transport = "ipc";  // ipc | tcp
  int base_port = 0;              // tcp: engine i listens on base_port + i (0: pick free ports)
  double engine_timeout_s = 30.0;
  std::string device = "cpu";     // where the engines run: cpu | cuda (the trainer: cpu)
  std::string mode = "invariant"; // invariant | fast (fast is not batch-invariant on cuda)
};

struct GrpoOptions {
  ModelSpec model;            // [model]: where the initial weights come from
  ModelConfig architecture;   // the model's config (read from init_from's config.json)
  trainer::TrainerConfig trainer;
  trainer::PolicyLossConfig loss;
  trainer::AdvantageOptions advantage;  // [algorithm] advantage, std_normalization
  GrpoTaskOptions task;
  GrpoRolloutOptions rollout;
  int sandbox_workers = 2;
  double sandbox_timeout_s = 60.0;  // one reward batch; past it the batch counts as sandbox_error and is retried
  int64_t steps = 60;
  int prompts_per_step = 16;
  int64_t checkpoint_every = 20;
  int64_t stop_at_step = 0;  // checkpoint and stop there (preemptible slots); 0 = off
  int eval_prompts = 128;
  int report_samples_per_step = 4;
};

// Reads every key and checks the job can run (the model directory's config.json
// is read and matched against the task); builds no weights.
absl::StatusOr<GrpoOptions> ReadGrpoOptions(const config::Config& config);

}  // namespace lockstep::jobs
