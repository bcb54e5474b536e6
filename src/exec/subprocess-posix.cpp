#include <fcntl.h>
#include <fmt/format.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <thread>

#include "core/sha256.h"
#include "exec/subprocess.h"

extern char** environ;

namespace tritonize {
namespace {

std::atomic<bool> g_interrupted{false};

void OnInterrupt(int) { g_interrupted.store(true); }

std::vector<std::string> MergedEnvironment(const std::map<std::string, std::string>& extra) {
  std::map<std::string, std::string> merged;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry(*e);
    auto eq = entry.find('=');
    if (eq != std::string::npos) merged[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  for (const auto& [k, v] : extra) merged[k] = v;
  std::vector<std::string> out;
  out.reserve(merged.size());
  for (const auto& [k, v] : merged) out.push_back(k + "=" + v);
  return out;
}

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

}  // namespace

void InstallInterruptHandler() {
  struct sigaction action {};
  action.sa_handler = OnInterrupt;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  // A write to a pre-started worker that died fails with EPIPE instead of ending the engine.
  signal(SIGPIPE, SIG_IGN);
}

bool Interrupted() { return g_interrupted.load(); }

namespace {

/// Forks and execs `options.argv` in its own process group. The child's stdin is `stdin_fd`
/// (-1: /dev/null), its stdout `stdout_fd` (-1: options.stdout_path), its stderr
/// options.stderr_path. Returns the pid, or -1 with *spawn_error set (the child reports an
/// exec or sandbox failure back through a pipe before anything else runs).
pid_t Spawn(const SubprocessOptions& options, const PreparedSandbox* sandbox, int stdin_fd,
            int stdout_fd, std::string* spawn_error) {
  // Everything the child needs is prepared before fork: after it, only
  // async-signal-safe calls.
  std::vector<std::string> argv_storage = options.argv;
  // A sandboxed child gets the allow-listed environment only (no provider key, no token).
  std::vector<std::string> env_storage =
      options.sandbox ? SandboxEnvironment(environ, options.sandbox->environment, options.env)
                      : MergedEnvironment(options.env);
  std::vector<char*> argv = CStrings(argv_storage);
  std::vector<char*> envp = CStrings(env_storage);
  const std::string out_path = options.stdout_path.string();
  const std::string err_path = options.stderr_path.string();
  const std::string cwd = options.cwd.string();

  int exec_pipe[2];  // reports an exec failure back to the parent
  if (pipe2(exec_pipe, O_CLOEXEC) != 0) {
    *spawn_error = fmt::format("pipe: {}", std::strerror(errno));
    return -1;
  }
  pid_t pid = fork();
  if (pid < 0) {
    *spawn_error = fmt::format("fork: {}", std::strerror(errno));
    close(exec_pipe[0]);
    close(exec_pipe[1]);
    return -1;
  }
  if (pid == 0) {
    setpgid(0, 0);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    int in = stdin_fd >= 0 ? stdin_fd : open("/dev/null", O_RDONLY);
    if (in >= 0) dup2(in, 0);
    if (stdout_fd >= 0) {
      dup2(stdout_fd, 1);
    } else if (!out_path.empty()) {
      int fd = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) dup2(fd, 1);
    }
    if (!err_path.empty()) {
      int fd = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) dup2(fd, 2);
    }
    // Nothing but stdin, stdout and stderr crosses the exec: the engine's other descriptors
    // (a server's client connections, the database) are not the child's to use, sandbox or not.
    // Marked close-on-exec rather than closed, so the exec pipe still reports a failure.
    if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
      const long max_fd = sysconf(_SC_OPEN_MAX);
      for (int fd = 3; fd < (max_fd > 0 && max_fd < 65536 ? max_fd : 65536); ++fd) {
        fcntl(fd, F_SETFD, FD_CLOEXEC);
      }
    }
    if (sandbox != nullptr) {
      const char* stage = "";
      int e = ApplySandbox(*sandbox, &stage);
      if (e != 0) {
        e = -e;  // negative: the sandbox failed, the stage follows
        (void)!write(exec_pipe[1], &e, sizeof e);
        (void)!write(exec_pipe[1], stage, strlen(stage));
        _exit(127);
      }
    }
    if (!cwd.empty() && chdir(cwd.c_str()) != 0) {
      int e = errno;
      (void)!write(exec_pipe[1], &e, sizeof e);
      _exit(127);
    }
    MarkDescriptorsCloseOnExec();
    execvpe(argv[0], argv.data(), envp.data());
    int e = errno;
    (void)!write(exec_pipe[1], &e, sizeof e);
    _exit(127);
  }
  setpgid(pid, pid);  // also in the parent, so the group exists before any kill
  close(exec_pipe[1]);
  int child_errno = 0;
  ssize_t n = read(exec_pipe[0], &child_errno, sizeof child_errno);
  char stage[128] = {};
  ssize_t stage_n = 0;
  if (n == static_cast<ssize_t>(sizeof child_errno) && child_errno < 0) {
    stage_n = read(exec_pipe[0], stage, sizeof stage - 1);
  }
  close(exec_pipe[0]);
  if (n == static_cast<ssize_t>(sizeof child_errno) && child_errno < 0) {
    waitpid(pid, nullptr, 0);
    *spawn_error =
        fmt::format("sandbox: {}: {} (--sandbox off runs without it)",
                    std::string(stage, stage_n > 0 ? static_cast<size_t>(stage_n) : 0),
                    std::strerror(-child_errno));
    return -1;
  }
  if (n == static_cast<ssize_t>(sizeof child_errno)) {
    waitpid(pid, nullptr, 0);
    *spawn_error = fmt::format("cannot run {}: {}", options.argv[0], std::strerror(child_errno));
    return -1;
  }
  return pid;
}

std::string DescribeEnd(int status) {
  if (WIFEXITED(status)) return fmt::format("exited with code {}", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    return fmt::format("killed by signal {} ({})", WTERMSIG(status), strsignal(WTERMSIG(status)));
  }
  return "ended";
}

}  // namespace

namespace {

/// Waits for `pid` up to timeout_s (0: none) from now, killing its group at the deadline or on
/// an interrupt; *status gets its wait status. Whatever the child left behind in its group
/// (compiler workers, a forked candidate) goes too.
void WaitFor(pid_t pid, double timeout_s, SubprocessResult* result, int* status) {
  const auto start = std::chrono::steady_clock::now();
  for (;;) {
    pid_t done = waitpid(pid, status, WNOHANG);
    if (done == pid) break;
    if (done < 0 && errno != EINTR) break;
    double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    bool deadline = timeout_s > 0 && elapsed > timeout_s;
    if (deadline || Interrupted()) {
      result->timed_out = deadline;
      result->interrupted = !deadline;
      kill(-pid, SIGKILL);
      waitpid(pid, status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(-pid, SIGKILL);
  result->wall_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (WIFEXITED(*status)) result->exit_code = WEXITSTATUS(*status);
  if (WIFSIGNALED(*status)) result->signal = WTERMSIG(*status);
}

/// Prepares the sandbox of `options`, if any; false with *err.
bool PrepareFor(const SubprocessOptions& options, PreparedSandbox* sandbox, std::string* described,
                std::string* err) {
  if (!options.sandbox) return true;
  if (!PrepareSandbox(*options.sandbox, sandbox, err)) return false;
  *described = DescribeSandbox(*sandbox);
  return true;
}

}  // namespace

SubprocessResult RunSubprocess(const SubprocessOptions& options) {
  SubprocessResult result;
  if (options.argv.empty()) {
    result.spawn_error = "empty command line";
    return result;
  }
  PreparedSandbox sandbox;
  if (!PrepareFor(options, &sandbox, &result.sandbox, &result.spawn_error)) return result;
  const pid_t pid =
      Spawn(options, options.sandbox ? &sandbox : nullptr, -1, -1, &result.spawn_error);
  if (pid < 0) return result;
  result.started = true;
  int status = 0;
  WaitFor(pid, options.timeout_s, &result, &status);
  return result;
}

StartedSubprocess::~StartedSubprocess() {
  if (pid_ > 0 && !exited_) Kill();
  if (stdin_ >= 0) close(stdin_);
}

bool StartedSubprocess::Start(const SubprocessOptions& options, std::string* err) {
  if (options.argv.empty()) {
    *err = "empty command line";
    return false;
  }
  PreparedSandbox sandbox;
  if (!PrepareFor(options, &sandbox, &sandbox_, err)) return false;
  int ends[2];
  if (pipe2(ends, O_CLOEXEC) != 0) {
    *err = fmt::format("pipe: {}", std::strerror(errno));
    return false;
  }
  const pid_t pid = Spawn(options, options.sandbox ? &sandbox : nullptr, ends[0], -1, err);
  close(ends[0]);
  if (pid < 0) {
    close(ends[1]);
    return false;
  }
  pid_ = pid;
  stdin_ = ends[1];
  return true;
}

bool StartedSubprocess::Running() {
  if (pid_ <= 0 || exited_) return false;
  if (waitpid(pid_, &status_, WNOHANG) == pid_) {
    exited_ = true;
    kill(-pid_, SIGKILL);
  }
  return !exited_;
}

bool StartedSubprocess::Send(const std::string& text) {
  if (stdin_ < 0 || !Running()) return false;
  // The child reads only after its imports: a write larger than the pipe could block; a request
  // line is two paths.
  for (size_t sent = 0; sent < text.size();) {
    ssize_t n = write(stdin_, text.data() + sent, text.size() - sent);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  close(stdin_);
  stdin_ = -1;
  return true;
}

SubprocessResult StartedSubprocess::Wait(double timeout_s) {
  SubprocessResult result;
  result.started = pid_ > 0;
  result.sandbox = sandbox_;
  if (pid_ <= 0) return result;
  if (exited_) {
    if (WIFEXITED(status_)) result.exit_code = WEXITSTATUS(status_);
    if (WIFSIGNALED(status_)) result.signal = WTERMSIG(status_);
    return result;
  }
  WaitFor(pid_, timeout_s, &result, &status_);
  exited_ = true;
  return result;
}

void StartedSubprocess::Kill() {
  if (pid_ <= 0 || exited_) return;
  kill(-pid_, SIGKILL);
  waitpid(pid_, &status_, 0);
  exited_ = true;
}

Coprocess::~Coprocess() { Stop(); }

bool Coprocess::Start(const SubprocessOptions& options, std::string* err) {
  Stop();
  ended_.clear();
  if (options.argv.empty()) {
    *err = "empty command line";
    return false;
  }
  // A socket, not pipes: a send to a child that died fails with EPIPE (MSG_NOSIGNAL) instead
  // of raising SIGPIPE in the engine.
  int ends[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) != 0) {
    *err = fmt::format("socketpair: {}", std::strerror(errno));
    return false;
  }
  const pid_t pid = Spawn(options, nullptr, ends[1], ends[1], err);
  close(ends[1]);
  if (pid < 0) {
    close(ends[0]);
    return false;
  }
  pid_ = pid;
  channel_ = ends[0];
  buffer_.clear();
  return true;
}

Coprocess::Reply Coprocess::Ask(const std::string& line, double timeout_s, std::string* reply) {
  if (pid_ <= 0) return Reply::kExited;
  const std::string message = line + "\n";
  for (size_t sent = 0; sent < message.size();) {
    ssize_t n = send(channel_, message.data() + sent, message.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      Stop();
      return Reply::kExited;
    }
    sent += static_cast<size_t>(n);
  }
  const auto start = std::chrono::steady_clock::now();
  for (;;) {
    const auto newline = buffer_.find('\n');
    if (newline != std::string::npos) {
      *reply = buffer_.substr(0, newline);
      buffer_.erase(0, newline + 1);
      return Reply::kLine;
    }
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (timeout_s > 0 && elapsed > timeout_s) {
      Stop();
      return Reply::kTimedOut;
    }
    if (Interrupted()) {
      Stop();
      return Reply::kInterrupted;
    }
    pollfd ready{channel_, POLLIN, 0};
    if (poll(&ready, 1, 20) <= 0) continue;  // also EINTR: the loop looks at the flags again
    char chunk[4096];
    ssize_t n = read(channel_, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {  // the child closed its end: it is gone, or going
      Stop();
      return Reply::kExited;
    }
    buffer_.append(chunk, static_cast<size_t>(n));
  }
}

void Coprocess::Stop() {
  if (channel_ >= 0) {
    close(channel_);
    channel_ = -1;
  }
  if (pid_ <= 0) return;
  // A child that is exiting by itself says how; one that is not is killed with its group.
  int status = 0;
  pid_t done = 0;
  for (int i = 0; i < 10 && (done = waitpid(pid_, &status, WNOHANG)) == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  kill(-pid_, SIGKILL);
  if (done == 0) waitpid(pid_, &status, 0);
  if (ended_.empty() && done == pid_) ended_ = DescribeEnd(status);
  pid_ = -1;
}

int KillProcessesIn(const std::filesystem::path& dir) {
  std::error_code ec;
  const std::filesystem::path root = std::filesystem::weakly_canonical(dir, ec);
  if (ec || root.empty()) return 0;
  const std::string prefix = root.string();
  int killed = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    const pid_t pid = static_cast<pid_t>(std::stol(name));
    if (pid == getpid()) continue;
    std::error_code link_ec;
    const std::string cwd = std::filesystem::read_symlink(entry.path() / "cwd", link_ec).string();
    if (link_ec) continue;  // gone, or not ours to see
    const bool inside = cwd == prefix || (cwd.size() > prefix.size() &&
                                          cwd.compare(0, prefix.size(), prefix) == 0 &&
                                          cwd[prefix.size()] == '/');
    if (!inside) continue;
    // A step leads its own group (Spawn); what it started goes with it.
    const pid_t group = getpgid(pid);
    if (group == pid ? kill(-pid, SIGKILL) == 0 : kill(pid, SIGKILL) == 0) ++killed;
  }
  return killed;
}

std::string TailOfFile(const std::filesystem::path& path, size_t max_bytes) {
  // A step's log is in a folder its process could write to: never read through a link there.
  std::string text;
  std::string err;
  if (max_bytes == 0 || !ReadRegularFile(path, &text, &err, max_bytes)) return {};
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (!ec && size > max_bytes) {
    auto nl = text.find('\n');
    if (nl != std::string::npos) text = text.substr(nl + 1);
  }
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

}  // namespace tritonize
