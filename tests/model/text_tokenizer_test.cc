// The model directory's tokenizer: tokenizer.json -> HF (post-processor BOS,
// eos ids from generation_config.json over tokenizer_config.json), else the
// char tokenizer exactly as the char jobs use it; errors name the file.
#include "model/text_tokenizer.h"

#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/hf_tokenizer.h"
#include "tests/model/temp_dir.h"
#include "tests/model/tiny_hf_model.h"

namespace lockstep {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing_util::kTinyEndOfText;
using testing_util::kTinyImEnd;
using testing_util::kTinyImStart;
using testing_util::ScopedTempDir;

TEST(TextTokenizerTest, DirectoryWithoutTokenizerJsonIsTheCharTokenizer) {
  ScopedTempDir dir;
  auto tokenizer = LoadModelDirTokenizer(dir.path().string());
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  const TextTokenizer& t = **tokenizer;
  const CharTokenizer chars;
  EXPECT_TRUE(t.is_char());
  EXPECT_EQ(t.vocab_size(), chars.vocab_size());
  std::vector<int32_t> expected{CharTokenizer::kBos};
  for (int32_t id : chars.Encode("17+25=")) expected.push_back(id);
  EXPECT_EQ(t.EncodePrompt("17+25="), expected);
  EXPECT_EQ(t.EncodeChat("17+25="), expected);  // char models always saw <bos> first
  EXPECT_THAT(t.eos_ids(), ElementsAre(CharTokenizer::kEos));
  std::vector<int32_t> generated = chars.Encode("42");
  generated.push_back(CharTokenizer::kEos);
  EXPECT_EQ(t.Decode(generated), "42");
}

TEST(TextTokenizerTest, HfDirectoryUsesTokenizerJsonAndItsBos) {
  ScopedTempDir dir;
  testing_util::WriteTinyHfModelDir(dir.path());  // no generation_config.json
  auto tokenizer = LoadModelDirTokenizer(dir.path().string());
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  const TextTokenizer& t = **tokenizer;
  EXPECT_FALSE(t.is_char());
  EXPECT_EQ(t.vocab_size(), testing_util::kTinyTokenizerIds);
  EXPECT_THAT(t.source(), HasSubstr("tokenizer.json"));
  // "99" and "12" are merges; the post-processor puts <|endoftext|> first.
  EXPECT_THAT(t.EncodePrompt("99+12="), ElementsAre(kTinyEndOfText, 256, '+', 257, '='));
  // A rendered chat: its markers are the special tokens, nothing is added.
  EXPECT_THAT(t.EncodeChat("<|im_start|>user\n1<|im_end|>"),
              ElementsAre(kTinyImStart, 'u', 's', 'e', 'r', '\n', '1', kTinyImEnd));
  // tokenizer_config.json's eos_token.
  EXPECT_THAT(t.eos_ids(), ElementsAre(kTinyImEnd));
  EXPECT_EQ(t.Decode({'4', '2', kTinyImEnd}), "42");
}

TEST(TextTokenizerTest, GenerationConfigEosIdsTakePrecedence) {
  ScopedTempDir dir;
  testing_util::WriteTinyHfModelDir(dir.path(), {.generation_eos = {kTinyEndOfText, kTinyImEnd}});
  auto tokenizer = LoadModelDirTokenizer(dir.path().string());
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  EXPECT_THAT((*tokenizer)->eos_ids(), ElementsAre(kTinyEndOfText, kTinyImEnd));
}

TEST(TextTokenizerTest, NoPostProcessorMeansNoBos) {
  ScopedTempDir dir;
  testing_util::WriteTinyHfModelDir(dir.path(), {.with_bos = false, .chat_template = false});
  auto tokenizer = LoadModelDirTokenizer(dir.path().string());
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  EXPECT_THAT((*tokenizer)->EncodePrompt("1+1="), ElementsAre('1', '+', '1', '='));
  EXPECT_TRUE((*tokenizer)->eos_ids().empty());  // nothing names one
}

TEST(TextTokenizerTest, BrokenTokenizerJsonIsAnErrorNamingTheFile) {
  ScopedTempDir dir;
  std::ofstream(dir.File("tokenizer.json")) << "{ not json";
  auto tokenizer = LoadModelDirTokenizer(dir.path().string());
  ASSERT_FALSE(tokenizer.ok());
  EXPECT_THAT(std::string(tokenizer.status().message()), HasSubstr(dir.File("tokenizer.json")));
}

TEST(TextTokenizerTest, PostProcessorIdsInsideASequence) {
  const nlohmann::json llama3 = {
      {"type", "Sequence"},
      {"processors",
       {{{"type", "ByteLevel"}},
        {{"type", "TemplateProcessing"},
         {"single", {{{"SpecialToken", {{"id", "<s>"}}}}, {{"Sequence", {{"id", "A"}}}},
                     {{"SpecialToken", {{"id", "</s>"}}}}}},
         {"special_tokens", {{"<s>", {{"ids", {7}}}}, {"</s>", {{"ids", {8}}}}}}}}}};
  std::vector<int32_t> prefix, suffix;
  PostProcessorIds(llama3, prefix, suffix);
  EXPECT_THAT(prefix, ElementsAre(7));
  EXPECT_THAT(suffix, ElementsAre(8));
}

}  // namespace
}  // namespace lockstep
