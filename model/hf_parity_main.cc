// hf_parity_tool: the lockstep side of scripts/hf-parity.py, which compares
// lockstep with transformers on random-initialised models. Not a user command.
//   hf_parity_tool logits DIR DTYPE IDS [GREEDY_STEPS]
//     IDS: sequences separated by ';', ids by ','. Prints JSON: the full-sequence
//     logits of every position of every sequence (as float), the greedy
//     continuation (argmax, lowest id on ties) of each, DIR's generation_config, and the
//     config as lockstep read it (ModelConfig::ToHfJson, rope_scaling included).
//   hf_parity_tool init LIKE_DIR OUT_DIR DTYPE SEED MAX_SHARD_BYTES
//     Random weights (lockstep's init) for LIKE_DIR's config.json, saved by SaveModelDir.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "model/generation_config.h"
#include "model/transformer.h"
#include "model/weights.h"
#include "nlohmann/json.hpp"
#include "numerics/status_macros.h"

namespace lockstep {
namespace {

absl::StatusOr<DType> ParseDType(const std::string& s) {
  if (s == "f32") return DType::kF32;
  if (s == "bf16") return DType::kBF16;
  if (s == "f16") return DType::kF16;
  return absl::InvalidArgumentError("dtype must be f32, bf16 or f16, got " + s);
}

absl::StatusOr<std::vector<std::vector<int32_t>>> ParseIds(const std::string& text) {
  std::vector<std::vector<int32_t>> seqs;
  for (absl::string_view seq : absl::StrSplit(text, ';', absl::SkipEmpty())) {
    std::vector<int32_t>& ids = seqs.emplace_back();
    for (absl::string_view id : absl::StrSplit(seq, ',', absl::SkipEmpty())) {
      int32_t v = 0;
      if (!absl::SimpleAtoi(id, &v)) {
        return absl::InvalidArgumentError("bad id '" + std::string(id) + "'");
      }
      ids.push_back(v);
    }
  }
  return seqs;
}

// Logits (as float) of every position of one sequence.
absl::StatusOr<std::vector<std::vector<float>>> SequenceLogits(const Transformer& model,
                                                               const std::vector<int32_t>& ids) {
  std::vector<std::span<const int32_t>> batch = {std::span<const int32_t>(ids)};
  Tensor logits;
  LOCKSTEP_RETURN_IF_ERROR(model.ForwardSequences(batch, &logits));
  const int64_t vocab = logits.shape()[1];
  std::vector<std::vector<float>> rows(ids.size(), std::vector<float>(vocab));
  for (size_t r = 0; r < ids.size(); ++r) {
    for (int64_t v = 0; v < vocab; ++v) rows[r][v] = logits.GetFloat(int64_t(r) * vocab + v);
  }
  return rows;
}

int32_t Argmax(const std::vector<float>& row) {
  int32_t best = 0;
  for (size_t v = 1; v < row.size(); ++v) {
    if (row[v] > row[best]) best = static_cast<int32_t>(v);
  }
  return best;
}

absl::Status RunLogits(const std::string& dir, const std::string& dtype_name,
                       const std::string& ids_text, int greedy_steps) {
  LOCKSTEP_ASSIGN_OR_RETURN(DType dtype, ParseDType(dtype_name));
  LOCKSTEP_ASSIGN_OR_RETURN(auto seqs, ParseIds(ids_text));
  LOCKSTEP_ASSIGN_OR_RETURN(ModelWeights weights, LoadModelDir(dir, dtype));
  LOCKSTEP_ASSIGN_OR_RETURN(auto model, Transformer::Create(weights));
  nlohmann::json out;
  // The config as lockstep read it (rope_scaling included), so the script can
  // check that a scaled-RoPE checkpoint was not silently read as plain RoPE.
  out["config"] = weights.config.ToHfJson();
  out["logits"] = nlohmann::json::array();
  out["greedy"] = nlohmann::json::array();
  for (const std::vector<int32_t>& ids : seqs) {
    LOCKSTEP_ASSIGN_OR_RETURN(auto rows, SequenceLogits(*model, ids));
    out["logits"].push_back(rows);
    // Greedy by full-sequence forward each step: the simplest faithful decode.
    std::vector<int32_t> seq = ids;
    std::vector<int32_t> generated;
    for (int step = 0; step < greedy_steps; ++step) {
      const int32_t next = Argmax(rows.back());
      generated.push_back(next);
      seq.push_back(next);
      if (step + 1 < greedy_steps) {
        LOCKSTEP_ASSIGN_OR_RETURN(rows, SequenceLogits(*model, seq));
      }
    }
    out["greedy"].push_back(generated);
  }
  LOCKSTEP_ASSIGN_OR_RETURN(auto generation, ReadGenerationConfig(dir));
  if (generation.has_value()) out["generation_config"] = generation->ToHfJson();
  std::printf("%s\n", out.dump().c_str());
  return absl::OkStatus();
}

absl::Status RunInit(const std::string& like_dir, const std::string& out_dir,
                     const std::string& dtype_name, uint64_t seed, int64_t max_shard_bytes) {
  LOCKSTEP_ASSIGN_OR_RETURN(DType dtype, ParseDType(dtype_name));
  std::ifstream in(like_dir + "/config.json");
  std::stringstream text;
  text << in.rdbuf();
  LOCKSTEP_ASSIGN_OR_RETURN(
      ModelConfig config,
      ModelConfig::FromHfJson(nlohmann::json::parse(text.str()), like_dir + "/config.json"));
  LOCKSTEP_ASSIGN_OR_RETURN(ModelWeights weights, RandomInitWeights(config, dtype, seed, 0.05f));
  // Norm gains of 1 would hide a missing or misplaced norm: perturb them.
  for (auto& [name, tensor] : weights.MutableNamedTensors()) {
    if (name.find("norm.weight") == std::string::npos) continue;
    for (int64_t i = 0; i < tensor->numel(); ++i) {
      tensor->SetFloat(i, 1.0f + 0.25f * static_cast<float>((i * 7919 + name.size()) % 17) / 17.0f);
    }
  }
  SaveModelOptions options;
  options.max_shard_bytes = max_shard_bytes;
  options.generation = GenerationConfig{};
  options.generation->eos_token_ids = {1, 2};
  options.generation->bos_token_id = 0;
  return SaveModelDir(weights, out_dir, options);
}

}  // namespace
}  // namespace lockstep

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  absl::Status status = absl::InvalidArgumentError(
      "usage: hf_parity_tool logits DIR DTYPE IDS [GREEDY_STEPS] | "
      "init LIKE_DIR OUT_DIR DTYPE SEED MAX_SHARD_BYTES");
  if (args.size() >= 4 && args[0] == "logits") {
    status = lockstep::RunLogits(args[1], args[2], args[3],
                                 args.size() > 4 ? std::atoi(args[4].c_str()) : 0);
  } else if (args.size() == 6 && args[0] == "init") {
    status =
        lockstep::RunInit(args[1], args[2], args[3], std::strtoull(args[4].c_str(), nullptr, 10),
                          std::strtoll(args[5].c_str(), nullptr, 10));
  }
  if (!status.ok()) {
    std::fprintf(stderr, "hf_parity_tool: %s\n", std::string(status.message()).c_str());
    return 1;
  }
  return 0;
}
