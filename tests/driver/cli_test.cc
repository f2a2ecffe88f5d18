// The command lines of the built `lockstep` and `lockstep-trainer` binaries:
// --help on every command and subcommand exits 0 and names the command's
// flags; --version works on every binary; bad usage exits 2 with CLI11's message and
// a pointer to --help; config errors exit 2 and leave no run directory.
#include <cctype>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/driver/run_command.h"

namespace lockstep::driver {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::StartsWith;

const std::string kLockstep = std::string(LOCKSTEP_BINARY_DIR) + "/bin/lockstep";
const std::string kTrainer = std::string(LOCKSTEP_BINARY_DIR) + "/bin/lockstep-trainer";
const std::string kConfigs = std::string(LOCKSTEP_SOURCE_DIR) + "/configs";

using Result = testing::CommandResult;
using testing::RunCommand;

struct HelpCase {
  std::string binary;
  std::string command;  // "" for the binary itself
  std::vector<std::string> mentions;
};

class HelpTest : public ::testing::TestWithParam<HelpCase> {};

TEST_P(HelpTest, ExitsZeroAndNamesTheFlags) {
  const HelpCase& c = GetParam();
  for (const char* flag : {"--help", "-h"}) {
    const Result r = RunCommand(c.binary + " " + c.command + " " + flag);
    EXPECT_EQ(r.exit_code, 0) << c.command << " " << flag << ":\n" << r.output;
    EXPECT_THAT(r.output, HasSubstr("Usage: " + fs::path(c.binary).filename().string() +
                                    (c.command.empty() ? "" : " " + c.command)));
    for (const std::string& mention : c.mentions) {
      EXPECT_THAT(r.output, HasSubstr(mention)) << c.command << " " << flag;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Lockstep, HelpTest,
    ::testing::Values(
        HelpCase{kLockstep, "", {"--version", "grpo", "verify", "pretrain", "eval", "sandbox", "tokenize"}},
        HelpCase{kLockstep, "tokenize", {"--tokenizer", "--decode", "--json"}},
        HelpCase{kLockstep, "serve",
                 {"MODEL", "--bind", "--served-model-name", "--dtype", "--max-batch", "--max-n",
                  "--tokenizer", "--api-key-env"}},
        HelpCase{kLockstep, "grpo", {"CONFIG", "--set KEY=VALUE", "--out", "--resume"}},
        HelpCase{kLockstep, "verify",
                 {"--backend", "--dtype", "--json", "--sequences", "--max-new-tokens", "--seed",
                  "--trainer-dtype"}},
        HelpCase{kLockstep, "pretrain", {"CONFIG", "--set KEY=VALUE", "--out", "--resume"}},
        HelpCase{kLockstep, "eval", {"passk"}},
        HelpCase{kLockstep, "eval passk", {"CONFIG", "--set KEY=VALUE", "--out", "--samples"}},
        HelpCase{kLockstep, "sandbox", {"run", "serve"}},
        HelpCase{kLockstep, "sandbox run",
                 {"FILE", "--lang", "--stdin", "--expect", "--time-limit", "--memory-limit",
                  "--json", "--preview-bytes"}},
        HelpCase{kLockstep, "sandbox serve", {"--bind", "--workers", "--queue", "--stats-interval"}},
        HelpCase{kTrainer, "", {"--version", "inspect", "export", "resave", "grpo"}},
        HelpCase{kTrainer, "grpo", {"RUN", "--rollout", "--sandbox", "--resume"}},
        HelpCase{kTrainer, "inspect", {"CKPT"}},
        HelpCase{kTrainer, "export", {"CKPT", "--out", "--dtype", "--overwrite"}},
        HelpCase{kTrainer, "resave", {"CKPT", "--out", "--overwrite"}}),
    // Test names ctest can show: "lockstep_eval_passk", "lockstep_trainer_grpo".
    [](const ::testing::TestParamInfo<HelpCase>& info) {
      std::string name = fs::path(info.param.binary).filename().string();
      if (!info.param.command.empty()) name += " " + info.param.command;
      for (char& c : name) {
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
      }
      return name;
    });

TEST(CliTest, VersionOnEveryBinary) {
  const std::string bin = std::string(LOCKSTEP_BINARY_DIR) + "/bin/";
  for (const std::string& binary :
       {kLockstep, kTrainer, bin + "lockstep-rollout", bin + "lockstep-sandbox"}) {
    const Result r = RunCommand(binary + " --version");
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_THAT(r.output, StartsWith(fs::path(binary).filename().string() + " "));
    EXPECT_THAT(r.output, ::testing::ContainsRegex("[0-9]+\\.[0-9]+\\.[0-9]+"));
  }
}

TEST(CliTest, BadUsageExitsTwoWithAPointerToHelp) {
  for (const std::string& command :
       {kLockstep + " verify --no-such-flag", kLockstep + " pretrain --no-such-flag",
        kLockstep + " eval passk --no-such-flag", kLockstep + " sandbox run --no-such-flag",
        kLockstep + " sandbox serve --no-such-flag", kLockstep + " no-such-command",
        kLockstep + " verify --dtype fp8", kLockstep + " verify --sequences 0",
        kLockstep + " sandbox serve", kLockstep + " eval", kLockstep,
        kTrainer + " inspect", kTrainer + " export ckpt", kTrainer + " inspect ckpt --no-such-flag"}) {
    const Result r = RunCommand(command);
    EXPECT_EQ(r.exit_code, 2) << command << ":\n" << r.output;
    EXPECT_THAT(r.output, HasSubstr("--help")) << command;
  }
  EXPECT_THAT(RunCommand(kLockstep + " verify --no-such-flag").output, HasSubstr("--no-such-flag"));
}

// `verify --json` prints one JSON document (not one object per dtype per line).
TEST(CliTest, VerifyJsonIsOneDocument) {
  const Result r = RunCommand(kLockstep + " verify --sequences 2 --max-new-tokens 4 --json");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, StartsWith("{\n"));
  EXPECT_THAT(r.output, ::testing::EndsWith("\n}\n"));
  EXPECT_EQ(r.output.find("\n{"), std::string::npos) << "a second top-level value:\n" << r.output;
  EXPECT_THAT(r.output, HasSubstr("\"reports\""));
  EXPECT_THAT(r.output, HasSubstr("\"dtype\": \"fp16\""));
  EXPECT_THAT(r.output, HasSubstr("\"dtype\": \"bf16\""));
}

class CliRunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/lockstep_cli_test_XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  fs::path dir_;
};

TEST_F(CliRunTest, ConfigCommandsNeedExactlyOneOfConfigAndResume) {
  Result r = RunCommand(kLockstep + " pretrain");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.output, HasSubstr("CONFIG"));
  r = RunCommand(kLockstep + " pretrain " + kConfigs + "/pretrain-arithmetic.toml --resume " + Path("r"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.output, HasSubstr("not both"));
  r = RunCommand(kLockstep + " pretrain --resume " + Path("r") + " --out " + Path("o"));
  EXPECT_EQ(r.exit_code, 2);
  r = RunCommand(kLockstep + " pretrain x.toml --set no_equals_sign");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.output, HasSubstr("expected dotted.key=value"));
}

TEST_F(CliRunTest, ConfigErrorsExitTwoAndLeaveNoRunDirectory) {
  const std::string config = kConfigs + "/eval-passk-reference.toml";
  // Both spellings of --set reach the config layer.
  for (const char* set : {"--set eval.typo=1", "--set=eval.typo=1"}) {
    const Result r = RunCommand(kLockstep + " eval passk " + config + " " + set + " --out " + Path("run"));
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_THAT(r.output, HasSubstr("unknown key eval.typo"));
    EXPECT_FALSE(fs::exists(Path("run")));
  }
  Result r = RunCommand(kLockstep + " pretrain " + Path("missing.toml") + " --out " + Path("run"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.output, HasSubstr("does not exist"));
  // A run that fails before writing anything but config.toml leaves nothing.
  r = RunCommand(kLockstep + " eval passk " + config + " --set eval.problems=" + Path("none") + " --out " +
          Path("run"));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_FALSE(fs::exists(Path("run")));
}

TEST_F(CliRunTest, SandboxRunTakesTheLanguageFromTheExtension) {
  const std::string program = Path("sum.py");
  FILE* f = fopen(program.c_str(), "w");
  ASSERT_NE(f, nullptr);
  fputs("print(2 + 3)\n", f);
  fclose(f);
  Result r = RunCommand(kLockstep + " sandbox run " + program);
  if (r.exit_code == 3) GTEST_SKIP() << "the sandbox cannot work here: " << r.output;
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("status: ok"));
  EXPECT_THAT(r.output, HasSubstr("5"));
  // A program that floods stdout: the status is reported and at most a preview printed.
  const std::string flood = Path("flood.py");
  f = fopen(flood.c_str(), "w");
  ASSERT_NE(f, nullptr);
  fputs("import sys\nwhile True:\n    sys.stdout.write('y' * 4096)\n", f);
  fclose(f);
  r = RunCommand(kLockstep + " sandbox run " + flood + " --preview-bytes 1000");
  EXPECT_EQ(r.exit_code, 1) << r.output.substr(0, 2000);
  EXPECT_THAT(r.output, StartsWith("status: output_limit"));
  EXPECT_THAT(r.output, HasSubstr("ran; killed by the sandbox"));
  EXPECT_THAT(r.output, HasSubstr("first 1000 shown"));
  EXPECT_THAT(r.output, HasSubstr("more bytes not shown"));
  EXPECT_THAT(r.output, ::testing::EndsWith("status: output_limit\n"));
  EXPECT_LT(r.output.size(), 2000u) << "the preview is not bounded";
  r = RunCommand(kLockstep + " sandbox run " + flood);  // default preview: 4 KiB
  EXPECT_LT(r.output.size(), 5000u);
  r = RunCommand(kLockstep + " sandbox run --lang nope " + program);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("unknown language 'nope'"));
  r = RunCommand(kLockstep + " sandbox run " + Path("notes.txt"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("pass --lang LANG"));
  r = RunCommand(kLockstep + " sandbox run " + Path("missing.py"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("cannot read program file"));
}

// A one-step pretrain run, then lockstep-trainer on its checkpoint: export
// refuses a non-empty --out unless --overwrite, and a resumed run records its
// --set in RUN/config.toml.
TEST_F(CliRunTest, PretrainThenTrainerTools) {
  const std::string run = Path("run");
  Result r = RunCommand(kLockstep + " pretrain " + kConfigs +
                 "/pretrain-arithmetic.toml --set=train.steps=1 --set model.num_layers=1 "
                 "--set model.hidden_size=32 --set eval.problems=0 --out " + run);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string ckpt = run + "/checkpoints/step_1";
  ASSERT_TRUE(fs::exists(ckpt + "/trainer_state.json")) << r.output;

  r = RunCommand(kTrainer + " inspect " + ckpt);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("\"optimizer_step\": 1"));
  // Hashes are 16-hex strings (jq rounds integers above 2^53), with shapes and a total.
  EXPECT_THAT(r.output, ::testing::ContainsRegex("\"xxh64_master\": \"[0-9a-f]{16}\""));
  EXPECT_THAT(r.output, ::testing::Not(::testing::ContainsRegex("\"xxh64_master\": [0-9]")));
  EXPECT_THAT(r.output, ::testing::ContainsRegex("\"parameter_total\": [1-9][0-9]*"));
  EXPECT_THAT(r.output, HasSubstr("\"shape\": ["));
  r = RunCommand(kTrainer + " export " + ckpt + " --out " + run + "/final");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("--overwrite"));
  r = RunCommand(kTrainer + " export " + ckpt + " --out " + run + "/final --overwrite --dtype fp32");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  r = RunCommand(kTrainer + " resave " + ckpt + " --out " + Path("resaved"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  r = RunCommand(kTrainer + " inspect " + Path("no-such-checkpoint"));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  // Errors say what failed, not which C++ function did.
  r = RunCommand(kTrainer + " export " + ckpt + " --out /proc/no-such-dir/model");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("lockstep-trainer: cannot create the model directory"));
  EXPECT_THAT(r.output, ::testing::Not(HasSubstr("SaveModelDir")));

  r = RunCommand(kLockstep + " pretrain --resume " + run + " --set train.steps=2");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  r = RunCommand("grep -c '^steps = 2$' " + run + "/config.toml");
  EXPECT_EQ(r.output, "1\n");
}

// SIGINT during `pretrain` saves a checkpoint, says where and how to resume,
// and exits 130; --resume then continues from it (and, the run being
// finished, a second --resume is a no-op that says so).
TEST_F(CliRunTest, PretrainInterruptedBySigintResumes) {
  const std::string run = Path("run");
  const std::string start = kLockstep + " pretrain " + kConfigs +
                            "/pretrain-arithmetic.toml --set train.steps=100000 "
                            "--set model.num_layers=1 --set model.hidden_size=32 "
                            "--set eval.problems=0 --out " + run;
  // A run this long only ends by the signal, sent once a step is on record.
  const Result r = RunCommand("sh -c '" + start + " > " + Path("log") + " 2>&1 & pid=$!; " +
                              "while kill -0 $pid && [ ! -s " + run + "/metrics.jsonl ]; do sleep 0.1; done; " +
                              "kill -INT $pid; wait $pid; echo exit=$?; cat " + Path("log") + "'");
  EXPECT_THAT(r.output, HasSubstr("exit=130")) << r.output;
  EXPECT_THAT(r.output, HasSubstr("checkpoint saved to " + run + "/checkpoints/step_")) << r.output;
  EXPECT_THAT(r.output, HasSubstr("lockstep pretrain --resume " + run)) << r.output;
  const Result resumed =
      RunCommand(kLockstep + " pretrain --resume " + run + " --set train.steps=3");
  EXPECT_EQ(resumed.exit_code, 0) << resumed.output;
  const Result again = RunCommand(kLockstep + " pretrain --resume " + run + " --set train.steps=3");
  EXPECT_EQ(again.exit_code, 0) << again.output;
  EXPECT_THAT(again.output, HasSubstr("already finished")) << again.output;
  EXPECT_THAT(again.output, HasSubstr("nothing rewritten"));
}

// Ctrl-C of a fresh `eval passk` (which writes its outputs only at the end)
// leaves no run directory, so the same --out works the next time.
TEST_F(CliRunTest, EvalInterruptedLeavesNoRunDirectory) {
  const std::string run = Path("eval");
  const std::string start = kLockstep + " eval passk " + kConfigs + "/eval-passk-reference.toml --out " +
                            run;
  const Result r = RunCommand("cd " + std::string(LOCKSTEP_SOURCE_DIR) + " && sh -c '" + start + " > " +
                              Path("log") + " 2>&1 & pid=$!; while kill -0 $pid && ! grep -q scoring " + Path("log") +
                              "; do sleep 0.1; done; kill -INT $pid; wait $pid; echo exit=$?'");
  EXPECT_THAT(r.output, HasSubstr("exit=130")) << r.output;
  EXPECT_FALSE(fs::exists(run)) << r.output;
}

}  // namespace
}  // namespace lockstep::driver
