// Where `lockstep eval passk` gets its samples: the puzzle set's reference
// solutions, a JSONL file of completions made anywhere, lockstep's own rollout
// engine on a checkpoint directory, or an OpenAI-compatible HTTP endpoint.
// Every source returns samples in a fixed order (problem, language, sample
// index), so the same config gives the same sample list (the engine's sampling
// is keyed by seed, request and sample index; endpoints are as random as they are).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "rewards/passk_eval.h"
#include "rewards/problem_set.h"

namespace lockstep::driver {

// One fenced block per (problem, language) that has a solution.<ext>,
// model "reference". An empty `languages` means every language with a solution.
std::vector<rewards::EvalSample> ReferenceSamples(const rewards::ProblemSet& problems,
                                                  const std::vector<std::string>& languages);

// One JSON object per line: "problem", "language", "completion" (strings,
// required), "model" (optional; `default_model` otherwise). Blank lines are
// skipped; any other malformed line is an error naming FILE:LINE.
absl::StatusOr<std::vector<rewards::EvalSample>> ReadSamplesJsonl(const std::string& path,
                                                                  const std::string& default_model);

// Writes samples (with their results, when given) as JSONL.
absl::Status WriteSamplesJsonl(const std::string& path,
                               const std::vector<rewards::EvalSample>& samples,
                               const std::vector<rewards::RewardResult>* results);

// The prompt for one (problem, language): `prompt_template` with {statement},
// {language}, {problem} replaced.
std::string RenderPrompt(const std::string& prompt_template, const rewards::Problem& problem,
                         const std::string& language);

// Progress of sample generation: completions done of total.
using SampleProgress = std::function<void(int64_t done, int64_t total)>;

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
};

absl::StatusOr<std::vector<rewards::EvalSample>> EngineSamples(
    const EngineSourceOptions& options, const rewards::ProblemSet& problems,
    const std::vector<std::string>& languages, const std::string& prompt_template,
    int64_t progress_every, const SampleProgress& progress);

struct EndpointSourceOptions {
  std::string url;         // http://host:port/v1/completions (or .../chat/completions)
  std::string api = "completions";  // "completions": choices[].text; "chat": choices[].message.content
  std::string model;       // sent as "model"; also the report's column unless model_name
  std::string model_name;
  std::string api_key;     // sent as "Authorization: Bearer ..." when non-empty
  int64_t samples_per_prompt = 1;
  int64_t samples_per_request = 8;  // "n" of one request
  double temperature = 1.0;
  double top_p = 1.0;
  int64_t max_tokens = 1024;
  int64_t concurrency = 4;
  double timeout_s = 120;
  int64_t retries = 3;     // per request, on connection errors, 429 and 5xx
};

absl::StatusOr<std::vector<rewards::EvalSample>> EndpointSamples(
    const EndpointSourceOptions& options, const rewards::ProblemSet& problems,
    const std::vector<std::string>& languages, const std::string& prompt_template,
    int64_t progress_every, const SampleProgress& progress);

}  // namespace lockstep::driver
