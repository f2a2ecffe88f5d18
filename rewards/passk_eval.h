// The pass@k evaluator: scores (model, problem, language, completion) samples
// with a Reward on a few threads, tallies them per (model, language, problem),
// and summarises each (model, language) cell as a pass@k curve with bootstrap
// intervals over problems. Samples whose reward is an infrastructure failure
// are counted under their status and left out of n (and so of every pass@k);
// a cell none of whose samples was judged has no curve and says why.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "rewards/passk.h"
#include "rewards/reward.h"

namespace lockstep::rewards {

struct EvalSample {
  std::string model;
  std::string problem;
  std::string language;
  std::string completion;
};

struct ScoreProgress {
  int64_t done = 0, total = 0;
  std::map<std::string, int64_t> statuses;  // status name → samples so far
  double elapsed_s = 0;
};

// Scores every sample (results in sample order) on `threads` threads; calls
// `progress` (from one thread at a time) after every `progress_every` samples
// and once at the end.
std::vector<RewardResult> ScoreSamples(const std::vector<EvalSample>& samples, const Reward& reward,
                                       int threads, int64_t progress_every,
                                       const std::function<void(const ScoreProgress&)>& progress);

struct ProblemTally {
  std::string problem;
  int64_t samples = 0;  // all, judged or not
  int64_t n = 0;        // judged
  int64_t c = 0;        // passed
  std::map<std::string, int64_t> statuses;
};

struct CellReport {
  std::string model, language;
  std::vector<ProblemTally> problems;         // problem-id order
  std::map<std::string, int64_t> statuses;    // over all samples
  int64_t samples = 0, judged = 0, passed = 0, infrastructure_failures = 0;
  std::vector<std::string> unjudged_problems; // every sample an infrastructure failure
  int64_t max_k = 0;                          // min n over judged problems
  std::vector<Interval> curve;                // k = 1..max_k, over judged problems
  std::string note;                           // why there is no curve, or what was left out
};

struct PassKReport {
  std::vector<std::string> models, languages;  // first-seen order
  std::vector<CellReport> cells;               // models × languages present
  std::vector<int64_t> ks;                     // the k values of the summary tables
  BootstrapOptions bootstrap;
  const CellReport* Find(const std::string& model, const std::string& language) const;
};

// `ks`: the k values to tabulate (a cell shows k only where k <= its max_k).
PassKReport TallyPassK(const std::vector<EvalSample>& samples,
                       const std::vector<RewardResult>& results, std::vector<int64_t> ks,
                       const BootstrapOptions& bootstrap);

// passk.json: {"ks", "bootstrap", "cells": [{model, language, samples, judged,
// passed, infrastructure_failures, statuses, unjudged_problems, max_k, note,
// "pass_at_k": {"1": {estimate, low, high}, ...} (the ks), "curve": [...],
// "problems": [{problem, samples, n, c, statuses, pass_at_k}]}]}.
nlohmann::json PassKReportToJson(const PassKReport& report);

}  // namespace lockstep::rewards
