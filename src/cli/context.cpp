#include "cli/context.h"

#include <cstdlib>
#include <iostream>

#include <fmt/format.h>

namespace tritonize {

namespace fs = std::filesystem;

namespace {

std::string g_command_line;

bool IsRoot(const fs::path& dir) {
  std::error_code ec;
  return fs::is_directory(dir / "tasks", ec) &&
         fs::is_directory(dir / "python" / "tritonize_worker", ec);
}

fs::path FindRootFrom(fs::path dir) {
  while (!dir.empty()) {
    if (IsRoot(dir)) return dir;
    if (dir == dir.parent_path()) break;
    dir = dir.parent_path();
  }
  return {};
}

}  // namespace

void AddCommonOptions(CLI::App* app, CommonOptions* options) {
  app->add_option("--root", options->root,
                  "Folder with tasks/, python/ and llm_triton/ (default: found from the binary "
                  "or the working directory)")
      ->envname("TRITONIZE_ROOT");
  app->add_option("--python", options->python,
                  "Python with torch and triton for the worker (default: <root>/.venv/bin/python "
                  "if present, else python3)")
      ->envname("TRITONIZE_PYTHON");
  app->add_option("--db", options->db, "SQLite results database")->capture_default_str()->envname("TRITONIZE_DB");
  app->add_option("--scratch", options->scratch,
                  "Folder for per-job files (default: <root>/.tritonize/jobs)")
      ->envname("TRITONIZE_SCRATCH");
  app->add_option("--timeout", options->timeout_s, "Seconds one job may take before it is killed")
      ->capture_default_str()
      ->envname("TRITONIZE_TIMEOUT")
      ->check(CLI::PositiveNumber);
  app->add_flag("--interpret", options->interpret,
                "Correctness only, on the CPU with TRITON_INTERPRET=1; no timings");
}

bool MakeContext(const CommonOptions& options, EngineContext* context,
                 std::vector<std::string>* errors) {
  std::error_code ec;
  if (!options.root.empty()) {
    context->root = fs::absolute(options.root);
    if (!IsRoot(context->root)) {
      errors->push_back(fmt::format("--root {}: no tasks/ and python/tritonize_worker/ there",
                                    options.root));
      return false;
    }
  } else {
    context->root = FindRootFrom(fs::read_symlink("/proc/self/exe", ec).parent_path());
    if (context->root.empty()) context->root = FindRootFrom(fs::current_path());
    if (context->root.empty()) {
      errors->push_back(
          "cannot find the tritonize folder (tasks/ and python/tritonize_worker/): run from "
          "inside it or pass --root / TRITONIZE_ROOT");
      return false;
    }
  }
  context->tasks_dir = context->root / "tasks";
  context->llm_dir = context->root / "llm_triton";

  WorkerOptions& worker = context->worker;
  if (!options.python.empty()) {
    worker.python = options.python;
  } else if (fs::exists(context->root / ".venv" / "bin" / "python", ec)) {
    worker.python = (context->root / ".venv" / "bin" / "python").string();
  }
  worker.package_dir = context->root / "python";
  worker.scratch_dir = options.scratch.empty() ? context->root / ".tritonize" / "jobs"
                                               : fs::absolute(options.scratch);
  fs::create_directories(worker.scratch_dir, ec);
  if (ec) {
    errors->push_back(fmt::format("--scratch {}: cannot create: {}", worker.scratch_dir.string(),
                                  ec.message()));
  }
  worker.timeout_s = options.timeout_s;
  worker.interpret = options.interpret;
  worker.timing = !options.interpret;
  return TaskSuite::Load(context->tasks_dir, &context->suite, errors) && errors->empty();
}

int ReportUsageErrors(const std::vector<std::string>& errors) {
  for (const auto& e : errors) std::cerr << "tritonize: error: " << e << "\n";
  return 2;
}

fs::path FindTutorials(const std::string& flag, const fs::path& root) {
  std::error_code ec;
  if (!flag.empty()) return fs::absolute(flag);
  if (const char* env = std::getenv("TRITONIZE_TUTORIALS"); env != nullptr && *env != '\0') {
    return fs::absolute(env);
  }
  if (fs::is_directory(root / ".tutorials", ec)) return root / ".tutorials";
  return {};
}

void AddCalibrationOption(CLI::App* app, std::string* calibration) {
  app->add_option("--calibration", *calibration,
                  "Ceilings cache written by `tritonize calibrate` (default: "
                  "$TRITONIZE_CALIBRATION, else ~/.cache/tritonize/calibration.json)");
}

std::string CommandLine() { return g_command_line; }

void SetCommandLine(int argc, char** argv) {
  g_command_line.clear();
  for (int i = 0; i < argc; ++i) {
    if (i > 0) g_command_line += ' ';
    g_command_line += argv[i];
  }
}

}  // namespace tritonize
