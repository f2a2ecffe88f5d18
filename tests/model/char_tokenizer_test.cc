#include "model/char_tokenizer.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace lockstep {
namespace {

TEST(CharTokenizerTest, AlphabetAndIds) {
  CharTokenizer tok;
  EXPECT_EQ(tok.vocab_size(), 4 + 95 + 1);
  // Ids are fixed: checkpoints trained with this tokenizer depend on them.
  EXPECT_EQ(tok.Encode(" "), std::vector<int32_t>{4});
  EXPECT_EQ(tok.Encode("~"), std::vector<int32_t>{98});
  EXPECT_EQ(tok.Encode("\n"), std::vector<int32_t>{99});
  EXPECT_EQ(tok.Encode("A"), std::vector<int32_t>{'A' - 32 + 4});
}

TEST(CharTokenizerTest, RoundTripOverTheWholeAlphabet) {
  CharTokenizer tok;
  std::string text;
  for (int c = 32; c <= 126; ++c) text.push_back(static_cast<char>(c));
  text += "\nlet x = 12;\n\tprint(x)\n";
  text.erase(text.find('\t'), 1);  // tab is not in the alphabet
  const std::vector<int32_t> ids = tok.Encode(text);
  ASSERT_EQ(ids.size(), text.size());
  for (int32_t id : ids) {
    EXPECT_GE(id, 4);
    EXPECT_LT(id, tok.vocab_size());
  }
  EXPECT_EQ(tok.Decode(ids), text);
  // Every id decodes to its TokenText and back.
  for (int32_t id = 4; id < tok.vocab_size(); ++id) {
    EXPECT_EQ(tok.Encode(tok.TokenText(id)), std::vector<int32_t>{id});
  }
}

TEST(CharTokenizerTest, UnknownCharactersAndSpecials) {
  CharTokenizer tok;
  // Tab, a control byte and the two bytes of "é" are outside the alphabet.
  EXPECT_EQ(tok.Encode("a\tb\x01\xC3\xA9"),
            (std::vector<int32_t>{tok.Encode("a")[0], CharTokenizer::kUnk, tok.Encode("b")[0],
                                  CharTokenizer::kUnk, CharTokenizer::kUnk, CharTokenizer::kUnk}));
  EXPECT_EQ(tok.Encode(""), std::vector<int32_t>{});
  std::vector<int32_t> ids = {CharTokenizer::kBos};
  for (int32_t id : tok.Encode("hi")) ids.push_back(id);
  ids.push_back(CharTokenizer::kPad);
  ids.push_back(CharTokenizer::kUnk);
  ids.push_back(CharTokenizer::kEos);
  ids.push_back(tok.vocab_size());  // beyond the alphabet (padded model vocab)
  ids.push_back(-1);
  EXPECT_EQ(tok.Decode(ids), "hi");
  EXPECT_EQ(tok.TokenText(CharTokenizer::kPad), "<pad>");
  EXPECT_EQ(tok.TokenText(CharTokenizer::kBos), "<bos>");
  EXPECT_EQ(tok.TokenText(CharTokenizer::kEos), "<eos>");
  EXPECT_EQ(tok.TokenText(CharTokenizer::kUnk), "<unk>");
  EXPECT_EQ(tok.TokenText(tok.vocab_size()), "<invalid:100>");
}

}  // namespace
}  // namespace lockstep
