// `tritonize generate`: ask a model (or recorded responses) for candidates, sample by sample
// and turn by turn, caching every answer in the store and writing files `bench` scores.
#include <fmt/format.h>

#include <cstdlib>
#include <iostream>

#include "cli/command.h"
#include "cli/context.h"
#include "cli/run_options.h"
#include "exec/subprocess.h"
#include "llm/generator.h"

namespace tritonize {
namespace {

namespace fs = std::filesystem;

struct GenerateOptions {
  CommonOptions common;
  std::string model;
  std::string model_id;
  std::string base_url;
  std::string api_key_env;
  std::string responses;
  std::string tasks = "all";
  std::string llm_dir;
  std::string prices;
  std::string prompt = "oneshot-v2";
  std::string gpu;  // --gpu: the GPU the prompts target
  std::string refine_prompt = "refine-v1";
  int samples = 1;
  int turns = 1;
  int jobs = 4;
  int max_tokens = 16000;
  int max_attempts = 5;
  double temperature = -1;
  long long seed = -1;
  double budget = -1;
  double connect_timeout = 10;
  double request_timeout = 600;
  bool no_cache = false;
  RunFlags run;
};

/// Resolves the options into a config; every problem is appended to *errors (usage).
void Configure(const GenerateOptions& o, EngineContext& context, GenerateConfig* c,
               PriceTable* prices, ReplaySource* replay, std::vector<std::string>* errors) {
  std::string err;
  if (!ParseModelSpec(o.model, &c->spec, &err)) errors->push_back(err);
  c->model_id = o.model_id.empty() ? DefaultModelId(c->spec) : o.model_id;
  c->base_url = o.base_url;
  if (c->spec.provider == "replay") {
    if (o.responses.empty())
      errors->push_back("--model replay:NAME needs --responses DIR");
    else if (!ReplaySource::Load(o.responses, replay, &err))
      errors->push_back(err);
    c->replay = replay;
  } else if (!c->spec.provider.empty()) {
    std::string var = o.api_key_env.empty() ? DefaultKeyVariable(c->spec.provider) : o.api_key_env;
    const char* key = std::getenv(var.c_str());
    if (key == nullptr || *key == '\0') {
      errors->push_back(
          fmt::format("no API key: set {} in the environment (or name another "
                      "variable with --api-key-env)",
                      var));
    } else {
      c->api_key = key;
    }
  }
  fs::path prices_path =
      o.prices.empty() ? context.root / "data" / "prices.toml" : fs::path(o.prices);
  if (!PriceTable::Load(prices_path, prices, &err)) errors->push_back("--prices: " + err);
  c->prices = prices;
  if (o.budget >= 0) {
    c->budget_usd = o.budget;
    if (c->spec.provider != "replay" && !prices->Find(c->spec.provider, c->spec.model)) {
      errors->push_back(fmt::format("--budget: {} has no price in {}; add one to enforce a budget",
                                    o.model, prices_path.string()));
    }
  }
  c->gpu = TargetGpu(o.gpu);
  if (!LoadPromptTemplate(context.root, o.prompt, &c->oneshot, &err))
    errors->push_back("--prompt: " + err);
  if (!LoadPromptTemplate(context.root, o.refine_prompt, &c->refine, &err)) {
    errors->push_back("--refine-prompt: " + err);
  }
  if (o.temperature >= 0) c->params.temperature = o.temperature;
  if (o.seed >= 0) c->params.seed = o.seed;
  c->params.max_tokens = o.max_tokens;
  c->samples = o.samples;
  c->turns = o.turns;
  c->jobs = o.jobs;
  c->no_cache = o.no_cache;
  c->retry.max_attempts = o.max_attempts;
  c->connect_timeout_s = o.connect_timeout;
  c->request_timeout_s = o.request_timeout;
  c->out_dir = (o.llm_dir.empty() ? context.llm_dir : fs::absolute(o.llm_dir)) / c->model_id;
  c->worker = context.worker;
  c->command_line = CommandLine();
}

std::string Tokens(long long n, bool unknown) {
  return unknown ? (n == 0 ? "-" : std::to_string(n) + "+") : std::to_string(n);
}
std::string Money(double usd) { return usd < 0 ? "-" : fmt::format("{:.4f}", usd); }

/// The closing table: per task, requests sent and cached, tokens and cost (stdout).
void PrintCostTable(const GenerateConfig& c, const GenerateSummary& s) {
  struct Row {
    int answered = 0, sent = 0, cached = 0, failed = 0;
    long long in = 0, out = 0;
    double cost = 0;
    bool unknown = false, tokens_unknown = false;
  };
  std::map<std::string, Row> rows;
  Row total;
  for (const auto& t : s.turns) {
    for (Row* r : {&rows[t.task], &total}) {
      bool answered = t.status != "failed" && t.status != "budget";
      r->answered += answered;
      r->sent += t.sent;
      r->cached += t.cached;
      r->failed += t.status == "failed";
      if (!answered) continue;
      if (t.tokens_in < 0) r->tokens_unknown = true;
      if (t.cost_usd < 0) r->unknown = true;
      r->in += std::max(0LL, t.tokens_in);
      r->out += std::max(0LL, t.tokens_out);
      r->cost += std::max(0.0, t.cost_usd);
    }
  }
  std::cout << fmt::format("Generation: {} ({}), {} sample(s) x {} turn(s) per task -> {}\n",
                           c.spec.provider + ":" + c.spec.model, c.model_id, c.samples, c.turns,
                           c.out_dir.string());
  std::cout << fmt::format("{:<10} | {:>8} | {:>4} | {:>6} | {:>6} | {:>10} | {:>11} | {:>10}\n",
                           "Task", "Answered", "Sent", "Cached", "Failed", "Tokens in",
                           "Tokens out", "Cost (USD)");
  std::cout << std::string(10, '-') << "-+-" << std::string(8, '-') << "-+-" << std::string(4, '-')
            << "-+-" << std::string(6, '-') << "-+-" << std::string(6, '-') << "-+-"
            << std::string(10, '-') << "-+-" << std::string(11, '-') << "-+-"
            << std::string(10, '-') << "\n";
  auto print = [&](const std::string& name, const Row& r) {
    std::cout << fmt::format(
        "{:<10} | {:>8} | {:>4} | {:>6} | {:>6} | {:>10} | {:>11} | {:>10}\n", name, r.answered,
        r.sent, r.cached, r.failed, Tokens(r.in, r.tokens_unknown), Tokens(r.out, r.tokens_unknown),
        r.unknown && r.cost == 0 ? "-" : Money(r.cost) + (r.unknown ? "+" : ""));
  };
  for (const auto& [task, row] : rows) print(task, row);
  print("total", total);
  double spent = 0;
  for (const auto& t : s.turns) {
    if (t.sent && t.cost_usd > 0) spent += t.cost_usd;
  }
  std::cout << fmt::format(
      "Spent by this run: {:.4f} USD on {} request(s) sent; Cost above is "
      "what each answer cost when it was first paid for\n",
      spent, s.requests_sent);
  if (total.unknown)
    std::cout << "(-/+: some calls have no price or no token count; see data/prices.toml)\n";
  if (s.requests_sent == 0 && s.cache_hits > 0) {
    std::cout << "Every answer came from the cache: no request was sent, nothing was spent.\n";
  }
}

int RunGenerate(const GenerateOptions& options) {
  // Pass 1: configuration; every usage error at once.
  std::vector<std::string> errors;
  EngineContext context;
  MakeContext(options.common, &context, &errors);
  std::vector<const Task*> tasks = context.suite.Select(options.tasks, &errors);
  GenerateConfig config;
  PriceTable prices;
  ReplaySource replay;
  if (errors.empty()) Configure(options, context, &config, &prices, &replay, &errors);
  RunnerOptions runner_options = MakeRunnerOptions(options.run, &context, &errors);
  if (!errors.empty()) return ReportUsageErrors(errors);
  // The verdicts fed back on refinement turns: as many at once as requests in flight.
  runner_options.jobs = std::max(1, options.jobs);
  runner_options.warm = false;
  config.worker = context.worker;

  // Pass 2: open the cache and the transport.
  std::string err;
  auto store = GenerationStore::Open(options.common.db, &err);
  if (!store) {
    std::cerr << "tritonize: error: " << err << "\n";
    return kExitFailed;
  }
  std::unique_ptr<Provider> provider;
  if (config.replay == nullptr) {
    provider = MakeProvider(config.spec.provider, config.base_url, &err);
    config.provider = provider.get();
  }
  auto transport = MakeCurlTransport();
  config.transport = transport.get();
  config.clock = &SystemClock();
  config.store = store.get();

  // Pass 3: the requests, each answer stored and written as it arrives.
  Runner runner(config.worker, runner_options);
  config.runner = &runner;
  GenerateSummary summary = RunGeneration(
      config, tasks, [](const std::string& line) { std::cerr << "tritonize: " << line << "\n"; });

  // Pass 4: the cost table.
  PrintCostTable(config, summary);
  if (summary.budget_reached) {
    std::cerr << "tritonize: --budget reached: requests not sent were skipped; what was answered "
                 "is kept\n";
  }
  if (summary.interrupted) return kExitInterrupted;
  if (summary.failed > 0) {
    std::cerr << fmt::format(
        "tritonize: {} request(s) failed; every answer received is kept "
        "(run again to retry only those)\n",
        summary.failed);
    return kExitFailed;
  }
  return kExitOk;
}

}  // namespace

std::function<int()> SetupGenerate(CLI::App* app) {
  auto o = std::make_shared<GenerateOptions>();
  AddCommonOptions(app, &o->common);
  app->add_option("--model", o->model,
                  "PROVIDER:MODEL: anthropic:claude-sonnet-4-5, openai:gpt-5, replay:NAME")
      ->required();
  app->add_option("--model-id", o->model_id,
                  "Folder name under llm_triton/ (default: PROVIDER-MODEL)");
  app->add_option(
      "--base-url", o->base_url,
      "Server base URL (any OpenAI-compatible server: vLLM, SGLang, llama.cpp, Ollama)");
  app->add_option(
      "--api-key-env", o->api_key_env,
      "Environment variable holding the key (default ANTHROPIC_API_KEY / OPENAI_API_KEY)");
  app->add_option("--responses", o->responses, "Recorded responses for replay:NAME");
  app->add_option("--tasks", o->tasks, "Comma list of tasks, or all")->capture_default_str();
  app->add_option("--llm-dir", o->llm_dir, "Where candidates go (default: <root>/llm_triton)");
  app->add_option("--prices", o->prices, "Price table (default: <root>/data/prices.toml)");
  app->add_option("--prompt", o->prompt, "One-shot template under prompts/")->capture_default_str();
  app->add_option("--gpu", o->gpu,
                  "The GPU the prompts target, as torch names it (e.g. \"NVIDIA H200\"); default: "
                  "$TRITONIZE_GPU, else this machine's GPU, else \"an NVIDIA GPU\"");
  app->add_option("--refine-prompt", o->refine_prompt, "Refinement template under prompts/")
      ->capture_default_str();
  app->add_option("--samples", o->samples, "Independent samples per task")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  app->add_option("--turns", o->turns,
                  "Turns per sample: 1 one-shot, more refine with the worker's verdict")
      ->capture_default_str()
      ->check(CLI::Range(1, 20));
  app->add_option("--jobs", o->jobs, "Requests in flight at once")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  app->add_option("--max-tokens", o->max_tokens, "Output token limit per request")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  app->add_option("--temperature", o->temperature, "Sampling temperature (default: the API's)");
  app->add_option("--seed", o->seed, "Sampling seed, where the API takes one (OpenAI-compatible)");
  app->add_option("--budget", o->budget, "Stop sending requests once this many USD are spent")
      ->check(CLI::NonNegativeNumber);
  app->add_option("--max-attempts", o->max_attempts,
                  "Attempts per request (retries on 429/5xx/network)")
      ->capture_default_str()
      ->check(CLI::Range(1, 20));
  app->add_option("--connect-timeout", o->connect_timeout, "Seconds to connect")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app->add_option("--request-timeout", o->request_timeout, "Seconds one request may take")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app->add_flag("--no-cache", o->no_cache, "Send every request even if it was answered before");
  AddRunFlags(app, &o->run, "");
  return [o] { return RunGenerate(*o); };
}

}  // namespace tritonize
