// The CPU backend's memory report: /proc/meminfo parsing on fixed text, and the live
// numbers being sane (free <= total, both > 0).
#include "numerics/cpu/host_memory.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "numerics/cpu/cpu_backend.h"

namespace lockstep::cpu {
namespace {

using ::testing::HasSubstr;

TEST(HostMemoryTest, ParsesMemTotalAndMemAvailable) {
  const char* text =
      "MemTotal:       24576000 kB\n"
      "MemFree:         1000000 kB\n"
      "MemAvailable:   12288000 kB\n"
      "Buffers:          200000 kB\n";
  auto info = ParseProcMeminfo(text);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->total_bytes, int64_t{24576000} * 1024);
  EXPECT_EQ(info->free_bytes, int64_t{12288000} * 1024);  // MemAvailable, not MemFree
}

TEST(HostMemoryTest, MissingOrMalformedFieldsAreNamed) {
  auto no_available = ParseProcMeminfo("MemTotal: 100 kB\nMemFree: 50 kB\n");
  ASSERT_FALSE(no_available.ok());
  EXPECT_THAT(no_available.status().message(), HasSubstr("MemAvailable"));
  auto bad_total = ParseProcMeminfo("MemTotal: lots kB\nMemAvailable: 50 kB\n");
  ASSERT_FALSE(bad_total.ok());
  EXPECT_THAT(bad_total.status().message(), HasSubstr("MemTotal"));
  EXPECT_FALSE(ParseProcMeminfo("MemTotal: 100 MB\nMemAvailable: 50 kB\n").ok());
}

TEST(HostMemoryTest, CpuBackendReportsSaneNumbers) {
  auto info = ProcessCpuBackend().MemoryInfo();
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_GT(info->total_bytes, 0);
  EXPECT_GT(info->free_bytes, 0);
  EXPECT_LE(info->free_bytes, info->total_bytes);
}

}  // namespace
}  // namespace lockstep::cpu
