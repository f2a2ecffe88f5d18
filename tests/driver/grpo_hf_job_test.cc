// `lockstep grpo` on an HF model directory built here (random Qwen2 weights, a
// synthetic byte-level BPE tokenizer.json, Qwen2.5's chat template): the job
// completes, rollouts.jsonl holds chat prompts and completions decoded by the
// HF tokenizer (random weights emit arbitrary bytes, so also text that is not
// UTF-8), and rollout log-probs match the trainer's bit for bit.
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "model/hf_tokenizer.h"
#include "nlohmann/json.hpp"
#include "tests/model/tiny_hf_model.h"

namespace lockstep {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::vector<json> ReadJsonl(const fs::path& path) {
  std::vector<json> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(json::parse(line));
  }
  return out;
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs the built `lockstep` with `args`, output to `log`; returns the exit code.
int RunLockstep(const std::vector<std::string>& args, const fs::path& log) {
  const pid_t pid = fork();
  if (pid == 0) {
    FILE* err = fopen(log.c_str(), "w");
    dup2(fileno(err), 2);
    dup2(fileno(err), 1);
    const std::string exe = std::string(LOCKSTEP_BINARY_DIR) + "/bin/lockstep";
    std::vector<char*> argv{const_cast<char*>(exe.c_str())};
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    if (chdir(LOCKSTEP_SOURCE_DIR) != 0) _exit(126);
    execv(exe.c_str(), argv.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TEST(GrpoHfJobTest, ChatJobOnAnHfModelDirectory) {
  const fs::path root = fs::path(::testing::TempDir()) / ("lockstep_grpo_hf_job_" + std::to_string(getpid()));
  fs::remove_all(root);
  const fs::path model = root / "model";
  testing_util::WriteTinyHfModelDir(model, {.generation_eos = {testing_util::kTinyImEnd}});
  const fs::path config = root / "job.toml";
  std::ofstream(config) << "[model]\ninit_from = \"" << model.string() << "\"\n"
                        << "[task]\nkind = \"arithmetic\"\nseed = 5\nprompt_format = \"chat\"\n"
                        << "[rollout]\nn = 2\nmax_new_tokens = 4\nseed = 2\nengine_timeout_s = 60\n"
                        << "[train]\nsteps = 2\nprompts_per_step = 2\nmicro_batch = 8\ncheckpoint_every = 2\n"
                        << "[optim]\nlr = 1e-3\n[eval]\nprompts = 2\n";
  const fs::path run = root / "run";
  const int code = RunLockstep({"grpo", config.string(), "--out", run.string()}, root / "job.log");
  ASSERT_EQ(code, 0) << ReadFile(root / "job.log");

  const HfTokenizer tokenizer = HfTokenizer::FromFile((model / "tokenizer.json").string()).value();
  const std::vector<json> rollouts = ReadJsonl(run / "rollouts.jsonl");
  ASSERT_EQ(rollouts.size(), 2u * 2u * 2u);  // steps x prompts x samples
  int decoded = 0;  // completions with text (so the comparison below compares something)
  for (const json& r : rollouts) {
    const std::string prompt = r["prompt"].get<std::string>();
    EXPECT_EQ(prompt.rfind("<|im_start|>system\n", 0), 0u) << prompt;
    EXPECT_NE(prompt.find("<|im_start|>assistant\n"), std::string::npos) << prompt;
    std::string expected = tokenizer.Decode(r["tokens"].get<std::vector<int32_t>>(), /*skip_special=*/true);
    expected = expected.substr(0, expected.find('\n'));
    // rollouts.jsonl writes bytes that are not UTF-8 (random byte tokens) as U+FFFD.
    expected = json::parse(json(expected).dump(-1, ' ', false, json::error_handler_t::replace))
                   .get<std::string>();
    EXPECT_EQ(r["completion"].get<std::string>(), expected);
    EXPECT_LE(r["tokens"].size(), 4u);
    decoded += expected.empty() ? 0 : 1;
  }
  EXPECT_GT(decoded, 0);
  const std::vector<json> metrics = ReadJsonl(run / "metrics.jsonl");
  ASSERT_EQ(metrics.size(), 2u);
  for (const json& m : metrics) EXPECT_EQ(m["mismatch/bitwise_equal_fraction"].get<double>(), 1.0);
  // The checkpoint carries the starting directory's tokenizer and generation settings, so
  // it opens like the original: same tokenizer bytes, same chat template.
  const fs::path checkpoint = run / "checkpoints" / "step_2";
  for (const char* name : {"tokenizer.json", "tokenizer_config.json", "generation_config.json"}) {
    ASSERT_TRUE(fs::exists(checkpoint / name)) << name;
    EXPECT_EQ(ReadFile(checkpoint / name), ReadFile(model / name)) << name;
  }
  EXPECT_FALSE(fs::exists(checkpoint / "tokenizer.json.partial"));
  if (!::testing::Test::HasFailure()) fs::remove_all(root);
}

}  // namespace
}  // namespace lockstep
