// What `lockstep eval passk` reads from its config: the eval.*, sandbox.*,
// prompt.*, engine.* and endpoint.* keys (configs/eval-passk-*.toml document
// them), as one struct. Reading starts nothing; it looks up the endpoint's API
// key in the environment and, for prompt.format = "chat" with the engine as the
// source, reads engine.model's tokenizer_config.json (its chat template).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "config/config.h"
#include "eval/endpoint_source.h"
#include "eval/engine_source.h"
#include "rewards/passk_eval.h"
#include "rewards/program_reward.h"

namespace lockstep::eval {

struct PassKOptions {
  std::string problems_dir = "data/puzzles";
  std::string source = "reference";  // reference | file | engine | endpoint
  std::string samples_file;          // source "file"
  std::vector<std::string> languages;  // canonical names; empty: every language
  std::vector<std::string> only_problems;  // empty: every problem
  std::vector<int64_t> ks;           // empty: 1 and the samples per cell
  std::string scoring = "all_or_nothing";  // for the report
  std::string code_block = "last";         // for the report
  int threads = 2;
  int64_t progress_every = 10;
  std::string title = "pass@k";
  rewards::BootstrapOptions bootstrap;
  std::string sandbox_endpoint;  // empty: the in-process sandbox
  double pool_timeout_s = 600;
  rewards::ProgramRewardOptions reward;
  std::string prompt_template;
  std::string prompt_format = "raw";  // raw | chat (engine.chat / endpoint.system_prompt hold it)
  std::string system_prompt;          // prompt.format = "chat": a system turn first
  EngineSourceOptions engine;
  EndpointSourceOptions endpoint;
};

// Reads the options. `samples_file` (the --samples flag), when non-empty,
// sets the source to "file" with that file, whatever eval.samples says.
absl::StatusOr<PassKOptions> ReadPassKOptions(const config::Config& config,
                                              const std::string& samples_file = "");

// The languages as the sandbox's spec names; unknown names are an error
// naming `where` and listing the known ones.
absl::StatusOr<std::vector<std::string>> CanonicalLanguages(const std::vector<std::string>& names,
                                                            const std::string& where);

}  // namespace lockstep::eval
