// Adversarial programs: each must be contained with the right status, leave no
// process behind (checked by a marker every process of the run carries in its
// argv) and no file outside the run's own directory.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "gtest/gtest.h"
#include "sandbox/runner.h"
#include "tests/sandbox/sandbox_test_support.h"

namespace lockstep::sandbox {
namespace {

namespace fs = std::filesystem;
using testing::MakeRunner;
using testing::Request;
using testing::UniqueMarker;

// Everything in the work root, by path, so a test can see what a run added.
std::set<std::string> ListTree(const std::string& root) {
  std::set<std::string> paths;
  std::error_code ec;
  for (const auto& entry : fs::recursive_directory_iterator(root, ec)) {
    paths.insert(entry.path().string());
  }
  return paths;
}

// Every case runs twice: in warm sandboxes (how program runs go by default)
// and in one-shot sandboxes (compile steps; the fallback where warm ones
// cannot start).
class AdversarialTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    for (char& c : name) {
      if (c == '/') c = '-';
    }
    marker_ = UniqueMarker(name);
    runner_ = MakeRunner(marker_, /*cache=*/false, /*warm=*/GetParam());
    ASSERT_NE(runner_, nullptr);
    if (GetParam()) {
      ASSERT_TRUE(runner_->warm_sandbox_status().ok()) << runner_->warm_sandbox_status();
    }
  }

  // Runs and checks the invariants every adversarial case shares.
  RunResult RunContained(const RunRequest& request) {
    const std::set<std::string> before = ListTree(runner_->work_root());
    RunResult result = runner_->Run(request);
    EXPECT_TRUE(testing::ProcessesWithMarker(marker_).empty())
        << "a process of the run survived it";
    // The only new files are the run's own artefact directory (its source).
    for (const std::string& path : ListTree(runner_->work_root())) {
      if (before.count(path)) continue;
      EXPECT_NE(path.find("/art/"), std::string::npos) << "unexpected file " << path;
    }
    return result;
  }

  std::string marker_;
  std::unique_ptr<Runner> runner_;
};

TEST_P(AdversarialTest, ForkBomb) {
  RunRequest request = Request(
      "c", "#include <unistd.h>\nint main(){for(;;) fork();}\n", /*cpu_s=*/2, /*wall_s=*/1.5);
  request.limits.max_processes = 32;
  const RunResult result = RunContained(request);
  EXPECT_EQ(result.status, RunStatus::kTimeLimit) << result.message;
  // The host can still start processes.
  EXPECT_EQ(runner_->Run(Request("python", "print('alive')\n")).run.stdout_data, "alive\n");
}

TEST_P(AdversarialTest, PythonForkBombWithExceptionsIgnored) {
  RunRequest request = Request(
      "python",
      "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n",
      2, 1.5);
  request.limits.max_processes = 16;
  const RunResult result = RunContained(request);
  EXPECT_EQ(result.status, RunStatus::kTimeLimit) << result.message;
}

TEST_P(AdversarialTest, MemoryBomb) {
  RunRequest request = Request("python", "x = ' ' * (4 << 30)\n");
  request.limits.memory_mb = 256;
  const RunResult result = RunContained(request);
  EXPECT_EQ(result.status, RunStatus::kMemoryLimit) << result.message;
}

TEST_P(AdversarialTest, CpuSpinInManyThreadsOfProcesses) {
  // Four spinning processes: the wall limit ends the run even though each
  // process alone stays under RLIMIT_CPU for a while.
  const RunResult result = RunContained(Request(
      "python", "import os\nfor _ in range(3):\n    if os.fork() == 0:\n        break\nwhile True:\n    pass\n",
      10, 1));
  EXPECT_EQ(result.status, RunStatus::kTimeLimit) << result.message;
  EXPECT_EQ(result.time_limit_kind, TimeLimitKind::kWall);
}

TEST_P(AdversarialTest, SleepPastWallLimit) {
  const RunResult result = RunContained(Request("python", "import time\ntime.sleep(3600)\n", 1, 0.5));
  EXPECT_EQ(result.status, RunStatus::kTimeLimit);
  EXPECT_EQ(result.time_limit_kind, TimeLimitKind::kWall);
}

TEST_P(AdversarialTest, OutputFloodOnStdoutAndStderr) {
  RunRequest request = Request(
      "c", "#include <stdio.h>\nint main(){for(;;){fputs(\"yyyyyyyyyyyyyyyy\", stderr);}}\n");
  request.limits.output_limit_bytes = 256 << 10;
  const RunResult result = RunContained(request);
  EXPECT_EQ(result.status, RunStatus::kOutputLimit) << result.message;
  EXPECT_TRUE(result.run.stderr_truncated);
  EXPECT_LE(result.run.stderr_data.size(), size_t{64} << 10);
}

TEST_P(AdversarialTest, WritingOutsideTheWorkDirectory) {
  const std::string escape = "/tmp/lockstep-escape-" + marker_;
  const RunResult result = RunContained(Request(
      "python",
      "import os\n"
      "ok = []\n"
      "for path in ['" + escape + "', '/usr/lockstep-x', '/etc/lockstep-x', '/lockstep-x',\n"
      "             '/work/../lockstep-x', '/proc/lockstep-x', '/dev/lockstep-x']:\n"
      "    try:\n"
      "        open(path, 'w').write('x')\n"
      "        ok.append(path)\n"
      "    except OSError:\n"
      "        pass\n"
      "open('/work/inside', 'w').write('fine')\n"
      "print(' '.join(ok))\n"));
  EXPECT_EQ(result.status, RunStatus::kOk) << result.message << result.run.stderr_data;
  // Only the sandbox's private /tmp accepted a write, and it vanished with it.
  EXPECT_EQ(result.run.stdout_data, escape + "\n");
  EXPECT_FALSE(fs::exists(escape));
  EXPECT_FALSE(fs::exists("/usr/lockstep-x"));
  EXPECT_FALSE(fs::exists("/lockstep-x"));
}

TEST_P(AdversarialTest, ReadingHostSecrets) {
  const std::string secret_tmp = "/tmp/lockstep-secret-" + marker_;
  const std::string secret_root = "/root/lockstep-secret-" + marker_;
  std::ofstream(secret_tmp) << "SECRET";
  std::error_code ec;
  const bool root_secret = fs::is_directory("/root", ec) && (std::ofstream(secret_root) << "SECRET");
  setenv("LOCKSTEP_TEST_HOST_SECRET", "SECRET", 1);  // the host environment must not leak either
  const RunResult result = RunContained(Request(
      "python",
      "import os\n"
      "print('LEAK env' if 'SECRET' in str(os.environ) else '', end='')\n"
      "for path in ['" + secret_tmp + "', '" + secret_root + "', '/etc/shadow', '/root/.bashrc',\n"
      "             '/home', '/etc/ssh', '" + runner_->work_root() + "']:\n"
      "    try:\n"
      "        if os.path.isdir(path):\n"
      "            print('LEAK', path, os.listdir(path))\n"
      "        else:\n"
      "            print('LEAK', path, open(path).read()[:20])\n"
      "    except OSError:\n"
      "        pass\n"
      "print('done')\n"));
  unsetenv("LOCKSTEP_TEST_HOST_SECRET");
  fs::remove(secret_tmp, ec);
  if (root_secret) fs::remove(secret_root, ec);
  EXPECT_EQ(result.status, RunStatus::kOk) << result.message << result.run.stderr_data;
  EXPECT_EQ(result.run.stdout_data.find("SECRET"), std::string::npos) << result.run.stdout_data;
  EXPECT_EQ(result.run.stdout_data.find("LEAK"), std::string::npos) << result.run.stdout_data;
  EXPECT_EQ(result.run.stdout_data, "done\n");
}

TEST_P(AdversarialTest, NetworkConnectIncludingHostLoopback) {
  // A listener on the host's loopback that the program must not reach.
  const int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  ASSERT_EQ(listen(listener, 16), 0);
  socklen_t length = sizeof(address);
  getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length);
  const int port = ntohs(address.sin_port);

  const RunResult result = RunContained(Request(
      "python",
      "import socket\n"
      "for host, port in [('127.0.0.1', " + std::to_string(port) + "), ('8.8.8.8', 53),\n"
      "                   ('10.0.0.1', 80)]:\n"
      "    try:\n"
      "        socket.create_connection((host, port), timeout=0.5)\n"
      "        print('CONNECTED', host)\n"
      "    except OSError as e:\n"
      "        pass\n"
      "print('done')\n"));
  EXPECT_EQ(result.status, RunStatus::kOk) << result.message << result.run.stderr_data;
  EXPECT_EQ(result.run.stdout_data, "done\n");
  EXPECT_LT(accept(listener, nullptr, nullptr), 0);  // nobody connected
  close(listener);
}

TEST_P(AdversarialTest, SetsidDoubleForkEscape) {
  // The daemon re-execs sleep with the marker in its argv; the program itself
  // exits at once. The daemon must die with the run.
  const RunResult result = RunContained(Request(
      "python",
      "import os, sys\n"
      "if os.fork() == 0:\n"
      "    os.setsid()\n"
      "    if os.fork() == 0:\n"
      "        os.execvp('sleep', ['sleep', '3600', sys.argv[1]])\n"
      "    os._exit(0)\n"
      "os.wait()\n"
      "print('parent done')\n"));
  EXPECT_EQ(result.status, RunStatus::kOk) << result.message << result.run.stderr_data;
  EXPECT_EQ(result.run.stdout_data, "parent done\n");
}

TEST_P(AdversarialTest, SetsidDoubleForkThenHang) {
  const RunResult result = RunContained(Request(
      "python",
      "import os, sys, time\n"
      "if os.fork() == 0:\n"
      "    os.setsid()\n"
      "    if os.fork() == 0:\n"
      "        os.execvp('sleep', ['sleep', '3600', sys.argv[1]])\n"
      "    os._exit(0)\n"
      "time.sleep(3600)\n",
      1, 0.5));
  EXPECT_EQ(result.status, RunStatus::kTimeLimit);
  EXPECT_EQ(result.time_limit_kind, TimeLimitKind::kWall);
}

TEST_P(AdversarialTest, KillEverything) {
  const pid_t self = getpid();
  const RunResult result = RunContained(Request(
      "python",
      "import os, signal\n"
      "try:\n"
      "    os.kill(-1, signal.SIGKILL)\n"
      "except OSError:\n"
      "    pass\n"
      "print('survived')\n"));
  EXPECT_EQ(getpid(), self);  // this test process is, of course, still here
  EXPECT_EQ(result.status, RunStatus::kOk) << result.message << result.run.stderr_data;
  EXPECT_EQ(result.run.stdout_data, "survived\n");
}

TEST_P(AdversarialTest, FillingTheDisk) {
  RunRequest request = Request(
      "python",
      "import errno\n"
      "for path in ['/work/fill', '/tmp/fill', '/dev/shm/fill']:\n"
      "    written = 0\n"
      "    try:\n"
      "        with open(path, 'wb') as f:\n"
      "            while written < (1 << 30):\n"
      "                f.write(b'x' * (1 << 20))\n"
      "                f.flush()\n"
      "                written += 1 << 20\n"
      "    except OSError as e:\n"
      "        print(path, errno.errorcode[e.errno], written <= (8 << 20))\n");
  request.limits.work_dir_mb = 8;
  request.limits.max_file_bytes = 64 << 20;
  const RunResult result = RunContained(request);
  EXPECT_EQ(result.status, RunStatus::kOk) << result.message << result.run.stderr_data;
  EXPECT_EQ(result.run.stdout_data,
            "/work/fill ENOSPC True\n/tmp/fill ENOSPC True\n/dev/shm/fill ENOSPC True\n");
}

TEST_P(AdversarialTest, FileSizeLimit) {
  RunRequest request = Request(
      "c", "#include <stdio.h>\nint main(){FILE*f=fopen(\"big\",\"w\");"
           "for(;;){fputc('x',f);}}\n");
  request.limits.max_file_bytes = 1 << 20;
  const RunResult result = RunContained(request);
  EXPECT_EQ(result.status, RunStatus::kSignal) << result.message;
  EXPECT_EQ(result.run.signal, SIGXFSZ);
}

TEST_P(AdversarialTest, ClosesStdoutAndKeepsRunning) {
  const RunResult result = RunContained(Request(
      "python", "import os, time\nprint('bye', flush=True)\nos.close(1)\nos.close(2)\ntime.sleep(3600)\n",
      1, 0.5));
  EXPECT_EQ(result.status, RunStatus::kTimeLimit);
  EXPECT_EQ(result.time_limit_kind, TimeLimitKind::kWall);
  EXPECT_EQ(result.run.stdout_data, "bye\n");
}

TEST_P(AdversarialTest, SeccompDeniesKernelAttackSurface) {
  const RunResult result = RunContained(Request(
      "c",
      "#define _GNU_SOURCE\n#include <errno.h>\n#include <sched.h>\n#include <stdio.h>\n"
      "#include <sys/mount.h>\n#include <sys/ptrace.h>\n#include <sys/syscall.h>\n"
      "#include <unistd.h>\n"
      "static void show(const char* name, long rc){printf(\"%s %s\\n\", name,"
      " rc == -1 && errno == EPERM ? \"EPERM\" : \"ALLOWED\");}\n"
      "int main(){\n"
      "  show(\"ptrace\", ptrace(PTRACE_TRACEME, 0, 0, 0));\n"
      "  show(\"unshare\", unshare(CLONE_NEWUSER));\n"
      "  show(\"mount\", mount(\"none\", \"/tmp\", \"tmpfs\", 0, 0));\n"
      "  show(\"bpf\", syscall(SYS_bpf, 0, 0, 0));\n"
      "  show(\"keyctl\", syscall(SYS_keyctl, 0, 0, 0));\n"
      "  show(\"perf_event_open\", syscall(SYS_perf_event_open, 0, 0, -1, -1, 0));\n"
      "  show(\"userfaultfd\", syscall(SYS_userfaultfd, 0));\n"
      "  show(\"clone_newns\", syscall(SYS_clone, CLONE_NEWNS, 0, 0, 0, 0));\n"
      "  return 0;\n}\n"));
  EXPECT_EQ(result.status, RunStatus::kOk) << result.message << result.run.stderr_data;
  EXPECT_EQ(result.run.stdout_data,
            "ptrace EPERM\nunshare EPERM\nmount EPERM\nbpf EPERM\nkeyctl EPERM\n"
            "perf_event_open EPERM\nuserfaultfd EPERM\nclone_newns EPERM\n");
}

TEST_P(AdversarialTest, RunsAsUnprivilegedUserInItsOwnNamespaces) {
  const RunResult result = RunContained(Request(
      "python",
      "import os, socket\n"
      "print(os.getuid(), os.getgid(), os.getpid() > 1, socket.gethostname())\n"
      "print(sorted(int(p) for p in os.listdir('/proc') if p.isdigit())[:1])\n"
      "print(open('/proc/self/status').read().count('CapEff:\\t0000000000000000'))\n"));
  EXPECT_EQ(result.status, RunStatus::kOk) << result.message << result.run.stderr_data;
  // uid 65534, pid namespace whose pid 1 is the init, no effective capabilities.
  EXPECT_EQ(result.run.stdout_data, "65534 65534 True sandbox\n[1]\n1\n");
}

TEST_P(AdversarialTest, ProgramHoldsNoCapabilityAndCannotGainOne) {
  const RunResult result = RunContained(Request(
      "python",
      "fields = dict(line.split(':\\t') for line in open('/proc/self/status').read().splitlines()"
      " if line.startswith(('Cap', 'NoNewPrivs')))\n"
      "for name in ['CapInh', 'CapPrm', 'CapEff', 'CapAmb', 'NoNewPrivs']: print(name, fields[name])\n"
      "print('CapBnd', fields['CapBnd'])\n"));
  ASSERT_EQ(result.status, RunStatus::kOk) << result.message << result.run.stderr_data;
  std::string expected =
      "CapInh 0000000000000000\nCapPrm 0000000000000000\nCapEff 0000000000000000\n"
      "CapAmb 0000000000000000\nNoNewPrivs 1\n";
  // Both inits hold capabilities in the sandbox's user namespace (they mount:
  // a warm one for each run, a one-shot one to cap tmpfs inodes) and empty
  // even the bounding set of the program.
  EXPECT_EQ(result.run.stdout_data.substr(0, expected.size()), expected);
  EXPECT_NE(result.run.stdout_data.find("CapBnd 0000000000000000"), std::string::npos)
      << result.run.stdout_data;
}

INSTANTIATE_TEST_SUITE_P(Sandboxes, AdversarialTest, ::testing::Values(true, false),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "Warm" : "OneShot";
                         });

}  // namespace
}  // namespace lockstep::sandbox
