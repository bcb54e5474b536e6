#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

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

namespace tritonize {
namespace {

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

}  // namespace

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
    case SandboxMode::kOff: return "off";
    case SandboxMode::kAuto: return "auto";
    case SandboxMode::kOn: return "on";
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
  if (sandbox.filesystem) flags |= CLONE_NEWNS;
  if (flags == 0) return 0;
  if (sandbox.user_namespace) flags |= CLONE_NEWUSER;
  if (unshare(flags) != 0) return Fail(stage, "unshare");
  if (sandbox.user_namespace) {
    // Map our own ids, or files we create would have no owner inside (EOVERFLOW).
    if (!WriteFile("/proc/self/setgroups", "deny")) return Fail(stage, "setgroups");
    if (!WriteFile("/proc/self/uid_map", sandbox.uid_map)) return Fail(stage, "uid_map");
    if (!WriteFile("/proc/self/gid_map", sandbox.gid_map)) return Fail(stage, "gid_map");
  }
  if (!sandbox.filesystem) return 0;
  // Our copy of the mount tree: nothing done here propagates back to the host.
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    return Fail(stage, "making / private");
  }
  for (const auto& dir : sandbox.writable) {
    // A mount of its own, so that its flags can differ from its parent's.
    if (mount(dir.c_str(), dir.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) {
      return Fail(stage, "bind-mounting a writable folder");
    }
  }
  for (const auto& dir : sandbox.hidden) {
    if (mount("tmpfs", dir.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "size=4k,mode=0555") != 0) {
      return Fail(stage, "hiding a folder");
    }
  }
  if (SetReadOnly("/", true) != 0) return Fail(stage, "mount_setattr read-only /");
  for (const auto& dir : sandbox.writable) {
    if (SetReadOnly(dir.c_str(), false) != 0) return Fail(stage, "mount_setattr writable folder");
  }
  // The kernel's and the driver's pseudo file systems stay as they were (the CUDA driver
  // talks to /dev/nvidia*, /proc/driver and /sys); none of them persists a candidate's file.
  // Errors are ignored: a path that is not a mount point of its own keeps the flag of /.
  for (const char* pseudo : {"/dev", "/dev/shm", "/proc", "/sys", "/run"}) {
    SetReadOnly(pseudo, false);
  }
  return 0;
}

bool PrepareSandbox(const SandboxPolicy& policy, PreparedSandbox* out, std::string* err) {
  out->policy = policy;
  out->network = out->filesystem = false;
  if (policy.mode == SandboxMode::kOff) return true;
  const SandboxSupport& support = ProbeSandbox();
  if (policy.mode == SandboxMode::kOn && (!support.network || !support.filesystem)) {
    *err = "sandbox: --sandbox on, but this machine does not allow it: " + support.why_not +
           " (use --sandbox auto or off)";
    return false;
  }
  out->network = support.network;
  out->filesystem = support.filesystem && !policy.writable.empty() && policy.no_filesystem.empty();
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
    auto attempt = [](bool network, bool filesystem, std::string* why) {
      PreparedSandbox p;
      p.network = network;
      p.filesystem = filesystem;
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
    s.network = attempt(true, false, &s.why_not);
    s.filesystem = attempt(false, true, &s.why_not);
    return s;
  }();
  return support;
}

std::string DescribeSandbox(const PreparedSandbox& sandbox) {
  std::string layers;
  auto add = [&](const char* name) { layers += layers.empty() ? name : std::string(", ") + name; };
  if (sandbox.network) add("network");
  if (sandbox.filesystem) add("filesystem");
  const SandboxPolicy& p = sandbox.policy;
  if (p.cpu_s > 0 || p.file_bytes > 0 || p.processes > 0) add("rlimits");
  if (layers.empty()) layers = "none";
  if (p.mode != SandboxMode::kOff && !p.no_filesystem.empty()) {
    layers += " (filesystem layer off: " + p.no_filesystem + ")";
  } else if (p.mode != SandboxMode::kOff && (!sandbox.network || !sandbox.filesystem)) {
    layers += " (not available: " + ProbeSandbox().why_not + ")";
  }
  return layers;
}

}  // namespace tritonize
