// The lockstep-rollout binary: its command line, clean shutdown, and the
// client surviving a SIGKILL of the process mid-generate (restarted at the
// same endpoint: weights re-sent, lost requests re-issued, each answered once).
#include <set>

#include "gtest/gtest.h"
#include "tests/rollout/rollout_test_support.h"
#include "wire/rollout_messages.h"

namespace lockstep::rollout {
namespace {

using namespace lockstep::rollout::testing;  // NOLINT: test helpers

TEST(RolloutProcess, CommandLine) {
  EXPECT_EQ(WaitExit(StartRolloutProcess({"--help"})), 0);
  EXPECT_EQ(WaitExit(StartRolloutProcess({})), 2);  // --bind is required
  EXPECT_EQ(WaitExit(StartRolloutProcess({"--bind", UniqueEndpoint(), "--max-batch", "0"})), 2);
  EXPECT_EQ(WaitExit(StartRolloutProcess({"--bind", UniqueEndpoint(), "--no-such-flag"})), 2);
  EXPECT_EQ(WaitExit(StartRolloutProcess({"--bind", "ipc://"})), 1);  // no path: cannot serve
}

// Status from a raw peer until `ready` holds (20 s at most).
template <typename Predicate>
wire::StatusReply PollStatus(RawPeer& peer, Predicate ready) {
  wire::StatusReply last;
  for (int i = 0; i < 2000; ++i) {
    peer.Send(wire::Encode(wire::StatusRequest{.ping_id = static_cast<uint64_t>(i)}));
    auto reply = wire::DecodeStatusReply(peer.Receive(wire::kRolloutStatusType));
    if (reply.ok()) {
      last = *reply;
      if (ready(last)) return last;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ADD_FAILURE() << "status never became ready";
  return last;
}

TEST(RolloutProcess, SigtermExitsCleanlyAndAnEndpointInUseIsRefused) {
  const std::string endpoint = UniqueEndpoint();
  const pid_t pid = StartRolloutProcess({"--bind", endpoint});
  RawPeer peer(endpoint);
  const wire::StatusReply status = PollStatus(peer, [](const wire::StatusReply&) { return true; });
  EXPECT_EQ(status.pid, pid);
  EXPECT_EQ(WaitExit(StartRolloutProcess({"--bind", endpoint})), 1);
  kill(pid, SIGTERM);
  EXPECT_EQ(WaitExit(pid), 0);
}

TEST(RolloutProcess, KilledEngineIsRestartedResyncedAndItsRequestsReissued) {
  const std::string endpoint = UniqueEndpoint();
  const std::vector<std::string> args = {"--bind", endpoint, "--max-batch", "1"};
  pid_t pid = StartRolloutProcess(args);
  const ModelWeights weights = TinyWeights(21);
  ClientOptions options;
  options.ping_interval = std::chrono::milliseconds(20);
  options.engine_timeout = std::chrono::milliseconds(10000);
  options.total_timeout = std::chrono::milliseconds(120000);
  auto client = RolloutClient::Connect({endpoint}, options).value();
  ASSERT_TRUE(client->PublishWeights(1, weights).ok());
  const auto requests = MakeRequests(16, 300, /*stop_tokens=*/false);
  const uint64_t ticket = client->Submit(requests, 1).value();

  RawPeer peer(endpoint);
  PollStatus(peer, [](const wire::StatusReply& s) { return s.running > 0 && s.steps > 5; });
  kill(pid, SIGKILL);
  EXPECT_EQ(WaitExit(pid), -1);
  pid = StartRolloutProcess(args);

  auto results = client->Wait(ticket);
  ASSERT_TRUE(results.ok()) << results.status();
  std::set<std::pair<uint32_t, uint32_t>> answered;
  for (const RolloutResult& r : *results) answered.insert({r.request_id, r.sample_index});
  EXPECT_EQ(answered.size(), requests.size());  // every request exactly once
  ExpectSameAsReference(*results, Reference(weights, requests), 1);
  const ClientStats stats = client->stats();
  EXPECT_EQ(stats.restarts_seen, 1);
  EXPECT_GE(stats.requests_reissued, 1);
  kill(pid, SIGTERM);
  EXPECT_EQ(WaitExit(pid), 0);
}

// An engine that dies for good: after engine_timeout its requests go to the
// engine that is still up, and each is answered once.
TEST(RolloutProcess, RequestsOfADeadEngineMoveToALiveOne) {
  const std::string a = UniqueEndpoint(), b = UniqueEndpoint();
  const pid_t pid_a = StartRolloutProcess({"--bind", a, "--max-batch", "1"});
  const pid_t pid_b = StartRolloutProcess({"--bind", b, "--max-batch", "1"});
  const ModelWeights weights = TinyWeights(22);
  ClientOptions options;
  options.ping_interval = std::chrono::milliseconds(20);
  options.engine_timeout = std::chrono::milliseconds(1000);
  options.total_timeout = std::chrono::milliseconds(120000);
  auto client = RolloutClient::Connect({a, b}, options).value();
  ASSERT_TRUE(client->PublishWeights(1, weights).ok());
  const auto requests = MakeRequests(12, 200, /*stop_tokens=*/false);
  const uint64_t ticket = client->Submit(requests, 1).value();
  RawPeer peer(b);
  PollStatus(peer, [](const wire::StatusReply& s) { return s.running > 0 && s.steps > 5; });
  kill(pid_b, SIGKILL);
  EXPECT_EQ(WaitExit(pid_b), -1);

  auto results = client->Wait(ticket);
  ASSERT_TRUE(results.ok()) << results.status();
  ExpectSameAsReference(*results, Reference(weights, requests), 1);
  std::set<int> engines;
  for (const RolloutResult& r : *results) engines.insert(r.engine_index);
  EXPECT_TRUE(engines.count(0));
  const ClientStats stats = client->stats();
  EXPECT_GE(stats.engines_reset, 1);
  EXPECT_GE(stats.requests_reissued, 1);
  kill(pid_a, SIGTERM);
  EXPECT_EQ(WaitExit(pid_a), 0);
}

// An engine that is only slow (here: stopped for longer than engine_timeout,
// as on an overloaded machine) is reset once, answers again when it resumes,
// gets the weights and the requests again, and the batch completes exactly.
TEST(RolloutProcess, AnEngineSilentPastTheTimeoutIsResetOnceAndRecovers) {
  const std::string endpoint = UniqueEndpoint();
  const pid_t pid = StartRolloutProcess({"--bind", endpoint, "--max-batch", "1"});
  const ModelWeights weights = TinyWeights(23);
  ClientOptions options;
  options.ping_interval = std::chrono::milliseconds(20);
  options.engine_timeout = std::chrono::milliseconds(500);
  options.total_timeout = std::chrono::milliseconds(60000);
  auto client = RolloutClient::Connect({endpoint}, options).value();
  ASSERT_TRUE(client->PublishWeights(1, weights).ok());
  const auto requests = MakeRequests(8, 100, /*stop_tokens=*/false);
  const uint64_t ticket = client->Submit(requests, 1).value();
  RawPeer peer(endpoint);
  PollStatus(peer, [](const wire::StatusReply& s) { return s.running > 0 && s.steps > 2; });
  kill(pid, SIGSTOP);
  // Resume the engine after 3 timeouts' worth of silence, while the client waits.
  std::thread resume([pid] {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    kill(pid, SIGCONT);
  });
  auto results = client->Wait(ticket);
  resume.join();
  ASSERT_TRUE(results.ok()) << results.status();
  ExpectSameAsReference(*results, Reference(weights, requests), 1);
  const ClientStats stats = client->stats();
  EXPECT_GE(stats.engines_reset, 1);
  EXPECT_LE(stats.engines_reset, 3) << "reset again and again instead of waiting for an answer";
  kill(pid, SIGTERM);
  EXPECT_EQ(WaitExit(pid), 0);
}

TEST(RolloutProcess, NoEngineAtAllFailsNamingTheEndpointAfterTheTotalTimeout) {
  const std::string endpoint = UniqueEndpoint();  // nothing serves here
  ClientOptions options;
  options.ping_interval = std::chrono::milliseconds(20);
  options.engine_timeout = std::chrono::milliseconds(200);
  options.total_timeout = std::chrono::milliseconds(600);
  auto client = RolloutClient::Connect({endpoint}, options).value();
  const absl::Status published = client->PublishWeights(1, TinyWeights(1));
  ASSERT_TRUE(absl::IsDeadlineExceeded(published)) << published;
  EXPECT_NE(published.message().find(endpoint), std::string::npos) << published;
}

}  // namespace
}  // namespace lockstep::rollout
