// The fenced-block rule of rewards/code_extraction.h, case by case.
#include "rewards/code_extraction.h"

#include "gtest/gtest.h"

namespace lockstep::rewards {
namespace {

TEST(CodeExtractionTest, LastBlockInTheLanguageByDefault) {
  const std::string text =
      "Here:\n```python\nprint(1)\n```\nFixed:\n```py\nprint(2)\n```\n```rust\nfn main(){}\n```\n";
  EXPECT_EQ(ExtractCode(text, "python"), "print(2)\n");
  ExtractionOptions first;
  first.rule = ExtractionRule::kFirst;
  EXPECT_EQ(ExtractCode(text, "python", first), "print(1)\n");
  EXPECT_EQ(ExtractCode(text, "rs"), "fn main(){}\n");  // aliases match
}

TEST(CodeExtractionTest, BareBlocksOnlyWithoutANamedOne) {
  EXPECT_EQ(ExtractCode("```\nA\n```\n```cpp\nB\n```\n", "cpp"), "B\n");
  EXPECT_EQ(ExtractCode("```\nA\n```\n", "cpp"), "A\n");
  // A block in another language never counts.
  EXPECT_FALSE(ExtractCode("```java\nclass Main {}\n```\n", "cpp").has_value());
}

TEST(CodeExtractionTest, OpenBlocksRawTextAndPromptOpenedFences) {
  EXPECT_EQ(ExtractCode("```go\npackage main\nfunc", "go"), "package main\nfunc");  // cut off
  EXPECT_EQ(ExtractCode("print(3)\n", "python"), "print(3)\n");                  // raw fallback
  ExtractionOptions strict;
  strict.raw_fallback = false;
  EXPECT_FALSE(ExtractCode("print(3)\n", "python", strict).has_value());
  ExtractionOptions opened;
  opened.prompt_opens_fence = true;
  EXPECT_EQ(ExtractCode("print(4)\n```\nExplanation.", "python", opened), "print(4)\n");
  EXPECT_TRUE(EndsInsideFence("Solve it.\n```python\n"));
  EXPECT_FALSE(EndsInsideFence("Example:\n```\nx\n```\nNow you."));
}

TEST(CodeExtractionTest, IndentedAndLongFencesAndCrlf) {
  EXPECT_EQ(ExtractCode("  ````python\r\nprint(5)\r\n  ````\r\n", "python"), "print(5)\r\n");
  // Inline code with backticks on one line is not a fence.
  EXPECT_EQ(ExtractCode("use ```x``` here\n```python\nok\n```", "python"), "ok\n");
}

}  // namespace
}  // namespace lockstep::rewards
