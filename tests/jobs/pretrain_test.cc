// `lockstep pretrain` end to end on a tiny model: the loss falls from about
// ln(vocab), the run directory holds what the README promises, and a run cut
// short then resumed from its checkpoint ends with the same bytes as a run
// that was never interrupted.
#include "jobs/pretrain.h"

#include "config/config_job.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <unistd.h>

#include "gtest/gtest.h"

namespace lockstep::jobs {
namespace {

namespace fs = std::filesystem;

constexpr char kToml[] = R"(
[model]
family = "qwen2"
hidden_size = 32
num_layers = 1
num_heads = 4
num_kv_heads = 2
intermediate_size = 64
max_position_embeddings = 64
seed = 3
[data]
source = "arithmetic"
max_digits = 1
[train]
steps = 40
batch_sequences = 4
micro_batch = 3
seq_len = 32
log_every = 100
checkpoint_every = 20
[optim]
lr = 1e-2
schedule = "cosine"
warmup_steps = 3
[eval]
problems = 8
)";

std::string ReadBytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class PretrainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::path(::testing::TempDir()) / ("pretrain_test_" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  // The command's path: config::PrepareJob, then RunPretrain.
  absl::StatusOr<PretrainSummary> Run(const std::string& name, int stop_at, bool resume,
                                      const std::atomic<bool>* stop_requested = nullptr) {
    std::ofstream(root_ / "pretrain.toml") << kToml;
    config::JobArgs args;
    args.command = "pretrain";
    (resume ? args.resume_dir : args.out_dir) = (root_ / name).string();
    if (!resume) args.config_path = (root_ / "pretrain.toml").string();
    args.overrides = {"train.stop_at_step=" + std::to_string(stop_at)};
    auto job = config::PrepareJob(args, ReadPretrainOptions);
    if (!job.ok()) return job.status();
    return config::RunPreparedJob(
        *job, [stop_requested](const PretrainOptions& o, const config::RunDir& dir) {
          return RunPretrain(o, dir.path, dir.resume, stop_requested);
        });
  }
  fs::path root_;
};

TEST_F(PretrainTest, LossFallsAndResumeIsExact) {
  auto full = Run("full", 0, false);
  ASSERT_TRUE(full.ok()) << full.status();
  EXPECT_NEAR(full->first_loss, std::log(100.0), 0.3);
  EXPECT_LT(full->last_loss, 0.75 * full->first_loss);
  EXPECT_GE(full->eval_accuracy, 0.0);
  for (const char* f : {"config.toml", "metrics.jsonl", "final/model.safetensors",
                        "final/config.json", "checkpoints/step_20/optimizer.safetensors",
                        "checkpoints/step_40/trainer_state.json", "summary.json"}) {
    EXPECT_TRUE(fs::exists(root_ / "full" / f)) << f;
  }
  EXPECT_NE(ReadBytes(root_ / "full" / "summary.json").find("\"accuracy\""), std::string::npos);
  // TensorBoard: one event file, holding (at least) a record per step.
  int event_files = 0;
  for (const auto& entry : fs::directory_iterator(root_ / "full")) {
    if (entry.path().filename().string().rfind("events.out.tfevents.", 0) != 0) continue;
    ++event_files;
    EXPECT_GT(fs::file_size(entry.path()), 40u * 100u) << entry.path();
  }
  EXPECT_EQ(event_files, 1);

  // The same run stopped at its step-20 checkpoint, then resumed to 40.
  ASSERT_TRUE(Run("cut", 20, false).ok());
  fs::remove_all(root_ / "cut" / "final");
  auto resumed = Run("cut", 0, true);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  for (const char* f : {"final/model.safetensors", "checkpoints/step_40/optimizer.safetensors",
                        "checkpoints/step_40/trainer_state.json"}) {
    const std::string a = ReadBytes(root_ / "full" / f), b = ReadBytes(root_ / "cut" / f);
    EXPECT_FALSE(a.empty()) << f;
    EXPECT_TRUE(a == b) << f << " differs between the uninterrupted and the resumed run";
  }
}

// A run killed before its first checkpoint (config.toml and a few metrics
// lines, no checkpoints/) resumes by starting over: no `rm -r`, and it ends
// with the same bytes and metrics as a run that was never stopped.
TEST_F(PretrainTest, ResumeWithoutCheckpointStartsOver) {
  ASSERT_TRUE(Run("full", 0, false).ok());
  ASSERT_TRUE(Run("killed", 0, false).ok());
  fs::remove_all(root_ / "killed" / "checkpoints");
  fs::remove_all(root_ / "killed" / "final");
  std::ofstream(root_ / "killed" / "metrics.jsonl") << "{\"step\": 1, \"train/loss\": 9}\n";
  auto resumed = Run("killed", 0, true);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_EQ(resumed->first_step, 0);
  EXPECT_FALSE(resumed->interrupted);
  EXPECT_TRUE(ReadBytes(root_ / "full" / "final/model.safetensors") ==
              ReadBytes(root_ / "killed" / "final/model.safetensors"));
  // The stale line is gone: one line per step, as in the uninterrupted run.
  const std::string full = ReadBytes(root_ / "full" / "metrics.jsonl");
  const std::string killed = ReadBytes(root_ / "killed" / "metrics.jsonl");
  EXPECT_EQ(std::count(killed.begin(), killed.end(), '\n'), 40);
  EXPECT_EQ(std::count(full.begin(), full.end(), '\n'), 40);
}

// A stop request (what SIGINT/SIGTERM set in the driver) before any step
// saves a resumable checkpoint at step 0 and says so; resuming finishes the
// run with the uninterrupted run's bytes.
TEST_F(PretrainTest, StopRequestCheckpointsAndResumeIsExact) {
  ASSERT_TRUE(Run("full", 0, false).ok());
  std::atomic<bool> stop{true};
  auto stopped = Run("stopped", 0, false, &stop);
  ASSERT_TRUE(stopped.ok()) << stopped.status();
  EXPECT_TRUE(stopped->interrupted);
  EXPECT_EQ(stopped->steps, 0);
  EXPECT_EQ(stopped->checkpoint_dir, (root_ / "stopped" / "checkpoints" / "step_0").string());
  EXPECT_TRUE(fs::exists(root_ / "stopped" / "checkpoints/step_0/trainer_state.json"));
  EXPECT_FALSE(fs::exists(root_ / "stopped" / "final"));
  auto resumed = Run("stopped", 0, true);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_FALSE(resumed->interrupted);
  EXPECT_EQ(resumed->steps, 40);
  for (const char* f : {"final/model.safetensors", "checkpoints/step_40/optimizer.safetensors"}) {
    EXPECT_TRUE(ReadBytes(root_ / "full" / f) == ReadBytes(root_ / "stopped" / f)) << f;
  }
}

// Resuming a finished run trains nothing and rewrites nothing.
TEST_F(PretrainTest, ResumingAFinishedRunIsANoOp) {
  ASSERT_TRUE(Run("done", 0, false).ok());
  const fs::path model = root_ / "done" / "final" / "model.safetensors";
  const auto model_time = fs::last_write_time(model);
  const std::string metrics = ReadBytes(root_ / "done" / "metrics.jsonl");
  auto again = Run("done", 0, true);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->already_finished);
  EXPECT_EQ(again->steps, 40);
  EXPECT_EQ(again->last_step, 40);
  EXPECT_EQ(fs::last_write_time(model), model_time);
  EXPECT_EQ(ReadBytes(root_ / "done" / "metrics.jsonl"), metrics);
  EXPECT_FALSE(fs::exists(root_ / "done" / "checkpoints" / "step_41"));
}

// Reading the options builds and loads nothing: a model directory or data file
// is only opened by the run (a missing data file is still named up front).
TEST_F(PretrainTest, ReadingOptionsLoadsNothing) {
  auto config = config::Config::FromString(kToml, "pretrain.toml");
  ASSERT_TRUE(config.ok());
  auto options = ReadPretrainOptions(*config);
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->trainer.micro_batch_sequences, 3);
  EXPECT_EQ(options->model.architecture.hidden_size, 32);
  EXPECT_TRUE(config->CheckNoUnknownKeys().ok()) << config->CheckNoUnknownKeys();

  auto from_dir = config::Config::FromString("[model]\ninit_from = \"/no/such/model\"\n", "p.toml");
  ASSERT_TRUE(from_dir.ok());
  options = ReadPretrainOptions(*from_dir);
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->model.init_from, "/no/such/model");

  ASSERT_TRUE(config->ApplyOverride("data.source=file").ok());
  ASSERT_TRUE(config->ApplyOverride("data.file=/no/such/file.txt").ok());
  EXPECT_NE(ReadPretrainOptions(*config).status().message().find("data.file"),
            std::string::npos);
}

}  // namespace
}  // namespace lockstep::jobs
