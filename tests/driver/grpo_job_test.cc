// `lockstep grpo` as a user runs it: the built binaries, separate processes,
// files on disk. Every test checks prompt accounting (each prompt of each step
// scored exactly once, with all its samples) and compares results with an
// unfaulted run of the same config, byte for byte where the contract says so:
// a rollout engine killed and restarted, a second engine, an interrupt and a
// resume, a SIGKILLed trainer and a resume all give the same rollouts and the
// same final weights. Also: a SIGKILLed driver leaves no child behind, and bad
// input is refused before any process starts.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace lockstep {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Large enough that a step takes a noticeable fraction of a second, so a
// test can kill a process in the middle of the job.
constexpr int kSteps = 12;
constexpr int kPrompts = 16;
constexpr int kSamples = 8;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<json> ReadJsonl(const fs::path& path) {
  std::vector<json> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(json::parse(line));
  }
  return out;
}

// A GRPO job started with fork/exec; stderr goes to a file the test reads.
class Job {
 public:
  Job(const std::vector<std::string>& args, const fs::path& stderr_path) : stderr_path_(stderr_path) {
    pid_ = fork();
    if (pid_ == 0) {
      FILE* err = fopen(stderr_path.c_str(), "w");
      dup2(fileno(err), 2);
      dup2(fileno(err), 1);
      std::vector<char*> argv;
      const std::string exe = std::string(LOCKSTEP_BINARY_DIR) + "/bin/lockstep";
      argv.push_back(const_cast<char*>(exe.c_str()));
      for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      chdir(LOCKSTEP_SOURCE_DIR);
      execv(exe.c_str(), argv.data());
      _exit(127);
    }
  }
  ~Job() {
    if (pid_ > 0 && !reaped_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  pid_t pid() const { return pid_; }
  std::string Stderr() const { return ReadFile(stderr_path_); }
  // Waits until stderr contains `text`; false on timeout or if the job ended.
  bool WaitFor(const std::string& text, std::chrono::seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (Stderr().find(text) != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }
  // The exit status (the signal number + 128 when killed), waiting up to `timeout`.
  int Wait(std::chrono::seconds timeout = std::chrono::seconds(240)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    int status = 0;
    while (waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        reaped_ = true;
        ADD_FAILURE() << "job timed out; stderr:\n" << Stderr();
        return -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    reaped_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  // The pid the driver printed for a child ("rollout-0 pid 123").
  pid_t ChildPid(const std::string& name) const {
    const std::string text = Stderr();
    const size_t at = text.rfind(name + " pid ");
    if (at == std::string::npos) return 0;
    return std::atoi(text.c_str() + at + name.size() + 5);
  }

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  fs::path stderr_path_;
};

// Processes whose command line mentions `needle` (the run directory).
std::vector<pid_t> ProcessesMentioning(const std::string& needle) {
  std::vector<pid_t> found;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmdline = ReadFile(entry.path() / "cmdline");
    for (char& c : cmdline) {
      if (c == '\0') c = ' ';
    }
    if (cmdline.find(needle) != std::string::npos) found.push_back(std::stoi(name));
  }
  return found;
}

bool NoProcessesMentioning(const std::string& needle, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!ProcessesMentioning(needle).empty()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

class GrpoJobTest : public ::testing::Test {
 protected:
  // Run directories and logs are kept while the suite runs (the baseline is
  // shared) and removed at its end, unless a test failed.
  static void TearDownTestSuite() {
    if (!::testing::UnitTest::GetInstance()->Failed()) fs::remove_all(Root());
  }
  static fs::path Root() {
    static const fs::path root = [] {
      fs::path p = fs::temp_directory_path() / ("lockstep_grpo_test_" + std::to_string(getpid()));
      fs::remove_all(p);
      fs::create_directories(p);
      return p;
    }();
    return root;
  }
  static fs::path ConfigPath() {
    const fs::path path = Root() / "job.toml";
    if (!fs::exists(path)) {
      std::ofstream(path) << "[model]\ninit_from = \"" << LOCKSTEP_SOURCE_DIR
                          << "/data/models/arithmetic-base\"\n"
                          << "[task]\nkind = \"arithmetic\"\nseed = 5\n"
                          << "[rollout]\nn = " << kSamples << "\nmax_new_tokens = 6\nseed = 2\n"
                          << "engine_timeout_s = 30\n"
                          << "[train]\nsteps = " << kSteps << "\nprompts_per_step = " << kPrompts
                          << "\nmicro_batch = 40\ncheckpoint_every = 2\n"
                          << "[optim]\nlr = 1.5e-4\n[eval]\nprompts = 8\n";
    }
    return path;
  }
  // Runs the job to the end and returns its run directory.
  static fs::path RunJob(const std::string& name, std::vector<std::string> extra = {}) {
    const fs::path run = Root() / name;
    std::vector<std::string> args = {"grpo", ConfigPath().string(), "--out", run.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    Job job(args, Root() / (name + ".stderr"));
    const int code = job.Wait();
    EXPECT_EQ(code, 0) << job.Stderr();
    return run;
  }
  // The unfaulted reference run, made once.
  static const fs::path& Baseline() {
    static const fs::path run = RunJob("baseline");
    return run;
  }

  // Every step's samples are exactly the (prompt, sample) pairs it asked for.
  static void ExpectPromptAccounting(const fs::path& run) {
    std::map<int64_t, std::multiset<std::pair<int64_t, int64_t>>> seen;
    for (const json& s : ReadJsonl(run / "rollouts.jsonl")) {
      seen[s["step"].get<int64_t>()].insert(
          {s["request_id"].get<int64_t>(), s["sample_index"].get<int64_t>()});
    }
    ASSERT_EQ(seen.size(), static_cast<size_t>(kSteps));
    for (int step = 1; step <= kSteps; ++step) {
      std::multiset<std::pair<int64_t, int64_t>> expected;
      for (int p = 0; p < kPrompts; ++p) {
        for (int s = 0; s < kSamples; ++s) expected.insert({(step - 1) * kPrompts + p, s});
      }
      EXPECT_EQ(seen[step], expected) << "step " << step;
    }
  }
  // Rollouts and final weights are byte-identical to the baseline's.
  static void ExpectSameAsBaseline(const fs::path& run) { ExpectSameAs(run, Baseline()); }
  static void ExpectSameAs(const fs::path& run, const fs::path& reference) {
    const std::string rollouts = ReadFile(run / "rollouts.jsonl");
    EXPECT_FALSE(rollouts.empty());
    EXPECT_TRUE(rollouts == ReadFile(reference / "rollouts.jsonl")) << "rollouts.jsonl differs";
    const std::string last = "checkpoints/step_" + std::to_string(kSteps);
    for (const char* file : {"model.safetensors", "optimizer.safetensors"}) {
      const std::string ours = ReadFile(run / last / file);
      EXPECT_FALSE(ours.empty()) << run / last / file;
      EXPECT_TRUE(ours == ReadFile(reference / last / file)) << file << " differs";
    }
  }
};

TEST_F(GrpoJobTest, RunsInSeparateProcessesOnPolicyWithEveryFile) {
  const fs::path& run = Baseline();
  const std::string err = ReadFile(Root() / "baseline.stderr");
  // The driver, the trainer and the rollout engine are three processes.
  const size_t t = err.find("trainer pid "), r = err.find("rollout-0 pid ");
  ASSERT_NE(t, std::string::npos) << err;
  ASSERT_NE(r, std::string::npos) << err;
  EXPECT_NE(std::atoi(err.c_str() + t + 12), std::atoi(err.c_str() + r + 14));
  EXPECT_NE(err.find("grpo step 12/12"), std::string::npos) << err;
  EXPECT_NE(err.find("report.html"), std::string::npos) << err;

  const std::vector<json> metrics = ReadJsonl(run / "metrics.jsonl");
  ASSERT_EQ(metrics.size(), static_cast<size_t>(kSteps));
  for (const json& m : metrics) {
    for (const char* key :
         {"reward/mean", "reward/std", "response_length/mean", "actor/pg_loss", "actor/pg_clipfrac",
          "actor/ppo_kl", "actor/entropy", "actor/grad_norm", "mismatch/bitwise_equal_fraction",
          "mismatch/max_abs_logprob_diff", "mismatch/k3_kl", "timing/rollout_s", "timing/reward_s",
          "timing/train_s", "timing/weight_sync_s", "perf/tokens_per_s"}) {
      EXPECT_TRUE(m.contains(key)) << key;
    }
    // Strictly on-policy: the trainer recomputed every rollout logprob bit for bit.
    EXPECT_GT(m["mismatch/tokens"].get<int64_t>(), 0);
    EXPECT_EQ(m["mismatch/bitwise_equal_fraction"].get<double>(), 1.0);
    EXPECT_EQ(m["mismatch/max_abs_logprob_diff"].get<double>(), 0.0);
    EXPECT_EQ(m["actor/ppo_kl"].get<double>(), 0.0);
    EXPECT_EQ(m["actor/pg_clipfrac"].get<double>(), 0.0);
  }
  ExpectPromptAccounting(run);
  for (const json& s : ReadJsonl(run / "rollouts.jsonl")) {
    EXPECT_EQ(s["weight_version"].get<int64_t>(), s["step"].get<int64_t>() - 1);
    EXPECT_EQ(s["staleness"].get<int64_t>(), 0);
    EXPECT_EQ(s["tokens"].size(), s["logprobs"].size());
  }
  for (const char* f : {"config.toml", "report.html", "summary.json", "checkpoints/step_12/model.safetensors",
                        "logs/trainer.log", "logs/rollout-0.log"}) {
    EXPECT_TRUE(fs::exists(run / f)) << f;
  }
  bool has_events = false;
  for (const auto& entry : fs::directory_iterator(run)) {
    has_events = has_events || entry.path().filename().string().rfind("events.out.tfevents.", 0) == 0;
  }
  EXPECT_TRUE(has_events) << "TensorBoard event file";
  EXPECT_NE(ReadFile(run / "report.html").find("<svg"), std::string::npos);
}

TEST_F(GrpoJobTest, TwoEnginesGiveIdenticalResults) {
  const fs::path run = RunJob("two_engines", {"--set", "rollout.engines=2"});
  ExpectPromptAccounting(run);
  ExpectSameAsBaseline(run);
  EXPECT_TRUE(fs::exists(run / "logs/rollout-1.log"));
}

TEST_F(GrpoJobTest, TcpTransportGivesIdenticalResults) {
  const fs::path run = RunJob("tcp", {"--set", "rollout.transport=tcp"});
  ExpectSameAsBaseline(run);
}

TEST_F(GrpoJobTest, KilledRolloutEngineIsRestartedAndTheJobFinishesUnchanged) {
  Baseline();
  const fs::path run = Root() / "rollout_killed";
  Job job({"grpo", ConfigPath().string(), "--out", run.string()}, Root() / "rollout_killed.stderr");
  ASSERT_TRUE(job.WaitFor("grpo step 2/", std::chrono::seconds(120))) << job.Stderr();
  const pid_t rollout = job.ChildPid("rollout-0");
  ASSERT_GT(rollout, 0);
  ASSERT_EQ(kill(rollout, SIGKILL), 0);
  EXPECT_EQ(job.Wait(), 0) << job.Stderr();
  const std::string err = job.Stderr();
  EXPECT_NE(err.find("rollout-0 (pid " + std::to_string(rollout) + ") killed by signal 9"),
            std::string::npos) << err;
  EXPECT_NE(err.find("restarted rollout-0"), std::string::npos) << err;
  ExpectPromptAccounting(run);
  ExpectSameAsBaseline(run);
}

// Sends `signal` to the driver of `name` (a fresh run with `extra` flags) after
// step 3, checks everything stopped cleanly with a checkpoint, and resumes the
// run to its end.
void InterruptAndResume(const fs::path& root, const std::string& config, const std::string& name,
                        const std::vector<std::string>& extra, int signal) {
  const fs::path run = root / name;
  std::vector<std::string> args = {"grpo", config, "--out", run.string()};
  args.insert(args.end(), extra.begin(), extra.end());
  {
    Job job(args, root / (name + ".stderr"));
    ASSERT_TRUE(job.WaitFor("grpo step 3/", std::chrono::seconds(120))) << job.Stderr();
    ASSERT_EQ(kill(job.pid(), signal), 0);
    EXPECT_EQ(job.Wait(), 130) << job.Stderr();
    EXPECT_NE(job.Stderr().find("--resume"), std::string::npos) << job.Stderr();
  }
  EXPECT_TRUE(NoProcessesMentioning(run.string(), std::chrono::seconds(5)));
  EXPECT_LT(ReadJsonl(run / "metrics.jsonl").size(), static_cast<size_t>(kSteps));
  Job resume({"grpo", "--resume", run.string()}, root / (name + "_resume.stderr"));
  EXPECT_EQ(resume.Wait(), 0) << resume.Stderr();
}

TEST_F(GrpoJobTest, InterruptCheckpointsLeavesNoProcessAndResumesExactly) {
  Baseline();
  InterruptAndResume(Root(), ConfigPath().string(), "interrupted", {}, SIGINT);
  ExpectPromptAccounting(Root() / "interrupted");
  ExpectSameAsBaseline(Root() / "interrupted");
}

TEST_F(GrpoJobTest, KilledTrainerIsReportedAndResumeIsExact) {
  Baseline();
  const fs::path run = Root() / "trainer_killed";
  {
    Job job({"grpo", ConfigPath().string(), "--out", run.string()}, Root() / "trainer_killed.stderr");
    ASSERT_TRUE(job.WaitFor("grpo step 3/", std::chrono::seconds(120))) << job.Stderr();
    const pid_t trainer = job.ChildPid("trainer");
    ASSERT_GT(trainer, 0);
    ASSERT_EQ(kill(trainer, SIGKILL), 0);
    EXPECT_EQ(job.Wait(), 1) << job.Stderr();
    const std::string err = job.Stderr();
    EXPECT_NE(err.find("killed by signal 9"), std::string::npos) << err;
    EXPECT_NE(err.find("lockstep grpo --resume " + run.string()), std::string::npos) << err;
  }
  EXPECT_TRUE(NoProcessesMentioning(run.string(), std::chrono::seconds(5)));
  Job resume({"grpo", "--resume", run.string()}, Root() / "trainer_killed_resume.stderr");
  EXPECT_EQ(resume.Wait(), 0) << resume.Stderr();
  ExpectPromptAccounting(run);
  ExpectSameAsBaseline(run);
}

TEST_F(GrpoJobTest, OneStepOffOverlapsRolloutWithTheUpdateAndResumesExactly) {
  const fs::path reference = RunJob("stale", {"--set", "rollout.max_staleness=1"});
  ExpectPromptAccounting(reference);
  for (const json& s : ReadJsonl(reference / "rollouts.jsonl")) {
    const int64_t step = s["step"].get<int64_t>();
    // Step 1 is generated by the initial weights; step s > 1 by the weights of
    // step s - 2, while step s - 1 was being trained.
    EXPECT_EQ(s["weight_version"].get<int64_t>(), std::max<int64_t>(0, step - 2)) << step;
    EXPECT_EQ(s["staleness"].get<int64_t>(), step == 1 ? 0 : 1) << step;
  }
  const std::vector<json> metrics = ReadJsonl(reference / "metrics.jsonl");
  ASSERT_EQ(metrics.size(), static_cast<size_t>(kSteps));
  EXPECT_EQ(metrics[0]["mismatch/bitwise_equal_fraction"].get<double>(), 1.0);
  EXPECT_GT(metrics[0]["mismatch/tokens"].get<int64_t>(), 0);
  EXPECT_EQ(metrics[5]["rollout/max_staleness"].get<double>(), 1.0);
  EXPECT_EQ(metrics[5]["mismatch/tokens"].get<int64_t>(), 0);  // no on-policy sample to check
  // The checkpoint carries the batch generated ahead, so a resumed run is exact.
  InterruptAndResume(Root(), ConfigPath().string(), "stale_interrupted",
                     {"--set", "rollout.max_staleness=1"}, SIGTERM);
  ExpectPromptAccounting(Root() / "stale_interrupted");
  ExpectSameAs(Root() / "stale_interrupted", reference);
}

// Program rewards judged by the sandbox pool: a killed pool is restarted and
// costs retries, never a reward of 0; the run ends as an unfaulted one.
TEST_F(GrpoJobTest, ProgramRewardsSurviveAKilledSandboxPool) {
  const std::vector<std::string> programs = {
      "--set", "task.kind=python_expression", "--set", "sandbox.timeout_s=5",
      "--set", "train.prompts_per_step=4", "--set", "rollout.n=4"};
  const fs::path reference = RunJob("programs", programs);
  const std::vector<json> samples = ReadJsonl(reference / "rollouts.jsonl");
  ASSERT_EQ(samples.size(), static_cast<size_t>(kSteps * 4 * 4));
  std::set<std::string> statuses;
  for (const json& s : samples) statuses.insert(s["reward_status"].get<std::string>());
  EXPECT_TRUE(statuses.count("ok")) << "some completion should pass";
  EXPECT_FALSE(statuses.count("sandbox_error"));
  EXPECT_TRUE(fs::exists(reference / "logs/sandbox.log"));

  const fs::path run = Root() / "programs_pool_killed";
  std::vector<std::string> args = {"grpo", ConfigPath().string(), "--out", run.string()};
  args.insert(args.end(), programs.begin(), programs.end());
  Job job(args, Root() / "programs_pool_killed.stderr");
  ASSERT_TRUE(job.WaitFor("grpo step 2/", std::chrono::seconds(120))) << job.Stderr();
  const pid_t pool = job.ChildPid("sandbox");
  ASSERT_GT(pool, 0);
  ASSERT_EQ(kill(pool, SIGKILL), 0);
  EXPECT_EQ(job.Wait(), 0) << job.Stderr();
  EXPECT_NE(job.Stderr().find("restarted sandbox"), std::string::npos) << job.Stderr();
  ExpectSameAs(run, reference);
}

TEST_F(GrpoJobTest, KilledDriverLeavesNoChildRunningAndResumeIsExact) {
  Baseline();
  const fs::path run = Root() / "driver_killed";
  Job job({"grpo", ConfigPath().string(), "--out", run.string()}, Root() / "driver_killed.stderr");
  ASSERT_TRUE(job.WaitFor("grpo step 3/", std::chrono::seconds(120))) << job.Stderr();
  ASSERT_FALSE(ProcessesMentioning(run.string()).empty());
  ASSERT_EQ(kill(job.pid(), SIGKILL), 0);
  job.Wait();
  EXPECT_TRUE(NoProcessesMentioning(run.string(), std::chrono::seconds(5)))
      << ProcessesMentioning(run.string()).size() << " process(es) left";
  Job resume({"grpo", "--resume", run.string()}, Root() / "driver_killed_resume.stderr");
  EXPECT_EQ(resume.Wait(), 0) << resume.Stderr();
  ExpectPromptAccounting(run);
  ExpectSameAsBaseline(run);
}

TEST_F(GrpoJobTest, RunStoppedBeforeItsFirstCheckpointResumesFromTheStart) {
  Baseline();
  const fs::path run = Root() / "no_checkpoint";
  {
    Job job({"grpo", ConfigPath().string(), "--out", run.string(), "--set",
             "train.checkpoint_every=100"},
            Root() / "no_checkpoint.stderr");
    ASSERT_TRUE(job.WaitFor("grpo step 2/", std::chrono::seconds(120))) << job.Stderr();
    ASSERT_EQ(kill(job.ChildPid("trainer"), SIGKILL), 0);
    EXPECT_EQ(job.Wait(), 1) << job.Stderr();
  }
  EXPECT_FALSE(fs::exists(run / "checkpoints/step_2"));
  Job resume({"grpo", "--resume", run.string(), "--set", "train.checkpoint_every=2"},
             Root() / "no_checkpoint_resume.stderr");
  EXPECT_EQ(resume.Wait(), 0) << resume.Stderr();
  EXPECT_NE(resume.Stderr().find("no checkpoint yet"), std::string::npos) << resume.Stderr();
  ExpectPromptAccounting(run);
  ExpectSameAsBaseline(run);
}

TEST_F(GrpoJobTest, BadInputIsRefusedBeforeAnyProcessStarts) {
  struct Case {
    std::vector<std::string> set;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"--set", "rollout.temprature=0.5"}, "rollout.temperature"},  // suggestion
      {{"--set", "model.init_from=/nonexistent/model"}, "/nonexistent/model"},
      {{"--set", "rollout.n=0"}, "rollout.n"},
      {{"--set", "task.kind=chess"}, "task.kind"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const fs::path run = Root() / ("bad_" + std::to_string(i));
    std::vector<std::string> args = {"grpo", ConfigPath().string(), "--out", run.string()};
    args.insert(args.end(), cases[i].set.begin(), cases[i].set.end());
    Job job(args, Root() / ("bad_" + std::to_string(i) + ".stderr"));
    EXPECT_EQ(job.Wait(std::chrono::seconds(60)), 2) << job.Stderr();
    EXPECT_NE(job.Stderr().find(cases[i].message), std::string::npos) << job.Stderr();
    EXPECT_FALSE(fs::exists(run)) << "a refused job must not leave a run directory";
  }
}

TEST_F(GrpoJobTest, TcpPortInUseIsRefused) {
  const fs::path run = Root() / "port_in_use";
  // Hold a port, then ask the job to use it.
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  listen(fd, 1);
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const int port = ntohs(addr.sin_port);
  Job job({"grpo", ConfigPath().string(), "--out", run.string(), "--set", "rollout.transport=tcp",
           "--set", "rollout.base_port=" + std::to_string(port)},
          Root() / "port_in_use.stderr");
  EXPECT_NE(job.Wait(std::chrono::seconds(60)), 0);
  EXPECT_NE(job.Stderr().find(std::to_string(port)), std::string::npos) << job.Stderr();
  EXPECT_NE(job.Stderr().find("in use"), std::string::npos) << job.Stderr();
  close(fd);
}

TEST_F(GrpoJobTest, DryRunPrintsTheResolvedConfigAndStartsNothing) {
  const fs::path run = Root() / "dry";
  Job job({"grpo", ConfigPath().string(), "--out", run.string(), "--set", "rollout.n=3",
           "--dry-run"},
          Root() / "dry.stderr");
  EXPECT_EQ(job.Wait(std::chrono::seconds(60)), 0) << job.Stderr();
  EXPECT_NE(job.Stderr().find("n = 3"), std::string::npos) << job.Stderr();
  EXPECT_FALSE(fs::exists(run));
}

}  // namespace
}  // namespace lockstep
