// `lockstep-trainer`: loads and saves trainer checkpoints.
//   lockstep-trainer inspect CKPT
//       step, dtype, loss scale, the parameter total and, per master tensor, its
//       shape, element count and xxHash64 (16 hex digits: jq keeps strings exact), as JSON
//   lockstep-trainer export CKPT --out DIR [--dtype bf16|fp16|fp32] [--overwrite]
//       the FP32 masters rounded to DTYPE, as an HF-layout model directory
//   lockstep-trainer resave CKPT --out DIR [--overwrite]
//       load and save again; the bytes equal the input's (a round-trip check)
//   lockstep-trainer grpo RUN --rollout ENDPOINT... [--sandbox ENDPOINT] [--resume]
//       the trainer process of a GRPO job (jobs/grpo_job.h), as `lockstep grpo`
//       starts it: reads RUN/config.toml; SIGINT/SIGTERM checkpoint and exit 130
// CLI11 parses the command line: --help at any level exits 0, bad usage exits 2.
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <cctype>
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "config/file_io.h"
#include "jobs/grpo_job.h"
#include "nlohmann/json.hpp"
#include "trainer/trainer.h"
#include "xxhash.h"

namespace {

using lockstep::DType;
using lockstep::trainer::Trainer;
using lockstep::trainer::TrainerConfig;

struct Flags {
  std::string checkpoint;
  std::string out;
  std::string dtype;  // export: empty = the checkpoint's own
  bool overwrite = false;
  // grpo
  std::string run_dir;
  std::vector<std::string> rollout_endpoints;
  std::string sandbox_endpoint;
  bool resume = false;
};

// Library messages may start with the C++ function that failed
// ("SaveModelDir: cannot create ..."); a user needs what failed, not where.
std::string WithoutFunctionName(const std::string& message) {
  size_t end = 0;
  while (end < message.size() && std::isalnum(static_cast<unsigned char>(message[end]))) ++end;
  const bool camel_case = end > 1 && std::isupper(static_cast<unsigned char>(message[0])) &&
                          std::any_of(message.begin() + 1, message.begin() + end,
                                      [](char c) { return std::isupper(static_cast<unsigned char>(c)); });
  if (!camel_case) return message;
  if (message.compare(end, 2, ": ") == 0) return message.substr(end + 2);
  if (message.compare(end, 1, "(") == 0) {  // "SaveModelDir('dir'): ..."
    const size_t colon = message.find("): ", end);
    if (colon != std::string::npos) return message.substr(colon + 3);
  }
  return message;
}

int Fail(const std::string& message) {
  std::fprintf(stderr, "lockstep-trainer: %s\n", WithoutFunctionName(message).c_str());
  return 1;
}

// The checkpoint's own dtype, read from trainer_state.json (bf16 if absent).
std::string CheckpointDType(const std::string& dir) {
  absl::StatusOr<std::string> text = lockstep::config::ReadFile(dir + "/trainer_state.json");
  if (!text.ok()) return "bf16";
  auto j = nlohmann::json::parse(*text, nullptr, false);
  return j.is_discarded() ? "bf16" : j.value("dtype", "bf16");
}

struct Loaded {
  std::unique_ptr<Trainer> trainer;
  std::string dtype_name;
  nlohmann::json user_state;
};

absl::StatusOr<Loaded> Load(const std::string& checkpoint) {
  Loaded loaded;
  loaded.dtype_name = CheckpointDType(checkpoint);
  auto dtype = lockstep::ParseDType(loaded.dtype_name);
  if (!dtype.ok()) return dtype.status();
  TrainerConfig config;
  config.dtype = *dtype;
  auto trainer = Trainer::LoadCheckpoint(checkpoint, config, &loaded.user_state);
  if (!trainer.ok()) return trainer.status();
  loaded.trainer = *std::move(trainer);
  return loaded;
}

// An existing non-empty --out is kept unless --overwrite says otherwise.
bool RefuseToOverwrite(const Flags& flags) {
  std::error_code ec;
  if (flags.overwrite || !std::filesystem::exists(flags.out, ec) ||
      std::filesystem::is_empty(flags.out, ec)) {
    return false;
  }
  Fail("--out " + flags.out + " exists and is not empty; choose another --out, or pass " +
       "--overwrite to replace its files");
  return true;
}

// A 64-bit hash as 16 lowercase hex digits: JSON numbers above 2^53 are
// rounded by jq and JavaScript, so a hash is a string.
std::string HexHash(uint64_t hash) {
  char text[17];
  std::snprintf(text, sizeof(text), "%016" PRIx64, hash);
  return text;
}

int Inspect(const Flags& flags) {
  auto loaded = Load(flags.checkpoint);
  if (!loaded.ok()) return Fail(std::string(loaded.status().message()));
  // Parameters are in NamedTensors() order, so the compute copy gives each its shape.
  const auto named = loaded->trainer->weights().NamedTensors();
  const auto& params = loaded->trainer->parameters();
  nlohmann::json tensors = nlohmann::json::object();
  int64_t parameter_total = 0;
  for (size_t i = 0; i < params.size(); ++i) {
    const auto& p = params[i];
    const nlohmann::json shape =
        i < named.size() ? nlohmann::json(named[i].second->shape()) : nlohmann::json::array();
    tensors[p.name] = {{"shape", shape},
                       {"numel", p.master.size()},
                       {"xxh64_master", HexHash(XXH64(p.master.data(), p.master.size() * 4, 0))}};
    parameter_total += static_cast<int64_t>(p.master.size());
  }
  const nlohmann::json info = {{"checkpoint", flags.checkpoint},
                               {"optimizer_step", loaded->trainer->step()},
                               {"dtype", loaded->dtype_name},
                               {"loss_scale", loaded->trainer->loss_scale()},
                               {"parameter_total", parameter_total},
                               {"tensor_count", params.size()},
                               {"user_state", loaded->user_state},
                               {"tensors", tensors}};
  std::printf("%s\n", info.dump(2).c_str());
  return 0;
}

int Export(const Flags& flags) {
  if (RefuseToOverwrite(flags)) return 2;
  auto loaded = Load(flags.checkpoint);
  if (!loaded.ok()) return Fail(std::string(loaded.status().message()));
  auto dtype = lockstep::ParseDType(flags.dtype.empty() ? loaded->dtype_name : flags.dtype);
  if (!dtype.ok()) return Fail(std::string(dtype.status().message()));
  auto weights = lockstep::AllocateWeights(loaded->trainer->weights().config, *dtype);
  if (!weights.ok()) return Fail(std::string(weights.status().message()));
  auto named = weights->MutableNamedTensors();
  const auto& params = loaded->trainer->parameters();
  for (size_t i = 0; i < named.size(); ++i) {
    for (int64_t j = 0; j < named[i].second->numel(); ++j) {
      named[i].second->SetFloat(j, params[i].master[j]);
    }
  }
  if (auto s = lockstep::SaveModelDir(*weights, flags.out); !s.ok()) {
    return Fail(std::string(s.message()));
  }
  std::printf("exported %s (%s) to %s\n", flags.checkpoint.c_str(),
              std::string(lockstep::DTypeName(*dtype)).c_str(), flags.out.c_str());
  return 0;
}

int Resave(const Flags& flags) {
  if (RefuseToOverwrite(flags)) return 2;
  auto loaded = Load(flags.checkpoint);
  if (!loaded.ok()) return Fail(std::string(loaded.status().message()));
  if (auto s = loaded->trainer->SaveCheckpoint(flags.out, loaded->user_state); !s.ok()) {
    return Fail(std::string(s.message()));
  }
  std::printf("resaved %s to %s\n", flags.checkpoint.c_str(), flags.out.c_str());
  return 0;
}

std::atomic<bool> g_stop_requested{false};
void RequestStop(int) { g_stop_requested.store(true); }

// The GRPO trainer process: the run's resolved config, the endpoints the
// driver chose, and a checkpoint on SIGINT/SIGTERM.
int Grpo(const Flags& flags) {
  struct sigaction action {};
  action.sa_handler = RequestStop;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  auto config = lockstep::config::Config::LoadFile(flags.run_dir + "/config.toml");
  if (!config.ok()) return Fail(std::string(config.status().message()));
  auto options = lockstep::jobs::ReadGrpoOptions(*config);
  if (!options.ok()) return Fail(std::string(options.status().message()));
  const lockstep::jobs::GrpoEndpoints endpoints{.rollout = flags.rollout_endpoints,
                                                .sandbox = flags.sandbox_endpoint};
  std::fprintf(stderr, "lockstep-trainer: GRPO trainer pid %d, run %s\n", getpid(),
               flags.run_dir.c_str());
  auto summary = lockstep::jobs::RunGrpoTrainer(*options, flags.run_dir, endpoints, flags.resume,
                                                &g_stop_requested);
  if (!summary.ok()) return Fail(std::string(summary.status().message()));
  return summary->interrupted ? 130 : 0;  // as `lockstep pretrain`: 130 = stopped by a signal
}

// What a subcommand runs: the exit code.
using Command = int (*)(const Flags&);

// Adds one subcommand taking CKPT (and, with `writes`, --out DIR and
// --overwrite); when it is the one parsed, *action becomes `run`.
CLI::App* AddCheckpointCommand(CLI::App& app, const std::string& name,
                               const std::string& description, bool writes, Flags* flags,
                               Command run, Command* action) {
  CLI::App* command = app.add_subcommand(name, description);
  command->add_option("CKPT", flags->checkpoint, "a checkpoint directory (RUN/checkpoints/step_N)")
      ->required();
  if (writes) {
    command->add_option("--out", flags->out, "the directory to write")->type_name("DIR")->required();
    command->add_flag("--overwrite", flags->overwrite, "replace files in a non-empty --out");
  }
  command->callback([run, action] { *action = run; });
  return command;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"lockstep-trainer: the GRPO trainer process; inspect, export and re-save trainer "
               "checkpoints",
               "lockstep-trainer"};
  app.set_version_flag("--version", std::string("lockstep-trainer ") + LOCKSTEP_VERSION);
  app.require_subcommand(1);
  Flags flags;
  Command action = nullptr;
  AddCheckpointCommand(app, "inspect",
                       "print step, dtype, loss scale, parameter total and each master tensor's shape and "
                       "xxHash64 (16 hex digits), as JSON",
                       /*writes=*/false, &flags, Inspect, &action);
  CLI::App* export_command = AddCheckpointCommand(
      app, "export", "write the FP32 masters rounded to DTYPE as an HF-layout model directory",
      /*writes=*/true, &flags, Export, &action);
  export_command->add_option("--dtype", flags.dtype, "the exported dtype (default: the checkpoint's)")
      ->check(CLI::IsMember({"bf16", "fp16", "fp32"}));
  AddCheckpointCommand(app, "resave",
                       "load and save again; the bytes equal the input's (a round-trip check)",
                       /*writes=*/true, &flags, Resave, &action);
  CLI::App* grpo = app.add_subcommand(
      "grpo", "the trainer process of a GRPO job (started by `lockstep grpo`)");
  grpo->add_option("RUN", flags.run_dir, "the run directory (holds config.toml)")->required();
  grpo->add_option("--rollout", flags.rollout_endpoints, "a rollout engine's endpoint (repeat)")
      ->type_name("ENDPOINT")
      ->required();
  grpo->add_option("--sandbox", flags.sandbox_endpoint, "the sandbox pool's endpoint")
      ->type_name("ENDPOINT");
  grpo->add_flag("--resume", flags.resume, "continue from the run's newest checkpoint");
  grpo->callback([&action] { action = Grpo; });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error) == 0 ? 0 : 2;  // help and --version are "errors" that exit 0
  }
  return action(flags);
}
