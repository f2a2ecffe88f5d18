// Chat templates against @huggingface/jinja's rendering of the real templates
// (data/tokenizers/reference/chat_*.jsonl, scripts/chat-template-reference.mjs):
// rendered text identical for every conversation and option set, and, when
// the tokenizer.json is present, identical ids. Unknown templates, roles and
// tool calls are refused with a message naming them.
#include "model/chat_template.h"

#include <filesystem>
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/hf_tokenizer.h"

namespace lockstep {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::HasSubstr;

const fs::path kTokenizers = fs::path(LOCKSTEP_SOURCE_DIR) / "data" / "tokenizers";

class ChatReference : public ::testing::TestWithParam<std::string> {};

TEST_P(ChatReference, RendersExactlyAsJinja) {
  const std::string name = GetParam();
  absl::StatusOr<ChatTemplate> tmpl = ChatTemplate::FromFile((kTokenizers / name).string());
  ASSERT_TRUE(tmpl.ok()) << tmpl.status();
  std::optional<HfTokenizer> tok;
  if (fs::exists(kTokenizers / name / "tokenizer.json")) {
    auto loaded = HfTokenizer::FromFile((kTokenizers / name / "tokenizer.json").string());
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    tok = std::move(*loaded);
  }
  std::ifstream in(kTokenizers / "reference" / ("chat_" + name + ".jsonl"));
  std::string line;
  int renders = 0;
  while (std::getline(in, line)) {
    const nlohmann::json entry = nlohmann::json::parse(line);
    auto messages = ChatTemplate::MessagesFromJson(entry["messages"]);
    ASSERT_TRUE(messages.ok()) << messages.status();
    ChatOptions options;
    options.add_generation_prompt = entry["add_generation_prompt"].get<bool>();
    if (entry.contains("enable_thinking"))
      options.enable_thinking = entry["enable_thinking"].get<bool>();
    absl::StatusOr<std::string> text = tmpl->Render(*messages, options);
    ASSERT_TRUE(text.ok()) << text.status();
    EXPECT_EQ(*text, entry["text"].get<std::string>()) << entry.dump();
    if (tok.has_value()) {
      EXPECT_EQ(tok->Encode(*text), entry["ids"].get<std::vector<int32_t>>()) << entry.dump();
    }
    ++renders;
  }
  EXPECT_EQ(renders, 44);
  if (!tok.has_value()) std::cout << name << ": ids not checked (no tokenizer.json)\n";
}

INSTANTIATE_TEST_SUITE_P(Templates, ChatReference, ::testing::Values("qwen3", "qwen2_5", "llama3"));

TEST(ChatTemplateTest, FamiliesAreRecognised) {
  EXPECT_EQ(ChatTemplate::FromFile((kTokenizers / "qwen3").string())->family(),
            ChatTemplate::Family::kQwen3);
  EXPECT_EQ(ChatTemplate::FromFile((kTokenizers / "qwen2_5").string())->family(),
            ChatTemplate::Family::kQwen25);
  EXPECT_EQ(ChatTemplate::FromFile((kTokenizers / "llama3").string())->family(),
            ChatTemplate::Family::kLlama3);
}

TEST(ChatTemplateTest, RefusesWhatItCannotRenderExactly) {
  nlohmann::json config = {{"chat_template", "{{ messages[0].content }} (edited)"}};
  EXPECT_THAT(
      ChatTemplate::FromTokenizerConfig(config, "m/tokenizer_config.json").status().message(),
      AllOf(HasSubstr("m/tokenizer_config.json"), HasSubstr("not one lockstep renders")));
  EXPECT_THAT(ChatTemplate::FromTokenizerConfig(nlohmann::json::object()).status().message(),
              HasSubstr("chat_template"));

  auto tmpl = ChatTemplate::FromFile((kTokenizers / "qwen3").string());
  ASSERT_TRUE(tmpl.ok());
  EXPECT_THAT(tmpl->Render({{"developer", "x", std::nullopt}}).status().message(),
              AllOf(HasSubstr("'developer'"), HasSubstr("drop")));
  EXPECT_FALSE(tmpl->Render({}).ok());
  auto with_tools = ChatTemplate::MessagesFromJson(nlohmann::json::parse(
      R"([{"role": "assistant", "content": "", "tool_calls": [{"name": "f"}]}])"));
  EXPECT_THAT(with_tools.status().message(), HasSubstr("tool_calls"));
}

}  // namespace
}  // namespace lockstep
