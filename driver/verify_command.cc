// `lockstep verify [--backend cpu] [--dtype fp16|bf16|both] [--json]
//                  [--sequences N] [--max-new-tokens N] [--seed S]`
// Exit 0 only if every recomputed logprob is bitwise equal and every schedule
// sampled the same tokens; 1 if not; 2 on bad usage.
#include <charconv>
#include <cstdio>
#include <string>
#include <vector>

#include "driver/commands.h"
#include "jobs/verify.h"

namespace lockstep::driver {
namespace {

using jobs::ScheduleReport;
using jobs::VerifyOptions;
using jobs::VerifyReport;

constexpr char kVerifyUsage[] =
    "usage: lockstep verify [--backend cpu] [--dtype fp16|bf16|both] [--json]\n"
    "                       [--sequences N] [--max-new-tokens N] [--seed S]\n"
    "                       [--trainer-dtype fp32|fp16|bf16]\n"
    "  --trainer-dtype  recompute in another dtype than the rollout, to see the\n"
    "                   mismatch the usual setup has (default: the rollout's)\n";

bool ParseInt(const std::string& text, int64_t* out) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, *out);
  return ec == std::errc() && ptr == end;
}

void PrintTable(const VerifyReport& r) {
  std::printf("\nbackend %s, rollout %s, trainer %s: %lld sequences, %lld sampled tokens checked (%.1f s)\n",
              r.backend.c_str(), std::string(DTypeName(r.dtype)).c_str(),
              std::string(DTypeName(r.trainer_dtype)).c_str(),
              static_cast<long long>(r.sequences), static_cast<long long>(r.tokens), r.seconds);
  std::printf("  %-16s %9s %8s %8s %9s %14s %8s %8s\n", "schedule", "max batch", "trainer", "steps",
              "tokens", "bitwise equal", "max|dlp|", "time s");
  for (const ScheduleReport& s : r.schedules) {
    std::printf("  %-16s %9d %8d %8lld %9lld %13.6f%% %8.2g %8.1f\n", s.name.c_str(),
                s.max_batch_sequences, s.trainer_micro_batch,
                static_cast<long long>(s.engine_steps), static_cast<long long>(s.tokens),
                s.tokens ? 100.0 * static_cast<double>(s.bitwise_equal) / s.tokens : 0.0,
                s.max_abs_logprob_diff, s.generate_seconds + s.recompute_seconds);
  }
  std::printf("  bitwise_equal_fraction %.6f, max |logprob diff| %.3g, outside trainer's "
              "candidate set %lld, schedules agree: %s -> %s\n",
              r.bitwise_equal_fraction(), r.max_abs_logprob_diff,
              static_cast<long long>(r.outside_candidate_set),
              r.schedules_agree ? "yes" : "NO", r.passed() ? "PASS" : "FAIL");
}

}  // namespace

int RunVerifyCommand(const Args& args) {
  std::string backend = "cpu", dtype_arg = "both", trainer_dtype_arg;
  bool json = false;
  VerifyOptions options;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](const char* flag) -> const std::string* {
      if (i + 1 >= args.size()) {
        std::fprintf(stderr, "lockstep verify: %s needs a value\n%s", flag, kVerifyUsage);
        return nullptr;
      }
      return &args[++i];
    };
    int64_t n = 0;
    if (a == "--json") {
      json = true;
    } else if (a == "--backend" || a == "--dtype" || a == "--trainer-dtype") {
      const std::string* v = value(a.c_str());
      if (!v) return 2;
      (a == "--backend" ? backend : a == "--dtype" ? dtype_arg : trainer_dtype_arg) = *v;
    } else if (a == "--sequences" || a == "--max-new-tokens" || a == "--seed") {
      const std::string* v = value(a.c_str());
      if (!v) return 2;
      if (!ParseInt(*v, &n) || n < 1) {
        std::fprintf(stderr, "lockstep verify: %s wants a positive integer, got '%s'\n",
                     a.c_str(), v->c_str());
        return 2;
      }
      if (a == "--sequences") options.num_sequences = static_cast<int>(n);
      if (a == "--max-new-tokens") options.max_new_tokens = static_cast<int>(n);
      if (a == "--seed") options.seed = static_cast<uint64_t>(n);
    } else if (a == "--help" || a == "-h") {
      std::fputs(kVerifyUsage, stdout);
      return 0;
    } else {
      std::fprintf(stderr, "lockstep verify: unknown argument '%s'\n%s", a.c_str(), kVerifyUsage);
      return 2;
    }
  }
  if (backend != "cpu") {
    std::fprintf(stderr,
                 "lockstep verify: backend '%s' is not available in this build; the CUDA "
                 "backend is not wired into verify yet. Use --backend cpu.\n",
                 backend.c_str());
    return 2;
  }
  std::vector<DType> dtypes;
  if (dtype_arg == "both") {
    dtypes = {DType::kF16, DType::kBF16};
  } else if (dtype_arg == "fp16" || dtype_arg == "bf16") {
    dtypes = {dtype_arg == "fp16" ? DType::kF16 : DType::kBF16};
  } else {
    std::fprintf(stderr, "lockstep verify: --dtype must be fp16, bf16 or both, got '%s'\n",
                 dtype_arg.c_str());
    return 2;
  }
  if (!trainer_dtype_arg.empty()) {
    absl::StatusOr<DType> parsed = ParseDType(trainer_dtype_arg);
    if (!parsed.ok()) {
      std::fprintf(stderr, "lockstep verify: --trainer-dtype: %s\n",
                   std::string(parsed.status().message()).c_str());
      return 2;
    }
    options.trainer_dtype = *parsed;
  }
  bool all_passed = true;
  for (DType dtype : dtypes) {
    options.dtype = dtype;
    absl::StatusOr<VerifyReport> report = jobs::RunVerification(options);
    if (!report.ok()) {
      std::fprintf(stderr, "lockstep verify: %s\n", std::string(report.status().message()).c_str());
      return 2;
    }
    all_passed = all_passed && report->passed();
    if (json) {
      std::printf("%s\n", report->ToJson().dump().c_str());
    } else {
      PrintTable(*report);
    }
    std::fflush(stdout);
  }
  return all_passed ? 0 : 1;
}

}  // namespace lockstep::driver
