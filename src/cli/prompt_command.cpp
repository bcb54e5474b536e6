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
  std::string prompt = "oneshot-v2";
  std::string gpu;  // --gpu: the GPU the prompt targets
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
  const std::string gpu = TargetGpu(options.gpu);
  if (gpu.empty()) {
    std::cerr << "tritonize: note: no GPU named (--gpu, TRITONIZE_GPU) or found: the prompt says \""
              << GpuPhrase("") << "\"\n";
  }
  if (!OneshotVars(*task, gpu, &vars, &err) || !RenderPrompt(tmpl.text, vars, &text, &err)) {
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
  app->add_option("--gpu", options->gpu,
                  "The GPU the prompt targets, as torch names it (e.g. \"NVIDIA H200\"); default: "
                  "$TRITONIZE_GPU, else this machine's GPU");
  return [options] { return RunPrompt(*options); };
}

}  // namespace tritonize
