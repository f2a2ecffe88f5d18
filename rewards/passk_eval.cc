#include "rewards/passk_eval.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"

namespace lockstep::rewards {

std::vector<RewardResult> ScoreSamples(const std::vector<EvalSample>& samples, const Reward& reward,
                                       int threads, int64_t progress_every,
                                       const std::function<void(const ScoreProgress&)>& progress) {
  std::vector<RewardResult> results(samples.size());
  const auto start = std::chrono::steady_clock::now();
  std::mutex mutex;  // guards state
  ScoreProgress state;
  state.total = static_cast<int64_t>(samples.size());
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next++; i < samples.size(); i = next++) {
      const EvalSample& s = samples[i];
      results[i] = reward.Score(RewardSample{s.problem, s.language, s.completion});
      std::lock_guard<std::mutex> lock(mutex);
      ++state.done;
      ++state.statuses[std::string(RewardStatusName(results[i].status))];
      if (progress && progress_every > 0 &&
          (state.done % progress_every == 0 || state.done == state.total)) {
        state.elapsed_s =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        progress(state);
      }
    }
  };
  const int workers = std::max(1, std::min<int>(threads, static_cast<int>(samples.size())));
  std::vector<std::thread> pool;
  for (int t = 1; t < workers; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  return results;
}

const CellReport* PassKReport::Find(const std::string& model, const std::string& language) const {
  for (const CellReport& c : cells) {
    if (c.model == model && c.language == language) return &c;
  }
  return nullptr;
}

PassKReport TallyPassK(const std::vector<EvalSample>& samples,
                       const std::vector<RewardResult>& results, std::vector<int64_t> ks,
                       const BootstrapOptions& bootstrap) {
  PassKReport report;
  report.bootstrap = bootstrap;
  std::sort(ks.begin(), ks.end());
  ks.erase(std::unique(ks.begin(), ks.end()), ks.end());
  report.ks = ks;
  // (model, language) → problem → tally
  std::map<std::pair<std::string, std::string>, std::map<std::string, ProblemTally>> tallies;
  for (size_t i = 0; i < samples.size() && i < results.size(); ++i) {
    const EvalSample& s = samples[i];
    if (std::find(report.models.begin(), report.models.end(), s.model) == report.models.end()) {
      report.models.push_back(s.model);
    }
    if (std::find(report.languages.begin(), report.languages.end(), s.language) ==
        report.languages.end()) {
      report.languages.push_back(s.language);
    }
    ProblemTally& t = tallies[{s.model, s.language}][s.problem];
    t.problem = s.problem;
    ++t.samples;
    ++t.statuses[std::string(RewardStatusName(results[i].status))];
    if (!IsInfrastructureFailure(results[i].status)) {
      ++t.n;
      if (results[i].passed()) ++t.c;
    }
  }
  for (const std::string& model : report.models) {
    for (const std::string& language : report.languages) {
      auto it = tallies.find({model, language});
      if (it == tallies.end()) continue;
      CellReport cell;
      cell.model = model;
      cell.language = language;
      std::vector<ProblemCount> counts;
      for (auto& [id, t] : it->second) {
        cell.samples += t.samples;
        cell.judged += t.n;
        cell.passed += t.c;
        cell.infrastructure_failures += t.samples - t.n;
        for (const auto& [status, count] : t.statuses) cell.statuses[status] += count;
        if (t.n == 0) {
          cell.unjudged_problems.push_back(id);
        } else {
          counts.push_back({t.n, t.c});
          cell.max_k = cell.max_k == 0 ? t.n : std::min(cell.max_k, t.n);
        }
        cell.problems.push_back(t);
      }
      if (counts.empty()) {
        std::string why;
        for (const auto& [status, count] : cell.statuses) absl::StrAppend(&why, why.empty() ? "" : ", ", status, " ", count);
        cell.note = absl::StrCat("not judged: every sample was an infrastructure failure (", why, ")");
      } else {
        cell.curve = MeanPassAtKWithIntervals(counts, cell.max_k, bootstrap);
        if (!cell.unjudged_problems.empty() || cell.infrastructure_failures > 0) {
          cell.note = absl::StrCat(cell.infrastructure_failures,
                                   " samples not judged (infrastructure failures) and left out of n; ",
                                   cell.unjudged_problems.size(), " problems had no judged sample");
        }
      }
      report.cells.push_back(std::move(cell));
    }
  }
  return report;
}

nlohmann::json PassKReportToJson(const PassKReport& report) {
  using nlohmann::json;
  auto interval = [](const Interval& i) {
    return json{{"estimate", i.estimate}, {"low", i.low}, {"high", i.high}};
  };
  json out;
  out["ks"] = report.ks;
  out["models"] = report.models;
  out["languages"] = report.languages;
  out["bootstrap"] = {{"resamples", report.bootstrap.resamples},
                      {"confidence", report.bootstrap.confidence},
                      {"seed", report.bootstrap.seed},
                      {"over", "problems"},
                      {"method", "percentile"}};
  out["estimator"] =
      "unbiased pass@k = 1 - C(n-c,k)/C(n,k) per problem, mean over judged problems; "
      "n excludes infrastructure failures (sandbox_error, toolchain_unavailable)";
  json cells = json::array();
  for (const CellReport& c : report.cells) {
    json cell{{"model", c.model},
              {"language", c.language},
              {"samples", c.samples},
              {"judged", c.judged},
              {"passed", c.passed},
              {"infrastructure_failures", c.infrastructure_failures},
              {"statuses", c.statuses},
              {"unjudged_problems", c.unjudged_problems},
              {"max_k", c.max_k},
              {"note", c.note}};
    json at_k = json::object();
    for (int64_t k : report.ks) {
      if (k >= 1 && k <= c.max_k) at_k[std::to_string(k)] = interval(c.curve[k - 1]);
    }
    cell["pass_at_k"] = at_k;
    json curve = json::array();
    for (size_t k = 0; k < c.curve.size(); ++k) {
      json point = interval(c.curve[k]);
      point["k"] = k + 1;
      curve.push_back(point);
    }
    cell["curve"] = curve;
    json problems = json::array();
    for (const ProblemTally& t : c.problems) {
      json p{{"problem", t.problem}, {"samples", t.samples}, {"n", t.n}, {"c", t.c},
             {"statuses", t.statuses}};
      json pk = json::object();
      for (int64_t k : report.ks) {
        if (k >= 1 && k <= t.n) pk[std::to_string(k)] = PassAtK(t.n, t.c, k);
      }
      p["pass_at_k"] = pk;
      problems.push_back(p);
    }
    cell["problems"] = problems;
    cells.push_back(cell);
  }
  out["cells"] = cells;
  return out;
}

}  // namespace lockstep::rewards
