// `lockstep serve`'s HTTP API end to end in one process, on a tiny random
// Qwen2 model with a byte-level tokenizer and Qwen2.5's chat template: the
// model list, completions (string, ids, lists of prompts), chat completions
// through the template, n choices, seeds, logprobs, stop strings, streaming
// that concatenates to the non-streamed result, concurrent requests batched
// together, and every 4xx error with the server still answering afterwards.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <set>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/chat_template.h"
#include "model/char_tokenizer.h"
#include "model/hf_tokenizer.h"
#include "tests/serve/serve_test_support.h"

namespace lockstep::serve::testing {
namespace {

using ::testing::HasSubstr;

class OpenAiServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(TestDir("api"));
    WriteTinyModelDir(*dir_ / "tiny");
    ServerOptions options;
    options.limits.max_n = 8;
    options.engine.engine.max_batch_sequences = 8;
    options.engine.engine.kv_cache.num_blocks = 64;
    server_ = new InProcessServer(*dir_ / "tiny", options);
  }
  static void TearDownTestSuite() {
    delete server_;
    fs::remove_all(*dir_);
    delete dir_;
  }
  static const InProcessServer& server() { return *server_; }

  static json Completion(json body) {
    body["model"] = "tiny";
    auto reply = server().Post("/v1/completions", body);
    EXPECT_EQ(reply.status, 200) << reply.raw;
    return reply.body;
  }
  static json Chat(json body) {
    body["model"] = "tiny";
    auto reply = server().Post("/v1/chat/completions", body);
    EXPECT_EQ(reply.status, 200) << reply.raw;
    return reply.body;
  }
  // A request that must fail with `status`; returns its error object.
  static json Error(const std::string& path, const std::string& body, int status) {
    auto reply = server().Post(path, body);
    EXPECT_EQ(reply.status, status) << body << " -> " << reply.raw;
    EXPECT_TRUE(reply.body.contains("error")) << reply.raw;
    if (!reply.body.contains("error")) return json::object();
    const json& e = reply.body["error"];
    EXPECT_TRUE(e["message"].is_string() && !e["message"].get<std::string>().empty()) << reply.raw;
    EXPECT_TRUE(e.contains("type") && e.contains("param") && e.contains("code")) << reply.raw;
    return e;
  }

  static fs::path* dir_;
  static InProcessServer* server_;
};
fs::path* OpenAiServerTest::dir_ = nullptr;
InProcessServer* OpenAiServerTest::server_ = nullptr;

TEST_F(OpenAiServerTest, ListsTheServedModel) {
  auto reply = server().Get("/v1/models");
  ASSERT_EQ(reply.status, 200) << reply.raw;
  EXPECT_EQ(reply.body["object"], "list");
  ASSERT_EQ(reply.body["data"].size(), 1u);
  EXPECT_EQ(reply.body["data"][0]["id"], "tiny");
  EXPECT_EQ(reply.body["data"][0]["object"], "model");
  EXPECT_EQ(reply.body["data"][0]["max_model_len"], 128);
  EXPECT_EQ(server().Get("/v1/models/tiny").status, 200);
  EXPECT_EQ(server().Get("/v1/models/other").status, 404);
}

TEST_F(OpenAiServerTest, CompletionHasTextUsageAndFiniteLogprobs) {
  json out = Completion({{"prompt", "hello there"}, {"max_tokens", 12}, {"seed", 3},
                         {"logprobs", 1}, {"ignore_eos", true}});
  EXPECT_EQ(out["object"], "text_completion");
  EXPECT_EQ(out["model"], "tiny");
  ASSERT_EQ(out["choices"].size(), 1u);
  const json& choice = out["choices"][0];
  EXPECT_EQ(choice["index"], 0);
  EXPECT_EQ(choice["finish_reason"], "length");
  // "hello there": he ll o Ġt he r e = 7 tokens with the tiny merges.
  EXPECT_EQ(out["usage"]["prompt_tokens"], 7);
  EXPECT_EQ(out["usage"]["completion_tokens"], 12);
  EXPECT_EQ(out["usage"]["total_tokens"], 19);
  const json& lp = choice["logprobs"];
  ASSERT_EQ(lp["tokens"].size(), 12u);
  ASSERT_EQ(lp["token_logprobs"].size(), 12u);
  ASSERT_EQ(lp["text_offset"].size(), 12u);
  // text_offset: where each token's text starts in the completion's bytes. An
  // ASCII token advances it by its length, a special token by nothing (it is
  // not in the text); a byte that is not UTF-8 alone comes back as U+FFFD.
  EXPECT_EQ(lp["text_offset"][0], 0);
  for (size_t i = 0; i < 12; ++i) {
    const double v = lp["token_logprobs"][i].get<double>();
    EXPECT_TRUE(std::isfinite(v) && v <= 0.0) << v;
    if (i + 1 == 12) break;
    const std::string token = lp["tokens"][i];
    const int64_t step = lp["text_offset"][i + 1].get<int64_t>() - lp["text_offset"][i].get<int64_t>();
    const bool special = token.rfind("<|", 0) == 0 && token.size() > 4;
    const bool ascii = std::all_of(token.begin(), token.end(), [](char c) { return (c & 0x80) == 0; });
    if (special) {
      EXPECT_EQ(step, 0) << token;
    } else if (ascii) {
      EXPECT_EQ(step, static_cast<int64_t>(token.size())) << token;
    } else {
      EXPECT_GE(step, 1) << token;
    }
  }
}

TEST_F(OpenAiServerTest, SameSeedSameTextAndTokenPromptsEqualTextPrompts) {
  const json body = {{"prompt", "the tests"}, {"max_tokens", 10}, {"seed", 42}, {"temperature", 1.0}};
  const json a = Completion(body);
  const json b = Completion(body);
  EXPECT_EQ(a["choices"][0]["text"], b["choices"][0]["text"]);
  // The same prompt as token ids gives the same completion.
  auto tokenizer = HfTokenizer::FromJson(TinyTokenizerJson());
  ASSERT_TRUE(tokenizer.ok());
  json by_ids = body;
  by_ids["prompt"] = tokenizer->Encode("the tests");
  EXPECT_EQ(Completion(by_ids)["choices"][0]["text"], a["choices"][0]["text"]);
  // Greedy decoding ignores the seed.
  const json g1 = Completion({{"prompt", "the tests"}, {"max_tokens", 10}, {"temperature", 0}, {"seed", 1}});
  const json g2 = Completion({{"prompt", "the tests"}, {"max_tokens", 10}, {"temperature", 0}, {"seed", 2}});
  EXPECT_EQ(g1["choices"][0]["text"], g2["choices"][0]["text"]);
}

TEST_F(OpenAiServerTest, NChoicesPerPromptAndListsOfPrompts) {
  const json out = Completion({{"prompt", json::array({"hello", "there"})}, {"n", 3},
                               {"max_tokens", 8}, {"seed", 5}, {"ignore_eos", true}});
  ASSERT_EQ(out["choices"].size(), 6u);
  std::set<std::string> texts;
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(out["choices"][i]["index"], i);
    texts.insert(out["choices"][i]["text"].get<std::string>());
  }
  EXPECT_GT(texts.size(), 1u);  // sampled at temperature 1: not all the same
  EXPECT_EQ(out["usage"]["completion_tokens"], 48);
  // Choice 0 of a list is choice 0 of the prompt alone (same seed).
  const json alone = Completion({{"prompt", "hello"}, {"n", 3}, {"max_tokens", 8}, {"seed", 5},
                                 {"ignore_eos", true}});
  EXPECT_EQ(alone["choices"][0]["text"], out["choices"][0]["text"]);
}

TEST_F(OpenAiServerTest, ChatUsesTheTemplateAndReturnsChatLogprobs) {
  const json messages = json::array({{{"role", "user"}, {"content", "hello"}}});
  const json out = Chat({{"messages", messages}, {"max_tokens", 6}, {"seed", 9}, {"logprobs", true},
                         {"ignore_eos", true}});
  EXPECT_EQ(out["object"], "chat.completion");
  ASSERT_EQ(out["choices"].size(), 1u);
  EXPECT_EQ(out["choices"][0]["message"]["role"], "assistant");
  EXPECT_TRUE(out["choices"][0]["message"]["content"].is_string());
  // prompt_tokens = the Qwen2.5 template rendered and tokenized independently.
  auto tmpl = ChatTemplate::FromFile(LOCKSTEP_SOURCE_DIR "/data/tokenizers/qwen2_5");
  ASSERT_TRUE(tmpl.ok()) << tmpl.status();
  auto rendered = tmpl->Render({{"user", "hello", std::nullopt}});
  ASSERT_TRUE(rendered.ok());
  EXPECT_THAT(*rendered, HasSubstr("<|im_start|>assistant\n"));
  auto tokenizer = HfTokenizer::FromJson(TinyTokenizerJson());
  EXPECT_EQ(out["usage"]["prompt_tokens"].get<size_t>(), tokenizer->Encode(*rendered).size());
  const json& content = out["choices"][0]["logprobs"]["content"];
  ASSERT_EQ(content.size(), 6u);
  for (const json& t : content) {
    EXPECT_TRUE(t["token"].is_string());
    EXPECT_TRUE(std::isfinite(t["logprob"].get<double>()));
    EXPECT_TRUE(t["bytes"].is_array());
    EXPECT_TRUE(t["top_logprobs"].is_array());
  }
  // Content parts are accepted as text.
  const json parts = Chat({{"messages", json::array({{{"role", "user"},
                                                      {"content", json::array({{{"type", "text"}, {"text", "hel"}},
                                                                               {{"type", "text"}, {"text", "lo"}}})}}})},
                           {"max_tokens", 6}, {"seed", 9}, {"ignore_eos", true}});
  EXPECT_EQ(parts["choices"][0]["message"]["content"], out["choices"][0]["message"]["content"]);
}

// Streamed chunks, concatenated, are the non-streamed text, for completions and chat.
TEST_F(OpenAiServerTest, StreamingConcatenatesToTheNonStreamedText) {
  for (const bool chat : {false, true}) {
    json body = {{"model", "tiny"}, {"max_tokens", 20}, {"seed", 77}, {"n", 2}, {"logprobs", chat ? json(true) : json(0)},
                 {"ignore_eos", true}};
    if (chat) {
      body["messages"] = json::array({{{"role", "user"}, {"content", "the hello"}}});
    } else {
      body["prompt"] = "the hello";
    }
    const std::string path = chat ? "/v1/chat/completions" : "/v1/completions";
    const auto whole = server().Post(path, body);
    ASSERT_EQ(whole.status, 200) << whole.raw;
    body["stream"] = true;
    body["stream_options"] = {{"include_usage", true}};
    const auto streamed = server().Post(path, body);
    ASSERT_EQ(streamed.status, 200) << streamed.raw;
    bool done = false;
    const std::vector<json> events = SseEvents(streamed.raw, &done);
    EXPECT_TRUE(done) << streamed.raw;
    std::vector<std::string> texts(2);
    std::vector<std::vector<double>> logprobs(2);
    std::vector<std::string> finish(2);
    int content_chunks = 0;
    json usage;
    for (const json& e : events) {
      ASSERT_FALSE(e.is_discarded());
      EXPECT_EQ(e["object"], chat ? "chat.completion.chunk" : "text_completion");
      if (e.contains("usage")) usage = e["usage"];
      for (const json& c : e["choices"]) {
        const int i = c["index"].get<int>();
        const json& piece = chat ? c["delta"].value("content", json("")) : c["text"];
        texts[i] += piece.get<std::string>();
        if (!piece.get<std::string>().empty()) ++content_chunks;
        if (!c["finish_reason"].is_null()) finish[i] = c["finish_reason"].get<std::string>();
        if (!c["logprobs"].is_null()) {
          const json& values = chat ? c["logprobs"]["content"] : c["logprobs"]["token_logprobs"];
          for (const json& v : values) logprobs[i].push_back(chat ? v["logprob"].get<double>() : v.get<double>());
          EXPECT_LE(values.size(), 1u) << "a chunk carries the token of one engine step";
        }
      }
    }
    for (int i = 0; i < 2; ++i) {
      const json& choice = whole.body["choices"][i];
      EXPECT_EQ(texts[i], chat ? choice["message"]["content"] : choice["text"]) << "chat=" << chat;
      EXPECT_EQ(finish[i], choice["finish_reason"]);
      std::vector<double> expected;
      const json& values = chat ? choice["logprobs"]["content"] : choice["logprobs"]["token_logprobs"];
      for (const json& v : values) expected.push_back(chat ? v["logprob"].get<double>() : v.get<double>());
      EXPECT_EQ(logprobs[i], expected) << "chat=" << chat;  // the same tokens, bit for bit
    }
    EXPECT_GT(content_chunks, 4);  // 20 tokens streamed one by one: many text chunks
    EXPECT_EQ(usage, whole.body["usage"]);
  }
}

TEST_F(OpenAiServerTest, StopStringsCutTheTextBeforeTheStop) {
  const json free_run = Completion({{"prompt", "hello"}, {"max_tokens", 30}, {"seed", 8}, {"ignore_eos", true}});
  const std::string text = free_run["choices"][0]["text"];
  // Stop at two ASCII letters or digits from the middle of the free-running
  // text (the random model writes many non-UTF-8 bytes, which come back replaced).
  size_t at = 3;
  while (at + 1 < text.size() && !(std::isalnum(static_cast<unsigned char>(text[at])) &&
                                   std::isalnum(static_cast<unsigned char>(text[at + 1])))) {
    ++at;
  }
  ASSERT_LT(at + 1, text.size()) << "no two ASCII alphanumerics in a row: " << text;
  const std::string stop = text.substr(at, 2);
  const size_t first = text.find(stop);
  for (const bool stream : {false, true}) {
    json body = {{"model", "tiny"}, {"prompt", "hello"}, {"max_tokens", 30}, {"seed", 8},
                 {"ignore_eos", true}, {"stop", json::array({stop, "never-in-the-text"})}, {"stream", stream}};
    const auto reply = server().Post("/v1/completions", body);
    ASSERT_EQ(reply.status, 200) << reply.raw;
    std::string got, reason;
    if (stream) {
      bool done = false;
      for (const json& e : SseEvents(reply.raw, &done)) {
        for (const json& c : e["choices"]) {
          got += c["text"].get<std::string>();
          if (!c["finish_reason"].is_null()) reason = c["finish_reason"];
        }
      }
    } else {
      got = reply.body["choices"][0]["text"];
      reason = reply.body["choices"][0]["finish_reason"];
      EXPECT_LT(reply.body["usage"]["completion_tokens"].get<int>(), 30);
    }
    EXPECT_EQ(got, text.substr(0, first)) << "stream=" << stream << " stop='" << stop << "'";
    EXPECT_EQ(reason, "stop");
  }
}

// Requests sent at once share engine steps, and each gets what it gets alone.
TEST_F(OpenAiServerTest, ConcurrentRequestsGetTheirOwnResults) {
  std::vector<json> alone(4);
  for (int i = 0; i < 4; ++i) {
    alone[i] = Completion({{"prompt", "hello " + std::to_string(i)}, {"max_tokens", 16}, {"seed", i},
                           {"ignore_eos", true}});
  }
  std::vector<json> together(4);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      together[i] = Completion({{"prompt", "hello " + std::to_string(i)}, {"max_tokens", 16}, {"seed", i},
                                {"ignore_eos", true}, {"stream", false}});
    });
  }
  // Two identical requests at once share a sampling key: the second waits for
  // the first's sequence to leave the engine, and both get the same tokens.
  std::vector<json> twins(2);
  for (int i = 0; i < 2; ++i) {
    threads.emplace_back([&, i] {
      twins[i] = Completion({{"prompt", "hello 0"}, {"max_tokens", 16}, {"seed", 0}, {"ignore_eos", true}});
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < 4; ++i) EXPECT_EQ(together[i]["choices"], alone[i]["choices"]) << i;
  EXPECT_EQ(twins[0]["choices"], alone[0]["choices"]);
  EXPECT_EQ(twins[1]["choices"], alone[0]["choices"]);
}

TEST_F(OpenAiServerTest, BadRequestsGetOpenAiErrorsAndTheServerKeepsServing) {
  json e = Error("/v1/completions", R"({"model": "gpt-4", "prompt": "hi"})", 404);
  EXPECT_EQ(e["code"], "model_not_found");
  EXPECT_EQ(e["param"], "model");
  e = Error("/v1/completions", R"({"model": "tiny", "prompt": "hi",)", 400);
  EXPECT_THAT(e["message"].get<std::string>(), HasSubstr("not valid JSON"));
  e = Error("/v1/completions", R"({"model": "tiny", "prompt": "hi", "n": 9})", 400);
  EXPECT_EQ(e["param"], "n");
  e = Error("/v1/completions", json({{"prompt", std::string(200, 'x')}}).dump(), 400);
  EXPECT_EQ(e["code"], "context_length_exceeded");
  e = Error("/v1/completions", R"({"prompt": "hi", "max_tokens": 500})", 400);
  EXPECT_EQ(e["code"], "context_length_exceeded");
  EXPECT_EQ(e["param"], "max_tokens");
  e = Error("/v1/chat/completions",
            json({{"messages", json::array({{{"role", "user"}, {"content", std::string(200, 'y')}}})}}).dump(), 400);
  EXPECT_EQ(e["code"], "context_length_exceeded");
  EXPECT_EQ(Error("/v1/completions", R"({"prompt": "hi", "temperature": -1})", 400)["param"], "temperature");
  EXPECT_EQ(Error("/v1/completions", R"({"prompt": "hi", "temperature": "hot"})", 400)["param"], "temperature");
  EXPECT_EQ(Error("/v1/completions", R"({"prompt": "hi", "top_p": 0})", 400)["param"], "top_p");
  EXPECT_EQ(Error("/v1/completions", R"({"prompt": "hi", "max_tokens": 0})", 400)["param"], "max_tokens");
  EXPECT_EQ(Error("/v1/completions", R"({"prompt": [1, 2, 99999]})", 400)["param"], "prompt");
  EXPECT_EQ(Error("/v1/completions", R"({"prompt": "hi", "stop": [""]})", 400)["param"], "stop");
  EXPECT_EQ(Error("/v1/completions", R"({"prompt": "hi", "presence_penalty": 1})", 400)["param"],
            "presence_penalty");
  EXPECT_EQ(Error("/v1/completions", R"({"max_tokens": 3})", 400)["param"], "prompt");
  EXPECT_EQ(Error("/v1/completions", R"([1, 2])", 400)["type"], "invalid_request_error");
  EXPECT_EQ(Error("/v1/chat/completions", R"({"messages": []})", 400)["param"], "messages");
  EXPECT_EQ(Error("/v1/chat/completions", R"({"messages": [{"role": "robot", "content": "x"}]})", 400)["param"],
            "messages");
  EXPECT_EQ(server().Get("/v1/nothing").status, 404);
  EXPECT_TRUE(server().Get("/v1/nothing").body.contains("error"));
  EXPECT_EQ(server().Get("/v1/completions").status, 405);
  // Still serving.
  const json out = Completion({{"prompt", "hi"}, {"max_tokens", 3}});
  EXPECT_EQ(out["choices"].size(), 1u);
}

}  // namespace
}  // namespace lockstep::serve::testing

namespace lockstep::serve::testing {
namespace {

// A lockstep char-level checkpoint (no tokenizer.json): completions use the
// char tokenizer with <bos> first and stop at <eos>; chat is refused by name.
TEST(OpenAiServerCharModelTest, CompletionsWithTheCharTokenizerAndNoChat) {
  const fs::path dir = TestDir("char");
  ModelConfig config = TinyConfig();
  config.family = ModelFamily::kLlama;
  config.attention_bias = false;
  config.vocab_size = CharTokenizer().vocab_size();
  auto weights = RandomInitWeights(config, DType::kBF16, 3, 0.3f);
  ASSERT_TRUE(weights.ok());
  ASSERT_TRUE(SaveModelDir(*weights, (dir / "char").string()).ok());
  {
    InProcessServer server(dir / "char", ServerOptions{}, "char");
    auto out = server.Post("/v1/completions", json{{"prompt", "abc"}, {"max_tokens", 50}, {"seed", 1}});
    ASSERT_EQ(out.status, 200) << out.raw;
    EXPECT_EQ(out.body["usage"]["prompt_tokens"], 4);  // <bos> a b c
    const json& choice = out.body["choices"][0];
    const int tokens = out.body["usage"]["completion_tokens"];
    // Either it ran to max_tokens, or it stopped at <eos> before.
    EXPECT_TRUE((choice["finish_reason"] == "length" && tokens == 50) ||
                (choice["finish_reason"] == "stop" && tokens < 50))
        << out.raw;
    auto chat = server.Post("/v1/chat/completions",
                            json{{"messages", json::array({{{"role", "user"}, {"content", "x"}}})}});
    EXPECT_EQ(chat.status, 400);
    EXPECT_THAT(chat.body["error"]["message"].get<std::string>(), ::testing::HasSubstr("no chat template"));
  }
  fs::remove_all(dir);
}

// With an API key, requests without "Authorization: Bearer <key>" get a 401.
TEST(OpenAiServerAuthTest, RequiresTheBearerKey) {
  const fs::path dir = TestDir("auth");
  WriteTinyModelDir(dir / "tiny");
  {
    ServerOptions options;
    options.api_key = "sekrit";
    InProcessServer server(dir / "tiny", options);
    const json body = {{"prompt", "hi"}, {"max_tokens", 2}};
    auto none = server.Post("/v1/completions", body.dump());
    EXPECT_EQ(none.status, 401);
    EXPECT_EQ(none.body["error"]["code"], "invalid_api_key");
    auto wrong = server.Post("/v1/completions", body.dump(), {{"Authorization", "Bearer nope"}});
    EXPECT_EQ(wrong.status, 401);
    auto right = server.Post("/v1/completions", body.dump(), {{"Authorization", "Bearer sekrit"}});
    EXPECT_EQ(right.status, 200) << right.raw;
  }
  fs::remove_all(dir);
}

// What tokenizer.json's TemplateProcessing puts around one sequence (Llama-3's
// <|begin_of_text|> in Meta's file) is added to text prompts, not to rendered chats.
TEST(ServedModelTest, TemplateProcessingSpecialTokensFrameTextPrompts) {
  const fs::path dir = TestDir("template_processing");
  WriteTinyModelDir(dir / "tiny");
  json tokenizer = TinyTokenizerJson();
  tokenizer["post_processor"] = {
      {"type", "Sequence"},
      {"processors",
       json::array({tokenizer["post_processor"],
                    {{"type", "TemplateProcessing"},
                     {"single", json::array({{{"SpecialToken", {{"id", "<|im_start|>"}, {"type_id", 0}}}},
                                             {{"Sequence", {{"id", "A"}, {"type_id", 0}}}},
                                             {{"SpecialToken", {{"id", "<|im_end|>"}, {"type_id", 0}}}}})},
                     {"special_tokens",
                      {{"<|im_start|>", {{"id", "<|im_start|>"}, {"ids", {kImStart}}, {"tokens", {"<|im_start|>"}}}},
                       {"<|im_end|>", {{"id", "<|im_end|>"}, {"ids", {kImEnd}}, {"tokens", {"<|im_end|>"}}}}}}}})}};
  std::ofstream(dir / "tiny" / "tokenizer.json") << tokenizer.dump();
  auto model = ServedModel::Load({(dir / "tiny").string(), "", "bf16", ""});
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ((*model)->name(), "tiny");
  // "hello": he ll o = 256 257 111.
  EXPECT_EQ((*model)->EncodePrompt("hello"), (std::vector<int32_t>{kImStart, 256, 257, 111, kImEnd}));
  EXPECT_EQ((*model)->EncodeChat("hello"), (std::vector<int32_t>{256, 257, 111}));
  EXPECT_EQ((*model)->stop_token_ids(), (std::vector<int32_t>{kImEnd, kEndOfText}));
  EXPECT_EQ((*model)->Decode({kImStart, 256, kImEnd}), "he");
  EXPECT_EQ((*model)->TokenText(kImEnd), "<|im_end|>");
  fs::remove_all(dir);
}

}  // namespace
}  // namespace lockstep::serve::testing
