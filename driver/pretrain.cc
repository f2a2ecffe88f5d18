#include "driver/pretrain.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "driver/job_sections.h"
#include "model/char_tokenizer.h"
#include "numerics/status_macros.h"
#include "rewards/arithmetic_task.h"
#include "rollout/engine.h"
#include "trainer/trainer.h"

namespace lockstep::driver {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// Where training text comes from: line i of the corpus, for any i >= 0.
class Corpus {
 public:
  virtual ~Corpus() = default;
  virtual std::string Line(uint64_t index) const = 0;
};

class ArithmeticCorpus : public Corpus {
 public:
  explicit ArithmeticCorpus(rewards::ArithmeticTask task) : task_(std::move(task)) {}
  std::string Line(uint64_t index) const override { return task_.CorpusLine(index); }
  const rewards::ArithmeticTask& task() const { return task_; }

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

absl::StatusOr<int64_t> NewestCheckpoint(const fs::path& dir) {
  int64_t newest = -1;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("step_", 0) != 0 || name.find('.') != std::string::npos) continue;
    newest = std::max<int64_t>(newest, std::stoll(name.substr(5)));
  }
  if (newest < 0) {
    return absl::NotFoundError(absl::StrCat("--resume: no checkpoint under ", dir.string(),
                                            " (the run stopped before its first checkpoint)"));
  }
  return newest;
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

}  // namespace

absl::StatusOr<PretrainSummary> RunPretrain(config::Config& config, const std::string& run_dir,
                                            bool resume) {
  const CharTokenizer tok;
  LOCKSTEP_ASSIGN_OR_RETURN(int64_t steps, config.GetIntInRange("train.steps", 1, 1 << 30, 300));
  LOCKSTEP_ASSIGN_OR_RETURN(int64_t batch, config.GetIntInRange("train.batch_sequences", 1, 1 << 16, 16));
  LOCKSTEP_ASSIGN_OR_RETURN(int64_t seq_len, config.GetIntInRange("train.seq_len", 2, 1 << 20, 64));
  LOCKSTEP_ASSIGN_OR_RETURN(int64_t log_every, config.GetIntInRange("train.log_every", 1, 1 << 30, 10));
  LOCKSTEP_ASSIGN_OR_RETURN(int64_t ckpt_every,
                            config.GetIntInRange("train.checkpoint_every", 1, 1 << 30, 100));
  // For preemptible slots: checkpoint and stop at this step; `--resume` with
  // --set train.stop_at_step=0 continues. 0 = run to train.steps.
  LOCKSTEP_ASSIGN_OR_RETURN(int64_t stop_at, config.GetIntInRange("train.stop_at_step", 0, 1 << 30, 0));
  LOCKSTEP_ASSIGN_OR_RETURN(trainer::TrainerConfig tc, ReadTrainerSections(config, steps));

  // Data: the built-in arithmetic generator, or a text file (one example per line).
  std::unique_ptr<Corpus> corpus;
  const ArithmeticCorpus* arithmetic = nullptr;
  LOCKSTEP_ASSIGN_OR_RETURN(std::string source,
                            config.GetStringOneOf("data.source", {"arithmetic", "file"},
                                                  std::string("arithmetic")));
  LOCKSTEP_ASSIGN_OR_RETURN(int64_t data_seed, config.GetIntInRange("data.seed", 0, 1ll << 62, 7));
  if (source == "arithmetic") {
    rewards::ArithmeticTaskOptions options;
    LOCKSTEP_ASSIGN_OR_RETURN(int64_t digits, config.GetIntInRange("data.max_digits", 1, 9, 2));
    options.max_digits = static_cast<int>(digits);
    LOCKSTEP_ASSIGN_OR_RETURN(options.operators, config.GetString("data.operators", std::string("+")));
    LOCKSTEP_ASSIGN_OR_RETURN(rewards::ArithmeticTask task,
                              rewards::ArithmeticTask::Create(options, static_cast<uint64_t>(data_seed)));
    auto a = std::make_unique<ArithmeticCorpus>(std::move(task));
    arithmetic = a.get();
    corpus = std::move(a);
  } else {
    LOCKSTEP_ASSIGN_OR_RETURN(std::string path, config.GetString("data.file"));
    std::ifstream in(path);
    if (!in) {
      return absl::NotFoundError(absl::StrCat("data.file = \"", path, "\": cannot open the file"));
    }
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) lines.push_back(line + "\n");
    }
    if (lines.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("data.file = \"", path, "\": no text lines"));
    }
    corpus = std::make_unique<FileCorpus>(std::move(lines));
  }
  // One example per sequence slot is enough to fill seq_len for short lines;
  // the start of each sequence advances by this many lines.
  LOCKSTEP_ASSIGN_OR_RETURN(int64_t lines_per_seq,
                            config.GetIntInRange("data.lines_per_sequence", 1, 1 << 20, 8));
  LOCKSTEP_ASSIGN_OR_RETURN(int64_t eval_problems,
                            config.GetIntInRange("eval.problems", 0, 1 << 20, 64));

  // The model: fresh, or the newest checkpoint of this run.
  std::unique_ptr<trainer::Trainer> trainer;
  int64_t first_step = 0;
  const fs::path ckpt_root = fs::path(run_dir) / "checkpoints";
  if (resume) {
    LOCKSTEP_ASSIGN_OR_RETURN(int64_t newest, NewestCheckpoint(ckpt_root));
    nlohmann::json user;
    LOCKSTEP_ASSIGN_OR_RETURN(trainer, trainer::Trainer::LoadCheckpoint(
                                           (ckpt_root / absl::StrCat("step_", newest)).string(),
                                           tc, &user));
    first_step = user.value("data_step", newest);
    // Keep metrics.jsonl consistent: drop lines of steps after the checkpoint.
    std::ifstream in(fs::path(run_dir) / "metrics.jsonl");
    std::vector<std::string> keep;
    for (std::string line; std::getline(in, line);) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (!j.is_discarded() && j.value("step", int64_t{0}) <= first_step) keep.push_back(line);
    }
    std::ofstream out(fs::path(run_dir) / "metrics.jsonl", std::ios::trunc);
    for (const auto& l : keep) out << l << "\n";
    // Model settings come from the checkpoint; mark them read so they are not "unknown".
    (void)ReadModelSection(config, tc.dtype);
    std::fprintf(stderr, "pretrain: resuming %s at step %lld\n", run_dir.c_str(),
                 static_cast<long long>(first_step));
  } else {
    LOCKSTEP_ASSIGN_OR_RETURN(ModelWeights init, ReadModelSection(config, tc.dtype));
    LOCKSTEP_ASSIGN_OR_RETURN(trainer, trainer::Trainer::Create(init, tc));
  }
  LOCKSTEP_RETURN_IF_ERROR(config.CheckNoUnknownKeys());
  if (!resume) {
    std::ofstream out(fs::path(run_dir) / "config.toml");
    out << config.ToToml();
    if (!out) return absl::InternalError(absl::StrCat("cannot write ", run_dir, "/config.toml"));
  }

  std::ofstream metrics(fs::path(run_dir) / "metrics.jsonl", std::ios::app);
  PretrainSummary summary;
  std::vector<double> recent;
  const auto start = Clock::now();
  int64_t tokens_done = 0;
  const int64_t last_step = stop_at > 0 ? std::min(stop_at, steps) : steps;
  for (int64_t step = first_step; step < last_step; ++step) {
    const auto t0 = Clock::now();
    const auto batch_seqs = MakeBatch(*corpus, tok, step, static_cast<int>(batch),
                                      static_cast<int>(seq_len), static_cast<int>(lines_per_seq));
    LOCKSTEP_ASSIGN_OR_RETURN(trainer::StepResult r, trainer->Step(batch_seqs, trainer::NextTokenLoss()));
    const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    tokens_done += r.tokens;
    if (step == first_step) summary.first_loss = r.loss;
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
    if ((step + 1) % log_every == 0 || step + 1 == steps || step == first_step) {
      const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
      std::fprintf(stderr,
                   "pretrain step %lld/%lld  loss %.4f  grad_norm %.3f  lr %.2e  %.0f tok/s  "
                   "%.0fs elapsed\n",
                   static_cast<long long>(step + 1), static_cast<long long>(steps), r.loss,
                   r.optimizer.grad_norm, r.optimizer.lr, tokens_done / std::max(elapsed, 1e-9),
                   elapsed);
    }
    if ((step + 1) % ckpt_every == 0 || step + 1 == last_step) {
      const fs::path dir = ckpt_root / absl::StrCat("step_", step + 1);
      fs::create_directories(ckpt_root);
      LOCKSTEP_RETURN_IF_ERROR(trainer->SaveCheckpoint(dir.string(), {{"data_step", step + 1}}));
    }
  }
  summary.steps = last_step;
  for (double l : recent) summary.last_loss += l / static_cast<double>(recent.size());
  summary.final_dir = (fs::path(run_dir) / "final").string();
  std::error_code ec;
  fs::remove_all(summary.final_dir, ec);
  LOCKSTEP_RETURN_IF_ERROR(SaveModelDir(trainer->weights(), summary.final_dir));
  if (arithmetic != nullptr && eval_problems > 0) {
    LOCKSTEP_ASSIGN_OR_RETURN(summary.eval_accuracy,
                              ArithmeticAccuracy(trainer->model(), arithmetic->task(), tok,
                                                 static_cast<int>(eval_problems)));
  }
  return summary;
}

}  // namespace lockstep::driver
