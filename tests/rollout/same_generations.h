// Test helper: two engines' results (each sorted by request id) are the same bit for bit —
// request ids, tokens, every logprob's fp32 pattern, and (unless told not to) the step each
// request finished at. Shared by the CPU and GPU decode-graph tests.
#pragma once

#include <bit>
#include <cstdint>
#include <vector>

#include "gtest/gtest.h"
#include "rollout/engine.h"

namespace lockstep::testing {

inline void ExpectSameGenerations(const std::vector<GenerationResult>& a,
                                  const std::vector<GenerationResult>& b,
                                  bool compare_finished_step = true) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].request_id, b[i].request_id);
    EXPECT_EQ(a[i].tokens, b[i].tokens) << "request " << a[i].request_id;
    ASSERT_EQ(a[i].logprobs.size(), b[i].logprobs.size());
    for (size_t t = 0; t < a[i].logprobs.size(); ++t) {
      ASSERT_EQ(std::bit_cast<uint32_t>(a[i].logprobs[t]),
                std::bit_cast<uint32_t>(b[i].logprobs[t]))
          << "request " << a[i].request_id << " token " << t;
    }
    if (compare_finished_step) {
      EXPECT_EQ(a[i].finished_step, b[i].finished_step);
    }
  }
}

}  // namespace lockstep::testing
