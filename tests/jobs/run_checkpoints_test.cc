// Run-directory bookkeeping: the newest complete checkpoint wins (partial ones
// do not count) and JSONL logs are cut back to a step for exact resume.
#include "jobs/run_checkpoints.h"

#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"

namespace lockstep::jobs {
namespace {

namespace fs = std::filesystem;

class RunCheckpointsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("run_ckpt_test_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
            "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void MakeCheckpoint(const std::string& name, bool complete) {
    fs::create_directories(dir_ / name);
    if (complete) std::ofstream(dir_ / name / "trainer_state.json") << "{}";
  }
  fs::path dir_;
};

TEST_F(RunCheckpointsTest, NewestCompleteCheckpoint) {
  EXPECT_EQ(NewestCheckpointStep(dir_.string()).status().code(), absl::StatusCode::kNotFound);
  MakeCheckpoint("step_20", true);
  MakeCheckpoint("step_100", true);
  MakeCheckpoint("step_9", true);
  MakeCheckpoint("step_120.partial", true);
  MakeCheckpoint("step_140", false);  // no trainer_state.json: incomplete
  MakeCheckpoint("stepx_200", true);
  EXPECT_EQ(NewestCheckpointStep(dir_.string()).value(), 100);
}

TEST_F(RunCheckpointsTest, TruncateKeepsStepsUpToTheCheckpoint) {
  const fs::path file = dir_ / "metrics.jsonl";
  std::ofstream(file) << "{\"step\":1,\"x\":1}\n{\"step\":2}\n{\"note\":\"no step\"}\n{\"step\":3}\n";
  ASSERT_TRUE(TruncateJsonlAfterStep(file.string(), 2).ok());
  std::ifstream in(file);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(all, "{\"step\":1,\"x\":1}\n{\"step\":2}\n{\"note\":\"no step\"}\n");
  EXPECT_TRUE(TruncateJsonlAfterStep((dir_ / "missing.jsonl").string(), 2).ok());
}

TEST_F(RunCheckpointsTest, TruncateDropsALineACrashCutShort) {
  const fs::path file = dir_ / "rollouts.jsonl";
  std::ofstream(file) << "{\"step\":1}\n{\"step\":2,\"comp\n";
  ASSERT_TRUE(TruncateJsonlAfterStep(file.string(), 2).ok());
  std::ifstream in(file);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(all, "{\"step\":1}\n");
}

}  // namespace
}  // namespace lockstep::jobs
