#pragma once

// The sandbox a candidate's worker process runs in (Linux): applied in the child between
// fork and exec by RunSubprocess. Platform code lives in sandbox-linux.cpp, the environment
// allow-list in sandbox_environment.cpp. docs/security.md lists what each layer stops.

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace tritonize {

enum class SandboxMode {
  kOff,   // no namespaces, no privilege drop (the environment allow-list and rlimits still apply)
  kAuto,  // every layer this machine allows; the job's environment says which
  kOn,    // every layer, or the job does not start
};

bool ParseSandboxMode(const std::string& text, SandboxMode* mode);
std::string_view SandboxModeName(SandboxMode mode);

/// The variables a candidate's process may take from the engine's environment (besides those
/// the engine sets for it): exact names, or prefixes ending in '*'. What a worker needs
/// (PATH, locale, CUDA_*, TRITON_*, TORCH_*...), nothing else: no provider key
/// (ANTHROPIC_API_KEY, OPENAI_API_KEY), no TRITONIZE_* setting, no token.
const std::vector<std::string>& DefaultEnvironmentAllowList();

/// Whether a variable's name marks a secret (KEY, TOKEN, SECRET, PASSWORD, PASSWD, CREDENTIAL,
/// AUTH as a word of it): such a variable never reaches the candidate, even when its name is
/// allow-listed or the engine sets it.
bool IsSecretName(std::string_view name);

/// The candidate's environment, as NAME=value entries: the variables of `inherited` (environ)
/// that `allow` lets through, then `set` on top; secrets (IsSecretName) dropped from both.
std::vector<std::string> SandboxEnvironment(const char* const* inherited,
                                            const std::vector<std::string>& allow,
                                            const std::map<std::string, std::string>& set);

/// What the child may do. Limits of 0 are not set.
struct SandboxPolicy {
  SandboxMode mode = SandboxMode::kAuto;
  std::vector<std::filesystem::path> writable;  // the only writable places (the job's folder)
  // Covered by an empty tmpfs (reference files, other jobs' folders); a writable folder inside
  // one is put back, as it was.
  std::vector<std::filesystem::path> hidden;
  std::vector<std::string> environment = DefaultEnvironmentAllowList();  // in every mode
  double cpu_s = 0;           // RLIMIT_CPU, CPU seconds of all threads
  long long file_bytes = 0;   // RLIMIT_FSIZE, largest file written
  long long processes = 0;    // RLIMIT_NPROC (per user: threads count)
  std::string no_filesystem;  // non-empty: leave the filesystem layer out, for this reason
};

/// The layers this machine allows, found once by trying each in a throwaway child.
struct SandboxSupport {
  bool network = false;     // a network namespace: no interface but a down loopback
  bool filesystem = false;  // a mount namespace with / read-only but `writable`
  bool pid = false;         // a PID namespace with its own /proc, under an init of ours
  bool privileges = false;  // no_new_privs, and for root an empty capability bounding set
  std::string why_not;      // the first failure, for `doctor` and the job's environment
};
const SandboxSupport& ProbeSandbox();

/// Everything the child needs, prepared before fork (no allocation after it).
struct PreparedSandbox {
  bool network = false;
  bool filesystem = false;
  bool pid = false;
  bool privileges = false;
  bool user_namespace = false;  // not root: unshare a user namespace first
  std::string uid_map, gid_map;
  std::vector<std::string> writable, hidden;
  SandboxPolicy policy;
};

/// Decides the layers (auto: those ProbeSandbox found). False with *err when mode is on and
/// a layer is not available.
bool PrepareSandbox(const SandboxPolicy& policy, PreparedSandbox* out, std::string* err);

/// In the child, after fork: returns 0 in the process that is to exec, or the errno of the
/// failed step with *stage naming it (a static string). With the pid layer the calling process
/// does not return: it stays outside the namespace, waits, and ends as the exec'd process
/// ended (its exit code, or its signal); an init of ours is the namespace's process 1 and
/// reaps; the process that returns is its child. When that process ends, the init ends and
/// the kernel kills every process left in the namespace (children in sessions of their own
/// included). Neither the waiter nor the init can be read by the candidate (not dumpable, and
/// the waiter is outside its /proc).
int ApplySandbox(const PreparedSandbox& sandbox, const char** stage);

/// In a child before exec: every descriptor from 3 up closes at exec, whatever the engine
/// opened without O_CLOEXEC (a database, a provider's socket).
void MarkDescriptorsCloseOnExec();

/// "environment, network, filesystem, pid, privileges, rlimits" or what is missing and why,
/// for the job's environment and `doctor`.
std::string DescribeSandbox(const PreparedSandbox& sandbox);

}  // namespace tritonize
