// Request parsing for the OpenAI-compatible endpoints (serve/openai_request.h).
#include "serve/openai_request.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "model/chat_template.h"

namespace lockstep::serve {
namespace {

using nlohmann::json;

// Present and not null.
bool Has(const json& body, const char* key) { return body.contains(key) && !body[key].is_null(); }

std::optional<ApiError> ReadNumber(const json& body, const char* key, double low, double high,
                                   double* out) {
  if (!Has(body, key)) return std::nullopt;
  if (!body[key].is_number()) return BadRequest(absl::StrCat("'", key, "' must be a number"), key);
  const double v = body[key].get<double>();
  if (!std::isfinite(v) || v < low || v > high) {
    return BadRequest(absl::StrCat("'", key, "' is ", v, "; it must be in [", low, ", ", high, "]"),
                      key);
  }
  *out = v;
  return std::nullopt;
}

std::optional<ApiError> ReadInt(const json& body, const char* key, int64_t low, int64_t high,
                                int64_t* out) {
  if (!Has(body, key)) return std::nullopt;
  if (!body[key].is_number_integer()) {
    return BadRequest(absl::StrCat("'", key, "' must be an integer"), key);
  }
  const int64_t v = body[key].get<int64_t>();
  if (v < low || v > high) {
    return BadRequest(absl::StrCat("'", key, "' is ", v, "; it must be in [", low, ", ", high, "]"),
                      key);
  }
  *out = v;
  return std::nullopt;
}

std::optional<ApiError> ReadBool(const json& body, const char* key, bool* out) {
  if (!Has(body, key)) return std::nullopt;
  if (!body[key].is_boolean()) return BadRequest(absl::StrCat("'", key, "' must be true or false"), key);
  *out = body[key].get<bool>();
  return std::nullopt;
}

// Fields with a meaning lockstep does not implement: refused unless they hold
// their no-op value, so no request is silently answered as something else.
std::optional<ApiError> RejectUnsupported(const json& body, int n) {
  for (const char* key : {"presence_penalty", "frequency_penalty"}) {
    if (Has(body, key) && !(body[key].is_number() && body[key].get<double>() == 0.0)) {
      return BadRequest(absl::StrCat("'", key, "' is not supported by lockstep serve (only 0)"), key);
    }
  }
  if (Has(body, "repetition_penalty") &&
      !(body["repetition_penalty"].is_number() && body["repetition_penalty"].get<double>() == 1.0)) {
    return BadRequest("'repetition_penalty' is not supported by lockstep serve (only 1)",
                      "repetition_penalty");
  }
  if (Has(body, "logit_bias") && !(body["logit_bias"].is_object() && body["logit_bias"].empty())) {
    return BadRequest("'logit_bias' is not supported by lockstep serve", "logit_bias");
  }
  if (Has(body, "echo") && !(body["echo"].is_boolean() && !body["echo"].get<bool>())) {
    return BadRequest("'echo' is not supported by lockstep serve", "echo");
  }
  if (Has(body, "suffix") && !(body["suffix"].is_string() && body["suffix"].get<std::string>().empty())) {
    return BadRequest("'suffix' is not supported by lockstep serve", "suffix");
  }
  if (Has(body, "best_of") &&
      !(body["best_of"].is_number_integer() &&
        (body["best_of"].get<int64_t>() == 1 || body["best_of"].get<int64_t>() == n))) {
    return BadRequest("'best_of' other than n is not supported by lockstep serve", "best_of");
  }
  if (Has(body, "tools") && !(body["tools"].is_array() && body["tools"].empty())) {
    return BadRequest("'tools' are not supported by lockstep serve", "tools");
  }
  if (Has(body, "response_format") &&
      !(body["response_format"].is_object() && body["response_format"].value("type", "") == "text")) {
    return BadRequest("'response_format' other than text is not supported by lockstep serve",
                      "response_format");
  }
  return std::nullopt;
}

// One prompt from a completions "prompt" item: a string or an array of ids.
std::optional<ApiError> PromptIds(const json& item, const ServedModel& model,
                                  std::vector<int32_t>* ids) {
  if (item.is_string()) {
    *ids = model.EncodePrompt(item.get<std::string>());
    return std::nullopt;
  }
  if (!item.is_array() || item.empty()) {
    return BadRequest("'prompt' must be a string, an array of token ids, or a list of either",
                      "prompt");
  }
  for (const json& id : item) {
    if (!id.is_number_integer()) {
      return BadRequest("'prompt' token arrays must hold integers", "prompt");
    }
    const int64_t v = id.get<int64_t>();
    if (v < 0 || v >= model.vocab_size()) {
      return BadRequest(absl::StrCat("'prompt' token id ", v, " is outside the vocabulary [0, ",
                                     model.vocab_size(), ")"),
                        "prompt");
    }
    ids->push_back(static_cast<int32_t>(v));
  }
  return std::nullopt;
}

std::optional<ApiError> CompletionPrompts(const json& body, const ServedModel& model,
                                          std::vector<std::vector<int32_t>>* prompts) {
  if (!body.contains("prompt")) return BadRequest("'prompt' is required", "prompt");
  const json& prompt = body["prompt"];
  // A list of prompts: strings, or arrays of ids (an array of integers is ONE prompt).
  const bool many = prompt.is_array() && !prompt.empty() &&
                    (prompt[0].is_string() || prompt[0].is_array());
  if (!many) {
    prompts->emplace_back();
    return PromptIds(prompt, model, &prompts->back());
  }
  for (const json& item : prompt) {
    prompts->emplace_back();
    if (auto error = PromptIds(item, model, &prompts->back())) return error;
  }
  return std::nullopt;
}

// "content": a string, or OpenAI's content parts [{"type": "text", "text": ...}].
std::optional<ApiError> NormalizeMessages(const json& messages, json* out) {
  if (!messages.is_array() || messages.empty()) {
    return BadRequest("'messages' must be a non-empty array of {role, content}", "messages");
  }
  *out = json::array();
  for (json m : messages) {
    if (m.is_object() && m.contains("content") && m["content"].is_array()) {
      std::string text;
      for (const json& part : m["content"]) {
        if (!part.is_object() || part.value("type", "") != "text" || !part.contains("text") ||
            !part["text"].is_string()) {
          return BadRequest("only text content parts are supported in 'messages'", "messages");
        }
        text += part["text"].get<std::string>();
      }
      m["content"] = text;
    }
    if (m.is_object() && m.contains("name")) m.erase("name");
    out->push_back(std::move(m));
  }
  return std::nullopt;
}

std::optional<ApiError> ChatPrompt(const json& body, const ServedModel& model,
                                   std::vector<int32_t>* ids) {
  if (!body.contains("messages")) return BadRequest("'messages' is required", "messages");
  json messages;
  if (auto error = NormalizeMessages(body["messages"], &messages)) return error;
  absl::StatusOr<std::vector<ChatMessage>> parsed = ChatTemplate::MessagesFromJson(messages);
  if (!parsed.ok()) return BadRequest(std::string(parsed.status().message()), "messages");
  ChatOptions options;
  if (auto error = ReadBool(body, "add_generation_prompt", &options.add_generation_prompt)) return error;
  if (Has(body, "chat_template_kwargs")) {
    const json& kwargs = body["chat_template_kwargs"];
    if (!kwargs.is_object()) return BadRequest("'chat_template_kwargs' must be an object", "chat_template_kwargs");
    bool thinking = true;
    if (kwargs.contains("enable_thinking")) {
      if (auto error = ReadBool(kwargs, "enable_thinking", &thinking)) return error;
      options.enable_thinking = thinking;
    }
  }
  absl::StatusOr<std::string> rendered = model.RenderChat(*parsed, options);
  if (!rendered.ok()) return BadRequest(std::string(rendered.status().message()), "messages");
  *ids = model.EncodeChat(*rendered);
  return std::nullopt;
}

std::optional<ApiError> ReadStop(const json& body, const ServedModel& model, CompletionRequest* r) {
  if (Has(body, "stop")) {
    const json& stop = body["stop"];
    std::vector<json> items;
    if (stop.is_string()) {
      items.push_back(stop);
    } else if (stop.is_array()) {
      items.assign(stop.begin(), stop.end());
    } else {
      return BadRequest("'stop' must be a string or an array of strings", "stop");
    }
    for (const json& s : items) {
      if (!s.is_string() || s.get<std::string>().empty()) {
        return BadRequest("'stop' entries must be non-empty strings", "stop");
      }
      r->stop.push_back(s.get<std::string>());
    }
    if (r->stop.size() > 16) return BadRequest("at most 16 'stop' strings", "stop");
  }
  r->stop_token_ids = model.stop_token_ids();
  bool ignore_eos = false;
  if (auto error = ReadBool(body, "ignore_eos", &ignore_eos)) return error;
  if (ignore_eos) r->stop_token_ids.clear();
  if (Has(body, "stop_token_ids")) {
    if (!body["stop_token_ids"].is_array()) {
      return BadRequest("'stop_token_ids' must be an array of token ids", "stop_token_ids");
    }
    for (const json& id : body["stop_token_ids"]) {
      if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() >= model.vocab_size()) {
        return BadRequest("'stop_token_ids' must hold token ids of the vocabulary", "stop_token_ids");
      }
      r->stop_token_ids.push_back(id.get<int32_t>());
    }
  }
  return std::nullopt;
}

std::optional<ApiError> ReadLogprobs(const json& body, bool chat, CompletionRequest* r) {
  if (chat) {
    if (auto error = ReadBool(body, "logprobs", &r->logprobs)) return error;
    int64_t top = 0;  // accepted; the alternatives are not computed (top_logprobs stays [])
    return ReadInt(body, "top_logprobs", 0, 20, &top);
  }
  // Completions: logprobs is the number of alternatives; 0 still returns the sampled tokens'.
  if (Has(body, "logprobs") && body["logprobs"].is_boolean()) {
    r->logprobs = body["logprobs"].get<bool>();
    return std::nullopt;
  }
  int64_t count = -1;
  if (auto error = ReadInt(body, "logprobs", 0, 20, &count)) return error;
  r->logprobs = count >= 0;
  return std::nullopt;
}

// max_tokens against the context and the KV cache, per prompt.
std::optional<ApiError> ReadMaxTokens(const json& body, bool chat, const ServedModel& model,
                                      const ServeLimits& limits, CompletionRequest* r) {
  const char* key = chat && Has(body, "max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
  int64_t requested = -1;
  if (auto error = ReadInt(body, key, 1, 1 << 30, &requested)) return error;
  int64_t capacity = model.max_positions();
  if (limits.kv_capacity_tokens > 0) capacity = std::min(capacity, limits.kv_capacity_tokens);
  const char* prompt_param = chat ? "messages" : "prompt";
  for (const std::vector<int32_t>& prompt : r->prompts) {
    const int64_t length = static_cast<int64_t>(prompt.size());
    if (length == 0) return BadRequest("the prompt is empty (no tokens)", prompt_param);
    const int64_t max_tokens = requested > 0 ? requested : capacity - length;
    if (length + std::max<int64_t>(max_tokens, 1) > capacity) {
      return BadRequest(
          absl::StrCat("This model's maximum context length is ", capacity, " tokens. However, you "
                       "requested ", length + max_tokens, " tokens (", length, " in the ",
                       prompt_param, ", ", max_tokens, " for the completion). Please reduce the "
                       "length of the ", prompt_param, " or the completion.",
                       capacity < model.max_positions()
                           ? absl::StrCat(" (", model.max_positions(), " positions, but the KV "
                                          "cache holds ", capacity, " tokens: lockstep serve "
                                          "--kv-blocks or --kv-memory-fraction)")
                           : ""),
          requested > 0 && length < capacity ? key : prompt_param, "context_length_exceeded");
    }
    r->max_tokens.push_back(static_cast<int>(max_tokens));
  }
  return std::nullopt;
}

}  // namespace

ParseResult ParseCompletionRequest(const json& body, bool chat, const ServedModel& model,
                                   const ServeLimits& limits) {
  if (!body.is_object()) return BadRequest("the request body must be a JSON object");
  if (Has(body, "model") &&
      !(body["model"].is_string() && body["model"].get<std::string>() == model.name())) {
    return ApiError{404,
                    absl::StrCat("The model `", body["model"].is_string() ? body["model"].get<std::string>()
                                                                           : body["model"].dump(),
                                 "` does not exist; this server serves `", model.name(), "`"),
                    "invalid_request_error", "model", "model_not_found"};
  }
  CompletionRequest r;
  r.chat = chat;
  int64_t n = 1;
  if (auto error = ReadInt(body, "n", 1, 1 << 30, &n)) return *error;
  if (n > limits.max_n) {
    return BadRequest(absl::StrCat("'n' is ", n, "; this server allows at most ", limits.max_n,
                                   " (lockstep serve --max-n)"),
                      "n");
  }
  r.n = static_cast<int>(n);
  if (auto error = RejectUnsupported(body, r.n)) return *error;

  double temperature = 1.0, top_p = 1.0;
  int64_t top_k = 0;
  if (auto error = ReadNumber(body, "temperature", 0.0, 2.0, &temperature)) return *error;
  if (auto error = ReadNumber(body, "top_p", 1e-9, 1.0, &top_p)) return *error;
  if (auto error = ReadInt(body, "top_k", -1, 1 << 30, &top_k)) return *error;
  r.sampling.temperature = static_cast<float>(temperature);
  r.sampling.top_p = static_cast<float>(top_p);
  r.sampling.top_k = top_k < 0 ? 0 : static_cast<int>(std::min<int64_t>(top_k, model.vocab_size()));
  if (absl::Status s = ValidateSamplingParams(r.sampling); !s.ok()) {
    return BadRequest(std::string(s.message()));
  }
  if (Has(body, "seed")) {
    if (!body["seed"].is_number_integer()) return BadRequest("'seed' must be an integer", "seed");
    r.seed = body["seed"].is_number_unsigned() ? body["seed"].get<uint64_t>()
                                               : static_cast<uint64_t>(body["seed"].get<int64_t>());
  }
  if (auto error = ReadBool(body, "stream", &r.stream)) return *error;
  if (Has(body, "stream_options")) {
    if (!body["stream_options"].is_object()) {
      return BadRequest("'stream_options' must be an object", "stream_options");
    }
    if (auto error = ReadBool(body["stream_options"], "include_usage", &r.include_usage)) return *error;
  }
  if (auto error = ReadLogprobs(body, chat, &r)) return *error;
  if (auto error = ReadStop(body, model, &r)) return *error;

  if (chat) {
    r.prompts.emplace_back();
    if (auto error = ChatPrompt(body, model, &r.prompts.back())) return *error;
  } else if (auto error = CompletionPrompts(body, model, &r.prompts)) {
    return *error;
  }
  if (static_cast<int64_t>(r.prompts.size()) * r.n > limits.max_sequences) {
    return BadRequest(absl::StrCat(r.prompts.size(), " prompts x n = ", r.n, " is more than the ",
                                   limits.max_sequences, " sequences one request may ask for"),
                      "prompt");
  }
  if (auto error = ReadMaxTokens(body, chat, model, limits, &r)) return *error;
  return r;
}

}  // namespace lockstep::serve
