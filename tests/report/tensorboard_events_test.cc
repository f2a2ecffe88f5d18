// TensorBoard event files read back with a small reader of the format written
// here from the TFRecord / event.proto definitions (not from the writer): every
// record's length and masked CRC-32C check out, the first event is
// file_version "brain.Event:2", and each scalar comes back with its tag and step.
#include "report/tensorboard_events.h"

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "report/crc32c.h"

namespace lockstep::report {
namespace {

namespace fs = std::filesystem;

struct Event {
  double wall_time = 0.0;
  int64_t step = 0;
  std::string file_version;
  std::map<std::string, float> scalars;
  bool session_start = false;
};

// A protobuf reader of just the wire types the event files use.
class ProtoReader {
 public:
  explicit ProtoReader(std::string_view bytes) : bytes_(bytes) {}
  bool done() const { return pos_ >= bytes_.size(); }
  uint64_t Varint() {
    uint64_t value = 0;
    for (int shift = 0; pos_ < bytes_.size(); shift += 7) {
      const auto byte = static_cast<unsigned char>(bytes_[pos_++]);
      value |= static_cast<uint64_t>(byte & 0x7F) << shift;
      if ((byte & 0x80) == 0) return value;
    }
    ADD_FAILURE() << "truncated varint";
    return value;
  }
  template <typename T>
  T Fixed() {
    T value{};
    EXPECT_LE(pos_ + sizeof(T), bytes_.size());
    std::memcpy(&value, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return value;
  }
  std::string_view Bytes() {
    const size_t length = Varint();
    EXPECT_LE(pos_ + length, bytes_.size());
    std::string_view out = bytes_.substr(pos_, length);
    pos_ += length;
    return out;
  }

 private:
  std::string_view bytes_;
  size_t pos_ = 0;
};

Event DecodeEvent(std::string_view bytes) {
  Event event;
  ProtoReader reader(bytes);
  while (!reader.done()) {
    const uint64_t tag = reader.Varint();
    switch (tag) {
      case (1 << 3) | 1: event.wall_time = reader.Fixed<double>(); break;
      case (2 << 3) | 0: event.step = static_cast<int64_t>(reader.Varint()); break;
      case (3 << 3) | 2: event.file_version = std::string(reader.Bytes()); break;
      case (5 << 3) | 2: {
        ProtoReader summary(reader.Bytes());
        while (!summary.done()) {
          EXPECT_EQ(summary.Varint(), (1u << 3) | 2);  // Summary.value
          ProtoReader value(summary.Bytes());
          std::string name;
          float scalar = 0;
          while (!value.done()) {
            const uint64_t value_tag = value.Varint();
            if (value_tag == ((1 << 3) | 2)) {
              name = std::string(value.Bytes());
            } else {
              EXPECT_EQ(value_tag, (2u << 3) | 5);  // simple_value, fixed32
              scalar = value.Fixed<float>();
            }
          }
          event.scalars[name] = scalar;
        }
        break;
      }
      case (6 << 3) | 2: {
        ProtoReader log(reader.Bytes());
        EXPECT_EQ(log.Varint(), (1u << 3) | 0);
        event.session_start = log.Varint() == 1;
        break;
      }
      default: ADD_FAILURE() << "unexpected tag " << tag; return event;
    }
  }
  return event;
}

uint32_t Masked(std::string_view bytes) {
  const uint32_t crc = Crc32c(bytes);
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

// Every record: uint64 length, masked CRC of those 8 bytes, data, masked CRC of data.
std::vector<Event> ReadEventFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  const std::string bytes(std::istreambuf_iterator<char>(in), {});
  std::vector<Event> events;
  size_t pos = 0;
  while (pos < bytes.size()) {
    if (pos + 12 > bytes.size()) {
      ADD_FAILURE() << "truncated record header at " << pos;
      break;
    }
    uint64_t length = 0;
    uint32_t length_crc = 0, data_crc = 0;
    std::memcpy(&length, bytes.data() + pos, 8);
    std::memcpy(&length_crc, bytes.data() + pos + 8, 4);
    EXPECT_EQ(length_crc, Masked(std::string_view(bytes).substr(pos, 8))) << "at " << pos;
    if (pos + 12 + length + 4 > bytes.size()) {
      ADD_FAILURE() << "truncated record at " << pos;
      break;
    }
    const std::string_view data = std::string_view(bytes).substr(pos + 12, length);
    std::memcpy(&data_crc, bytes.data() + pos + 12 + length, 4);
    EXPECT_EQ(data_crc, Masked(data)) << "at " << pos;
    events.push_back(DecodeEvent(data));
    pos += 12 + length + 4;
  }
  return events;
}

TEST(Crc32c, StandardCheckValues) {
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(Crc32c(""), 0u);
  EXPECT_EQ(Crc32c(std::string(32, '\0')), 0x8A9136AAu);  // RFC 3720 B.4
}

class TensorBoardWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / ("tb_test_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(TensorBoardWriterTest, ScalarsReadBackWithValidFraming) {
  std::string path;
  {
    auto writer = TensorBoardWriter::Open(dir_.string());
    ASSERT_TRUE(writer.ok()) << writer.status();
    path = (*writer)->path();
    ASSERT_TRUE((*writer)->WriteScalars(1, {{"step", 1}, {"train/loss", 4.5}, {"optim/lr", 1e-3},
                                            {"note", "text"}, {"reward", {{"mean", 0.25}}}})
                    .ok());
    ASSERT_TRUE((*writer)->WriteScalars(300, {{"step", 300}, {"train/loss", 1.25}}).ok());
    ASSERT_TRUE((*writer)->WriteSessionStart(300).ok());
  }
  EXPECT_EQ(fs::path(path).parent_path(), dir_);
  EXPECT_EQ(fs::path(path).filename().string().rfind("events.out.tfevents.", 0), 0u) << path;
  const std::vector<Event> events = ReadEventFile(path);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].file_version, "brain.Event:2");
  EXPECT_GT(events[0].wall_time, 1.6e9);
  EXPECT_EQ(events[1].step, 1);
  const std::map<std::string, float> first = {
      {"train/loss", 4.5f}, {"optim/lr", 1e-3f}, {"reward/mean", 0.25f}};
  EXPECT_EQ(events[1].scalars, first);  // "step" and strings are not scalars
  EXPECT_EQ(events[2].step, 300);
  EXPECT_EQ(events[2].scalars.at("train/loss"), 1.25f);
  EXPECT_TRUE(events[3].session_start);
  EXPECT_EQ(events[3].step, 300);
}

TEST_F(TensorBoardWriterTest, TwoWritersGetTwoFiles) {
  auto a = TensorBoardWriter::Open(dir_.string());
  auto b = TensorBoardWriter::Open(dir_.string());
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE((*a)->path(), (*b)->path());
  EXPECT_EQ(ReadEventFile((*b)->path()).size(), 1u);
}

TEST_F(TensorBoardWriterTest, MissingDirectoryIsNamed) {
  auto writer = TensorBoardWriter::Open((dir_ / "missing").string());
  ASSERT_FALSE(writer.ok());
  EXPECT_NE(writer.status().message().find("missing"), std::string::npos) << writer.status();
}

}  // namespace
}  // namespace lockstep::report
