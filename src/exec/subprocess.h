#pragma once

// Platform code for running worker processes lives behind this header
// (subprocess-posix.cpp); nothing else in the engine calls fork/exec/kill.

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "exec/sandbox.h"

namespace tritonize {

struct SubprocessOptions {
  std::vector<std::string> argv;
  std::map<std::string, std::string> env;  // set on top of the engine's environment
  std::filesystem::path cwd;               // empty: the engine's
  std::filesystem::path stdout_path;       // the child's stdout and stderr go to files,
  std::filesystem::path stderr_path;       // so a chatty child can never block on a pipe
  double timeout_s = 0;                    // 0: no limit
  std::optional<SandboxPolicy> sandbox;    // set: the child runs in it (exec/sandbox.h)
};

struct SubprocessResult {
  bool started = false;
  std::string spawn_error;  // why it could not start
  int exit_code = -1;       // when it exited normally
  int signal = 0;           // when a signal ended it
  bool timed_out = false;   // the engine killed its process group at the deadline
  bool interrupted = false; // the engine got SIGINT/SIGTERM and killed the child
  double wall_s = 0;
  std::string sandbox;      // the layers applied (DescribeSandbox), when one was asked for
};

/// Runs a child in its own process group and waits for it, killing the whole group
/// (SIGKILL) at the deadline or when the engine is interrupted.
SubprocessResult RunSubprocess(const SubprocessOptions& options);

/// A child started now and waited for later (a pre-started worker that reads its one request
/// from stdin): RunSubprocess in two halves. Killed with its group when destroyed unwaited.
class StartedSubprocess {
 public:
  StartedSubprocess() = default;
  ~StartedSubprocess();
  StartedSubprocess(const StartedSubprocess&) = delete;
  StartedSubprocess& operator=(const StartedSubprocess&) = delete;

  /// Starts the child of `options` (timeout_s does not apply) with a pipe as its stdin.
  /// False with *err when it could not start.
  bool Start(const SubprocessOptions& options, std::string* err);
  /// Whether it is still running (not exited, not waited for).
  bool Running();
  /// Writes `text` to its stdin and closes it; false if the child is gone.
  bool Send(const std::string& text);
  /// Waits for it as RunSubprocess does, up to timeout_s (0: no limit) from now.
  SubprocessResult Wait(double timeout_s);
  /// Kills its process group now.
  void Kill();
  int pid() const { return pid_; }
  const std::string& sandbox() const { return sandbox_; }

 private:
  int pid_ = -1;
  int stdin_ = -1;
  bool exited_ = false;
  int status_ = 0;
  std::string sandbox_;
};

/// A long-lived child that answers each line written to its stdin with one line on its stdout
/// (the worker's --serve mode): a run pays for starting Python and importing torch once, not
/// once per step. It runs in its own process group, killed with it by Stop or the destructor.
class Coprocess {
 public:
  enum class Reply { kLine, kTimedOut, kExited, kInterrupted };

  Coprocess() = default;
  ~Coprocess();
  Coprocess(const Coprocess&) = delete;
  Coprocess& operator=(const Coprocess&) = delete;

  /// Starts the child with the argv, env, cwd and stderr_path of `options` (its stdout is the
  /// reply channel; timeout_s and sandbox do not apply).
  bool Start(const SubprocessOptions& options, std::string* err);
  /// Sends `line` plus a newline and waits up to timeout_s (0: no limit) for one line back.
  /// Anything but kLine leaves the child stopped.
  Reply Ask(const std::string& line, double timeout_s, std::string* reply);
  bool running() const { return pid_ > 0; }
  /// The exit code or signal of a child that ended, for messages ("exited with code 1").
  const std::string& ended() const { return ended_; }
  void Stop();

 private:
  int pid_ = -1;
  int channel_ = -1;  // one end of a socketpair: the child's stdin and stdout
  std::string buffer_;
  std::string ended_;
};

/// Makes SIGINT/SIGTERM set a flag instead of killing the engine, so the running child
/// can be stopped and finished jobs kept. Call once from main.
void InstallInterruptHandler();
bool Interrupted();

/// Kills (SIGKILL, with its process group when it leads one) every process of this user whose
/// working directory is `dir` or below it, other than the engine itself: the worker steps of
/// a job folder, found without their parent (a cancelled evaluation, or the orphans of a
/// killed server). Returns how many were killed.
int KillProcessesIn(const std::filesystem::path& dir);

/// The last max_bytes of a file (whole lines where possible), for error messages.
std::string TailOfFile(const std::filesystem::path& path, size_t max_bytes);

}  // namespace tritonize
