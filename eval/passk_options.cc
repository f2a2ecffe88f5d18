// Reading `lockstep eval passk`'s options from its config (eval/passk_options.h).
#include "eval/passk_options.h"

#include <algorithm>
#include <cstdlib>
#include <optional>

#include "absl/strings/str_cat.h"
#include "numerics/status_macros.h"
#include "sandbox/language.h"

namespace lockstep::eval {
namespace {

constexpr char kDefaultTemplate[] =
    "Write a complete {language} program that reads the input from standard input and "
    "prints the answer to standard output.\n\n{statement}\n\nReply with the whole program "
    "in one fenced code block.\n";

// An integer or an array of integers. Config has no list-of-int getter: the
// GetInt call marks the key known (and reads a single integer); an array is
// then read from the resolved TOML, which holds file and --set values alike.
absl::StatusOr<std::vector<int64_t>> GetIntList(const config::Config& config,
                                                const std::string& key) {
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
    return absl::InvalidArgumentError(
        absl::StrCat(config.source_name(), ": ", key,
                     " must be an integer or a non-empty array of integers, e.g. [1, 10, 128]"));
  }
  return out;
}

// eval.*: what to score, how, and how the report looks.
absl::Status ReadEvalSection(const config::Config& config, const std::string& samples_file,
                             PassKOptions& o) {
  LOCKSTEP_ASSIGN_OR_RETURN(o.problems_dir,
                            config.GetString("eval.problems", std::string("data/puzzles")));
  LOCKSTEP_ASSIGN_OR_RETURN(
      o.source, config.GetStringOneOf("eval.samples", {"reference", "file", "engine", "endpoint"},
                                      std::string(samples_file.empty() ? "reference" : "file")));
  LOCKSTEP_ASSIGN_OR_RETURN(o.samples_file,
                            config.GetString("eval.samples_file", std::string()));
  if (!samples_file.empty()) {
    o.source = "file";
    o.samples_file = samples_file;
  }
  LOCKSTEP_ASSIGN_OR_RETURN(std::vector<std::string> language_names,
                            config.GetStringList("eval.languages", std::vector<std::string>{}));
  LOCKSTEP_ASSIGN_OR_RETURN(o.languages, CanonicalLanguages(language_names, "eval.languages"));
  LOCKSTEP_ASSIGN_OR_RETURN(o.only_problems,
                            config.GetStringList("eval.only_problems", std::vector<std::string>{}));
  if (config.Has("eval.k")) {
    LOCKSTEP_ASSIGN_OR_RETURN(o.ks, GetIntList(config, "eval.k"));
    for (int64_t k : o.ks) {
      if (k < 1) return absl::InvalidArgumentError(absl::StrCat("eval.k: ", k, " must be >= 1"));
    }
  }
  LOCKSTEP_ASSIGN_OR_RETURN(o.scoring,
                            config.GetStringOneOf("eval.scoring", {"all_or_nothing", "fraction"},
                                                  std::string("all_or_nothing")));
  LOCKSTEP_ASSIGN_OR_RETURN(o.code_block, config.GetStringOneOf("eval.code_block", {"last", "first"},
                                                                std::string("last")));
  LOCKSTEP_ASSIGN_OR_RETURN(bool raw_fallback, config.GetBool("eval.raw_fallback", false));
  LOCKSTEP_ASSIGN_OR_RETURN(int64_t threads, config.GetIntInRange("eval.threads", 1, 256, 2));
  o.threads = static_cast<int>(threads);
  LOCKSTEP_ASSIGN_OR_RETURN(o.progress_every,
                            config.GetIntInRange("eval.progress_every", 1, 1 << 30, 10));
  LOCKSTEP_ASSIGN_OR_RETURN(o.title, config.GetString("eval.title", std::string("pass@k")));
  LOCKSTEP_ASSIGN_OR_RETURN(int64_t resamples,
                            config.GetIntInRange("eval.bootstrap.resamples", 0, 1000000, 1000));
  o.bootstrap.resamples = static_cast<int>(resamples);
  LOCKSTEP_ASSIGN_OR_RETURN(o.bootstrap.confidence,
                            config.GetDoubleInRange("eval.bootstrap.confidence", 0.5, 0.999, 0.95));
  LOCKSTEP_ASSIGN_OR_RETURN(int64_t bootstrap_seed,
                            config.GetIntInRange("eval.bootstrap.seed", 0, 1ll << 62, 0));
  o.bootstrap.seed = static_cast<uint64_t>(bootstrap_seed);
  o.reward.scoring = o.scoring == "fraction" ? rewards::ProgramScoring::kFractionPassed
                                             : rewards::ProgramScoring::kAllOrNothing;
  o.reward.extraction.rule =
      o.code_block == "first" ? rewards::ExtractionRule::kFirst : rewards::ExtractionRule::kLast;
  o.reward.extraction.raw_fallback = raw_fallback;
  return absl::OkStatus();
}

// sandbox.*: where programs run and their limits.
absl::Status ReadSandboxSection(const config::Config& config, PassKOptions& o) {
  LOCKSTEP_ASSIGN_OR_RETURN(o.sandbox_endpoint,
                            config.GetString("sandbox.endpoint", std::string()));
  rewards::ProgramRewardOptions& r = o.reward;
  LOCKSTEP_ASSIGN_OR_RETURN(r.limits.cpu_time_s,
                            config.GetDoubleInRange("sandbox.cpu_time_s", 0.1, 600, 5.0));
  LOCKSTEP_ASSIGN_OR_RETURN(r.limits.wall_time_s,
                            config.GetDoubleInRange("sandbox.wall_time_s", 0.1, 1200, 15.0));
  LOCKSTEP_ASSIGN_OR_RETURN(int64_t memory_mb,
                            config.GetIntInRange("sandbox.memory_mb", 16, 1 << 20, 512));
  r.limits.memory_mb = static_cast<int>(memory_mb);
  LOCKSTEP_ASSIGN_OR_RETURN(o.pool_timeout_s,
                            config.GetDoubleInRange("sandbox.batch_timeout_s", 1, 86400, 600));
  return absl::OkStatus();
}

// engine.*: read when it is the source, or present (then every key may default).
absl::Status ReadEngineSection(const config::Config& config, bool needed,
                               EngineSourceOptions& e) {
  LOCKSTEP_ASSIGN_OR_RETURN(
      e.model_dir, config.GetString("engine.model", needed ? std::nullopt
                                                           : std::optional<std::string>("")));
  LOCKSTEP_ASSIGN_OR_RETURN(e.model_name, config.GetString("engine.name", std::string()));
  LOCKSTEP_ASSIGN_OR_RETURN(e.dtype, config.GetStringOneOf("engine.dtype", {"bf16", "fp16", "fp32"},
                                                           std::string("bf16")));
  LOCKSTEP_ASSIGN_OR_RETURN(e.samples_per_prompt, config.GetIntInRange("engine.n", 1, 1 << 16, 1));
  LOCKSTEP_ASSIGN_OR_RETURN(e.temperature,
                            config.GetDoubleInRange("engine.temperature", 0, 10, 1.0));
  LOCKSTEP_ASSIGN_OR_RETURN(e.top_p, config.GetDoubleInRange("engine.top_p", 0.01, 1, 1.0));
  LOCKSTEP_ASSIGN_OR_RETURN(e.max_tokens,
                            config.GetIntInRange("engine.max_tokens", 1, 1 << 20, 256));
  LOCKSTEP_ASSIGN_OR_RETURN(int64_t seed, config.GetIntInRange("engine.seed", 0, 1ll << 62, 0));
  e.seed = static_cast<uint64_t>(seed);
  LOCKSTEP_ASSIGN_OR_RETURN(e.max_batch_sequences,
                            config.GetIntInRange("engine.max_batch_sequences", 1, 4096, 32));
  LOCKSTEP_ASSIGN_OR_RETURN(
      e.stop_tokens,
      config.GetStringList("engine.stop_tokens",
                           std::vector<std::string>{"<|endoftext|>", "<|im_end|>", "</s>"}));
  return absl::OkStatus();
}

// endpoint.*: as engine.*; the API key comes from the environment variable
// endpoint.api_key_env names, checked only when the endpoint is the source.
absl::Status ReadEndpointSection(const config::Config& config, bool needed,
                                 EndpointSourceOptions& e) {
  const std::optional<std::string> required =
      needed ? std::nullopt : std::optional<std::string>("");
  LOCKSTEP_ASSIGN_OR_RETURN(e.url, config.GetString("endpoint.url", required));
  LOCKSTEP_ASSIGN_OR_RETURN(e.model, config.GetString("endpoint.model", required));
  LOCKSTEP_ASSIGN_OR_RETURN(e.api, config.GetStringOneOf("endpoint.api", {"completions", "chat"},
                                                         std::string("completions")));
  LOCKSTEP_ASSIGN_OR_RETURN(e.model_name, config.GetString("endpoint.name", std::string()));
  LOCKSTEP_ASSIGN_OR_RETURN(e.ca_file, config.GetString("endpoint.ca_file", std::string()));
  LOCKSTEP_ASSIGN_OR_RETURN(std::string key_env,
                            config.GetString("endpoint.api_key_env", std::string()));
  if (needed && !key_env.empty()) {
    const char* key = std::getenv(key_env.c_str());
    if (key == nullptr || *key == '\0') {
      return absl::FailedPreconditionError(absl::StrCat(
          "endpoint.api_key_env names $", key_env, ", which is not set; export ", key_env,
          "=<key>, or set endpoint.api_key_env = \"\" for an endpoint without a key"));
    }
    e.api_key = key;
  }
  LOCKSTEP_ASSIGN_OR_RETURN(e.samples_per_prompt,
                            config.GetIntInRange("endpoint.n", 1, 1 << 16, 1));
  LOCKSTEP_ASSIGN_OR_RETURN(e.samples_per_request,
                            config.GetIntInRange("endpoint.samples_per_request", 1, 1024, 8));
  LOCKSTEP_ASSIGN_OR_RETURN(e.temperature,
                            config.GetDoubleInRange("endpoint.temperature", 0, 10, 1.0));
  LOCKSTEP_ASSIGN_OR_RETURN(e.top_p, config.GetDoubleInRange("endpoint.top_p", 0.01, 1, 1.0));
  LOCKSTEP_ASSIGN_OR_RETURN(e.max_tokens,
                            config.GetIntInRange("endpoint.max_tokens", 1, 1 << 20, 1024));
  LOCKSTEP_ASSIGN_OR_RETURN(e.concurrency,
                            config.GetIntInRange("endpoint.concurrency", 1, 256, 4));
  LOCKSTEP_ASSIGN_OR_RETURN(e.timeout_s,
                            config.GetDoubleInRange("endpoint.timeout_s", 0.1, 3600, 120));
  LOCKSTEP_ASSIGN_OR_RETURN(e.retries, config.GetIntInRange("endpoint.retries", 0, 20, 3));
  return absl::OkStatus();
}

// prompt.format and prompt.system_prompt. "chat" with the engine loads its model's
// chat template now, so a model without one is a config error (nothing started);
// with an endpoint it needs endpoint.api = "chat" (the server renders the template).
absl::Status ReadPromptFormat(const config::Config& config, PassKOptions& o) {
  LOCKSTEP_ASSIGN_OR_RETURN(o.prompt_format, config.GetStringOneOf("prompt.format", {"raw", "chat"},
                                                                   std::string("raw")));
  LOCKSTEP_ASSIGN_OR_RETURN(o.system_prompt, config.GetString("prompt.system_prompt", std::string()));
  if (o.prompt_format != "chat") {
    if (!o.system_prompt.empty()) {
      return absl::InvalidArgumentError(
          "prompt.system_prompt is set but prompt.format is \"raw\"; set prompt.format = \"chat\"");
    }
    return absl::OkStatus();
  }
  if (o.source == "engine") {
    LOCKSTEP_ASSIGN_OR_RETURN(o.engine.chat, ChatPrompter::ForModelDir(o.engine.model_dir,
                                                                     "prompt.format", o.system_prompt));
  } else if (o.source == "endpoint") {
    if (o.endpoint.api != "chat") {
      return absl::InvalidArgumentError(
          "prompt.format = \"chat\" with eval.samples = \"endpoint\" needs endpoint.api = \"chat\" "
          "(the server applies its model's chat template to the messages)");
    }
    o.endpoint.system_prompt = o.system_prompt;
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<std::string>> CanonicalLanguages(const std::vector<std::string>& names,
                                                            const std::string& where) {
  std::vector<std::string> out;
  for (const std::string& name : names) {
    const sandbox::LanguageSpec* spec = sandbox::FindLanguage(name);
    if (spec == nullptr) {
      std::string known;
      for (const auto& s : sandbox::AllLanguages()) {
        absl::StrAppend(&known, known.empty() ? "" : ", ", s.name);
      }
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": unknown language '", name, "' (known: ", known, ")"));
    }
    if (std::find(out.begin(), out.end(), spec->name) == out.end()) out.push_back(spec->name);
  }
  return out;
}

absl::StatusOr<PassKOptions> ReadPassKOptions(const config::Config& config,
                                              const std::string& samples_file) {
  PassKOptions o;
  LOCKSTEP_RETURN_IF_ERROR(ReadEvalSection(config, samples_file, o));
  LOCKSTEP_RETURN_IF_ERROR(ReadSandboxSection(config, o));
  LOCKSTEP_ASSIGN_OR_RETURN(o.prompt_template,
                            config.GetString("prompt.template", std::string(kDefaultTemplate)));
  if (o.source == "engine" || config.Has("engine")) {
    LOCKSTEP_RETURN_IF_ERROR(ReadEngineSection(config, o.source == "engine", o.engine));
  }
  if (o.source == "endpoint" || config.Has("endpoint")) {
    LOCKSTEP_RETURN_IF_ERROR(ReadEndpointSection(config, o.source == "endpoint", o.endpoint));
  }
  LOCKSTEP_RETURN_IF_ERROR(ReadPromptFormat(config, o));
  if ((o.source == "engine" || o.source == "endpoint") && o.languages.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "eval.languages is empty: source '", o.source,
        "' needs the languages to prompt for, e.g. --set 'eval.languages=[\"python\", \"cpp\"]'"));
  }
  if (o.source == "file" && o.samples_file.empty()) {
    return absl::InvalidArgumentError(
        "eval.samples = \"file\" needs --samples FILE.jsonl or eval.samples_file");
  }
  return o;
}

}  // namespace lockstep::eval
