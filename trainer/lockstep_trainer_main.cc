// `lockstep-trainer`: loads and saves trainer checkpoints.
//   lockstep-trainer inspect CKPT
//       step, dtype, loss scale and an xxHash64 of every master tensor, as JSON
//   lockstep-trainer export CKPT --out DIR [--dtype bf16|fp16|fp32]
//       the FP32 masters rounded to DTYPE, as an HF-layout model directory
//   lockstep-trainer resave CKPT --out DIR
//       load and save again; the bytes equal the input's (a round-trip check)
// (The trainer process that serves a GRPO job over ZeroMQ grows from here.)
#include <cstdio>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "trainer/trainer.h"
#include "xxhash.h"

namespace {

using lockstep::DType;
using lockstep::trainer::Trainer;
using lockstep::trainer::TrainerConfig;

constexpr char kUsage[] =
    "usage: lockstep-trainer inspect CKPT\n"
    "       lockstep-trainer export CKPT --out DIR [--dtype bf16|fp16|fp32]\n"
    "       lockstep-trainer resave CKPT --out DIR\n";

int Fail(const std::string& message) {
  std::fprintf(stderr, "lockstep-trainer: %s\n", message.c_str());
  return 1;
}

// The checkpoint's own dtype, read from trainer_state.json, unless given.
std::string CheckpointDType(const std::string& dir) {
  FILE* f = std::fopen((dir + "/trainer_state.json").c_str(), "rb");
  if (f == nullptr) return "bf16";
  std::string text;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) text.append(buf, n);
  std::fclose(f);
  auto j = nlohmann::json::parse(text, nullptr, false);
  return j.is_discarded() ? "bf16" : j.value("dtype", "bf16");
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() < 2) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  const std::string command = args[0], ckpt = args[1];
  std::string out, dtype_name;
  for (size_t i = 2; i < args.size(); ++i) {
    if (args[i] == "--out" && i + 1 < args.size()) {
      out = args[++i];
    } else if (args[i] == "--dtype" && i + 1 < args.size()) {
      dtype_name = args[++i];
    } else {
      std::fprintf(stderr, "lockstep-trainer: unexpected argument '%s'\n%s", args[i].c_str(), kUsage);
      return 2;
    }
  }
  const std::string ckpt_dtype_name = CheckpointDType(ckpt);
  auto ckpt_dtype = lockstep::ParseDType(ckpt_dtype_name);
  if (!ckpt_dtype.ok()) return Fail(std::string(ckpt_dtype.status().message()));
  TrainerConfig config;
  config.dtype = *ckpt_dtype;
  nlohmann::json user_state;
  auto trainer = Trainer::LoadCheckpoint(ckpt, config, &user_state);
  if (!trainer.ok()) return Fail(std::string(trainer.status().message()));

  if (command == "inspect") {
    nlohmann::json tensors = nlohmann::json::object();
    for (const auto& p : (*trainer)->parameters()) {
      tensors[p.name] = {{"numel", p.master.size()},
                         {"xxh64_master", XXH64(p.master.data(), p.master.size() * 4, 0)}};
    }
    const nlohmann::json info = {{"checkpoint", ckpt},
                                 {"optimizer_step", (*trainer)->step()},
                                 {"dtype", ckpt_dtype_name},
                                 {"loss_scale", (*trainer)->loss_scale()},
                                 {"user_state", user_state},
                                 {"tensors", tensors}};
    std::printf("%s\n", info.dump(2).c_str());
    return 0;
  }
  if (out.empty()) return Fail(command + " needs --out DIR");
  if (command == "export") {
    auto dtype = lockstep::ParseDType(dtype_name.empty() ? ckpt_dtype_name : dtype_name);
    if (!dtype.ok()) return Fail(std::string(dtype.status().message()));
    auto weights = lockstep::AllocateWeights((*trainer)->weights().config, *dtype);
    if (!weights.ok()) return Fail(std::string(weights.status().message()));
    auto named = weights->MutableNamedTensors();
    const auto& params = (*trainer)->parameters();
    for (size_t i = 0; i < named.size(); ++i) {
      for (int64_t j = 0; j < named[i].second->numel(); ++j) {
        named[i].second->SetFloat(j, params[i].master[j]);
      }
    }
    if (auto s = lockstep::SaveModelDir(*weights, out); !s.ok()) {
      return Fail(std::string(s.message()));
    }
    std::printf("exported %s (%s) to %s\n", ckpt.c_str(),
                std::string(lockstep::DTypeName(*dtype)).c_str(), out.c_str());
    return 0;
  }
  if (command == "resave") {
    if (auto s = (*trainer)->SaveCheckpoint(out, user_state); !s.ok()) {
      return Fail(std::string(s.message()));
    }
    std::printf("resaved %s to %s\n", ckpt.c_str(), out.c_str());
    return 0;
  }
  std::fprintf(stderr, "lockstep-trainer: unknown command '%s'\n%s", command.c_str(), kUsage);
  return 2;
}
