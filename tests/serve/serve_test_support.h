// What the serve tests share: a tiny random Qwen2 model directory with a
// byte-level BPE tokenizer.json (bytes, four merges, ChatML special tokens),
// Qwen2.5's real chat template and a generation_config.json, and an
// in-process `lockstep serve` on a free port with an HTTP client.
#pragma once

#include <httplib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "model/weights.h"
#include "nlohmann/json.hpp"
#include "serve/openai_server.h"
#include "serve/served_model.h"
#include "tests/model/gpt2_byte_symbol.h"

namespace lockstep::serve::testing {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr int32_t kEndOfText = 300, kImStart = 301, kImEnd = 302;

inline json TinyTokenizerJson() {
  json vocab = json::object();
  for (int b = 0; b < 256; ++b) vocab[testing_util::Gpt2ByteSymbol(b)] = b;
  vocab["he"] = 256;
  vocab["ll"] = 257;
  vocab[testing_util::Gpt2ByteSymbol(' ') + "t"] = 258;
  vocab["th"] = 259;
  json byte_level = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", false},
                     {"use_regex", true}};
  json added = json::array();
  for (auto [id, text] : {std::pair{kEndOfText, "<|endoftext|>"}, std::pair{kImStart, "<|im_start|>"},
                          std::pair{kImEnd, "<|im_end|>"}}) {
    added.push_back({{"id", id}, {"content", text}, {"special", true}});
  }
  return {{"added_tokens", added},
          {"normalizer", nullptr},
          {"pre_tokenizer", byte_level},
          {"post_processor", byte_level},
          {"decoder", byte_level},
          {"model",
           {{"type", "BPE"},
            {"vocab", vocab},
            {"merges", {"h e", "l l", testing_util::Gpt2ByteSymbol(' ') + " t", "t h"}}}}};
}

inline ModelConfig TinyConfig(int max_positions = 128) {
  ModelConfig config;
  config.family = ModelFamily::kQwen2;
  config.attention_bias = true;
  config.tie_word_embeddings = true;
  config.hidden_size = 32;
  config.num_layers = 2;
  config.num_heads = 2;
  config.num_kv_heads = 1;
  config.head_dim = 16;
  config.intermediate_size = 64;
  config.vocab_size = 304;
  config.max_position_embeddings = max_positions;
  return config;
}

// A servable directory: weights, config.json, generation_config.json,
// tokenizer.json and Qwen2.5's tokenizer_config.json (its chat template).
inline void WriteTinyModelDir(const fs::path& dir, int max_positions = 128) {
  fs::create_directories(dir);
  absl::StatusOr<ModelWeights> weights = RandomInitWeights(TinyConfig(max_positions), DType::kBF16, 11, 0.3f);
  ASSERT_TRUE(weights.ok()) << weights.status();
  SaveModelOptions save;
  GenerationConfig generation;
  generation.eos_token_ids = {kImEnd, kEndOfText};
  save.generation = generation;
  ASSERT_TRUE(SaveModelDir(*weights, dir.string(), save).ok());
  std::ofstream(dir / "tokenizer.json") << TinyTokenizerJson().dump();
  fs::copy_file(fs::path(LOCKSTEP_SOURCE_DIR) / "data/tokenizers/qwen2_5/tokenizer_config.json",
                dir / "tokenizer_config.json", fs::copy_options::overwrite_existing);
}

inline fs::path TestDir(const std::string& name) {
  const fs::path dir =
      fs::path(::testing::TempDir()) / ("lockstep_serve_" + name + "_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// `lockstep serve` in this process on 127.0.0.1:<free port>.
class InProcessServer {
 public:
  InProcessServer(const fs::path& model_dir, ServerOptions options, const std::string& name = "tiny") {
    auto model = ServedModel::Load({model_dir.string(), "", "bf16", name});
    EXPECT_TRUE(model.ok()) << model.status();
    if (!model.ok()) return;
    model_ = std::move(*model);
    server_ = std::make_unique<OpenAiServer>(*model_, options);
    auto port = server_->Bind("127.0.0.1", 0);
    EXPECT_TRUE(port.ok()) << port.status();
    port_ = port.ok() ? *port : 0;
    thread_ = std::thread([this] { EXPECT_TRUE(server_->Run().ok()); });
  }
  ~InProcessServer() {
    if (server_) server_->Stop();
    if (thread_.joinable()) thread_.join();
  }
  int port() const { return port_; }
  const ServedModel& model() const { return *model_; }
  void Stop() { server_->Stop(); }

  struct Reply {
    int status = 0;
    json body;        // parsed JSON (discarded if not JSON)
    std::string raw;
  };
  Reply Post(const std::string& path, const std::string& body,
             const httplib::Headers& headers = {}) const {
    httplib::Client client("127.0.0.1", port_);
    client.set_read_timeout(60, 0);
    Reply reply;
    if (auto res = client.Post(path.c_str(), headers, body, "application/json")) {
      reply.status = res->status;
      reply.raw = res->body;
      reply.body = json::parse(res->body, nullptr, false);
    }
    return reply;
  }
  Reply Post(const std::string& path, const json& body) const { return Post(path, body.dump()); }
  Reply Get(const std::string& path) const {
    httplib::Client client("127.0.0.1", port_);
    Reply reply;
    if (auto res = client.Get(path.c_str())) {
      reply.status = res->status;
      reply.raw = res->body;
      reply.body = json::parse(res->body, nullptr, false);
    }
    return reply;
  }

 private:
  std::unique_ptr<ServedModel> model_;
  std::unique_ptr<OpenAiServer> server_;
  int port_ = 0;
  std::thread thread_;
};

// The JSON objects of an SSE body's "data: " lines; `done` is set by "data: [DONE]".
inline std::vector<json> SseEvents(const std::string& body, bool* done) {
  std::vector<json> events;
  *done = false;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t end = body.find("\n\n", pos);
    if (end == std::string::npos) end = body.size();
    const std::string event = body.substr(pos, end - pos);
    pos = end + 2;
    if (event.rfind("data: ", 0) != 0) continue;
    const std::string data = event.substr(6);
    if (data == "[DONE]") {
      *done = true;
      continue;
    }
    events.push_back(json::parse(data, nullptr, false));
  }
  return events;
}

}  // namespace lockstep::serve::testing
