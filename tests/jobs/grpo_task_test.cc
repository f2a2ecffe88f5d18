// GRPO tasks: prompts are a pure function of the index, completions stop at
// the newline, the exact-answer reward is right on hand-picked completions.
#include "jobs/grpo_task.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <vector>

#include "config/config.h"
#include "gtest/gtest.h"
#include "jobs/grpo_options.h"
#include "model/weights.h"
#include "sandbox/runner.h"

namespace lockstep::jobs {
namespace {

GrpoTaskOptions Arithmetic() {
  GrpoTaskOptions o;
  o.kind = "arithmetic";
  o.arithmetic.max_digits = 2;
  o.seed = 5;
  return o;
}

TEST(GrpoTaskTest, PromptsArePureFunctionsOfTheIndex) {
  auto a = GrpoTask::Create(Arithmetic(), nullptr).value();
  auto b = GrpoTask::Create(Arithmetic(), nullptr).value();
  for (uint64_t i : std::vector<uint64_t>{0, 7, 123456, kHeldOutPromptBase + 3}) {
    const GrpoPrompt pa = a->Prompt(i), pb = b->Prompt(i);
    EXPECT_EQ(pa.text, pb.text);
    EXPECT_EQ(pa.tokens, pb.tokens);
    EXPECT_EQ(pa.tokens.front(), CharTokenizer::kBos);
    EXPECT_EQ(pa.index, i);
  }
  EXPECT_NE(a->Prompt(0).text + a->Prompt(1).text, a->Prompt(1).text + a->Prompt(0).text);
}

namespace fs = std::filesystem;
const fs::path kTokenizers = fs::path(LOCKSTEP_SOURCE_DIR) / "data" / "tokenizers";

// The fixture text of chat_<family>.jsonl's [system, user] conversation with the
// generation prompt (apply_chat_template's output), and its two messages.
struct ChatFixture {
  std::string system, user, text;
};
ChatFixture SystemUserFixture(const std::string& family) {
  std::ifstream in(kTokenizers / "reference" / ("chat_" + family + ".jsonl"));
  std::string line;
  while (std::getline(in, line)) {
    const nlohmann::json e = nlohmann::json::parse(line);
    const nlohmann::json& m = e["messages"];
    if (e["add_generation_prompt"].get<bool>() && !e.contains("enable_thinking") && m.size() == 2 &&
        m[0]["role"] == "system" && m[1]["role"] == "user") {
      return {m[0]["content"], m[1]["content"], e["text"]};
    }
  }
  ADD_FAILURE() << "no [system, user] conversation in chat_" << family << ".jsonl";
  return {};
}

// task.prompt_format = "chat": the prompt is the fixture's conversation with the
// task text as the user's message, spelled by the char tokenizer after <bos>.
TEST(GrpoTaskTest, ChatPromptsAreTheTemplatesRendering) {
  for (const std::string family : {"qwen3", "qwen2_5", "llama3"}) {
    const ChatFixture fixture = SystemUserFixture(family);
    GrpoTaskOptions o = Arithmetic();
    o.chat = ChatPrompter::ForModelDir((kTokenizers / family).string(), "task.prompt_format",
                                       fixture.system).value();
    auto task = GrpoTask::Create(o, nullptr).value();
    auto raw = GrpoTask::Create(Arithmetic(), nullptr).value();
    for (uint64_t i : {0, 9}) {
      const GrpoPrompt prompt = task->Prompt(i);
      std::string expected = fixture.text;
      const size_t at = expected.find(fixture.user);
      ASSERT_NE(at, std::string::npos);
      expected.replace(at, fixture.user.size(), raw->Prompt(i).text);
      EXPECT_EQ(prompt.text, expected) << family;
      EXPECT_EQ(prompt.answer, raw->Prompt(i).answer);
      std::vector<int32_t> tokens{CharTokenizer::kBos};
      for (int32_t t : CharTokenizer().Encode(expected)) tokens.push_back(t);
      EXPECT_EQ(prompt.tokens, tokens) << family;
    }
  }
}

// The config path: chat needs model.init_from with a chat template; the error
// names the key and the directory, and the longer prompts count against the context.
TEST(GrpoTaskTest, ChatPromptFormatConfigErrors) {
  const fs::path dir = fs::path(::testing::TempDir()) / ("lockstep_grpo_chat_" + std::to_string(getpid()));
  fs::remove_all(dir);
  ModelConfig config;
  config.hidden_size = 32;
  config.num_layers = 1;
  config.num_heads = 2;
  config.num_kv_heads = 1;
  config.head_dim = 16;
  config.intermediate_size = 48;
  config.vocab_size = CharTokenizer().vocab_size();
  config.max_position_embeddings = 64;
  ASSERT_TRUE(SaveModelDir(RandomInitWeights(config, DType::kF32, 3, 0.1f).value(), (dir / "m").string()).ok());
  auto read = [&](const std::string& extra) {
    auto c = config::Config::FromString("[model]\ninit_from = \"" + (dir / "m").string() +
                                        "\"\n[rollout]\nmax_new_tokens = 4\n" + extra, "grpo.toml");
    EXPECT_TRUE(c.ok()) << c.status();
    return ReadGrpoOptions(*c);
  };
  ASSERT_TRUE(read("").ok()) << read("").status();
  EXPECT_FALSE(read("").value().task.chat.has_value());
  auto missing = read("[task]\nprompt_format = \"chat\"\n");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(missing.status().message().find("task.prompt_format"), std::string::npos) << missing.status();
  EXPECT_NE(missing.status().message().find((dir / "m").string()), std::string::npos) << missing.status();
  EXPECT_FALSE(read("[task]\nsystem_prompt = \"Be brief.\"\n").ok());  // needs chat

  fs::copy_file(kTokenizers / "qwen3" / "tokenizer_config.json", dir / "m" / "tokenizer_config.json");
  auto chat = read("[task]\nprompt_format = \"chat\"\n");
  ASSERT_TRUE(chat.ok()) << chat.status();
  ASSERT_TRUE(chat->task.chat.has_value());
  EXPECT_EQ(chat->task.chat->family(), ChatTemplate::Family::kQwen3);
  // 64 positions: a long system prompt leaves no room for the completion.
  auto too_long = read("[task]\nprompt_format = \"chat\"\nsystem_prompt = \"" + std::string(40, 'x') + "\"\n");
  ASSERT_FALSE(too_long.ok());
  EXPECT_NE(too_long.status().message().find("max_position_embeddings"), std::string::npos) << too_long.status();
  fs::remove_all(dir);
}

TEST(GrpoTaskTest, CompletionStopsAtNewline) {
  auto task = GrpoTask::Create(Arithmetic(), nullptr).value();
  const TextTokenizer& tok = task->tokenizer();
  EXPECT_EQ(task->CompletionText(tok.Encode("42\n7")), "42");
  std::vector<int32_t> with_eos = tok.Encode("13");
  with_eos.push_back(CharTokenizer::kEos);
  EXPECT_EQ(task->CompletionText(with_eos), "13");
  const std::vector<int32_t> stop = task->StopTokens();
  EXPECT_NE(std::find(stop.begin(), stop.end(), CharTokenizer::kEos), stop.end());
  EXPECT_NE(std::find(stop.begin(), stop.end(), tok.Encode("\n")[0]), stop.end());
}

TEST(GrpoTaskTest, ExactAnswerReward) {
  auto task = GrpoTask::Create(Arithmetic(), nullptr).value();
  EXPECT_FALSE(task->NeedsSandbox());
  const GrpoPrompt p = task->Prompt(3);
  const auto rewards = task->Score({&p, &p, &p, &p}, {p.answer, p.answer + "0", "", " " + p.answer}).value();
  EXPECT_EQ(rewards[0].status, rewards::RewardStatus::kOk);
  EXPECT_EQ(rewards[0].value, 1.0);
  EXPECT_EQ(rewards[1].status, rewards::RewardStatus::kWrongAnswer);
  EXPECT_EQ(rewards[1].value, 0.0);
  EXPECT_EQ(rewards[2].status, rewards::RewardStatus::kNoAnswer);
  EXPECT_EQ(rewards[3].value, 0.0);  // exact: no trimming
}

TEST(GrpoTaskTest, UnknownKindAndMissingSandboxAreErrors) {
  GrpoTaskOptions o = Arithmetic();
  o.kind = "chess";
  EXPECT_FALSE(GrpoTask::Create(o, nullptr).ok());
  o.kind = "python_expression";
  const auto no_pool = GrpoTask::Create(o, nullptr);
  ASSERT_FALSE(no_pool.ok());
  EXPECT_NE(no_pool.status().message().find("sandbox"), std::string::npos);
}

// A pool whose first batch fails like a killed sandbox worker (sandbox_error),
// then runs programs by a fixed rule: print(<digits>) prints the digits.
class FlakyExecutor : public rewards::ProgramExecutor {
 public:
  std::vector<sandbox::RunResult> RunBatch(std::span<const sandbox::RunRequest> requests) override {
    ++batches;
    std::vector<sandbox::RunResult> out(requests.size());
    for (size_t i = 0; i < requests.size(); ++i) {
      if (batches == 1 && i == 0) {
        out[i].status = sandbox::RunStatus::kSandboxError;
        out[i].message = "worker killed";
        continue;
      }
      const std::string& src = requests[i].source;  // "print(<expr>)\n"
      const std::string expr = src.substr(6, src.size() - 8);
      out[i].status = expr + "\n" == requests[i].expected_stdout ? sandbox::RunStatus::kOk
                                                                  : sandbox::RunStatus::kWrongAnswer;
      ran.push_back(expr);
    }
    return out;
  }
  std::string Describe() const override { return "flaky test pool"; }
  int batches = 0;
  std::vector<std::string> ran;
};

TEST(GrpoTaskTest, SandboxErrorIsRetriedNeverScoredZero) {
  GrpoTaskOptions o = Arithmetic();
  o.kind = "python_expression";
  FlakyExecutor pool;
  auto task = GrpoTask::Create(o, &pool).value();
  EXPECT_TRUE(task->NeedsSandbox());
  const GrpoPrompt p = task->Prompt(1);
  const auto rewards = task->Score({&p, &p, &p}, {p.answer, "0", ""}).value();
  EXPECT_EQ(pool.batches, 2);  // the failed sample ran again, alone
  EXPECT_EQ(pool.ran, (std::vector<std::string>{"0", p.answer}));
  EXPECT_EQ(rewards[0].status, rewards::RewardStatus::kOk);  // not 0 for the worker's death
  EXPECT_EQ(rewards[0].value, 1.0);
  EXPECT_EQ(rewards[1].status, rewards::RewardStatus::kWrongAnswer);
  EXPECT_EQ(rewards[2].status, rewards::RewardStatus::kNoAnswer);  // never executed
}

class BrokenExecutor : public rewards::ProgramExecutor {
 public:
  std::vector<sandbox::RunResult> RunBatch(std::span<const sandbox::RunRequest> requests) override {
    std::vector<sandbox::RunResult> out(requests.size());
    for (auto& r : out) r.status = sandbox::RunStatus::kSandboxError;
    return out;
  }
  std::string Describe() const override { return "broken test pool"; }
};

TEST(GrpoTaskTest, PersistentSandboxErrorFailsTheStepLoudly) {
  GrpoTaskOptions o = Arithmetic();
  o.kind = "python_expression";
  o.max_sandbox_retries = 2;
  BrokenExecutor pool;
  auto task = GrpoTask::Create(o, &pool).value();
  const GrpoPrompt p = task->Prompt(1);
  const auto rewards = task->Score({&p}, {p.answer});
  ASSERT_FALSE(rewards.ok());
  EXPECT_NE(rewards.status().message().find("broken test pool"), std::string::npos);
}

}  // namespace
}  // namespace lockstep::jobs
