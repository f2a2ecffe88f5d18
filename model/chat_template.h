// Chat templates of tokenizer_config.json for the families lockstep knows,
// rendered by a hand-written renderer per family that reproduces the Jinja
// template's output exactly (checked against @huggingface/jinja on
// data/tokenizers/reference/chat_*.jsonl). A template is recognised by the
// exact text (a 64-bit FNV-1a hash); any other template is refused by name,
// as are tool definitions and roles the template would silently drop.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace lockstep {

struct ChatMessage {
  std::string role;  // system, user, assistant, tool
  std::string content;
  std::optional<std::string> reasoning_content;  // Qwen3 assistant turns
};

struct ChatOptions {
  bool add_generation_prompt = true;
  std::optional<bool> enable_thinking;  // Qwen3: false appends an empty think block
};

class ChatTemplate {
 public:
  enum class Family {
    kQwen25,  // Qwen2.5 Instruct: default system prompt, ChatML
    kQwen3,   // Qwen3: ChatML, <think> handling of assistant turns
    kLlama3,  // Meta Llama-3 Instruct: header ids, trimmed content, prompt always added
  };

  // From tokenizer_config.json's "chat_template" (a string); `source` names the file in errors.
  static absl::StatusOr<ChatTemplate> FromTokenizerConfig(
      const nlohmann::json& config, const std::string& source = "tokenizer_config.json");
  // PATH is a tokenizer_config.json or a directory holding one.
  static absl::StatusOr<ChatTemplate> FromFile(const std::string& path);

  Family family() const { return family_; }
  // The text apply_chat_template(messages, tokenize=False, ...) gives.
  absl::StatusOr<std::string> Render(const std::vector<ChatMessage>& messages,
                                     const ChatOptions& options = {}) const;

  // Messages from a JSON array of {"role", "content"[, "reasoning_content"]}.
  static absl::StatusOr<std::vector<ChatMessage>> MessagesFromJson(const nlohmann::json& json);

 private:
  Family family_ = Family::kQwen3;
  std::string bos_token_;
};

}  // namespace lockstep
