// The pass@k run (eval/passk.h): problems -> samples -> sandbox -> scores ->
// report files.
#include "eval/passk.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "config/file_io.h"
#include "eval/endpoint_source.h"
#include "eval/engine_source.h"
#include "eval/passk_report.h"
#include "eval/sample_files.h"
#include "eval/sample_status.h"
#include "numerics/status_macros.h"
#include "rewards/code_extraction.h"
#include "rewards/problem_set.h"
#include "rewards/program_executor.h"
#include "rewards/program_reward.h"
#include "sandbox/language.h"
#include "sandbox/runner.h"

namespace lockstep::eval {
namespace {

using rewards::EvalSample;
using Clock = std::chrono::steady_clock;
using Log = std::function<void(const std::string&)>;

std::string StatusCounts(const std::map<std::string, int64_t>& statuses) {
  std::string out;
  for (const auto& [status, count] : statuses) {
    absl::StrAppend(&out, out.empty() ? "" : ", ", status, " ", count);
  }
  return out;
}

std::string Num2(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.2f", v);
  return buffer;
}

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The problem set, cut down to eval.only_problems when given.
absl::StatusOr<rewards::ProblemSet> LoadProblems(const PassKOptions& o) {
  absl::StatusOr<rewards::ProblemSet> loaded = rewards::LoadProblemSet(o.problems_dir);
  if (!loaded.ok() && std::filesystem::path(o.problems_dir).is_relative()) {
    // The configs name data/puzzles relative to the lockstep checkout.
    return absl::Status(
        loaded.status().code(),
        absl::StrCat("eval.problems: ", loaded.status().message(), " (a relative path is read from ",
                     "the current directory ", std::filesystem::current_path().string(),
                     "; run from the lockstep checkout or --set eval.problems=/abs/path)"));
  }
  LOCKSTEP_ASSIGN_OR_RETURN(rewards::ProblemSet problems, std::move(loaded));
  if (o.only_problems.empty()) return problems;
  std::vector<rewards::Problem> kept;
  for (const std::string& id : o.only_problems) {
    const rewards::Problem* p = problems.Find(id);
    if (p == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("eval.only_problems: '", id, "' is not in ", o.problems_dir));
    }
    kept.push_back(*p);
  }
  problems.problems = std::move(kept);
  return problems;
}

// The samples of the configured source. Sets `reward`'s prompt_opens_fence
// for model sources, whose completions continue the prompt.
absl::StatusOr<std::vector<EvalSample>> GatherSamples(const PassKOptions& o,
                                                      const rewards::ProblemSet& problems,
                                                      rewards::ProgramRewardOptions& reward,
                                                      const Log& log) {
  if (o.source == "reference") return ReferenceSamples(problems, o.languages);
  if (o.source == "file") return ReadSamplesJsonl(o.samples_file, "model");
  // A chat prompt ends with the assistant's header, never inside the user's fence.
  reward.extraction.prompt_opens_fence =
      o.prompt_format != "chat" &&
      rewards::EndsInsideFence(
          RenderPrompt(o.prompt_template, problems.problems.front(), o.languages.front()));
  const auto start = Clock::now();
  auto progress = [&](int64_t done, int64_t total) {
    log(absl::StrCat("sampled ", done, "/", total, " completions (",
                     Num2(done / std::max(SecondsSince(start), 1e-9)), "/s)"));
  };
  if (o.source == "engine") {
    return EngineSamples(o.engine, problems, o.languages, o.prompt_template, o.progress_every,
                         progress);
  }
  return EndpointSamples(o.endpoint, problems, o.languages, o.prompt_template, o.progress_every,
                         progress);
}

// Every sample must name a known problem and language, so that nothing is
// silently unjudged for a typo. Samples of languages outside a non-empty
// eval.languages are dropped (and counted).
absl::StatusOr<std::vector<EvalSample>> CheckSamples(std::vector<EvalSample> samples,
                                                     const PassKOptions& o,
                                                     const rewards::ProblemSet& problems,
                                                     const Log& log) {
  if (samples.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("no samples: source '", o.source,
                                                   "' produced none (check eval.languages)"));
  }
  std::vector<EvalSample> kept;
  int64_t dropped = 0;
  for (EvalSample& s : samples) {
    if (problems.Find(s.problem) == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "sample for problem '", s.problem, "' (model ", s.model, "): no such problem in ",
          o.problems_dir, o.only_problems.empty() ? "" : " / eval.only_problems"));
    }
    LOCKSTEP_ASSIGN_OR_RETURN(auto canonical,
                              CanonicalLanguages({s.language}, absl::StrCat("sample of ", s.problem)));
    s.language = canonical.front();
    if (!o.languages.empty() &&
        std::find(o.languages.begin(), o.languages.end(), s.language) == o.languages.end()) {
      ++dropped;
      continue;
    }
    kept.push_back(std::move(s));
  }
  if (dropped > 0) log(absl::StrCat(dropped, " samples in languages outside eval.languages skipped"));
  return kept;
}

// Default ks: pass@1 and pass@n (n = samples per (model, problem, language), at most).
std::vector<int64_t> DefaultKs(const std::vector<EvalSample>& samples) {
  std::map<std::tuple<std::string, std::string, std::string>, int64_t> per;
  int64_t n = 1;
  for (const EvalSample& s : samples) n = std::max(n, ++per[{s.model, s.problem, s.language}]);
  if (n > 1) return {1, n};
  return {1};
}

// Where programs run: a `lockstep sandbox serve` pool, or an in-process
// runner (whose missing toolchains are logged, never scored as failures).
struct Sandbox {
  std::unique_ptr<sandbox::Runner> runner;  // in-process only
  std::unique_ptr<rewards::ProgramExecutor> executor;
};

absl::StatusOr<Sandbox> StartSandbox(const PassKOptions& o, const std::vector<EvalSample>& samples,
                                     const Log& log) {
  Sandbox box;
  if (!o.sandbox_endpoint.empty()) {
    box.executor = std::make_unique<rewards::PoolExecutor>(
        o.sandbox_endpoint,
        std::chrono::milliseconds(static_cast<int64_t>(o.pool_timeout_s * 1000)));
    return box;
  }
  auto created = sandbox::Runner::Create();
  if (!created.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("the in-process sandbox cannot start: ", created.status().message(),
                     " (or set sandbox.endpoint to a `lockstep sandbox serve` pool)"));
  }
  box.runner = std::move(*created);
  box.executor = std::make_unique<rewards::LocalExecutor>(box.runner.get(), 1);
  std::set<std::string> used;
  for (const EvalSample& s : samples) used.insert(s.language);
  for (const std::string& language : used) {
    const sandbox::RunResult probe = box.runner->ProbeToolchain(*sandbox::FindLanguage(language));
    if (probe.status != sandbox::RunStatus::kOk) {
      log(absl::StrCat("toolchain for ", language, " is not available here (", probe.message,
                       "): its samples are reported as ",
                       std::string(sandbox::RunStatusName(probe.status)),
                       ", never as passes or failures"));
    }
  }
  return box;
}

// Where the samples came from, in words, for the report's heading.
std::string DescribeSource(const PassKOptions& o) {
  if (o.source == "reference") {
    return absl::StrCat("reference solutions from ", o.problems_dir, " (no model)");
  }
  if (o.source == "file") return absl::StrCat("completions read from ", o.samples_file);
  if (o.source == "engine") {
    return absl::StrCat("lockstep's rollout engine on ", o.engine.model_dir, " (", o.engine.dtype,
                        ", ", o.engine.samples_per_prompt, " per prompt, temperature ",
                        Num2(o.engine.temperature), ")");
  }
  return absl::StrCat("the endpoint ", o.endpoint.url, " (model ", o.endpoint.model, ", ",
                      o.endpoint.samples_per_prompt, " per prompt, temperature ",
                      Num2(o.endpoint.temperature), ")");
}

// How many of the problems have at least one sample: the log says so, so a
// file covering 3 of 20 problems is not mistaken for the whole set.
int64_t ProblemsWithSamples(const std::vector<EvalSample>& samples) {
  std::set<std::string> problems;
  for (const EvalSample& s : samples) problems.insert(s.problem);
  return static_cast<int64_t>(problems.size());
}

// The outputs, the report last, so a passk.json means a finished run.
absl::Status WriteOutputs(const PassKOptions& o, const std::string& run_dir,
                          const std::vector<EvalSample>& samples,
                          const std::vector<rewards::RewardResult>& results,
                          const PassKEvalSummary& summary, int64_t problems_in_set) {
  nlohmann::json json = rewards::PassKReportToJson(summary.report);
  json["source"] = o.source;
  json["source_description"] = DescribeSource(o);
  json["problems_in_set"] = problems_in_set;
  json["problems_dir"] = o.problems_dir;
  json["scoring"] = o.scoring;
  json["code_block"] = o.code_block;
  json["sandbox"] = o.sandbox_endpoint.empty() ? "in-process" : o.sandbox_endpoint;
  json["score_seconds"] = summary.score_seconds;
  LOCKSTEP_RETURN_IF_ERROR(WriteSamplesJsonl(run_dir + "/samples.jsonl", samples, &results));
  const PassKReportContext context{
      .title = o.title, .source = DescribeSource(o), .problems_in_set = problems_in_set};
  LOCKSTEP_RETURN_IF_ERROR(
      config::WriteFileAtomically(run_dir + "/passk.md", PassKMarkdown(summary.report, context)));
  LOCKSTEP_RETURN_IF_ERROR(
      config::WriteFileAtomically(run_dir + "/passk.html", PassKHtml(summary.report, context)));
  return config::WriteFileAtomically(run_dir + "/passk.json", json.dump(2) + "\n");
}

}  // namespace

absl::StatusOr<PassKEvalSummary> RunPassKEval(const PassKOptions& options,
                                              const std::string& run_dir, std::FILE* progress) {
  const Log log = [&](const std::string& line) {
    if (progress == nullptr) return;
    std::fprintf(progress, "eval: %s\n", line.c_str());
    std::fflush(progress);
  };
  LOCKSTEP_ASSIGN_OR_RETURN(rewards::ProblemSet problems, LoadProblems(options));
  log(absl::StrCat(problems.problems.size(), " problems in ", options.problems_dir));
  rewards::ProgramRewardOptions reward_options = options.reward;
  LOCKSTEP_ASSIGN_OR_RETURN(std::vector<EvalSample> gathered,
                            GatherSamples(options, problems, reward_options, log));
  LOCKSTEP_ASSIGN_OR_RETURN(std::vector<EvalSample> samples,
                            CheckSamples(std::move(gathered), options, problems, log));
  const std::vector<int64_t> ks = options.ks.empty() ? DefaultKs(samples) : options.ks;
  const int64_t problems_in_set = static_cast<int64_t>(problems.problems.size());
  log(absl::StrCat(samples.size(), " samples from ", DescribeSource(options), " cover ",
                   ProblemsWithSamples(samples), " of the ", problems_in_set, " problems"));

  LOCKSTEP_ASSIGN_OR_RETURN(Sandbox box, StartSandbox(options, samples, log));
  log(absl::StrCat("scoring ", samples.size(), " samples on ", box.executor->Describe(), ", ",
                   options.threads, " at a time"));
  const rewards::ProgramReward reward(&problems, box.executor.get(), reward_options);
  const auto score_start = Clock::now();
  std::vector<rewards::RewardResult> results = rewards::ScoreSamples(
      samples, reward, options.threads, options.progress_every,
      [&](const rewards::ScoreProgress& p) {
        log(absl::StrCat("scored ", p.done, "/", p.total, " (",
                         StatusCounts(WithEvalStatusNames(p.statuses)), ") ",
                         Num2(p.done / std::max(p.elapsed_s, 1e-9)), " samples/s"));
      });
  PassKEvalSummary summary;
  summary.samples = static_cast<int64_t>(samples.size());
  summary.score_seconds = SecondsSince(score_start);
  summary.report = rewards::TallyPassK(samples, results, ks, options.bootstrap);
  UseEvalStatusNames(&summary.report);
  LOCKSTEP_RETURN_IF_ERROR(
      WriteOutputs(options, run_dir, samples, results, summary, problems_in_set));
  return summary;
}

}  // namespace lockstep::eval
