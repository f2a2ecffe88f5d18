// WeightStaging: a set is handed out only when complete and intact.
#include "rollout/weight_staging.h"

#include "gtest/gtest.h"
#include "rollout/weight_snapshot.h"
#include "tests/rollout/rollout_test_support.h"

namespace lockstep::rollout {
namespace {

std::vector<std::string_view> Frames(const WeightBucket& bucket) {
  std::vector<std::string_view> frames;
  for (const auto& f : bucket.frames) frames.emplace_back(static_cast<const char*>(f.data), f.size);
  return frames;
}

TEST(WeightStaging, CompleteSetCommitsWithTheSendersHash) {
  const ModelWeights weights = testing::TinyWeights(1);
  const auto snapshot = WeightSnapshot::Take(2, weights, 4 << 10);
  ASSERT_GT(snapshot->buckets.size(), 3u);
  WeightStaging staging;
  for (const WeightBucket& b : snapshot->buckets) {
    const auto ack = staging.AddBucket(b.header, Frames(b));
    ASSERT_TRUE(ack.ok) << ack.error;
  }
  auto committed = staging.Commit({.weight_version = 2, .set_hash = snapshot->set_hash});
  ASSERT_TRUE(committed.ok()) << committed.status();
  EXPECT_EQ(committed->set_hash, snapshot->set_hash);
  const auto got = committed->weights->NamedTensors();
  const auto want = weights.NamedTensors();
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(got[i].second->nbytes(), want[i].second->nbytes());
    EXPECT_EQ(std::memcmp(got[i].second->data(), want[i].second->data(), got[i].second->nbytes()),
              0)
        << got[i].first;
  }
  EXPECT_FALSE(
      staging.Commit({.weight_version = 2, .set_hash = snapshot->set_hash}).ok());  // handed out
}

TEST(WeightStaging, IncompleteOrMismatchedSetsAreRefused) {
  const auto snapshot = WeightSnapshot::Take(2, testing::TinyWeights(1), 4 << 10);
  WeightStaging staging;
  // A later bucket before bucket 0 has nothing to go into.
  auto early = staging.AddBucket(snapshot->buckets[1].header, Frames(snapshot->buckets[1]));
  EXPECT_FALSE(early.ok);
  EXPECT_NE(early.error.find("before its bucket 0"), std::string::npos) << early.error;
  for (size_t k = 0; k + 1 < snapshot->buckets.size(); ++k) {
    ASSERT_TRUE(staging.AddBucket(snapshot->buckets[k].header, Frames(snapshot->buckets[k])).ok);
  }
  auto missing = staging.Commit({.weight_version = 2, .set_hash = snapshot->set_hash});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("missing"), std::string::npos) << missing.status();

  // A tensor under a shape the model does not have is named.
  WeightBucket last = snapshot->buckets.back();
  last.header.tensors[0].shape.push_back(1);
  auto misshapen = staging.AddBucket(last.header, Frames(last));
  EXPECT_FALSE(misshapen.ok);
  EXPECT_EQ(misshapen.tensor, last.header.tensors[0].name);

  ASSERT_TRUE(
      staging.AddBucket(snapshot->buckets.back().header, Frames(snapshot->buckets.back())).ok);
  auto wrong_hash = staging.Commit({.weight_version = 2, .set_hash = snapshot->set_hash ^ 1});
  ASSERT_FALSE(wrong_hash.ok());
  EXPECT_NE(wrong_hash.status().message().find("set hash"), std::string::npos)
      << wrong_hash.status();
  EXPECT_TRUE(staging.Commit({.weight_version = 2, .set_hash = snapshot->set_hash}).ok());
}

}  // namespace
}  // namespace lockstep::rollout
