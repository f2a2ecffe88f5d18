// OpProfile (op_profile.h): event pairs from a pool that only grows; totals folded in after a
// stream synchronisation, so profiling adds no waits of its own.
#include "numerics/cuda/op_profile.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "absl/strings/str_format.h"

namespace lockstep::cuda {
namespace {

double SecondsBetween(std::chrono::steady_clock::time_point a,
                      std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

}  // namespace

OpProfile::OpProfile() {
  const char* env = std::getenv("LOCKSTEP_CUDA_PROFILE");
  enabled_ = env != nullptr && std::strcmp(env, "1") == 0;
}

OpProfile::~OpProfile() {
  if (!enabled_) return;
  const std::string report = Report();
  if (!report.empty()) std::fprintf(stderr, "%s", report.c_str());
  for (cudaEvent_t e : events_) cudaEventDestroy(e);
}

int OpProfile::Begin(cudaStream_t stream) {
  const int pair = next_pair_++;
  if (2 * pair + 1 >= static_cast<int>(events_.size())) {
    for (int i = 0; i < 2; ++i) {
      cudaEvent_t e = nullptr;
      cudaEventCreate(&e);
      events_.push_back(e);
    }
    host_starts_.resize(events_.size() / 2);
  }
  const auto now = std::chrono::steady_clock::now();
  if (!any_op_) {
    first_op_ = now;
    last_collect_ = now;
    any_op_ = true;
  }
  host_starts_[pair] = now;
  cudaEventRecord(events_[2 * pair], stream);
  pending_.push_back(Pending{"", pair, 0.0});
  return pair;
}

void OpProfile::End(int token, const std::string& name, cudaStream_t stream) {
  auto it = std::find_if(pending_.rbegin(), pending_.rend(),
                         [token](const Pending& p) { return p.event_pair == token; });
  if (it == pending_.rend()) return;
  Pending& p = *it;
  cudaEventRecord(events_[2 * p.event_pair + 1], stream);
  p.name = name;
  p.host_seconds = SecondsBetween(host_starts_[p.event_pair], std::chrono::steady_clock::now());
}

void OpProfile::Collect() {
  if (!enabled_) return;
  // An op still open (a host-result op collecting from inside itself) keeps its entry
  // and its event pair until a later Collect; so does one whose end has not run yet.
  std::vector<Pending> still_open;
  for (const Pending& p : pending_) {
    float ms = 0.0f;
    if (p.name.empty() || cudaEventQuery(events_[2 * p.event_pair + 1]) != cudaSuccess ||
        cudaEventElapsedTime(&ms, events_[2 * p.event_pair], events_[2 * p.event_pair + 1]) !=
            cudaSuccess) {
      cudaGetLastError();  // clear cudaErrorNotReady
      still_open.push_back(p);
      continue;
    }
    Totals& t = totals_[p.name];
    ++t.calls;
    t.host_seconds += p.host_seconds;
    t.gpu_seconds += ms / 1e3;
  }
  pending_ = std::move(still_open);
  if (pending_.empty()) next_pair_ = 0;
  last_collect_ = std::chrono::steady_clock::now();
}

std::string OpProfile::Report() {
  if (!enabled_ || totals_.empty()) return "";
  std::vector<std::pair<std::string, Totals>> rows(totals_.begin(), totals_.end());
  std::sort(rows.begin(), rows.end(),
            [](const auto& a, const auto& b) { return a.second.gpu_seconds > b.second.gpu_seconds; });
  double gpu = 0.0, host = 0.0;
  for (const auto& [name, t] : rows) {
    gpu += t.gpu_seconds;
    host += t.host_seconds;
  }
  const double wall = SecondsBetween(first_op_, last_collect_);
  std::string out = absl::StrFormat(
      "cuda op profile (LOCKSTEP_CUDA_PROFILE=1): wall %.3f s from the first op to the last "
      "sync; GPU time inside ops %.3f s (%.0f%%); host time inside op calls %.3f s (%.0f%%)\n"
      "  %-44s %9s %11s %9s %11s %9s\n",
      wall, gpu, 100.0 * gpu / wall, host, 100.0 * host / wall, "op", "calls", "GPU ms",
      "GPU us/call", "host ms", "host us/call");
  for (const auto& [name, t] : rows) {
    absl::StrAppendFormat(&out, "  %-44s %9d %11.1f %9.1f %11.1f %9.1f\n", name, t.calls,
                          1e3 * t.gpu_seconds, 1e6 * t.gpu_seconds / t.calls,
                          1e3 * t.host_seconds, 1e6 * t.host_seconds / t.calls);
  }
  return out;
}

}  // namespace lockstep::cuda
