// Samples from lockstep's own rollout engine on a checkpoint directory (HF
// layout). Sampling is keyed by engine.seed, request and sample index, so the
// same config gives the same samples.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "eval/prompts.h"
#include "model/chat_prompt.h"
#include "rewards/passk_eval.h"
#include "rewards/problem_set.h"

namespace lockstep::eval {

struct EngineSourceOptions {
  std::string model_dir;   // HF layout (config.json + model.safetensors [+ tokenizer.json])
  std::string model_name;  // the report's column; empty: the directory's name
  std::string dtype = "bf16";
  int64_t samples_per_prompt = 1;
  double temperature = 1.0;
  double top_p = 1.0;
  int64_t max_tokens = 256;
  uint64_t seed = 0;
  int64_t max_batch_sequences = 32;
  std::vector<std::string> stop_tokens;  // tokenizer.json spellings; <eos> for the char tokenizer
  // prompt.format = "chat": each prompt is a user turn rendered by the model's chat
  // template (ReadPassKOptions loads it); unset: the prompt text as it is.
  std::optional<ChatPrompter> chat;
};

absl::StatusOr<std::vector<rewards::EvalSample>> EngineSamples(
    const EngineSourceOptions& options, const rewards::ProblemSet& problems,
    const std::vector<std::string>& languages, const std::string& prompt_template,
    int64_t progress_every, const SampleProgress& progress);

}  // namespace lockstep::eval
