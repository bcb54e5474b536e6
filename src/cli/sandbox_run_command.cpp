// `tritonize sandbox-run [policy] -- COMMAND...`: runs one command in the candidate sandbox
// (docs/security.md) and exits as it did. How a cluster's job step applies on its node the
// sandbox that RunSubprocess applies to a local candidate step (run/launcher_slurm.h).
#include <fstream>
#include <iostream>

#include "cli/command.h"
#include "exec/sandbox.h"
#include "exec/subprocess.h"

namespace tritonize {
namespace {

struct SandboxRunOptions {
  std::string mode = "auto";
  std::vector<std::string> writable;
  std::vector<std::string> hidden;
  double cpu_s = 0;
  long long file_bytes = 0;
  long long processes = 0;
  std::string no_filesystem;
  std::string describe;
  std::vector<std::string> command;
};

int RunSandboxed(const SandboxRunOptions& options) {
  SandboxPolicy policy;
  if (!ParseSandboxMode(options.mode, &policy.mode)) {
    std::cerr << "tritonize: error: --sandbox: expected auto, on or off, got \"" << options.mode
              << "\"\n";
    return kExitUsage;
  }
  if (options.command.empty()) {
    std::cerr << "tritonize: error: sandbox-run: no command after --\n";
    return kExitUsage;
  }
  policy.writable.assign(options.writable.begin(), options.writable.end());
  policy.hidden.assign(options.hidden.begin(), options.hidden.end());
  policy.cpu_s = options.cpu_s;
  policy.file_bytes = options.file_bytes;
  policy.processes = options.processes;
  policy.no_filesystem = options.no_filesystem;
  SubprocessOptions sub;
  sub.argv = options.command;
  sub.sandbox = policy;  // stdout, stderr and the working folder are this process's own
  const SubprocessResult run = RunSubprocess(sub);
  if (!options.describe.empty()) std::ofstream(options.describe) << run.sandbox;
  if (!run.started) {
    std::cerr << "tritonize: sandbox-run: " << run.spawn_error << "\n";
    return 127;
  }
  if (run.interrupted) return kExitInterrupted;
  if (run.signal != 0) return 128 + run.signal;
  return run.exit_code;
}

}  // namespace

std::function<int()> SetupSandboxRun(CLI::App* app) {
  auto options = std::make_shared<SandboxRunOptions>();
  app->add_option("--sandbox", options->mode, "auto, on or off")->capture_default_str();
  app->add_option("--writable", options->writable, "A folder it may write (repeatable)");
  app->add_option("--hidden", options->hidden, "A folder hidden under an empty tmpfs (repeatable)");
  app->add_option("--cpu-limit", options->cpu_s, "RLIMIT_CPU, CPU seconds (0: none)");
  app->add_option("--file-limit", options->file_bytes, "RLIMIT_FSIZE, bytes (0: none)");
  app->add_option("--process-limit", options->processes, "RLIMIT_NPROC (0: none)");
  app->add_option("--no-filesystem", options->no_filesystem,
                  "Leave the filesystem layer out, for this reason");
  app->add_option("--describe", options->describe, "Write the layers applied to this file");
  app->add_option("command", options->command, "The command, after --")->required();
  return [options] { return RunSandboxed(*options); };
}

}  // namespace tritonize
