#include "exec/subprocess.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <thread>

#include "../support/test_dir.h"

namespace tritonize {
namespace {

namespace fs = std::filesystem;

class SubprocessTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = FreshTestDir("subprocess"); }
  void TearDown() override { fs::remove_all(dir_); }

  SubprocessOptions Shell(const std::string& script, double timeout_s = 10) {
    SubprocessOptions o;
    o.argv = {"/bin/sh", "-c", script};
    o.stdout_path = dir_ / "out";
    o.stderr_path = dir_ / "err";
    o.timeout_s = timeout_s;
    return o;
  }
  fs::path dir_;
};

TEST_F(SubprocessTest, ExitCodeAndOutputFiles) {
  auto r = RunSubprocess(Shell("echo hello; echo oops >&2; exit 3"));
  ASSERT_TRUE(r.started);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.signal, 0);
  EXPECT_EQ(TailOfFile(dir_ / "out", 100), "hello");
  EXPECT_EQ(TailOfFile(dir_ / "err", 100), "oops");
}

TEST_F(SubprocessTest, SignalIsReported) {
  auto r = RunSubprocess(Shell("kill -SEGV $$"));
  ASSERT_TRUE(r.started);
  EXPECT_EQ(r.signal, 11);
}

TEST_F(SubprocessTest, TimeoutKillsTheWholeProcessGroup) {
  // The grandchild writes its pid, then would outlive a naive kill of the child.
  fs::path pidfile = dir_ / "grandchild.pid";
  // 2 s, not less: on a loaded 2-core CI machine the shell may not have written the pid sooner.
  auto r = RunSubprocess(
      Shell("sleep 60 & echo $! > " + pidfile.string() + "; sleep 60", /*timeout_s=*/2.0));
  EXPECT_TRUE(r.timed_out);
  EXPECT_LT(r.wall_s, 10.0);
  std::ifstream in(pidfile);
  int pid = 0;
  in >> pid;
  ASSERT_GT(pid, 0);
  // SIGKILL is delivered asynchronously: within 5 s the grandchild must be gone or a zombie.
  auto alive = [pid] {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) return false;
    auto close = line.rfind(')');
    return close != std::string::npos && line.substr(close + 2, 1) != "Z";
  };
  for (int i = 0; i < 250 && alive(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(alive()) << "grandchild " << pid << " outlived the timeout";
}

TEST_F(SubprocessTest, MissingProgramIsASpawnError) {
  SubprocessOptions o = Shell("");
  o.argv = {"/nonexistent/python9"};
  auto r = RunSubprocess(o);
  EXPECT_FALSE(r.started);
  EXPECT_NE(r.spawn_error.find("/nonexistent/python9"), std::string::npos);
}

TEST_F(SubprocessTest, EnvironmentAndWorkingDirectory) {
  SubprocessOptions o = Shell("echo \"$TRITONIZE_PROBE $(pwd)\"");
  o.env["TRITONIZE_PROBE"] = "value";
  o.cwd = dir_;
  auto r = RunSubprocess(o);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(TailOfFile(dir_ / "out", 1000), "value " + fs::canonical(dir_).string());
}

// The step server's channel: a line out, a line back, the same child every time.
TEST_F(SubprocessTest, CoprocessAnswersEachLineFromOneChild) {
  Coprocess child;
  std::string err;
  SubprocessOptions o = Shell("while read line; do echo \"$$ got $line\"; done");
  ASSERT_TRUE(child.Start(o, &err)) << err;
  std::string first;
  std::string second;
  ASSERT_EQ(child.Ask("a\tb", 10, &first), Coprocess::Reply::kLine);
  ASSERT_EQ(child.Ask("c", 10, &second), Coprocess::Reply::kLine);
  const std::string pid = first.substr(0, first.find(' '));
  EXPECT_EQ(first, pid + " got a\tb");
  EXPECT_EQ(second, pid + " got c");
  child.Stop();
  EXPECT_FALSE(child.running());
}

TEST_F(SubprocessTest, CoprocessThatDiesSaysHowAndSendingAgainIsNoSignal) {
  Coprocess child;
  std::string err;
  ASSERT_TRUE(child.Start(Shell("read line; exit 3"), &err)) << err;
  std::string reply;
  EXPECT_EQ(child.Ask("x", 10, &reply), Coprocess::Reply::kExited);
  EXPECT_EQ(child.ended(), "exited with code 3");
  // Stopped: a later send neither raises SIGPIPE nor blocks.
  EXPECT_EQ(child.Ask("y", 10, &reply), Coprocess::Reply::kExited);
}

TEST_F(SubprocessTest, CoprocessThatDoesNotAnswerIsKilledAtTheTimeout) {
  Coprocess child;
  std::string err;
  ASSERT_TRUE(child.Start(Shell("read line; sleep 30"), &err)) << err;
  const auto start = std::chrono::steady_clock::now();
  std::string reply;
  EXPECT_EQ(child.Ask("x", 0.3, &reply), Coprocess::Reply::kTimedOut);
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 5.0);
  EXPECT_FALSE(child.running());
}

TEST_F(SubprocessTest, CoprocessOfAMissingProgramDoesNotStart) {
  Coprocess child;
  std::string err;
  SubprocessOptions o = Shell("");
  o.argv = {"/nonexistent/python9"};
  EXPECT_FALSE(child.Start(o, &err));
  EXPECT_NE(err.find("/nonexistent/python9"), std::string::npos) << err;
  EXPECT_FALSE(child.running());
}

// A server's client connections and the store's file must not reach a worker process: only
// stdin, stdout and stderr cross the exec.
TEST_F(SubprocessTest, ChildInheritsNoDescriptorButTheStandardThree) {
  const int fd = open((dir_ / "secret").c_str(), O_WRONLY | O_CREAT, 0600);  // no O_CLOEXEC
  ASSERT_GE(fd, 3);
  auto r = RunSubprocess(Shell("test -e /proc/self/fd/" + std::to_string(fd) + " && exit 7; exit 0"));
  close(fd);
  ASSERT_TRUE(r.started);
  EXPECT_EQ(r.exit_code, 0) << "descriptor " << fd << " was inherited";
}

TEST_F(SubprocessTest, KillProcessesInEndsWhatRunsInAFolder) {
  fs::create_directories(dir_ / "job");
  SubprocessOptions o = Shell("sleep 60", 120);
  o.cwd = dir_ / "job";
  SubprocessResult r;
  std::thread runner([&] { r = RunSubprocess(o); });
  int killed = 0;
  for (int i = 0; i < 200 && killed == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
    killed = KillProcessesIn(dir_ / "job");
  }
  runner.join();
  EXPECT_GE(killed, 1);
  EXPECT_EQ(r.signal, SIGKILL);
  EXPECT_LT(r.wall_s, 30);
  EXPECT_EQ(KillProcessesIn(dir_ / "nothing-here"), 0);
}

TEST_F(SubprocessTest, TailKeepsWholeLastLines) {
  std::ofstream(dir_ / "log") << "first line\nsecond line\nthird line\n";
  EXPECT_EQ(TailOfFile(dir_ / "log", 16), "third line");
  EXPECT_EQ(TailOfFile(dir_ / "missing", 16), "");
}

TEST_F(SubprocessTest, ATailIsNeverReadThroughALink) {
  // A candidate can replace its log with a link to a file of the engine's user (a key), whose
  // tail would go into the job's error detail, the store and the report.
  std::ofstream(dir_ / "key") << "sk-secret-of-the-user\n";
  fs::create_symlink(dir_ / "key", dir_ / "candidate-stderr.log");
  EXPECT_EQ(TailOfFile(dir_ / "candidate-stderr.log", 1000), "");
  EXPECT_EQ(TailOfFile(dir_ / "key", 1000), "sk-secret-of-the-user");
}

}  // namespace
}  // namespace tritonize
