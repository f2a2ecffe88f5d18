// TensorBoard event files (report/tensorboard_events.h): TFRecord framing and
// hand-encoded Event / Summary protobufs (tensorflow/core/util/event.proto,
// tensorflow/core/framework/summary.proto field numbers).
#include "report/tensorboard_events.h"

#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "report/crc32c.h"

namespace lockstep::report {
namespace {

namespace fs = std::filesystem;

// Protobuf wire types.
constexpr int kVarint = 0;
constexpr int kFixed64 = 1;
constexpr int kLengthDelimited = 2;
constexpr int kFixed32 = 5;

void AppendVarint(uint64_t value, std::string* out) {
  while (value >= 0x80) {
    out->push_back(static_cast<char>((value & 0x7F) | 0x80));
    value >>= 7;
  }
  out->push_back(static_cast<char>(value));
}

void AppendTag(int field, int wire_type, std::string* out) {
  AppendVarint(static_cast<uint64_t>(field) << 3 | static_cast<uint64_t>(wire_type), out);
}

// Little-endian, as protobuf fixed fields and TFRecord lengths are.
template <typename T>
void AppendLittleEndian(T value, std::string* out) {
  for (size_t i = 0; i < sizeof(T); ++i) out->push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
}

void AppendBytesField(int field, std::string_view bytes, std::string* out) {
  AppendTag(field, kLengthDelimited, out);
  AppendVarint(bytes.size(), out);
  out->append(bytes);
}

// Event fields: 1 wall_time (double), 2 step (int64), 3 file_version (string),
// 5 summary (Summary), 6 session_log (SessionLog).
std::string EventHeader(int64_t step) {
  std::string event;
  const double wall_time =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  uint64_t wall_bits = 0;
  std::memcpy(&wall_bits, &wall_time, sizeof(wall_bits));
  AppendTag(1, kFixed64, &event);
  AppendLittleEndian(wall_bits, &event);
  if (step != 0) {
    AppendTag(2, kVarint, &event);
    AppendVarint(static_cast<uint64_t>(step), &event);
  }
  return event;
}

// Summary.Value fields: 1 tag (string), 2 simple_value (float).
std::string ScalarValue(const std::string& tag, float value) {
  std::string encoded;
  AppendBytesField(1, tag, &encoded);
  uint32_t bits = 0;
  std::memcpy(&bits, &value, sizeof(bits));
  AppendTag(2, kFixed32, &encoded);
  AppendLittleEndian(bits, &encoded);
  return encoded;
}

// Summary field 1: repeated Value. Appends one per numeric leaf of `json`.
void AppendScalars(const std::string& prefix, const nlohmann::json& json, std::string* summary) {
  for (const auto& [key, value] : json.items()) {
    const std::string tag = prefix.empty() ? key : prefix + "/" + key;
    if (value.is_object()) {
      AppendScalars(tag, value, summary);
    } else if (value.is_number() && tag != "step") {
      AppendBytesField(1, ScalarValue(tag, value.get<float>()), summary);
    }
  }
}

std::string HostName() {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0') return "localhost";
  return host;
}

}  // namespace

absl::StatusOr<std::unique_ptr<TensorBoardWriter>> TensorBoardWriter::Open(
    const std::string& run_dir) {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const std::string base = (fs::path(run_dir) / absl::StrCat("events.out.tfevents.",
                                                              std::chrono::duration_cast<std::chrono::seconds>(now).count(),
                                                              ".", HostName()))
                               .string();
  std::string path = base;
  std::error_code ec;
  for (int suffix = 1; fs::exists(path, ec); ++suffix) path = absl::StrCat(base, ".", suffix);
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) {
    return absl::PermissionDeniedError(absl::StrCat(
        "cannot create the TensorBoard event file ", path, ": ", std::strerror(errno),
        "; the run directory must exist and be writable"));
  }
  std::unique_ptr<TensorBoardWriter> writer(new TensorBoardWriter(path, file));
  std::string event = EventHeader(0);
  AppendBytesField(3, "brain.Event:2", &event);
  if (absl::Status s = writer->WriteRecord(event); !s.ok()) return s;
  return writer;
}

TensorBoardWriter::~TensorBoardWriter() { std::fclose(file_); }

absl::Status TensorBoardWriter::WriteScalars(int64_t step, const nlohmann::json& metrics_line) {
  std::string summary;
  AppendScalars("", metrics_line, &summary);
  std::string event = EventHeader(step);
  AppendBytesField(5, summary, &event);
  return WriteRecord(event);
}

absl::Status TensorBoardWriter::WriteSessionStart(int64_t step) {
  std::string session_log;  // SessionLog field 1: status, START = 1
  AppendTag(1, kVarint, &session_log);
  AppendVarint(1, &session_log);
  std::string event = EventHeader(step);
  AppendBytesField(6, session_log, &event);
  return WriteRecord(event);
}

absl::Status TensorBoardWriter::WriteRecord(const std::string& event) {
  std::string record;
  std::string length;
  AppendLittleEndian(static_cast<uint64_t>(event.size()), &length);
  record.append(length);
  AppendLittleEndian(MaskedCrc32c(length), &record);
  record.append(event);
  AppendLittleEndian(MaskedCrc32c(event), &record);
  if (std::fwrite(record.data(), 1, record.size(), file_) != record.size() ||
      std::fflush(file_) != 0) {
    return absl::DataLossError(absl::StrCat("cannot write the TensorBoard event file ", path_, ": ",
                                            std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace lockstep::report
