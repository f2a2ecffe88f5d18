#include "model/weights.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "model/sharded_safetensors.h"
#include "numerics/fnv1a.h"
#include "numerics/status_macros.h"

namespace lockstep {
namespace {

constexpr char kConfigFile[] = "config.json";

// ---- Deterministic normal samples, identical on every IEEE-754 platform. ----
//
// std::normal_distribution's algorithm is implementation-defined, and libm's
// log() may differ in the last bit between C libraries. Everything below uses
// only integer arithmetic and IEEE +, -, *, / and sqrt (all correctly rounded),
// and the build disables FMA contraction, so the bits depend on nothing but
// the seed.

uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// xoshiro256** (Blackman & Vigna), seeded through SplitMix64 as its authors advise.
class Xoshiro256 {
 public:
  explicit Xoshiro256(uint64_t seed) {
    for (uint64_t& word : s_) word = SplitMix64(seed);
  }
  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }
  // Uniform in (-1, 1): 53 random bits, exact in a double.
  double NextSigned() {
    const double u = static_cast<double>(Next() >> 11) * 0x1.0p-53;  // [0, 1)
    return 2.0 * u - 1.0;
  }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

// Natural log for x in (0, 1], from arithmetic alone: x = m·2^e with m in
// [1/√2, √2), then log(m) = 2·atanh(s), s = (m-1)/(m+1), |s| < 0.172, whose odd
// series reaches double precision in 12 terms.
double PortableLog(double x) {
  int e = 0;
  double m = std::frexp(x, &e);  // exact: m in [0.5, 1)
  if (m < 0.70710678118654752440) {
    m *= 2.0;  // exact
    e -= 1;
  }
  const double s = (m - 1.0) / (m + 1.0);
  const double s2 = s * s;
  double term = s;
  double sum = 0.0;
  for (int k = 1; k <= 25; k += 2) {
    sum += term / k;
    term *= s2;
  }
  constexpr double kLn2 = 0.69314718055994530942;
  return 2.0 * sum + e * kLn2;
}

// Marsaglia's polar form of the Box–Muller transform: no trigonometry, one log.
class NormalSampler {
 public:
  explicit NormalSampler(uint64_t seed) : rng_(seed) {}
  double Next() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double x, y, r2;
    do {
      x = rng_.NextSigned();
      y = rng_.NextSigned();
      r2 = x * x + y * y;
    } while (r2 >= 1.0 || r2 == 0.0);
    const double f = std::sqrt(-2.0 * PortableLog(r2) / r2);
    spare_ = y * f;
    has_spare_ = true;
    return x * f;
  }

 private:
  Xoshiro256 rng_;
  double spare_ = 0.0;
  bool has_spare_ = false;
};

// Each tensor draws from its own stream keyed by (seed, name), so a tensor's
// values do not depend on which other tensors the config has (tied or not,
// biases or not) or on the order they are filled in.
uint64_t TensorStreamSeed(uint64_t seed, const std::string& name) {
  uint64_t state = seed ^ Fnv1a64(name);
  return SplitMix64(state);
}

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string TorchDTypeName(DType dtype) {
  switch (dtype) {
    case DType::kF32:
      return "float32";
    case DType::kF16:
      return "float16";
    case DType::kBF16:
      return "bfloat16";
  }
  return "?";
}

// Writes text to `path` through a temp file + rename, like WriteSafetensors.
absl::Status WriteTextFileAtomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return absl::PermissionDeniedError(absl::StrCat("cannot create '", tmp, "'"));
    out << text;
    out.flush();
    if (!out) {
      std::remove(tmp.c_str());
      return absl::InternalError(absl::StrCat("writing '", tmp, "' failed"));
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return absl::InternalError(absl::StrCat("cannot rename '", tmp, "' to '", path, "'"));
  }
  return absl::OkStatus();
}

// Checks that every tensor of `w` has the shape `config` implies (as built by
// AllocateWeights), so callers can save hand-assembled weights safely.
absl::Status CheckShapes(const ModelWeights& w, const std::string& what) {
  absl::StatusOr<ModelWeights> expected = AllocateWeights(w.config, w.dtype);
  if (!expected.ok()) return expected.status();
  auto want = expected->NamedTensors();
  auto have = w.NamedTensors();
  if (want.size() != have.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": has ", have.size(), " tensors but its config implies ", want.size()));
  }
  for (size_t i = 0; i < want.size(); ++i) {
    const Tensor& t = *have[i].second;
    if (t.shape() != want[i].second->shape() || t.dtype() != w.dtype) {
      return absl::InvalidArgumentError(absl::StrCat(
          what, ": tensor '", have[i].first, "' is ", std::string(DTypeName(t.dtype())),
          t.ShapeString(), " but the config implies ", std::string(DTypeName(w.dtype)),
          want[i].second->ShapeString()));
    }
  }
  return absl::OkStatus();
}

// Converts `src` into `dst` (same shape, another dtype): widen to fp32
// exactly, then round to the destination dtype to nearest even.
void ConvertInto(const Tensor& src, Tensor& dst) {
  for (int64_t i = 0; i < src.numel(); ++i) dst.SetFloat(i, src.GetFloat(i));
}

}  // namespace

namespace {

// The one list of tensor names, shared by the const and mutable accessors.
template <typename Weights, typename TensorPtr>
std::vector<std::pair<std::string, TensorPtr>> CollectNamed(Weights& w) {
  std::vector<std::pair<std::string, TensorPtr>> out;
  out.emplace_back("model.embed_tokens.weight", &w.embed_tokens);
  for (size_t i = 0; i < w.layers.size(); ++i) {
    auto& l = w.layers[i];
    const std::string p = absl::StrCat("model.layers.", i, ".");
    out.emplace_back(p + "input_layernorm.weight", &l.input_layernorm);
    out.emplace_back(p + "self_attn.q_proj.weight", &l.q_proj);
    out.emplace_back(p + "self_attn.k_proj.weight", &l.k_proj);
    out.emplace_back(p + "self_attn.v_proj.weight", &l.v_proj);
    if (w.config.attention_bias) {
      out.emplace_back(p + "self_attn.q_proj.bias", &l.q_bias);
      out.emplace_back(p + "self_attn.k_proj.bias", &l.k_bias);
      out.emplace_back(p + "self_attn.v_proj.bias", &l.v_bias);
    }
    if (w.config.qk_norm) {
      out.emplace_back(p + "self_attn.q_norm.weight", &l.q_norm);
      out.emplace_back(p + "self_attn.k_norm.weight", &l.k_norm);
    }
    out.emplace_back(p + "self_attn.o_proj.weight", &l.o_proj);
    out.emplace_back(p + "post_attention_layernorm.weight", &l.post_attention_layernorm);
    out.emplace_back(p + "mlp.gate_proj.weight", &l.gate_proj);
    out.emplace_back(p + "mlp.up_proj.weight", &l.up_proj);
    out.emplace_back(p + "mlp.down_proj.weight", &l.down_proj);
  }
  out.emplace_back("model.norm.weight", &w.norm);
  if (!w.config.tie_word_embeddings) out.emplace_back("lm_head.weight", &w.lm_head);
  return out;
}

}  // namespace

std::vector<std::pair<std::string, const Tensor*>> ModelWeights::NamedTensors() const {
  return CollectNamed<const ModelWeights, const Tensor*>(*this);
}

std::vector<std::pair<std::string, Tensor*>> ModelWeights::MutableNamedTensors() {
  return CollectNamed<ModelWeights, Tensor*>(*this);
}

const Tensor& ModelWeights::OutputEmbedding() const {
  return config.tie_word_embeddings ? embed_tokens : lm_head;
}

absl::StatusOr<ModelWeights> AllocateWeights(const ModelConfig& config, DType dtype) {
  if (absl::Status s = config.Validate(); !s.ok()) return s;
  const int64_t hidden = config.hidden_size;
  const int64_t q_dim = int64_t{config.num_heads} * config.head_dim;
  const int64_t kv_dim = int64_t{config.num_kv_heads} * config.head_dim;
  const int64_t inter = config.intermediate_size;
  const int64_t vocab = config.vocab_size;

  ModelWeights w;
  w.config = config;
  w.dtype = dtype;
  w.embed_tokens = Tensor(dtype, {vocab, hidden});
  w.layers.resize(config.num_layers);
  for (LayerWeights& l : w.layers) {
    l.input_layernorm = Tensor(dtype, {hidden});
    l.q_proj = Tensor(dtype, {q_dim, hidden});
    l.k_proj = Tensor(dtype, {kv_dim, hidden});
    l.v_proj = Tensor(dtype, {kv_dim, hidden});
    if (config.attention_bias) {
      l.q_bias = Tensor(dtype, {q_dim});
      l.k_bias = Tensor(dtype, {kv_dim});
      l.v_bias = Tensor(dtype, {kv_dim});
    }
    if (config.qk_norm) {
      l.q_norm = Tensor(dtype, {config.head_dim});
      l.k_norm = Tensor(dtype, {config.head_dim});
    }
    l.o_proj = Tensor(dtype, {hidden, q_dim});
    l.post_attention_layernorm = Tensor(dtype, {hidden});
    l.gate_proj = Tensor(dtype, {inter, hidden});
    l.up_proj = Tensor(dtype, {inter, hidden});
    l.down_proj = Tensor(dtype, {hidden, inter});
  }
  w.norm = Tensor(dtype, {hidden});
  if (!config.tie_word_embeddings) w.lm_head = Tensor(dtype, {vocab, hidden});
  return w;
}

absl::StatusOr<ModelWeights> RandomInitWeights(const ModelConfig& config, DType dtype,
                                               uint64_t seed, float init_std) {
  if (!(std::isfinite(init_std) && init_std >= 0.0f)) {
    return absl::InvalidArgumentError(
        absl::StrCat("model.init_std = ", init_std, ": must be finite and >= 0"));
  }
  absl::StatusOr<ModelWeights> w = AllocateWeights(config, dtype);
  if (!w.ok()) return w.status();
  for (auto& [name, tensor] : w->MutableNamedTensors()) {
    // RMSNorm gains start at 1 (identity scaling), as in HF's init.
    if (EndsWith(name, "norm.weight")) {
      for (int64_t i = 0; i < tensor->numel(); ++i) tensor->SetFloat(i, 1.0f);
      continue;
    }
    // Linear weights, embeddings and (nonzero, so the bias path is exercised)
    // q/k/v biases: N(0, init_std²), computed in double, rounded once to float
    // and then to the storage dtype (both round to nearest even).
    NormalSampler normal(TensorStreamSeed(seed, name));
    for (int64_t i = 0; i < tensor->numel(); ++i) {
      tensor->SetFloat(i, static_cast<float>(init_std * normal.Next()));
    }
  }
  return w;
}

absl::Status SaveModelDir(const ModelWeights& weights, const std::string& dir,
                          const SaveModelOptions& options) {
  if (absl::Status s = CheckShapes(weights, absl::StrCat("SaveModelDir('", dir, "')")); !s.ok()) {
    return s;
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot create the model directory '", dir, "': ", ec.message()));
  }
  const std::filesystem::path root(dir);
  // Weights first, config.json last: a directory with a config.json written
  // by this function is complete, even if an earlier save was interrupted.
  LOCKSTEP_RETURN_IF_ERROR(WriteModelTensors(dir, weights.NamedTensors(), options.max_shard_bytes));
  if (options.generation.has_value()) {
    LOCKSTEP_RETURN_IF_ERROR(WriteTextFileAtomically(
        (root / "generation_config.json").string(), options.generation->ToHfJson().dump(2) + "\n"));
  }
  nlohmann::json config = weights.config.ToHfJson();
  config["torch_dtype"] = TorchDTypeName(weights.dtype);
  return WriteTextFileAtomically((root / kConfigFile).string(), config.dump(2) + "\n");
}

absl::Status CopyModelDirCompanions(const std::string& from_dir, const std::string& to_dir) {
  namespace fs = std::filesystem;
  static constexpr const char* kCompanions[] = {
      "tokenizer.json",         "tokenizer_config.json", "special_tokens_map.json",
      "added_tokens.json",      "vocab.json",            "merges.txt",
      "tokenizer.model",        "chat_template.jinja",   "chat_template.json",
      "generation_config.json"};
  for (const char* name : kCompanions) {
    const fs::path from = fs::path(from_dir) / name;
    const fs::path to = fs::path(to_dir) / name;
    std::error_code ec;
    if (!fs::is_regular_file(from, ec) || fs::exists(to, ec)) continue;
    const fs::path partial = fs::path(to_dir) / (std::string(name) + ".partial");
    fs::copy_file(from, partial, fs::copy_options::overwrite_existing, ec);
    if (!ec) fs::rename(partial, to, ec);
    if (ec) {
      fs::remove(partial);
      return absl::InternalError(absl::StrCat("cannot copy '", from.string(), "' to '",
                                              to.string(), "': ", ec.message()));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<ModelConfig> LoadModelConfig(const std::string& dir) {
  const std::string config_path = (std::filesystem::path(dir) / kConfigFile).string();
  std::ifstream config_in(config_path);
  if (!config_in) {
    return absl::NotFoundError(absl::StrCat("cannot open '", config_path, "'"));
  }
  std::stringstream config_text;
  config_text << config_in.rdbuf();
  nlohmann::json config_json;
  try {
    config_json = nlohmann::json::parse(config_text.str());
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(config_path, ": not valid JSON: ", e.what()));
  }
  return ModelConfig::FromHfJson(config_json, config_path);
}

absl::StatusOr<ModelWeights> LoadModelDir(const std::string& dir, DType dtype) {
  const std::filesystem::path root(dir);
  const std::string config_path = (root / kConfigFile).string();  // named in errors below
  absl::StatusOr<ModelConfig> config = LoadModelConfig(dir);
  if (!config.ok()) return config.status();

  std::map<std::string, std::string> source_of;  // tensor -> the file it came from
  absl::StatusOr<std::map<std::string, Tensor>> file_tensors = ReadModelTensors(dir, &source_of);
  if (!file_tensors.ok()) return file_tensors.status();
  std::map<std::string, Tensor>& tensors = *file_tensors;
  const std::string weights_path = std::filesystem::exists(root / kSingleWeightsFile)
                                       ? (root / kSingleWeightsFile).string()
                                       : (root / kWeightsIndexFile).string();

  absl::StatusOr<ModelWeights> w = AllocateWeights(*config, dtype);
  if (!w.ok()) return w.status();

  // Check everything before copying anything: every expected tensor present
  // with the right shape, and nothing in the file left over.
  const std::vector<std::pair<std::string, Tensor*>> targets = w->MutableNamedTensors();
  std::set<std::string> expected;
  for (const auto& [name, dst] : targets) {
    auto it = tensors.find(name);
    if (it == tensors.end()) {
      return absl::NotFoundError(absl::StrCat(weights_path, ": missing tensor '", name,
                                              "' (expected by ", config_path, ")"));
    }
    if (it->second.shape() != dst->shape()) {
      return absl::InvalidArgumentError(absl::StrCat(
          source_of[name], ": tensor '", name, "' has shape ", it->second.ShapeString(), " but ",
          config_path, " implies ", dst->ShapeString()));
    }
    expected.insert(name);
  }
  for (const auto& [name, src] : tensors) {
    if (expected.count(name)) continue;
    // Old Llama checkpoints store RoPE's inverse frequencies; they are derived
    // from rope_theta, so there is nothing to load.
    if (EndsWith(name, "rotary_emb.inv_freq")) continue;
    // Some tied checkpoints store the LM head anyway. Accept it only if it is
    // the embedding, so no information is dropped silently.
    if (name == "lm_head.weight" && config->tie_word_embeddings) {
      const Tensor& embed = tensors.at("model.embed_tokens.weight");
      if (src.dtype() == embed.dtype() && src.shape() == embed.shape() &&
          std::memcmp(src.data(), embed.data(), src.nbytes()) == 0) {
        continue;
      }
      return absl::InvalidArgumentError(absl::StrCat(
          weights_path, ": tensor 'lm_head.weight' differs from 'model.embed_tokens.weight' but ",
          config_path, " says tie_word_embeddings = true"));
    }
    return absl::InvalidArgumentError(absl::StrCat(source_of[name], ": unexpected tensor '", name,
                                                   "' (not part of the model ", config_path,
                                                   " describes)"));
  }

  // Tensors already in the requested dtype are moved in whole: every bit is
  // kept (NaN payloads included) and no bytes are copied.
  for (const auto& [name, dst] : targets) {
    Tensor& src = tensors.at(name);
    if (src.dtype() == dtype) {
      *dst = std::move(src);
    } else {
      ConvertInto(src, *dst);
    }
  }
  return w;
}

}  // namespace lockstep
