// RolloutServer + RolloutClient in one process over ipc://: results equal the
// in-process engine bit for bit, engines are interchangeable, corrupted or
// truncated buckets are caught, and weights never change under a sequence.
#include <set>

#include "gtest/gtest.h"
#include "numerics/dtype.h"
#include "rollout/weight_snapshot.h"
#include "tests/rollout/rollout_test_support.h"
#include "wire/rollout_messages.h"

namespace lockstep::rollout {
namespace {

using namespace lockstep::rollout::testing;  // NOLINT: test helpers

ClientOptions FastOptions() {
  ClientOptions options;
  options.ping_interval = std::chrono::milliseconds(20);
  options.engine_timeout = std::chrono::milliseconds(10000);
  options.total_timeout = std::chrono::milliseconds(120000);
  return options;
}

TEST(RolloutServerClient, ResultsEqualTheInProcessEngine) {
  ServerThread server(UniqueEndpoint());
  const ModelWeights weights = TinyWeights(1);
  auto client = RolloutClient::Connect({server.endpoint()}, FastOptions()).value();
  ASSERT_TRUE(client->PublishWeights(7, weights).ok());
  const auto requests = MakeRequests(14, 24);
  auto results = client->Generate(requests, 7);
  ASSERT_TRUE(results.ok()) << results.status();
  ExpectSameAsReference(*results, Reference(weights, requests), 7);
  EXPECT_EQ(client->stats().buckets_resent, 0);
  EXPECT_GT(client->stats().bytes_sent, 0);
}

TEST(RolloutServerClient, TwoEnginesGiveTheSameResultsAsOne) {
  ServerThread a(UniqueEndpoint()), b(UniqueEndpoint(), /*max_batch=*/3);
  const ModelWeights weights = TinyWeights(2);
  const auto requests = MakeRequests(17, 20);
  auto one = RolloutClient::Connect({a.endpoint()}, FastOptions()).value();
  ASSERT_TRUE(one->PublishWeights(1, weights).ok());
  auto single = one->Generate(requests, 1).value();
  auto two = RolloutClient::Connect({a.endpoint(), b.endpoint()}, FastOptions()).value();
  ASSERT_TRUE(two->PublishWeights(1, weights).ok());
  auto spread = two->Generate(requests, 1).value();
  std::set<int> engines_used;
  for (const RolloutResult& r : spread) engines_used.insert(r.engine_index);
  EXPECT_EQ(engines_used, (std::set<int>{0, 1}));
  ExpectSameAsReference(single, Reference(weights, requests), 1);
  ExpectSameAsReference(spread, Reference(weights, requests), 1);
}

TEST(RolloutServerClient, CorruptedBucketIsDetectedAndResent) {
  ServerThread server(UniqueEndpoint());
  const ModelWeights weights = TinyWeights(3);
  ClientOptions options = FastOptions();
  options.bucket_bytes = 8 << 10;  // many buckets
  options.corrupt_bucket_on_first_send = 2;
  auto client = RolloutClient::Connect({server.endpoint()}, options).value();
  // PublishWeights checks the engine's set hash against ours before it returns OK.
  const absl::Status published = client->PublishWeights(1, weights);
  ASSERT_TRUE(published.ok()) << published;
  EXPECT_EQ(client->stats().buckets_resent, 1);
  const auto requests = MakeRequests(6, 16);
  ExpectSameAsReference(client->Generate(requests, 1).value(), Reference(weights, requests), 1);
}

TEST(RolloutServerClient, CorruptedBucketWithoutResendsFailsNamingTheTensor) {
  ServerThread server(UniqueEndpoint());
  ClientOptions options = FastOptions();
  options.bucket_bytes = 8 << 10;
  options.corrupt_bucket_on_first_send = 0;
  options.max_bucket_resends = 0;
  auto client = RolloutClient::Connect({server.endpoint()}, options).value();
  const absl::Status published = client->PublishWeights(1, TinyWeights(3));
  ASSERT_FALSE(published.ok());
  EXPECT_NE(published.message().find("rejected bucket 0"), std::string::npos) << published;
  EXPECT_NE(published.message().find("tensor 'model.embed_tokens.weight'"), std::string::npos)
      << published;
  EXPECT_NE(published.message().find(server.endpoint()), std::string::npos) << published;
}

TEST(RolloutServerClient, TruncatedBucketIsRejectedAndNothingIsLoaded) {
  ServerThread server(UniqueEndpoint());
  const auto snapshot = WeightSnapshot::Take(4, TinyWeights(4), size_t{1} << 30);
  ASSERT_EQ(snapshot->buckets.size(), 1u);
  const WeightBucket& bucket = snapshot->buckets[0];
  std::vector<std::string_view> frames;
  for (const auto& f : bucket.frames) frames.emplace_back(static_cast<const char*>(f.data), f.size);
  RawPeer peer(server.endpoint());

  wire::Message truncated = wire::Encode(bucket.header, frames);
  truncated.frames.pop_back();
  peer.Send(truncated);
  auto ack = wire::DecodeWeightsBucketAck(peer.Receive(wire::kRolloutWeightsBucketAckType));
  ASSERT_TRUE(ack.ok()) << ack.status();
  EXPECT_FALSE(ack->ok);
  EXPECT_NE(ack->error.find("payload frames"), std::string::npos) << ack->error;

  wire::Message short_frame = wire::Encode(bucket.header, frames);
  short_frame.frames[2].pop_back();
  peer.Send(short_frame);
  ack = wire::DecodeWeightsBucketAck(peer.Receive(wire::kRolloutWeightsBucketAckType));
  ASSERT_TRUE(ack.ok()) << ack.status();
  EXPECT_FALSE(ack->ok);
  EXPECT_EQ(ack->tensor, bucket.header.tensors[2].name);
  EXPECT_NE(ack->error.find("bytes"), std::string::npos) << ack->error;

  wire::Message flipped = wire::Encode(bucket.header, frames);
  flipped.frames[3][5] ^= 0x40;
  peer.Send(flipped);
  ack = wire::DecodeWeightsBucketAck(peer.Receive(wire::kRolloutWeightsBucketAckType));
  ASSERT_TRUE(ack.ok()) << ack.status();
  EXPECT_FALSE(ack->ok);
  EXPECT_EQ(ack->tensor, bucket.header.tensors[3].name);
  EXPECT_NE(ack->error.find("xxh64"), std::string::npos) << ack->error;

  // The commit finds a rejected bucket: refused, and the engine still has no weights.
  peer.Send(wire::Encode(wire::WeightsCommit{.weight_version = 4, .set_hash = snapshot->set_hash}));
  auto commit = wire::DecodeWeightsAck(peer.Receive(wire::kRolloutWeightsAckType));
  ASSERT_TRUE(commit.ok()) << commit.status();
  ASSERT_TRUE(commit->error.has_value());
  EXPECT_NE(commit->error->message.find("bucket 0"), std::string::npos) << commit->error->message;
  peer.Send(wire::Encode(wire::StatusRequest{.ping_id = 1}));
  auto status = wire::DecodeStatusReply(peer.Receive(wire::kRolloutStatusType));
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(status->weight_version, -1);

  // The intact bucket then commits, with the sender's set hash.
  peer.Send(wire::Encode(bucket.header, frames));
  ack = wire::DecodeWeightsBucketAck(peer.Receive(wire::kRolloutWeightsBucketAckType));
  ASSERT_TRUE(ack.ok() && ack->ok) << ack->error;
  peer.Send(wire::Encode(wire::WeightsCommit{.weight_version = 4, .set_hash = snapshot->set_hash}));
  commit = wire::DecodeWeightsAck(peer.Receive(wire::kRolloutWeightsAckType));
  ASSERT_TRUE(commit.ok()) << commit.status();
  EXPECT_FALSE(commit->error.has_value());
  EXPECT_EQ(commit->set_hash, snapshot->set_hash);
}

wire::GenerateMessage OneRequest(int64_t version) {
  wire::GenerateMessage generate;
  generate.batch_id = 5;
  generate.weight_version = version;
  generate.requests.resize(1);
  generate.requests[0].prompt = {3, 4};
  generate.requests[0].max_new_tokens = 4;
  return generate;
}

TEST(RolloutServerClient, GenerateBeforeWeightsIsAClearError) {
  ServerThread server(UniqueEndpoint());
  RawPeer peer(server.endpoint());
  peer.Send(wire::Encode(wire::StatusRequest{.ping_id = 9}));
  auto status = wire::DecodeStatusReply(peer.Receive(wire::kRolloutStatusType));
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(status->ping_id, 9u);
  EXPECT_EQ(status->weight_version, -1);
  EXPECT_EQ(status->pid, getpid());
  EXPECT_EQ(status->instance_id.size(), 16u);
  peer.Send(wire::Encode(OneRequest(0)));
  auto result = wire::DecodeResult(peer.Receive(wire::kRolloutResultType));
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_TRUE(result->error.has_value());
  EXPECT_EQ(result->error->code, wire::kNoWeightsError);
  EXPECT_NE(result->error->message.find("no weights loaded"), std::string::npos)
      << result->error->message;

  auto client = RolloutClient::Connect({server.endpoint()}, FastOptions()).value();
  auto early = client->Submit(MakeRequests(2, 4), 0);
  ASSERT_FALSE(early.ok());
  EXPECT_NE(early.status().message().find("PublishWeights"), std::string::npos) << early.status();
}

TEST(RolloutServerClient, WrongVersionAndBadRequestsAreRejected) {
  ServerThread server(UniqueEndpoint());
  auto client = RolloutClient::Connect({server.endpoint()}, FastOptions()).value();
  ASSERT_TRUE(client->PublishWeights(3, TinyWeights(5)).ok());
  RawPeer peer(server.endpoint());
  peer.Send(wire::Encode(OneRequest(2)));
  auto stale = wire::DecodeResult(peer.Receive(wire::kRolloutResultType));
  ASSERT_TRUE(stale.ok() && stale->error.has_value());
  EXPECT_EQ(stale->error->code, wire::kStaleWeightsError);
  EXPECT_EQ(stale->error->weight_version, 3);

  auto bad = MakeRequests(3, 4);
  bad[1].prompt.push_back(999);  // outside the vocabulary
  auto rejected = client->Generate(bad, 3);
  ASSERT_FALSE(rejected.ok());
  EXPECT_NE(rejected.status().message().find("outside vocabulary"), std::string::npos)
      << rejected.status();
  // The client is still usable afterwards.
  const auto good = MakeRequests(3, 4);
  ExpectSameAsReference(client->Generate(good, 3).value(), Reference(TinyWeights(5), good), 3);
}

// A commit arrives while long sequences of the old version run: they finish
// with the old weights, the new version's requests wait, and every result's
// tokens come from one version (each equals that version's reference).
TEST(RolloutServerClient, WeightsNeverSwapUnderARunningSequence) {
  ServerThread server(UniqueEndpoint(), /*max_batch=*/1);
  const ModelWeights v1 = TinyWeights(11), v2 = TinyWeights(12);
  auto client = RolloutClient::Connect({server.endpoint()}, FastOptions()).value();
  ASSERT_TRUE(client->PublishWeights(1, v1).ok());
  const auto old_requests = MakeRequests(8, 200, /*stop_tokens=*/false);
  const uint64_t old_ticket = client->Submit(old_requests, 1).value();
  ASSERT_TRUE(client->PublishWeights(2, v2).ok());
  RawPeer peer(server.endpoint());
  peer.Send(wire::Encode(wire::StatusRequest{.ping_id = 1}));
  auto status = wire::DecodeStatusReply(peer.Receive(wire::kRolloutStatusType));
  ASSERT_TRUE(status.ok());
  // The commit was acknowledged while version 1 still had work (else this test proves nothing).
  EXPECT_GT(status->running + status->waiting, 0);
  const auto new_requests = MakeRequests(6, 30);
  const uint64_t new_ticket = client->Submit(new_requests, 2).value();
  auto new_results = client->Wait(new_ticket);
  auto old_results = client->Wait(old_ticket);
  ASSERT_TRUE(old_results.ok()) << old_results.status();
  ASSERT_TRUE(new_results.ok()) << new_results.status();
  ExpectSameAsReference(*old_results, Reference(v1, old_requests), 1);
  ExpectSameAsReference(*new_results, Reference(v2, new_requests), 2);
}

// The engine moved on to another set behind the client's back (here another
// client published one): its stale_weights reply makes the client re-send its
// weights and re-issue, and the results are still those of its version.
TEST(RolloutServerClient, StaleWeightsReplyTriggersAResendAndReissue) {
  ServerThread server(UniqueEndpoint());
  const ModelWeights mine = TinyWeights(31), other = TinyWeights(32);
  auto client = RolloutClient::Connect({server.endpoint()}, FastOptions()).value();
  ASSERT_TRUE(client->PublishWeights(1, mine).ok());
  const int64_t bytes_once = client->stats().bytes_sent;
  auto intruder = RolloutClient::Connect({server.endpoint()}, FastOptions()).value();
  ASSERT_TRUE(intruder->PublishWeights(2, other).ok());

  const auto requests = MakeRequests(6, 12);
  auto results = client->Generate(requests, 1);
  ASSERT_TRUE(results.ok()) << results.status();
  ExpectSameAsReference(*results, Reference(mine, requests), 1);
  EXPECT_EQ(client->stats().bytes_sent, 2 * bytes_once);  // the whole set went again
  EXPECT_GE(client->stats().requests_reissued, 1);
}

// A trainer that does not call the client for longer than engine_timeout
// (a long update) must not take its quiet engines for dead ones.
TEST(RolloutServerClient, AnIdleClientDoesNotResetQuietEngines) {
  ServerThread server(UniqueEndpoint());
  ClientOptions options = FastOptions();
  options.engine_timeout = std::chrono::milliseconds(300);
  auto client = RolloutClient::Connect({server.endpoint()}, options).value();
  const ModelWeights weights = TinyWeights(41);
  ASSERT_TRUE(client->PublishWeights(1, weights).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(900));
  const auto requests = MakeRequests(4, 8);
  ExpectSameAsReference(client->Generate(requests, 1).value(), Reference(weights, requests), 1);
  EXPECT_EQ(client->stats().engines_reset, 0);
  EXPECT_EQ(client->stats().requests_reissued, 0);
}

TEST(RolloutServerClient, SecondServerOnALiveEndpointIsRefused) {
  ServerThread server(UniqueEndpoint());
  RolloutServerOptions options;
  options.bind = server.endpoint();
  auto second = RolloutServer::Bind(options);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find("in use"), std::string::npos) << second.status();
}

TEST(RolloutServerClient, DTypeNamesAgreeWithTheWire) {
  for (DType d : {DType::kF32, DType::kF16, DType::kBF16}) {
    EXPECT_EQ(*wire::DTypeBytes(std::string(DTypeName(d))), DTypeSize(d));
  }
}

}  // namespace
}  // namespace lockstep::rollout
