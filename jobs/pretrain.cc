// The pretrain job (jobs/pretrain.h): options read from the config, then a
// deterministic next-token training loop with checkpoints.
#include "jobs/pretrain.h"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "config/file_io.h"
#include "jobs/job_sections.h"
#include "jobs/run_checkpoints.h"
#include "model/char_tokenizer.h"
#include "numerics/status_macros.h"
#include "report/tensorboard_events.h"
#include "rewards/arithmetic_task.h"
#include "rollout/engine.h"
#include "trainer/trainer.h"

namespace lockstep::jobs {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// Where training text comes from: line i of the corpus, for any i >= 0.
class Corpus {
 public:
  virtual ~Corpus() = default;
  virtual std::string Line(uint64_t index) const = 0;
  // The task behind the text, for the held-out accuracy check; nullptr if none.
  virtual const rewards::ArithmeticTask* task() const { return nullptr; }
};

class ArithmeticCorpus : public Corpus {
 public:
  explicit ArithmeticCorpus(rewards::ArithmeticTask task) : task_(std::move(task)) {}
  std::string Line(uint64_t index) const override { return task_.CorpusLine(index); }
  const rewards::ArithmeticTask* task() const override { return &task_; }

 private:
  rewards::ArithmeticTask task_;
};

class FileCorpus : public Corpus {
 public:
  explicit FileCorpus(std::vector<std::string> lines) : lines_(std::move(lines)) {}
  std::string Line(uint64_t index) const override { return lines_[index % lines_.size()]; }

 private:
  std::vector<std::string> lines_;
};

// Sequence i of step s: <bos> then whole corpus lines from a per-sequence
// start, packed up to seq_len tokens. A pure function of (step, i).
std::vector<trainer::TrainSequence> MakeBatch(const Corpus& corpus, const CharTokenizer& tok,
                                              int64_t step, int batch, int seq_len,
                                              int lines_per_sequence) {
  std::vector<trainer::TrainSequence> out;
  for (int i = 0; i < batch; ++i) {
    trainer::TrainSequence s;
    s.tokens.push_back(CharTokenizer::kBos);
    uint64_t line = (static_cast<uint64_t>(step) * batch + i) * lines_per_sequence;
    while (static_cast<int>(s.tokens.size()) < seq_len) {
      const std::vector<int32_t> ids = tok.Encode(corpus.Line(line++));
      const size_t room = static_cast<size_t>(seq_len) - s.tokens.size();
      s.tokens.insert(s.tokens.end(), ids.begin(), ids.begin() + std::min(room, ids.size()));
    }
    s.prompt_length = 1;
    out.push_back(std::move(s));
  }
  return out;
}

// Greedy exact-match accuracy on held-out problems (indices far beyond any
// training line), decoded by the rollout engine from the trained weights.
absl::StatusOr<double> ArithmeticAccuracy(const Transformer& model,
                                          const rewards::ArithmeticTask& task,
                                          const CharTokenizer& tok, int problems) {
  EngineOptions eo;
  eo.max_batch_sequences = 32;
  RolloutEngine engine(model, eo);
  const uint64_t kHeldOut = uint64_t{1} << 40;
  for (int i = 0; i < problems; ++i) {
    GenerationRequest r;
    r.request_id = static_cast<uint32_t>(i);
    r.prompt.push_back(CharTokenizer::kBos);
    for (int32_t t : tok.Encode(task.Problem(kHeldOut + i).prompt)) r.prompt.push_back(t);
    r.max_new_tokens = 12;
    r.sampling.temperature = 0.0f;
    r.stop_tokens = tok.Encode("\n");
    LOCKSTEP_RETURN_IF_ERROR(engine.Submit(r));
  }
  LOCKSTEP_ASSIGN_OR_RETURN(auto results, engine.RunToCompletion());
  int correct = 0;
  for (const auto& r : results) {
    std::string text = tok.Decode(r.tokens);
    if (!text.empty() && text.back() == '\n') text.pop_back();
    if (text == task.Problem(kHeldOut + r.request_id).answer) ++correct;
  }
  return static_cast<double>(correct) / problems;
}

absl::StatusOr<PretrainData> ReadDataSection(const config::Config& config) {
  PretrainData d;
  LOCKSTEP_ASSIGN_OR_RETURN(d.source, config.GetStringOneOf("data.source", {"arithmetic", "file"},
                                                            std::string("arithmetic")));
  LOCKSTEP_ASSIGN_OR_RETURN(int64_t seed, config.GetIntInRange("data.seed", 0, 1ll << 62, 7));
  d.seed = static_cast<uint64_t>(seed);
  if (d.source == "arithmetic") {
    LOCKSTEP_ASSIGN_OR_RETURN(int64_t digits, config.GetIntInRange("data.max_digits", 1, 9, 2));
    d.max_digits = static_cast<int>(digits);
    LOCKSTEP_ASSIGN_OR_RETURN(d.operators, config.GetString("data.operators", std::string("+")));
  } else {
    LOCKSTEP_ASSIGN_OR_RETURN(d.file, config.GetString("data.file"));
    std::error_code ec;
    if (!fs::is_regular_file(d.file, ec)) {
      return absl::NotFoundError(
          absl::StrCat("data.file = \"", d.file, "\": no such file; give the path of a text file"));
    }
  }
  LOCKSTEP_ASSIGN_OR_RETURN(int64_t lines,
                            config.GetIntInRange("data.lines_per_sequence", 1, 1 << 20, 8));
  d.lines_per_sequence = static_cast<int>(lines);
  return d;
}

absl::StatusOr<std::unique_ptr<Corpus>> MakeCorpus(const PretrainData& data) {
  if (data.source == "arithmetic") {
    rewards::ArithmeticTaskOptions options;
    options.max_digits = data.max_digits;
    options.operators = data.operators;
    LOCKSTEP_ASSIGN_OR_RETURN(rewards::ArithmeticTask task,
                              rewards::ArithmeticTask::Create(options, data.seed));
    return std::make_unique<ArithmeticCorpus>(std::move(task));
  }
  absl::StatusOr<std::string> text = config::ReadFile(data.file);
  if (!text.ok()) {
    return absl::Status(text.status().code(),
                        absl::StrCat("data.file: ", text.status().message()));
  }
  std::vector<std::string> lines;
  for (absl::string_view line : absl::StrSplit(*text, '\n', absl::SkipEmpty())) {
    lines.push_back(absl::StrCat(line, "\n"));
  }
  if (lines.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("data.file = \"", data.file, "\": no text lines"));
  }
  return std::make_unique<FileCorpus>(std::move(lines));
}

// The trainer a run starts from: fresh weights, or the newest checkpoint of a
// resumed run (whose model settings come from the checkpoint).
struct TrainerStart {
  std::unique_ptr<trainer::Trainer> trainer;
  int64_t first_step = 0;
};

absl::StatusOr<TrainerStart> FreshTrainer(const PretrainOptions& options) {
  TrainerStart start;
  LOCKSTEP_ASSIGN_OR_RETURN(ModelWeights init,
                            BuildModelWeights(options.model, options.trainer.dtype));
  LOCKSTEP_ASSIGN_OR_RETURN(start.trainer, trainer::Trainer::Create(init, options.trainer));
  return start;
}

absl::StatusOr<TrainerStart> StartTrainer(const PretrainOptions& options, const fs::path& run_dir,
                                          bool resume) {
  if (!resume) return FreshTrainer(options);
  const fs::path ckpt_root = run_dir / "checkpoints";
  absl::StatusOr<int64_t> newest = NewestCheckpointStep(ckpt_root.string());
  if (absl::IsNotFound(newest.status())) {
    // Stopped before its first checkpoint: batches are a pure function of the
    // step, so starting over from RUN/config.toml is the same run.
    LOCKSTEP_RETURN_IF_ERROR(TruncateJsonlAfterStep((run_dir / "metrics.jsonl").string(), 0));
    std::fprintf(stderr, "pretrain: %s has no checkpoint yet; starting it over from step 0\n",
                 run_dir.c_str());
    return FreshTrainer(options);
  }
  LOCKSTEP_RETURN_IF_ERROR(newest.status());
  TrainerStart start;
  nlohmann::json user;
  LOCKSTEP_ASSIGN_OR_RETURN(
      start.trainer,
      trainer::Trainer::LoadCheckpoint((ckpt_root / absl::StrCat("step_", *newest)).string(),
                                       options.trainer, &user));
  start.first_step = user.value("data_step", *newest);
  LOCKSTEP_RETURN_IF_ERROR(
      TruncateJsonlAfterStep((run_dir / "metrics.jsonl").string(), start.first_step));
  std::fprintf(stderr, "pretrain: resuming %s at step %lld\n", run_dir.c_str(),
               static_cast<long long>(start.first_step));
  return start;
}

std::string CheckpointDir(const fs::path& run_dir, int64_t step) {
  return (run_dir / "checkpoints" / absl::StrCat("step_", step)).string();
}

absl::Status SaveCheckpoint(const trainer::Trainer& trainer, const fs::path& run_dir,
                            int64_t steps_done) {
  fs::create_directories(run_dir / "checkpoints");
  return trainer.SaveCheckpoint(CheckpointDir(run_dir, steps_done), {{"data_step", steps_done}});
}

// RUN/summary.json: the finished run's outcome and final evaluation, for scripts.
absl::Status WriteSummaryJson(const PretrainSummary& summary, const PretrainOptions& options,
                              const fs::path& run_dir) {
  nlohmann::json eval = nullptr;
  if (summary.eval_accuracy >= 0.0) {
    eval = {{"metric", "greedy exact-match on held-out arithmetic problems"},
            {"problems", options.eval_problems},
            {"accuracy", summary.eval_accuracy}};
  }
  const nlohmann::json json = {{"job", "pretrain"},
                               {"steps", summary.steps},
                               {"first_loss", summary.first_loss},
                               {"last_loss_mean_of_10", summary.last_loss},
                               {"eval", eval},
                               {"final_dir", summary.final_dir},
                               {"checkpoint", summary.checkpoint_dir}};
  return config::WriteFileAtomically((run_dir / "summary.json").string(), json.dump(2) + "\n");
}

bool StopRequested(const std::atomic<bool>* stop_requested) {
  return stop_requested != nullptr && stop_requested->load();
}

// Steps [first_step, last_step): one metrics.jsonl line each, a progress line
// every log_every steps, a checkpoint every checkpoint_every steps and at the
// end. On a stop request: a checkpoint after the step in progress, and
// summary->interrupted.
absl::Status TrainSteps(const PretrainOptions& options, const Corpus& corpus,
                        trainer::Trainer& trainer, int64_t first_step, int64_t last_step,
                        const fs::path& run_dir, const std::atomic<bool>* stop_requested,
                        PretrainSummary* summary) {
  const CharTokenizer tok;
  std::ofstream metrics(run_dir / "metrics.jsonl", std::ios::app);
  // The same lines as TensorBoard scalars; the session start makes TensorBoard
  // drop what an earlier file holds for the steps this run (re)does.
  LOCKSTEP_ASSIGN_OR_RETURN(std::unique_ptr<report::TensorBoardWriter> events,
                            report::TensorBoardWriter::Open(run_dir.string()));
  LOCKSTEP_RETURN_IF_ERROR(events->WriteSessionStart(first_step + 1));
  std::vector<double> recent;
  const auto start = Clock::now();
  int64_t tokens_done = 0;
  for (int64_t step = first_step; step < last_step; ++step) {
    const auto t0 = Clock::now();
    const auto batch = MakeBatch(corpus, tok, step, options.batch_sequences, options.seq_len,
                                 options.data.lines_per_sequence);
    LOCKSTEP_ASSIGN_OR_RETURN(trainer::StepResult r,
                              trainer.Step(batch, trainer::NextTokenLoss()));
    const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    tokens_done += r.tokens;
    if (step == first_step) summary->first_loss = r.loss;
    recent.push_back(r.loss);
    if (recent.size() > 10) recent.erase(recent.begin());
    nlohmann::json m = {{"step", step + 1},
                        {"train/loss", r.loss},
                        {"actor/grad_norm", r.optimizer.grad_norm},
                        {"optim/lr", r.optimizer.lr},
                        {"optim/loss_scale", r.loss_scale},
                        {"optim/skipped", r.optimizer.skipped},
                        {"timing/step_s", seconds},
                        {"perf/tokens_per_second", static_cast<double>(r.tokens) / seconds}};
    metrics << m.dump() << "\n" << std::flush;
    LOCKSTEP_RETURN_IF_ERROR(events->WriteScalars(step + 1, m));
    if ((step + 1) % options.log_every == 0 || step + 1 == options.steps || step == first_step) {
      const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
      std::fprintf(stderr,
                   "pretrain step %lld/%lld  loss %.4f  grad_norm %.3f  lr %.2e  %.0f tok/s  "
                   "%.0fs elapsed\n",
                   static_cast<long long>(step + 1), static_cast<long long>(options.steps), r.loss,
                   r.optimizer.grad_norm, r.optimizer.lr, tokens_done / std::max(elapsed, 1e-9),
                   elapsed);
    }
    const bool stop = StopRequested(stop_requested) && step + 1 < last_step;
    if ((step + 1) % options.checkpoint_every == 0 || step + 1 == last_step || stop) {
      LOCKSTEP_RETURN_IF_ERROR(SaveCheckpoint(trainer, run_dir, step + 1));
    }
    if (stop) {
      summary->interrupted = true;
      summary->steps = step + 1;
      summary->checkpoint_dir = CheckpointDir(run_dir, step + 1);
      break;
    }
  }
  for (double l : recent) summary->last_loss += l / static_cast<double>(recent.size());
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<PretrainOptions> ReadPretrainOptions(const config::Config& config) {
  PretrainOptions o;
  LOCKSTEP_ASSIGN_OR_RETURN(o.steps, config.GetIntInRange("train.steps", 1, 1 << 30, 300));
  LOCKSTEP_ASSIGN_OR_RETURN(int64_t batch,
                            config.GetIntInRange("train.batch_sequences", 1, 1 << 16, 16));
  o.batch_sequences = static_cast<int>(batch);
  LOCKSTEP_ASSIGN_OR_RETURN(int64_t seq_len, config.GetIntInRange("train.seq_len", 2, 1 << 20, 64));
  o.seq_len = static_cast<int>(seq_len);
  LOCKSTEP_ASSIGN_OR_RETURN(o.log_every, config.GetIntInRange("train.log_every", 1, 1 << 30, 10));
  LOCKSTEP_ASSIGN_OR_RETURN(o.checkpoint_every,
                            config.GetIntInRange("train.checkpoint_every", 1, 1 << 30, 100));
  LOCKSTEP_ASSIGN_OR_RETURN(o.stop_at_step,
                            config.GetIntInRange("train.stop_at_step", 0, 1 << 30, 0));
  LOCKSTEP_ASSIGN_OR_RETURN(o.trainer, ReadTrainerSections(config, o.steps));
  LOCKSTEP_ASSIGN_OR_RETURN(o.data, ReadDataSection(config));
  LOCKSTEP_ASSIGN_OR_RETURN(int64_t eval_problems,
                            config.GetIntInRange("eval.problems", 0, 1 << 20, 64));
  o.eval_problems = static_cast<int>(eval_problems);
  LOCKSTEP_ASSIGN_OR_RETURN(o.model, ReadModelSection(config));
  return o;
}

absl::StatusOr<PretrainSummary> RunPretrain(const PretrainOptions& options,
                                            const std::string& run_dir, bool resume,
                                            const std::atomic<bool>* stop_requested) {
  LOCKSTEP_ASSIGN_OR_RETURN(std::unique_ptr<Corpus> corpus, MakeCorpus(options.data));
  LOCKSTEP_ASSIGN_OR_RETURN(TrainerStart start, StartTrainer(options, run_dir, resume));
  PretrainSummary summary;
  summary.first_step = start.first_step;
  const int64_t last_step =
      options.stop_at_step > 0 ? std::min(options.stop_at_step, options.steps) : options.steps;
  summary.last_step = last_step;
  summary.final_dir = (fs::path(run_dir) / "final").string();
  if (start.first_step >= last_step) {
    // Nothing left to train: leave final/ and metrics.jsonl as they are.
    summary.already_finished = true;
    summary.steps = start.first_step;
    summary.checkpoint_dir = CheckpointDir(run_dir, start.first_step);
    return summary;
  }
  if (StopRequested(stop_requested)) {
    // Asked to stop before the first step: keep where the run is resumable.
    LOCKSTEP_RETURN_IF_ERROR(SaveCheckpoint(*start.trainer, run_dir, start.first_step));
    summary.interrupted = true;
    summary.steps = start.first_step;
    summary.checkpoint_dir = CheckpointDir(run_dir, start.first_step);
    return summary;
  }
  LOCKSTEP_RETURN_IF_ERROR(TrainSteps(options, *corpus, *start.trainer, start.first_step,
                                      last_step, run_dir, stop_requested, &summary));
  if (summary.interrupted) return summary;
  summary.steps = last_step;
  summary.checkpoint_dir = CheckpointDir(run_dir, last_step);
  std::error_code ec;
  fs::remove_all(summary.final_dir, ec);
  LOCKSTEP_RETURN_IF_ERROR(SaveModelDir(start.trainer->weights(), summary.final_dir));
  if (corpus->task() != nullptr && options.eval_problems > 0) {
    LOCKSTEP_ASSIGN_OR_RETURN(summary.eval_accuracy,
                              ArithmeticAccuracy(start.trainer->model(), *corpus->task(),
                                                 CharTokenizer(), options.eval_problems));
  }
  LOCKSTEP_RETURN_IF_ERROR(WriteSummaryJson(summary, options, run_dir));
  return summary;
}

}  // namespace lockstep::jobs
