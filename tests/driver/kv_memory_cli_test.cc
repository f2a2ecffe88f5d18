// --kv-memory-fraction on lockstep-rollout and lockstep serve as a user types it: bad values
// and --kv-blocks alongside are usage errors (exit 2, the rule in the message), a fraction
// too small for one sequence stops serve before it listens, and the GRPO launcher passes
// the fraction (or the block count) on to its engines.
#include <filesystem>
#include <string>
#include <vector>

#include "driver/grpo_launcher.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/driver/run_command.h"
#include "tests/serve/serve_test_support.h"

namespace lockstep::driver {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const std::string kBin = std::string(LOCKSTEP_BINARY_DIR) + "/bin/";

using Result = testing::CommandResult;
using testing::RunCommand;

TEST(KvMemoryCliTest, RolloutRejectsBadFractions) {
  const std::string rollout = kBin + "lockstep-rollout --bind ipc:///tmp/lockstep-kv-cli-never";
  for (const std::string bad : {"1", "1.5", "-0.1", "abc", "nan"}) {
    const Result r = RunCommand(rollout + " --kv-memory-fraction " + bad);
    EXPECT_EQ(r.exit_code, 2) << bad << ":\n" << r.output;
    EXPECT_THAT(r.output, HasSubstr("--kv-memory-fraction")) << bad;
    EXPECT_THAT(r.output, HasSubstr("--help")) << bad;
  }
  const Result both = RunCommand(rollout + " --kv-memory-fraction 0.5 --kv-blocks 8");
  EXPECT_EQ(both.exit_code, 2) << both.output;
  EXPECT_THAT(both.output, HasSubstr("excludes"));
  const Result help = RunCommand(kBin + "lockstep-rollout --help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.output, HasSubstr("--kv-memory-fraction"));
}

TEST(KvMemoryCliTest, ServeRejectsBadFractionsAndOneThatHoldsNoSequence) {
  const fs::path dir = serve::testing::TestDir("kv_fraction");
  serve::testing::WriteTinyModelDir(dir / "tiny");
  const std::string serve = kBin + "lockstep serve " + (dir / "tiny").string() + " --bind 127.0.0.1:0";
  for (const std::string bad : {"1", "0.9999999x", "-1"}) {
    const Result r = RunCommand(serve + " --kv-memory-fraction " + bad);
    EXPECT_EQ(r.exit_code, 2) << bad << ":\n" << r.output;
    EXPECT_THAT(r.output, HasSubstr("--kv-memory-fraction")) << bad;
  }
  EXPECT_EQ(RunCommand(serve + " --kv-memory-fraction 0.5 --kv-blocks 8").exit_code, 2);
  // 1e-15 of any real host's free memory is a few bytes: not one 128-token sequence.
  const Result tiny = RunCommand(serve + " --kv-memory-fraction 1e-15");
  EXPECT_EQ(tiny.exit_code, 2) << tiny.output;
  EXPECT_THAT(tiny.output, HasSubstr("max_position_embeddings"));
  EXPECT_THAT(tiny.output, HasSubstr("raise the fraction"));
  const Result help = RunCommand(kBin + "lockstep serve --help");
  EXPECT_THAT(help.output, HasSubstr("--kv-memory-fraction"));
  fs::remove_all(dir);
}

TEST(KvMemoryCliTest, LauncherPassesTheFractionOrTheBlockCount) {
  jobs::GrpoRolloutOptions rollout;
  rollout.max_batch = 16;
  rollout.kv_blocks = 300;
  EXPECT_THAT(RolloutEngineArgs("ipc:///tmp/e0", rollout),
              ElementsAre("--bind", "ipc:///tmp/e0", "--max-batch", "16", "--kv-blocks", "300",
                          "--device", "cpu", "--mode", "invariant"));
  rollout.kv_memory_fraction = 0.4;
  rollout.device = "cuda";
  EXPECT_THAT(RolloutEngineArgs("ipc:///tmp/e0", rollout),
              ElementsAre("--bind", "ipc:///tmp/e0", "--max-batch", "16", "--kv-memory-fraction",
                          "0.4", "--device", "cuda", "--mode", "invariant"));
}

}  // namespace
}  // namespace lockstep::driver
