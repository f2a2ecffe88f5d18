// The config layer: typed reads with defaults, --set overrides, strict
// unknown-key detection, parse errors with positions, a lossless ToToml, and
// run-directory creation.
#include "config/config.h"
#include "config/run_dir.h"

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace lockstep::config {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kGrpo[] = R"(# a small GRPO config
name = "tiny"

[train]
steps = 100
batch_size = 8
bf16 = true

[optim]
lr = 1e-6
betas = [0.9, 0.95]

[data]
files = ["a.jsonl", "b.jsonl"]
)";

// The error message, as a std::string so gtest prints it readably.
std::string ErrorOf(const absl::Status& status) { return std::string(status.message()); }
template <typename T>
std::string ErrorOf(const absl::StatusOr<T>& result) {
  return ErrorOf(result.status());
}

Config Parse(std::string_view text) {
  absl::StatusOr<Config> config = Config::FromString(text, "grpo.toml");
  EXPECT_TRUE(config.ok()) << config.status();
  return *std::move(config);
}

TEST(ConfigTest, TypedGettersReadValues) {
  const Config config = Parse(kGrpo);
  EXPECT_EQ(*config.GetString("name"), "tiny");
  EXPECT_EQ(*config.GetInt("train.steps"), 100);
  EXPECT_EQ(*config.GetBool("train.bf16"), true);
  EXPECT_EQ(*config.GetDouble("optim.lr"), 1e-6);
  EXPECT_EQ(*config.GetDouble("train.batch_size"), 8.0);  // an integer reads as a double
  EXPECT_THAT(*config.GetStringList("data.files"), ElementsAre("a.jsonl", "b.jsonl"));
  EXPECT_TRUE(config.Has("optim"));
  EXPECT_TRUE(config.Has("optim.betas"));
  EXPECT_FALSE(config.Has("optim.momentum"));
  EXPECT_FALSE(config.Has("name.sub"));  // runs through a string: absent, not a crash
}

TEST(ConfigTest, MissingKeyTakesDefaultOrNamesTheFix) {
  const Config config = Parse(kGrpo);
  EXPECT_EQ(*config.GetInt("train.warmup", 10), 10);
  EXPECT_EQ(*config.GetString("model.dtype", "bf16"), "bf16");
  EXPECT_THAT(*config.GetStringList("data.extra", std::vector<std::string>{}), ElementsAre());
  EXPECT_EQ(*config.GetBool("eval.enabled", false), false);
  const absl::Status missing = config.GetInt("train.epochs").status();
  EXPECT_EQ(missing.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ErrorOf(missing),
            "grpo.toml: missing required key train.epochs; add it to the file or pass "
            "--set train.epochs=VALUE");
}

TEST(ConfigTest, TypeMismatchNamesKeyExpectedActualAndPosition) {
  const Config config = Parse("[train]\nsteps = \"100\"\nlr = 0.5\nflag = 1\n");
  EXPECT_EQ(ErrorOf(config.GetInt("train.steps")),
            "grpo.toml:2:9: train.steps must be an integer, but is a string ('100')");
  EXPECT_EQ(ErrorOf(config.GetInt("train.lr")),
            "grpo.toml:3:6: train.lr must be an integer, but is a float (0.5)");
  EXPECT_EQ(ErrorOf(config.GetBool("train.flag")),
            "grpo.toml:4:8: train.flag must be a boolean (true or false), but is an integer (1)");
  EXPECT_THAT(ErrorOf(config.GetString("train")),
              HasSubstr("train must be a string, but is a table"));
  EXPECT_THAT(ErrorOf(config.GetDouble("train.steps")),
              HasSubstr("train.steps must be a number, but is a string"));
  // A path through a non-table names the key that is in the way.
  EXPECT_EQ(ErrorOf(config.GetInt("train.lr.x")),
            "grpo.toml:3:6: train.lr is a float, but train.lr.x needs it to be a table "
            "([train.lr])");
}

TEST(ConfigTest, StringListRejectsNonStringElementByIndex) {
  const Config config = Parse("files = [\"a\", 3]\nname = \"x\"\n");
  EXPECT_THAT(ErrorOf(config.GetStringList("files")),
              HasSubstr("files[1] must be a string, but is an integer (3)"));
  EXPECT_THAT(ErrorOf(config.GetStringList("name")),
              HasSubstr("name must be an array of strings, but is a string"));
}

TEST(ConfigTest, RangeAndChoiceChecks) {
  const Config config = Parse("[train]\nsteps = -3\nclip = 2.5\n[model]\ndtype = \"bf61\"\n");
  EXPECT_EQ(ErrorOf(config.GetIntInRange("train.steps", 1)),
            "grpo.toml:2:9: train.steps = -3: must be >= 1");
  EXPECT_EQ(*config.GetIntInRange("train.steps", -5, 0), -3);
  EXPECT_EQ(ErrorOf(config.GetIntInRange("train.steps", -10, -4)),
            "grpo.toml:2:9: train.steps = -3: must be <= -4");
  EXPECT_EQ(ErrorOf(config.GetDoubleInRange("train.clip", 0.0, 1.0)),
            "grpo.toml:3:8: train.clip = 2.5: must be <= 1");
  EXPECT_EQ(*config.GetDoubleInRange("train.eps", 0.0, 1.0, 0.2), 0.2);
  EXPECT_EQ(ErrorOf(config.GetStringOneOf("model.dtype", {"bf16", "fp16"})),
            "grpo.toml:5:9: model.dtype = \"bf61\": must be one of bf16, fp16");
  EXPECT_EQ(*config.GetStringOneOf("model.backend", {"cpu", "cuda"}, "cpu"), "cpu");

  const Config nan = Parse("lr = nan\n");
  EXPECT_THAT(ErrorOf(nan.GetDoubleInRange("lr", 0.0)), HasSubstr("lr = nan: must be >= 0"));
}

TEST(ConfigTest, OverrideReplacesValueInsideTable) {
  Config config = Parse(kGrpo);
  ASSERT_TRUE(config.ApplyOverride("train.steps=5").ok());
  ASSERT_TRUE(config.ApplyOverride("optim.lr = 3e-5").ok());  // spaces around '=' are fine
  EXPECT_EQ(*config.GetInt("train.steps"), 5);
  EXPECT_EQ(*config.GetDouble("optim.lr"), 3e-5);
  EXPECT_EQ(*config.GetInt("train.batch_size"), 8);  // siblings untouched
}

TEST(ConfigTest, OverrideAddsNewKeysAndTables) {
  Config config = Parse(kGrpo);
  ASSERT_TRUE(config.ApplyOverride("train.seed=7").ok());
  ASSERT_TRUE(config.ApplyOverride("rollout.sampling.temperature=0.7").ok());
  ASSERT_TRUE(config.ApplyOverride("model.path=Qwen/Qwen2.5-0.5B").ok());  // bare word
  ASSERT_TRUE(config.ApplyOverride("rollout.endpoint=tcp://127.0.0.1:5555").ok());
  ASSERT_TRUE(config.ApplyOverride("data.files=[\"c.jsonl\"]").ok());
  ASSERT_TRUE(config.ApplyOverride("model.name='with = sign'").ok());
  ASSERT_TRUE(config.ApplyOverride("train.bf16=false").ok());
  EXPECT_EQ(*config.GetInt("train.seed"), 7);
  EXPECT_EQ(*config.GetDouble("rollout.sampling.temperature"), 0.7);
  EXPECT_EQ(*config.GetString("model.path"), "Qwen/Qwen2.5-0.5B");
  EXPECT_EQ(*config.GetString("rollout.endpoint"), "tcp://127.0.0.1:5555");
  EXPECT_THAT(*config.GetStringList("data.files"), ElementsAre("c.jsonl"));
  EXPECT_EQ(*config.GetString("model.name"), "with = sign");
  EXPECT_EQ(*config.GetBool("train.bf16"), false);
}

TEST(ConfigTest, OverrideMayChangeTypeAndGetterNamesTheSet) {
  Config config = Parse(kGrpo);
  ASSERT_TRUE(config.ApplyOverride("train.steps=lots").ok());
  EXPECT_EQ(ErrorOf(config.GetInt("train.steps")),
            "--set train.steps: train.steps must be an integer, but is a string ('lots')");
  ASSERT_TRUE(config.ApplyOverride("train.steps=\"12\"").ok());
  EXPECT_EQ(*config.GetString("train.steps"), "12");
  ASSERT_TRUE(config.ApplyOverride("train.steps=0").ok());
  EXPECT_EQ(ErrorOf(config.GetIntInRange("train.steps", 1)),
            "--set train.steps: train.steps = 0: must be >= 1");
}

TEST(ConfigTest, OverrideOfWholeTable) {
  Config config = Parse(kGrpo);
  // A scalar would silently drop every key of [optim]: refused.
  const absl::Status scalar = config.ApplyOverride("optim=3");
  EXPECT_EQ(scalar.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(ErrorOf(scalar), HasSubstr("optim is a table; set one of its keys"));
  EXPECT_EQ(*config.GetDouble("optim.lr"), 1e-6);
  // An inline table replaces it whole.
  ASSERT_TRUE(config.ApplyOverride("optim={ lr = 0.5, kind = \"sgd\" }").ok());
  EXPECT_EQ(*config.GetDouble("optim.lr"), 0.5);
  EXPECT_EQ(*config.GetString("optim.kind"), "sgd");
  EXPECT_FALSE(config.Has("optim.betas"));
  EXPECT_THAT(ErrorOf(config.GetInt("optim.kind")),
              HasSubstr("--set optim: optim.kind must be an integer"));
}

TEST(ConfigTest, BadOverridesAreErrors) {
  Config config = Parse(kGrpo);
  EXPECT_EQ(ErrorOf(config.ApplyOverride("train.steps")),
            "--set train.steps: expected dotted.key=value (e.g. --set optim.lr=1e-6)");
  EXPECT_THAT(ErrorOf(config.ApplyOverride("train..steps=1")), HasSubstr("is not a dotted key"));
  EXPECT_THAT(ErrorOf(config.ApplyOverride("=1")), HasSubstr("is not a dotted key"));
  EXPECT_THAT(ErrorOf(config.ApplyOverride("train.steps=")), HasSubstr("empty value"));
  EXPECT_THAT(ErrorOf(config.ApplyOverride("data.files=[1, 2")),
              HasSubstr("value is not valid TOML"));
  EXPECT_THAT(ErrorOf(config.ApplyOverride("name=\"unterminated")),
              HasSubstr("value is not valid TOML"));
  EXPECT_THAT(ErrorOf(config.ApplyOverride("name=1\nother=2")),
              HasSubstr("one TOML value on one line"));
  // optim.lr is a float: it cannot hold keys.
  EXPECT_THAT(ErrorOf(config.ApplyOverride("optim.lr.warmup=3")),
              HasSubstr("optim.lr is a float (grpo.toml:10:6), not a table"));
  // Nothing above changed the config.
  EXPECT_EQ(*config.GetInt("train.steps"), 100);
  EXPECT_EQ(*config.GetString("name"), "tiny");
}

TEST(ConfigTest, UnknownKeysAreNamedWithSuggestion) {
  Config config = Parse("[train]\nsteps = 10\n\n[optim]\nlrr = 0.1\n");
  ASSERT_TRUE(config.ApplyOverride("train.sed=3").ok());
  ASSERT_TRUE(config.GetInt("train.steps").ok());
  ASSERT_TRUE(config.GetDouble("optim.lr", 1e-6).ok());
  ASSERT_TRUE(config.GetInt("train.seed", 0).ok());
  const absl::Status status = config.CheckNoUnknownKeys();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ErrorOf(status),
            "grpo.toml:5:1: unknown key optim.lrr (did you mean optim.lr?); "
            "--set train.sed: unknown key train.sed (did you mean train.seed?); "
            "fix or remove them");
}

TEST(ConfigTest, UnknownKeySuggestsSameNameInOtherTable) {
  const Config config = Parse("lr = 0.1\nzzz = 1\n");
  ASSERT_TRUE(config.GetDouble("optim.lr", 1.0).ok());
  EXPECT_EQ(ErrorOf(config.CheckNoUnknownKeys()),
            "grpo.toml:1:1: unknown key lr (did you mean optim.lr?); "
            "grpo.toml:2:1: unknown key zzz; fix or remove them");
}

TEST(ConfigTest, AllKeysReadPassesStrictCheck) {
  Config config = Parse(kGrpo + std::string("[eval]\n"));
  ASSERT_TRUE(config.ApplyOverride("train.seed=1").ok());
  for (const char* key : {"train.steps", "train.batch_size", "train.seed"}) {
    ASSERT_TRUE(config.GetInt(key).ok()) << key;
  }
  ASSERT_TRUE(config.GetString("name").ok());
  ASSERT_TRUE(config.GetBool("train.bf16").ok());
  ASSERT_TRUE(config.GetDouble("optim.lr").ok());
  ASSERT_TRUE(config.GetStringList("data.files").ok());
  EXPECT_THAT(ErrorOf(config.CheckNoUnknownKeys()), HasSubstr("unknown key optim.betas"));
  ASSERT_FALSE(config.GetStringList("optim.betas").ok());  // wrong type, but asked for
  // [eval] is empty: fine once any eval key is read (all defaults).
  EXPECT_THAT(ErrorOf(config.CheckNoUnknownKeys()), HasSubstr("unknown key eval"));
  ASSERT_TRUE(config.GetInt("eval.every", 50).ok());
  EXPECT_TRUE(config.CheckNoUnknownKeys().ok()) << config.CheckNoUnknownKeys();
}

TEST(ConfigTest, ParseErrorNamesFileLineAndColumn) {
  const absl::StatusOr<Config> bad =
      Config::FromString("[train]\nsteps = 10\nlr = = 3\n", "configs/bad.toml");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(ErrorOf(bad), HasSubstr("configs/bad.toml:3:"));
  EXPECT_THAT(ErrorOf(bad), HasSubstr("invalid TOML"));

  const absl::StatusOr<Config> duplicate = Config::FromString("a = 1\nb = 2\na = 3\n", "dup.toml");
  ASSERT_FALSE(duplicate.ok());
  EXPECT_THAT(ErrorOf(duplicate), HasSubstr("dup.toml:3:"));
}

class ConfigFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/lockstep_config_test_XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& text) {
    const fs::path path = dir_ / name;
    std::ofstream(path) << text;
    return path.string();
  }

  fs::path dir_;
};

TEST_F(ConfigFileTest, LoadFileAndMissingFile) {
  const std::string path = Write("grpo.toml", kGrpo);
  absl::StatusOr<Config> config = Config::LoadFile(path);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->source_name(), path);
  EXPECT_EQ(*config->GetInt("train.steps"), 100);
  EXPECT_EQ(ErrorOf(config->GetString("train.steps")),
            path + ":5:9: train.steps must be a string, but is an integer (100)");

  const std::string missing = (dir_ / "nope.toml").string();
  const absl::Status status = Config::LoadFile(missing).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ErrorOf(status),
            "config file " + missing + " does not exist; pass the path of a TOML config");
  EXPECT_THAT(ErrorOf(Config::LoadFile(dir_.string())), HasSubstr("is a directory"));

  const std::string broken = Write("broken.toml", "[train\nsteps = 1\n");
  EXPECT_THAT(ErrorOf(Config::LoadFile(broken)), HasSubstr(broken + ":1:"));
}

TEST_F(ConfigFileTest, LoadFileWithOverrides) {
  const std::string path = Write("grpo.toml", kGrpo);
  absl::StatusOr<Config> config =
      Config::LoadFileWithOverrides(path, {"train.steps=3", "train.steps=4", "optim.lr=1"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(*config->GetInt("train.steps"), 4);  // later --set wins
  EXPECT_EQ(*config->GetDouble("optim.lr"), 1.0);
  EXPECT_THAT(ErrorOf(Config::LoadFileWithOverrides(path, {"oops"})),
              HasSubstr("--set oops: expected dotted.key=value"));
}

TEST(ConfigTest, ToTomlRoundTripsIncludingOverrides) {
  Config config = Parse(kGrpo);
  ASSERT_TRUE(config.ApplyOverride("optim.lr=0.1").ok());
  ASSERT_TRUE(config.ApplyOverride("train.seed=123456789012").ok());
  ASSERT_TRUE(config.ApplyOverride("rollout.sampling.top_p=0.95").ok());
  ASSERT_TRUE(config.ApplyOverride("model.path=some/path").ok());
  ASSERT_TRUE(config.ApplyOverride("optim.tiny=1.2345678901234567e-300").ok());
  const std::string text = config.ToToml();
  // Floats in their shortest exact form, not 0.10000000000000001.
  EXPECT_THAT(text, HasSubstr("lr = 0.1\n"));
  EXPECT_THAT(text, HasSubstr("\n[rollout.sampling]\ntop_p = 0.95\n"));
  const Config again = Parse(text);
  EXPECT_EQ(again.ToToml(), text);
  EXPECT_EQ(*again.GetDouble("optim.lr"), 0.1);
  EXPECT_EQ(*again.GetDouble("optim.tiny"), 1.2345678901234567e-300);  // exact, not rounded
  EXPECT_EQ(*again.GetInt("train.seed"), 123456789012);
  EXPECT_EQ(*again.GetInt("train.steps"), 100);
  EXPECT_EQ(*again.GetDouble("rollout.sampling.top_p"), 0.95);
  EXPECT_EQ(*again.GetString("model.path"), "some/path");
  EXPECT_THAT(*again.GetStringList("data.files"), ElementsAre("a.jsonl", "b.jsonl"));
  EXPECT_EQ(*again.GetBool("train.bf16"), true);
}

TEST(ConfigTest, ToTomlKeepsEveryValueExactly) {
  // Everything TOML can hold, written back and parsed again, must compare equal.
  constexpr char kRich[] = R"(title = "quotes \" and \\ backslash"
"dotted.key" = 1
whole = 3.0
big = 1e300
neg_inf = -inf
third = 0.3333333333333333
when = 2024-05-01T12:30:00Z
nested = [[1, 2], ["a"]]
inline = { x = 1, y = { z = true } }

[empty]

[model.lora]
rank = 8

[[datasets]]
path = "a.jsonl"
weight = 0.5

[[datasets]]
path = "b.jsonl"
)";
  const Config config = Parse(kRich);
  const std::string text = config.ToToml();
  EXPECT_EQ(toml::parse(text), toml::parse(kRich)) << text;
  EXPECT_THAT(text, HasSubstr("whole = 3.0\n"));
  EXPECT_THAT(text, HasSubstr("third = 0.3333333333333333\n"));
  EXPECT_THAT(text, HasSubstr("[empty]\n"));
  EXPECT_EQ(Parse(text).ToToml(), text);
}

TEST_F(ConfigFileTest, PrepareRunDirExplicitOut) {
  const std::string out = (dir_ / "runs" / "mine").string();
  absl::StatusOr<std::string> made = PrepareRunDir("grpo", out);
  ASSERT_TRUE(made.ok()) << made.status();
  EXPECT_EQ(*made, out);
  EXPECT_TRUE(fs::is_directory(out));
  // Empty: reusable.
  EXPECT_TRUE(PrepareRunDir("grpo", out).ok());
  // Non-empty: refused, unless resumed, which needs config.toml.
  std::ofstream(fs::path(out) / "metrics.jsonl") << "{}\n";
  const absl::Status taken = PrepareRunDir("grpo", out).status();
  EXPECT_EQ(taken.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(ErrorOf(taken), HasSubstr("already exists and is not empty"));
  EXPECT_THAT(ErrorOf(PrepareRunDir("grpo", out, /*resume=*/true)), HasSubstr("no config.toml"));
  std::ofstream(fs::path(out) / "config.toml") << "a = 1\n";
  EXPECT_EQ(*PrepareRunDir("grpo", out, /*resume=*/true), out);
  EXPECT_EQ(PrepareRunDir("grpo", (dir_ / "absent").string(), true).status().code(),
            absl::StatusCode::kNotFound);
  // A file in the way.
  const std::string file = Write("plain", "x");
  EXPECT_THAT(ErrorOf(PrepareRunDir("grpo", file)), HasSubstr("is not a directory"));
}

TEST_F(ConfigFileTest, PrepareRunDirDefaultNameIsTimestampedAndUnique) {
  const fs::path old_cwd = fs::current_path();
  fs::current_path(dir_);
  absl::StatusOr<std::string> first = PrepareRunDir("eval passk", "");
  absl::StatusOr<std::string> second = PrepareRunDir("eval passk", "");
  fs::current_path(old_cwd);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_TRUE(std::regex_match(*first, std::regex(R"(runs/eval-passk-\d{8}-\d{6}(-\d+)?)")))
      << *first;
  EXPECT_NE(*first, *second);  // same second: the second gets a suffix
  EXPECT_TRUE(fs::is_directory(dir_ / *first));
  EXPECT_TRUE(fs::is_directory(dir_ / *second));
}

}  // namespace
}  // namespace lockstep::config
