// Response and chunk JSON of the OpenAI-compatible endpoints (serve/openai_response.h).
#include "serve/openai_response.h"

#include <atomic>
#include <chrono>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace lockstep::serve {

using nlohmann::json;

ResponseHeader NewResponseHeader(const std::string& model, bool chat) {
  static std::atomic<uint64_t> counter{0};
  static const uint64_t salt = std::random_device{}();
  ResponseHeader h;
  h.id = absl::StrCat(chat ? "chatcmpl-" : "cmpl-",
                      absl::StrFormat("%08x%08x", static_cast<uint32_t>(salt), counter++));
  h.created = std::chrono::duration_cast<std::chrono::seconds>(
                  std::chrono::system_clock::now().time_since_epoch())
                  .count();
  h.model = model;
  h.chat = chat;
  return h;
}

json UsageJson(int64_t prompt_tokens, int64_t completion_tokens) {
  return {{"prompt_tokens", prompt_tokens},
          {"completion_tokens", completion_tokens},
          {"total_tokens", prompt_tokens + completion_tokens}};
}

json CompletionLogprobs(const ServedModel& model, const std::vector<int32_t>& tokens,
                        const std::vector<float>& logprobs, int64_t text_offset) {
  json out = {{"tokens", json::array()},
              {"token_logprobs", json::array()},
              {"top_logprobs", nullptr},
              {"text_offset", json::array()}};
  for (size_t i = 0; i < tokens.size(); ++i) {
    out["tokens"].push_back(model.TokenText(tokens[i]));
    out["token_logprobs"].push_back(logprobs[i]);
    out["text_offset"].push_back(text_offset);
    text_offset += static_cast<int64_t>(model.DecodeOne(tokens[i]).size());
  }
  return out;
}

json ChatLogprobs(const ServedModel& model, const std::vector<int32_t>& tokens,
                  const std::vector<float>& logprobs) {
  json content = json::array();
  for (size_t i = 0; i < tokens.size(); ++i) {
    const std::string text = model.TokenText(tokens[i]);
    json bytes = json::array();
    for (unsigned char c : text) bytes.push_back(static_cast<int>(c));
    content.push_back(
        {{"token", text}, {"logprob", logprobs[i]}, {"bytes", bytes}, {"top_logprobs", json::array()}});
  }
  return {{"content", content}};
}

json FullResponse(const ResponseHeader& header, const ServedModel& model,
                  const std::vector<ChoiceResult>& choices, bool logprobs, int64_t prompt_tokens) {
  json out_choices = json::array();
  int64_t completion_tokens = 0;
  for (size_t i = 0; i < choices.size(); ++i) {
    const ChoiceResult& c = choices[i];
    completion_tokens += static_cast<int64_t>(c.tokens.size());
    json choice = {{"index", i}, {"finish_reason", c.finish_reason}};
    if (header.chat) {
      choice["message"] = {{"role", "assistant"}, {"content", c.text}};
      choice["logprobs"] = logprobs ? ChatLogprobs(model, c.tokens, c.logprobs) : json();
    } else {
      choice["text"] = c.text;
      choice["logprobs"] = logprobs ? CompletionLogprobs(model, c.tokens, c.logprobs, 0) : json();
    }
    out_choices.push_back(std::move(choice));
  }
  return {{"id", header.id},
          {"object", header.chat ? "chat.completion" : "text_completion"},
          {"created", header.created},
          {"model", header.model},
          {"choices", out_choices},
          {"usage", UsageJson(prompt_tokens, completion_tokens)}};
}

json Chunk(const ResponseHeader& header, json choices) {
  return {{"id", header.id},
          {"object", header.chat ? "chat.completion.chunk" : "text_completion"},
          {"created", header.created},
          {"model", header.model},
          {"choices", std::move(choices)}};
}

std::string JsonText(const json& body) {
  return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string SseData(const json& body) { return absl::StrCat("data: ", JsonText(body), "\n\n"); }

}  // namespace lockstep::serve
