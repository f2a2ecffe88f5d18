// `lockstep tokenize` end to end through the built binary: encode (plain and
// --json), --decode of both id formats, special tokens parsed or not, --chat
// with a real template, and exit code 2 with a message for a missing
// tokenizer, bad ids, unknown ids and unknown roles.
#include <filesystem>
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/driver/run_command.h"
#include "tests/model/gpt2_byte_symbol.h"

namespace lockstep::driver {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

const std::string kLockstep = std::string(LOCKSTEP_BINARY_DIR) + "/bin/lockstep";

using Result = testing::CommandResult;

// Runs `lockstep tokenize ARGS` with `input` on stdin; stderr joins stdout.
Result Tokenize(const std::string& args, const std::string& input, const fs::path& dir) {
  const fs::path in = dir / "stdin.txt";
  std::ofstream(in, std::ios::binary) << input;
  return testing::RunCommand(kLockstep + " tokenize " + args + " < " + in.string());
}

class TokenizeCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/lockstep_tokenize_cli_XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    // Bytes are ids 0..255; "he" 256, "ll" 257, "hell" 258, "hello" 259; <|im_start|> 300.
    nlohmann::json vocab = nlohmann::json::object();
    for (int b = 0; b < 256; ++b) vocab[testing_util::Gpt2ByteSymbol(b)] = b;
    vocab["he"] = 256;
    vocab["ll"] = 257;
    vocab["hell"] = 258;
    vocab["hello"] = 259;
    nlohmann::json byte_level = {{"type", "ByteLevel"},
                                 {"add_prefix_space", false},
                                 {"trim_offsets", false},
                                 {"use_regex", true}};
    nlohmann::json tokenizer = {
        {"added_tokens", {{{"id", 300}, {"content", "<|im_start|>"}, {"special", true}}}},
        {"normalizer", nullptr},
        {"pre_tokenizer", byte_level},
        {"decoder", byte_level},
        {"model",
         {{"type", "BPE"}, {"vocab", vocab}, {"merges", {"h e", "l l", "he ll", "hell o"}}}}};
    fs::create_directories(dir_ / "model");
    std::ofstream(dir_ / "model" / "tokenizer.json") << tokenizer.dump();
    tokenizer_ = (dir_ / "model" / "tokenizer.json").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
  std::string tokenizer_;
};

TEST_F(TokenizeCliTest, EncodesAndDecodes) {
  Result r = Tokenize("--tokenizer " + tokenizer_, "hello hi", dir_);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  // " hi" is byte-level: Ġ (id 32) h i.
  EXPECT_EQ(r.output, "259 32 104 105\n");

  r = Tokenize("--tokenizer " + (dir_ / "model").string() + " --json", "<|im_start|>hello", dir_);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(nlohmann::json::parse(r.output)["ids"], nlohmann::json({300, 259}));

  r = Tokenize("--tokenizer " + tokenizer_ + " --no-special", "<|im_start|>", dir_);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, ::testing::Not(HasSubstr("300")));

  r = Tokenize("--tokenizer " + tokenizer_ + " --decode", "300, 259 32 104 105\n", dir_);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output, "<|im_start|>hello hi");

  r = Tokenize("--tokenizer " + tokenizer_ + " --decode --json --skip-special", "[300, 259]", dir_);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(nlohmann::json::parse(r.output)["text"], "hello");
}

TEST_F(TokenizeCliTest, ErrorsExitTwoWithAMessage) {
  Result r = Tokenize("--tokenizer " + (dir_ / "absent.json").string(), "x", dir_);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.output, HasSubstr("absent.json"));

  r = Tokenize("--tokenizer " + tokenizer_ + " --decode", "12 abc", dir_);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.output, HasSubstr("'abc' is not a token id"));

  r = Tokenize("--tokenizer " + tokenizer_ + " --decode", "5 99999", dir_);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.output, HasSubstr("id 99999"));

  r = Tokenize("", "x", dir_);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.output, HasSubstr("--tokenizer"));
}

// With the real Qwen3 tokenizer (scripts/fetch-tokenizers.sh), known ids.
TEST_F(TokenizeCliTest, RealQwen3Tokenizer) {
  const fs::path qwen3 = fs::path(LOCKSTEP_SOURCE_DIR) / "data" / "tokenizers" / "qwen3";
  if (!fs::exists(qwen3 / "tokenizer.json")) {
    GTEST_SKIP() << "no " << qwen3 << "/tokenizer.json: run scripts/fetch-tokenizers.sh";
  }
  Result r = Tokenize("--tokenizer " + qwen3.string(), "<|im_start|>user\nHello world", dir_);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output, "151644 872 198 9707 1879\n");

  // --chat: the Qwen3 template (tokenizer_config.json, committed) then the ids.
  r = Tokenize("--tokenizer " + qwen3.string() + " --chat --json --no-thinking",
               R"([{"role": "user", "content": "Hello!"}])", dir_);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  const nlohmann::json out = nlohmann::json::parse(r.output);
  EXPECT_EQ(out["text"],
            "<|im_start|>user\nHello!<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n");
  EXPECT_EQ(out["ids"], nlohmann::json({151644, 872, 198, 9707, 0, 151645, 198, 151644, 77091, 198,
                                        151667, 271, 151668, 271}));
  r = Tokenize("--tokenizer " + qwen3.string() + " --chat",
               R"([{"role": "robot", "content": "x"}])", dir_);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.output, HasSubstr("'robot'"));
}

}  // namespace
}  // namespace lockstep::driver
