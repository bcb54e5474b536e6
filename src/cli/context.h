#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "core/task_suite.h"
#include "exec/worker.h"

namespace tritonize {

/// Options every command that runs the worker shares; each can also be set by the
/// environment variable named beside it.
struct CommonOptions {
  std::string root;       // TRITONIZE_ROOT: holds tasks/, python/, llm_triton/
  std::string python;     // TRITONIZE_PYTHON
  std::string db = "tritonize.db";  // TRITONIZE_DB
  std::string scratch;    // TRITONIZE_SCRATCH
  double timeout_s = 900; // TRITONIZE_TIMEOUT
  bool interpret = false;
};

void AddCommonOptions(CLI::App* app, CommonOptions* options);

/// Resolved paths and the loaded suite.
struct EngineContext {
  std::filesystem::path root;
  std::filesystem::path tasks_dir;
  std::filesystem::path llm_dir;
  TaskSuite suite;
  WorkerOptions worker;
};

/// Finds the root and loads the suite. Problems are appended to *errors (usage errors).
bool MakeContext(const CommonOptions& options, EngineContext* context,
                 std::vector<std::string>* errors);

/// Prints usage errors, all at once, to stderr; returns kExitUsage.
int ReportUsageErrors(const std::vector<std::string>& errors);

/// The tutorials folder: --tutorials, else TRITONIZE_TUTORIALS, else <root>/.tutorials;
/// empty if none exists.
std::filesystem::path FindTutorials(const std::string& flag, const std::filesystem::path& root);

/// `--calibration FILE`: the ceilings cache the report reads, for every command that builds one.
void AddCalibrationOption(CLI::App* app, std::string* calibration);

/// The command line, for the store.
std::string CommandLine();
void SetCommandLine(int argc, char** argv);

}  // namespace tritonize
