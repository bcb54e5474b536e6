#include "cli/guard_options.h"

#include <random>

#include <fmt/format.h>

namespace tritonize {

void AddGuardOptions(CLI::App* app, GuardOptions* options) {
  app->add_option("--sandbox", options->sandbox,
                  "Candidate sandbox: auto (every layer this machine allows), on (all or the job "
                  "fails), off")
      ->envname("TRITONIZE_SANDBOX")
      ->capture_default_str();
  app->add_option("--import-timeout", options->import_timeout_s,
                  "Seconds a candidate's import may take")
      ->envname("TRITONIZE_IMPORT_TIMEOUT")
      ->capture_default_str();
  app->add_option("--compile-timeout", options->compile_timeout_s,
                  "Seconds the first call at a size (compile, autotune) may take")
      ->envname("TRITONIZE_COMPILE_TIMEOUT")
      ->capture_default_str();
  app->add_option("--call-timeout", options->call_timeout_s, "Seconds any later call may take")
      ->envname("TRITONIZE_CALL_TIMEOUT")
      ->capture_default_str();
  app->add_option("--cpu-limit", options->cpu_s,
                  "RLIMIT_CPU of the candidate's process, CPU seconds (0: 4x --timeout)")
      ->envname("TRITONIZE_CPU_LIMIT");
  app->add_option("--file-limit", options->file_bytes,
                  "RLIMIT_FSIZE of the candidate's process, bytes")
      ->envname("TRITONIZE_FILE_LIMIT")
      ->capture_default_str();
  app->add_option("--process-limit", options->processes,
                  "RLIMIT_NPROC of the candidate's process (counts every process and thread of "
                  "the user; 0: not set)")
      ->envname("TRITONIZE_PROCESS_LIMIT");
  app->add_option("--run-seed", options->run_seed,
                  "Seed of the hidden check size and seed (default: random per run)")
      ->envname("TRITONIZE_RUN_SEED");
}

void ApplyGuardOptions(const GuardOptions& options, WorkerOptions* worker,
                       std::vector<std::string>* errors) {
  if (!ParseSandboxMode(options.sandbox, &worker->sandbox.mode)) {
    errors->push_back(
        fmt::format("--sandbox: expected auto, on or off, got \"{}\"", options.sandbox));
  }
  const std::pair<const char*, double> timeouts[] = {{"--import-timeout", options.import_timeout_s},
                                                     {"--compile-timeout", options.compile_timeout_s},
                                                     {"--call-timeout", options.call_timeout_s}};
  for (const auto& [flag, value] : timeouts) {
    if (value < 0) errors->push_back(fmt::format("{}: must be >= 0, got {}", flag, value));
  }
  worker->import_timeout_s = options.import_timeout_s;
  worker->compile_timeout_s = options.compile_timeout_s;
  worker->call_timeout_s = options.call_timeout_s;
  worker->sandbox.cpu_s = options.cpu_s > 0 ? options.cpu_s : 4 * worker->timeout_s;
  worker->sandbox.file_bytes = options.file_bytes;
  worker->sandbox.processes = options.processes;
  worker->run_seed = options.run_seed != 0 ? options.run_seed : RandomRunSeed();
}

uint64_t RandomRunSeed() {
  std::random_device device;
  uint64_t seed = (static_cast<uint64_t>(device()) << 32) ^ device();
  return seed != 0 ? seed : 1;
}

}  // namespace tritonize
