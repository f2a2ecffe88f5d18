// Where a CUDA backend's time goes, per op: host time spent enqueueing and GPU time between
// events recorded around each op on the stream. Off unless LOCKSTEP_CUDA_PROFILE=1 is set
// when the backend is made (then every op records two events; the numbers, not the bits,
// change). The report prints when the backend is destroyed, or on Report(). GPU time of an
// op includes its launch latency when the host is the bottleneck (the stream was empty), so
// "GPU busy" close to wall time means kernels dominate; far below it means launches do.
#pragma once

#include <cuda_runtime_api.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace lockstep::cuda {

class OpProfile {
 public:
  OpProfile();  // reads LOCKSTEP_CUDA_PROFILE
  ~OpProfile();
  OpProfile(const OpProfile&) = delete;
  OpProfile& operator=(const OpProfile&) = delete;

  bool enabled() const { return enabled_; }
  // While a graph is being captured nothing is recorded (an event recorded on a capturing
  // stream is not a timing event); replays are timed as one op instead.
  void set_paused(bool paused) { paused_ = paused; }
  bool recording() const { return enabled_ && !paused_; }

  // Brackets one op. Begin returns a token (its event pair) for End.
  int Begin(cudaStream_t stream);
  void End(int token, const std::string& name, cudaStream_t stream);
  // After the stream has been synchronised: folds the recorded events into the totals.
  void Collect();
  // The table (ops by GPU time), to `out`; "" when disabled.
  std::string Report();

 private:
  struct Pending {
    std::string name;
    int event_pair;
    double host_seconds;
  };
  struct Totals {
    int64_t calls = 0;
    double host_seconds = 0.0;
    double gpu_seconds = 0.0;
  };
  bool enabled_ = false;
  bool paused_ = false;
  std::vector<cudaEvent_t> events_;  // pairs: 2i start, 2i+1 end
  std::vector<std::chrono::steady_clock::time_point> host_starts_;
  std::vector<Pending> pending_;
  int next_pair_ = 0;  // event pairs in use: [0, next_pair_); reset when nothing is pending
  std::map<std::string, Totals> totals_;
  std::chrono::steady_clock::time_point first_op_;
  std::chrono::steady_clock::time_point last_collect_;
  bool any_op_ = false;
};

// RAII bracket for one op.
class OpScope {
 public:
  // `name` must outlive the scope (a string literal). Nothing is copied or allocated unless
  // the profile is recording: every op of every decode step constructs one of these.
  OpScope(OpProfile& profile, const char* name, cudaStream_t stream)
      : profile_(profile), name_(name), stream_(stream),
        token_(profile.recording() ? profile.Begin(stream) : -1) {}
  ~OpScope() { End(); }
  // Closes the bracket now (idempotent). An op that waits for the stream calls this before
  // OpProfile::Collect: otherwise its end event is recorded after the host's own
  // bookkeeping and the op's GPU time absorbs that host time (this made SampleTokens read
  // 1.26 ms/step at batch 256 where the kernel alone takes ~0.3 ms).
  void End() {
    if (token_ < 0) return;
    profile_.End(token_, detailed_name_.empty() ? name_ : detailed_name_, stream_);
    token_ = -1;
  }
  OpScope(const OpScope&) = delete;
  OpScope& operator=(const OpScope&) = delete;
  // A more specific row name (e.g. the weight shape); callers build it only when recording.
  void set_name(std::string name) { detailed_name_ = std::move(name); }

 private:
  OpProfile& profile_;
  const char* name_;
  std::string detailed_name_;
  cudaStream_t stream_;
  int token_;
};

}  // namespace lockstep::cuda
