// The engine thread of `lockstep serve` on its own: an incremental job hears of
// every token as the engine samples it (one engine request per choice, no
// re-prefill: the tokens equal an uninterrupted run's), and a sequence whose stop
// string is found is cancelled in the engine at once rather than run to max_tokens.
#include "serve/engine_loop.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/serve/serve_test_support.h"

namespace lockstep::serve::testing {
namespace {

std::string Spell(const std::vector<int32_t>& ids) {
  std::string out;
  for (int32_t id : ids) {
    out += '<';
    out += std::to_string(id);
    out += '>';
  }
  return out;
}

SequenceSpec Spec() {
  SequenceSpec s;
  s.prompt = {104, 101, 108};
  s.max_tokens = 40;
  s.sampling.temperature = 1.0f;
  s.seed = 3;
  s.request_id = 7;
  return s;
}

struct Finished {
  std::vector<int32_t> tokens;
  std::string text, finish_reason;
  int events = 0;
  size_t most_tokens_in_an_event = 0;
};

Finished RunJob(EngineLoop& loop, const std::vector<std::string>& stop, bool incremental) {
  auto job = std::make_shared<GenerationJob>(std::vector<SequenceSpec>{Spec()}, Spell, stop, incremental);
  EXPECT_TRUE(loop.Submit(job).ok());
  Finished out;
  while (true) {
    GenerationJob::Poll poll = job->Wait();
    EXPECT_TRUE(poll.error.ok()) << poll.error;
    for (const ChoiceEvent& e : poll.events) {
      ++out.events;
      out.most_tokens_in_an_event = std::max(out.most_tokens_in_an_event, e.tokens.size());
      out.tokens.insert(out.tokens.end(), e.tokens.begin(), e.tokens.end());
      out.text += e.delta;
      if (e.finished) out.finish_reason = e.finish_reason;
    }
    if (poll.done) return out;
  }
}

TEST(EngineLoopTest, TokensStreamOneByOneAndAStopStringCancelsTheSequence) {
  auto weights = RandomInitWeights(TinyConfig(), DType::kBF16, 11, 0.3f);
  ASSERT_TRUE(weights.ok()) << weights.status();
  auto model = Transformer::Create(*weights);
  ASSERT_TRUE(model.ok()) << model.status();
  EngineLoopOptions options;
  options.engine.kv_cache.num_blocks = 64;
  EngineLoop loop(**model, options);

  const Finished whole = RunJob(loop, {}, /*incremental=*/false);
  ASSERT_EQ(whole.tokens.size(), 40u);
  EXPECT_EQ(whole.events, 1);  // a non-incremental job hears once, at the end
  EXPECT_EQ(whole.finish_reason, "length");

  const Finished streamed = RunJob(loop, {}, /*incremental=*/true);
  EXPECT_EQ(streamed.tokens, whole.tokens);  // one uninterrupted engine request
  EXPECT_EQ(streamed.text, whole.text);
  EXPECT_EQ(streamed.most_tokens_in_an_event, 1u);  // every token as it is sampled

  // Stop at the spelling of token 5; it first occurs at `first` (<= 5).
  const std::string stop = Spell({whole.tokens[5]});
  size_t first = 0;
  while (whole.tokens[first] != whole.tokens[5]) ++first;
  const int64_t steps_before = loop.steps();
  const Finished stopped = RunJob(loop, {stop}, /*incremental=*/true);
  EXPECT_EQ(stopped.finish_reason, "stop");
  EXPECT_EQ(stopped.tokens, std::vector<int32_t>(whole.tokens.begin(), whole.tokens.begin() + first + 1));
  EXPECT_EQ(stopped.text, Spell(std::vector<int32_t>(whole.tokens.begin(), whole.tokens.begin() + first)));
  // Cancelled in the engine once the stop string was seen, not run on to 40 tokens.
  EXPECT_LE(loop.steps() - steps_before, static_cast<int64_t>(first) + 2);
}

}  // namespace
}  // namespace lockstep::serve::testing
