// The holes of issue 10, one test each, in warm and one-shot sandboxes where
// both apply: socket families other than local, IP and netlink-route denied;
// no socket state of an earlier run visible to the next one in a warm sandbox
// (nor through the pool server); tmpfs inode caps; compile steps bounded in
// memory for every compiled language installed here; request inputs capped;
// absurd limits rejected; an honest CPU-limit message.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

#include "gtest/gtest.h"
#include "sandbox/client.h"
#include "sandbox/input_file.h"
#include "sandbox/language.h"
#include "sandbox/pool_server.h"
#include "sandbox/runner.h"
#include "tests/sandbox/sandbox_test_support.h"

namespace lockstep::sandbox {
namespace {

using namespace std::chrono_literals;
using testing::Request;
using testing::UniqueMarker;

class HardeningTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    runner_ = testing::MakeRunner(UniqueMarker("hardening"), /*cache=*/false, /*warm=*/GetParam());
    ASSERT_NE(runner_, nullptr);
    if (GetParam()) {
      ASSERT_TRUE(runner_->warm_sandbox_status().ok()) << runner_->warm_sandbox_status();
    }
  }
  std::unique_ptr<Runner> runner_;
};

// ---------------------------------------------------------------------------
// Socket families (seccomp).

TEST_P(HardeningTest, OnlyLocalIpAndNetlinkRouteSocketsOpen) {
  const RunResult result = runner_->Run(Request(
      "c",
      "#define _GNU_SOURCE\n#include <errno.h>\n#include <stdio.h>\n#include <string.h>\n"
      "#include <unistd.h>\n"
      "#include <sys/socket.h>\n#include <sys/syscall.h>\n#include <linux/netlink.h>\n"
      "static void try(const char* name, long domain, int type, int protocol) {\n"
      "  long fd = syscall(SYS_socket, domain, type, protocol);\n"
      "  printf(\"%s %s\\n\", name, fd >= 0 ? \"open\" : errno == EAFNOSUPPORT ? \"denied\""
      " : strerrorname_np(errno));\n"
      "  if (fd >= 0) close((int)fd);\n"
      "}\n"
      "int main(){\n"
      "  try(\"unix\", AF_UNIX, SOCK_STREAM, 0);\n"
      "  try(\"inet\", AF_INET, SOCK_STREAM, 0);\n"
      "  try(\"inet6\", AF_INET6, SOCK_DGRAM, 0);\n"
      "  try(\"netlink_route\", AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);\n"
      "  try(\"vsock\", 40, SOCK_STREAM, 0);\n"
      "  try(\"packet\", AF_PACKET, SOCK_RAW, 0);\n"
      "  try(\"netlink_sock_diag\", AF_NETLINK, SOCK_RAW, NETLINK_SOCK_DIAG);\n"
      "  try(\"netlink_uevent\", AF_NETLINK, SOCK_DGRAM, NETLINK_KOBJECT_UEVENT);\n"
      "  try(\"netlink_audit\", AF_NETLINK, SOCK_RAW, NETLINK_AUDIT);\n"
      "  try(\"alg\", 38, SOCK_SEQPACKET, 0);\n"
      "  try(\"bluetooth\", 31, SOCK_STREAM, 0);\n"
      "  try(\"key\", 15, SOCK_RAW, 2);\n"
      "  try(\"tipc\", 30, SOCK_RDM, 0);\n"
      "  try(\"xdp\", 44, SOCK_RAW, 0);\n"
      "  try(\"can\", 29, SOCK_RAW, 1);\n"
      "  try(\"rds\", 21, SOCK_SEQPACKET, 0);\n"
      "  try(\"appletalk\", 5, SOCK_DGRAM, 0);\n"
      "  try(\"past_af_max\", 200, SOCK_STREAM, 0);\n"
      "  try(\"vsock_high_bits\", 0x100000028L, SOCK_STREAM, 0);\n"
      "  int pair[2];\n"
      "  printf(\"socketpair_unix %s\\n\", socketpair(AF_UNIX, SOCK_STREAM, 0, pair) == 0 ?"
      " \"open\" : \"failed\");\n"
      "  printf(\"socketpair_vsock %s\\n\", socketpair(40, SOCK_STREAM, 0, pair) != 0 &&"
      " errno == EAFNOSUPPORT ? \"denied\" : \"other\");\n"
      "  return 0;\n}\n"));
  ASSERT_EQ(result.status, RunStatus::kOk) << result.message << result.run.stderr_data
                                           << (result.compile ? result.compile->stderr_data : "");
  EXPECT_EQ(result.run.stdout_data,
            "unix open\ninet open\ninet6 open\nnetlink_route open\n"
            "vsock denied\npacket denied\nnetlink_sock_diag denied\nnetlink_uevent denied\n"
            "netlink_audit denied\nalg denied\n"
            "bluetooth denied\nkey denied\ntipc denied\nxdp denied\ncan denied\nrds denied\n"
            "appletalk denied\npast_af_max denied\nvsock_high_bits denied\n"
            "socketpair_unix open\nsocketpair_vsock denied\n");
}

// ---------------------------------------------------------------------------
// No socket state crosses runs.

// Leaves TCP TIME_WAIT entries behind (the client closes first) after
// checking the loopback works, then a UDP socket bound to a chosen port.
constexpr char kLeaveSocketState[] =
    "import socket\n"
    "server = socket.socket()\n"
    "server.bind(('127.0.0.1', 0))\n"
    "server.listen()\n"
    "for _ in range(3):\n"
    "    client = socket.create_connection(server.getsockname())\n"
    "    peer, _ = server.accept()\n"
    "    client.close()\n"
    "    peer.close()\n"
    "udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
    "udp.bind(('127.0.0.1', 4242))\n"
    "print(sum(1 for line in open('/proc/net/tcp').readlines()[1:] if line.split()[3] == '06'))\n";

// Counts every socket entry the kernel lists for the run's network namespace.
constexpr char kCountSocketState[] =
    "n = 0\n"
    "for name in ['tcp', 'tcp6', 'udp', 'udp6', 'raw', 'unix']:\n"
    "    try:\n"
    "        n += len(open('/proc/net/' + name).readlines()[1:])\n"
    "    except OSError:\n"
    "        pass\n"
    "print('entries', n)\n";

TEST_P(HardeningTest, ARunSeesNoSocketStateOfAnEarlierRun) {
  const RunResult first = runner_->Run(Request("python", kLeaveSocketState));
  ASSERT_EQ(first.status, RunStatus::kOk) << first.message << first.run.stderr_data;
  EXPECT_EQ(first.run.stdout_data, "3\n") << "TIME_WAIT entries the first run left";
  const RunResult second = runner_->Run(Request("python", kCountSocketState));
  ASSERT_EQ(second.status, RunStatus::kOk) << second.message << second.run.stderr_data;
  EXPECT_EQ(second.run.stdout_data, "entries 0\n");
}

// An abstract AF_UNIX name lives in the network namespace. Run 1 binds one
// and ends without closing it; run 2 must be able to bind it. In a warm
// sandbox both runs share a namespace here (no network socket was opened), so
// this checks that the name died with run 1's processes.
constexpr char kBindAbstractName[] =
    "import os, socket\n"
    "s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n"
    "s.bind('\\0lockstep-abstract-name')\n"
    "s.listen()\n"
    "print('bound', os.readlink('/proc/self/ns/net'))\n";

TEST_P(HardeningTest, AnAbstractUnixNameOfAnEarlierRunIsFree) {
  const RunResult first = runner_->Run(Request("python", kBindAbstractName));
  ASSERT_EQ(first.status, RunStatus::kOk) << first.message << first.run.stderr_data;
  const RunResult second = runner_->Run(Request("python", kBindAbstractName));
  ASSERT_EQ(second.status, RunStatus::kOk) << second.message << second.run.stderr_data;
  EXPECT_EQ(second.run.stdout_data.substr(0, 6), "bound ");
  if (GetParam()) {
    EXPECT_EQ(first.run.stdout_data, second.run.stdout_data)
        << "a warm sandbox's runs without network sockets share one network namespace";
  }
}

// An AF_UNIX socket outlives every process of its run while it is in flight
// in an SCM_RIGHTS message of an unreachable cycle (here: sent to itself),
// until the kernel's garbage collector frees it (~6 ms later on this VM);
// its abstract name stays bound until then. The next run must not see it.
constexpr char kLeaveAbstractNameInFlight[] =
    "import array, os, socket\n"
    "name = '\\0lockstep-in-flight'\n"
    "a = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)\n"
    "a.bind(name)\n"
    "b = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)\n"
    "b.sendmsg([b'x'], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array('i', [a.fileno()]))],"
    " 0, name)\n"
    "print('sent', flush=True)\n"
    "os._exit(0)\n";
// In C, and compiled before the runs that matter (the artefact is cached),
// so that it binds within a few milliseconds of the previous run's end.
constexpr char kBindInFlightName[] =
    "#include <stdio.h>\n#include <stddef.h>\n#include <string.h>\n#include <sys/socket.h>\n"
    "#include <sys/un.h>\n"
    "int main(){\n"
    "  struct sockaddr_un a = {AF_UNIX};\n"
    "  memcpy(a.sun_path, \"\\0lockstep-in-flight\", 19);\n"
    "  int s = socket(AF_UNIX, SOCK_DGRAM, 0);\n"
    "  puts(bind(s, (struct sockaddr*)&a, offsetof(struct sockaddr_un, sun_path) + 19) == 0 ?"
    " \"free\" : \"taken\");\n"
    "  return 0;\n}\n";

TEST_P(HardeningTest, AnAbstractUnixNameInFlightAtTheEndOfARunIsFree) {
  const RunResult compiled = runner_->Run(Request("c", kBindInFlightName));
  ASSERT_EQ(compiled.status, RunStatus::kOk) << compiled.message
                                             << (compiled.compile ? compiled.compile->stderr_data : "");
  ASSERT_EQ(compiled.run.stdout_data, "free\n");
  for (int attempt = 0; attempt < 10; ++attempt) {
    const RunResult first = runner_->Run(Request("python", kLeaveAbstractNameInFlight));
    ASSERT_EQ(first.status, RunStatus::kOk) << first.message << first.run.stderr_data;
    ASSERT_EQ(first.run.stdout_data, "sent\n");
    const RunResult second = runner_->Run(Request("c", kBindInFlightName));
    ASSERT_EQ(second.status, RunStatus::kOk) << second.message << second.run.stderr_data;
    EXPECT_EQ(second.run.stdout_data, "free\n") << "attempt " << attempt;
  }
}

// Warm sandboxes: a run that opened a socket of any family but AF_UNIX (even
// one that failed, like socketpair(AF_INET)) leaves the next run a network
// namespace no run has used; runs that opened none keep the one they have.
TEST(WarmNetworkNamespaceTest, ANetworkSocketSpendsTheNamespaceAndNothingElseDoes) {
  auto runner = testing::MakeRunner(UniqueMarker("warm-netns"));
  ASSERT_NE(runner, nullptr);
  ASSERT_TRUE(runner->warm_sandbox_status().ok()) << runner->warm_sandbox_status();
  const int64_t started = runner->warm_sandboxes_started();
  auto namespace_after = [&](const std::string& statement) {
    const RunResult result = runner->Run(Request(
        "python", "import os, socket\n" + statement + "\nprint(os.readlink('/proc/self/ns/net'))\n"));
    EXPECT_EQ(result.status, RunStatus::kOk) << statement << ": " << result.message
                                             << result.run.stderr_data;
    return result.run.stdout_data;
  };
  const std::string keep_statements[] = {
      "pass",
      "a, b = socket.socketpair()\nc = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)",
      "open('/proc/net/tcp').read()",
  };
  const std::string spend_statements[] = {
      "s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)",
      "s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)",
      "s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)",
      "import threading\nt = threading.Thread(target=lambda: socket.socket(socket.AF_INET))\n"
      "t.start()\nt.join()",
      "if os.fork() == 0:\n    socket.socket(socket.AF_INET6)\n    os._exit(0)\nos.wait()",
      "try:\n    socket.socketpair(socket.AF_INET)\nexcept OSError:\n    pass",
      "sockets = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(200)]",
  };
  std::string current = namespace_after("pass");
  ASSERT_EQ(current.rfind("net:[", 0), 0u) << current;
  for (const std::string& statement : keep_statements) {
    EXPECT_EQ(namespace_after(statement), current) << statement;
    EXPECT_EQ(namespace_after("pass"), current) << "after: " << statement;
  }
  for (const std::string& statement : spend_statements) {
    EXPECT_EQ(namespace_after(statement), current) << "a run keeps its own namespace: " << statement;
    const std::string next = namespace_after("pass");
    EXPECT_NE(next, current) << "after: " << statement;
    current = next;
  }
  EXPECT_EQ(runner->warm_sandboxes_started(), started) << "every run used the same sandbox";
}

// The same for the ipc namespace: a run that created (or tried to create) a
// System V or POSIX IPC object leaves the next run an unused ipc namespace,
// in which none of those objects exists; runs that did not share one.
TEST(WarmIpcNamespaceTest, AnIpcObjectSpendsTheNamespaceAndNothingElseDoes) {
  auto runner = testing::MakeRunner(UniqueMarker("warm-ipcns"));
  ASSERT_NE(runner, nullptr);
  ASSERT_TRUE(runner->warm_sandbox_status().ok()) << runner->warm_sandbox_status();
  const int64_t started = runner->warm_sandboxes_started();
  // Runs `statement`, then prints the run's ipc namespace and how many System
  // V objects it lists (reading /proc/sysvipc creates nothing).
  auto run = [&](const std::string& statement) {
    const RunResult result = runner->Run(Request(
        "python",
        "import ctypes, os\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "libc.mq_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_int, ctypes.c_void_p]\n" +
            statement +
            "\nprint(os.readlink('/proc/self/ns/ipc'), sum(len(open('/proc/sysvipc/' + k)"
            ".readlines()) - 1 for k in ['shm', 'sem', 'msg']))\n"));
    EXPECT_EQ(result.status, RunStatus::kOk) << statement << ": " << result.message
                                             << result.run.stderr_data;
    const std::string& out = result.run.stdout_data;
    return std::make_pair(out.substr(0, out.find(' ')), out.substr(out.find(' ') + 1));
  };
  const auto first = run("pass");
  ASSERT_EQ(first.first.rfind("ipc:[", 0), 0u) << first.first;
  EXPECT_EQ(first.second, "0\n");
  EXPECT_EQ(run("os.listdir('/dev/shm')").first, first.first) << "no IPC: the namespace is kept";
  const std::pair<std::string, std::string> create_statements[] = {
      {"libc.shmget(4201, 4096, 0o1666)", "1\n"},
      {"libc.semget(4202, 1, 0o1666)", "1\n"},
      {"libc.msgget(4203, 0o1666)", "1\n"},
      {"libc.mq_open(b'/lockstep-mq', 0o100 | 2, 0o666, None)", "0\n"},  // O_CREAT | O_RDWR
      {"libc.shmget(4209, 0, 0)", "0\n"},  // fails (no such segment): counts all the same
  };
  for (const auto& [statement, objects] : create_statements) {
    const auto before = run("pass");
    const auto created = run(statement);
    EXPECT_EQ(created.first, before.first) << "a run keeps its own namespace: " << statement;
    EXPECT_EQ(created.second, objects) << statement;
    const auto next = run("pass");
    EXPECT_NE(next.first, created.first) << "after: " << statement;
    EXPECT_EQ(next.second, "0\n") << "after: " << statement;
  }
  // The POSIX queue of the last run that made one is gone too.
  const RunResult mq = runner->Run(Request(
      "python",
      "import ctypes\nlibc = ctypes.CDLL(None)\n"
      "libc.mq_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_int, ctypes.c_void_p]\n"
      "libc.mq_open(b'/lockstep-mq', 0o100 | 2, 0o666, None)\n"));
  ASSERT_EQ(mq.status, RunStatus::kOk) << mq.message << mq.run.stderr_data;
  const RunResult opened = runner->Run(Request(
      "python",
      "import ctypes\nlibc = ctypes.CDLL(None)\n"
      "libc.mq_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_int, ctypes.c_void_p]\n"
      "print(libc.mq_open(b'/lockstep-mq', 2, 0, None) >= 0)\n"));
  ASSERT_EQ(opened.status, RunStatus::kOk) << opened.message << opened.run.stderr_data;
  EXPECT_EQ(opened.run.stdout_data, "False\n");
  EXPECT_EQ(runner->warm_sandboxes_started(), started) << "every run used the same sandbox";
}

TEST(PoolServerHardeningTest, ConsecutiveRequestsSeeNoSocketStateOfEachOther) {
  char dir[] = "/tmp/lockstep-hardening-pool.XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  PoolServerOptions options;
  options.bind = std::string("ipc://") + dir + "/pool";
  options.workers = 1;  // one warm sandbox serves both requests
  options.stats_log_interval_s = 0;
  options.runner.languages = testing::TestLanguages(UniqueMarker("hardening-pool"));
  options.runner.cache_results = false;
  auto server = PoolServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  auto client = SandboxClient::Connect(options.bind);
  ASSERT_TRUE(client.ok()) << client.status();
  for (const char* source : {kLeaveSocketState, kCountSocketState}) {
    const std::vector<RunRequest> batch = {Request("python", source)};
    auto results = (*client)->RunBatch(batch, 60s);
    ASSERT_TRUE(results.ok()) << results.status();
    ASSERT_EQ((*results)[0].status, RunStatus::kOk) << (*results)[0].message;
    EXPECT_EQ((*results)[0].run.stdout_data, source == kLeaveSocketState ? "3\n" : "entries 0\n");
  }
  (*server)->Stop();
  std::filesystem::remove_all(dir);
}

// ---------------------------------------------------------------------------
// Inodes.

TEST_P(HardeningTest, TmpfsInodesAreCapped) {
  RunRequest request = Request(
      "python",
      "import errno\n"
      "for place in ['/work', '/tmp', '/dev/shm']:\n"
      "    made = 0\n"
      "    try:\n"
      "        while made < 5000:\n"
      "            open(f'{place}/f{made}', 'w').close()\n"
      "            made += 1\n"
      "        print(place, 'uncapped')\n"
      "    except OSError as e:\n"
      "        print(place, errno.errorcode[e.errno], made <= 300)\n");
  request.limits.max_inodes = 300;
  const RunResult result = runner_->Run(request);
  ASSERT_EQ(result.status, RunStatus::kOk) << result.message << result.run.stderr_data;
  EXPECT_EQ(result.run.stdout_data,
            "/work ENOSPC True\n/tmp ENOSPC True\n/dev/shm ENOSPC True\n");
}

// ---------------------------------------------------------------------------
// mountinfo: no host path of the sandbox's staging folder.

TEST_P(HardeningTest, MountinfoShowsNoHostStagingPath) {
  if (geteuid() != 0) GTEST_SKIP() << "the staging tmpfs needs root (Runner::Init)";
  const RunResult result =
      runner_->Run(Request("python", "print(open('/proc/self/mountinfo').read())\n"));
  ASSERT_EQ(result.status, RunStatus::kOk) << result.message << result.run.stderr_data;
  const std::string& mountinfo = result.run.stdout_data;
  ASSERT_NE(mountinfo.find(" /work "), std::string::npos) << mountinfo;
  EXPECT_EQ(mountinfo.find(runner_->work_root()), std::string::npos) << mountinfo;
  EXPECT_EQ(mountinfo.find("lockstep-sandbox."), std::string::npos) << mountinfo;
}

// Compile steps: a capped tmpfs /work, copied back to the host only after a
// successful compile; the host path hidden there too.
class CompileWorkDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    LanguageSpec files;  // "compiles" by running its source as a shell script
    files.name = "files";
    files.source_file = "build.sh";
    files.compile = {"sh", "{src}"};
    files.run = {"sh", "-c", "ls -p /work; cat /work/out/made"};
    RunnerOptions options;
    options.languages = {files};
    options.cache_results = false;
    options.compile_max_inodes = 200;
    auto runner = Runner::Create(options);
    ASSERT_TRUE(runner.ok()) << runner.status();
    runner_ = std::move(*runner);
  }
  std::unique_ptr<Runner> runner_;
};

TEST_F(CompileWorkDirTest, TooManyFilesIsACompileErrorSayingSo) {
  RunRequest request = Request(
      "files", "i=0\nwhile [ $i -lt 100000 ]; do touch f$i || exit 3; i=$((i+1)); done\n", 10, 20);
  request.limits.max_inodes = 100;  // the compile step gets compile_max_inodes = 200
  const RunResult result = runner_->Run(request);
  ASSERT_TRUE(result.compile.has_value()) << result.message;
  EXPECT_EQ(result.status, RunStatus::kCompileError) << result.message;
  EXPECT_EQ(result.compile->exit_code, 3);
  EXPECT_NE(result.message.find("ran out of inodes"), std::string::npos) << result.message;
  EXPECT_NE(result.message.find("compile_max_inodes"), std::string::npos) << result.message;
  EXPECT_NE(result.compile->stderr_data.find("No space left on device"), std::string::npos)
      << result.compile->stderr_data;
}

TEST_F(CompileWorkDirTest, OutputsComeBackAndTheHostPathIsHidden) {
  const RunResult result = runner_->Run(Request(
      "files",
      "mkdir out && echo built > out/made && ln -s out/made link\n"
      "cat /proc/self/mountinfo\n"));
  ASSERT_EQ(result.status, RunStatus::kOk) << result.message << result.run.stderr_data;
  ASSERT_TRUE(result.compile.has_value());
  EXPECT_EQ(result.run.stdout_data, "build.sh\nlink\nout/\nbuilt\n");
  const std::string& mountinfo = result.compile->stdout_data;
  ASSERT_NE(mountinfo.find(" /work "), std::string::npos) << mountinfo;
  if (geteuid() == 0) {  // the staging tmpfs needs root (Runner::Init)
    EXPECT_EQ(mountinfo.find(runner_->work_root()), std::string::npos) << mountinfo;
  }
}

INSTANTIATE_TEST_SUITE_P(Sandboxes, HardeningTest, ::testing::Values(true, false),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "Warm" : "OneShot";
                         });

// ---------------------------------------------------------------------------
// Compile steps: bounded memory, for every compiled language installed here.

struct CompileBomb {
  std::string language;
  std::string source;     // makes its compiler allocate without end
  int compile_memory_mb;  // enough for the compiler to start (kotlinc needs ~300 MB)
};

// Constant s30 is 16 GiB: string constants are concatenated by the compiler
// itself (go, javac, kotlinc) before anything checks their size.
std::string ConstantStringBomb(const std::string& head, const std::string& declare,
                               const std::string& tail) {
  std::string source = head + declare + "s0 = \"0123456789abcdef\"" +
                       (head.empty() ? "\n" : ";\n");
  for (int i = 1; i <= 30; ++i) {
    source += declare + "s" + std::to_string(i) + " = s" + std::to_string(i - 1) + " + s" +
              std::to_string(i - 1) + (head.empty() ? "\n" : ";\n");
  }
  return source + tail;
}

class CompileMemoryTest : public ::testing::TestWithParam<CompileBomb> {};

TEST_P(CompileMemoryTest, ACompilerThatAllocatesWithoutEndIsACompileErrorWithinItsLimit) {
  const CompileBomb& bomb = GetParam();
  RunnerOptions options;
  options.cache_results = false;
  options.compile_memory_mb = bomb.compile_memory_mb;
  auto runner = Runner::Create(options);
  ASSERT_TRUE(runner.ok()) << runner.status();
  const LanguageSpec* spec = (*runner)->FindSpec(bomb.language);
  ASSERT_NE(spec, nullptr);
  if ((*runner)->ProbeToolchain(*spec).status != RunStatus::kOk) {
    GTEST_SKIP() << bomb.language << " toolchain not installed (scripts/install-toolchains.sh)";
  }
  RunRequest request = Request(bomb.language, bomb.source);
  request.limits.memory_mb = 64;  // the program's limit: not what bounds the compiler
  const RunResult result = (*runner)->Run(request);
  ASSERT_TRUE(result.compile.has_value());
  EXPECT_EQ(result.status, RunStatus::kCompileError) << result.message;
  EXPECT_NE(result.message.find("ran out of memory"), std::string::npos)
      << result.message << "\n" << result.compile->stderr_data.substr(0, 2000);
  // The largest compiler process stayed near its limit (RSS can only
  // exceed RLIMIT_DATA by code, stacks and file mappings).
  EXPECT_LT(result.compile->peak_memory_kb, int64_t{bomb.compile_memory_mb + 128} << 10);
}

INSTANTIATE_TEST_SUITE_P(
    Languages, CompileMemoryTest,
    ::testing::Values(
        CompileBomb{"c", "#include \"/dev/zero\"\nint main(void) { return 0; }\n", 256},
        CompileBomb{"cpp", "#include \"/dev/zero\"\nint main() { return 0; }\n", 256},
        CompileBomb{"rust", "static B: &[u8] = include_bytes!(\"/dev/zero\");\n"
                            "fn main() { println!(\"{}\", B.len()); }\n", 256},
        // cgo, which would hand a preamble to gcc, is off: the compiler's own
        // constant folding.
        CompileBomb{"go", ConstantStringBomb("", "const ", "func main() { println(s30) }\n")
                              .insert(0, "package main\n\n"), 256},
        CompileBomb{"java",
                    ConstantStringBomb("public class Main {\n", "  static final String ",
                                       "  public static void main(String[] a) {"
                                       " System.out.println(s30.length()); }\n}\n"),
                    256},
        CompileBomb{"kotlin",
                    ConstantStringBomb("", "const val ", "fun main() { println(s30.length) }\n"),
                    768}),
    [](const ::testing::TestParamInfo<CompileBomb>& info) { return info.param.language; });

TEST(CompileMemoryOptionsTest, ATooSmallCompileLimitIsRefused) {
  RunnerOptions options;
  options.compile_memory_mb = 8;
  auto runner = Runner::Create(options);
  ASSERT_FALSE(runner.ok());
  EXPECT_NE(runner.status().message().find("compile_memory_mb"), std::string::npos);
}

// ---------------------------------------------------------------------------
// Inputs: capped, regular files only.

class InputFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/lockstep-input-test.XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& content) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }
  std::string dir_;
};

TEST_F(InputFileTest, ReadsARegularFileWithinItsCap) {
  auto content = ReadInputFile(Write("ok", "print(1)\n"), 9, "program file");
  ASSERT_TRUE(content.ok()) << content.status();
  EXPECT_EQ(*content, "print(1)\n");
  auto empty = ReadInputFile(Write("empty", ""), 0, "program file");
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_EQ(*empty, "");
}

TEST_F(InputFileTest, RefusesWhatIsNotARegularFileOrTooLarge) {
  auto big = ReadInputFile(Write("big", std::string(10, 'x')), 9, "--stdin file");
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.status().message().find("larger than the limit of 9 bytes"), std::string::npos)
      << big.status();
  auto directory = ReadInputFile(dir_, 1 << 20, "program file");
  ASSERT_FALSE(directory.ok());
  EXPECT_NE(directory.status().message().find("is a directory"), std::string::npos)
      << directory.status();
  auto device = ReadInputFile("/dev/zero", 1 << 20, "--stdin file");
  ASSERT_FALSE(device.ok());
  EXPECT_NE(device.status().message().find("character device"), std::string::npos)
      << device.status();
  const std::string fifo = dir_ + "/fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  auto pipe = ReadInputFile(fifo, 1 << 20, "--stdin file");  // must not wait for a writer
  ASSERT_FALSE(pipe.ok());
  EXPECT_NE(pipe.status().message().find("FIFO"), std::string::npos) << pipe.status();
  auto missing = ReadInputFile(dir_ + "/nothing", 1 << 20, "program file");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("program file"), std::string::npos);
}

TEST_F(InputFileTest, LoadRunRequestFilesReadsEveryInputAndChecksTheLimits) {
  RunRequest request;
  InputLimits limits;
  ASSERT_TRUE(LoadRunRequestFiles(Write("src", "S"), Write("in", "I"), Write("exp", "E"), limits,
                                  &request)
                  .ok());
  EXPECT_EQ(request.source, "S");
  EXPECT_EQ(request.stdin_data, "I");
  EXPECT_EQ(request.expected_stdout, "E");
  limits.max_expected_stdout_bytes = 0;
  EXPECT_FALSE(
      LoadRunRequestFiles(Write("src", "S"), "", Write("exp", "E"), limits, &request).ok());
  // A directory as the source is an error, never an empty program that "passes".
  EXPECT_FALSE(LoadRunRequestFiles(dir_, "", "", InputLimits{}, &request).ok());
  request.limits.cpu_time_s = std::numeric_limits<double>::infinity();
  const absl::Status absurd =
      LoadRunRequestFiles(Write("src", "S"), "", "", InputLimits{}, &request);
  ASSERT_FALSE(absurd.ok());
  EXPECT_NE(absurd.message().find("cpu_time_s"), std::string::npos) << absurd;
}

TEST(InputLimitsTest, TheRunnerRefusesOversizedInputsBeforeRunning) {
  RunnerOptions options;
  options.languages = testing::TestLanguages(UniqueMarker("input-limits"));
  options.cache_results = false;
  options.input_limits.max_source_bytes = 64;
  options.input_limits.max_stdin_bytes = 16;
  options.input_limits.max_expected_stdout_bytes = 8;
  auto runner = Runner::Create(options);
  ASSERT_TRUE(runner.ok()) << runner.status();
  RunResult result = (*runner)->Run(Request("python", "print(1)  #" + std::string(64, 'x') + "\n"));
  EXPECT_EQ(result.status, RunStatus::kSandboxError);
  EXPECT_NE(result.message.find("source"), std::string::npos) << result.message;
  RunRequest request = Request("python", "print(1)\n");
  request.stdin_data = std::string(17, 'x');
  result = (*runner)->Run(request);
  EXPECT_EQ(result.status, RunStatus::kSandboxError);
  EXPECT_NE(result.message.find("stdin"), std::string::npos) << result.message;
  request.stdin_data = "";
  request.expected_stdout = std::string(9, '1');
  result = (*runner)->Run(request);
  EXPECT_EQ(result.status, RunStatus::kSandboxError);
  EXPECT_NE(result.message.find("expected stdout"), std::string::npos) << result.message;
  request.expected_stdout = "1\n";
  EXPECT_EQ((*runner)->Run(request).status, RunStatus::kOk);
}

TEST(InputLimitsTest, ThePoolServerDropsARequestFarBeyondTheCapsUnbuffered) {
  char dir[] = "/tmp/lockstep-hardening-pool.XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  PoolServerOptions options;
  options.bind = std::string("ipc://") + dir + "/pool";
  options.workers = 1;
  options.stats_log_interval_s = 0;
  options.runner.languages = testing::TestLanguages(UniqueMarker("pool-caps"));
  options.runner.input_limits = {16, 16, 16};  // messages above ~1 MiB are refused
  auto server = PoolServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  auto client = SandboxClient::Connect(options.bind);
  ASSERT_TRUE(client.ok()) << client.status();
  const std::vector<RunRequest> huge = {Request("python", std::string(4 << 20, '#'))};
  EXPECT_FALSE((*client)->RunBatch(huge, 3s).ok()) << "a 4 MiB request was answered";
  auto stats = (*client)->Stats(10s);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ((*stats)["received"], 0);
  (*server)->Stop();
  std::filesystem::remove_all(dir);
}

// ---------------------------------------------------------------------------
// Statuses.

TEST(AbsurdLimitsTest, NonFiniteOrHugeTimesAreInvalidNotATimeLimit) {
  for (double seconds : {std::numeric_limits<double>::infinity(), 1e300, kMaxTimeLimitS * 2}) {
    RunLimits limits;
    limits.cpu_time_s = seconds;
    EXPECT_FALSE(ValidateLimits(limits).ok()) << seconds;
    limits = RunLimits{};
    limits.wall_time_s = seconds;
    EXPECT_FALSE(ValidateLimits(limits).ok()) << seconds;
  }
  RunLimits longest;
  longest.cpu_time_s = longest.wall_time_s = kMaxTimeLimitS;
  EXPECT_TRUE(ValidateLimits(longest).ok());
  EXPECT_FALSE(LimitsFromJson({{"cpu_time_s", 1e300}}).ok());

  auto runner = testing::MakeRunner(UniqueMarker("absurd"));
  ASSERT_NE(runner, nullptr);
  RunRequest request = Request("python", "print(1)\n", std::numeric_limits<double>::infinity(),
                               std::numeric_limits<double>::infinity());
  const RunResult result = runner->Run(request);
  EXPECT_EQ(result.status, RunStatus::kSandboxError) << result.message;
  EXPECT_NE(result.message.find("cpu_time_s"), std::string::npos) << result.message;
}

TEST(CpuLimitMessageTest, SaysWhatHappenedWhenSigxcpuEndsTheRun) {
  auto runner = testing::MakeRunner(UniqueMarker("cpu-message"));
  ASSERT_NE(runner, nullptr);
  const RunResult result =
      runner->Run(Request("c", "int main(void) { for (volatile long i = 0;; ++i) {} }\n", 1, 10));
  ASSERT_EQ(result.status, RunStatus::kTimeLimit) << result.message;
  EXPECT_EQ(result.time_limit_kind, TimeLimitKind::kCpu);
  ASSERT_EQ(result.run.signal, SIGXCPU) << result.message;
  EXPECT_NE(result.message.find("killed by SIGXCPU at the CPU limit of 1 s"), std::string::npos)
      << result.message;
}

}  // namespace
}  // namespace lockstep::sandbox
