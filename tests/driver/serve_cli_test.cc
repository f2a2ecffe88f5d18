// `lockstep serve` as a user runs it: the built binary on a free port (the
// port read from its startup line), a model list over HTTP, `lockstep eval
// passk` with samples = "endpoint" scoring the served model end to end through
// the chat API, then SIGTERM: exit code 0, "stopped", the port released.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/serve/serve_test_support.h"

namespace lockstep::driver {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

const std::string kLockstep = std::string(LOCKSTEP_BINARY_DIR) + "/bin/lockstep";

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Starts `lockstep serve ARGS...` with stderr into `log`; returns its pid.
pid_t StartServe(const std::vector<std::string>& args, const fs::path& log) {
  const pid_t pid = fork();
  if (pid == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 2);
    dup2(fd, 1);
    std::vector<char*> argv{const_cast<char*>(kLockstep.c_str()), const_cast<char*>("serve")};
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(kLockstep.c_str(), argv.data());
    _exit(127);
  }
  return pid;
}

// The port of the startup line "... listening on http://127.0.0.1:PORT ...", or 0.
int WaitForPort(const fs::path& log, pid_t pid) {
  const std::regex listening(R"(listening on http://127\.0\.0\.1:(\d+))");
  for (int i = 0; i < 600; ++i) {
    std::smatch m;
    const std::string text = ReadAll(log);
    if (std::regex_search(text, m, listening)) return std::stoi(m[1]);
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) return 0;  // it exited
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return 0;
}

TEST(ServeCliTest, EvalPassKScoresAServedModelAndSigtermStopsIt) {
  const fs::path dir = serve::testing::TestDir("cli");
  serve::testing::WriteTinyModelDir(dir / "tiny", 512);
  const fs::path log = dir / "serve.log";
  const pid_t pid = StartServe({(dir / "tiny").string(), "--bind", "127.0.0.1:0", "--served-model-name",
                                "tiny-chat", "--max-n", "4"},
                               log);
  ASSERT_GT(pid, 0);
  const int port = WaitForPort(log, pid);
  ASSERT_GT(port, 0) << ReadAll(log);
  EXPECT_THAT(ReadAll(log), HasSubstr("qwen2, 2 layers, bf16, 512 positions, tokenizer.json, chat template"));

  httplib::Client client("127.0.0.1", port);
  auto models = client.Get("/v1/models");
  ASSERT_TRUE(models);
  EXPECT_EQ(nlohmann::json::parse(models->body)["data"][0]["id"], "tiny-chat");

  // pass@k over one puzzle, four samples in two requests of n = 2, via the chat API.
  const fs::path config = dir / "eval.toml";
  std::ofstream(config) << "[eval]\nproblems = \"" LOCKSTEP_SOURCE_DIR "/data/puzzles\"\n"
                        << "samples = \"endpoint\"\nlanguages = [\"python\"]\n"
                        << "only_problems = [\"01-sum-of-multiples\"]\nk = [1, 4]\n"
                        << "[prompt]\ntemplate = \"{problem} in {language}:\"\n"
                        << "[endpoint]\nurl = \"http://127.0.0.1:" << port << "/v1/chat/completions\"\n"
                        << "api = \"chat\"\nmodel = \"tiny-chat\"\nn = 4\nsamples_per_request = 2\n"
                        << "max_tokens = 24\ntemperature = 1.0\nretries = 0\n";
  const fs::path run = dir / "run";
  const std::string eval = kLockstep + " eval passk " + config.string() + " --out " + run.string() +
                           " > " + (dir / "eval.log").string() + " 2>&1";
  const int eval_status = std::system(eval.c_str());
  ASSERT_TRUE(WIFEXITED(eval_status)) << ReadAll(dir / "eval.log");
  EXPECT_EQ(WEXITSTATUS(eval_status), 0) << ReadAll(dir / "eval.log");
  // Four samples of random text, each judged (a wrong program, not an infra failure).
  std::ifstream samples(run / "samples.jsonl");
  int lines = 0;
  for (std::string line; std::getline(samples, line);) {
    const nlohmann::json sample = nlohmann::json::parse(line);
    EXPECT_EQ(sample["model"], "tiny-chat");
    ++lines;
  }
  EXPECT_EQ(lines, 4) << ReadAll(dir / "eval.log");
  EXPECT_THAT(ReadAll(log), HasSubstr("POST /v1/chat/completions 200"));

  ASSERT_EQ(kill(pid, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_THAT(ReadAll(log), HasSubstr("SIGTERM, shutting down"));
  EXPECT_THAT(ReadAll(log), HasSubstr("lockstep serve: stopped"));
  EXPECT_FALSE(client.Get("/v1/models"));  // nobody listens any more
  fs::remove_all(dir);
}

TEST(ServeCliTest, UnloadableModelAndBadBindExitTwo) {
  const fs::path dir = serve::testing::TestDir("cli_errors");
  const std::string missing = kLockstep + " serve " + (dir / "absent").string() + " > " +
                              (dir / "out.txt").string() + " 2>&1";
  int status = std::system(missing.c_str());
  EXPECT_EQ(WEXITSTATUS(status), 2);
  EXPECT_THAT(ReadAll(dir / "out.txt"), HasSubstr("absent"));
  serve::testing::WriteTinyModelDir(dir / "tiny");
  const std::string bad_bind = kLockstep + " serve " + (dir / "tiny").string() +
                               " --bind nowhere > " + (dir / "out.txt").string() + " 2>&1";
  status = std::system(bad_bind.c_str());
  EXPECT_EQ(WEXITSTATUS(status), 2);
  EXPECT_THAT(ReadAll(dir / "out.txt"), HasSubstr("--bind"));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace lockstep::driver
