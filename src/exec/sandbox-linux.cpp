#include <fcntl.h>
#include <fmt/format.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "exec/sandbox.h"

#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef MOUNT_ATTR_RDONLY
#define MOUNT_ATTR_RDONLY 0x00000001
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#ifndef SYS_move_mount
#define SYS_move_mount 429
#endif
#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

namespace tritonize {
namespace {

// The most writable folders a sandbox takes (a job's folder and its caches).
constexpr size_t kMaxWritable = 16;

// struct mount_attr of linux/mount.h, which older headers lack.
struct MountAttr {
  unsigned long long attr_set;
  unsigned long long attr_clr;
  unsigned long long propagation;
  unsigned long long userns_fd;
};

int SetReadOnly(const char* path, bool read_only) {
  MountAttr attr{};
  if (read_only) {
    attr.attr_set = MOUNT_ATTR_RDONLY;
  } else {
    attr.attr_clr = MOUNT_ATTR_RDONLY;
  }
  return static_cast<int>(
      syscall(SYS_mount_setattr, AT_FDCWD, path, AT_RECURSIVE, &attr, sizeof attr));
}

// Async-signal-safe: open, write, close.
bool WriteFile(const char* path, const std::string& text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  ssize_t n = write(fd, text.data(), text.size());
  close(fd);
  return n == static_cast<ssize_t>(text.size());
}

// Async-signal-safe: the folders of `path` that do not exist yet, made (a writable folder's place
// in the empty file system that hides its parent). No allocation: a copy on the stack.
bool MakeFolders(const char* path) {
  char prefix[4096];
  const size_t length = strlen(path);
  if (length >= sizeof prefix) return false;
  memcpy(prefix, path, length + 1);
  for (size_t i = 1; i <= length; ++i) {
    if (prefix[i] != '/' && prefix[i] != '\0') continue;
    const char kept = prefix[i];
    prefix[i] = '\0';
    if (mkdir(prefix, 0755) != 0 && errno != EEXIST) return false;
    prefix[i] = kept;
  }
  return true;
}

int Fail(const char** stage, const char* name) {
  *stage = name;
  return errno != 0 ? errno : EPERM;
}

int SetLimit(int resource, unsigned long long soft, unsigned long long hard) {
  struct rlimit limit {};
  limit.rlim_cur = soft;
  limit.rlim_max = hard;
  return setrlimit(resource, &limit);
}

/// Closes every descriptor from 3 up but `keep` (async-signal-safe).
void CloseAllBut(int keep) {
  const unsigned int last = ~0U;
  if (keep > 3 && syscall(SYS_close_range, 3U, static_cast<unsigned int>(keep - 1), 0U) != 0) {
    for (int fd = 3; fd < keep; ++fd) close(fd);
  }
  const unsigned int from = static_cast<unsigned int>(keep < 3 ? 3 : keep + 1);
  if (syscall(SYS_close_range, from, last, 0U) != 0) {
    for (int fd = static_cast<int>(from); fd < 65536; ++fd) close(fd);
  }
}

/// Ends this process as `status` (a wait status) ended its own: the same exit code, or the same
/// signal raised on itself.
[[noreturn]] void EndAs(int status) {
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    struct rlimit none {};
    setrlimit(RLIMIT_CORE, &none);  // the exec'd process dumped (or not) already
    signal(sig, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, nullptr);
    raise(sig);
    _exit(128 + sig);
  }
  _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 127);
}

/// Outside the namespace: waits for its init, which reports how the exec'd process ended.
[[noreturn]] void WaitForInit(pid_t init, int report) {
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  CloseAllBut(report);
  int status = 0;
  while (waitpid(init, &status, 0) < 0 && errno == EINTR) {
  }
  int worker_status = 0;
  if (read(report, &worker_status, sizeof worker_status) ==
      static_cast<ssize_t>(sizeof worker_status)) {
    EndAs(worker_status);
  }
  EndAs(status);  // the init failed (or was killed) before its child ended
}

/// The namespace's process 1: reaps every orphan, and ends when `worker` does, which makes the
/// kernel kill whatever is left in the namespace.
[[noreturn]] void RunInit(pid_t worker, int report) {
  CloseAllBut(report);
  for (;;) {
    int status = 0;
    const pid_t done = waitpid(-1, &status, 0);
    if (done == worker) {
      (void)!write(report, &status, sizeof status);
      _exit(0);
    }
    if (done < 0 && errno != EINTR) _exit(127);
  }
}

/// Blanks this process's command line and initial environment, the memory /proc/<pid>/cmdline and
/// environ show: the init is a fork of the engine, whose command line and environment (API keys)
/// they would otherwise be. Fields 48-51 of /proc/self/stat say where they are (async-signal-safe:
/// open, read, close, no allocation).
void ScrubInheritedMemory() {
  char stat[4096];
  const int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  const ssize_t n = read(fd, stat, sizeof stat - 1);
  close(fd);
  if (n <= 0) return;
  stat[n] = '\0';
  const char* p = strrchr(stat, ')');
  if (p == nullptr) return;
  unsigned long fields[52] = {};
  int field = 2;  // the comm just ended; fields are numbered from 1
  while (*p != '\0' && field < 51) {
    while (*p == ' ' || *p == ')') ++p;
    ++field;
    unsigned long value = 0;
    while (*p >= '0' && *p <= '9') value = value * 10 + static_cast<unsigned long>(*p++ - '0');
    while (*p != '\0' && *p != ' ') ++p;
    fields[field] = value;
  }
  for (int start : {48, 50}) {
    const unsigned long from = fields[start];
    const unsigned long to = fields[start + 1];
    if (from != 0 && to > from && to - from < (1UL << 24)) {
      memset(reinterpret_cast<void*>(from), 0, to - from);
    }
  }
}

/// Forks the init (process 1 of the new PID namespace) and, in it, the process that returns.
/// Returns 0 in that process, or an errno (with *stage) in the one that failed.
int EnterPidNamespace(const char** stage) {
  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0) return Fail(stage, "pipe for the pid namespace");
  const pid_t init = fork();
  if (init < 0) return Fail(stage, "fork of the pid namespace's init");
  if (init > 0) {
    close(report[1]);
    WaitForInit(init, report[0]);
  }
  close(report[0]);
  // The waiter is killed with the job's process group; should it die alone, so does the init.
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  ScrubInheritedMemory();
  // A /proc of this namespace: the candidate sees its own processes only.
  if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) {
    return Fail(stage, "mounting /proc for the pid namespace");
  }
  const pid_t worker = fork();
  if (worker < 0) return Fail(stage, "fork in the pid namespace");
  if (worker > 0) RunInit(worker, report[1]);
  close(report[1]);
  return 0;
}

/// no_new_privs, and for root no capability at all after exec: an empty bounding set and no
/// inheritable or ambient ones (root could otherwise remount the read-only file system, or
/// read the init's memory with CAP_SYS_PTRACE).
int DropPrivileges(const char** stage) {
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return Fail(stage, "no_new_privs");
  if (geteuid() != 0) return 0;
  for (int cap = 0; cap <= 63; ++cap) {
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) {
      return Fail(stage, "dropping the capability bounding set");
    }
  }
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  struct __user_cap_header_struct header {};
  header.version = _LINUX_CAPABILITY_VERSION_3;
  struct __user_cap_data_struct data[2] = {};
  if (syscall(SYS_capset, &header, data) != 0) return Fail(stage, "capset");
  return 0;
}

}  // namespace

void MarkDescriptorsCloseOnExec() {
  if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
    for (int fd = 3; fd < 65536; ++fd) {
      const int flags = fcntl(fd, F_GETFD);
      if (flags >= 0) fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
    }
  }
}

bool ParseSandboxMode(const std::string& text, SandboxMode* mode) {
  if (text == "off") {
    *mode = SandboxMode::kOff;
  } else if (text == "auto") {
    *mode = SandboxMode::kAuto;
  } else if (text == "on") {
    *mode = SandboxMode::kOn;
  } else {
    return false;
  }
  return true;
}

std::string_view SandboxModeName(SandboxMode mode) {
  switch (mode) {
    case SandboxMode::kOff:
      return "off";
    case SandboxMode::kAuto:
      return "auto";
    case SandboxMode::kOn:
      return "on";
  }
  return "auto";
}

int ApplySandbox(const PreparedSandbox& sandbox, const char** stage) {
  const SandboxPolicy& policy = sandbox.policy;
  if (policy.cpu_s > 0) {
    const auto soft = static_cast<unsigned long long>(policy.cpu_s);
    if (SetLimit(RLIMIT_CPU, soft, soft + 5) != 0) return Fail(stage, "RLIMIT_CPU");
  }
  if (policy.file_bytes > 0) {
    const auto bytes = static_cast<unsigned long long>(policy.file_bytes);
    if (SetLimit(RLIMIT_FSIZE, bytes, bytes) != 0) return Fail(stage, "RLIMIT_FSIZE");
  }
  if (policy.processes > 0) {
    const auto count = static_cast<unsigned long long>(policy.processes);
    if (SetLimit(RLIMIT_NPROC, count, count) != 0) return Fail(stage, "RLIMIT_NPROC");
  }
  int flags = 0;
  if (sandbox.network) flags |= CLONE_NEWNET;
  // The pid layer needs a mount namespace of its own too, for its /proc.
  if (sandbox.filesystem || sandbox.pid) flags |= CLONE_NEWNS;
  if (sandbox.pid) flags |= CLONE_NEWPID;
  if (flags != 0) {
    if (sandbox.user_namespace) flags |= CLONE_NEWUSER;
    if (unshare(flags) != 0) return Fail(stage, "unshare");
    if (sandbox.user_namespace) {
      // Map our own ids, or files we create would have no owner inside (EOVERFLOW).
      if (!WriteFile("/proc/self/setgroups", "deny")) return Fail(stage, "setgroups");
      if (!WriteFile("/proc/self/uid_map", sandbox.uid_map)) return Fail(stage, "uid_map");
      if (!WriteFile("/proc/self/gid_map", sandbox.gid_map)) return Fail(stage, "gid_map");
    }
  }
  if (flags & CLONE_NEWNS) {
    // Our copy of the mount tree: nothing done here propagates back to the host.
    if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
      return Fail(stage, "making / private");
    }
  }
  if (sandbox.filesystem) {
    // Each writable folder gets a mount of its own, so that its flags can differ from its
    // parent's: a copy of it taken before anything is hidden, since it may lie inside a hidden
    // folder (the job's own folder inside the jobs folder, whose other jobs' folders are hidden),
    // and put back in its place after.
    int clones[kMaxWritable];
    if (sandbox.writable.size() > kMaxWritable) {
      errno = E2BIG;
      return Fail(stage, "too many writable folders");
    }
    for (size_t i = 0; i < sandbox.writable.size(); ++i) {
      clones[i] = static_cast<int>(syscall(SYS_open_tree, AT_FDCWD, sandbox.writable[i].c_str(),
                                           OPEN_TREE_CLONE | O_CLOEXEC | AT_RECURSIVE));
      if (clones[i] < 0) return Fail(stage, "copying a writable folder's mount");
    }
    for (const auto& dir : sandbox.hidden) {
      if (mount("tmpfs", dir.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "size=4k,mode=0555") != 0) {
        return Fail(stage, "hiding a folder");
      }
    }
    for (size_t i = 0; i < sandbox.writable.size(); ++i) {
      const char* dir = sandbox.writable[i].c_str();
      if (!MakeFolders(dir)) return Fail(stage, "making a writable folder's place");
      if (syscall(SYS_move_mount, clones[i], "", AT_FDCWD, dir, MOVE_MOUNT_F_EMPTY_PATH) != 0) {
        return Fail(stage, "mounting a writable folder");
      }
      close(clones[i]);
    }
    if (SetReadOnly("/", true) != 0) return Fail(stage, "mount_setattr read-only /");
    for (const auto& dir : sandbox.writable) {
      if (SetReadOnly(dir.c_str(), false) != 0) return Fail(stage, "mount_setattr writable folder");
    }
    // The kernel's and the driver's pseudo file systems stay as they were (the CUDA driver
    // talks to /dev/nvidia*, /proc/driver and /sys); none of them persists a candidate's file.
    // Errors are ignored: a path that is not a mount point of its own keeps the flag of /.
    for (const char* pseudo : {"/dev", "/proc", "/sys", "/run"}) {
      SetReadOnly(pseudo, false);
    }
    // Shared memory is a file system like any other: a private one, gone with the namespace
    // (the host's /dev/shm would keep what a candidate leaves there).
    if (mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777") != 0 &&
        errno != ENOENT) {
      return Fail(stage, "mounting a private /dev/shm");
    }
  }
  if (sandbox.pid) {
    const int e = EnterPidNamespace(stage);
    if (e != 0) return e;
  }
  if (sandbox.privileges) return DropPrivileges(stage);
  return 0;
}

bool PrepareSandbox(const SandboxPolicy& policy, PreparedSandbox* out, std::string* err) {
  out->policy = policy;
  out->network = out->filesystem = out->pid = out->privileges = false;
  if (policy.mode == SandboxMode::kOff) return true;
  const SandboxSupport& support = ProbeSandbox();
  if (policy.mode == SandboxMode::kOn &&
      (!support.network || !support.filesystem || !support.pid || !support.privileges)) {
    *err = "sandbox: --sandbox on, but this machine does not allow it: " + support.why_not +
           " (use --sandbox auto or off)";
    return false;
  }
  out->network = support.network;
  out->filesystem = support.filesystem && !policy.writable.empty() && policy.no_filesystem.empty();
  out->pid = support.pid;
  out->privileges = support.privileges;
  out->user_namespace = geteuid() != 0;
  out->uid_map = fmt::format("{0} {0} 1\n", geteuid());
  out->gid_map = fmt::format("{0} {0} 1\n", getegid());
  out->writable.clear();
  out->hidden.clear();
  std::error_code ec;
  for (const auto& dir : policy.writable) {
    out->writable.push_back(std::filesystem::weakly_canonical(dir, ec).string());
  }
  for (const auto& dir : policy.hidden) {
    if (std::filesystem::is_directory(dir, ec)) {
      out->hidden.push_back(std::filesystem::weakly_canonical(dir, ec).string());
    }
  }
  return true;
}

const SandboxSupport& ProbeSandbox() {
  static const SandboxSupport support = [] {
    SandboxSupport s;
    // Try each layer in a throwaway child; it reports the failed stage's errno.
    auto attempt = [](bool network, bool filesystem, bool pid_layer, bool privileges,
                      std::string* why) {
      PreparedSandbox p;
      p.network = network;
      p.filesystem = filesystem;
      p.pid = pid_layer;
      p.privileges = privileges;
      p.user_namespace = geteuid() != 0;
      p.uid_map = fmt::format("{0} {0} 1\n", geteuid());
      p.gid_map = fmt::format("{0} {0} 1\n", getegid());
      std::error_code ec;
      p.writable.push_back(std::filesystem::temp_directory_path(ec).string());
      int fds[2];
      if (pipe2(fds, O_CLOEXEC) != 0) return false;
      pid_t pid = fork();
      if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return false;
      }
      if (pid == 0) {
        const char* stage = "";
        int e = ApplySandbox(p, &stage);
        if (e != 0) {
          (void)!write(fds[1], &e, sizeof e);
          (void)!write(fds[1], stage, strlen(stage));
        }
        _exit(e == 0 ? 0 : 1);
      }
      close(fds[1]);
      int e = 0;
      char stage[128] = {};
      ssize_t n = read(fds[0], &e, sizeof e);
      ssize_t m = n == static_cast<ssize_t>(sizeof e) ? read(fds[0], stage, sizeof stage - 1) : 0;
      close(fds[0]);
      int status = 0;
      waitpid(pid, &status, 0);
      if (n == static_cast<ssize_t>(sizeof e)) {
        if (why->empty()) {
          *why = fmt::format("{}: {}", std::string(stage, m > 0 ? static_cast<size_t>(m) : 0),
                             std::strerror(e));
        }
        return false;
      }
      return WIFEXITED(status) && WEXITSTATUS(status) == 0;
    };
    s.network = attempt(true, false, false, false, &s.why_not);
    s.filesystem = attempt(false, true, false, false, &s.why_not);
    s.pid = attempt(false, false, true, false, &s.why_not);
    s.privileges = attempt(false, false, false, true, &s.why_not);
    return s;
  }();
  return support;
}

std::string DescribeSandbox(const PreparedSandbox& sandbox) {
  std::string layers = "environment";
  auto add = [&](const char* name) { layers += std::string(", ") + name; };
  if (sandbox.network) add("network");
  if (sandbox.filesystem) add("filesystem");
  if (sandbox.pid) add("pid");
  if (sandbox.privileges) add("privileges");
  const SandboxPolicy& p = sandbox.policy;
  if (p.cpu_s > 0 || p.file_bytes > 0 || p.processes > 0) add("rlimits");
  if (p.mode == SandboxMode::kOff) return layers + " (--sandbox off)";
  if (!p.no_filesystem.empty()) {
    layers += " (filesystem layer off: " + p.no_filesystem + ")";
  } else if (!sandbox.network || !sandbox.filesystem || !sandbox.pid || !sandbox.privileges) {
    layers += " (not available: " + ProbeSandbox().why_not + ")";
  }
  return layers;
}

}  // namespace tritonize
