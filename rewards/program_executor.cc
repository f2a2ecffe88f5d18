#include "rewards/program_executor.h"

#include <algorithm>
#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"

namespace lockstep::rewards {

std::vector<sandbox::RunResult> LocalExecutor::RunBatch(
    std::span<const sandbox::RunRequest> requests) {
  std::vector<sandbox::RunResult> results(requests.size());
  const int threads = std::max(1, std::min<int>(threads_, static_cast<int>(requests.size())));
  if (threads <= 1) {
    for (size_t i = 0; i < requests.size(); ++i) results[i] = runner_->Run(requests[i]);
    return results;
  }
  std::atomic<size_t> next{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      for (size_t i = next++; i < requests.size(); i = next++) results[i] = runner_->Run(requests[i]);
    });
  }
  for (auto& w : workers) w.join();
  return results;
}

std::string LocalExecutor::Describe() const {
  return absl::StrCat("local sandbox runner (", threads_, " threads)");
}

std::vector<sandbox::RunResult> PoolExecutor::RunBatch(
    std::span<const sandbox::RunRequest> requests) {
  std::unique_ptr<sandbox::SandboxClient> client;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!idle_.empty()) {
      client = std::move(idle_.back());
      idle_.pop_back();
    }
  }
  absl::Status error;
  if (client == nullptr) {
    auto connected = sandbox::SandboxClient::Connect(endpoint_);
    if (connected.ok()) {
      client = std::move(*connected);
    } else {
      error = connected.status();
    }
  }
  if (client != nullptr) {
    auto results = client->RunBatch(requests, timeout_);
    if (results.ok()) {
      std::lock_guard<std::mutex> lock(mutex_);
      idle_.push_back(std::move(client));
      return std::move(*results);
    }
    error = results.status();  // the client is dropped: late replies must not leak into the next batch
  }
  std::vector<sandbox::RunResult> failed(requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    failed[i].status = sandbox::RunStatus::kSandboxError;
    failed[i].language = requests[i].language;
    failed[i].message = absl::StrCat("sandbox pool ", endpoint_, ": ", error.message());
  }
  return failed;
}

}  // namespace lockstep::rewards
