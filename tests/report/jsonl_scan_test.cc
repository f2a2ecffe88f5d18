// The structural scan of rollouts.jsonl lines: finds the top-level step, ignores
// look-alikes in strings and nested objects, and rejects truncated or unbalanced lines.
#include "report/jsonl_scan.h"

#include "gtest/gtest.h"

namespace lockstep::report {
namespace {

std::optional<int64_t> Step(std::string_view line) {
  return ScanTopLevelInteger(line, "step").value();
}

TEST(JsonlScan, FindsTheTopLevelInteger) {
  EXPECT_EQ(Step(R"({"step": 12, "tokens": [1, 2]})"), 12);
  EXPECT_EQ(Step(R"(  {"tokens":[1,{"a":[]}],"step":-3}  )"), -3);
  EXPECT_EQ(Step(R"({"a": {"step": 1}, "b": "\"step\": 2", "step" : 7 })"), 7);
  EXPECT_EQ(Step(R"({"a": {"step": 1}})"), std::nullopt);           // nested only
  EXPECT_EQ(Step(R"({"step": 1.5})"), std::nullopt);                // not an integer
  EXPECT_EQ(Step(R"({"step": "4"})"), std::nullopt);                // a string
  EXPECT_EQ(Step(R"({"completion": "{[ \\\" }", "step": 2})"), 2);  // brackets in a string
}

TEST(JsonlScan, RejectsLinesThatAreNotOneObject) {
  for (const char* bad :
       {R"({"step": 1, "tokens": [1, 2)", R"({"step": 1, "completion": "abc)", R"({"step": 1]})",
        R"({"step": 1} x)", R"([{"step": 1}])", "", R"({"step": 1}})"}) {
    EXPECT_FALSE(ScanTopLevelInteger(bad, "step").ok()) << bad;
  }
}

}  // namespace
}  // namespace lockstep::report
