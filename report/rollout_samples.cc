#include "report/rollout_samples.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "report/jsonl_scan.h"

namespace lockstep::report {
namespace {

// Per-token arrays are large and the table does not show them: the parser drops
// them as it goes instead of building them.
bool IsBulkyField(const std::string& key) { return key == "tokens" || key == "logprobs"; }

std::string TextOf(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_null()) return "";
  return value.dump();  // e.g. a chat-format prompt (a list of messages)
}

std::optional<int64_t> IntOf(const nlohmann::json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_number()) return std::nullopt;
  return it->get<int64_t>();
}

std::string Truncated(std::string text, size_t max_chars) {
  if (text.size() <= max_chars) return text;
  size_t cut = max_chars;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // UTF-8
  text.resize(cut);
  return text;
}

}  // namespace

std::vector<int64_t> ChooseSteps(const std::vector<int64_t>& steps,
                                 const SampleSelection& selection) {
  const size_t first = static_cast<size_t>(std::max(0, selection.first_steps));
  const size_t middle = static_cast<size_t>(std::max(0, selection.middle_steps));
  const size_t last = static_cast<size_t>(std::max(0, selection.last_steps));
  if (steps.size() <= first + middle + last) return steps;
  std::set<int64_t> chosen;
  for (size_t i = 0; i < first; ++i) chosen.insert(steps[i]);
  for (size_t i = 0; i < last; ++i) chosen.insert(steps[steps.size() - 1 - i]);
  // Evenly spaced among the steps strictly between the first and last groups.
  const size_t inner_begin = first, inner_count = steps.size() - first - last;
  for (size_t k = 0; k < middle; ++k) {
    chosen.insert(steps[inner_begin + (2 * k + 1) * inner_count / (2 * middle)]);
  }
  return {chosen.begin(), chosen.end()};
}

RolloutSampler::RolloutSampler(SampleSelection selection, const std::vector<int64_t>& known_steps,
                               std::string source)
    : selection_(selection), source_(std::move(source)) {
  if (!known_steps.empty()) {
    const std::vector<int64_t> chosen = ChooseSteps(known_steps, selection_);
    wanted_.emplace(chosen.begin(), chosen.end());
  }
}

bool RolloutSampler::Wanted(int64_t step) const {
  if (wanted_ && !wanted_->contains(step)) return false;
  auto it = kept_.find(step);
  return it == kept_.end() || it->second.size() < static_cast<size_t>(selection_.per_step);
}

absl::Status RolloutSampler::AddLine(std::string_view line, int64_t line_number) {
  if (line.find_first_not_of(" \t\r\n") == std::string_view::npos) return absl::OkStatus();
  // A structural scan finds the step; only samples that will be shown are parsed
  // in full (a 1 GB rollouts.jsonl is mostly token and logprob arrays).
  const absl::StatusOr<std::optional<int64_t>> scanned = ScanTopLevelInteger(line, "step");
  if (!scanned.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(source_, ":", line_number, ": malformed JSON (", scanned.status().message(),
                     "); each line of rollouts.jsonl must be one sample object"));
  }
  if (!scanned->has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat(source_, ":", line_number, ": sample has no integer \"step\""));
  }
  const int64_t step = **scanned;
  ++samples_read_;
  steps_seen_.insert(step);
  if (!Wanted(step)) return absl::OkStatus();
  const nlohmann::json::parser_callback_t drop_bulky =
      [](int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
        return !(depth == 1 && event == nlohmann::json::parse_event_t::key &&
                 IsBulkyField(parsed.get<std::string>()));
      };
  const nlohmann::json sample = nlohmann::json::parse(line, drop_bulky, /*allow_exceptions=*/false);
  if (sample.is_discarded() || !sample.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat(source_, ":", line_number,
                     ": not a JSON object (each line of rollouts.jsonl must be one sample)"));
  }
  RolloutSample s;
  s.step = step;
  s.line = line_number;
  std::string prompt = sample.contains("prompt") ? TextOf(sample["prompt"]) : "";
  std::string completion = sample.contains("completion") ? TextOf(sample["completion"]) : "";
  s.prompt_chars = prompt.size();
  s.completion_chars = completion.size();
  s.prompt = Truncated(std::move(prompt), selection_.max_text_chars);
  s.completion = Truncated(std::move(completion), selection_.max_text_chars);
  auto reward = sample.find("reward");
  s.reward = reward != sample.end() && reward->is_number()
                 ? reward->get<double>()
                 : std::numeric_limits<double>::quiet_NaN();
  if (sample.contains("reward_status")) s.reward_status = TextOf(sample["reward_status"]);
  if (sample.contains("reward_detail")) {
    s.reward_detail = Truncated(TextOf(sample["reward_detail"]), 300);
  }
  if (sample.contains("finish_reason")) s.finish_reason = TextOf(sample["finish_reason"]);
  if (sample.contains("request_id")) s.request_id = TextOf(sample["request_id"]);
  s.weight_version = IntOf(sample, "weight_version");
  s.staleness = IntOf(sample, "staleness");
  s.sample_index = IntOf(sample, "sample_index");
  kept_[step].push_back(std::move(s));
  return absl::OkStatus();
}

std::vector<RolloutSample> RolloutSampler::Selected() const {
  // With wanted_ set, only chosen steps were kept; else choose among those seen.
  std::set<int64_t> chosen;
  if (wanted_) {
    chosen = *wanted_;
  } else {
    std::vector<int64_t> steps;
    for (const auto& [step, samples] : kept_) steps.push_back(step);
    for (int64_t step : ChooseSteps(steps, selection_)) chosen.insert(step);
  }
  std::vector<RolloutSample> out;
  for (const auto& [step, samples] : kept_) {
    if (chosen.contains(step)) out.insert(out.end(), samples.begin(), samples.end());
  }
  return out;
}

absl::StatusOr<RolloutSampler> SampleRolloutsFile(const std::string& path,
                                                  const SampleSelection& selection,
                                                  const std::vector<int64_t>& known_steps) {
  RolloutSampler sampler(selection, known_steps, path);
  std::ifstream in(path);
  if (!in) return sampler;
  std::string line;
  for (int64_t n = 1; std::getline(in, line); ++n) {
    absl::Status s = sampler.AddLine(line, n);
    // A last line without its newline may be one the job is still writing: skipped.
    if (!s.ok() && !in.eof()) return s;
  }
  if (in.bad()) return absl::DataLossError(absl::StrCat(path, ": read failed"));
  return sampler;
}

}  // namespace lockstep::report
