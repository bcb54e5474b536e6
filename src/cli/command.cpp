#include "cli/command.h"

namespace tritonize {

const std::vector<Command>& Commands() {
  static const std::vector<Command> kCommands = {
      {"bench", "Check and time baseline, expert and LLM implementations; print the tables",
       SetupBench},
      {"report", "Print a stored bench run's tables again, from the store; runs nothing",
       SetupReport},
      {"leaderboard",
       "Rank the models over every stored run: pass@k, fast_p, geomean LLM/Expert, cost",
       SetupLeaderboard},
      {"compare", "Compare stored runs cell by cell; exit 1 on a regression beyond the intervals",
       SetupCompare},
      {"eval", "Check and time one candidate file for one task; print one JSON object", SetupEval},
      {"tasks", "List the task suite", SetupTasks},
      {"doctor", "Check python, torch, triton, the GPU, the tutorials and the tasks", SetupDoctor},
      {"extract", "Extract the expert modules from a Triton checkout's tutorials", SetupExtract},
      {"checks", "List the anti-cheat checks and the exploit each one stops", SetupChecks},
      {"generate",
       "Ask a model (or recorded responses) for candidates; cache, cost, samples, turns",
       SetupGenerate},
      {"prompt", "Print the exact prompt a model is sent for a task", SetupPrompt},
      {"calibrate",
       "Measure the GPU's copy bandwidth and GEMM TFLOP/s against its spec; cache them",
       SetupCalibrate},
      {"serve",
       "Serve evaluations over HTTP: a durable queue, GPU lanes, the verdict eval prints",
       SetupServe},
      {"sandbox-run",
       "Run a command in the candidate sandbox (a cluster job step's, on its node)",
       SetupSandboxRun},
  };
  return kCommands;
}

}  // namespace tritonize
