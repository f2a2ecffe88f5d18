// rollout.kv_memory_fraction in a GRPO config: 0 (kv_blocks) on cpu, the documented default
// on cuda unless kv_blocks is given, and out-of-range or conflicting settings refused with
// the key named.
#include <string>

#include "config/config.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "jobs/grpo_options.h"

namespace lockstep::jobs {
namespace {

using ::testing::HasSubstr;

absl::StatusOr<GrpoOptions> Read(const std::string& rollout) {
  auto c = config::Config::FromString("[rollout]\nmax_new_tokens = 4\n" + rollout, "grpo.toml");
  EXPECT_TRUE(c.ok()) << c.status();
  return ReadGrpoOptions(*c);
}

TEST(GrpoKvOptionsTest, DefaultsByDevice) {
  auto cpu = Read("");
  ASSERT_TRUE(cpu.ok()) << cpu.status();
  EXPECT_EQ(cpu->rollout.kv_memory_fraction, 0.0);
  EXPECT_EQ(cpu->rollout.kv_blocks, 512);
  auto cuda = Read("device = \"cuda\"\n");
  ASSERT_TRUE(cuda.ok()) << cuda.status();
  EXPECT_EQ(cuda->rollout.kv_memory_fraction, kDefaultCudaKvMemoryFraction);
  auto cuda_blocks = Read("device = \"cuda\"\nkv_blocks = 64\n");
  ASSERT_TRUE(cuda_blocks.ok()) << cuda_blocks.status();
  EXPECT_EQ(cuda_blocks->rollout.kv_memory_fraction, 0.0);
  EXPECT_EQ(cuda_blocks->rollout.kv_blocks, 64);
  auto explicit_fraction = Read("kv_memory_fraction = 0.25\n");
  ASSERT_TRUE(explicit_fraction.ok()) << explicit_fraction.status();
  EXPECT_EQ(explicit_fraction->rollout.kv_memory_fraction, 0.25);
  auto cuda_zero = Read("device = \"cuda\"\nkv_memory_fraction = 0.0\n");
  ASSERT_TRUE(cuda_zero.ok()) << cuda_zero.status();
  EXPECT_EQ(cuda_zero->rollout.kv_memory_fraction, 0.0);
}

// The job's top-level `device` places the engines unless rollout.device says otherwise.
TEST(GrpoKvOptionsTest, TopLevelDevicePlacesTheEngines) {
  auto read = [](const std::string& text) {
    auto c = config::Config::FromString(text, "grpo.toml");
    EXPECT_TRUE(c.ok()) << c.status();
    return ReadGrpoOptions(*c);
  };
  auto job = read("device = \"cuda\"\n[rollout]\nmax_new_tokens = 4\n");
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->rollout.device, "cuda");
  EXPECT_EQ(job->rollout.kv_memory_fraction, kDefaultCudaKvMemoryFraction);
  auto overridden = read("device = \"cuda\"\n[rollout]\ndevice = \"cpu\"\n");
  ASSERT_TRUE(overridden.ok()) << overridden.status();
  EXPECT_EQ(overridden->rollout.device, "cpu");
  auto bad = read("device = \"tpu\"\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("device"));
  EXPECT_THAT(bad.status().message(), HasSubstr("cpu, cuda"));
}

TEST(GrpoKvOptionsTest, BadValuesNameTheKey) {
  for (const char* bad : {"kv_memory_fraction = 1.0\n", "kv_memory_fraction = -0.2\n",
                          "kv_memory_fraction = 3\n"}) {
    auto read = Read(bad);
    ASSERT_FALSE(read.ok()) << bad;
    EXPECT_THAT(read.status().message(), HasSubstr("rollout.kv_memory_fraction")) << bad;
  }
  auto both = Read("kv_blocks = 64\nkv_memory_fraction = 0.5\n");
  ASSERT_FALSE(both.ok());
  EXPECT_THAT(both.status().message(), HasSubstr("set one"));
}

}  // namespace
}  // namespace lockstep::jobs
