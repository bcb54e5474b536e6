#include "cli/command.h"

namespace tritonize {

const std::vector<Command>& Commands() {
  static const std::vector<Command> kCommands = {
      {"bench", "Check and time baseline, expert and LLM implementations; print the tables",
       SetupBench},
      {"eval", "Check and time one candidate file for one task; print one JSON object", SetupEval},
      {"tasks", "List the task suite", SetupTasks},
      {"doctor", "Check python, torch, triton, the GPU, the tutorials and the tasks", SetupDoctor},
      {"extract", "Extract the expert modules from a Triton checkout's tutorials", SetupExtract},
  };
  return kCommands;
}

}  // namespace tritonize
