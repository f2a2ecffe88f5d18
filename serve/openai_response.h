// The JSON bodies the OpenAI-compatible endpoints answer with: completion and
// chat completion objects, their streaming chunks, logprobs in the legacy
// completions format and the chat format, usage, and the SSE framing.
// Logprobs are those of the sampled tokens under the request's sampling
// distribution; alternatives are not computed (top_logprobs: null / []).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "serve/served_model.h"

namespace lockstep::serve {

// What is known of one choice: all its text and kept tokens so far.
struct ChoiceResult {
  std::string text;
  std::vector<int32_t> tokens;
  std::vector<float> logprobs;
  std::string finish_reason;  // "" while running
};

// Identifies one response and its chunks.
struct ResponseHeader {
  std::string id;       // cmpl-... / chatcmpl-...
  int64_t created = 0;  // unix seconds
  std::string model;
  bool chat = false;
};
ResponseHeader NewResponseHeader(const std::string& model, bool chat);

nlohmann::json UsageJson(int64_t prompt_tokens, int64_t completion_tokens);

// The legacy completions logprobs of `tokens`, offsets counted from `text_offset`.
nlohmann::json CompletionLogprobs(const ServedModel& model, const std::vector<int32_t>& tokens,
                                  const std::vector<float>& logprobs, int64_t text_offset);
// The chat logprobs object {"content": [{token, logprob, bytes, top_logprobs}]}.
nlohmann::json ChatLogprobs(const ServedModel& model, const std::vector<int32_t>& tokens,
                            const std::vector<float>& logprobs);

// The whole (non-streamed) response.
nlohmann::json FullResponse(const ResponseHeader& header, const ServedModel& model,
                            const std::vector<ChoiceResult>& choices, bool logprobs,
                            int64_t prompt_tokens);

// One streamed chunk holding `choices` (already built choice objects), or usage alone.
nlohmann::json Chunk(const ResponseHeader& header, nlohmann::json choices);

// "data: <json>\n\n" with invalid UTF-8 replaced (a choice cut mid-character).
std::string SseData(const nlohmann::json& body);
// The JSON text of a body, invalid UTF-8 replaced.
std::string JsonText(const nlohmann::json& body);

}  // namespace lockstep::serve
