// Philox4x32-10 counter-based random numbers (Salmon et al., SC'11).
// Stateless: the output is a pure function of (key, counter), so a sample's
// random draw depends on (seed, request, sample index, position) only — never
// on the batch it was computed in, nor on the backend.
#pragma once

#include <array>
#include <cstdint>

namespace lockstep {

using PhiloxCounter = std::array<uint32_t, 4>;
using PhiloxKey = std::array<uint32_t, 2>;

PhiloxCounter Philox4x32(PhiloxCounter counter, PhiloxKey key);

// The uniform in [0, 1) used by sampling, from 24 random bits (exact in fp32).
float SamplingUniform(uint64_t seed, uint32_t request, uint32_t sample_index, uint32_t position);

}  // namespace lockstep
