#include "model/sharded_safetensors.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "model/safetensors.h"
#include "nlohmann/json.hpp"
#include "numerics/status_macros.h"

namespace lockstep {
namespace {

namespace fs = std::filesystem;

// The index's weight_map as a list, duplicates kept: nlohmann keeps only the
// last of two equal keys, which would hide a tensor listed twice.
absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ReadIndex(
    const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open '", path, "'"));
  std::stringstream text;
  text << in.rdbuf();
  std::vector<std::string> keys_in_map;
  bool in_weight_map = false;
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(
        text.str(), [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
          if (event == nlohmann::json::parse_event_t::key) {
            if (depth == 1) in_weight_map = parsed.is_string() && parsed == "weight_map";
            if (depth == 2 && in_weight_map) keys_in_map.push_back(parsed.get<std::string>());
          }
          return true;
        });
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": not valid JSON: ", e.what()));
  }
  if (!json.is_object() || !json.contains("weight_map") || !json["weight_map"].is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": field 'weight_map' is missing or not an object"));
  }
  std::set<std::string> seen;
  for (const std::string& key : keys_in_map) {
    if (!seen.insert(key).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": tensor '", key, "' is listed twice in weight_map"));
    }
  }
  std::vector<std::pair<std::string, std::string>> entries;
  for (const auto& [name, shard] : json["weight_map"].items()) {
    if (!shard.is_string()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": weight_map['", name, "'] must be a file name, got ", shard.dump()));
    }
    const std::string file = shard.get<std::string>();
    if (file.empty() || file.find('/') != std::string::npos || file == "." || file == "..") {
      return absl::InvalidArgumentError(absl::StrCat(path, ": weight_map['", name, "'] = \"", file,
                                                     "\" is not a file in the directory"));
    }
    entries.emplace_back(name, file);
  }
  return entries;
}

absl::StatusOr<std::map<std::string, Tensor>> ReadSharded(
    const fs::path& root, std::map<std::string, std::string>* source) {
  const std::string index_path = (root / kWeightsIndexFile).string();
  LOCKSTEP_ASSIGN_OR_RETURN(auto entries, ReadIndex(index_path));
  std::map<std::string, std::set<std::string>> by_shard;  // shard -> tensors it should hold
  for (const auto& [name, shard] : entries) by_shard[shard].insert(name);

  std::map<std::string, Tensor> tensors;
  for (auto& [shard, names] : by_shard) {
    const std::string shard_path = (root / shard).string();
    if (!fs::exists(shard_path)) {
      return absl::NotFoundError(absl::StrCat(index_path, ": shard '", shard,
                                              "' (listed for tensor '", *names.begin(),
                                              "') does not exist in ", root.string()));
    }
    LOCKSTEP_ASSIGN_OR_RETURN(SafetensorsFile file, ReadSafetensors(shard_path));
    for (const std::string& name : names) {
      if (!file.tensors.count(name)) {
        return absl::NotFoundError(absl::StrCat(shard_path, ": missing tensor '", name, "' (",
                                                index_path, " says it is in this shard)"));
      }
    }
    for (auto& [name, tensor] : file.tensors) {
      if (!names.count(name)) {
        return absl::InvalidArgumentError(
            absl::StrCat(shard_path, ": tensor '", name, "' is not listed for this shard in ",
                         index_path, " (listed twice, or the index is stale)"));
      }
      if (source != nullptr) (*source)[name] = shard_path;
      tensors.emplace(name, std::move(tensor));
    }
  }
  return tensors;
}

std::string ShardName(size_t index, size_t count) {
  return absl::StrFormat("model-%05d-of-%05d.safetensors", index + 1, count);
}

// Shard files and index of an earlier save (any count), for removal.
void RemoveOldLayout(const fs::path& root, bool sharded_now) {
  static const std::regex kShard(R"(model-\d{5}-of-\d{5}\.safetensors)");
  std::error_code ec;
  if (sharded_now) {
    fs::remove(root / kSingleWeightsFile, ec);
    return;
  }
  fs::remove(root / kWeightsIndexFile, ec);
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    if (std::regex_match(entry.path().filename().string(), kShard)) fs::remove(entry.path(), ec);
  }
}

absl::Status WriteTextAtomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) return absl::InternalError(absl::StrCat("writing '", tmp, "' failed"));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("cannot rename '", tmp, "' to '", path, "'"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::map<std::string, Tensor>> ReadModelTensors(
    const std::string& dir, std::map<std::string, std::string>* source) {
  const fs::path root(dir);
  const fs::path single = root / kSingleWeightsFile;
  if (fs::exists(single)) {
    LOCKSTEP_ASSIGN_OR_RETURN(SafetensorsFile file, ReadSafetensors(single.string()));
    if (source != nullptr) {
      for (const auto& [name, t] : file.tensors) (*source)[name] = single.string();
    }
    return std::move(file.tensors);
  }
  if (fs::exists(root / kWeightsIndexFile)) return ReadSharded(root, source);
  return absl::NotFoundError(absl::StrCat("model directory '", dir, "' has neither ",
                                          kSingleWeightsFile, " nor ", kWeightsIndexFile));
}

absl::Status WriteModelTensors(const std::string& dir,
                               const std::vector<std::pair<std::string, const Tensor*>>& tensors,
                               int64_t max_shard_bytes) {
  if (max_shard_bytes <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_shard_bytes = ", max_shard_bytes, " must be positive"));
  }
  const fs::path root(dir);
  int64_t total = 0;
  for (const auto& [name, t] : tensors) total += static_cast<int64_t>(t->nbytes());
  // transformers refuses safetensors files without {"format": "pt"}.
  const std::map<std::string, std::string> metadata = {{"format", "pt"}};
  if (total <= max_shard_bytes) {
    LOCKSTEP_RETURN_IF_ERROR(
        WriteSafetensors((root / kSingleWeightsFile).string(), tensors, metadata));
    RemoveOldLayout(root, /*sharded_now=*/false);
    return absl::OkStatus();
  }
  // Greedy in the given order, as transformers' shard splitter does.
  std::vector<std::vector<std::pair<std::string, const Tensor*>>> shards(1);
  int64_t current = 0;
  for (const auto& entry : tensors) {
    const int64_t size = static_cast<int64_t>(entry.second->nbytes());
    if (!shards.back().empty() && current + size > max_shard_bytes) {
      shards.emplace_back();
      current = 0;
    }
    shards.back().push_back(entry);
    current += size;
  }
  RemoveOldLayout(root, /*sharded_now=*/false);  // stale shards of another count
  nlohmann::json weight_map = nlohmann::json::object();
  for (size_t i = 0; i < shards.size(); ++i) {
    const std::string name = ShardName(i, shards.size());
    LOCKSTEP_RETURN_IF_ERROR(WriteSafetensors((root / name).string(), shards[i], metadata));
    for (const auto& [tensor_name, t] : shards[i]) weight_map[tensor_name] = name;
  }
  nlohmann::json index = {{"metadata", {{"total_size", total}}}, {"weight_map", weight_map}};
  LOCKSTEP_RETURN_IF_ERROR(
      WriteTextAtomically((root / kWeightsIndexFile).string(), index.dump(2) + "\n"));
  RemoveOldLayout(root, /*sharded_now=*/true);
  return absl::OkStatus();
}

}  // namespace lockstep
