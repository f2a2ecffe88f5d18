// Parsing and validating the bodies of POST /v1/completions and
// /v1/chat/completions into what the engine runs: token prompts, n, sampling,
// max_tokens, stop strings and ids, seed, logprobs, stream. Every rejection is
// an ApiError naming the field (4xx), decided before anything is generated.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "nlohmann/json.hpp"
#include "numerics/sampling_params.h"
#include "serve/api_error.h"
#include "serve/served_model.h"

namespace lockstep::serve {

struct ServeLimits {
  int max_n = 64;                   // n per request
  int max_sequences = 256;          // prompts x n per request
  int64_t kv_capacity_tokens = 0;   // prompt + max_tokens of one sequence must fit (0: no check)
};

struct CompletionRequest {
  bool chat = false;
  std::vector<std::vector<int32_t>> prompts;  // one for chat
  std::vector<int> max_tokens;                // per prompt
  int n = 1;
  SamplingParams sampling;
  std::vector<std::string> stop;          // stop strings, trimmed from the text
  std::vector<int32_t> stop_token_ids;    // the model's eos ids + the request's stop_token_ids
  std::optional<uint64_t> seed;
  bool logprobs = false;                  // return the sampled tokens' logprobs
  bool stream = false;
  bool include_usage = false;             // stream_options.include_usage
};

using ParseResult = std::variant<CompletionRequest, ApiError>;

// `chat` selects the chat body (messages) over the completions body (prompt).
ParseResult ParseCompletionRequest(const nlohmann::json& body, bool chat, const ServedModel& model,
                                   const ServeLimits& limits);

}  // namespace lockstep::serve
