// Sampling an OpenAI-compatible endpoint (eval/endpoint_source.h).
#include "eval/endpoint_source.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "eval/http_client.h"
#include "nlohmann/json.hpp"
#include "numerics/status_macros.h"

namespace lockstep::eval {

using rewards::EvalSample;

absl::StatusOr<std::vector<EvalSample>> EndpointSamples(
    const EndpointSourceOptions& options, const rewards::ProblemSet& problems,
    const std::vector<std::string>& languages, const std::string& prompt_template,
    int64_t progress_every, const SampleProgress& progress) {
  LOCKSTEP_RETURN_IF_ERROR(HttpUrl::Parse(options.url).status());
  const auto prompts = PromptPairs(problems, languages);
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

  HttpOptions http_options;
  http_options.timeout = std::chrono::milliseconds(static_cast<int64_t>(options.timeout_s * 1000));
  http_options.ca_file = options.ca_file;
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
      body["messages"] = nlohmann::json::array();
      if (!options.system_prompt.empty()) {
        body["messages"].push_back({{"role", "system"}, {"content", options.system_prompt}});
      }
      body["messages"].push_back({{"role", "user"}, {"content", prompt}});
    } else {
      body["prompt"] = prompt;
    }
    absl::Status last;
    for (int64_t attempt = 0; attempt <= options.retries; ++attempt) {
      if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(250 << std::min<int64_t>(attempt, 5)));
      auto response = HttpPost(options.url, body.dump(), headers, http_options);
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

}  // namespace lockstep::eval
