// `lockstep verify`: proves the numerics contract end to end. A seeded random
// model generates sequences under several batch schedules; the trainer-side
// full-sequence forward then recomputes every sampled token's logprob. The
// report says how many of them are bitwise equal and whether every schedule
// sampled the same tokens.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "numerics/backend.h"
#include "numerics/dtype.h"
#include "nlohmann/json.hpp"

namespace lockstep::jobs {

struct VerifyOptions {
  // Where both sides run: the rollout engine and the trainer-side recompute use one
  // backend made by CreateBackend(backend).
  BackendOptions backend;
  DType dtype = DType::kBF16;
  // The trainer side's dtype; unset = same as the rollout (the lockstep
  // setup). A different one reproduces the usual mismatched setup (e.g. an
  // fp32 trainer against a bf16 rollout) and shows what it costs.
  std::optional<DType> trainer_dtype;
  int num_sequences = 80;
  int max_new_tokens = 64;
  int min_prompt_tokens = 3;
  int max_prompt_tokens = 60;
  uint64_t seed = 1234;
  // The model: Qwen2-style (q/k/v bias), grouped-query attention.
  int hidden_size = 256;
  int num_layers = 4;
  int num_heads = 8;
  int num_kv_heads = 2;
  int intermediate_size = 512;
  int vocab_size = 0;  // 0: the character tokenizer's vocabulary
  bool tie_word_embeddings = false;
  // Batch schedules to run (ParseSchedule's names); empty = the four defaults
  // (one-at-a-time, all-at-once, random-arrival, small-max-batch).
  std::vector<std::string> schedules;
};

// Checks every name in `names` (see ParseSchedule in verify.cc): the defaults, plus
// "max-batch-N" (at most N sequences at once, all arriving at step 0) and
// "random-arrival-N" (at most N at once, arrivals spread over the first 96 steps).
absl::Status ValidateScheduleNames(const std::vector<std::string>& names);

// The model shapes `verify --model-shape` knows: "small" (the defaults above, fast on a
// CPU) and "qwen2-0.5b" (Qwen2.5-0.5B's shape: 24 layers, hidden 896, 14 heads / 2 KV
// heads, MLP 4864, vocab 151936, tied embeddings; random weights). InvalidArgument naming
// the known shapes otherwise.
absl::Status ApplyModelShape(const std::string& shape, VerifyOptions* options);

// |trainer - rollout| logprob over the tokens both sides give a finite
// logprob (bitwise-equal tokens count as 0): the max alone hides whether a
// mismatch is one outlier or every token.
struct LogprobDiffStats {
  double mean = 0.0;
  double p50 = 0.0;
  double p99 = 0.0;
  double max = 0.0;
  // From the per-token differences (any order; the vector is sorted in place).
  static LogprobDiffStats Of(std::vector<double>& diffs);
  nlohmann::json ToJson() const;
};

// What verify built: printed so a reader knows what the numbers are about.
struct VerifyModelSummary {
  std::string family = "qwen2";
  int hidden_size = 0;
  int num_layers = 0;
  int num_heads = 0;
  int num_kv_heads = 0;
  int intermediate_size = 0;
  int vocab_size = 0;
  bool tie_word_embeddings = false;
  int64_t parameters = 0;
  uint64_t seed = 0;
  std::string Describe() const;  // one line
  nlohmann::json ToJson() const;
};

struct ScheduleReport {
  std::string name;            // "one-at-a-time", "all-at-once", ...
  int max_batch_sequences = 0;
  int trainer_micro_batch = 0; // sequences per trainer forward in the recompute
  int64_t engine_steps = 0;
  int64_t tokens = 0;
  int64_t bitwise_equal = 0;
  double max_abs_logprob_diff = 0.0;  // over tokens both sides give a finite logprob
  LogprobDiffStats abs_logprob_diff;   // the same tokens: mean, p50, p99, max
  int64_t outside_candidate_set = 0;  // sampled tokens the trainer's top-k/top-p set excludes
  double generate_seconds = 0.0;
  double recompute_seconds = 0.0;
};

struct VerifyReport {
  std::string backend = "cpu";  // the device name: "cpu" or "cuda"
  std::string backend_description;  // Backend::Describe(): device, library, mode
  NumericsMode mode = NumericsMode::kBatchInvariant;
  DType dtype = DType::kBF16;
  DType trainer_dtype = DType::kBF16;
  VerifyModelSummary model;
  int64_t sequences = 0;
  int64_t tokens = 0;  // sampled tokens checked, over all schedules
  int64_t bitwise_equal = 0;
  double max_abs_logprob_diff = 0.0;
  LogprobDiffStats abs_logprob_diff;  // over every schedule's tokens
  int64_t outside_candidate_set = 0;
  bool schedules_agree = false;
  // FNV-1a (64-bit, hex) over the first schedule's samples in request order: every token
  // id and the 32 bits of its logprob. Two runs (builds, machines, kernel versions) that
  // print the same digest sampled the same tokens with the same logprob bits.
  std::string samples_digest;
  std::vector<ScheduleReport> schedules;
  double seconds = 0.0;

  double bitwise_equal_fraction() const {
    return tokens == 0 ? 0.0 : static_cast<double>(bitwise_equal) / static_cast<double>(tokens);
  }
  bool passed() const { return tokens > 0 && bitwise_equal == tokens && schedules_agree; }
  // A trainer dtype other than the rollout's is the negative control: its
  // mismatch is the expected demonstration of what the usual setup costs.
  // So is kFast mode: library-default GEMMs are not batch-invariant (on CUDA).
  bool negative_control() const {
    return trainer_dtype != dtype || mode == NumericsMode::kFast;
  }
  // One sentence on what the result means (PASS, expected mismatch, or FAIL).
  std::string Verdict() const;
  nlohmann::json ToJson() const;
};

absl::StatusOr<VerifyReport> RunVerification(const VerifyOptions& options);

// What `verify --json` prints: one JSON document holding every dtype's report,
// whether all passed, and what each field means.
nlohmann::json VerifyDocument(const std::vector<VerifyReport>& reports);

}  // namespace lockstep::jobs
