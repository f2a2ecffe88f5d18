// Task prompts as chat messages: for every family, a task text (and optional
// system prompt) renders exactly as the chat-template reference fixtures
// (data/tokenizers/reference/chat_*.jsonl, apply_chat_template's output) for
// the same [system,] user conversation with the generation prompt; a model
// directory without a chat template, or with one lockstep does not know, is an
// error naming the config key and the directory.
#include "model/chat_prompt.h"

#include <filesystem>
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/model/temp_dir.h"

namespace lockstep {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::HasSubstr;

const fs::path kTokenizers = fs::path(LOCKSTEP_SOURCE_DIR) / "data" / "tokenizers";

class ChatPromptReference : public ::testing::TestWithParam<std::string> {};

TEST_P(ChatPromptReference, RendersAsTheFixtureConversation) {
  const std::string family = GetParam();
  std::ifstream in(kTokenizers / "reference" / ("chat_" + family + ".jsonl"));
  ASSERT_TRUE(in.good());
  std::string line;
  int checked = 0;
  while (std::getline(in, line)) {
    const nlohmann::json entry = nlohmann::json::parse(line);
    if (!entry["add_generation_prompt"].get<bool>() || entry.contains("enable_thinking")) continue;
    const nlohmann::json& messages = entry["messages"];
    std::string system;
    if (messages.size() == 2 && messages[0]["role"] == "system" && messages[1]["role"] == "user") {
      system = messages[0]["content"].get<std::string>();
    } else if (!(messages.size() == 1 && messages[0]["role"] == "user")) {
      continue;
    }
    absl::StatusOr<ChatPrompter> prompter =
        ChatPrompter::ForModelDir((kTokenizers / family).string(), "task.prompt_format", system);
    ASSERT_TRUE(prompter.ok()) << prompter.status();
    absl::StatusOr<std::string> text = prompter->Render(messages.back()["content"].get<std::string>());
    ASSERT_TRUE(text.ok()) << text.status();
    EXPECT_EQ(*text, entry["text"].get<std::string>()) << entry.dump();
    ++checked;
  }
  EXPECT_GE(checked, 3) << "fixture conversations of one user turn (with or without a system turn)";
}

INSTANTIATE_TEST_SUITE_P(Families, ChatPromptReference,
                         ::testing::Values("qwen3", "qwen2_5", "llama3"));

TEST(ChatPromptTest, NoOrUnknownTemplateNamesTheKeyAndTheDirectory) {
  testing_util::ScopedTempDir dir;
  const std::string model = (dir.path() / "model").string();
  fs::create_directories(model);
  auto missing = ChatPrompter::ForModelDir(model, "prompt.format", "");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(missing.status().message(),
              AllOf(HasSubstr("prompt.format = \"chat\""), HasSubstr(model), HasSubstr("\"raw\"")));

  std::ofstream(fs::path(model) / "tokenizer_config.json")
      << nlohmann::json{{"chat_template", "{{ messages[0].content }} (a template of its own)"}}.dump();
  auto unknown = ChatPrompter::ForModelDir(model, "task.prompt_format", "");
  ASSERT_FALSE(unknown.ok());
  EXPECT_THAT(unknown.status().message(),
              AllOf(HasSubstr("task.prompt_format"), HasSubstr(model),
                    HasSubstr("not one lockstep renders")));
}

}  // namespace
}  // namespace lockstep
