// `tritonize prompt`: print the exact one-shot prompt a model is sent for a task.
#include <fmt/format.h>

#include <iostream>

#include "cli/command.h"
#include "cli/context.h"
#include "llm/prompt.h"

namespace tritonize {
namespace {

struct PromptOptions {
  CommonOptions common;
  std::string task;
  std::string prompt = "oneshot-v1";
};

int RunPrompt(const PromptOptions& options) {
  std::vector<std::string> errors;
  EngineContext context;
  MakeContext(options.common, &context, &errors);
  const Task* task = context.suite.Find(options.task);
  if (task == nullptr && errors.empty()) {
    errors.push_back(
        fmt::format("--task: unknown task \"{}\" (see `tritonize tasks`)", options.task));
  }
  PromptTemplate tmpl;
  std::string err;
  if (errors.empty() && !LoadPromptTemplate(context.root, options.prompt, &tmpl, &err)) {
    errors.push_back("--prompt: " + err);
  }
  if (!errors.empty()) return ReportUsageErrors(errors);
  PromptVars vars;
  std::string text;
  if (!OneshotVars(*task, &vars, &err) || !RenderPrompt(tmpl.text, vars, &text, &err)) {
    std::cerr << fmt::format("tritonize: error: {} with {}: {}\n", task->name, tmpl.path, err);
    return kExitFailed;
  }
  std::cout << text;
  return kExitOk;
}

}  // namespace

std::function<int()> SetupPrompt(CLI::App* app) {
  auto options = std::make_shared<PromptOptions>();
  AddCommonOptions(app, &options->common);
  app->add_option("--task", options->task, "Task name")->required();
  app->add_option("--prompt", options->prompt, "Template under prompts/ (without .txt)")
      ->capture_default_str();
  return [options] { return RunPrompt(*options); };
}

}  // namespace tritonize
