// Samples from an OpenAI-compatible HTTP endpoint (/v1/completions or
// /v1/chat/completions), several requests in flight, retried on connection
// errors, 429 and 5xx. Samples come back in (problem, language, index) order.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "eval/prompts.h"
#include "rewards/passk_eval.h"
#include "rewards/problem_set.h"

namespace lockstep::eval {

struct EndpointSourceOptions {
  std::string url;         // http[s]://host:port/v1/completions (or .../chat/completions)
  std::string ca_file;     // https: PEM of the CA to trust; empty: the system's CA store
  std::string api = "completions";  // "completions": choices[].text; "chat": choices[].message.content
  std::string system_prompt;  // api "chat": a system message before the user's (empty: none)
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

}  // namespace lockstep::eval
