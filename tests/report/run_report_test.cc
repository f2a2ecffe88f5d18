// The GRPO run report: every chart from a synthetic run, escaping of model text,
// missing fields and files, non-finite values, malformed lines named by
// file:line, the sampled-steps choice, and the atomic write to RUN/report.html.
#include "report/run_report.h"

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "report/html.h"
#include "report/rollout_samples.h"
#include "report/svg_chart.h"

namespace lockstep::report {
namespace {

// A synthetic GRPO run: reward rising with noise, length growing, small KL,
// bitwise agreement 1 except for one step, phases of roughly constant time.
struct SyntheticRun {
  std::vector<std::string> metrics, rollouts;
};

SyntheticRun MakeRun(int steps, int samples_per_step) {
  SyntheticRun run;
  for (int step = 1; step <= steps; ++step) {
    const double t = static_cast<double>(step) / steps;
    const double wobble = std::sin(step * 0.7);
    nlohmann::json m = {{"step", step},
                        {"reward/mean", 0.15 + 0.6 * t + 0.05 * wobble},
                        {"reward/std", 0.3 - 0.1 * t},
                        {"response_length/mean", 40 + 60 * t + 5 * wobble},
                        {"actor/pg_loss", -0.02 * wobble},
                        {"actor/pg_clipfrac", 0.01},
                        {"actor/ppo_kl", 0.001 + 0.0005 * wobble},
                        {"actor/entropy", 1.2 - 0.5 * t},
                        {"actor/grad_norm", 0.8 + 0.3 * wobble},
                        {"mismatch/bitwise_equal_fraction", step == steps / 2 ? 0.995 : 1.0},
                        {"mismatch/max_abs_logprob_diff", step == steps / 2 ? 0.02 : 0.0},
                        {"mismatch/k3_kl", 0.0},
                        {"timing/rollout_s", 2.0 + 0.5 * t},
                        {"timing/reward_s", 0.3},
                        {"timing/train_s", 1.5},
                        {"timing/weight_sync_s", 0.1},
                        {"perf/tokens_per_s", 5000 + 300 * wobble}};
    run.metrics.push_back(m.dump());
    for (int i = 0; i < samples_per_step; ++i) {
      std::string completion = absl::StrCat("  Let me think.\n  ", step, " + ", i, " = ", step + i);
      if (step == 1 && i == 1) completion = "<script>alert('not run')</script> & done";
      if (step == 1 && i == 2) {
        for (int k = 0; completion.size() < 2500; ++k) {
          absl::StrAppend(&completion, "\n    line ", k, ": a long completion keeps going");
        }
      }
      nlohmann::json r = {
          {"step", step},
          {"prompt", absl::StrCat("What is ", step, " + ", i, "?\nAnswer with a number.")},
          {"completion", completion},
          {"reward", i % 2 == 0 ? 1.0 : 0.0},
          {"reward_status", "ok"},
          {"reward_detail", {{"exact_match", i % 2 == 0}}},
          {"tokens", {11, 12, 13}},
          {"logprobs", {-0.5, -0.25, -1.0}},
          {"weight_version", step - 1},
          {"staleness", 0},
          {"request_id", absl::StrCat("s", step, "-p", i / 4)},
          {"sample_index", i % 4},
          {"finish_reason", "stop"}};
      run.rollouts.push_back(r.dump());
    }
  }
  return run;
}

RunInfo Info() {
  RunInfo info;
  info.run_name = "synthetic";
  info.config_toml = "[algorithm]\nadvantage = \"grpo\"\n# <b>not bold</b>\n";
  return info;
}

size_t Count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

TEST(RunReport, DrawsEveryChartOfAFullRun) {
  const SyntheticRun run = MakeRun(20, 4);
  const std::string html = RenderRunReport(run.metrics, run.rollouts, Info()).value();
  for (const char* title :
       {"Reward", "Response length", "KL divergence", "Entropy",
        "Rollout/trainer bitwise agreement", "Rollout/trainer logprob mismatch",
        "Policy-gradient loss", "Gradient norm", "Throughput", "Time per phase"}) {
    EXPECT_NE(html.find(absl::StrCat("class=\"chart-title\">", title)), std::string::npos) << title;
  }
  EXPECT_EQ(Count(html, "<svg"), 10u);
  EXPECT_EQ(html.find("Not plotted"), std::string::npos);
  EXPECT_NE(html.find("reward/mean ± reward/std"), std::string::npos);  // the band's legend
  // Config shown escaped in a collapsible block; summary row present.
  EXPECT_NE(html.find("<details><summary>config.toml"), std::string::npos);
  EXPECT_NE(html.find("# &lt;b&gt;not bold&lt;/b&gt;"), std::string::npos);
  EXPECT_NE(html.find("19 of 20 steps fully equal; worst: step 10"), std::string::npos);
  EXPECT_NE(html.find("20 steps done (step 1–20)"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(&#39;not run&#39;)&lt;/script&gt; &amp; done"),
            std::string::npos);
  EXPECT_NE(html.find("bytes not shown"), std::string::npos);  // the long completion, cut
  // Nothing external.
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("http://"), html.find("http://www.w3.org/2000/svg"));
  EXPECT_EQ(html.find("https://"), std::string::npos);
}

TEST(RunReport, RewardTrendComparesFirstAndLastFifth) {
  std::vector<std::string> metrics;
  for (int step = 1; step <= 10; ++step) {
    metrics.push_back(
        nlohmann::json({{"step", step}, {"reward/mean", step <= 5 ? 0.25 : 0.75}}).dump());
  }
  const std::string html = RenderRunReport(metrics, {}, Info()).value();
  // Fifth of 10 steps = 2: mean of steps 1-2 = 0.25, of steps 9-10 = 0.75.
  EXPECT_NE(html.find("0.25 → 0.75 (+0.5)"), std::string::npos);
}

TEST(RunReport, CompletionsAreEscapedWithWhitespaceKept) {
  const std::vector<std::string> metrics = {R"({"step": 1, "reward/mean": 1})"};
  const std::vector<std::string> rollouts = {
      R"({"step": 1, "prompt": "p & q", "completion": "<script>alert(1)</script>\n  indented",)"
      R"( "reward": 1, "reward_status": "ok", "weight_version": 7, "staleness": 1})"};
  const std::string html = RenderRunReport(metrics, rollouts, Info()).value();
  EXPECT_EQ(html.find("<script>"), std::string::npos);
  EXPECT_NE(html.find("<pre>&lt;script&gt;alert(1)&lt;/script&gt;\n  indented</pre>"),
            std::string::npos);
  EXPECT_NE(html.find("<pre>p &amp; q</pre>"), std::string::npos);
  EXPECT_NE(html.find("7 (1)"), std::string::npos);  // weight version (staleness)
}

TEST(RunReport, MissingFieldsOmitTheirChartsWithANote) {
  const std::vector<std::string> metrics = {
      R"({"step": 1, "reward/mean": 0.5})",
      R"({"step": 2, "reward/mean": 0.6, "timing/train_s": 2})"};
  const std::string html = RenderRunReport(metrics, {}, Info()).value();
  EXPECT_EQ(Count(html, "<svg"), 2u);  // reward and time per phase
  EXPECT_NE(html.find("class=\"chart-title\">Reward"), std::string::npos);
  EXPECT_NE(html.find("Not plotted, no data in metrics.jsonl: "), std::string::npos);
  EXPECT_NE(html.find("Entropy (actor/entropy)"), std::string::npos);
  EXPECT_EQ(html.find("class=\"chart-title\">Entropy"), std::string::npos);
  EXPECT_NE(html.find("bitwise rollout/trainer agreement</th>"), std::string::npos);
  EXPECT_NE(html.find("not recorded"), std::string::npos);
}

TEST(RunReport, EmptyFilesGiveAPageWithNotes) {
  const std::string html = RenderRunReport({}, {""}, RunInfo{}).value();
  EXPECT_NE(html.find("metrics.jsonl has no steps yet"), std::string::npos);
  EXPECT_NE(html.find("rollouts.jsonl has no samples"), std::string::npos);
  EXPECT_NE(html.find("No config.toml"), std::string::npos);
  const SyntheticRun run = MakeRun(3, 0);
  const std::string no_rollouts = RenderRunReport(run.metrics, {}, Info()).value();
  EXPECT_NE(no_rollouts.find("rollouts.jsonl has no samples"), std::string::npos);
  EXPECT_EQ(Count(no_rollouts, "<svg"), 10u);
}

TEST(RunReport, NonFiniteValuesNeverReachTheSvg) {
  const std::vector<std::string> metrics = {
      R"({"step": 1, "reward/mean": 0.5, "reward/std": null, "actor/grad_norm": "inf"})",
      R"({"step": 2, "reward/mean": null, "actor/grad_norm": 1.0})",
      R"({"step": 3, "reward/mean": 0.7, "reward/std": 0.1, "actor/grad_norm": "nan"})",
      R"({"step": 4, "reward/mean": 0.8, "reward/std": 0.1, "actor/entropy": "-inf"})"};
  const std::string html = RenderRunReport(metrics, {}, Info()).value();
  for (const char* bad : {"nan", "inf", "NaN", "Inf"}) {
    EXPECT_EQ(html.find(absl::StrCat("\"", bad)), std::string::npos) << bad;
    EXPECT_EQ(html.find(absl::StrCat(",", bad)), std::string::npos) << bad;
  }
  EXPECT_NE(html.find("class=\"chart-title\">Gradient norm"), std::string::npos);  // one point
  EXPECT_NE(html.find("Entropy (actor/entropy)"), std::string::npos);  // only -inf: omitted
}

TEST(RunReport, MalformedLinesNameFileAndLine) {
  const std::vector<std::string> good = {R"({"step": 1})"};
  const std::vector<std::string> bad = {R"({"step": 1})", "", R"({"step": 2,)"};
  absl::Status s = RenderRunReport(bad, {}, Info()).status();
  EXPECT_NE(std::string(s.message()).find("metrics.jsonl:3:"), std::string::npos) << s;
  s = RenderRunReport(good, bad, Info()).status();
  EXPECT_NE(std::string(s.message()).find("rollouts.jsonl:3:"), std::string::npos) << s;
  // A truncated sample of a step that is not shown is still caught.
  std::vector<std::string> rollouts = MakeRun(20, 2).rollouts;
  rollouts[21] = rollouts[21].substr(0, rollouts[21].size() / 2);
  s = RenderRunReport(MakeRun(20, 2).metrics, rollouts, Info()).status();
  EXPECT_NE(std::string(s.message()).find("rollouts.jsonl:22: malformed JSON"), std::string::npos)
      << s;
  s = RenderRunReport(good, {R"({"prompt": "no step"})"}, Info()).status();
  EXPECT_NE(std::string(s.message()).find("rollouts.jsonl:1: sample has no integer \"step\""),
            std::string::npos)
      << s;
  s = RenderRunReport({"[1, 2]"}, {}, Info()).status();
  EXPECT_NE(std::string(s.message()).find("metrics.jsonl:1: not a JSON object"), std::string::npos)
      << s;
}

TEST(RunReport, ShowsOnlyAFewSamplesOfChosenSteps) {
  const SyntheticRun run = MakeRun(1000, 8);
  ReportOptions options;
  options.samples.per_step = 3;
  const std::string html = RenderRunReport(run.metrics, run.rollouts, Info(), options).value();
  // first 2, middle 2, last 2 steps, 3 samples each.
  EXPECT_EQ(Count(html, "<tr><td class=\"num\">"), 18u);
  EXPECT_NE(html.find("for steps 1, 2, 252, 750, 999, 1000;"), std::string::npos);
  EXPECT_NE(html.find("8000 samples over 1000 steps"), std::string::npos);
  EXPECT_NE(html.find("(each bar: mean of 7 steps)"), std::string::npos);
}

TEST(RolloutSamples, ChooseStepsFirstMiddleLast) {
  const SampleSelection selection;  // 2 first, 2 middle, 2 last
  EXPECT_EQ(ChooseSteps({1, 2, 3}, selection), (std::vector<int64_t>{1, 2, 3}));
  std::vector<int64_t> steps;
  for (int64_t s = 0; s < 10; ++s) steps.push_back(s);
  // Between the first two and last two lie steps 2..7 (6 of them): picks at 6·1/4 = 1
  // and 6·3/4 = 4 into it, i.e. steps 3 and 6.
  EXPECT_EQ(ChooseSteps(steps, selection), (std::vector<int64_t>{0, 1, 3, 6, 8, 9}));
}

TEST(RolloutSamples, LongTextsAreCutOnACharacterBoundary) {
  SampleSelection selection;
  selection.max_text_chars = 4;
  RolloutSampler sampler(selection, {}, "rollouts.jsonl");
  ASSERT_TRUE(sampler.AddLine(R"({"step": 5, "completion": "abcé€xyz"})", 1).ok());
  const std::vector<RolloutSample> kept = sampler.Selected();
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept[0].completion, "abc");  // "é" would straddle byte 4
  EXPECT_EQ(kept[0].completion_chars, 11u);
  EXPECT_TRUE(std::isnan(kept[0].reward));
}

TEST(SvgChart, NiceTicksAndLabels) {
  const std::vector<double> unit = NiceTicks(0.0, 1.0, 5);
  ASSERT_EQ(unit.size(), 6u);
  for (size_t i = 0; i < unit.size(); ++i) EXPECT_NEAR(unit[i], 0.2 * i, 1e-12);
  EXPECT_EQ(NiceTicks(3.0, 97.0, 5), (std::vector<double>{0, 20, 40, 60, 80, 100}));
  EXPECT_EQ(FormatTick(0.6000000000000001, 0.2), "0.6");
  EXPECT_EQ(FormatTick(1200, 200), "1200");
  EXPECT_EQ(FormatTick(1.00002, 0.00001), "1.00002");
  EXPECT_EQ(FormatTick(-0.05, 0.05), "-0.05");
  EXPECT_EQ(FormatTick(2e9, 1e9), "2e+09");
  EXPECT_EQ(EscapeHtml("<a href='x'>&</a>"), "&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt;");
}

TEST(SvgChart, ChartWithoutFinitePointsSaysNoData) {
  LineChart chart{.title = "t",
                  .x_label = "step",
                  .y_label = "y",
                  .series = {{.name = "s",
                              .color = "#000",
                              .x = {1, 2},
                              .y = {NAN, INFINITY},
                              .band_low = {},
                              .band_high = {}}}};
  EXPECT_FALSE(HasData(chart));
  EXPECT_NE(RenderLineChart(chart).find("no data"), std::string::npos);
}

// The file-based path on a synthetic 200-step run; LOCKSTEP_REPORT_DEMO_DIR keeps
// the run directory there (to look at report.html in a browser).
TEST(WriteRunReport, WritesReportHtmlIntoTheRunDirectory) {
  const char* keep = std::getenv("LOCKSTEP_REPORT_DEMO_DIR");
  const std::filesystem::path dir =
      keep != nullptr ? std::filesystem::path(keep)
                      : std::filesystem::path(testing::TempDir()) / "lockstep_report_run";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const SyntheticRun run = MakeRun(200, 16);
  {
    std::ofstream metrics(dir / "metrics.jsonl"), rollouts(dir / "rollouts.jsonl"),
        config(dir / "config.toml");
    for (const std::string& line : run.metrics) metrics << line << "\n";
    for (const std::string& line : run.rollouts) rollouts << line << "\n";
    config << Info().config_toml;
  }
  ASSERT_TRUE(WriteRunReport(dir.string()).ok());
  std::ifstream in(dir / "report.html");
  const std::string html((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(html.find(absl::StrCat("<code>", dir.filename().string(), "</code>")),
            std::string::npos);
  EXPECT_EQ(Count(html, "<svg"), 10u);
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    EXPECT_EQ(entry.path().filename().string().find(".tmp"), std::string::npos);  // renamed
  }
  // A last line without its newline is one being written: the report is of the rest;
  // once terminated, a malformed line is an error naming the file's path and line.
  { std::ofstream(dir / "rollouts.jsonl", std::ios::app) << R"({"step": 201, "compl)"; }
  { std::ofstream(dir / "metrics.jsonl", std::ios::app) << R"({"step": 201, "rew)"; }
  EXPECT_TRUE(WriteRunReport(dir.string()).ok());
  { std::ofstream(dir / "rollouts.jsonl", std::ios::app) << "etion\n"; }
  EXPECT_NE(std::string(WriteRunReport(dir.string()).message()).find("rollouts.jsonl:3201:"),
            std::string::npos);
  { std::ofstream(dir / "rollouts.jsonl") << ""; }
  { std::ofstream(dir / "metrics.jsonl", std::ios::app) << "\n"; }
  EXPECT_NE(std::string(WriteRunReport(dir.string()).message()).find("metrics.jsonl:201:"),
            std::string::npos);
  EXPECT_FALSE(WriteRunReport((dir / "missing").string()).ok());
  if (keep == nullptr) std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace lockstep::report
