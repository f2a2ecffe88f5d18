// Unit tests of the language specs as data: names and aliases resolve, every
// command uses only the documented placeholders, and the limits hints that
// runtimes need (address space, threads) are present.
#include "sandbox/language.h"

#include <cctype>
#include <regex>
#include <set>
#include <string>

#include "gtest/gtest.h"
#include "sandbox/toolchain.h"

namespace lockstep::sandbox {
namespace {

TEST(LanguageTest, TheTwelveLanguagesInOrder) {
  std::vector<std::string> names;
  for (const LanguageSpec& spec : AllLanguages()) names.push_back(spec.name);
  EXPECT_EQ(names,
            (std::vector<std::string>{"python", "javascript", "typescript", "go", "rust", "kotlin",
                                      "ocaml", "zig", "hack", "c", "cpp", "java"}));
}

TEST(LanguageTest, FindByNameAndAliasIgnoringCase) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"python", "python"}, {"PY", "python"},       {"Python3", "python"},
      {"js", "javascript"}, {"Node", "javascript"}, {"ts", "typescript"},
      {"golang", "go"},     {"rs", "rust"},         {"kt", "kotlin"},
      {"ML", "ocaml"},      {"Zig", "zig"},         {"hhvm", "hack"},
      {"c", "c"},           {"c++", "cpp"},         {"CXX", "cpp"},
      {"JAVA", "java"}};
  for (const auto& [query, name] : cases) {
    const LanguageSpec* spec = FindLanguage(query);
    ASSERT_NE(spec, nullptr) << query;
    EXPECT_EQ(spec->name, name) << query;
  }
}

TEST(LanguageTest, UnknownNamesAreNotFound) {
  for (const char* query : {"", "cobol", "pythonx", "c+", " python", "java "}) {
    EXPECT_EQ(FindLanguage(query), nullptr) << "'" << query << "'";
  }
}

TEST(LanguageTest, NamesAndAliasesAreUniqueAndLowerCase) {
  std::set<std::string> seen;
  for (const LanguageSpec& spec : AllLanguages()) {
    std::vector<std::string> keys = spec.aliases;
    keys.push_back(spec.name);
    for (const std::string& key : keys) {
      EXPECT_TRUE(seen.insert(key).second) << "'" << key << "' names two languages";
      for (char ch : key) EXPECT_FALSE(std::isupper(static_cast<unsigned char>(ch))) << key;
    }
  }
}

// Every {...} in a command or env value is one of {src}, {exe}, {dir}.
TEST(LanguageTest, CommandsUseOnlyKnownPlaceholders) {
  const std::regex placeholder(R"(\{[^}]*\})");
  const std::set<std::string> known = {"{src}", "{exe}", "{dir}"};
  for (const LanguageSpec& spec : AllLanguages()) {
    std::vector<std::string> texts;
    for (const auto* command : {&spec.compile, &spec.run, &spec.version_probe}) {
      texts.insert(texts.end(), command->begin(), command->end());
    }
    for (const auto& [key, value] : spec.env) texts.push_back(value);
    for (const std::string& text : texts) {
      for (std::sregex_iterator it(text.begin(), text.end(), placeholder), end; it != end; ++it) {
        EXPECT_TRUE(known.count(it->str())) << spec.name << ": unknown placeholder " << it->str();
      }
    }
  }
}

TEST(LanguageTest, EverySpecIsComplete) {
  for (const LanguageSpec& spec : AllLanguages()) {
    SCOPED_TRACE(spec.name);
    EXPECT_FALSE(spec.source_file.empty());
    EXPECT_FALSE(SourceExtension(spec).empty());
    ASSERT_FALSE(spec.run.empty());
    ASSERT_FALSE(spec.version_probe.empty());
    EXPECT_GT(spec.compile_time_limit_s, 0);
    EXPECT_GE(spec.extra_memory_mb, 0);
    EXPECT_GE(spec.max_processes, 1);
    for (const auto& [key, value] : spec.env) {
      EXPECT_TRUE(std::regex_match(key, std::regex("[A-Z_][A-Z0-9_]*"))) << key;
      // The runner owns these; a spec must not move the sandbox's home or PATH.
      EXPECT_NE(key, "PATH");
      EXPECT_NE(key, "HOME");
    }
  }
}

// A compiled language reads {src} while compiling and runs what the compiler
// wrote; an interpreted one runs {src}. Java is the exception that proves
// the rule: its class file is named by the class, not by {exe}.
TEST(LanguageTest, CompiledAndInterpretedCommandsReferTheRightFiles) {
  auto mentions = [](const std::vector<std::string>& command, const std::string& what) {
    for (const std::string& arg : command) {
      if (arg.find(what) != std::string::npos) return true;
    }
    return false;
  };
  for (const LanguageSpec& spec : AllLanguages()) {
    SCOPED_TRACE(spec.name);
    if (spec.compile.empty()) {
      EXPECT_TRUE(mentions(spec.run, "{src}"));
      continue;
    }
    EXPECT_TRUE(mentions(spec.compile, "{src}"));
    EXPECT_FALSE(mentions(spec.run, "{src}"));
    if (spec.name != "java") {
      EXPECT_TRUE(mentions(spec.compile, "{exe}"));
      EXPECT_TRUE(mentions(spec.run, "{exe}"));
    }
  }
}

TEST(LanguageTest, JavaSourceIsNamedAfterItsPublicClass) {
  const LanguageSpec* java = FindLanguage("java");
  ASSERT_NE(java, nullptr);
  EXPECT_EQ(java->source_file, "Main.java");
  EXPECT_EQ(java->run.back(), "Main");
}

// Runtimes that reserve address space at start fail under a plain 512 MB
// RLIMIT_AS (measured: Go ~650 MB, Node ~750 MB, the JVM more); those with
// many threads need a process limit above the default.
TEST(LanguageTest, RuntimesThatReserveAddressSpaceAskForIt) {
  for (const char* name : {"go", "javascript", "typescript", "kotlin", "java"}) {
    const LanguageSpec* spec = FindLanguage(name);
    ASSERT_NE(spec, nullptr);
    EXPECT_GE(spec->extra_memory_mb, 1024) << name;
  }
  for (const char* name : {"kotlin", "java"}) {
    EXPECT_GE(FindLanguage(name)->max_processes, 128) << name;
  }
  for (const char* name : {"c", "cpp", "rust", "ocaml", "zig", "python"}) {
    EXPECT_EQ(FindLanguage(name)->extra_memory_mb, 0) << name;
  }
}

// Toolchain caches must go to the sandbox's private /tmp (HOME is /tmp too):
// never to a host path, never into the compiled artefact.
TEST(LanguageTest, ToolchainCachesStayInTheSandboxTmp) {
  for (const char* name : {"go", "zig"}) {
    const LanguageSpec* spec = FindLanguage(name);
    ASSERT_NE(spec, nullptr);
    int caches = 0;
    for (const auto& [key, value] : spec->env) {
      if (key.find("CACHE") == std::string::npos && key != "GOPATH") continue;
      ++caches;
      EXPECT_EQ(value.rfind("/tmp/", 0), 0u) << name << " " << key << "=" << value;
    }
    EXPECT_GE(caches, 1) << name;
  }
}

TEST(ToolchainTest, RequiredLanguagesAreKnownAndResolveAliases) {
  EXPECT_EQ(RequiredLanguages().size(), 8u);
  for (const std::string& name : RequiredLanguages()) {
    ASSERT_NE(FindLanguage(name), nullptr) << name;
    EXPECT_EQ(FindLanguage(name)->name, name);
    EXPECT_TRUE(IsRequiredLanguage(name));
  }
  EXPECT_TRUE(IsRequiredLanguage("c++"));
  EXPECT_TRUE(IsRequiredLanguage("TS"));
  for (const char* name : {"kotlin", "zig", "hack", "java", "cobol"}) {
    EXPECT_FALSE(IsRequiredLanguage(name)) << name;
  }
}

TEST(ToolchainTest, SourceExtension) {
  EXPECT_EQ(SourceExtension(*FindLanguage("python")), ".py");
  EXPECT_EQ(SourceExtension(*FindLanguage("java")), ".java");
  EXPECT_EQ(SourceExtension(*FindLanguage("cpp")), ".cpp");
  EXPECT_EQ(SourceExtension(*FindLanguage("hack")), ".hack");
}

}  // namespace
}  // namespace lockstep::sandbox
