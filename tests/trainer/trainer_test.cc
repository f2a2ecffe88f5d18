// Trainer: determinism (same seed and config -> same checkpoint bytes), exact
// resume (2 steps + save + resume + 2 steps == 4 steps, byte for byte), loss
// goes down on a learnable pattern, and bad inputs are rejected.
#include "trainer/trainer.h"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <unistd.h>

#include "gtest/gtest.h"

namespace lockstep::trainer {
namespace {

namespace fs = std::filesystem;

ModelConfig TinyConfig() {
  ModelConfig c;
  c.family = ModelFamily::kQwen2;
  c.attention_bias = true;
  c.hidden_size = 32;
  c.num_layers = 2;
  c.num_heads = 4;
  c.num_kv_heads = 2;
  c.head_dim = 8;
  c.intermediate_size = 48;
  c.vocab_size = 13;
  c.max_position_embeddings = 64;
  return c;
}

// A batch of the repeating pattern 4 5 6 7 8 4 5 6 7 8 ..., starting at
// `offset`, so a model can learn it and the loss must fall.
std::vector<TrainSequence> PatternBatch(int step) {
  std::vector<TrainSequence> batch;
  for (int i = 0; i < 5; ++i) {
    TrainSequence s;
    const int len = 6 + (i * 3 + step) % 9;
    for (int t = 0; t < len; ++t) s.tokens.push_back(4 + (t + i + step) % 5);
    s.prompt_length = 1;
    batch.push_back(s);
  }
  return batch;
}

TrainerConfig Config(DType dtype) {
  TrainerConfig c;
  c.dtype = dtype;
  c.optim.lr = 1e-2;
  c.optim.weight_decay = 0.01;
  c.optim.schedule = LrSchedule::kCosine;
  c.optim.warmup_steps = 2;
  c.optim.total_steps = 40;
  c.micro_batch_sequences = 2;
  return c;
}

std::string ReadBytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void ExpectSameCheckpoint(const fs::path& a, const fs::path& b) {
  for (const char* f : {"model.safetensors", "optimizer.safetensors", "trainer_state.json",
                        "config.json"}) {
    EXPECT_EQ(ReadBytes(a / f), ReadBytes(b / f)) << f;
    EXPECT_FALSE(ReadBytes(a / f).empty()) << f;
  }
}

class TrainerTest : public ::testing::TestWithParam<DType> {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("trainer_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path Dir(const std::string& name) { return dir_ / name; }
  fs::path dir_;
};

TEST_P(TrainerTest, SameSeedSameBytesAndExactResume) {
  const ModelWeights init = RandomInitWeights(TinyConfig(), DType::kF32, 21, 0.1f).value();
  auto run = [&](int steps, std::unique_ptr<Trainer> t, int first_step) {
    for (int s = first_step; s < first_step + steps; ++s) {
      auto r = t->Step(PatternBatch(s), NextTokenLoss());
      EXPECT_TRUE(r.ok()) << r.status();
    }
    return t;
  };
  auto a = run(4, Trainer::Create(init, Config(GetParam())).value(), 0);
  ASSERT_TRUE(a->SaveCheckpoint(Dir("a").string(), {{"data_position", 4}}).ok());
  auto b = run(4, Trainer::Create(init, Config(GetParam())).value(), 0);
  ASSERT_TRUE(b->SaveCheckpoint(Dir("b").string(), {{"data_position", 4}}).ok());
  ExpectSameCheckpoint(Dir("a"), Dir("b"));

  auto half = run(2, Trainer::Create(init, Config(GetParam())).value(), 0);
  ASSERT_TRUE(half->SaveCheckpoint(Dir("half").string(), {{"data_position", 2}}).ok());
  half.reset();
  nlohmann::json user;
  auto resumed = Trainer::LoadCheckpoint(Dir("half").string(), Config(GetParam()), &user);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_EQ(user["data_position"], 2);
  EXPECT_EQ((*resumed)->step(), 2);
  auto c = run(2, std::move(*resumed), 2);
  ASSERT_TRUE(c->SaveCheckpoint(Dir("c").string(), {{"data_position", 4}}).ok());
  ExpectSameCheckpoint(Dir("a"), Dir("c"));
}

TEST_P(TrainerTest, LossFallsOnALearnablePattern) {
  const ModelWeights init = RandomInitWeights(TinyConfig(), DType::kF32, 4, 0.1f).value();
  auto t = Trainer::Create(init, Config(GetParam())).value();
  double first = 0.0, last = 0.0;
  for (int s = 0; s < 30; ++s) {
    auto r = t->Step(PatternBatch(s), NextTokenLoss());
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_FALSE(r->optimizer.skipped);
    if (s == 0) first = r->loss;
    last = r->loss;
  }
  EXPECT_NEAR(first, std::log(13.0), 0.3);  // about ln(vocab) at init
  EXPECT_LT(last, 0.5 * first);
}

INSTANTIATE_TEST_SUITE_P(DTypes, TrainerTest, ::testing::Values(DType::kF16, DType::kBF16));

TEST(TrainerErrors, BadInputsAreRejected) {
  const ModelWeights init = RandomInitWeights(TinyConfig(), DType::kF32, 4).value();
  TrainerConfig bad = Config(DType::kBF16);
  bad.micro_batch_sequences = 0;
  EXPECT_NE(Trainer::Create(init, bad).status().message().find("train.micro_batch"),
            std::string::npos);
  auto t = Trainer::Create(init, Config(DType::kBF16)).value();
  std::vector<TrainSequence> batch = {TrainSequence{.tokens = {1, 2, 99}, .prompt_length = 1, .sampling = {}}};
  EXPECT_NE(t->Step(batch, NextTokenLoss()).status().message().find("outside vocabulary"),
            std::string::npos);
  batch = {TrainSequence{.tokens = {1, 2}, .prompt_length = 3, .sampling = {}}};
  EXPECT_FALSE(t->Step(batch, NextTokenLoss()).ok());
  EXPECT_EQ(Trainer::LoadCheckpoint("/nonexistent/ckpt", Config(DType::kBF16), nullptr)
                .status()
                .code(),
            absl::StatusCode::kNotFound);
}

// The backward pass is CPU-only: a trainer on the CUDA backend is refused, by name.
TEST(TrainerErrors, GpuTrainingIsRefusedWithAClearError) {
  const ModelWeights init = RandomInitWeights(TinyConfig(), DType::kF32, 4).value();
  TrainerConfig on_gpu = Config(DType::kBF16);
  on_gpu.device = Device::kCuda;
  const absl::Status status = Trainer::Create(init, on_gpu).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(status.message().find("GPU training is not built yet; the trainer runs on device = cpu"),
            std::string::npos)
      << status;
}

}  // namespace
}  // namespace lockstep::trainer
