// Philox4x32-10 with the standard Random123 constants; checked against the
// Random123 known-answer vectors in tests/numerics/philox_test.cc.
#include "numerics/philox.h"

namespace lockstep {
namespace {

constexpr uint32_t kMultiplier0 = 0xD2511F53u;
constexpr uint32_t kMultiplier1 = 0xCD9E8D57u;
constexpr uint32_t kWeyl0 = 0x9E3779B9u;  // golden ratio
constexpr uint32_t kWeyl1 = 0xBB67AE85u;  // sqrt(3) - 1
constexpr int kRounds = 10;

PhiloxCounter Round(const PhiloxCounter& c, const PhiloxKey& key) {
  const uint64_t p0 = uint64_t{kMultiplier0} * c[0];
  const uint64_t p1 = uint64_t{kMultiplier1} * c[2];
  const uint32_t hi0 = static_cast<uint32_t>(p0 >> 32), lo0 = static_cast<uint32_t>(p0);
  const uint32_t hi1 = static_cast<uint32_t>(p1 >> 32), lo1 = static_cast<uint32_t>(p1);
  return {hi1 ^ c[1] ^ key[0], lo1, hi0 ^ c[3] ^ key[1], lo0};
}

}  // namespace

PhiloxCounter Philox4x32(PhiloxCounter counter, PhiloxKey key) {
  for (int r = 0; r < kRounds; ++r) {
    if (r > 0) {
      key[0] += kWeyl0;
      key[1] += kWeyl1;
    }
    counter = Round(counter, key);
  }
  return counter;
}

float SamplingUniform(uint64_t seed, uint32_t request, uint32_t sample_index, uint32_t position) {
  const PhiloxKey key = {static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32)};
  const PhiloxCounter out = Philox4x32({request, sample_index, position, 0u}, key);
  // 24 bits fill a float's significand exactly: u = m * 2^-24 in [0, 1).
  return static_cast<float>(out[0] >> 8) * 0x1.0p-24f;
}

}  // namespace lockstep
