// tritonize: can an LLM turn a PyTorch baseline into Triton as good as an expert's?
#include <iostream>

#include "cli/command.h"
#include "cli/context.h"
#include "exec/subprocess.h"

int main(int argc, char** argv) {
  using namespace tritonize;
  CLI::App app{"tritonize: PyTorch baseline vs expert Triton vs LLM-written Triton"};
  app.set_version_flag("--version", TRITONIZE_VERSION);
  app.require_subcommand(0, 1);
  std::function<int()> run;
  for (const Command& command : Commands()) {
    CLI::App* sub = app.add_subcommand(command.name, command.help);
    auto body = command.setup(sub);
    sub->callback([&run, body] { run = body; });
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }
  if (!run) {
    // `tritonize` alone runs the seed's quick test: softmax at three sizes.
    CLI::App quick{"tritonize"};
    auto body = SetupBench(&quick);
    try {
      quick.parse(std::vector<std::string>{});
    } catch (const CLI::ParseError& e) {
      return quick.exit(e) == 0 ? kExitOk : kExitUsage;
    }
    run = body;
  }
  SetCommandLine(argc, argv);
  InstallInterruptHandler();
  return run();
}
