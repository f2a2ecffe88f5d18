// The quick start's base model (data/models/arithmetic-base) is something
// lockstep trained itself: rerunning the command in its README.md must give
// the shipped bytes exactly. (About a minute on 2 cores.)
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "gtest/gtest.h"

namespace lockstep {
namespace {

namespace fs = std::filesystem;

std::string ReadBytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(BaseModelReproduction, PretrainCommandRebuildsTheShippedModelBitForBit) {
  const fs::path shipped = fs::path(LOCKSTEP_SOURCE_DIR) / "data/models/arithmetic-base";
  const fs::path run = fs::temp_directory_path() / ("lockstep_base_repro_" + std::to_string(getpid()));
  fs::remove_all(run);
  const std::string command = std::string("cd ") + LOCKSTEP_SOURCE_DIR + " && " + LOCKSTEP_BINARY_DIR +
                              "/bin/lockstep pretrain configs/pretrain-arithmetic.toml"
                              " --set train.steps=450 --out " + run.string() + " > " +
                              run.string() + ".log 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0) << ReadBytes(run.string() + ".log");
  for (const char* file : {"config.json", "model.safetensors"}) {
    const std::string rebuilt = ReadBytes(run / "final" / file);
    ASSERT_FALSE(rebuilt.empty()) << file;
    EXPECT_TRUE(rebuilt == ReadBytes(shipped / file)) << file << " differs from the shipped one";
  }
  fs::remove_all(run);
  fs::remove(run.string() + ".log");
}

}  // namespace
}  // namespace lockstep
