// RopeBackward: the gradient of the rotation against float64 finite
// differences of a reference built from the same table factors; determinism
// and position checks.
#include <vector>

#include "gtest/gtest.h"
#include "numerics/cpu/backward.h"
#include "numerics/cpu/rope.h"
#include "tests/numerics/backward_test_util.h"
#include "tests/numerics/test_util.h"

namespace lockstep::cpu {
namespace {

using ::lockstep::testing::AllCoords;
using ::lockstep::testing::AsDoubles;
using ::lockstep::testing::ExpectGradientMatches;
using ::lockstep::testing::RandomFloats;
using ::lockstep::testing::RandomTensor;

constexpr int kMaxPositions = 128;

std::vector<int32_t> RandomPositions(int64_t rows, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int32_t> dist(0, kMaxPositions - 1);
  std::vector<int32_t> out(static_cast<size_t>(rows));
  for (int32_t& p : out) p = dist(rng);
  return out;
}

// The rotate-half forward in float64 with the table's fp32 cos/sin.
std::vector<double> ReferenceForward(const std::vector<double>& x, int64_t rows, int num_heads,
                                     const std::vector<int32_t>& positions,
                                     const RopeTable& table) {
  const int d = table.head_dim(), half = d / 2;
  std::vector<double> y(x.size());
  for (int64_t t = 0; t < rows; ++t) {
    const float* cs = table.cos_row(positions[t]);
    const float* sn = table.sin_row(positions[t]);
    for (int h = 0; h < num_heads; ++h) {
      const int64_t base = t * num_heads * d + int64_t{h} * d;
      for (int i = 0; i < half; ++i) {
        const double a = x[base + i], b = x[base + i + half];
        y[base + i] = a * cs[i] - b * sn[i];
        y[base + i + half] = b * cs[i] + a * sn[i];
      }
    }
  }
  return y;
}

TEST(RopeBackwardTest, MatchesFiniteDifferences) {
  uint64_t seed = 300;
  for (int head_dim : {6, 16}) {
    const RopeTable table(head_dim, 10000.0, kMaxPositions);
    for (int64_t rows : {1, 19}) {
      SCOPED_TRACE(::testing::Message() << "head_dim=" << head_dim << " rows=" << rows);
      constexpr int kHeads = 3;
      const int64_t width = int64_t{kHeads} * head_dim;
      const Tensor x_tensor = RandomTensor(DType::kF32, rows, width, seed += 10);
      const std::vector<int32_t> positions = RandomPositions(rows, seed + 1);
      const std::vector<float> dy = RandomFloats(rows * width, seed + 2);
      const std::vector<double> x = AsDoubles(x_tensor);

      Tensor y = x_tensor;
      ASSERT_TRUE(ApplyRope(y.AsMatrix(), kHeads, positions, table).ok());
      EXPECT_LE(lockstep::testing::RelativeNormError(
                    y, ReferenceForward(x, rows, kHeads, positions, table)),
                1e-6);

      std::vector<float> dx = dy;  // rotated in place
      ASSERT_TRUE(RopeBackward(dx.data(), rows, kHeads, positions, table).ok());
      ExpectGradientMatches(
          "dx", dx, x,
          [&](const std::vector<double>& v) {
            const std::vector<double> out = ReferenceForward(v, rows, kHeads, positions, table);
            double loss = 0.0;
            for (size_t i = 0; i < out.size(); ++i) loss += dy[i] * out[i];
            return loss;
          },
          AllCoords(rows * width));
    }
  }
}

TEST(RopeBackwardTest, DeterministicAcrossThreadsAndRepeats) {
  const RopeTable table(16, 10000.0, kMaxPositions);
  const std::vector<int32_t> positions = RandomPositions(64, 41);
  const std::vector<float> dy = RandomFloats(64 * 4 * 16, 42);
  lockstep::testing::ExpectDeterministicAcrossThreads([&] {
    std::vector<float> dx = dy;
    EXPECT_TRUE(RopeBackward(dx.data(), 64, 4, positions, table).ok());
    return std::vector<std::vector<float>>{dx};
  });
}

TEST(RopeBackwardTest, RejectsBadPositions) {
  const RopeTable table(8, 10000.0, kMaxPositions);
  std::vector<float> dx(2 * 8, 1.0f);
  const std::vector<int32_t> outside = {0, kMaxPositions};
  EXPECT_EQ(RopeBackward(dx.data(), 2, 1, outside, table).code(), absl::StatusCode::kOutOfRange);
  const std::vector<int32_t> too_few = {0};
  EXPECT_EQ(RopeBackward(dx.data(), 2, 1, too_few, table).code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace lockstep::cpu
