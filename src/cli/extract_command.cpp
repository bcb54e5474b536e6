// `tritonize extract`: write the expert modules from a Triton checkout's tutorials.
#include <iostream>

#include <fmt/format.h>

#include "cli/command.h"
#include "cli/context.h"
#include "exec/extractor.h"

namespace tritonize {
namespace {

namespace fs = std::filesystem;

struct ExtractOptions {
  CommonOptions common;
  std::string tutorials;
  std::string out;
  std::string tasks = "all";
};

int RunExtract(const ExtractOptions& options) {
  std::vector<std::string> errors;
  EngineContext context;
  MakeContext(options.common, &context, &errors);
  std::vector<const Task*> tasks = context.suite.Select(options.tasks, &errors);
  fs::path tutorials = FindTutorials(options.tutorials, context.root);
  if (!errors.empty()) return ReportUsageErrors(errors);
  if (tutorials.empty()) {
    std::cerr << "tritonize: no Triton tutorials checkout: only the library experts can be written; "
              << TutorialsHint() << "\n";
  }

  ExpertSet set = ExtractExperts(context.worker, tutorials, context.tasks_dir, tasks,
                                 fs::absolute(options.out));
  if (!set.error.empty()) {
    std::cerr << "tritonize: error: " << set.error << "\n";
    return kExitFailed;
  }
  bool all_ok = true;
  for (const Task* task : tasks) {
    for (const Implementation& impl : set.tasks[task->name]) {
      const std::string label =
          fmt::format("{} ({})", task->name, impl.metadata.value("expert", impl.name));
      if (impl.unavailable.empty()) {
        std::cout << fmt::format("ok    {:<26} {} (entry {})\n", label, impl.path.string(),
                                 impl.entry);
      } else {
        std::cout << fmt::format("FAIL  {:<26} {}\n", label, impl.unavailable);
        all_ok = false;
      }
    }
  }
  return all_ok ? kExitOk : kExitFailed;
}

}  // namespace

std::function<int()> SetupExtract(CLI::App* app) {
  auto options = std::make_shared<ExtractOptions>();
  AddCommonOptions(app, &options->common);
  app->add_option("--tutorials", options->tutorials,
                  "Triton checkout (or its python/tutorials); also TRITONIZE_TUTORIALS");
  app->add_option("--out", options->out, "Folder for <task>.<expert>.py and extract.json")->required();
  app->add_option("--tasks", options->tasks, "Comma list of tasks, or all")->capture_default_str();
  return [options] { return RunExtract(*options); };
}

}  // namespace tritonize
