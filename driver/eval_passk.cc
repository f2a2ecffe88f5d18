#include "driver/eval_passk.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>

#include "absl/strings/str_cat.h"
#include <toml++/toml.h>
#include "config/file_io.h"
#include "driver/eval_report.h"
#include "driver/eval_sources.h"
#include "numerics/status_macros.h"
#include "rewards/code_extraction.h"
#include "rewards/problem_set.h"
#include "rewards/program_executor.h"
#include "rewards/program_reward.h"
#include "sandbox/language.h"
#include "sandbox/runner.h"

namespace lockstep::driver {
namespace {

using rewards::EvalSample;

constexpr char kDefaultTemplate[] =
    "Write a complete {language} program that reads the input from standard input and "
    "prints the answer to standard output.\n\n{statement}\n\nReply with the whole program "
    "in one fenced code block.\n";

std::string StatusCounts(const std::map<std::string, int64_t>& statuses) {
  std::string out;
  for (const auto& [status, count] : statuses) absl::StrAppend(&out, out.empty() ? "" : ", ", status, " ", count);
  return out;
}

// The languages as spec names; unknown names are an error listing the known ones.
absl::StatusOr<std::vector<std::string>> CanonicalLanguages(const std::vector<std::string>& names,
                                                            const std::string& where) {
  std::vector<std::string> out;
  for (const std::string& name : names) {
    const sandbox::LanguageSpec* spec = sandbox::FindLanguage(name);
    if (spec == nullptr) {
      std::string known;
      for (const auto& s : sandbox::AllLanguages()) absl::StrAppend(&known, known.empty() ? "" : ", ", s.name);
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": unknown language '", name, "' (known: ", known, ")"));
    }
    if (std::find(out.begin(), out.end(), spec->name) == out.end()) out.push_back(spec->name);
  }
  return out;
}

std::string Num2(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.2f", v);
  return buffer;
}

// An integer or an array of integers. config::Config has no list-of-int getter: the
// GetInt call marks the key known (and reads a single integer); an array is
// then read from the resolved TOML, which holds file and --set values alike.
absl::StatusOr<std::vector<int64_t>> GetIntList(const config::Config& config, const std::string& key) {
  auto single = config.GetInt(key);
  if (single.ok()) return std::vector<int64_t>{*single};
  toml::table root;
  try {
    root = toml::parse(config.ToToml());
  } catch (const toml::parse_error& e) {
    return absl::InternalError(absl::StrCat("re-reading the resolved config: ", e.what()));
  }
  const toml::array* array = root.at_path(key).as_array();
  std::vector<int64_t> out;
  if (array != nullptr) {
    for (const toml::node& element : *array) {
      if (!element.is_integer()) {
        out.clear();
        break;
      }
      out.push_back(element.value<int64_t>().value());
    }
  }
  if (out.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        config.source_name(), ": ", key, " must be an integer or a non-empty array of integers, e.g. [1, 10, 128]"));
  }
  return out;
}

}  // namespace

absl::StatusOr<PassKEvalSummary> RunPassKEval(config::Config& config, const std::string& run_dir,
                                              const std::string& samples_file, std::FILE* progress) {
  auto log = [&](const std::string& line) {
    if (progress != nullptr) {
      std::fprintf(progress, "eval: %s\n", line.c_str());
      std::fflush(progress);
    }
  };
  // ---- settings
  LOCKSTEP_ASSIGN_OR_RETURN(std::string problems_dir,
                            config.GetString("eval.problems", std::string("data/puzzles")));
  LOCKSTEP_ASSIGN_OR_RETURN(std::string source,
                            config.GetStringOneOf("eval.samples", {"reference", "file", "engine", "endpoint"},
                                                  std::string(samples_file.empty() ? "reference" : "file")));
  LOCKSTEP_ASSIGN_OR_RETURN(std::string file_key, config.GetString("eval.samples_file", std::string()));
  if (!samples_file.empty()) {
    source = "file";
    file_key = samples_file;
  }
  LOCKSTEP_ASSIGN_OR_RETURN(std::vector<std::string> language_names,
                            config.GetStringList("eval.languages", std::vector<std::string>{}));
  LOCKSTEP_ASSIGN_OR_RETURN(std::vector<std::string> languages,
                            CanonicalLanguages(language_names, "eval.languages"));
  LOCKSTEP_ASSIGN_OR_RETURN(std::vector<std::string> only_problems,
                            config.GetStringList("eval.only_problems", std::vector<std::string>{}));
  std::vector<int64_t> ks;
  if (config.Has("eval.k")) {
    LOCKSTEP_ASSIGN_OR_RETURN(ks, GetIntList(config, "eval.k"));
  }
  LOCKSTEP_ASSIGN_OR_RETURN(std::string scoring,
                            config.GetStringOneOf("eval.scoring", {"all_or_nothing", "fraction"},
                                                  std::string("all_or_nothing")));
  LOCKSTEP_ASSIGN_OR_RETURN(std::string code_block,
                            config.GetStringOneOf("eval.code_block", {"last", "first"}, std::string("last")));
  LOCKSTEP_ASSIGN_OR_RETURN(bool raw_fallback, config.GetBool("eval.raw_fallback", true));
  LOCKSTEP_ASSIGN_OR_RETURN(int64_t threads, config.GetIntInRange("eval.threads", 1, 256, 2));
  LOCKSTEP_ASSIGN_OR_RETURN(int64_t progress_every, config.GetIntInRange("eval.progress_every", 1, 1 << 30, 10));
  LOCKSTEP_ASSIGN_OR_RETURN(std::string title, config.GetString("eval.title", std::string("pass@k")));
  rewards::BootstrapOptions bootstrap;
  LOCKSTEP_ASSIGN_OR_RETURN(int64_t resamples, config.GetIntInRange("eval.bootstrap.resamples", 0, 1000000, 1000));
  bootstrap.resamples = static_cast<int>(resamples);
  LOCKSTEP_ASSIGN_OR_RETURN(bootstrap.confidence, config.GetDoubleInRange("eval.bootstrap.confidence", 0.5, 0.999, 0.95));
  LOCKSTEP_ASSIGN_OR_RETURN(int64_t bootstrap_seed, config.GetIntInRange("eval.bootstrap.seed", 0, 1ll << 62, 0));
  bootstrap.seed = static_cast<uint64_t>(bootstrap_seed);

  LOCKSTEP_ASSIGN_OR_RETURN(std::string sandbox_endpoint, config.GetString("sandbox.endpoint", std::string()));
  rewards::ProgramRewardOptions reward_options;
  LOCKSTEP_ASSIGN_OR_RETURN(reward_options.limits.cpu_time_s, config.GetDoubleInRange("sandbox.cpu_time_s", 0.1, 600, 5.0));
  LOCKSTEP_ASSIGN_OR_RETURN(reward_options.limits.wall_time_s, config.GetDoubleInRange("sandbox.wall_time_s", 0.1, 1200, 15.0));
  LOCKSTEP_ASSIGN_OR_RETURN(int64_t memory_mb, config.GetIntInRange("sandbox.memory_mb", 16, 1 << 20, 512));
  reward_options.limits.memory_mb = static_cast<int>(memory_mb);
  LOCKSTEP_ASSIGN_OR_RETURN(double pool_timeout_s, config.GetDoubleInRange("sandbox.batch_timeout_s", 1, 86400, 600));
  reward_options.scoring = scoring == "fraction" ? rewards::ProgramScoring::kFractionPassed
                                                 : rewards::ProgramScoring::kAllOrNothing;
  reward_options.extraction.rule =
      code_block == "first" ? rewards::ExtractionRule::kFirst : rewards::ExtractionRule::kLast;
  reward_options.extraction.raw_fallback = raw_fallback;

  LOCKSTEP_ASSIGN_OR_RETURN(std::string prompt_template,
                            config.GetString("prompt.template", std::string(kDefaultTemplate)));

  EngineSourceOptions engine;
  if (source == "engine" || config.Has("engine")) {
    LOCKSTEP_ASSIGN_OR_RETURN(engine.model_dir, config.GetString("engine.model",
        source == "engine" ? std::nullopt : std::optional<std::string>(std::string())));
    LOCKSTEP_ASSIGN_OR_RETURN(engine.model_name, config.GetString("engine.name", std::string()));
    LOCKSTEP_ASSIGN_OR_RETURN(engine.dtype, config.GetStringOneOf("engine.dtype", {"bf16", "fp16", "fp32"}, std::string("bf16")));
    LOCKSTEP_ASSIGN_OR_RETURN(engine.samples_per_prompt, config.GetIntInRange("engine.n", 1, 1 << 16, 1));
    LOCKSTEP_ASSIGN_OR_RETURN(engine.temperature, config.GetDoubleInRange("engine.temperature", 0, 10, 1.0));
    LOCKSTEP_ASSIGN_OR_RETURN(engine.top_p, config.GetDoubleInRange("engine.top_p", 0.01, 1, 1.0));
    LOCKSTEP_ASSIGN_OR_RETURN(engine.max_tokens, config.GetIntInRange("engine.max_tokens", 1, 1 << 20, 256));
    LOCKSTEP_ASSIGN_OR_RETURN(int64_t seed, config.GetIntInRange("engine.seed", 0, 1ll << 62, 0));
    engine.seed = static_cast<uint64_t>(seed);
    LOCKSTEP_ASSIGN_OR_RETURN(engine.max_batch_sequences, config.GetIntInRange("engine.max_batch_sequences", 1, 4096, 32));
    LOCKSTEP_ASSIGN_OR_RETURN(engine.stop_tokens,
                              config.GetStringList("engine.stop_tokens",
                                                   std::vector<std::string>{"<|endoftext|>", "<|im_end|>", "</s>"}));
  }
  EndpointSourceOptions endpoint;
  if (source == "endpoint" || config.Has("endpoint")) {
    const bool needed = source == "endpoint";
    auto required = [&](const char*) { return needed ? std::nullopt : std::optional<std::string>(std::string()); };
    LOCKSTEP_ASSIGN_OR_RETURN(endpoint.url, config.GetString("endpoint.url", required("url")));
    LOCKSTEP_ASSIGN_OR_RETURN(endpoint.model, config.GetString("endpoint.model", required("model")));
    LOCKSTEP_ASSIGN_OR_RETURN(endpoint.api, config.GetStringOneOf("endpoint.api", {"completions", "chat"}, std::string("completions")));
    LOCKSTEP_ASSIGN_OR_RETURN(endpoint.model_name, config.GetString("endpoint.name", std::string()));
    LOCKSTEP_ASSIGN_OR_RETURN(std::string key_env, config.GetString("endpoint.api_key_env", std::string()));
    if (needed && !key_env.empty()) {
      const char* key = std::getenv(key_env.c_str());
      if (key == nullptr || *key == '\0') {
        return absl::FailedPreconditionError(absl::StrCat(
            "endpoint.api_key_env names $", key_env, ", which is not set; export ", key_env,
            "=<key>, or set endpoint.api_key_env = \"\" for an endpoint without a key"));
      }
      endpoint.api_key = key;
    }
    LOCKSTEP_ASSIGN_OR_RETURN(endpoint.samples_per_prompt, config.GetIntInRange("endpoint.n", 1, 1 << 16, 1));
    LOCKSTEP_ASSIGN_OR_RETURN(endpoint.samples_per_request, config.GetIntInRange("endpoint.samples_per_request", 1, 1024, 8));
    LOCKSTEP_ASSIGN_OR_RETURN(endpoint.temperature, config.GetDoubleInRange("endpoint.temperature", 0, 10, 1.0));
    LOCKSTEP_ASSIGN_OR_RETURN(endpoint.top_p, config.GetDoubleInRange("endpoint.top_p", 0.01, 1, 1.0));
    LOCKSTEP_ASSIGN_OR_RETURN(endpoint.max_tokens, config.GetIntInRange("endpoint.max_tokens", 1, 1 << 20, 1024));
    LOCKSTEP_ASSIGN_OR_RETURN(endpoint.concurrency, config.GetIntInRange("endpoint.concurrency", 1, 256, 4));
    LOCKSTEP_ASSIGN_OR_RETURN(endpoint.timeout_s, config.GetDoubleInRange("endpoint.timeout_s", 0.1, 3600, 120));
    LOCKSTEP_ASSIGN_OR_RETURN(endpoint.retries, config.GetIntInRange("endpoint.retries", 0, 20, 3));
  }
  LOCKSTEP_RETURN_IF_ERROR(config.CheckNoUnknownKeys());

  // ---- problems
  LOCKSTEP_ASSIGN_OR_RETURN(rewards::ProblemSet problems, rewards::LoadProblemSet(problems_dir));
  if (!only_problems.empty()) {
    std::vector<rewards::Problem> kept;
    for (const std::string& id : only_problems) {
      const rewards::Problem* p = problems.Find(id);
      if (p == nullptr) {
        return absl::InvalidArgumentError(absl::StrCat("eval.only_problems: '", id, "' is not in ", problems_dir));
      }
      kept.push_back(*p);
    }
    problems.problems = std::move(kept);
  }
  log(absl::StrCat(problems.problems.size(), " problems from ", problems_dir));

  // ---- samples
  if ((source == "engine" || source == "endpoint") && languages.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "eval.languages is empty: source '", source, "' needs the languages to prompt for, e.g. "
        "--set 'eval.languages=[\"python\", \"cpp\"]'"));
  }
  const auto sample_start = std::chrono::steady_clock::now();
  auto sample_progress = [&](int64_t done, int64_t total) {
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - sample_start).count();
    log(absl::StrCat("sampled ", done, "/", total, " completions (", Num2(done / std::max(s, 1e-9)), "/s)"));
  };
  std::vector<EvalSample> samples;
  if (source == "reference") {
    samples = ReferenceSamples(problems, languages);
  } else if (source == "file") {
    if (file_key.empty()) {
      return absl::InvalidArgumentError("eval.samples = \"file\" needs --samples FILE.jsonl or eval.samples_file");
    }
    LOCKSTEP_ASSIGN_OR_RETURN(samples, ReadSamplesJsonl(file_key, "model"));
  } else {
    reward_options.extraction.prompt_opens_fence =
        rewards::EndsInsideFence(RenderPrompt(prompt_template, problems.problems.front(), languages.front()));
    if (source == "engine") {
      LOCKSTEP_ASSIGN_OR_RETURN(samples, EngineSamples(engine, problems, languages, prompt_template,
                                                       progress_every, sample_progress));
    } else {
      LOCKSTEP_ASSIGN_OR_RETURN(samples, EndpointSamples(endpoint, problems, languages, prompt_template,
                                                         progress_every, sample_progress));
    }
  }
  if (samples.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("no samples: source '", source,
                                                   "' produced none (check eval.languages)"));
  }
  // Every sample must name a known problem and language, so that nothing is
  // silently unjudged for a typo. Samples of languages outside a non-empty
  // eval.languages are dropped (and counted).
  {
    std::vector<EvalSample> kept;
    int64_t dropped = 0;
    for (EvalSample& s : samples) {
      if (problems.Find(s.problem) == nullptr) {
        return absl::InvalidArgumentError(absl::StrCat("sample for problem '", s.problem, "' (model ", s.model,
                                                       "): no such problem in ", problems_dir,
                                                       only_problems.empty() ? "" : " / eval.only_problems"));
      }
      LOCKSTEP_ASSIGN_OR_RETURN(auto canonical,
                                CanonicalLanguages({s.language}, absl::StrCat("sample of ", s.problem)));
      s.language = canonical.front();
      if (!languages.empty() && std::find(languages.begin(), languages.end(), s.language) == languages.end()) {
        ++dropped;
        continue;
      }
      kept.push_back(std::move(s));
    }
    if (dropped > 0) log(absl::StrCat(dropped, " samples in languages outside eval.languages skipped"));
    samples = std::move(kept);
  }
  if (ks.empty()) {
    // Default: pass@1 and pass@n (n = samples per (model, problem, language), at most).
    std::map<std::tuple<std::string, std::string, std::string>, int64_t> per;
    int64_t n = 1;
    for (const EvalSample& s : samples) n = std::max(n, ++per[{s.model, s.problem, s.language}]);
    ks = {1};
    if (n > 1) ks.push_back(n);
  }
  for (int64_t k : ks) {
    if (k < 1) return absl::InvalidArgumentError(absl::StrCat("eval.k: ", k, " must be >= 1"));
  }

  // ---- sandbox
  std::unique_ptr<sandbox::Runner> runner;
  std::unique_ptr<rewards::ProgramExecutor> executor;
  if (sandbox_endpoint.empty()) {
    auto created = sandbox::Runner::Create();
    if (!created.ok()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the in-process sandbox cannot start: ", created.status().message(),
          " (or set sandbox.endpoint to a `lockstep sandbox serve` pool)"));
    }
    runner = std::move(*created);
    executor = std::make_unique<rewards::LocalExecutor>(runner.get(), 1);
    std::set<std::string> used;
    for (const EvalSample& s : samples) used.insert(s.language);
    for (const std::string& language : used) {
      const sandbox::RunResult probe = runner->ProbeToolchain(*sandbox::FindLanguage(language));
      if (probe.status != sandbox::RunStatus::kOk) {
        log(absl::StrCat("toolchain for ", language, " is not available here (", probe.message,
                         "): its samples are reported as ", std::string(sandbox::RunStatusName(probe.status)),
                         ", never as passes or failures"));
      }
    }
  } else {
    executor = std::make_unique<rewards::PoolExecutor>(
        sandbox_endpoint, std::chrono::milliseconds(static_cast<int64_t>(pool_timeout_s * 1000)));
  }
  log(absl::StrCat("scoring ", samples.size(), " samples on ", executor->Describe(), ", ", threads,
                   " at a time"));
  const rewards::ProgramReward reward(&problems, executor.get(), reward_options);
  const auto score_start = std::chrono::steady_clock::now();
  std::vector<rewards::RewardResult> results = rewards::ScoreSamples(
      samples, reward, static_cast<int>(threads), progress_every,
      [&](const rewards::ScoreProgress& p) {
        log(absl::StrCat("scored ", p.done, "/", p.total, " (", StatusCounts(p.statuses), ") ",
                         Num2(p.done / std::max(p.elapsed_s, 1e-9)), " samples/s"));
      });
  PassKEvalSummary summary;
  summary.samples = static_cast<int64_t>(samples.size());
  summary.score_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - score_start).count();
  summary.report = rewards::TallyPassK(samples, results, ks, bootstrap);

  // ---- outputs (the report last, so a passk.json means a finished run)
  nlohmann::json json = rewards::PassKReportToJson(summary.report);
  json["source"] = source;
  json["problems_dir"] = problems_dir;
  json["scoring"] = scoring;
  json["code_block"] = code_block;
  json["sandbox"] = sandbox_endpoint.empty() ? "in-process" : sandbox_endpoint;
  json["score_seconds"] = summary.score_seconds;
  LOCKSTEP_RETURN_IF_ERROR(config::WriteFileAtomically(run_dir + "/config.toml", config.ToToml()));
  LOCKSTEP_RETURN_IF_ERROR(WriteSamplesJsonl(run_dir + "/samples.jsonl", samples, &results));
  LOCKSTEP_RETURN_IF_ERROR(config::WriteFileAtomically(run_dir + "/passk.md", PassKMarkdown(summary.report, title)));
  LOCKSTEP_RETURN_IF_ERROR(config::WriteFileAtomically(run_dir + "/passk.html", PassKHtml(summary.report, title)));
  LOCKSTEP_RETURN_IF_ERROR(config::WriteFileAtomically(run_dir + "/passk.json", json.dump(2) + "\n"));
  return summary;
}

}  // namespace lockstep::driver
