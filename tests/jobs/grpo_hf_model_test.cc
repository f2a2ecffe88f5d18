// GRPO on an HF model directory (tokenizer.json): prompts are the HF tokenizer's
// ids (the post-processor's BOS for raw prompts, the rendered template's special
// tokens for chat, no character spelling), completions decode with it, and the
// config checks (vocabulary, context length) count that tokenizer's ids.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "config/config.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "jobs/grpo_options.h"
#include "jobs/grpo_task.h"
#include "model/chat_prompt.h"
#include "tests/model/tiny_hf_model.h"

namespace lockstep::jobs {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing_util::kTinyEndOfText;
using testing_util::kTinyImEnd;
using testing_util::kTinyImStart;

class GrpoHfModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::path(::testing::TempDir()) /
           ("lockstep_grpo_hf_" + std::string(info->name()) + "_" + std::to_string(getpid()));
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  absl::StatusOr<GrpoOptions> Read(const std::string& extra, int max_new_tokens = 4) const {
    auto c = config::Config::FromString("[model]\ninit_from = \"" + dir_.string() +
                                            "\"\n[rollout]\nmax_new_tokens = " +
                                            std::to_string(max_new_tokens) + "\n" + extra,
                                        "grpo.toml");
    EXPECT_TRUE(c.ok()) << c.status();
    return ReadGrpoOptions(*c);
  }

  fs::path dir_;
};

TEST_F(GrpoHfModelTest, RawPromptsAreTheHfIdsAfterTheBos) {
  testing_util::WriteTinyHfModelDir(dir_);
  auto options = Read("[task]\nseed = 5\n");
  ASSERT_TRUE(options.ok()) << options.status();
  ASSERT_NE(options->task.tokenizer, nullptr);
  EXPECT_FALSE(options->task.tokenizer->is_char());
  auto task = GrpoTask::Create(options->task, nullptr).value();
  for (uint64_t i : {0, 3, 17}) {
    const GrpoPrompt p = task->Prompt(i);
    std::vector<int32_t> expected{kTinyEndOfText};
    for (int32_t id : task->tokenizer().Encode(p.text)) expected.push_back(id);
    EXPECT_EQ(p.tokens, expected) << p.text;
    EXPECT_LT(p.tokens.size(), p.text.size() + 2);
  }
  // The newline and tokenizer_config.json's eos_token end a completion.
  const std::vector<int32_t> stop = task->StopTokens();
  EXPECT_NE(std::find(stop.begin(), stop.end(), '\n'), stop.end());
  EXPECT_NE(std::find(stop.begin(), stop.end(), kTinyImEnd), stop.end());
  EXPECT_EQ(task->CompletionText({256, kTinyImEnd}), "99");
  EXPECT_EQ(task->CompletionText({'4', '2', '\n', '7'}), "42");
}

TEST_F(GrpoHfModelTest, ChatPromptsEncodeTheTemplatesSpecialTokens) {
  testing_util::WriteTinyHfModelDir(dir_);
  auto options = Read("[task]\nseed = 5\nprompt_format = \"chat\"\nsystem_prompt = \"Add.\"\n");
  ASSERT_TRUE(options.ok()) << options.status();
  auto task = GrpoTask::Create(options->task, nullptr).value();
  const GrpoPrompt p = task->Prompt(2);
  EXPECT_THAT(p.text, HasSubstr("<|im_start|>system\nAdd.<|im_end|>"));
  EXPECT_EQ(p.tokens, task->tokenizer().Encode(p.text));
  ASSERT_FALSE(p.tokens.empty());
  EXPECT_EQ(p.tokens.front(), kTinyImStart);  // the template's marker, not "<", "|", ...
  EXPECT_EQ(std::count(p.tokens.begin(), p.tokens.end(), kTinyImStart), 3);
  EXPECT_EQ(std::count(p.tokens.begin(), p.tokens.end(), kTinyImEnd), 2);
}

TEST_F(GrpoHfModelTest, VocabularyMayExceedTheTokenizerButNotFallShort) {
  testing_util::WriteTinyHfModelDir(dir_, {.vocab_size = testing_util::kTinyTokenizerIds});
  EXPECT_TRUE(Read("").ok()) << Read("").status();
  fs::remove_all(dir_);
  testing_util::WriteTinyHfModelDir(dir_, {.vocab_size = 290});
  auto small = Read("");
  ASSERT_FALSE(small.ok());
  EXPECT_EQ(small.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(small.status().message()), HasSubstr("model.init_from"));
  EXPECT_THAT(std::string(small.status().message()), HasSubstr(dir_.string()));
  EXPECT_THAT(std::string(small.status().message()), HasSubstr("290"));
}

TEST_F(GrpoHfModelTest, CharModelOfAnotherVocabularyIsStillRefused) {
  testing_util::WriteTinyHfModelDir(dir_, {.chat_template = false});
  fs::remove(dir_ / "tokenizer.json");  // a 304-row model with the char tokenizer
  auto options = Read("");
  ASSERT_FALSE(options.ok());
  EXPECT_THAT(std::string(options.status().message()), HasSubstr("character tokenizer"));
}

TEST_F(GrpoHfModelTest, ContextLengthCountsTheTokenizersIds) {
  // Qwen2.5's template adds its default system prompt; as bytes plus the markers
  // the prompt is ~100 tokens, so 64 positions leave no room for 8 new tokens,
  // while a raw prompt (7 tokens) fits.
  testing_util::WriteTinyHfModelDir(dir_, {.max_positions = 64});
  auto raw = Read("", 8);
  EXPECT_TRUE(raw.ok()) << raw.status();
  auto chat = Read("[task]\nprompt_format = \"chat\"\n", 8);
  ASSERT_FALSE(chat.ok());
  EXPECT_THAT(std::string(chat.status().message()), HasSubstr("max_position_embeddings"));
}

TEST_F(GrpoHfModelTest, BrokenTokenizerIsAnErrorNamingKeyAndDirectory) {
  testing_util::WriteTinyHfModelDir(dir_);
  std::ofstream(dir_ / "tokenizer.json") << "{}";
  auto options = Read("");
  ASSERT_FALSE(options.ok());
  EXPECT_THAT(std::string(options.status().message()), HasSubstr("model.init_from"));
  EXPECT_THAT(std::string(options.status().message()), HasSubstr(dir_.string()));
}

}  // namespace
}  // namespace lockstep::jobs
