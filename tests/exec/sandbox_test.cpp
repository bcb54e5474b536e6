// The candidate sandbox's layers, each tested with a shell "candidate" doing what a hostile one
// would: reading its environment and other processes' /proc entries, leaving children in new
// sessions behind, remounting the file system. A layer this machine does not allow is skipped,
// visibly, naming why.
#include "exec/sandbox.h"

#include <grp.h>
#include <sys/prctl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "../support/test_dir.h"
#include "exec/subprocess.h"

namespace tritonize {
namespace {

namespace fs = std::filesystem;

/// Whether a process whose command line holds `marker` is alive (zombies count as gone).
bool SomeProcessHolds(const std::string& marker) {
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream cmdline(entry.path() / "cmdline", std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(cmdline)), std::istreambuf_iterator<char>());
    if (text.find(marker) == std::string::npos) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    std::getline(stat, line);
    const auto close = line.rfind(')');
    if (close != std::string::npos && line.substr(close + 2, 1) != "Z") return true;
  }
  return false;
}

bool GoneWithin(const std::string& marker, double seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (SomeProcessHolds(marker)) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

class SandboxTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = FreshTestDir("sandbox"); }
  void TearDown() override { fs::remove_all(dir_); }

  /// `script` under /bin/sh in the sandbox (auto: every layer this machine allows).
  SubprocessResult Run(const std::string& script, double timeout_s = 20) {
    SubprocessOptions o;
    o.argv = {"/bin/sh", "-c", script};
    o.cwd = dir_;
    o.stdout_path = dir_ / "out";
    o.stderr_path = dir_ / "err";
    o.timeout_s = timeout_s;
    SandboxPolicy policy;
    policy.writable = {dir_};
    o.sandbox = policy;
    return RunSubprocess(o);
  }
  std::string Out() const { return TailOfFile(dir_ / "out", 100000); }
  std::string Err() const { return TailOfFile(dir_ / "err", 100000); }

  fs::path dir_;
};

TEST(SandboxEnvironmentTest, KeepsTheAllowListAndDropsEverythingElse) {
  const char* environ_[] = {"PATH=/usr/bin",
                            "HOME=/root",
                            "LC_ALL=C.UTF-8",
                            "CUDA_VISIBLE_DEVICES=0",
                            "TRITON_CACHE_DIR=/x",
                            "ANTHROPIC_API_KEY=sk-ant-secret",
                            "OPENAI_API_KEY=sk-secret",
                            "TRITONIZE_TOKEN=t0ken",
                            "TRITONIZE_DB=/data/results.db",
                            "AWS_SECRET_ACCESS_KEY=aws",
                            "TRITON_API_TOKEN=allow-listed-prefix-but-a-token",
                            "SSH_AUTH_SOCK=/tmp/agent",
                            "NOEQUALS",
                            nullptr};
  const auto env = SandboxEnvironment(
      environ_, DefaultEnvironmentAllowList(),
      {{"HOME", "/job"}, {"TRITON_INTERPRET", "1"}, {"MY_SECRET", "set-by-mistake"}});
  EXPECT_EQ(env, (std::vector<std::string>{"CUDA_VISIBLE_DEVICES=0", "HOME=/job", "LC_ALL=C.UTF-8",
                                           "PATH=/usr/bin", "TRITON_CACHE_DIR=/x",
                                           "TRITON_INTERPRET=1"}));
}

TEST(SandboxEnvironmentTest, SecretNamesAreWholeWords) {
  for (const char* name : {"ANTHROPIC_API_KEY", "OPENAI_API_KEY", "TRITONIZE_TOKEN", "GITHUB_TOKEN",
                           "HF_TOKEN", "DB_PASSWORD", "AWS_SECRET_ACCESS_KEY",
                           "GOOGLE_APPLICATION_CREDENTIALS", "my_apikey", "SSH_AUTH_SOCK"}) {
    EXPECT_TRUE(IsSecretName(name)) << name;
  }
  for (const char* name :
       {"PATH", "KEYBOARD", "MONKEY_PATCH", "TORCHINDUCTOR_CACHE_DIR", "TOKENIZERS_PARALLELISM"}) {
    EXPECT_FALSE(IsSecretName(name)) << name;
  }
}

// Regression: a candidate that printed its environment got the engine's, API keys included.
TEST_F(SandboxTest, TheCandidateSeesNoKeyOfTheEnginesEnvironmentInAnyMode) {
  setenv("ANTHROPIC_API_KEY", "sk-test-secret", 1);
  for (SandboxMode mode : {SandboxMode::kOff, SandboxMode::kAuto}) {
    SubprocessOptions o;
    o.argv = {"/bin/sh", "-c", "env; cat /proc/self/environ | tr '\\0' '\\n'"};
    o.stdout_path = dir_ / "out";
    o.stderr_path = dir_ / "err";
    o.env["TRITON_INTERPRET"] = "1";
    SandboxPolicy policy;
    policy.mode = mode;
    o.sandbox = policy;
    const SubprocessResult r = RunSubprocess(o);
    ASSERT_EQ(r.exit_code, 0) << r.spawn_error << Err();
    EXPECT_EQ(Out().find("sk-test-secret"), std::string::npos) << Out();
    EXPECT_NE(Out().find("TRITON_INTERPRET=1"), std::string::npos) << Out();
    EXPECT_NE(Out().find("PATH="), std::string::npos) << Out();
  }
  unsetenv("ANTHROPIC_API_KEY");
}

TEST_F(SandboxTest, AHiddenFolderShowsNothingButTheJobsOwnFolderPutBackInIt) {
  if (!ProbeSandbox().filesystem) {
    GTEST_SKIP() << "no filesystem layer here: " << ProbeSandbox().why_not;
  }
  // The jobs folder: the job's own folder and another job's, whose outputs a candidate would copy.
  const fs::path jobs = dir_ / "jobs";
  fs::create_directories(jobs / "mine");
  fs::create_directories(jobs / "other");
  std::ofstream(jobs / "other" / "outputs") << "the baseline's outputs";
  std::ofstream(jobs / "mine" / "request") << "my request";
  SubprocessOptions o;
  o.argv = {"/bin/sh", "-c",
            "ls -a ..; cat ../other/outputs; cat request; echo; echo made > new; "
            "echo planted > ../planted && echo planted beside"};
  o.cwd = jobs / "mine";
  o.stdout_path = dir_ / "out";
  o.stderr_path = dir_ / "err";
  SandboxPolicy policy;
  policy.writable = {jobs / "mine"};
  policy.hidden = {jobs};
  o.sandbox = policy;
  const SubprocessResult r = RunSubprocess(o);
  ASSERT_TRUE(r.started) << r.spawn_error;
  EXPECT_NE(Out().find("mine"), std::string::npos) << Out();
  EXPECT_EQ(Out().find("other"), std::string::npos) << Out();
  EXPECT_EQ(Out().find("the baseline's outputs"), std::string::npos) << Out();
  EXPECT_NE(Out().find("my request"), std::string::npos) << Out();  // put back as it was
  EXPECT_EQ(Out().find("planted beside"), std::string::npos) << Out();
  std::string made;
  std::getline(std::ifstream(jobs / "mine" / "new"), made);
  EXPECT_EQ(made, "made");  // written through to the real folder
  EXPECT_FALSE(fs::exists(jobs / "planted"));
  EXPECT_TRUE(fs::exists(jobs / "other" / "outputs"));  // hidden, not touched
}

TEST_F(SandboxTest, ThePidLayerShowsOnlyTheJobsProcessesAndHidesItsInit) {
  if (!ProbeSandbox().pid) GTEST_SKIP() << "no pid namespace here: " << ProbeSandbox().why_not;
  setenv("ANTHROPIC_API_KEY", "sk-test-secret", 1);
  const SubprocessResult r = Run(
      "echo pid=$$ ppid=$PPID; echo processes=$(ls /proc | grep -c '^[0-9]');"
      "for p in /proc/[0-9]*; do cat $p/environ $p/cmdline 2>/dev/null; done | tr '\\0' ' ';"
      "echo; cat /proc/1/environ >/dev/null 2>&1 && echo init-readable || echo init-unreadable");
  unsetenv("ANTHROPIC_API_KEY");
  ASSERT_EQ(r.exit_code, 0) << r.spawn_error << Err();
  const std::string out = Out();
  EXPECT_NE(out.find("pid=2 ppid=1"), std::string::npos) << out;  // our init is process 1
  EXPECT_NE(out.find("init-unreadable"), std::string::npos) << out;
  EXPECT_EQ(out.find("sk-test-secret"), std::string::npos) << out;
  EXPECT_EQ(out.find("gtest"), std::string::npos) << out;  // the engine's (this test's) cmdline
  const auto at = out.find("processes=");
  ASSERT_NE(at, std::string::npos);
  EXPECT_LE(std::stoi(out.substr(at + 10)), 5) << out;
}

// Regression: a candidate's children in new sessions (setsid) outlived its job and could load
// the GPU during later timings.
TEST_F(SandboxTest, ChildrenInNewSessionsDieWithTheJob) {
  if (!ProbeSandbox().pid) GTEST_SKIP() << "no pid namespace here: " << ProbeSandbox().why_not;
  const std::string marker = "987.6" + std::to_string(getpid());
  const SubprocessResult r = Run("for i in 1 2 3; do setsid sleep " + marker +
                                 " </dev/null >/dev/null 2>&1 & done; exit 0");
  ASSERT_EQ(r.exit_code, 0) << r.spawn_error << Err();
  EXPECT_TRUE(GoneWithin(marker, 5)) << "a child of the job outlived it";
}

TEST_F(SandboxTest, ATimeoutKillsEveryProcessOfTheNamespace) {
  if (!ProbeSandbox().pid) GTEST_SKIP() << "no pid namespace here: " << ProbeSandbox().why_not;
  const std::string marker = "876.5" + std::to_string(getpid());
  const SubprocessResult r =
      Run("setsid sleep " + marker + " </dev/null >/dev/null 2>&1 & sleep 60", /*timeout_s=*/1.5);
  EXPECT_TRUE(r.timed_out);
  EXPECT_TRUE(GoneWithin(marker, 5)) << "a child of the job outlived its timeout";
}

TEST_F(SandboxTest, ExitCodeAndSignalPassThroughThePidLayer) {
  if (!ProbeSandbox().pid) GTEST_SKIP() << "no pid namespace here: " << ProbeSandbox().why_not;
  SubprocessResult r = Run("exit 7");
  EXPECT_EQ(r.exit_code, 7) << r.spawn_error;
  r = Run("kill -SEGV $$");
  EXPECT_EQ(r.signal, 11) << r.spawn_error << " exit " << r.exit_code;
  r = Run("/nonexistent/program");
  EXPECT_EQ(r.exit_code, 127);
}

TEST_F(SandboxTest, RootKeepsNoCapabilityAndCannotRemountTheFileSystem) {
  if (geteuid() != 0) GTEST_SKIP() << "not root: no capabilities to drop";
  if (!ProbeSandbox().privileges || !ProbeSandbox().filesystem) {
    GTEST_SKIP() << "no privileges or filesystem layer here: " << ProbeSandbox().why_not;
  }
  const SubprocessResult r =
      Run("grep CapEff /proc/self/status; mount -o remount,rw / 2>/dev/null && echo remounted;"
          "touch /escaped-" +
          std::to_string(getpid()) + " 2>/dev/null && echo escaped; exit 0");
  ASSERT_EQ(r.exit_code, 0) << r.spawn_error << Err();
  EXPECT_NE(Out().find("CapEff:\t0000000000000000"), std::string::npos) << Out();
  EXPECT_EQ(Out().find("remounted"), std::string::npos) << Out();
  EXPECT_EQ(Out().find("escaped"), std::string::npos) << Out();
  fs::remove("/escaped-" + std::to_string(getpid()));
}

TEST_F(SandboxTest, DescriptionNamesEveryLayerApplied) {
  SandboxPolicy policy;
  policy.writable = {dir_};
  PreparedSandbox prepared;
  std::string err;
  ASSERT_TRUE(PrepareSandbox(policy, &prepared, &err)) << err;
  const SandboxSupport& s = ProbeSandbox();
  if (s.network && s.filesystem && s.pid && s.privileges) {
    EXPECT_EQ(DescribeSandbox(prepared), "environment, network, filesystem, pid, privileges");
  } else {
    EXPECT_NE(DescribeSandbox(prepared).find("(not available: " + s.why_not + ")"),
              std::string::npos);
  }
  policy.mode = SandboxMode::kOff;
  ASSERT_TRUE(PrepareSandbox(policy, &prepared, &err)) << err;
  EXPECT_EQ(DescribeSandbox(prepared), "environment (--sandbox off)");
}

// The same layers for an engine that is not root: through a user namespace. Run as root, the
// test drops to nobody in a child first (each test runs in its own process: ProbeSandbox has
// not cached root's answer there).
TEST_F(SandboxTest, ANonRootEngineGetsTheSameLayersThroughAUserNamespace) {
  if (geteuid() != 0) GTEST_SKIP() << "already not root: the other tests cover it";
  fs::permissions(dir_, fs::perms::all);
  const pid_t child = fork();
  if (child == 0) {
    if (setgroups(0, nullptr) != 0 || setresgid(65534, 65534, 65534) != 0 ||
        setresuid(65534, 65534, 65534) != 0) {
      _exit(10);
    }
    // As an engine started as nobody would be: changing uid made this process not dumpable,
    // which leaves its /proc/self files root's (no uid_map could be written).
    prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
    const SandboxSupport& support = ProbeSandbox();
    if (!support.pid) {
      fprintf(stderr, "nobody's sandbox: %s\n", support.why_not.c_str());
      _exit(11);
    }
    if (!support.network || !support.filesystem || !support.privileges) _exit(13);
    const std::string marker = "765.4" + std::to_string(getpid());
    const SubprocessResult r = Run("test $$ = 2 || exit 3; setsid sleep " + marker +
                                   " </dev/null >/dev/null 2>&1 & exit 0");
    if (r.exit_code != 0) _exit(20 + (r.exit_code > 0 ? r.exit_code : 9));
    _exit(GoneWithin(marker, 5) ? 0 : 12);
  }
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  if (WEXITSTATUS(status) == 11)
    GTEST_SKIP() << "no user namespace with a pid layer for nobody here";
  EXPECT_EQ(WEXITSTATUS(status), 0) << "10: cannot become nobody, 12: a child outlived the job, "
                                       "13: a layer root has is missing, 2x: the script failed";
}

}  // namespace
}  // namespace tritonize
