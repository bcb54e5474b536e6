#pragma once

// The sandbox a candidate's worker process runs in (Linux): applied in the child between
// fork and exec by RunSubprocess. Platform code lives in sandbox-linux.cpp. docs/security.md
// lists what each layer stops.

#include <filesystem>
#include <string>
#include <vector>

namespace tritonize {

enum class SandboxMode {
  kOff,   // no namespaces (rlimits still apply)
  kAuto,  // every layer this machine allows; the job's environment says which
  kOn,    // every layer, or the job does not start
};

bool ParseSandboxMode(const std::string& text, SandboxMode* mode);
std::string_view SandboxModeName(SandboxMode mode);

/// What the child may do. Limits of 0 are not set.
struct SandboxPolicy {
  SandboxMode mode = SandboxMode::kAuto;
  std::vector<std::filesystem::path> writable;  // the only writable places (the job's folder)
  std::vector<std::filesystem::path> hidden;    // covered by an empty tmpfs (reference files)
  double cpu_s = 0;                             // RLIMIT_CPU, CPU seconds of all threads
  long long file_bytes = 0;                     // RLIMIT_FSIZE, largest file written
  long long processes = 0;                      // RLIMIT_NPROC (per user: threads count)
  std::string no_filesystem;  // non-empty: leave the filesystem layer out, for this reason
};

/// The layers this machine allows, found once by trying them in a throwaway child.
struct SandboxSupport {
  bool network = false;     // a network namespace: no interface but a down loopback
  bool filesystem = false;  // a mount namespace with / read-only but `writable`
  std::string why_not;      // the first failure, for `doctor` and the job's environment
};
const SandboxSupport& ProbeSandbox();

/// Everything the child needs, prepared before fork (no allocation after it).
struct PreparedSandbox {
  bool network = false;
  bool filesystem = false;
  bool user_namespace = false;  // not root: unshare a user namespace first
  std::string uid_map, gid_map;
  std::vector<std::string> writable, hidden;
  SandboxPolicy policy;
};

/// Decides the layers (auto: those ProbeSandbox found). False with *err when mode is on and
/// a layer is not available.
bool PrepareSandbox(const SandboxPolicy& policy, PreparedSandbox* out, std::string* err);

/// In the child, after fork: returns 0, or the errno of the failed step with *stage naming it
/// (a static string).
int ApplySandbox(const PreparedSandbox& sandbox, const char** stage);

/// "network, filesystem, rlimits" or "rlimits (no namespaces: <why>)", for the job's environment.
std::string DescribeSandbox(const PreparedSandbox& sandbox);

}  // namespace tritonize
