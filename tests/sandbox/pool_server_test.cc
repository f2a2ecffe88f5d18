// The pool server over a real ipc:// endpoint: every request answered (1,000
// at once through a small queue), failures of the job logic contained, stats.
#include <unistd.h>
#include <zmq.h>

#include <atomic>
#include <filesystem>

#include "gtest/gtest.h"
#include "sandbox/client.h"
#include "sandbox/pool_server.h"
#include "wire/message.h"
#include "wire/sandbox_messages.h"
#include "tests/sandbox/sandbox_test_support.h"

namespace lockstep::sandbox {
namespace {

using namespace std::chrono_literals;

std::string TempEndpoint(const std::string& name) {
  char dir[] = "/tmp/lockstep-pool-test.XXXXXX";
  EXPECT_NE(mkdtemp(dir), nullptr);
  return std::string("ipc://") + dir + "/" + name;
}

RunRequest Python(const std::string& source, const std::string& stdin_data = "") {
  RunRequest request = testing::Request("python", source);
  request.stdin_data = stdin_data;
  return request;
}

TEST(PoolServerTest, ThousandRequestsAtOnceAllAnswered) {
  const std::string marker = testing::UniqueMarker("pool");
  PoolServerOptions options;
  options.bind = TempEndpoint("pool");
  options.workers = 2;
  options.queue_capacity = 8;  // far smaller than the batch: back-pressure, not drops
  options.stats_log_interval_s = 0;
  options.runner.languages = testing::TestLanguages(marker);
  // The result cache is on: the batch repeats 10 distinct programs, as GRPO
  // groups repeat prompts. Every request still gets its own reply.
  auto server = PoolServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();

  std::vector<RunRequest> requests;
  for (int i = 0; i < 1000; ++i) {
    requests.push_back(Python("import sys\nprint(int(sys.stdin.read()) * 2)\n", std::to_string(i % 10)));
  }
  auto client = SandboxClient::Connect(options.bind);
  ASSERT_TRUE(client.ok()) << client.status();
  auto results = (*client)->RunBatch(requests, 120s);
  ASSERT_TRUE(results.ok()) << results.status();
  ASSERT_EQ(results->size(), 1000u);
  for (int i = 0; i < 1000; ++i) {
    EXPECT_EQ((*results)[i].status, RunStatus::kOk) << i << " " << (*results)[i].message;
    EXPECT_EQ((*results)[i].run.stdout_data, std::to_string(2 * (i % 10)) + "\n") << i;
  }
  auto stats = (*client)->Stats(5s);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ((*stats)["completed"], 1000);
  EXPECT_EQ((*stats)["received"], 1000);
  EXPECT_EQ((*stats)["queue_depth"], 0);
  EXPECT_EQ((*stats)["queue_capacity"], 8);
  EXPECT_GT((*stats)["runs_per_s"].get<double>(), 0);
  (*server)->Stop();
}

TEST(PoolServerTest, UncachedRunsFromTwoClientsAtOnce) {
  const std::string marker = testing::UniqueMarker("pool2");
  PoolServerOptions options;
  options.bind = TempEndpoint("pool2");
  options.workers = 2;
  options.stats_log_interval_s = 0;
  options.runner.languages = testing::TestLanguages(marker);
  options.runner.cache_results = false;
  auto server = PoolServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  std::vector<absl::StatusOr<std::vector<RunResult>>> results(2);
  std::vector<std::thread> threads;
  for (int c = 0; c < 2; ++c) {
    threads.emplace_back([&, c] {
      auto client = SandboxClient::Connect(options.bind);
      std::vector<RunRequest> requests;
      for (int i = 0; i < 20; ++i) requests.push_back(Python("import sys\nprint(sys.stdin.read())\n", std::to_string(c * 100 + i)));
      results[c] = (*client)->RunBatch(requests, 60s);
    });
  }
  for (auto& thread : threads) thread.join();
  for (int c = 0; c < 2; ++c) {
    ASSERT_TRUE(results[c].ok()) << results[c].status();
    for (int i = 0; i < 20; ++i) {
      EXPECT_EQ((*results[c])[i].run.stdout_data, std::to_string(c * 100 + i) + "\n");
      EXPECT_FALSE((*results[c])[i].cached);
    }
  }
  EXPECT_TRUE(testing::ProcessesWithMarker(marker).empty());
}

TEST(PoolServerTest, FailingWorkerLogicIsReportedAndTheServerGoesOn) {
  PoolServerOptions options;
  options.bind = TempEndpoint("crash");
  options.workers = 2;
  options.stats_log_interval_s = 0;
  std::atomic<int> calls{0};
  options.job = [&](const RunRequest& request) -> RunResult {
    ++calls;
    if (request.source == "crash") throw std::runtime_error("injected worker failure");
    RunResult result;
    result.status = RunStatus::kOk;
    result.run.stdout_data = request.source;
    return result;
  };
  auto server = PoolServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  auto client = SandboxClient::Connect(options.bind);
  std::vector<RunRequest> requests;
  for (int i = 0; i < 50; ++i) requests.push_back(Python(i % 5 == 0 ? "crash" : std::to_string(i)));
  auto results = (*client)->RunBatch(requests, 30s);
  ASSERT_TRUE(results.ok()) << results.status();
  for (int i = 0; i < 50; ++i) {
    if (i % 5 == 0) {
      EXPECT_EQ((*results)[i].status, RunStatus::kSandboxError);
      EXPECT_NE((*results)[i].message.find("injected worker failure"), std::string::npos);
    } else {
      EXPECT_EQ((*results)[i].status, RunStatus::kOk);
      EXPECT_EQ((*results)[i].run.stdout_data, std::to_string(i));
    }
  }
  EXPECT_EQ(calls.load(), 50);
  auto stats = (*client)->Stats(5s);
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ((*stats)["worker_failures"], 10);
}

TEST(PoolServerTest, MalformedRequestGetsSandboxError) {
  PoolServerOptions options;
  options.bind = TempEndpoint("bad");
  options.workers = 1;
  options.stats_log_interval_s = 0;
  options.job = [](const RunRequest&) { return RunResult{}; };
  auto server = PoolServer::Start(options);
  ASSERT_TRUE(server.ok());
  // A hand-made request whose limit is a string: rejected per request, with a reason.
  void* context = zmq_ctx_new();
  void* socket = zmq_socket(context, ZMQ_DEALER);
  ASSERT_EQ(zmq_connect(socket, options.bind.c_str()), 0);
  wire::Message bad;
  bad.header = {{"type", wire::kSandboxRunType}, {"id", 5}, {"language", "python"},
                {"limits", {{"memory_mb", "lots"}}}};
  bad.frames = {"print(1)", ""};
  ASSERT_TRUE(wire::SendFrames(socket, wire::EncodeMessage(bad), false).ok());
  auto frames = wire::ReceiveFrames(socket, false);
  ASSERT_TRUE(frames.ok());
  auto reply = wire::DecodeSandboxResult(*wire::DecodeMessage(std::move(*frames)));
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->id, 5u);
  EXPECT_EQ(reply->result["status"], "sandbox_error");
  EXPECT_NE(reply->result["message"].get<std::string>().find("memory_mb"), std::string::npos);
  zmq_close(socket);
  zmq_ctx_term(context);
}

TEST(PoolServerTest, UnreachableServerTimesOutWithTheEndpointNamed) {
  const std::string endpoint = TempEndpoint("nobody");
  auto client = SandboxClient::Connect(endpoint);
  ASSERT_TRUE(client.ok());
  std::vector<RunRequest> requests = {Python("print(1)\n")};
  auto results = (*client)->RunBatch(requests, 200ms);
  ASSERT_FALSE(results.ok());
  EXPECT_TRUE(absl::IsDeadlineExceeded(results.status()));
  EXPECT_NE(results.status().message().find(endpoint), std::string::npos);
}

TEST(PoolServerTest, ParseArgs) {
  auto options = ParsePoolServerArgs({"--bind", "ipc:///tmp/x", "--workers", "3"});
  ASSERT_TRUE(options.ok());
  EXPECT_EQ(options->bind, "ipc:///tmp/x");
  EXPECT_EQ(options->workers, 3);
  EXPECT_FALSE(ParsePoolServerArgs({"--workers", "3"}).ok());
  EXPECT_FALSE(ParsePoolServerArgs({"--bind", "x", "--workers", "zero"}).ok());
  EXPECT_FALSE(ParsePoolServerArgs({"--bind"}).ok());
}

TEST(PoolServerTest, BindFailureIsAnError) {
  PoolServerOptions options;
  options.bind = "tcp://not-an-address:-1";
  options.job = [](const RunRequest&) { return RunResult{}; };
  EXPECT_FALSE(PoolServer::Start(options).ok());
}

}  // namespace
}  // namespace lockstep::sandbox
