// `tritonize tasks`: the suite, one line per task.
#include <iostream>

#include <fmt/format.h>

#include "cli/command.h"
#include "cli/context.h"

namespace tritonize {
namespace {

std::string Join(const std::vector<std::string>& items, const char* sep) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : sep) + item;
  return out;
}

int RunTasks(const CommonOptions& options, bool json) {
  std::vector<std::string> errors;
  EngineContext context;
  if (!MakeContext(options, &context, &errors)) return ReportUsageErrors(errors);
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& task : context.suite.tasks()) out.push_back(task.manifest);
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  std::cout << fmt::format("{:<20}  {:<16}  {:<16}  {}\n", "Task", "Entry", "Modes", "Experts");
  for (const auto& task : context.suite.tasks()) {
    std::vector<std::string> experts;
    for (const auto& expert : task.experts) {
      experts.push_back(fmt::format("{} ({})", expert.name,
                                    expert.tutorial.empty() ? expert.module : expert.tutorial));
    }
    std::cout << fmt::format("{:<20}  {:<16}  {:<16}  {}\n", task.name, task.entry,
                             Join(task.modes, "+"), experts.empty() ? "-" : Join(experts, ", "));
  }
  return kExitOk;
}

}  // namespace

std::function<int()> SetupTasks(CLI::App* app) {
  auto options = std::make_shared<CommonOptions>();
  auto json = std::make_shared<bool>(false);
  app->add_option("--root", options->root, "Folder with tasks/")->envname("TRITONIZE_ROOT");
  app->add_flag("--json", *json, "Print the manifests as JSON");
  return [options, json] { return RunTasks(*options, *json); };
}

}  // namespace tritonize
