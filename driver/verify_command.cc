// `lockstep verify [--backend cpu|cuda] [--mode invariant|fast] [--dtype fp16|bf16|both]
//                  [--model-shape small|qwen2-0.5b] [--json] [--sequences N]
//                  [--max-new-tokens N] [--max-prompt-tokens N] [--seed S]
//                  [--trainer-dtype fp32|fp16|bf16]`: the command line of jobs/verify.h.
// Exit 0 only if every recomputed logprob is bitwise equal and every schedule
// sampled the same tokens; 1 if not; 2 on bad usage.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "driver/commands.h"
#include "jobs/verify.h"

namespace lockstep::driver {
namespace {

using jobs::ScheduleReport;
using jobs::VerifyOptions;
using jobs::VerifyReport;

void PrintColumnLegend() {
  std::printf(
      "columns: max batch = most sequences the engine ran at once; trainer = sequences per\n"
      "  trainer forward in the recompute; steps = engine steps; tokens = sampled tokens whose\n"
      "  logprob the trainer recomputed; bitwise equal = share with the same 32 bits as the\n"
      "  rollout's; |dlp| mean/p50/p99/max = |trainer - rollout| logprob over those tokens\n"
      "  (equal ones count 0)\n");
}

void PrintTable(const VerifyReport& r) {
  std::printf("\nbackend %s, rollout %s, trainer %s%s: %lld sequences, %lld sampled tokens checked "
              "over %zu schedules (%.1f s)\n",
              r.backend_description.c_str(), std::string(DTypeName(r.dtype)).c_str(),
              std::string(DTypeName(r.trainer_dtype)).c_str(),
              r.negative_control() ? " (negative control)" : "",
              static_cast<long long>(r.sequences), static_cast<long long>(r.tokens),
              r.schedules.size(), r.seconds);
  std::printf("  %-16s %9s %7s %6s %7s %14s %9s %9s %9s %9s %6s\n", "schedule", "max batch",
              "trainer", "steps", "tokens", "bitwise equal", "|dlp|mean", "|dlp|p50", "|dlp|p99",
              "|dlp|max", "time s");
  for (const ScheduleReport& s : r.schedules) {
    std::printf("  %-16s %9d %7d %6lld %7lld %13.6f%% %9.2g %9.2g %9.2g %9.2g %6.1f\n",
                s.name.c_str(), s.max_batch_sequences, s.trainer_micro_batch,
                static_cast<long long>(s.engine_steps), static_cast<long long>(s.tokens),
                s.tokens ? 100.0 * static_cast<double>(s.bitwise_equal) / s.tokens : 0.0,
                s.abs_logprob_diff.mean, s.abs_logprob_diff.p50, s.abs_logprob_diff.p99,
                s.abs_logprob_diff.max, s.generate_seconds + s.recompute_seconds);
  }
  std::printf("  bitwise_equal_fraction %.6f; |logprob diff| mean %.3g, p50 %.3g, p99 %.3g, "
              "max %.3g; outside trainer's candidate set %lld; schedules agree: %s\n",
              r.bitwise_equal_fraction(), r.abs_logprob_diff.mean, r.abs_logprob_diff.p50,
              r.abs_logprob_diff.p99, r.abs_logprob_diff.max,
              static_cast<long long>(r.outside_candidate_set), r.schedules_agree ? "yes" : "NO");
  std::printf("  samples digest %s (tokens and logprob bits of the first schedule)\n",
              r.samples_digest.c_str());
  std::printf("  -> %s\n", r.Verdict().c_str());
}

// What the flags say, before they become VerifyOptions.
struct VerifyFlags {
  std::string backend = "cpu";
  std::string mode = "invariant";
  std::string model_shape = "small";
  std::string dtype = "both";
  std::string trainer_dtype;  // empty: the rollout's
  bool json = false;
  VerifyOptions options;
};

int RunVerify(const VerifyFlags& flags) {
  std::vector<DType> dtypes;
  if (flags.dtype == "both") {
    dtypes = {DType::kF16, DType::kBF16};
  } else {
    dtypes = {flags.dtype == "fp16" ? DType::kF16 : DType::kBF16};
  }
  VerifyOptions options = flags.options;
  options.backend.device = flags.backend == "cuda" ? Device::kCuda : Device::kCpu;
  options.backend.mode = ParseNumericsMode(flags.mode).value();  // checked by the flag
  for (const absl::Status& s : {jobs::ApplyModelShape(flags.model_shape, &options),
                                jobs::ValidateScheduleNames(options.schedules)}) {
    if (!s.ok()) {
      std::fprintf(stderr, "lockstep verify: %s\n", std::string(s.message()).c_str());
      return 2;
    }
  }
  if (!flags.trainer_dtype.empty()) options.trainer_dtype = ParseDType(flags.trainer_dtype).value();
  bool all_passed = true;
  std::vector<VerifyReport> reports;
  for (DType dtype : dtypes) {
    options.dtype = dtype;
    absl::StatusOr<VerifyReport> report = jobs::RunVerification(options);
    if (!report.ok()) {
      std::fprintf(stderr, "lockstep verify: %s\n", std::string(report.status().message()).c_str());
      return 2;
    }
    all_passed = all_passed && report->passed();
    if (!flags.json) {
      if (reports.empty()) {
        std::printf("model: %s\n", report->model.Describe().c_str());
        PrintColumnLegend();
      }
      PrintTable(*report);
      std::fflush(stdout);
    }
    reports.push_back(*std::move(report));
  }
  // --json: one document for all dtypes, so `json.load` and `jq` read it whole.
  if (flags.json) std::printf("%s\n", jobs::VerifyDocument(reports).dump(2).c_str());
  return all_passed ? 0 : 1;
}

}  // namespace

void AddVerifyCommand(CLI::App& app, CommandAction* action) {
  CLI::App* command = app.add_subcommand(
      "verify",
      "prove rollout and trainer log-probabilities are bitwise equal: a seeded random model "
      "samples under several batch schedules, the trainer recomputes every token's logprob");
  auto flags = std::make_shared<VerifyFlags>();
  constexpr int kMaxInt = std::numeric_limits<int>::max();
  command->add_option("--backend", flags->backend,
                      "where the rollout engine and the trainer-side recompute both run")
      ->check(CLI::IsMember({"cpu", "cuda"}))
      ->capture_default_str();
  command->add_option("--mode", flags->mode,
                      "numerics mode: invariant (the contract) or fast (library-default GEMMs, "
                      "not batch-invariant on cuda: a negative control)")
      ->check(CLI::IsMember({"invariant", "fast"}))
      ->capture_default_str();
  command->add_option("--model-shape", flags->model_shape,
                      "random model's shape: small (fast on a CPU) or qwen2-0.5b (Qwen2.5-0.5B's "
                      "shape, 151936 vocab, tied embeddings; slow on a CPU: lower --sequences)")
      ->check(CLI::IsMember({"small", "qwen2-0.5b"}))
      ->capture_default_str();
  command->add_option("--dtype", flags->dtype, "rollout dtype(s) to check")
      ->check(CLI::IsMember({"fp16", "bf16", "both"}))
      ->capture_default_str();
  command->add_flag("--json", flags->json, "print one JSON document (every dtype's report, what each field means) instead of the table");
  command->add_option("--sequences", flags->options.num_sequences, "sequences generated per schedule")
      ->check(CLI::Range(1, kMaxInt))
      ->capture_default_str();
  command->add_option("--max-new-tokens", flags->options.max_new_tokens, "tokens sampled per sequence")
      ->check(CLI::Range(1, kMaxInt))
      ->capture_default_str();
  command->add_option("--max-prompt-tokens", flags->options.max_prompt_tokens,
                      "longest random prompt (prompts are 3..N tokens)")
      ->check(CLI::Range(3, kMaxInt))
      ->capture_default_str();
  command->add_option("--seed", flags->options.seed, "seed of the model, prompts and sampling")
      ->check(CLI::Range(uint64_t{1}, std::numeric_limits<uint64_t>::max()))
      ->capture_default_str();
  command->add_option("--trainer-dtype", flags->trainer_dtype,
                      "recompute in another dtype than the rollout, to see the mismatch the usual "
                      "setup has (default: the rollout's)")
      ->check(CLI::IsMember({"fp32", "fp16", "bf16"}));
  command->add_option("--schedules", flags->options.schedules,
                      "batch schedules to run, comma-separated (default: one-at-a-time, "
                      "all-at-once, random-arrival, small-max-batch); also max-batch-N and "
                      "random-arrival-N")
      ->delimiter(',');
  command->callback([flags, action] { *action = [flags] { return RunVerify(*flags); }; });
}

}  // namespace lockstep::driver
