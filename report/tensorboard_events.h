// TensorBoard event files for a run: RUN/events.out.tfevents.<unix time>.<host>,
// so `tensorboard --logdir RUN` shows every scalar of metrics.jsonl. The file
// is a TFRecord stream (uint64 length, masked CRC-32C of it, an Event
// protobuf, masked CRC-32C of that) whose first event is file_version
// "brain.Event:2"; the few protobuf fields needed are encoded by hand.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace lockstep::report {

class TensorBoardWriter {
 public:
  // Creates a new event file in `run_dir` (which must exist) and writes the
  // file_version event. A second writer in the same second gets a ".N" suffix.
  static absl::StatusOr<std::unique_ptr<TensorBoardWriter>> Open(const std::string& run_dir);
  ~TensorBoardWriter();
  TensorBoardWriter(const TensorBoardWriter&) = delete;
  TensorBoardWriter& operator=(const TensorBoardWriter&) = delete;

  // One event at `step` with a scalar per numeric field of `metrics_line` (a
  // metrics.jsonl object; nested objects are flattened with '/', "step" and
  // non-numbers are skipped). Flushed, so a running TensorBoard sees it.
  absl::Status WriteScalars(int64_t step, const nlohmann::json& metrics_line);

  // A SessionLog START at `step`: TensorBoard then drops the events of earlier
  // files with step >= `step`, which a resumed run re-does.
  absl::Status WriteSessionStart(int64_t step);

  const std::string& path() const { return path_; }

 private:
  TensorBoardWriter(std::string path, std::FILE* file) : path_(std::move(path)), file_(file) {}
  absl::Status WriteRecord(const std::string& event);

  std::string path_;
  std::FILE* file_;
};

}  // namespace lockstep::report
