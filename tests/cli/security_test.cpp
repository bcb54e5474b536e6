// End-to-end tests of untrusted-candidate handling (docs/security.md): the bad-candidate
// corpus under the Triton interpreter, and a bench killed with SIGKILL then resumed. They run
// the real worker (TRITONIZE_PYTHON, set by scripts/test.sh); without it they are skipped.
#include <fcntl.h>
#include <gtest/gtest.h>

#include <fmt/format.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "../support/test_dir.h"
#include "core/sha256.h"
#include "exec/sandbox.h"
#include "exec/subprocess.h"

namespace tritonize {
namespace {

namespace fs = std::filesystem;

const char* Python() {
  const char* p = std::getenv("TRITONIZE_PYTHON");
  return p != nullptr && *p != '\0' ? p : nullptr;
}

class SecurityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (Python() == nullptr) GTEST_SKIP() << "TRITONIZE_PYTHON not set: needs torch+triton";
    dir_ = FreshTestDir("security");
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  std::vector<std::string> BenchArgs() const {
    return {TRITONIZE_BINARY,
            "bench",
            "--tasks",
            "softmax,matmul,layernorm",
            "--impls",
            "baseline",
            "--interpret",
            "--db",
            (dir_ / "results.db").string(),
            "--scratch",
            (dir_ / "jobs").string(),
            "--root",
            TRITONIZE_SOURCE_DIR,
            "--python",
            Python(),
            "--run-seed",
            "7"};
  }

  /// Starts BenchArgs() in the background (output discarded) and returns its pid once its
  /// first job is stored (or after 5 minutes); -1 if it cannot be started. Later jobs may be
  /// stored by the time it returns (jobs run several at once, and pre-started processes make
  /// the next one quick): the tests take what was stored when they stopped it.
  pid_t StartBenchUntilOneJobIsStored() const {
    std::vector<std::string> args = BenchArgs();
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const pid_t pid = fork();
    if (pid == 0) {
      setpgid(0, 0);
      int null = open("/dev/null", O_WRONLY);
      dup2(null, 1);
      dup2(null, 2);
      execv(argv[0], argv.data());
      _exit(127);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(5);
    auto none = [&] {  // no database yet, or no job in it
      const auto count = Query("SELECT COUNT(*) FROM jobs");
      return count.empty() || count[0] == "0";
    };
    while (pid > 0 && none() &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return pid;
  }

  /// `bench --resume` with BenchArgs() and `extra`, to the end; its stderr in *err.
  SubprocessResult Resume(std::string* err, const std::vector<std::string>& extra = {}) const {
    SubprocessOptions o;
    o.argv = BenchArgs();
    o.argv.push_back("--resume");
    o.argv.insert(o.argv.end(), extra.begin(), extra.end());
    o.stdout_path = dir_ / "stdout";
    o.stderr_path = dir_ / "stderr";
    o.timeout_s = 600;
    SubprocessResult r = RunSubprocess(o);
    std::string read_err;
    ReadFile(o.stderr_path, err, &read_err);
    return r;
  }

  /// Rows of a query on the results database, each row's columns joined by '|'.
  std::vector<std::string> Query(const std::string& sql) const {
    std::vector<std::string> rows;
    sqlite3* db = nullptr;
    if (sqlite3_open_v2((dir_ / "results.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) ==
        SQLITE_OK) {
      sqlite3_busy_timeout(db, 2000);
      sqlite3_stmt* stmt = nullptr;
      if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK) {
        while (sqlite3_step(stmt) == SQLITE_ROW) {
          std::string row;
          for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
            const unsigned char* text = sqlite3_column_text(stmt, i);
            row += (i ? "|" : "") + std::string(text ? reinterpret_cast<const char*>(text) : "");
          }
          rows.push_back(row);
        }
      }
      sqlite3_finalize(stmt);
    }
    sqlite3_close(db);
    return rows;
  }

  fs::path dir_;
};

TEST_F(SecurityTest, CorpusGetsEveryExpectedVerdictUnderTheInterpreter) {
  SubprocessOptions o;
  o.argv = {Python(),     (fs::path(TRITONIZE_SOURCE_DIR) / "tests" / "e2e" / "corpus.py").string(),
            "--binary",   TRITONIZE_BINARY,
            "--python",   Python(),
            "--interpret"};
  o.stdout_path = dir_ / "stdout";
  o.stderr_path = dir_ / "stderr";
  o.timeout_s = 2400;  // about 55 cases, three worker processes each, on a small CI machine
  SubprocessResult r = RunSubprocess(o);
  std::string out, err, e;
  ReadFile(o.stdout_path, &out, &e);
  ReadFile(o.stderr_path, &err, &e);
  EXPECT_EQ(r.exit_code, 0) << out << err;
  EXPECT_NE(out.find("cases got the expected verdict"), std::string::npos) << out << err;
  EXPECT_FALSE(fs::exists(fs::path(TRITONIZE_SOURCE_DIR) / "tests" / "corpus" / "ESCAPED"));
}

// Regression (issue 16): a candidate that printed or raised its environment got the engine's,
// API keys included, and the store kept it, reports printed it, `generate --turns` would have
// sent it back to the provider. A bench with a provider key in the engine's environment and a
// candidate that prints, raises and reads every environment it can: no key anywhere.
TEST_F(SecurityTest, AProviderKeyInTheEnginesEnvironmentReachesNoOutputStoreOrLog) {
  const fs::path models = dir_ / "llm";
  fs::create_directories(models / "leaky");
  std::ofstream(models / "leaky" / "softmax.py") << R"(import os
import sys


def _everything():
    seen = dict(os.environ)
    for pid in [p for p in os.listdir("/proc") if p.isdigit()] + [str(os.getppid())]:
        try:
            with open(f"/proc/{pid}/environ", "rb") as file:
                seen[f"/proc/{pid}/environ"] = file.read().decode(errors="replace")
        except OSError:
            pass
    return repr(seen)


print(_everything())
print(_everything(), file=sys.stderr)


def softmax(x):
    raise RuntimeError(_everything())
)";
  SubprocessOptions o;
  o.argv = {TRITONIZE_BINARY, "bench",   "--tasks",    "softmax", "--impls", "llm",
            "--llm-dir",      models.string(), "--models", "leaky", "--interpret", "--json",
            (dir_ / "out.json").string(), "--db", (dir_ / "results.db").string(), "--scratch",
            (dir_ / "jobs").string(), "--root", TRITONIZE_SOURCE_DIR, "--python", Python()};
  o.env["ANTHROPIC_API_KEY"] = "sk-test-secret";
  o.env["TRITONIZE_TOKEN"] = "tritonize-test-token";
  o.stdout_path = dir_ / "stdout";
  o.stderr_path = dir_ / "stderr";
  o.timeout_s = 600;
  const SubprocessResult r = RunSubprocess(o);
  EXPECT_EQ(r.exit_code, 1) << TailOfFile(dir_ / "stderr", 2000);  // the job failed, as it should

  std::string json, e;
  ASSERT_TRUE(ReadFile(dir_ / "out.json", &json, &e)) << e;
  // The candidate did dump an environment (so the test can fail): the message holds PATH.
  EXPECT_NE(json.find("runtime_error"), std::string::npos) << json;
  EXPECT_NE(json.find("PATH"), std::string::npos) << json;
  for (const auto& entry : fs::recursive_directory_iterator(dir_)) {
    if (!entry.is_regular_file()) continue;
    std::string text;
    if (!ReadFile(entry.path(), &text, &e)) continue;
    EXPECT_EQ(text.find("sk-test-secret"), std::string::npos) << entry.path();
    EXPECT_EQ(text.find("tritonize-test-token"), std::string::npos) << entry.path();
  }
}

TEST_F(SecurityTest, DoctorSaysWhichSandboxLayersHold) {
  SubprocessOptions o;
  o.argv = {TRITONIZE_BINARY, "doctor", "--root", TRITONIZE_SOURCE_DIR, "--python", Python(),
            "--db", (dir_ / "results.db").string(), "--scratch", (dir_ / "jobs").string()};
  o.stdout_path = dir_ / "stdout";
  o.stderr_path = dir_ / "stderr";
  o.timeout_s = 300;
  RunSubprocess(o);
  std::string out, e;
  ReadFile(dir_ / "stdout", &out, &e);
  const SandboxSupport& s = ProbeSandbox();
  if (s.network && s.filesystem && s.pid && s.privileges) {
    EXPECT_NE(out.find("ok    sandbox: environment, network, filesystem, pid, privileges"),
              std::string::npos)
        << out;
  } else {
    EXPECT_NE(out.find("warn  sandbox: "), std::string::npos) << out;
    EXPECT_NE(out.find(s.why_not), std::string::npos) << out;
  }
}

TEST_F(SecurityTest, KilledBenchResumesWithoutRedoingOrLosingFinishedJobs) {
  // 1. A bench, killed with SIGKILL as soon as its first job is stored.
  const pid_t pid = StartBenchUntilOneJobIsStored();
  ASSERT_GT(pid, 0);
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the bench finished before it could be killed";
  const std::vector<std::string> before = Query("SELECT id, task, finished_at FROM jobs");
  ASSERT_GE(before.size(), 1u);
  ASSERT_LT(before.size(), 3u) << "every job was stored before the kill";
  EXPECT_EQ(Query("SELECT status FROM runs"), std::vector<std::string>{"running"});

  // 2. --resume finishes the same run; the stored job is kept as it was, not run again. The
  // run goes on with the options it began with, not those given to --resume.
  std::string err;
  const SubprocessResult r =
      Resume(&err, {"--warmup", "3", "--compile-mode", "default", "--autotune-timer", "triton"});
  EXPECT_EQ(r.exit_code, 0) << err;
  EXPECT_NE(err.find(fmt::format("resuming run 1 ({} jobs stored)", before.size())),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("--resume keeps run 1's options (--calls 50, --warmup 10, --compile-mode "
                     "deterministic, --autotune-timer job), not this command line's"),
            std::string::npos)
      << err;
  EXPECT_EQ(Query("SELECT json_extract(environment, '$.timing_options.compile_mode') FROM runs"),
            std::vector<std::string>{"deterministic"});
  EXPECT_EQ(Query("SELECT json_extract(environment, '$.timing_options.autotune_timer') FROM runs"),
            std::vector<std::string>{"job"});
  EXPECT_EQ(Query(fmt::format("SELECT id, task, finished_at FROM jobs WHERE id <= {}",
                              before.size())),
            before);
  EXPECT_EQ(Query("SELECT COUNT(*) FROM runs"), std::vector<std::string>{"1"});
  EXPECT_EQ(Query("SELECT status FROM runs"), std::vector<std::string>{"finished"});
  // Exactly one job per (task, implementation): nothing redone, nothing lost.
  EXPECT_EQ(Query("SELECT j.task, i.name, COUNT(*) FROM jobs j JOIN implementations i ON"
                  " i.id = j.implementation_id GROUP BY j.task, i.name ORDER BY j.task"),
            (std::vector<std::string>{"layernorm|baseline|1", "matmul|baseline|1",
                                      "softmax|baseline|1"}));
}

// Ctrl-C (SIGINT) in the middle of a job: the job cut short is not stored as "crashed" (resume
// would keep it); the run is marked interrupted and --resume runs that job again.
TEST_F(SecurityTest, InterruptedJobIsNotStoredAndResumeRunsIt) {
  const pid_t pid = StartBenchUntilOneJobIsStored();
  ASSERT_GT(pid, 0);
  kill(pid, SIGINT);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status)) << "bench did not exit on SIGINT";
  ASSERT_EQ(WEXITSTATUS(status), 130) << "the bench finished before it could be interrupted";
  const auto stored = Query("SELECT COUNT(*) FROM jobs");
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_NE(stored[0], "0");
  EXPECT_NE(stored[0], "3") << "every job was stored before the interrupt";
  EXPECT_EQ(Query("SELECT COUNT(*) FROM jobs WHERE status != 'ok'"), std::vector<std::string>{"0"});
  EXPECT_EQ(Query("SELECT status FROM runs"), std::vector<std::string>{"interrupted"});

  std::string err;
  const SubprocessResult r = Resume(&err);
  EXPECT_EQ(r.exit_code, 0) << err;
  EXPECT_EQ(Query("SELECT j.task, i.name, j.status FROM jobs j JOIN implementations i ON"
                  " i.id = j.implementation_id ORDER BY j.task"),
            (std::vector<std::string>{"layernorm|baseline|ok", "matmul|baseline|ok",
                                      "softmax|baseline|ok"}));
}

TEST_F(SecurityTest, ResumeWithoutAnUnfinishedRunIsAClearError) {
  std::string err;
  const SubprocessResult r = Resume(&err);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(err.find("has no unfinished run"), std::string::npos) << err;
}

}  // namespace
}  // namespace tritonize
