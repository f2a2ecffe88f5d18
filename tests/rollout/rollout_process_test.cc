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

}  // namespace
}  // namespace lockstep::rollout
