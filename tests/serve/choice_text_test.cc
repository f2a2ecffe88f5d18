// serve/choice_text.h on a byte-per-token decoder: stop strings cut the text
// (earliest stop wins, the completing token is the last kept), deltas hold
// back what could still become a stop string or half a UTF-8 character, and
// the deltas always add up to the final text.
#include "serve/choice_text.h"

#include "gtest/gtest.h"

namespace lockstep::serve {
namespace {

std::string Bytes(const std::vector<int32_t>& ids) {
  std::string s;
  for (int32_t id : ids) s.push_back(static_cast<char>(id));
  return s;
}

std::vector<int32_t> Ids(const std::string& text) {
  std::vector<int32_t> ids;
  for (char c : text) ids.push_back(static_cast<unsigned char>(c));
  return ids;
}

TEST(ChoiceTextTest, WithoutStopsEverythingIsSentAtOnce) {
  ChoiceText text(Bytes, {});
  EXPECT_EQ(text.Advance(Ids("ab"), false).delta, "ab");
  const auto update = text.Advance(Ids("abcd"), true);
  EXPECT_EQ(update.delta, "cd");
  EXPECT_FALSE(update.stopped);
  EXPECT_EQ(update.kept_tokens, 4);
}

TEST(ChoiceTextTest, StopStringIsCutAndItsCompletingTokenIsTheLastKept) {
  ChoiceText text(Bytes, {"XY", "Z"});
  auto update = text.Advance(Ids("abX"), false);
  EXPECT_EQ(update.delta, "ab");  // "X" could start "XY": held back
  update = text.Advance(Ids("abXcXYdd"), false);
  EXPECT_TRUE(update.stopped);
  EXPECT_EQ(update.delta, "Xc");
  EXPECT_EQ(text.text(), "abXc");
  EXPECT_EQ(update.kept_tokens, 6);  // a b X c X Y
}

TEST(ChoiceTextTest, EarliestStopWins) {
  ChoiceText text(Bytes, {"cd", "b"});
  const auto update = text.Advance(Ids("abcd"), true);
  EXPECT_TRUE(update.stopped);
  EXPECT_EQ(text.text(), "a");
  EXPECT_EQ(update.kept_tokens, 2);
}

TEST(ChoiceTextTest, HalfAUtf8CharacterWaitsForTheRest) {
  ChoiceText text(Bytes, {});
  const std::string e_acute = "\xC3\xA9";
  auto update = text.Advance(Ids("a\xC3"), false);
  EXPECT_EQ(update.delta, "a");
  update = text.Advance(Ids("a\xC3\xA9"), false);
  EXPECT_EQ(update.delta, e_acute);
  // Finished mid-character: the broken byte is sent (the JSON writer replaces it).
  update = text.Advance(Ids("a\xC3\xA9\xE2\x82"), true);
  EXPECT_EQ(update.delta, "\xE2\x82");
}

TEST(ChoiceTextTest, CompleteUtf8Prefix) {
  EXPECT_EQ(CompleteUtf8Prefix("ab", 2), 2u);
  EXPECT_EQ(CompleteUtf8Prefix("a\xE2\x82\xAC", 4), 4u);
  EXPECT_EQ(CompleteUtf8Prefix("a\xE2\x82\xAC", 3), 1u);
  EXPECT_EQ(CompleteUtf8Prefix("a\xE2\x82\xAC", 2), 1u);
  EXPECT_EQ(CompleteUtf8Prefix("\x80\x80", 2), 2u);
}

}  // namespace
}  // namespace lockstep::serve
