#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/task.h"
#include "exec/worker.h"
#include "run/runner.h"
#include "llm/clock.h"
#include "llm/http_transport.h"
#include "llm/price_table.h"
#include "llm/prompt.h"
#include "llm/provider.h"
#include "llm/replay_source.h"
#include "llm/retry.h"
#include "store/generation_store.h"

namespace tritonize {

/// Everything one `tritonize generate` run needs, resolved by the command.
struct GenerateConfig {
  ModelSpec spec;
  std::string model_id;  // folder under llm_triton/
  std::string base_url;
  std::string api_key;  // from the environment; only ever put in request headers
  GenerationParams params;
  int samples = 1;
  int turns = 1;
  int jobs = 1;
  std::optional<double> budget_usd;
  bool no_cache = false;
  std::filesystem::path out_dir;  // llm_triton/<model-id>
  PromptTemplate oneshot;
  PromptTemplate refine;
  std::string gpu;  // the GPU the prompts target (OneshotVars); empty: unknown
  const PriceTable* prices = nullptr;
  const Provider* provider = nullptr;    // null for replay
  const ReplaySource* replay = nullptr;  // set for replay
  HttpTransport* transport = nullptr;
  RetryPolicy retry;
  Clock* clock = nullptr;
  double connect_timeout_s = 10;
  double request_timeout_s = 600;
  GenerationStore* store = nullptr;
  WorkerOptions worker;  // for the verdicts fed back on refinement turns
  Runner* runner = nullptr;  // runs those verdicts; null: one of its own on one unlocked lane
  std::string command_line;
};

/// What happened to one (task, sample, turn).
struct TurnOutcome {
  std::string task;
  int sample = 0;
  int turn = 1;
  /// ok | no_code | refused | truncated (answered); failed (no answer); budget (not sent)
  std::string status;
  std::string message;
  bool cached = false;
  bool sent = false;
  int attempts = 0;
  long long tokens_in = -1;
  long long tokens_out = -1;
  double cost_usd = -1;  // -1 unknown
  std::string verdict;   // the worker's status, when it was run for refinement
};

struct GenerateSummary {
  std::vector<TurnOutcome> turns;
  int requests_sent = 0;
  int cache_hits = 0;
  int failed = 0;
  bool budget_reached = false;
  bool interrupted = false;
};

/// Runs every (task, sample) chain of turns, --jobs chains at once. Each answered request
/// is stored and its files written as soon as it arrives.
GenerateSummary RunGeneration(const GenerateConfig& config, const std::vector<const Task*>& tasks,
                              const std::function<void(const std::string&)>& log);

/// The cache key: sha256 over provider, model, messages, parameters and the sample index.
std::string CacheKey(const std::string& provider, const std::string& model,
                     const nlohmann::json& messages, const nlohmann::json& params, int sample);

}  // namespace tritonize
