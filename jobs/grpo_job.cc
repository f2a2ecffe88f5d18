#include "jobs/grpo_job.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "config/file_io.h"
#include "jobs/grpo_batch.h"
#include "jobs/job_sections.h"
#include "jobs/run_checkpoints.h"
#include "model/weights.h"
#include "nlohmann/json.hpp"
#include "numerics/status_macros.h"
#include "report/run_metrics.h"
#include "report/run_report.h"
#include "report/tensorboard_events.h"
#include "rewards/program_executor.h"
#include "rollout/client.h"
#include "trainer/advantages.h"
#include "trainer/policy_token_loss.h"
#include "trainer/trainer.h"

namespace lockstep::jobs {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

double SecondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Request ids of held-out evaluation prompts: outside any training prompt's id.
constexpr uint32_t kEvalRequestIdBase = 0x80000000u;

// The prompts of one step and what the engines generated for them.
struct GeneratedStep {
  int64_t step = 0;
  std::vector<GrpoPrompt> prompts;
  std::vector<rollout::RolloutResult> results;  // sorted by (request_id, sample_index)
};

std::vector<GrpoPrompt> StepPrompts(const GrpoTask& task, int64_t step, int per_step) {
  std::vector<GrpoPrompt> prompts;
  for (int i = 0; i < per_step; ++i) {
    prompts.push_back(task.Prompt(static_cast<uint64_t>(step) * per_step + i));
  }
  return prompts;
}

std::vector<rollout::RolloutRequest> ToRolloutRequests(const std::vector<GrpoPrompt>& prompts,
                                                       int samples, const GrpoRolloutOptions& ro,
                                                       const SamplingParams& sampling,
                                                       const GrpoTask& task,
                                                       uint32_t request_id_base = 0) {
  std::vector<rollout::RolloutRequest> out;
  for (size_t p = 0; p < prompts.size(); ++p) {
    for (int s = 0; s < samples; ++s) {
      rollout::RolloutRequest r;
      r.request_id = request_id_base == 0 ? static_cast<uint32_t>(prompts[p].index)
                                          : request_id_base + static_cast<uint32_t>(p);
      r.sample_index = static_cast<uint32_t>(s);
      r.prompt = prompts[p].tokens;
      r.max_new_tokens = ro.max_new_tokens;
      r.sampling = sampling;
      r.seed = ro.seed;
      r.stop_tokens = task.StopTokens();
      out.push_back(std::move(r));
    }
  }
  return out;
}

json ResultToJson(const rollout::RolloutResult& r) {
  return {{"request_id", r.request_id},       {"sample_index", r.sample_index},
          {"tokens", r.tokens},               {"logprobs", r.logprobs},
          {"finish_reason", FinishReasonName(r.finish_reason)},
          {"weight_version", r.weight_version}};
}

rollout::RolloutResult ResultFromJson(const json& j) {
  rollout::RolloutResult r;
  r.request_id = j.at("request_id").get<uint32_t>();
  r.sample_index = j.at("sample_index").get<uint32_t>();
  r.tokens = j.at("tokens").get<std::vector<int32_t>>();
  r.logprobs = j.at("logprobs").get<std::vector<float>>();
  r.finish_reason = j.at("finish_reason").get<std::string>() == "stop" ? FinishReason::kStop
                                                                       : FinishReason::kLength;
  r.weight_version = j.at("weight_version").get<int64_t>();
  return r;
}

// Appends lines to a JSONL file, flushing each (a crash loses at most the line being written).
class JsonlWriter {
 public:
  static absl::StatusOr<JsonlWriter> Open(const std::string& path) {
    JsonlWriter w;
    w.out_ = std::make_unique<std::ofstream>(path, std::ios::app);
    if (!*w.out_) return absl::InternalError(absl::StrCat("cannot open ", path, " for appending"));
    w.path_ = path;
    return w;
  }
  // A completion cut off inside a multi-byte character (BPE tokens are bytes)
  // is not valid UTF-8: such bytes are written as U+FFFD; the ids are exact.
  absl::Status Write(const json& line) {
    *out_ << line.dump(-1, ' ', false, json::error_handler_t::replace) << '\n' << std::flush;
    if (!*out_) return absl::InternalError(absl::StrCat("cannot write ", path_));
    return absl::OkStatus();
  }

 private:
  std::unique_ptr<std::ofstream> out_;
  std::string path_;
};

std::string FormatDuration(double seconds) {
  const int64_t s = static_cast<int64_t>(std::llround(std::max(0.0, seconds)));
  if (s >= 3600) return absl::StrFormat("%dh%02dm", s / 3600, (s / 60) % 60);
  if (s >= 60) return absl::StrFormat("%dm%02ds", s / 60, s % 60);
  return absl::StrFormat("%ds", s);
}

class GrpoRun {
 public:
  GrpoRun(const GrpoOptions& options, std::string run_dir, const std::atomic<bool>* stop)
      : options_(options), run_dir_(std::move(run_dir)), stop_(stop) {}

  absl::StatusOr<GrpoRunSummary> Run(const GrpoEndpoints& endpoints, bool resume);

 private:
  bool StopRequested() const { return stop_ != nullptr && stop_->load(); }
  absl::Status Publish();
  absl::StatusOr<GeneratedStep> Generate(int64_t step);
  absl::StatusOr<uint64_t> SubmitStep(int64_t step, GeneratedStep* prompts_only);
  absl::StatusOr<double> EvalAccuracy();
  absl::Status TrainStep(GeneratedStep generated, double rollout_seconds);
  absl::Status SaveCheckpoint(int64_t step);
  absl::Status Resume(int64_t* first_step);

  const GrpoOptions& options_;
  std::string run_dir_;
  const std::atomic<bool>* stop_;
  std::unique_ptr<rewards::ProgramExecutor> executor_;
  std::unique_ptr<GrpoTask> task_;
  std::unique_ptr<trainer::Trainer> trainer_;
  std::unique_ptr<rollout::RolloutClient> client_;
  std::optional<JsonlWriter> metrics_, rollouts_;
  std::unique_ptr<report::TensorBoardWriter> events_;  // RUN/events.out.tfevents.*
  std::optional<GeneratedStep> pending_;  // max_staleness 1: the next step's rollouts
  uint64_t pending_ticket_ = 0;
  double eval_before_ = -1.0;
  double weight_sync_seconds_ = 0.0;  // of the last publish
  Clock::time_point run_start_;
  int64_t first_step_ = 0;
  int64_t tokens_generated_ = 0;
};

absl::Status GrpoRun::Publish() {
  const auto t0 = Clock::now();
  LOCKSTEP_RETURN_IF_ERROR(client_->PublishWeights(trainer_->step(), trainer_->weights()));
  weight_sync_seconds_ = SecondsSince(t0);
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> GrpoRun::SubmitStep(int64_t step, GeneratedStep* generated) {
  generated->step = step;
  generated->prompts = StepPrompts(*task_, step, options_.prompts_per_step);
  return client_->Submit(ToRolloutRequests(generated->prompts, options_.rollout.samples_per_prompt,
                                           options_.rollout, options_.rollout.sampling, *task_),
                         trainer_->step());
}

absl::StatusOr<GeneratedStep> GrpoRun::Generate(int64_t step) {
  GeneratedStep generated;
  LOCKSTEP_ASSIGN_OR_RETURN(uint64_t ticket, SubmitStep(step, &generated));
  LOCKSTEP_ASSIGN_OR_RETURN(generated.results, client_->Wait(ticket));
  return generated;
}

absl::StatusOr<double> GrpoRun::EvalAccuracy() {
  std::vector<GrpoPrompt> prompts;
  for (int i = 0; i < options_.eval_prompts; ++i) {
    prompts.push_back(task_->Prompt(kHeldOutPromptBase + static_cast<uint64_t>(i)));
  }
  SamplingParams greedy;
  greedy.temperature = 0.0f;
  LOCKSTEP_ASSIGN_OR_RETURN(
      std::vector<rollout::RolloutResult> results,
      client_->Generate(ToRolloutRequests(prompts, 1, options_.rollout, greedy, *task_,
                                          kEvalRequestIdBase),
                        trainer_->step()));
  std::vector<const GrpoPrompt*> scored;
  std::vector<std::string> completions;
  for (const rollout::RolloutResult& r : results) {
    scored.push_back(&prompts.at(r.request_id - kEvalRequestIdBase));
    completions.push_back(task_->CompletionText(r.tokens));
  }
  LOCKSTEP_ASSIGN_OR_RETURN(std::vector<rewards::RewardResult> rewards,
                            task_->Score(scored, completions));
  int passed = 0;
  for (const auto& r : rewards) passed += r.passed() ? 1 : 0;
  return rewards.empty() ? 0.0 : static_cast<double>(passed) / static_cast<double>(rewards.size());
}

absl::Status GrpoRun::TrainStep(GeneratedStep generated, double rollout_seconds) {
  const auto step_start = Clock::now();
  const int64_t version = trainer_->step();

  // Rewards.
  std::vector<GrpoSample> samples;
  std::vector<const GrpoPrompt*> prompts;
  std::vector<std::string> completions;
  const int64_t base_index = generated.step * options_.prompts_per_step;
  for (rollout::RolloutResult& r : generated.results) {
    GrpoSample s;
    s.prompt = &generated.prompts.at(r.request_id - base_index);
    s.sample_index = r.sample_index;
    s.tokens = std::move(r.tokens);
    s.logprobs = std::move(r.logprobs);
    s.finish_reason = FinishReasonName(r.finish_reason);
    s.weight_version = r.weight_version;
    s.staleness = version - r.weight_version;
    s.completion = task_->CompletionText(s.tokens);
    prompts.push_back(s.prompt);
    completions.push_back(s.completion);
    samples.push_back(std::move(s));
  }
  const auto reward_start = Clock::now();
  LOCKSTEP_ASSIGN_OR_RETURN(std::vector<rewards::RewardResult> rewards,
                            task_->Score(prompts, completions));
  std::vector<float> reward_values;
  for (size_t i = 0; i < samples.size(); ++i) {
    samples[i].reward = rewards[i];
    reward_values.push_back(static_cast<float>(rewards[i].value));
  }
  const double reward_seconds = SecondsSince(reward_start);

  // Advantages and the update.
  LOCKSTEP_ASSIGN_OR_RETURN(std::vector<float> advantages,
                            trainer::ComputeAdvantages(reward_values,
                                                       options_.rollout.samples_per_prompt,
                                                       options_.advantage));
  for (size_t i = 0; i < samples.size(); ++i) samples[i].advantage = advantages[i];
  const auto train_start = Clock::now();
  TrainingBatch batch = AssembleTrainingBatch(samples, options_.rollout.sampling);
  LOCKSTEP_ASSIGN_OR_RETURN(
      trainer::StepResult result,
      trainer_->Step(batch.sequences, trainer::PolicyTokenLoss(options_.loss, batch.responses)));
  const double train_seconds = SecondsSince(train_start);

  // max_staleness 1: the next step's rollouts ran on the old weights during
  // this update; collect them before the engines take the new weights.
  if (pending_.has_value() && pending_->results.empty()) {
    const auto wait_start = Clock::now();
    LOCKSTEP_ASSIGN_OR_RETURN(pending_->results, client_->Wait(pending_ticket_));
    rollout_seconds += SecondsSince(wait_start);
  }
  LOCKSTEP_RETURN_IF_ERROR(Publish());

  // Metrics.
  const MismatchStats mismatch = ComputeMismatch(samples, result.stats);
  const RewardStats reward = SummariseRewards(samples);
  double length_sum = 0.0, ppo_kl_sum = 0.0, entropy_sum = 0.0, max_staleness = 0.0;
  int64_t tokens = 0, entropy_tokens = 0;
  for (size_t i = 0; i < samples.size(); ++i) {
    length_sum += static_cast<double>(samples[i].tokens.size());
    max_staleness = std::max(max_staleness, static_cast<double>(samples[i].staleness));
    for (size_t t = 0; t < samples[i].logprobs.size() && t < result.stats[i].logprobs.size(); ++t) {
      ppo_kl_sum += static_cast<double>(samples[i].logprobs[t]) - result.stats[i].logprobs[t];
      ++tokens;
    }
    for (float e : result.stats[i].entropies) {
      entropy_sum += e;
      ++entropy_tokens;
    }
  }
  tokens_generated_ += tokens;
  const double step_seconds = SecondsSince(step_start) + rollout_seconds;
  json m = {{"step", generated.step + 1},
            {"weight_version", version},
            {"reward/mean", reward.mean},
            {"reward/std", reward.std},
            {"reward/pass_fraction", reward.pass_fraction},
            {"response_length/mean", samples.empty() ? 0.0 : length_sum / samples.size()},
            {"actor/pg_loss", result.metrics.value("actor/pg_loss", 0.0)},
            {"actor/pg_clipfrac", result.metrics.value("actor/pg_clipfrac", 0.0)},
            {"actor/ppo_kl", tokens == 0 ? 0.0 : ppo_kl_sum / tokens},
            {"actor/kl", result.metrics.value("actor/kl", 0.0)},
            {"actor/entropy", entropy_tokens == 0 ? 0.0 : entropy_sum / entropy_tokens},
            {"actor/grad_norm", result.optimizer.grad_norm},
            {"actor/lr", result.optimizer.lr},
            {"actor/ratio_max", result.metrics.value("actor/ratio_max", 1.0)},
            {"actor/ratio_min", result.metrics.value("actor/ratio_min", 1.0)},
            {"mismatch/tokens", mismatch.tokens},
            {"mismatch/bitwise_equal_fraction", mismatch.bitwise_equal_fraction()},
            {"mismatch/max_abs_logprob_diff", mismatch.max_abs_diff},
            {"mismatch/k3_kl", mismatch.k3_kl},
            {"rollout/max_staleness", max_staleness},
            {"timing/rollout_s", rollout_seconds},
            {"timing/reward_s", reward_seconds},
            {"timing/train_s", train_seconds},
            {"timing/weight_sync_s", weight_sync_seconds_},
            {"timing/step_s", step_seconds},
            {"perf/tokens_per_s", step_seconds > 0 ? tokens / step_seconds : 0.0}};
  LOCKSTEP_RETURN_IF_ERROR(metrics_->Write(m));
  LOCKSTEP_RETURN_IF_ERROR(events_->WriteScalars(generated.step + 1, m));
  for (const GrpoSample& s : samples) {
    LOCKSTEP_RETURN_IF_ERROR(rollouts_->Write(
        {{"step", generated.step + 1},
         {"prompt", s.prompt->text},
         {"answer", s.prompt->answer},
         {"completion", s.completion},
         {"reward", s.reward.value},
         {"reward_status", std::string(rewards::RewardStatusName(s.reward.status))},
         {"reward_detail", s.reward.detail},
         {"advantage", s.advantage},
         {"tokens", s.tokens},
         {"logprobs", s.logprobs},
         {"finish_reason", s.finish_reason},
         {"weight_version", s.weight_version},
         {"staleness", s.staleness},
         {"request_id", s.prompt->index},
         {"sample_index", s.sample_index}}));
  }

  const int64_t done = generated.step + 1 - first_step_;
  const int64_t left = options_.steps - (generated.step + 1);
  const double elapsed = SecondsSince(run_start_);
  std::fprintf(stderr,
               "grpo step %lld/%lld | reward %.3f | ppo_kl %.2e | bitwise %.3f (max |dlogp| %.1e) | "
               "%.0f tok/s | %s elapsed, ETA %s\n",
               static_cast<long long>(generated.step + 1), static_cast<long long>(options_.steps),
               reward.mean, tokens == 0 ? 0.0 : ppo_kl_sum / tokens,
               mismatch.bitwise_equal_fraction(), mismatch.max_abs_diff,
               step_seconds > 0 ? tokens / step_seconds : 0.0, FormatDuration(elapsed).c_str(),
               FormatDuration(elapsed / done * left).c_str());
  return absl::OkStatus();
}

absl::Status GrpoRun::SaveCheckpoint(int64_t step) {
  json state = {{"data_step", step}, {"eval_accuracy_before", eval_before_}};
  if (pending_.has_value()) {
    json pending = json::array();
    for (const auto& r : pending_->results) pending.push_back(ResultToJson(r));
    state["pending_step"] = pending_->step;
    state["pending_results"] = std::move(pending);
  }
  const fs::path dir = fs::path(run_dir_) / "checkpoints" / absl::StrCat("step_", step);
  fs::create_directories(dir.parent_path());
  LOCKSTEP_RETURN_IF_ERROR(trainer_->SaveCheckpoint(dir.string(), state));
  // The tokenizer and generation settings of an HF starting directory travel with the
  // weights, so a checkpoint serves and evaluates like the directory it came from.
  if (options_.model.init_from.empty()) return absl::OkStatus();
  return CopyModelDirCompanions(options_.model.init_from, dir.string());
}

absl::Status GrpoRun::Resume(int64_t* first_step) {
  const std::string ckpt_root = (fs::path(run_dir_) / "checkpoints").string();
  LOCKSTEP_ASSIGN_OR_RETURN(int64_t newest, NewestCheckpointStep(ckpt_root));
  json state;
  LOCKSTEP_ASSIGN_OR_RETURN(
      trainer_, trainer::Trainer::LoadCheckpoint(
                    (fs::path(ckpt_root) / absl::StrCat("step_", newest)).string(),
                    options_.trainer, &state));
  *first_step = state.value("data_step", newest);
  eval_before_ = state.value("eval_accuracy_before", -1.0);
  if (state.contains("pending_step")) {
    GeneratedStep pending;
    pending.step = state["pending_step"].get<int64_t>();
    pending.prompts = StepPrompts(*task_, pending.step, options_.prompts_per_step);
    for (const json& r : state["pending_results"]) pending.results.push_back(ResultFromJson(r));
    pending_ = std::move(pending);
  }
  LOCKSTEP_RETURN_IF_ERROR(
      TruncateJsonlAfterStep((fs::path(run_dir_) / "metrics.jsonl").string(), *first_step));
  LOCKSTEP_RETURN_IF_ERROR(
      TruncateJsonlAfterStep((fs::path(run_dir_) / "rollouts.jsonl").string(), *first_step));
  std::fprintf(stderr, "grpo: resuming %s at step %lld\n", run_dir_.c_str(),
               static_cast<long long>(*first_step));
  return absl::OkStatus();
}

absl::StatusOr<GrpoRunSummary> GrpoRun::Run(const GrpoEndpoints& endpoints, bool resume) {
  run_start_ = Clock::now();
  if (!endpoints.sandbox.empty()) {
    executor_ = std::make_unique<rewards::PoolExecutor>(
        endpoints.sandbox,
        std::chrono::milliseconds(static_cast<int64_t>(options_.sandbox_timeout_s * 1000)));
  }
  LOCKSTEP_ASSIGN_OR_RETURN(task_, GrpoTask::Create(options_.task, executor_.get()));
  if (resume) {
    const std::string ckpt_root = (fs::path(run_dir_) / "checkpoints").string();
    if (NewestCheckpointStep(ckpt_root).status().code() == absl::StatusCode::kNotFound) {
      // Stopped before its first checkpoint: every step is a pure function of
      // the config, so starting over is the exact continuation.
      std::fprintf(stderr, "grpo: %s has no checkpoint yet; starting it from step 0\n",
                   run_dir_.c_str());
      resume = false;
      for (const char* log : {"metrics.jsonl", "rollouts.jsonl"}) {
        LOCKSTEP_RETURN_IF_ERROR(TruncateJsonlAfterStep((fs::path(run_dir_) / log).string(), 0));
      }
    }
  }
  if (resume) {
    LOCKSTEP_RETURN_IF_ERROR(Resume(&first_step_));
  } else {
    LOCKSTEP_ASSIGN_OR_RETURN(ModelWeights init, BuildModelWeights(options_.model, options_.trainer.dtype));
    LOCKSTEP_ASSIGN_OR_RETURN(trainer_, trainer::Trainer::Create(init, options_.trainer));
  }
  rollout::ClientOptions client_options;
  client_options.engine_timeout =
      std::chrono::milliseconds(static_cast<int64_t>(options_.rollout.engine_timeout_s * 1000));
  LOCKSTEP_ASSIGN_OR_RETURN(client_, rollout::RolloutClient::Connect(endpoints.rollout, client_options));
  LOCKSTEP_RETURN_IF_ERROR(Publish());
  std::fprintf(stderr, "grpo: weights v%lld on %zu rollout engine(s) in %.2fs (hashes checked)\n",
               static_cast<long long>(trainer_->step()), endpoints.rollout.size(),
               weight_sync_seconds_);
  LOCKSTEP_ASSIGN_OR_RETURN(metrics_, JsonlWriter::Open((fs::path(run_dir_) / "metrics.jsonl").string()));
  LOCKSTEP_ASSIGN_OR_RETURN(rollouts_, JsonlWriter::Open((fs::path(run_dir_) / "rollouts.jsonl").string()));
  LOCKSTEP_ASSIGN_OR_RETURN(events_, report::TensorBoardWriter::Open(run_dir_));
  LOCKSTEP_RETURN_IF_ERROR(events_->WriteSessionStart(first_step_ + 1));
  if (!resume && options_.eval_prompts > 0) {
    LOCKSTEP_ASSIGN_OR_RETURN(eval_before_, EvalAccuracy());
    std::fprintf(stderr, "grpo: greedy accuracy before training %.3f (%d held-out prompts)\n",
                 eval_before_, options_.eval_prompts);
  }

  const int64_t last_step =
      options_.stop_at_step > 0 ? std::min(options_.stop_at_step, options_.steps) : options_.steps;
  GrpoRunSummary summary;
  int64_t step = first_step_;
  int64_t last_saved = resume ? first_step_ : -1;
  for (; step < last_step; ++step) {
    if (StopRequested()) {
      summary.interrupted = true;
      break;
    }
    const auto rollout_start = Clock::now();
    GeneratedStep generated;
    if (pending_.has_value() && pending_->step == step) {
      generated = std::move(*pending_);
      pending_.reset();
    } else {
      LOCKSTEP_ASSIGN_OR_RETURN(generated, Generate(step));
    }
    if (options_.rollout.max_staleness >= 1 && step + 1 < last_step) {
      GeneratedStep next;
      LOCKSTEP_ASSIGN_OR_RETURN(pending_ticket_, SubmitStep(step + 1, &next));
      pending_ = std::move(next);
    }
    LOCKSTEP_RETURN_IF_ERROR(TrainStep(std::move(generated), SecondsSince(rollout_start)));
    if ((step + 1) % options_.checkpoint_every == 0) {
      LOCKSTEP_RETURN_IF_ERROR(SaveCheckpoint(step + 1));
      last_saved = step + 1;
    }
  }
  if (last_saved != step) LOCKSTEP_RETURN_IF_ERROR(SaveCheckpoint(step));
  summary.steps_done = step;
  json run_summary = {{"eval_accuracy_before", eval_before_},
                      {"eval_prompts", options_.eval_prompts},
                      {"interrupted", summary.interrupted}};
  if (summary.interrupted) {
    std::fprintf(stderr, "grpo: interrupted; checkpoint of step %lld written; continue with --resume %s\n",
                 static_cast<long long>(step), run_dir_.c_str());
  } else if (step >= options_.steps && options_.eval_prompts > 0) {
    LOCKSTEP_ASSIGN_OR_RETURN(double after, EvalAccuracy());
    run_summary["eval_accuracy_after"] = after;
  }
  LOCKSTEP_RETURN_IF_ERROR(config::WriteFileAtomically(
      (fs::path(run_dir_) / "summary.json").string(), run_summary.dump(2) + "\n"));
  LOCKSTEP_RETURN_IF_ERROR(report::WriteRunReport(run_dir_));
  LOCKSTEP_ASSIGN_OR_RETURN(GrpoRunSummary from_files, ReadGrpoRunSummary(run_dir_));
  from_files.interrupted = summary.interrupted;
  from_files.steps_done = step;
  return from_files;
}

}  // namespace

absl::StatusOr<GrpoRunSummary> RunGrpoTrainer(const GrpoOptions& options,
                                              const std::string& run_dir,
                                              const GrpoEndpoints& endpoints, bool resume,
                                              const std::atomic<bool>* stop) {
  GrpoRun run(options, run_dir, stop);
  return run.Run(endpoints, resume);
}

absl::StatusOr<GrpoRunSummary> ReadGrpoRunSummary(const std::string& run_dir) {
  GrpoRunSummary s;
  const fs::path metrics_path = fs::path(run_dir) / "metrics.jsonl";
  if (!fs::exists(metrics_path)) {
    return absl::NotFoundError(absl::StrCat(metrics_path.string(), ": no such file"));
  }
  LOCKSTEP_ASSIGN_OR_RETURN(report::MetricsTable metrics, report::ReadMetricsFile(metrics_path.string()));
  for (double step : metrics.steps) s.steps_done = std::max(s.steps_done, static_cast<int64_t>(step));
  const std::vector<double>* tokens = metrics.Find("mismatch/tokens");
  const std::vector<double>* equal = metrics.Find("mismatch/bitwise_equal_fraction");
  for (size_t i = 0; tokens != nullptr && i < tokens->size(); ++i) {
    if (!std::isfinite((*tokens)[i])) continue;
    s.mismatch_tokens += static_cast<int64_t>((*tokens)[i]);
    if (equal != nullptr && std::isfinite((*equal)[i])) {
      s.mismatch_bitwise_equal += std::llround((*equal)[i] * (*tokens)[i]);
    }
  }
  if (auto fifths = report::FirstAndLastFifthMeans(report::FiniteValues(metrics, "reward/mean"))) {
    s.reward_first_fifth = fifths->first;
    s.reward_last_fifth = fifths->last;
  }
  std::ifstream summary_in(fs::path(run_dir) / "summary.json");
  if (summary_in) {
    const json j = json::parse(summary_in, nullptr, false);
    if (j.is_object()) {
      s.eval_accuracy_before = j.value("eval_accuracy_before", -1.0);
      s.eval_accuracy_after = j.value("eval_accuracy_after", -1.0);
      s.interrupted = j.value("interrupted", false);
    }
  }
  s.report_path = (fs::path(run_dir) / "report.html").string();
  return s;
}

std::string FormatGrpoSummary(const GrpoRunSummary& s, const std::string& run_dir) {
  std::string out = absl::StrCat("== GRPO run ", run_dir, " ==\n");
  absl::StrAppend(&out, absl::StrFormat("steps                 %d%s\n", s.steps_done,
                                        s.interrupted ? " (interrupted; --resume continues)" : ""));
  absl::StrAppend(&out, absl::StrFormat("reward (mean/step)    %.3f (first fifth) -> %.3f (last fifth)\n",
                                        s.reward_first_fifth, s.reward_last_fifth));
  if (s.eval_accuracy_before >= 0 && s.eval_accuracy_after >= 0) {
    absl::StrAppend(&out, absl::StrFormat("greedy accuracy       %.3f -> %.3f on held-out prompts\n",
                                          s.eval_accuracy_before, s.eval_accuracy_after));
  }
  absl::StrAppend(&out, absl::StrFormat(
                            "rollout == trainer    %d of %d on-policy token logprobs bitwise equal (%s)\n",
                            s.mismatch_bitwise_equal, s.mismatch_tokens,
                            s.mismatch_bitwise_equal == s.mismatch_tokens ? "all" : "NOT all"));
  absl::StrAppend(&out, "report                ", s.report_path, "\n");
  absl::StrAppend(&out, "metrics, rollouts     ", run_dir, "/metrics.jsonl, ", run_dir,
                  "/rollouts.jsonl\n");
  return out;
}

}  // namespace lockstep::jobs
