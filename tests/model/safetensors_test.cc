#include "model/safetensors.h"

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/model/temp_dir.h"

namespace lockstep {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using testing_util::ScopedTempDir;

// A tensor whose bytes are arbitrary bit patterns (NaN payloads, subnormals,
// infinities included): the file must carry them untouched.
Tensor RandomBitsTensor(DType dtype, std::vector<int64_t> shape, uint32_t seed) {
  Tensor t(dtype, std::move(shape));
  std::mt19937 gen(seed);
  auto* bytes = static_cast<unsigned char*>(t.data());
  for (size_t i = 0; i < t.nbytes(); ++i) bytes[i] = static_cast<unsigned char>(gen());
  return t;
}

std::string ReadFileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void WriteFileBytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// A safetensors file from a header text and a data section, for crafting bad files.
std::string RawFile(const std::string& header, const std::string& data, int64_t declared_len = -1) {
  const uint64_t len = declared_len >= 0 ? static_cast<uint64_t>(declared_len) : header.size();
  std::string out(8, '\0');
  std::memcpy(out.data(), &len, 8);  // little-endian host
  return out + header + data;
}

class SafetensorsRoundTrip : public ::testing::TestWithParam<DType> {};

TEST_P(SafetensorsRoundTrip, BytesExact) {
  const DType dtype = GetParam();
  ScopedTempDir dir;
  const std::string path = dir.File("t.safetensors");
  // Odd shapes, a scalar and an empty tensor on purpose.
  std::vector<std::pair<std::string, Tensor>> owned;
  owned.emplace_back("z.last.weight", RandomBitsTensor(dtype, {19, 7}, 1));
  owned.emplace_back("a.first", RandomBitsTensor(dtype, {3}, 2));
  owned.emplace_back("scalar", RandomBitsTensor(dtype, {}, 3));
  owned.emplace_back("empty", Tensor(dtype, {0, 5}));
  owned.emplace_back("cube", RandomBitsTensor(dtype, {2, 3, 5}, 4));
  std::vector<std::pair<std::string, const Tensor*>> tensors;
  for (const auto& [name, t] : owned) tensors.emplace_back(name, &t);

  ASSERT_TRUE(WriteSafetensors(path, tensors, {{"format", "pt"}, {"note", "hi"}}).ok());
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));

  absl::StatusOr<SafetensorsFile> file = ReadSafetensors(path);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->metadata.size(), 2u);
  EXPECT_EQ(file->metadata.at("note"), "hi");
  ASSERT_EQ(file->tensors.size(), owned.size());
  for (const auto& [name, t] : owned) {
    SCOPED_TRACE(name);
    const Tensor& got = file->tensors.at(name);
    EXPECT_EQ(got.dtype(), dtype);
    EXPECT_EQ(got.shape(), t.shape());
    ASSERT_EQ(got.nbytes(), t.nbytes());
    EXPECT_EQ(std::memcmp(got.data(), t.data(), t.nbytes()), 0);
  }

  // Layout: header length a multiple of 8, data in the given order, back to back.
  const std::string bytes = ReadFileBytes(path);
  uint64_t header_len = 0;
  std::memcpy(&header_len, bytes.data(), 8);
  EXPECT_EQ(header_len % 8, 0u);
  const nlohmann::ordered_json header = nlohmann::ordered_json::parse(bytes.substr(8, header_len));
  uint64_t offset = 0;
  for (const auto& [name, t] : owned) {
    const auto& offsets = header.at(name).at("data_offsets");
    EXPECT_EQ(offsets[0].get<uint64_t>(), offset) << name;
    offset += t.nbytes();
    EXPECT_EQ(offsets[1].get<uint64_t>(), offset) << name;
  }
  EXPECT_EQ(bytes.size(), 8 + header_len + offset);
}

INSTANTIATE_TEST_SUITE_P(AllDTypes, SafetensorsRoundTrip,
                         ::testing::Values(DType::kF32, DType::kF16, DType::kBF16),
                         [](const auto& info) { return std::string(DTypeName(info.param)); });

TEST(SafetensorsWriteTest, OverwritesAndRejectsBadNames) {
  ScopedTempDir dir;
  const std::string path = dir.File("w.safetensors");
  Tensor a = RandomBitsTensor(DType::kF32, {4}, 5);
  ASSERT_TRUE(WriteSafetensors(path, {{"a", &a}}).ok());
  Tensor b = RandomBitsTensor(DType::kBF16, {2, 2}, 6);
  ASSERT_TRUE(WriteSafetensors(path, {{"b", &b}}).ok());
  absl::StatusOr<SafetensorsFile> file = ReadSafetensors(path);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->tensors.count("a"), 0u);
  EXPECT_EQ(file->tensors.count("b"), 1u);
  EXPECT_TRUE(file->metadata.empty());

  EXPECT_THAT(WriteSafetensors(path, {{"a", &a}, {"a", &b}}).message(),
              AllOf(HasSubstr(path), HasSubstr("'a'"), HasSubstr("twice")));
  EXPECT_THAT(WriteSafetensors(path, {{"__metadata__", &a}}).message(), HasSubstr("__metadata__"));
  EXPECT_THAT(WriteSafetensors(path, {{"n", nullptr}}).message(), HasSubstr("'n'"));
  EXPECT_FALSE(WriteSafetensors(dir.File("no/such/dir/x.safetensors"), {{"a", &a}}).ok());
}

// ---- Bad files: each must be rejected with the file and (where there is
// one) the tensor named. ----

class SafetensorsBadFileTest : public ::testing::Test {
 protected:
  // Writes `bytes` and returns the read error, which must exist.
  std::string ReadError(const std::string& bytes) {
    WriteFileBytes(path_, bytes);
    absl::StatusOr<SafetensorsFile> file = ReadSafetensors(path_);
    EXPECT_FALSE(file.ok()) << "accepted a bad file";
    return file.ok() ? "" : std::string(file.status().message());
  }
  ScopedTempDir dir_;
  std::string path_ = dir_.File("bad.safetensors");
};

TEST_F(SafetensorsBadFileTest, Truncated) {
  Tensor a = RandomBitsTensor(DType::kF16, {8, 8}, 7);
  Tensor b = RandomBitsTensor(DType::kF16, {8, 8}, 8);
  ASSERT_TRUE(WriteSafetensors(path_, {{"layer.a", &a}, {"layer.b", &b}}).ok());
  std::string bytes = ReadFileBytes(path_);
  bytes.resize(bytes.size() - 3);
  EXPECT_THAT(ReadError(bytes),
              AllOf(HasSubstr(path_), HasSubstr("'layer.b'"), HasSubstr("truncated")));
}

TEST_F(SafetensorsBadFileTest, ShorterThanTheLengthField) {
  EXPECT_THAT(ReadError("abc"), AllOf(HasSubstr(path_), HasSubstr("3 bytes")));
  EXPECT_THAT(ReadError(""), AllOf(HasSubstr(path_), HasSubstr("0 bytes")));
}

TEST_F(SafetensorsBadFileTest, HeaderLengthBeyondTheFile) {
  const std::string header = R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
  EXPECT_THAT(ReadError(RawFile(header, "abcd", 1000)),
              AllOf(HasSubstr(path_), HasSubstr("header length 1000")));
  // Far beyond anything: must fail cleanly, not try to allocate it.
  EXPECT_THAT(ReadError(RawFile(header, "abcd", INT64_MAX)),
              AllOf(HasSubstr(path_), HasSubstr("header length")));
}

TEST_F(SafetensorsBadFileTest, UnknownDType) {
  const std::string header = R"({"ok":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                             R"("ids":{"dtype":"I64","shape":[2],"data_offsets":[4,20]}})";
  EXPECT_THAT(ReadError(RawFile(header, std::string(20, 'x'))),
              AllOf(HasSubstr(path_), HasSubstr("'ids'"), HasSubstr("I64")));
}

TEST_F(SafetensorsBadFileTest, ShapeAndByteCountDisagree) {
  const std::string header = R"({"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}})";
  EXPECT_THAT(
      ReadError(RawFile(header, std::string(20, 'x'))),
      AllOf(HasSubstr(path_), HasSubstr("'w'"), HasSubstr("needs 24 bytes"), HasSubstr("span 20")));
}

TEST_F(SafetensorsBadFileTest, OverlappingOffsets) {
  const std::string header = R"({"p":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                             R"("q":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})";
  EXPECT_THAT(ReadError(RawFile(header, std::string(12, 'x'))),
              AllOf(HasSubstr(path_), HasSubstr("'q'"), HasSubstr("overlap"), HasSubstr("'p'")));
}

TEST_F(SafetensorsBadFileTest, OffsetsReversedOrOutOfRangeOrLeavingGaps) {
  EXPECT_THAT(
      ReadError(RawFile(R"({"r":{"dtype":"F16","shape":[0],"data_offsets":[4,2]}})", "abcd")),
      AllOf(HasSubstr(path_), HasSubstr("'r'"), HasSubstr("end before")));
  EXPECT_THAT(
      ReadError(RawFile(R"({"r":{"dtype":"F16","shape":[4],"data_offsets":[0,8]}})", "abcd")),
      AllOf(HasSubstr(path_), HasSubstr("'r'"), HasSubstr("past the end")));
  EXPECT_THAT(
      ReadError(RawFile(R"({"g":{"dtype":"F16","shape":[1],"data_offsets":[2,4]}})", "abcd")),
      AllOf(HasSubstr(path_), HasSubstr("'g'"), HasSubstr("unused")));
  EXPECT_THAT(
      ReadError(RawFile(R"({"g":{"dtype":"F16","shape":[1],"data_offsets":[0,2]}})", "abcd")),
      AllOf(HasSubstr(path_), HasSubstr("cover only 2")));
  EXPECT_THAT(ReadError(RawFile(R"({"g":{"dtype":"F16","shape":[1],"data_offsets":[0]}})", "ab")),
              AllOf(HasSubstr(path_), HasSubstr("'g'"), HasSubstr("data_offsets")));
}

TEST_F(SafetensorsBadFileTest, GarbageHeader) {
  EXPECT_THAT(ReadError(RawFile("{not json at all", "")),
              AllOf(HasSubstr(path_), HasSubstr("not valid JSON")));
  EXPECT_THAT(ReadError(RawFile("[1, 2, 3]", "")), AllOf(HasSubstr(path_), HasSubstr("object")));
  EXPECT_THAT(ReadError(RawFile(R"({"t": 5})", "")), AllOf(HasSubstr(path_), HasSubstr("'t'")));
  EXPECT_THAT(ReadError(RawFile(R"({"t":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}})", "")),
              AllOf(HasSubstr("'t'"), HasSubstr("shape")));
  EXPECT_THAT(ReadError(RawFile(R"({"__metadata__":{"k":1}})", "")),
              AllOf(HasSubstr(path_), HasSubstr("__metadata__")));
}

TEST_F(SafetensorsBadFileTest, MissingFile) {
  absl::StatusOr<SafetensorsFile> file = ReadSafetensors(dir_.File("absent.safetensors"));
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(file.status().message(), HasSubstr("absent.safetensors"));
}

TEST_F(SafetensorsBadFileTest, HandWrittenValidFileIsAccepted) {
  // Sanity check of RawFile itself: a well-formed hand-made file reads back.
  const std::string header = R"({"v":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]}})";
  WriteFileBytes(path_, RawFile(header, std::string("\x80\x3f\x00\x40", 4)));
  absl::StatusOr<SafetensorsFile> file = ReadSafetensors(path_);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->tensors.at("v").GetFloat(0), 1.0f);
  EXPECT_EQ(file->tensors.at("v").GetFloat(1), 2.0f);
}

}  // namespace
}  // namespace lockstep
