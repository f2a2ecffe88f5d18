// Task prompts given as chat messages (`prompt_format = "chat"` in GRPO and eval
// configs): a task's text becomes one user turn, after an optional system turn,
// rendered by the model directory's chat template with the generation prompt on,
// so the text is exactly what apply_chat_template gives for those messages.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "model/chat_template.h"

namespace lockstep {

class ChatPrompter {
 public:
  // Loads `model_dir`'s tokenizer_config.json chat template. `key` is the config
  // key that asked for chat prompts; a missing or unknown template is an
  // InvalidArgument error naming `key` and `model_dir`.
  static absl::StatusOr<ChatPrompter> ForModelDir(const std::string& model_dir,
                                                  const std::string& key,
                                                  std::string system_prompt);
  ChatPrompter(ChatTemplate chat_template, std::string system_prompt)
      : template_(std::move(chat_template)), system_prompt_(std::move(system_prompt)) {}

  // [system_prompt if non-empty, user: task_text], rendered with the generation prompt.
  absl::StatusOr<std::string> Render(const std::string& task_text) const;

  ChatTemplate::Family family() const { return template_.family(); }

 private:
  ChatTemplate template_;
  std::string system_prompt_;
};

}  // namespace lockstep
