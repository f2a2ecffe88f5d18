// Reference samples and JSONL sample files (eval/sample_files.h).
#include "eval/sample_files.h"

#include <algorithm>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "eval/sample_status.h"
#include "nlohmann/json.hpp"
#include "sandbox/language.h"

namespace lockstep::eval {

using rewards::EvalSample;

std::vector<EvalSample> ReferenceSamples(const rewards::ProblemSet& problems,
                                         const std::vector<std::string>& languages) {
  std::vector<EvalSample> samples;
  for (const rewards::Problem& p : problems.problems) {
    for (const sandbox::LanguageSpec& spec : sandbox::AllLanguages()) {
      const auto found = p.solutions.find(spec.name);
      if (found == p.solutions.end()) continue;
      const std::string& language = found->first;
      const std::string& source = found->second;
      if (!languages.empty() &&
          std::find(languages.begin(), languages.end(), language) == languages.end()) {
        continue;
      }
      std::string completion = absl::StrCat("```", language, "\n", source);
      if (!source.empty() && source.back() != '\n') completion += "\n";
      completion += "```\n";
      samples.push_back({"reference", p.id, language, std::move(completion)});
    }
  }
  return samples;
}

absl::StatusOr<std::vector<EvalSample>> ReadSamplesJsonl(const std::string& path,
                                                         const std::string& default_model) {
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("samples file '", path, "' cannot be read"));
  }
  std::vector<EvalSample> samples;
  std::string line;
  int line_number = 0;
  while (std::getline(in, line)) {
    ++line_number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = absl::StrCat(path, ":", line_number);
    nlohmann::json json = nlohmann::json::parse(line, nullptr, false);
    if (json.is_discarded() || !json.is_object()) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": not a JSON object"));
    }
    EvalSample s;
    for (auto [key, field] : {std::pair<const char*, std::string*>{"problem", &s.problem},
                              {"language", &s.language},
                              {"completion", &s.completion}}) {
      if (!json.contains(key) || !json[key].is_string()) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": needs a string field \"", key,
                         "\" (each line: {\"problem\", \"language\", \"completion\"[, \"model\"]})"));
      }
      *field = json[key].get<std::string>();
    }
    s.model = default_model;
    if (json.contains("model")) {
      if (!json["model"].is_string()) {
        return absl::InvalidArgumentError(absl::StrCat(where, ": \"model\" must be a string"));
      }
      s.model = json["model"].get<std::string>();
    }
    samples.push_back(std::move(s));
  }
  if (samples.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("samples file '", path, "' holds no sample"));
  }
  return samples;
}

absl::Status WriteSamplesJsonl(const std::string& path, const std::vector<EvalSample>& samples,
                               const std::vector<rewards::RewardResult>* results) {
  std::ofstream out(path, std::ios::trunc);
  for (size_t i = 0; i < samples.size(); ++i) {
    nlohmann::json j{{"model", samples[i].model},
                     {"problem", samples[i].problem},
                     {"language", samples[i].language},
                     {"completion", samples[i].completion}};
    if (results != nullptr && i < results->size()) {
      j["status"] = SampleStatusName((*results)[i].status);
      j["reward"] = (*results)[i].value;
      j["detail"] = (*results)[i].detail;
    }
    out << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  }
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

}  // namespace lockstep::eval
