// `lockstep eval passk` end to end on the puzzle set: reference solutions score
// 1.0, deliberately broken samples score what they should, and the JSONL,
// engine and endpoint (a local HTTP server thread, and an HTTPS one) sources all feed the same
// scorer. Runtime: the reference test runs python and cpp only (all 20
// problems, ~12 s on 2 cores); configs/eval-passk-reference.toml runs every
// installed language. Needs bubblewrap, python3 and g++ (as tests/sandbox).
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "config/config.h"
#include "eval/http_client.h"
#include "eval/passk.h"
#include "eval/passk_report.h"
#include "eval/sample_files.h"
#include "gtest/gtest.h"
#include "model/char_tokenizer.h"
#include "model/weights.h"
#include "nlohmann/json.hpp"
#include "rewards/problem_set.h"

namespace lockstep::eval {
namespace {

namespace fs = std::filesystem;

const std::string kPuzzles = LOCKSTEP_SOURCE_DIR "/data/puzzles";
const std::string kProblem = "01-sum-of-multiples";

std::string FreshDir(const std::string& name) {
  const std::string dir = (fs::temp_directory_path() / ("lockstep-eval-" + name + "-" + std::to_string(getpid()))).string();
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

absl::StatusOr<PassKEvalSummary> Eval(const std::string& toml, const std::string& run_dir,
                                      const std::string& samples_file = "") {
  auto config = config::Config::FromString(toml, "test.toml");
  if (!config.ok()) return config.status();
  auto options = ReadPassKOptions(*config, samples_file);
  if (!options.ok()) return options.status();
  if (absl::Status unknown = config->CheckNoUnknownKeys(); !unknown.ok()) return unknown;
  fs::create_directories(run_dir);
  return RunPassKEval(*options, run_dir, nullptr);
}

std::string Fenced(const std::string& language, const std::string& code) {
  return "Here is my solution.\n```" + language + "\n" + code + "```\n";
}

TEST(EvalPassKTest, ReferenceSolutionsScoreOneInPythonAndCpp) {
  const std::string run = FreshDir("reference");
  auto summary = Eval("[eval]\nproblems = \"" + kPuzzles +
                          "\"\nsamples = \"reference\"\nlanguages = [\"python\", \"cpp\"]\n"
                          "[eval.bootstrap]\nresamples = 200\n",
                      run);
  ASSERT_TRUE(summary.ok()) << summary.status();
  auto problems = rewards::LoadProblemSet(kPuzzles);
  ASSERT_TRUE(problems.ok());
  ASSERT_EQ(summary->report.cells.size(), 2u);
  for (const auto& cell : summary->report.cells) {
    EXPECT_EQ(cell.samples, static_cast<int64_t>(problems->problems.size())) << cell.language;
    EXPECT_EQ(cell.passed, cell.samples) << cell.language << ": " << nlohmann::json(cell.statuses).dump();
    ASSERT_EQ(cell.max_k, 1);
    EXPECT_EQ(cell.curve[0].estimate, 1.0);
    EXPECT_EQ(cell.curve[0].low, 1.0);
  }
  for (const char* file : {"passk.json", "passk.md", "passk.html", "samples.jsonl"}) {
    EXPECT_TRUE(fs::exists(run + "/" + file)) << file;
  }
  const std::string md = ReadAll(run + "/passk.md");
  EXPECT_NE(md.find("## pass@1"), std::string::npos);
  EXPECT_NE(md.find("| Lang | reference |"), std::string::npos) << md;
  const std::string all = std::to_string(problems->problems.size());
  EXPECT_NE(md.find("| python | 1.00 [1.00, 1.00] (" + all + "/" + all + " problems) |"),
            std::string::npos) << md;
  EXPECT_NE(md.find("Samples: reference solutions from " + kPuzzles + " (no model); " + all +
                    " problems in the evaluated set."),
            std::string::npos) << md;
  fs::remove_all(run);
}

TEST(EvalPassKTest, BrokenSamplesScoreWhatTheyShould) {
  const std::string run = FreshDir("broken");
  auto problems = rewards::LoadProblemSet(kPuzzles);
  ASSERT_TRUE(problems.ok());
  const std::string good_py = problems->Find(kProblem)->solutions.at("python");
  const std::string samples_path = run + "/in.jsonl";
  {
    std::ofstream out(samples_path);
    auto line = [&](const std::string& model, const std::string& language, const std::string& completion) {
      out << nlohmann::json{{"problem", kProblem}, {"language", language}, {"completion", completion},
                            {"model", model}}.dump()
          << "\n";
    };
    // Model "m": 2 of 4 python samples pass; its cpp sample does not compile.
    line("m", "python", Fenced("python", good_py));
    line("m", "python", Fenced("python", "print(98)\n"));  // right on one test only: wrong_answer
    line("m", "py", "```python\n" + good_py + "```\nand a shorter variant:\n```python\nprint(0)\n```\n");
    line("m", "python", "print(42)  # but no code block");  // no_code: never executed
    line("m", "cpp", Fenced("cpp", "int main( {\n"));
    // Model "z": the good solution, but its first block is a decoy (last-block rule).
    line("z", "python", Fenced("python", "print('decoy')\n") + Fenced("python", good_py));
  }
  fs::create_directories(run + "/out");
  auto summary = Eval("[eval]\nproblems = \"" + kPuzzles + "\"\nk = [1, 2]\n[eval.bootstrap]\nresamples = 100\n",
                 run + "/out", samples_path);
  ASSERT_TRUE(summary.ok()) << summary.status();
  const auto* m_py = summary->report.Find("m", "python");
  ASSERT_NE(m_py, nullptr);
  EXPECT_EQ(m_py->samples, 4);
  EXPECT_EQ(m_py->judged, 4);
  EXPECT_EQ(m_py->passed, 1);  // the third sample's LAST block prints 0
  EXPECT_EQ(m_py->statuses.at("wrong_answer"), 2);
  EXPECT_EQ(m_py->statuses.at("no_code"), 1);  // its own status, counted as a failure
  EXPECT_EQ(m_py->statuses.count("runtime_error"), 0u);
  EXPECT_EQ(m_py->statuses.count("no_answer"), 0u);
  ASSERT_EQ(m_py->max_k, 4);
  EXPECT_DOUBLE_EQ(m_py->curve[0].estimate, 0.25);
  EXPECT_DOUBLE_EQ(m_py->curve[1].estimate, 0.5);  // 1 - C(3,2)/C(4,2)
  const auto* m_cpp = summary->report.Find("m", "cpp");
  ASSERT_NE(m_cpp, nullptr);
  EXPECT_EQ(m_cpp->statuses.at("compile_error"), 1);
  EXPECT_EQ(m_cpp->curve[0].estimate, 0.0);
  const auto* z = summary->report.Find("z", "python");
  ASSERT_NE(z, nullptr);
  EXPECT_EQ(z->passed, 1);
  const nlohmann::json json = nlohmann::json::parse(ReadAll(run + "/out/passk.json"));
  EXPECT_EQ(json["cells"][0]["problems"][0]["n"], 4);
  EXPECT_EQ(json["cells"][0]["problems"][0]["c"], 1);
  EXPECT_EQ(json["cells"][0]["pass_at_k"]["2"]["estimate"], 0.5);
  const std::string md = ReadAll(run + "/out/passk.md");
  EXPECT_NE(md.find("| Lang | m | z |"), std::string::npos) << md;
  const std::string all = std::to_string(problems->problems.size());
  // Each cell says how many problems it covers: one, of the whole set.
  EXPECT_NE(md.find("| cpp | .00 [.00, .00] (1/" + all + " problems) | — |"), std::string::npos) << md;
  EXPECT_NE(md.find("Samples: completions read from " + samples_path), std::string::npos) << md;
  EXPECT_NE(md.find("no_code 1"), std::string::npos) << md;
  const std::string jsonl = ReadAll(run + "/out/samples.jsonl");
  EXPECT_NE(jsonl.find("\"status\":\"no_code\""), std::string::npos) << jsonl;
  const std::string html = ReadAll(run + "/out/passk.html");
  // One chart per language, both models overlaid on it, the y axis named and
  // the tabulated ks (1 and 2) marked.
  size_t charts = 0;
  for (size_t at = html.find("<svg"); at != std::string::npos; at = html.find("<svg", at + 1)) ++charts;
  EXPECT_EQ(charts, 2u);
  const std::string python_chart = html.substr(html.find("python: pass@k vs k"));
  EXPECT_LT(python_chart.find(">m<"), python_chart.find("</svg>"));
  EXPECT_LT(python_chart.find(">z<"), python_chart.find("</svg>"));
  EXPECT_NE(html.find("pass@k (mean over problems)</text>"), std::string::npos);
  EXPECT_NE(html.find(">k=1</text>"), std::string::npos);
  EXPECT_NE(html.find(">k=2</text>"), std::string::npos);
  EXPECT_NE(html.find("<polyline"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("http://"), html.find("http://www.w3.org/2000/svg"));  // no external resource
  fs::remove_all(run);
}

TEST(EvalPassKTest, InfrastructureFailuresAreLeftOutOfN) {
  std::vector<rewards::EvalSample> samples(5, rewards::EvalSample{"m", "p", "hack", ""});
  std::vector<rewards::RewardResult> results(5);
  for (auto& r : results) r.status = rewards::RewardStatus::kToolchainUnavailable;
  samples.push_back({"m", "p", "python", ""});
  samples.push_back({"m", "p", "python", ""});
  samples.push_back({"m", "q", "python", ""});
  results.push_back({1.0, rewards::RewardStatus::kOk, ""});
  results.push_back({0.0, rewards::RewardStatus::kSandboxError, ""});
  results.push_back({0.0, rewards::RewardStatus::kSandboxError, ""});
  const auto report = rewards::TallyPassK(samples, results, {1}, {});
  const auto* hack = report.Find("m", "hack");
  ASSERT_NE(hack, nullptr);
  EXPECT_TRUE(hack->curve.empty());  // never a pass, never a 0
  EXPECT_NE(hack->note.find("toolchain_unavailable 5"), std::string::npos) << hack->note;
  const auto* python = report.Find("m", "python");
  EXPECT_EQ(python->judged, 1);
  EXPECT_EQ(python->infrastructure_failures, 2);
  EXPECT_EQ(python->unjudged_problems, std::vector<std::string>{"q"});
  EXPECT_EQ(python->curve[0].estimate, 1.0);  // 1/1 on p; q left out, not counted as 0
  EXPECT_NE(PassKMarkdown(report, {.title = "t", .source = "s", .problems_in_set = 2}).find("| hack | not judged |"), std::string::npos);
}

// A one-connection-at-a-time HTTP server on 127.0.0.1:<random port> that
// answers OpenAI completions requests with `choices` copies of `text`.
class FakeCompletionsServer {
 public:
  explicit FakeCompletionsServer(std::string text) : text_(std::move(text)) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    socklen_t len = sizeof(addr);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    listen(fd_, 16);
    thread_ = std::thread([this] { Serve(); });
  }
  ~FakeCompletionsServer() {
    stop_ = true;
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1/completions"; }
  int requests() const { return requests_; }
  std::string last_authorization() const { return authorization_; }

 private:
  void Serve() {
    while (!stop_) {
      const int c = accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string raw;
      char buffer[4096];
      size_t body_start = std::string::npos, content_length = 0;
      while (true) {
        const ssize_t n = recv(c, buffer, sizeof(buffer), 0);
        if (n <= 0) break;
        raw.append(buffer, n);
        if (body_start == std::string::npos && (body_start = raw.find("\r\n\r\n")) != std::string::npos) {
          body_start += 4;
          const size_t at = raw.find("Content-Length: ");
          content_length = std::stoul(raw.substr(at + 16));
        }
        if (body_start != std::string::npos && raw.size() >= body_start + content_length) break;
      }
      if (const size_t at = raw.find("Authorization: "); at != std::string::npos) {
        authorization_ = raw.substr(at + 15, raw.find("\r\n", at) - at - 15);
      }
      const nlohmann::json request = nlohmann::json::parse(raw.substr(body_start), nullptr, false);
      nlohmann::json reply{{"object", "text_completion"}, {"choices", nlohmann::json::array()}};
      const int n = request.is_object() ? request.value("n", 1) : 1;
      for (int i = 0; i < n; ++i) reply["choices"].push_back({{"index", i}, {"text", text_}});
      // Chunked on purpose: the client must reassemble it.
      const std::string body = reply.dump();
      const size_t half = body.size() / 2;
      std::ostringstream response;
      response << "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
               << std::hex << half << "\r\n" << body.substr(0, half) << "\r\n"
               << std::hex << body.size() - half << "\r\n" << body.substr(half) << "\r\n0\r\n\r\n";
      const std::string out = response.str();
      send(c, out.data(), out.size(), MSG_NOSIGNAL);
      close(c);
      ++requests_;
    }
  }

  std::string text_;
  int fd_ = -1, port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0};
  std::string authorization_;
  std::thread thread_;
};

TEST(EvalPassKTest, EndpointSourceAgainstALocalServer) {
  auto problems = rewards::LoadProblemSet(kPuzzles);
  ASSERT_TRUE(problems.ok());
  FakeCompletionsServer server(Fenced("python", problems->Find(kProblem)->solutions.at("python")));
  setenv("LOCKSTEP_TEST_EVAL_KEY", "sekrit", 1);
  const std::string run = FreshDir("endpoint");
  auto summary = Eval("[eval]\nproblems = \"" + kPuzzles + "\"\nsamples = \"endpoint\"\nlanguages = [\"python\"]\n"
                          "only_problems = [\"" + kProblem + "\"]\nk = [1, 5]\n"
                          "[endpoint]\nurl = \"" + server.url() + "\"\nmodel = \"fake-1\"\n"
                          "api_key_env = \"LOCKSTEP_TEST_EVAL_KEY\"\nn = 5\nsamples_per_request = 2\n",
                      run);
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(server.requests(), 3);  // 2 + 2 + 1
  EXPECT_EQ(server.last_authorization(), "Bearer sekrit");
  const auto* cell = summary->report.Find("fake-1", "python");
  ASSERT_NE(cell, nullptr);
  EXPECT_EQ(cell->samples, 5);
  EXPECT_EQ(cell->passed, 5);
  // Unset key variable and unreachable endpoint: one clear error each.
  unsetenv("LOCKSTEP_TEST_EVAL_KEY");
  auto no_key = Eval("[eval]\nproblems = \"" + kPuzzles + "\"\nsamples = \"endpoint\"\nlanguages = [\"python\"]\n"
                     "[endpoint]\nurl = \"" + server.url() + "\"\nmodel = \"m\"\napi_key_env = \"LOCKSTEP_TEST_EVAL_KEY\"\n",
                     run);
  EXPECT_NE(std::string(no_key.status().message()).find("LOCKSTEP_TEST_EVAL_KEY"), std::string::npos);
  auto down = Eval("[eval]\nproblems = \"" + kPuzzles + "\"\nsamples = \"endpoint\"\nlanguages = [\"python\"]\n"
                   "only_problems = [\"" + kProblem + "\"]\n[endpoint]\nurl = \"http://127.0.0.1:9/v1/completions\"\n"
                   "model = \"m\"\nretries = 0\ntimeout_s = 2\n",
                   run);
  ASSERT_FALSE(down.ok());
  EXPECT_NE(std::string(down.status().message()).find("127.0.0.1:9"), std::string::npos) << down.status();
  auto https = HttpUrl::Parse("https://api.example.com/v1");
  ASSERT_TRUE(https.ok()) << https.status();
  EXPECT_TRUE(https->https);
  EXPECT_EQ(https->port, 443);
  EXPECT_EQ(https->path, "/v1");
  EXPECT_FALSE(HttpUrl::Parse("ftp://api.example.com/v1").ok());
  EXPECT_FALSE(HttpUrl::Parse("http://host:12x/v1").ok());
  fs::remove_all(run);
}

// https: an httplib TLS server with a self-signed certificate made by the
// openssl CLI. Trusted through endpoint.ca_file, the eval runs; without it the
// certificate is refused with an error naming endpoint.ca_file.
TEST(EvalPassKTest, EndpointSourceOverHttps) {
  const std::string dir = FreshDir("https");
  const std::string cert = dir + "/cert.pem", key = dir + "/key.pem";
  const std::string make_cert =
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost -addext "
      "subjectAltName=IP:127.0.0.1,DNS:localhost -keyout " + key + " -out " + cert + " >/dev/null 2>&1";
  if (std::system(make_cert.c_str()) != 0) GTEST_SKIP() << "no openssl command to make a certificate";
  auto problems = rewards::LoadProblemSet(kPuzzles);
  ASSERT_TRUE(problems.ok());
  const std::string text = Fenced("python", problems->Find(kProblem)->solutions.at("python"));
  httplib::SSLServer server(cert.c_str(), key.c_str());
  ASSERT_TRUE(server.is_valid());
  std::atomic<int> requests{0};
  server.Post("/v1/completions", [&](const httplib::Request& req, httplib::Response& res) {
    const nlohmann::json request = nlohmann::json::parse(req.body, nullptr, false);
    nlohmann::json reply{{"object", "text_completion"}, {"choices", nlohmann::json::array()}};
    for (int i = 0; i < request.value("n", 1); ++i) reply["choices"].push_back({{"index", i}, {"text", text}});
    ++requests;
    res.set_content(reply.dump(), "application/json");
  });
  const int port = server.bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);
  std::thread serving([&] { server.listen_after_bind(); });
  const std::string url = "https://127.0.0.1:" + std::to_string(port) + "/v1/completions";
  const std::string toml = "[eval]\nproblems = \"" + kPuzzles + "\"\nsamples = \"endpoint\"\nlanguages = [\"python\"]\n"
                           "only_problems = [\"" + kProblem + "\"]\nk = [1]\n"
                           "[endpoint]\nurl = \"" + url + "\"\nmodel = \"tls-1\"\nn = 2\nretries = 0\ntimeout_s = 10\n";
  auto trusted = Eval(toml + "ca_file = \"" + cert + "\"\n", dir + "/trusted");
  ASSERT_TRUE(trusted.ok()) << trusted.status();
  const auto* cell = trusted->report.Find("tls-1", "python");
  ASSERT_NE(cell, nullptr);
  EXPECT_EQ(cell->samples, 2);
  EXPECT_EQ(cell->passed, 2);
  EXPECT_EQ(requests.load(), 1);
  auto untrusted = Eval(toml, dir + "/untrusted");
  ASSERT_FALSE(untrusted.ok());
  EXPECT_NE(std::string(untrusted.status().message()).find("endpoint.ca_file"), std::string::npos)
      << untrusted.status();
  EXPECT_EQ(requests.load(), 1);  // the request never reached the server
  server.stop();
  serving.join();
  fs::remove_all(dir);
}

TEST(EvalPassKTest, EngineSourceSamplesACheckpoint) {
  // A tiny random char-level model: it writes noise, never a program. What is
  // tested is the mechanism: n samples per prompt, reproducible, all judged.
  const std::string dir = FreshDir("engine");
  ModelConfig config;
  config.hidden_size = 32;
  config.num_layers = 1;
  config.num_heads = 2;
  config.num_kv_heads = 1;
  config.head_dim = 16;
  config.intermediate_size = 48;
  config.vocab_size = CharTokenizer().vocab_size();
  config.max_position_embeddings = 256;
  auto weights = RandomInitWeights(config, DType::kBF16, 7, 0.2f);
  ASSERT_TRUE(weights.ok());
  ASSERT_TRUE(SaveModelDir(*weights, dir + "/model").ok());
  const std::string toml = "[eval]\nproblems = \"" + kPuzzles + "\"\nsamples = \"engine\"\nlanguages = [\"python\"]\n"
                           "only_problems = [\"" + kProblem + "\"]\nk = [1, 3]\n"
                           "[prompt]\ntemplate = \"{problem} in {language}:\\n```{language}\\n\"\n"
                           "[engine]\nmodel = \"" + dir + "/model\"\nn = 3\nmax_tokens = 24\ntemperature = 1.0\nseed = 5\n";
  fs::create_directories(dir + "/a");
  fs::create_directories(dir + "/b");
  auto a = Eval(toml, dir + "/a");
  ASSERT_TRUE(a.ok()) << a.status();
  const auto* cell = a->report.Find("model", "python");
  ASSERT_NE(cell, nullptr);
  EXPECT_EQ(cell->samples, 3);
  EXPECT_EQ(cell->judged, 3);  // noise is judged (a runtime or wrong answer), not an infra failure
  EXPECT_EQ(cell->passed, 0);
  auto b = Eval(toml, dir + "/b");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(ReadAll(dir + "/a/samples.jsonl"), ReadAll(dir + "/b/samples.jsonl"));  // seeded
  fs::remove_all(dir);
}

// prompt.format = "chat": with the engine, each prompt is the template's text
// as a user turn rendered by the model's chat template (the chat-template
// fixture's text for that conversation); a model without a chat template is a
// config error naming the key and the model. With an endpoint, the system
// prompt goes first in the messages of a chat API request.
TEST(EvalPassKTest, ChatPromptFormat) {
  const std::string dir = FreshDir("chat");
  const std::string model = dir + "/model";
  fs::create_directories(model);
  auto read = [&](const std::string& extra) {
    auto config = config::Config::FromString(
        "[eval]\nproblems = \"" + kPuzzles + "\"\nsamples = \"engine\"\nlanguages = [\"python\"]\n"
        "[engine]\nmodel = \"" + model + "\"\n" + extra, "test.toml");
    EXPECT_TRUE(config.ok()) << config.status();
    return ReadPassKOptions(*config);
  };
  auto raw = read("");
  ASSERT_TRUE(raw.ok()) << raw.status();
  EXPECT_FALSE(raw->engine.chat.has_value());  // the default: the text as it is
  auto no_template = read("[prompt]\nformat = \"chat\"\n");
  ASSERT_FALSE(no_template.ok());
  EXPECT_EQ(no_template.status().code(), absl::StatusCode::kInvalidArgument);  // exit 2
  EXPECT_NE(no_template.status().message().find("prompt.format"), std::string::npos) << no_template.status();
  EXPECT_NE(no_template.status().message().find(model), std::string::npos) << no_template.status();
  auto system_without_chat = read("[prompt]\nsystem_prompt = \"Be brief.\"\n");
  ASSERT_FALSE(system_without_chat.ok());
  EXPECT_NE(system_without_chat.status().message().find("prompt.format"), std::string::npos);

  // Qwen3's tokenizer_config.json: the rendered prompt is the fixture's text.
  fs::copy_file(LOCKSTEP_SOURCE_DIR "/data/tokenizers/qwen3/tokenizer_config.json",
                model + "/tokenizer_config.json");
  std::ifstream fixtures(LOCKSTEP_SOURCE_DIR "/data/tokenizers/reference/chat_qwen3.jsonl");
  std::string line;
  int checked = 0;
  while (std::getline(fixtures, line)) {
    const nlohmann::json entry = nlohmann::json::parse(line);
    const nlohmann::json& messages = entry["messages"];
    if (!entry["add_generation_prompt"].get<bool>() || entry.contains("enable_thinking") ||
        messages.size() != 2 || messages[0]["role"] != "system" || messages[1]["role"] != "user") {
      continue;
    }
    auto options = read("[prompt]\nformat = \"chat\"\ntemplate = \"{problem}\"\nsystem_prompt = " +
                        messages[0]["content"].dump() + "\n");
    ASSERT_TRUE(options.ok()) << options.status();
    ASSERT_TRUE(options->engine.chat.has_value());
    rewards::Problem problem;
    problem.id = messages[1]["content"].get<std::string>();
    auto text = TaskPromptText(options->prompt_template, problem, "python", &*options->engine.chat);
    ASSERT_TRUE(text.ok()) << text.status();
    EXPECT_EQ(*text, entry["text"].get<std::string>());
    ++checked;
  }
  EXPECT_GE(checked, 1);

  // Endpoint: chat needs the chat API; the system prompt leads the messages.
  auto problems = rewards::LoadProblemSet(kPuzzles);
  ASSERT_TRUE(problems.ok());
  const std::string program = Fenced("python", problems->Find(kProblem)->solutions.at("python"));
  httplib::Server server;
  std::mutex mutex;
  nlohmann::json last_messages;
  server.Post("/v1/chat/completions", [&](const httplib::Request& req, httplib::Response& res) {
    const nlohmann::json request = nlohmann::json::parse(req.body, nullptr, false);
    {
      std::lock_guard<std::mutex> lock(mutex);
      last_messages = request["messages"];
    }
    nlohmann::json reply{{"object", "chat.completion"}, {"choices", nlohmann::json::array()}};
    for (int i = 0; i < request.value("n", 1); ++i) {
      reply["choices"].push_back({{"index", i}, {"message", {{"role", "assistant"}, {"content", program}}}});
    }
    res.set_content(reply.dump(), "application/json");
  });
  const int port = server.bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);
  std::thread serving([&] { server.listen_after_bind(); });
  const std::string endpoint =
      "[eval]\nproblems = \"" + kPuzzles + "\"\nsamples = \"endpoint\"\nlanguages = [\"python\"]\n"
      "only_problems = [\"" + kProblem + "\"]\nk = [1]\n"
      "[prompt]\nformat = \"chat\"\nsystem_prompt = \"Answer with code only.\"\n"
      "[endpoint]\nurl = \"http://127.0.0.1:" + std::to_string(port) + "/v1/chat/completions\"\n"
      "model = \"chat-1\"\nn = 1\nretries = 0\n";
  auto completions_api = Eval(endpoint, dir + "/completions-api");
  ASSERT_FALSE(completions_api.ok());
  EXPECT_NE(completions_api.status().message().find("endpoint.api = \"chat\""), std::string::npos)
      << completions_api.status();
  auto chat_api = Eval(endpoint + "api = \"chat\"\n", dir + "/chat-api");
  ASSERT_TRUE(chat_api.ok()) << chat_api.status();
  EXPECT_EQ(chat_api->report.Find("chat-1", "python")->passed, 1);
  {
    std::lock_guard<std::mutex> lock(mutex);
    ASSERT_EQ(last_messages.size(), 2u) << last_messages.dump();
    EXPECT_EQ(last_messages[0]["role"], "system");
    EXPECT_EQ(last_messages[0]["content"], "Answer with code only.");
    EXPECT_EQ(last_messages[1]["role"], "user");
  }
  server.stop();
  serving.join();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace lockstep::eval
