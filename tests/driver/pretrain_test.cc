// `lockstep pretrain` end to end on a tiny model: the loss falls from about
// ln(vocab), the run directory holds what DESIGN.md promises, and a run cut
// short then resumed from its checkpoint ends with the same bytes as a run
// that was never interrupted.
#include "driver/pretrain.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <unistd.h>

#include "gtest/gtest.h"

namespace lockstep::driver {
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
  absl::StatusOr<PretrainSummary> Run(const std::string& name, int stop_at, bool resume) {
    auto config = config::Config::FromString(kToml, "pretrain.toml");
    EXPECT_TRUE(config.ok());
    EXPECT_TRUE(config->ApplyOverride("train.stop_at_step=" + std::to_string(stop_at)).ok());
    fs::create_directories(root_ / name);
    return RunPretrain(*config, (root_ / name).string(), resume);
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
                        "checkpoints/step_40/trainer_state.json"}) {
    EXPECT_TRUE(fs::exists(root_ / "full" / f)) << f;
  }

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

TEST_F(PretrainTest, ResumeWithoutCheckpointSaysSo) {
  fs::create_directories(root_ / "empty");
  auto config = config::Config::FromString(kToml, "pretrain.toml");
  ASSERT_TRUE(config.ok());
  auto r = RunPretrain(*config, (root_ / "empty").string(), /*resume=*/true);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("no checkpoint"), std::string::npos);
}

}  // namespace
}  // namespace lockstep::driver
