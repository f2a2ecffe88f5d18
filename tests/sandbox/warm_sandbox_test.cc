// Warm sandboxes (sandbox/warm_sandbox.h): one sandbox serves many runs, so
// these check what reuse could break — a run must see nothing of the run
// before it in the same sandbox, and a sandbox that dies must cost only the
// run in flight.
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <thread>

#include "gtest/gtest.h"
#include "sandbox/runner.h"
#include "tests/sandbox/sandbox_test_support.h"

namespace lockstep::sandbox {
namespace {

using testing::MakeRunner;
using testing::OurZygotes;
using testing::ProcessesWithMarker;
using testing::Request;
using testing::UniqueMarker;

TEST(WarmSandboxTest, AreUsedOnThisMachine) {
  auto runner = MakeRunner(UniqueMarker("warm-used"));
  ASSERT_NE(runner, nullptr);
  EXPECT_TRUE(runner->warm_sandbox_status().ok()) << runner->warm_sandbox_status();
  const int64_t started = runner->warm_sandboxes_started();
  EXPECT_GE(started, 1);  // the self-check's
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(runner->Run(Request("python", "print(1)\n")).status, RunStatus::kOk);
  }
  EXPECT_EQ(runner->warm_sandboxes_started(), started) << "sequential runs reuse one sandbox";
}

// Each run starts while the previous run's namespaces may still be torn
// down (its kDone comes during the next run): back-to-back runs in one
// sandbox must all end normally and each see only itself.
TEST(WarmSandboxTest, BackToBackRunsInOneSandboxEachSeeOnlyThemselves) {
  auto runner = MakeRunner(UniqueMarker("warm-back-to-back"));
  ASSERT_NE(runner, nullptr);
  const int64_t started = runner->warm_sandboxes_started();
  for (int i = 0; i < 30; ++i) {
    const RunResult result = runner->Run(Request(
        "python",
        "import os\n"
        "print(sorted(int(p) for p in os.listdir('/proc') if p.isdigit()) == [1, os.getpid()],"
        " len(open('/proc/net/tcp').readlines()), " + std::to_string(i) + ")\n"));
    ASSERT_EQ(result.status, RunStatus::kOk) << i << ": " << result.message;
    EXPECT_EQ(result.run.stdout_data, "True 1 " + std::to_string(i) + "\n");
  }
  EXPECT_EQ(runner->warm_sandboxes_started(), started) << "the runs shared one sandbox";
}

TEST(WarmSandboxTest, ARunSeesNothingOfThePreviousRunInTheSameSandbox) {
  const std::string marker = UniqueMarker("warm-leftovers");
  auto runner = MakeRunner(marker);
  ASSERT_NE(runner, nullptr);
  const int64_t started = runner->warm_sandboxes_started();
  // Run 1 leaves everything it can: files in every writable place, a System V
  // shared memory segment and semaphore set under fixed keys, an environment
  // variable, and a daemonised process that would write into the next run.
  const RunResult first = runner->Run(Request(
      "c",
      "#include <stdio.h>\n#include <stdlib.h>\n#include <unistd.h>\n#include <sys/ipc.h>\n"
      "#include <sys/shm.h>\n#include <sys/sem.h>\n"
      "int main(){\n"
      "  FILE* f;\n"
      "  if ((f = fopen(\"/work/left\", \"w\"))) fclose(f);\n"
      "  if ((f = fopen(\"/tmp/left\", \"w\"))) fclose(f);\n"
      "  if ((f = fopen(\"/dev/shm/left\", \"w\"))) fclose(f);\n"
      "  printf(\"shm %d sem %d\\n\", shmget(4242, 4096, IPC_CREAT | 0666) >= 0,"
      " semget(4243, 1, IPC_CREAT | 0666) >= 0);\n"
      "  fflush(stdout);\n"
      "  if (fork() == 0) { setsid(); if (fork() == 0) {\n"
      "    for (;;) { if ((f = fopen(\"/tmp/from-the-past\", \"w\"))) fclose(f); usleep(1000); } } }\n"
      "  return 0;\n}\n"));
  ASSERT_EQ(first.status, RunStatus::kOk) << first.message << first.run.stderr_data;
  EXPECT_EQ(first.run.stdout_data, "shm 1 sem 1\n");
  EXPECT_TRUE(ProcessesWithMarker(marker).empty()) << "the daemon outlived its run";

  const RunResult second = runner->Run(Request(
      "c",
      "#include <stdio.h>\n#include <unistd.h>\n#include <dirent.h>\n#include <sys/ipc.h>\n"
      "#include <sys/shm.h>\n#include <sys/sem.h>\n"
      "static int count(const char* dir){ DIR* d = opendir(dir); int n = 0; struct dirent* e;\n"
      "  if (!d) return -1; while ((e = readdir(d))) n += e->d_name[0] != '.'; closedir(d); return n; }\n"
      "static int pids(void){ DIR* d = opendir(\"/proc\"); int n = 0; struct dirent* e;\n"
      "  while ((e = readdir(d))) n += e->d_name[0] >= '0' && e->d_name[0] <= '9'; closedir(d); return n; }\n"
      "int main(){\n"
      "  usleep(20000);\n"
      "  printf(\"tmp %d shm-dir %d work-left %d\\n\", count(\"/tmp\"), count(\"/dev/shm\"),"
      " access(\"/work/left\", F_OK) == 0);\n"
      "  printf(\"shm %d sem %d\\n\", shmget(4242, 0, 0) >= 0, semget(4243, 0, 0) >= 0);\n"
      "  printf(\"processes %d artefact-store %d\\n\", pids(), count(\"/.art\") > 0);\n"
      "  return 0;\n}\n"));
  ASSERT_EQ(second.status, RunStatus::kOk) << second.message << second.run.stderr_data;
  EXPECT_EQ(second.run.stdout_data,
            "tmp 0 shm-dir 0 work-left 0\nshm 0 sem 0\nprocesses 2 artefact-store 0\n");
  EXPECT_EQ(runner->warm_sandboxes_started(), started) << "both runs used the same sandbox";
}

TEST(WarmSandboxTest, OnlyItsOwnProcessesAreVisibleToARun) {
  auto runner = MakeRunner(UniqueMarker("warm-proc"));
  ASSERT_NE(runner, nullptr);
  const RunResult result = runner->Run(Request(
      "python",
      "import os\n"
      "pids = sorted(int(p) for p in os.listdir('/proc') if p.isdigit())\n"
      "print(pids == [1, os.getpid()], os.getpid(), open('/proc/1/cmdline').read().split('\\0')[0])\n"));
  ASSERT_EQ(result.status, RunStatus::kOk) << result.message << result.run.stderr_data;
  // pid 1 is the run's own init; the zygote and bubblewrap are not visible.
  EXPECT_EQ(result.run.stdout_data, "True 2 /.sandbox/init\n");
}

TEST(WarmSandboxTest, AZygoteKilledMidRunCostsOnlyThatRun) {
  const std::string marker = UniqueMarker("warm-killed");
  auto runner = MakeRunner(marker);
  ASSERT_NE(runner, nullptr);
  const int64_t started = runner->warm_sandboxes_started();
  auto in_flight = std::async(std::launch::async, [&] {
    return runner->Run(Request("python", "import time\nprint('started', flush=True)\n"
                                         "time.sleep(4)\n", 10, 10));
  });
  // Wait until the program runs, then kill its sandbox's pid 1 from outside.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (ProcessesWithMarker(marker).empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const std::vector<int> zygotes = OurZygotes();
  ASSERT_EQ(zygotes.size(), 1u);
  ASSERT_EQ(kill(zygotes[0], SIGKILL), 0);
  const RunResult killed = in_flight.get();
  EXPECT_EQ(killed.status, RunStatus::kSandboxError);
  EXPECT_NE(killed.message.find("zygote"), std::string::npos) << killed.message;
  EXPECT_LT(killed.run.wall_ms, 3000) << "the run should end when its sandbox dies";
  EXPECT_TRUE(ProcessesWithMarker(marker).empty()) << "the program outlived its sandbox";
  // The next run gets a fresh sandbox and works.
  const RunResult next = runner->Run(Request("python", "print(2)\n"));
  EXPECT_EQ(next.status, RunStatus::kOk) << next.message;
  EXPECT_EQ(runner->warm_sandboxes_started(), started + 1);
}

TEST(WarmSandboxTest, ConcurrentRunsGetSeparateSandboxesAndAllAreEndedWithTheRunner) {
  const std::string marker = UniqueMarker("warm-concurrent");
  auto runner = MakeRunner(marker);
  ASSERT_NE(runner, nullptr);
  std::vector<std::future<RunResult>> runs;
  for (int i = 0; i < 4; ++i) {
    runs.push_back(std::async(std::launch::async, [&runner, i] {
      return runner->Run(Request("python", "import time\ntime.sleep(0.3)\nprint(" +
                                               std::to_string(i) + ")\n"));
    }));
  }
  for (int i = 0; i < 4; ++i) {
    const RunResult result = runs[i].get();
    EXPECT_EQ(result.status, RunStatus::kOk) << result.message;
    EXPECT_EQ(result.run.stdout_data, std::to_string(i) + "\n");
  }
  EXPECT_GE(runner->warm_sandboxes_started(), 4);
  EXPECT_GE(OurZygotes().size(), 4u);
  runner.reset();
  EXPECT_TRUE(OurZygotes().empty()) << "a warm sandbox outlived its Runner";
}

}  // namespace
}  // namespace lockstep::sandbox
