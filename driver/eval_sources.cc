#include "driver/eval_sources.h"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "driver/eval_http.h"
#include "model/char_tokenizer.h"
#include "model/hf_tokenizer.h"
#include "model/transformer.h"
#include "model/weights.h"
#include "nlohmann/json.hpp"
#include "numerics/dtype.h"
#include "numerics/status_macros.h"
#include "rollout/engine.h"
#include "sandbox/language.h"

namespace lockstep::driver {
namespace {

using rewards::EvalSample;

std::string ReplaceAll(std::string text, const std::string& from, const std::string& to) {
  size_t pos = 0;
  while ((pos = text.find(from, pos)) != std::string::npos) {
    text.replace(pos, from.size(), to);
    pos += to.size();
  }
  return text;
}

// The (problem, language) pairs to sample, problem-major.
std::vector<std::pair<const rewards::Problem*, std::string>> Prompts(
    const rewards::ProblemSet& problems, const std::vector<std::string>& languages) {
  std::vector<std::pair<const rewards::Problem*, std::string>> out;
  for (const rewards::Problem& p : problems.problems) {
    for (const std::string& language : languages) out.emplace_back(&p, language);
  }
  return out;
}

}  // namespace

std::vector<EvalSample> ReferenceSamples(const rewards::ProblemSet& problems,
                                         const std::vector<std::string>& languages) {
  std::vector<EvalSample> samples;
  for (const rewards::Problem& p : problems.problems) {
    for (const sandbox::LanguageSpec& spec : sandbox::AllLanguages()) {
      const auto found = p.solutions.find(spec.name);
      if (found == p.solutions.end()) continue;
      const std::string& language = found->first;
      const std::string& source = found->second;
      if (!languages.empty() &&
          std::find(languages.begin(), languages.end(), language) == languages.end()) {
        continue;
      }
      std::string completion = absl::StrCat("```", language, "\n", source);
      if (!source.empty() && source.back() != '\n') completion += "\n";
      completion += "```\n";
      samples.push_back({"reference", p.id, language, std::move(completion)});
    }
  }
  return samples;
}

absl::StatusOr<std::vector<EvalSample>> ReadSamplesJsonl(const std::string& path,
                                                         const std::string& default_model) {
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("samples file '", path, "' cannot be read"));
  }
  std::vector<EvalSample> samples;
  std::string line;
  int line_number = 0;
  while (std::getline(in, line)) {
    ++line_number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = absl::StrCat(path, ":", line_number);
    nlohmann::json json = nlohmann::json::parse(line, nullptr, false);
    if (json.is_discarded() || !json.is_object()) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": not a JSON object"));
    }
    EvalSample s;
    for (auto [key, field] : {std::pair<const char*, std::string*>{"problem", &s.problem},
                              {"language", &s.language},
                              {"completion", &s.completion}}) {
      if (!json.contains(key) || !json[key].is_string()) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": needs a string field \"", key,
                         "\" (each line: {\"problem\", \"language\", \"completion\"[, \"model\"]})"));
      }
      *field = json[key].get<std::string>();
    }
    s.model = default_model;
    if (json.contains("model")) {
      if (!json["model"].is_string()) {
        return absl::InvalidArgumentError(absl::StrCat(where, ": \"model\" must be a string"));
      }
      s.model = json["model"].get<std::string>();
    }
    samples.push_back(std::move(s));
  }
  if (samples.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("samples file '", path, "' holds no sample"));
  }
  return samples;
}

absl::Status WriteSamplesJsonl(const std::string& path, const std::vector<EvalSample>& samples,
                               const std::vector<rewards::RewardResult>* results) {
  std::ofstream out(path, std::ios::trunc);
  for (size_t i = 0; i < samples.size(); ++i) {
    nlohmann::json j{{"model", samples[i].model},
                     {"problem", samples[i].problem},
                     {"language", samples[i].language},
                     {"completion", samples[i].completion}};
    if (results != nullptr && i < results->size()) {
      j["status"] = std::string(rewards::RewardStatusName((*results)[i].status));
      j["reward"] = (*results)[i].value;
      j["detail"] = (*results)[i].detail;
    }
    out << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  }
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

std::string RenderPrompt(const std::string& prompt_template, const rewards::Problem& problem,
                         const std::string& language) {
  std::string text = ReplaceAll(prompt_template, "{statement}", problem.statement);
  text = ReplaceAll(text, "{language}", language);
  return ReplaceAll(text, "{problem}", problem.id);
}

absl::StatusOr<std::vector<EvalSample>> EngineSamples(
    const EngineSourceOptions& options, const rewards::ProblemSet& problems,
    const std::vector<std::string>& languages, const std::string& prompt_template,
    int64_t progress_every, const SampleProgress& progress) {
  namespace fs = std::filesystem;
  LOCKSTEP_ASSIGN_OR_RETURN(DType dtype, ParseDType(options.dtype));
  auto weights = LoadModelDir(options.model_dir, dtype);
  if (!weights.ok()) {
    return absl::Status(weights.status().code(),
                        absl::StrCat("engine.model '", options.model_dir, "': ", weights.status().message()));
  }
  LOCKSTEP_ASSIGN_OR_RETURN(std::unique_ptr<Transformer> model, Transformer::Create(*weights));
  // The tokenizer: the checkpoint's tokenizer.json, else lockstep's char tokenizer.
  std::optional<HfTokenizer> hf;
  const CharTokenizer chars;
  std::vector<int32_t> stops;
  const fs::path tokenizer_path = fs::path(options.model_dir) / "tokenizer.json";
  if (fs::exists(tokenizer_path)) {
    LOCKSTEP_ASSIGN_OR_RETURN(HfTokenizer loaded, HfTokenizer::FromFile(tokenizer_path.string()));
    hf = std::move(loaded);
    for (const std::string& s : options.stop_tokens) {
      if (int32_t id = hf->TokenId(s); id >= 0) stops.push_back(id);
    }
  } else {
    if (weights->config.vocab_size < chars.vocab_size()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "engine.model '", options.model_dir, "' has no tokenizer.json and a vocabulary of ",
          weights->config.vocab_size, " < the char tokenizer's ", chars.vocab_size()));
    }
    stops.push_back(CharTokenizer::kEos);
  }
  auto encode = [&](const std::string& text) {
    return hf ? hf->Encode(text) : chars.Encode(text);
  };
  auto decode = [&](const std::vector<int32_t>& ids) {
    return hf ? hf->Decode(ids, /*skip_special=*/true) : chars.Decode(ids);
  };

  EngineOptions eo;
  eo.max_batch_sequences = static_cast<int>(options.max_batch_sequences);
  RolloutEngine engine(*model, eo);
  const auto prompts = Prompts(problems, languages);
  std::string model_name = options.model_name;
  if (model_name.empty()) model_name = fs::path(options.model_dir).lexically_normal().filename().string();
  if (model_name.empty()) model_name = fs::path(options.model_dir).parent_path().filename().string();
  for (size_t i = 0; i < prompts.size(); ++i) {
    std::vector<int32_t> prompt;
    if (!hf) prompt.push_back(CharTokenizer::kBos);
    for (int32_t t : encode(RenderPrompt(prompt_template, *prompts[i].first, prompts[i].second))) {
      prompt.push_back(t);
    }
    if (static_cast<int64_t>(prompt.size()) + options.max_tokens > model->max_positions()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "prompt of ", prompts[i].first->id, " (", prompt.size(), " tokens) plus engine.max_tokens = ",
          options.max_tokens, " exceeds the model's ", model->max_positions(),
          " positions; shorten prompt.template or lower engine.max_tokens"));
    }
    for (int64_t j = 0; j < options.samples_per_prompt; ++j) {
      GenerationRequest r;
      r.request_id = static_cast<uint32_t>(i);
      r.sample_index = static_cast<uint32_t>(j);
      r.prompt = prompt;
      r.max_new_tokens = static_cast<int>(options.max_tokens);
      r.sampling.temperature = static_cast<float>(options.temperature);
      r.sampling.top_p = static_cast<float>(options.top_p);
      r.seed = options.seed;
      r.stop_tokens = stops;
      LOCKSTEP_RETURN_IF_ERROR(engine.Submit(std::move(r)));
    }
  }
  const int64_t total = static_cast<int64_t>(prompts.size()) * options.samples_per_prompt;
  std::vector<EvalSample> samples(static_cast<size_t>(total));
  int64_t done = 0;
  while (!engine.Idle()) {
    LOCKSTEP_ASSIGN_OR_RETURN(auto finished, engine.Step());
    for (const GenerationResult& r : finished) {
      const auto& [problem, language] = prompts[r.request_id];
      samples[r.request_id * options.samples_per_prompt + r.sample_index] =
          EvalSample{model_name, problem->id, language, decode(r.tokens)};
      ++done;
      if (progress && progress_every > 0 && (done % progress_every == 0 || done == total)) {
        progress(done, total);
      }
    }
  }
  return samples;
}

absl::StatusOr<std::vector<EvalSample>> EndpointSamples(
    const EndpointSourceOptions& options, const rewards::ProblemSet& problems,
    const std::vector<std::string>& languages, const std::string& prompt_template,
    int64_t progress_every, const SampleProgress& progress) {
  LOCKSTEP_RETURN_IF_ERROR(HttpUrl::Parse(options.url).status());
  const auto prompts = Prompts(problems, languages);
  const std::string model_name = options.model_name.empty() ? options.model : options.model_name;
  // One job per request: (prompt index, first sample index, count).
  struct Job {
    size_t prompt;
    int64_t first, count;
  };
  std::vector<Job> jobs;
  for (size_t i = 0; i < prompts.size(); ++i) {
    for (int64_t first = 0; first < options.samples_per_prompt; first += options.samples_per_request) {
      jobs.push_back({i, first, std::min(options.samples_per_request, options.samples_per_prompt - first)});
    }
  }
  const int64_t total = static_cast<int64_t>(prompts.size()) * options.samples_per_prompt;
  std::vector<EvalSample> samples(static_cast<size_t>(total));
  std::vector<std::pair<std::string, std::string>> headers = {{"Content-Type", "application/json"}};
  if (!options.api_key.empty()) headers.emplace_back("Authorization", "Bearer " + options.api_key);

  std::mutex mutex;  // guards error, done
  absl::Status error;
  int64_t done = 0;
  std::atomic<size_t> next{0};
  auto run_job = [&](const Job& job) -> absl::Status {
    const auto& [problem, language] = prompts[job.prompt];
    const std::string prompt = RenderPrompt(prompt_template, *problem, language);
    nlohmann::json body{{"model", options.model},
                        {"max_tokens", options.max_tokens},
                        {"temperature", options.temperature},
                        {"top_p", options.top_p},
                        {"n", job.count}};
    if (options.api == "chat") {
      body["messages"] = nlohmann::json::array({{{"role", "user"}, {"content", prompt}}});
    } else {
      body["prompt"] = prompt;
    }
    absl::Status last;
    for (int64_t attempt = 0; attempt <= options.retries; ++attempt) {
      if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(250 << std::min<int64_t>(attempt, 5)));
      auto response = HttpPost(options.url, body.dump(), headers,
                               std::chrono::milliseconds(static_cast<int64_t>(options.timeout_s * 1000)));
      if (!response.ok()) {
        last = response.status();
        continue;
      }
      if (response->status == 429 || response->status >= 500) {
        last = absl::UnavailableError(absl::StrCat("endpoint ", options.url, ": HTTP ", response->status,
                                                   ": ", response->body.substr(0, 200)));
        continue;
      }
      if (response->status != 200) {
        return absl::FailedPreconditionError(absl::StrCat(
            "endpoint ", options.url, ": HTTP ", response->status, ": ", response->body.substr(0, 300),
            response->status == 401 ? " (check the API key variable named by endpoint.api_key_env)" : ""));
      }
      nlohmann::json reply = nlohmann::json::parse(response->body, nullptr, false);
      if (reply.is_discarded() || !reply.contains("choices") || !reply["choices"].is_array()) {
        return absl::DataLossError(absl::StrCat("endpoint ", options.url,
                                                ": reply is not an OpenAI completions object: ",
                                                response->body.substr(0, 200)));
      }
      std::vector<std::string> texts;
      for (const auto& choice : reply["choices"]) {
        const nlohmann::json* text = nullptr;
        if (choice.contains("text") && choice["text"].is_string()) text = &choice["text"];
        if (choice.contains("message") && choice["message"].contains("content") &&
            choice["message"]["content"].is_string()) {
          text = &choice["message"]["content"];
        }
        if (text == nullptr) {
          return absl::DataLossError(absl::StrCat("endpoint ", options.url, ": a choice has no text"));
        }
        texts.push_back(text->get<std::string>());
      }
      if (static_cast<int64_t>(texts.size()) != job.count) {
        return absl::DataLossError(absl::StrCat("endpoint ", options.url, ": asked for n = ", job.count,
                                                " choices, got ", texts.size(),
                                                " (lower endpoint.samples_per_request to 1 for servers without n)"));
      }
      for (int64_t j = 0; j < job.count; ++j) {
        samples[job.prompt * options.samples_per_prompt + job.first + j] =
            EvalSample{model_name, problem->id, language, texts[j]};
      }
      return absl::OkStatus();
    }
    return last;
  };
  auto worker = [&] {
    for (size_t i = next++; i < jobs.size(); i = next++) {
      {
        std::lock_guard<std::mutex> lock(mutex);
        if (!error.ok()) return;
      }
      absl::Status s = run_job(jobs[i]);
      std::lock_guard<std::mutex> lock(mutex);
      if (!s.ok()) {
        if (error.ok()) error = s;
        return;
      }
      const int64_t before = done;
      done += jobs[i].count;
      if (progress && progress_every > 0 &&
          (done / progress_every != before / progress_every || done == total)) {
        progress(done, total);
      }
    }
  };
  std::vector<std::thread> pool;
  const int64_t threads = std::max<int64_t>(1, std::min<int64_t>(options.concurrency, jobs.size()));
  for (int64_t t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  if (!error.ok()) return error;
  return samples;
}

}  // namespace lockstep::driver
