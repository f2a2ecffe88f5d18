#include "model/hf_tokenizer.h"

#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/model/temp_dir.h"

namespace lockstep {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing_util::ScopedTempDir;

// GPT-2's byte-to-character map, written out independently of the library:
// printable Latin-1 bytes are themselves, the rest U+0100.. in byte order.
std::string ByteSymbol(int b) {
  static std::vector<std::string> table = [] {
    std::vector<std::string> t(256);
    int next = 256;
    for (int x = 0; x < 256; ++x) {
      const bool printable = (x >= 33 && x <= 126) || (x >= 161 && x <= 172) || x >= 174;
      const int cp = printable ? x : next++;
      std::string s;
      if (cp < 0x80) {
        s.push_back(static_cast<char>(cp));
      } else {
        s.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
      }
      t[x] = s;
    }
    return t;
  }();
  return table[b];
}

const char kQwen2Regex[] =
    R"re((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re";
const char kLlama3Regex[] =
    R"re((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re";

// A tokenizer.json: the 256 byte tokens (id = byte), then one token per merge
// (ids 256..), then added tokens at 300.. . `merges` are in byte-level spelling.
nlohmann::json MakeTokenizerJson(const std::vector<std::pair<std::string, std::string>>& merges,
                                 const std::string& split_regex = "") {
  nlohmann::json vocab = nlohmann::json::object();
  for (int b = 0; b < 256; ++b) vocab[ByteSymbol(b)] = b;
  nlohmann::json merge_list = nlohmann::json::array();
  int next = 256;
  for (const auto& [l, r] : merges) {
    if (!vocab.contains(l + r)) vocab[l + r] = next++;
    merge_list.push_back(l + " " + r);
  }
  nlohmann::json byte_level = {{"type", "ByteLevel"},
                               {"add_prefix_space", false},
                               {"trim_offsets", false},
                               {"use_regex", split_regex.empty()}};
  nlohmann::json pre = byte_level;
  if (!split_regex.empty()) {
    nlohmann::json split = {{"type", "Split"},
                            {"pattern", {{"Regex", split_regex}}},
                            {"behavior", "Isolated"},
                            {"invert", false}};
    pre = {{"type", "Sequence"}, {"pretokenizers", nlohmann::json::array({split, byte_level})}};
  }
  return {{"version", "1.0"},
          {"added_tokens",
           {{{"id", 300}, {"content", "<|endoftext|>"}, {"special", true}},
            {{"id", 301}, {"content", "<|im_start|>"}, {"special", true}},
            {{"id", 302}, {"content", "<|im"}, {"special", false}}}},
          {"normalizer", split_regex.empty() ? nlohmann::json() : nlohmann::json{{"type", "NFC"}}},
          {"pre_tokenizer", pre},
          {"decoder", byte_level},
          {"model",
           {{"type", "BPE"},
            {"dropout", nullptr},
            {"unk_token", nullptr},
            {"continuing_subword_prefix", ""},
            {"end_of_word_suffix", ""},
            {"fuse_unk", false},
            {"byte_fallback", false},
            {"vocab", vocab},
            {"merges", merge_list}}}};
}

const std::vector<std::pair<std::string, std::string>> kHelloMerges = {
    {"h", "e"}, {"l", "l"}, {"he", "ll"}, {"hell", "o"},
    {"Ġ", "w"}, {"o", "r"}, {"Ġw", "or"}, {"l", "d"}};

HfTokenizer Load(const nlohmann::json& j) {
  absl::StatusOr<HfTokenizer> t = HfTokenizer::FromJson(j, "test/tokenizer.json");
  EXPECT_TRUE(t.ok()) << t.status();
  return t.ok() ? std::move(*t) : HfTokenizer();
}

TEST(HfTokenizerTest, BpeAppliesMergesByRank) {
  const HfTokenizer tok = Load(MakeTokenizerJson(kHelloMerges));
  const int32_t hello = tok.TokenId("hello"), wor = tok.TokenId("Ġwor"), ld = tok.TokenId("ld");
  ASSERT_GE(hello, 256);
  EXPECT_THAT(tok.Encode("hello world"), ElementsAre(hello, wor, ld));
  EXPECT_EQ(tok.Decode(tok.Encode("hello world")), "hello world");
  // Every occurrence of the best pair merges: "llll" -> ll ll.
  EXPECT_THAT(tok.Encode("llll"), ElementsAre(tok.TokenId("ll"), tok.TokenId("ll")));
  // No merges apply: plain bytes.
  EXPECT_THAT(tok.Encode("xyz"), ElementsAre('x', 'y', 'z'));
  EXPECT_EQ(tok.TokenText(hello), "hello");
  EXPECT_EQ(tok.TokenText(' '), "Ġ");
  EXPECT_EQ(tok.vocab_size(), 303);

  // Rank, not listing position in the word, decides: "abc" splits as a|bc or ab|c.
  const HfTokenizer bc_first = Load(MakeTokenizerJson({{"b", "c"}, {"a", "b"}}));
  EXPECT_THAT(bc_first.Encode("abc"), ElementsAre('a', bc_first.TokenId("bc")));
  const HfTokenizer ab_first = Load(MakeTokenizerJson({{"a", "b"}, {"b", "c"}}));
  EXPECT_THAT(ab_first.Encode("abc"), ElementsAre(ab_first.TokenId("ab"), 'c'));
}

TEST(HfTokenizerTest, AddedTokens) {
  const HfTokenizer tok = Load(MakeTokenizerJson(kHelloMerges));
  const std::string text = "<|im_start|>hello<|endoftext|><|im";
  const std::vector<int32_t> ids = tok.Encode(text);
  EXPECT_THAT(ids, ElementsAre(301, tok.TokenId("hello"), 300, 302));
  EXPECT_EQ(tok.Decode(ids), text);
  EXPECT_EQ(tok.Decode(ids, /*skip_special=*/true), "hello<|im");
  // Not parsed: the markup is ordinary text and still round-trips.
  const std::vector<int32_t> plain = tok.Encode(text, /*parse_special=*/false);
  for (int32_t id : plain) EXPECT_LT(id, 300);
  EXPECT_EQ(tok.Decode(plain), text);
  // Unused and out-of-range ids decode to nothing.
  EXPECT_EQ(tok.Decode({299, -4, 5000, 'a'}), "a");
}

TEST(HfTokenizerTest, Gpt2PreTokenizerOnAscii) {
  const HfTokenizer tok = Load(MakeTokenizerJson(kHelloMerges));
  EXPECT_EQ(tok.pre_tokenizer(), HfTokenizer::PreTokenizer::kGpt2);
  EXPECT_THAT(tok.PreTokenize("Hello, world! It's  2024\n\n ok"),
              ElementsAre("Hello", ",", " world", "!", " It", "'s", " ", " 2024", "\n\n", " ok"));
  // Contractions are case-sensitive in GPT-2's regex.
  EXPECT_THAT(tok.PreTokenize("IT'S we'll"), ElementsAre("IT", "'", "S", " we", "'ll"));
  EXPECT_THAT(tok.PreTokenize("a \t\nb  "), ElementsAre("a", " \t", "\n", "b", "  "));
  EXPECT_THAT(tok.PreTokenize("x=1+2;"), ElementsAre("x", "=", "1", "+", "2", ";"));
}

TEST(HfTokenizerTest, QwenAndLlama3PreTokenizersOnAscii) {
  const HfTokenizer qwen = Load(MakeTokenizerJson(kHelloMerges, kQwen2Regex));
  EXPECT_EQ(qwen.pre_tokenizer(), HfTokenizer::PreTokenizer::kQwen2);
  EXPECT_THAT(qwen.PreTokenize("Hello, world! It's  2024\n\n ok"),
              ElementsAre("Hello", ",", " world", "!", " It", "'s", " ", " ", "2", "0", "2", "4",
                          "\n\n", " ok"));
  EXPECT_THAT(qwen.PreTokenize("IT'S x.Foo ;;\n\nz"),
              ElementsAre("IT", "'S", " x", ".Foo", " ;;\n\n", "z"));
  EXPECT_THAT(qwen.PreTokenize("a  \n  b"), ElementsAre("a", "  \n", " ", " b"));

  const HfTokenizer llama3 = Load(MakeTokenizerJson(kHelloMerges, kLlama3Regex));
  EXPECT_EQ(llama3.pre_tokenizer(), HfTokenizer::PreTokenizer::kLlama3);
  EXPECT_THAT(llama3.PreTokenize("v12345 6"), ElementsAre("v", "123", "45", " ", "6"));
}

TEST(HfTokenizerTest, NonAsciiPreTokenization) {
  const HfTokenizer tok = Load(MakeTokenizerJson(kHelloMerges));
  EXPECT_THAT(tok.PreTokenize("héllo wörld"), ElementsAre("héllo", " wörld"));
  EXPECT_THAT(tok.PreTokenize("你好，世界"), ElementsAre("你好", "，", "世界"));
  EXPECT_THAT(tok.PreTokenize("🙂🙂 ok — done"),
              ElementsAre("🙂🙂", " ok", " —", " done"));
}

TEST(HfTokenizerTest, RoundTripOnUtf8AndArbitraryBytes) {
  for (const char* regex : {"", kQwen2Regex, kLlama3Regex}) {
    const HfTokenizer tok = Load(MakeTokenizerJson(kHelloMerges, regex));
    SCOPED_TRACE(static_cast<int>(tok.pre_tokenizer()));
    for (const std::string& text :
         {std::string("hello world, hello\tWORLD's 3.14159\r\n\r\n  end  "),
          std::string("héllo wörld — 你好 🙂\n\tΩmega ½ ２０２４"), std::string(""),
          std::string("\xff\xfe bad \xc3 utf8 \xe2\x82"), std::string(1, '\0')}) {
      EXPECT_EQ(tok.Decode(tok.Encode(text)), text);  // all already in NFC
    }
    std::mt19937 gen(17);
    for (int n = 0; n < 200; ++n) {
      std::string text(gen() % 40, '\0');
      for (char& c : text) c = static_cast<char>(gen());
      // NFC may rewrite a valid character (U+0340 -> U+0300); nothing else changes.
      const std::string normalized = tok.Normalize(text);
      ASSERT_EQ(tok.Decode(tok.Encode(text)), normalized);
      // Pre-tokenization loses nothing either.
      std::string joined;
      for (const std::string& w : tok.PreTokenize(text)) joined += w;
      ASSERT_EQ(joined, normalized);
    }
  }
}

TEST(HfTokenizerTest, FromFileAndMergesAsPairs) {
  ScopedTempDir dir;
  nlohmann::json j = MakeTokenizerJson(kHelloMerges);
  // Newer tokenizer.json files store merges as [left, right] pairs.
  nlohmann::json pairs = nlohmann::json::array();
  for (const auto& [l, r] : kHelloMerges) pairs.push_back({l, r});
  j["model"]["merges"] = pairs;
  const std::string path = dir.File("tokenizer.json");
  std::ofstream(path) << j.dump();
  absl::StatusOr<HfTokenizer> tok = HfTokenizer::FromFile(path);
  ASSERT_TRUE(tok.ok()) << tok.status();
  EXPECT_THAT(tok->Encode("hello"), ElementsAre(tok->TokenId("hello")));

  std::ofstream(path) << "{ not json";
  EXPECT_THAT(HfTokenizer::FromFile(path).status().message(),
              AllOf(HasSubstr(path), HasSubstr("JSON")));
  EXPECT_EQ(HfTokenizer::FromFile(dir.File("absent.json")).status().code(),
            absl::StatusCode::kNotFound);
}

TEST(HfTokenizerTest, RejectsTokenizersItCannotReproduce) {
  auto error = [](const nlohmann::json& j) {
    absl::StatusOr<HfTokenizer> t = HfTokenizer::FromJson(j, "test/tokenizer.json");
    EXPECT_FALSE(t.ok());
    return t.ok() ? std::string() : std::string(t.status().message());
  };
  nlohmann::json j = MakeTokenizerJson(kHelloMerges);
  j["model"]["vocab"].erase(ByteSymbol(0));
  EXPECT_THAT(error(j), AllOf(HasSubstr("test/tokenizer.json"), HasSubstr("byte 0")));

  j = MakeTokenizerJson(kHelloMerges);
  j["model"]["merges"].push_back("he zz");
  EXPECT_THAT(error(j), AllOf(HasSubstr("model.merges[8]"), HasSubstr("'zz'")));

  j = MakeTokenizerJson(kHelloMerges);
  j["model"]["type"] = "WordPiece";
  EXPECT_THAT(error(j), HasSubstr("WordPiece"));

  j = MakeTokenizerJson(kHelloMerges);
  j["pre_tokenizer"] = {{"type", "Metaspace"}};
  EXPECT_THAT(error(j), HasSubstr("Metaspace"));

  j = MakeTokenizerJson(kHelloMerges, R"((\w+|\s+)");
  EXPECT_THAT(error(j), AllOf(HasSubstr(R"((\w+|\s+)"), HasSubstr("does not compile")));

  j = MakeTokenizerJson(kHelloMerges);
  j["model"]["byte_fallback"] = true;
  EXPECT_THAT(error(j), HasSubstr("byte fallback"));

  j = MakeTokenizerJson(kHelloMerges);
  j["added_tokens"].push_back({{"id", 'a'}, {"content", "<x>"}});
  EXPECT_THAT(error(j), AllOf(HasSubstr("<x>"), HasSubstr("'a'")));

  j = MakeTokenizerJson(kHelloMerges);
  j["model"]["vocab"]["dup"] = 5;
  EXPECT_THAT(error(j), AllOf(HasSubstr("id 5"), HasSubstr("dup")));
}

}  // namespace
}  // namespace lockstep
