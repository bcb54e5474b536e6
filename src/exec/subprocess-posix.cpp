#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <thread>

#include <fmt/format.h>

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
}

bool Interrupted() { return g_interrupted.load(); }

SubprocessResult RunSubprocess(const SubprocessOptions& options) {
  SubprocessResult result;
  if (options.argv.empty()) {
    result.spawn_error = "empty command line";
    return result;
  }
  // Everything the child needs is prepared before fork: after it, only
  // async-signal-safe calls.
  std::vector<std::string> argv_storage = options.argv;
  std::vector<std::string> env_storage = MergedEnvironment(options.env);
  std::vector<char*> argv = CStrings(argv_storage);
  std::vector<char*> envp = CStrings(env_storage);
  const std::string out_path = options.stdout_path.string();
  const std::string err_path = options.stderr_path.string();
  const std::string cwd = options.cwd.string();

  PreparedSandbox sandbox;
  if (options.sandbox) {
    std::string err;
    if (!PrepareSandbox(*options.sandbox, &sandbox, &err)) {
      result.spawn_error = err;
      return result;
    }
    result.sandbox = DescribeSandbox(sandbox);
  }

  int exec_pipe[2];  // reports an exec failure back to the parent
  if (pipe2(exec_pipe, O_CLOEXEC) != 0) {
    result.spawn_error = fmt::format("pipe: {}", std::strerror(errno));
    return result;
  }
  auto start = std::chrono::steady_clock::now();
  pid_t pid = fork();
  if (pid < 0) {
    result.spawn_error = fmt::format("fork: {}", std::strerror(errno));
    close(exec_pipe[0]);
    close(exec_pipe[1]);
    return result;
  }
  if (pid == 0) {
    setpgid(0, 0);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, 0);
    if (!out_path.empty()) {
      int fd = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) dup2(fd, 1);
    }
    if (!err_path.empty()) {
      int fd = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) dup2(fd, 2);
    }
    if (options.sandbox) {
      const char* stage = "";
      int e = ApplySandbox(sandbox, &stage);
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
    result.spawn_error =
        fmt::format("sandbox: {}: {} (--sandbox off runs without it)",
                    std::string(stage, stage_n > 0 ? static_cast<size_t>(stage_n) : 0),
                    std::strerror(-child_errno));
    return result;
  }
  if (n == static_cast<ssize_t>(sizeof child_errno)) {
    waitpid(pid, nullptr, 0);
    result.spawn_error =
        fmt::format("cannot run {}: {}", options.argv[0], std::strerror(child_errno));
    return result;
  }
  result.started = true;

  int status = 0;
  for (;;) {
    pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (done < 0 && errno != EINTR) break;
    double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    bool deadline = options.timeout_s > 0 && elapsed > options.timeout_s;
    if (deadline || Interrupted()) {
      result.timed_out = deadline;
      result.interrupted = !deadline;
      kill(-pid, SIGKILL);
      waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  // Whatever the child left behind in its group (compiler workers, a forked
  // candidate) goes too.
  kill(-pid, SIGKILL);
  result.wall_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
  return result;
}

std::string TailOfFile(const std::filesystem::path& path, size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  in.seekg(0, std::ios::end);
  std::streamoff size = in.tellg();
  std::streamoff from = size > static_cast<std::streamoff>(max_bytes)
                            ? size - static_cast<std::streamoff>(max_bytes)
                            : 0;
  in.seekg(from);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (from > 0) {
    auto nl = text.find('\n');
    if (nl != std::string::npos) text = text.substr(nl + 1);
  }
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

}  // namespace tritonize
