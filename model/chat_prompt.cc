// Task text to a chat-rendered prompt (model/chat_prompt.h).
#include "model/chat_prompt.h"

#include <filesystem>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace lockstep {

absl::StatusOr<ChatPrompter> ChatPrompter::ForModelDir(const std::string& model_dir,
                                                       const std::string& key,
                                                       std::string system_prompt) {
  const std::string config = (std::filesystem::path(model_dir) / "tokenizer_config.json").string();
  absl::StatusOr<ChatTemplate> chat_template = ChatTemplate::FromFile(config);
  if (!chat_template.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        key, " = \"chat\" needs the chat template of model '", model_dir,
        "', and there is none lockstep can render: ", chat_template.status().message(),
        " (use ", key, " = \"raw\" to send the prompt text as it is)"));
  }
  return ChatPrompter(*std::move(chat_template), std::move(system_prompt));
}

absl::StatusOr<std::string> ChatPrompter::Render(const std::string& task_text) const {
  std::vector<ChatMessage> messages;
  auto add = [&messages](std::string role, const std::string& content) {
    ChatMessage message;
    message.role = std::move(role);
    message.content = content;
    messages.push_back(std::move(message));
  };
  if (!system_prompt_.empty()) add("system", system_prompt_);
  add("user", task_text);
  ChatOptions options;
  options.add_generation_prompt = true;
  return template_.Render(messages, options);
}

}  // namespace lockstep
