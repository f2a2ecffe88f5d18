// The shared sequence of config-driven commands: a bad key or value fails before
// any directory exists; a good config lands in RUN/config.toml with its --set
// overrides (on resume too); a failed fresh run leaves nothing behind.
#include "config/config_job.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "config/file_io.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace lockstep::config {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

struct StepsOptions {
  int64_t steps = 0;
};

absl::StatusOr<StepsOptions> ReadSteps(const Config& config) {
  StepsOptions options;
  LOCKSTEP_ASSIGN_OR_RETURN(options.steps, config.GetIntInRange("train.steps", 1));
  return options;
}

class ConfigJobTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/lockstep_config_job_test_XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    std::ofstream(dir_ / "job.toml") << "[train]\nsteps = 3\n";
    args_.command = "test";
    args_.config_path = (dir_ / "job.toml").string();
    args_.out_dir = (dir_ / "run").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
  JobArgs args_;
};

TEST_F(ConfigJobTest, WritesResolvedConfigAndRuns) {
  args_.overrides = {"train.steps=5"};
  auto job = PrepareJob(args_, ReadSteps);
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->options.steps, 5);
  EXPECT_FALSE(job->run_dir.resume);
  EXPECT_EQ(*ReadFile((dir_ / "run" / "config.toml").string()), "[train]\nsteps = 5\n");
  auto ran = RunPreparedJob(*job, [](const StepsOptions& o, const RunDir&) {
    return absl::StatusOr<int64_t>(o.steps * 2);
  });
  ASSERT_TRUE(ran.ok());
  EXPECT_EQ(*ran, 10);
}

TEST_F(ConfigJobTest, BadConfigCreatesNoDirectory) {
  args_.overrides = {"train.step=5"};
  EXPECT_THAT(std::string(PrepareJob(args_, ReadSteps).status().message()),
              HasSubstr("unknown key train.step (did you mean train.steps?)"));
  args_.overrides = {"train.steps=0"};
  EXPECT_THAT(std::string(PrepareJob(args_, ReadSteps).status().message()),
              HasSubstr("train.steps = 0: must be >= 1"));
  EXPECT_FALSE(fs::exists(dir_ / "run"));
}

TEST_F(ConfigJobTest, FailedFreshRunLeavesNoDirectoryButKeepsItsOutputs) {
  auto job = PrepareJob(args_, ReadSteps);
  ASSERT_TRUE(job.ok()) << job.status();
  auto fail = [](const StepsOptions&, const RunDir&) {
    return absl::StatusOr<int>(absl::InternalError("boom"));
  };
  EXPECT_FALSE(RunPreparedJob(*job, fail).ok());
  EXPECT_FALSE(fs::exists(dir_ / "run"));

  job = PrepareJob(args_, ReadSteps);
  ASSERT_TRUE(job.ok()) << job.status();
  auto fail_after_writing = [](const StepsOptions&, const RunDir& run_dir) {
    std::ofstream(fs::path(run_dir.path) / "metrics.jsonl") << "{}\n";
    return absl::StatusOr<int>(absl::InternalError("boom"));
  };
  EXPECT_FALSE(RunPreparedJob(*job, fail_after_writing).ok());
  EXPECT_TRUE(fs::exists(dir_ / "run" / "metrics.jsonl"));
}

TEST_F(ConfigJobTest, ResumeReadsTheRunsConfigAndRecordsNewOverrides) {
  ASSERT_TRUE(PrepareJob(args_, ReadSteps).ok());
  JobArgs resume;
  resume.command = "test";
  resume.resume_dir = (dir_ / "run").string();
  resume.overrides = {"train.steps=7"};
  auto job = PrepareJob(resume, ReadSteps);
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_TRUE(job->run_dir.resume);
  EXPECT_EQ(job->run_dir.path, resume.resume_dir);
  EXPECT_EQ(job->options.steps, 7);
  EXPECT_EQ(*ReadFile((dir_ / "run" / "config.toml").string()), "[train]\nsteps = 7\n");

  // A failed resumed run keeps its directory whatever it holds.
  EXPECT_FALSE(RunPreparedJob(*job, [](const StepsOptions&, const RunDir&) {
                 return absl::StatusOr<int>(absl::InternalError("boom"));
               }).ok());
  EXPECT_TRUE(fs::exists(dir_ / "run" / "config.toml"));

  resume.resume_dir = (dir_ / "absent").string();
  EXPECT_THAT(std::string(PrepareJob(resume, ReadSteps).status().message()),
              HasSubstr("does not exist; nothing to resume"));
}

TEST_F(ConfigJobTest, FileIoRoundTripAndErrors) {
  const std::string path = (dir_ / "f.txt").string();
  ASSERT_TRUE(WriteFileAtomically(path, std::string("a\0b", 3)).ok());
  EXPECT_EQ(*ReadFile(path), std::string("a\0b", 3));
  EXPECT_FALSE(fs::exists(path + ".tmp"));
  EXPECT_EQ(ReadFile((dir_ / "nope").string()).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ReadFile(dir_.string()).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(WriteFileAtomically((dir_ / "no" / "such" / "dir").string(), "x").ok());
}

}  // namespace
}  // namespace lockstep::config
