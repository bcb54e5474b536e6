// `tritonize serve`: an evaluation service over HTTP (docs/serve.md): a durable queue in the
// store, --lanes lanes on each GPU (or CPU lanes under --interpret), the verdict `eval --json` prints.
#include <signal.h>
#include <string.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <thread>

#include <fmt/format.h>

#include "cli/command.h"
#include "cli/context.h"
#include "cli/guard_options.h"
#include "cli/run_options.h"
#include "exec/subprocess.h"
#include "serve/bearer_token.h"
#include "serve/evaluation_service.h"
#include "serve/gpu_status.h"
#include "serve/http_api.h"
#include "serve/worker_evaluator.h"
#include "store/evaluation_queue.h"

extern char** environ;

namespace tritonize {
namespace {

namespace fs = std::filesystem;

constexpr const char* kTokenVariable = "TRITONIZE_TOKEN";

struct ServeOptions {
  CommonOptions common;
  GuardOptions guards;
  std::string host = "127.0.0.1";
  int port = 8470;
  std::string port_file;
  std::string token_file;
  std::string gpus;
  int lanes = 0;  // 0: 1 under --interpret and Slurm, else bench's default --jobs per GPU
  int64_t max_queue = 10000;
  size_t max_body = 16u << 20;
  size_t max_batch = 256;
  size_t max_code = 1u << 20;
  double rate = 50;
  double burst = 100;
  int http_threads = 16;
  int max_attempts = 3;
  bool keep_files = false;
  bool log_requests = false;
  LauncherFlags launch;  // --launcher local|slurm and the Slurm options, as bench's
};

/// The token's value leaves the process's environment, and is blanked where /proc/<pid>/environ
/// shows it (the memory the kernel reads that from), so that no worker process, however it
/// looks, finds it.
std::string TakeTokenFromEnvironment() {
  const char* value = std::getenv(kTokenVariable);
  std::string token = value != nullptr ? value : "";
  const size_t name_length = strlen(kTokenVariable);
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    if (strncmp(*entry, kTokenVariable, name_length) == 0 && (*entry)[name_length] == '=') {
      char* text = *entry + name_length + 1;
      memset(text, 0, strlen(text));
    }
  }
  unsetenv(kTokenVariable);
  return token;
}

bool IsLoopback(const std::string& host) {
  return host == "127.0.0.1" || host == "localhost" || host == "::1" ||
         host.rfind("127.", 0) == 0;
}

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> items;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = std::min(text.find(',', start), text.size());
    if (comma > start) items.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return items;
}

int RunServe(ServeOptions& options) {
  // Before anything can start a process: the token is read once and never passed on.
  const std::string env_token = TakeTokenFromEnvironment();
  std::vector<std::string> errors;
  EngineContext context;
  MakeContext(options.common, &context, &errors);
  ApplyGuardOptions(options.guards, &context.worker, &errors);
  BearerToken token;
  std::string secret;  // the token itself: only to redact it from verdicts
  {
    std::string err;
    if (!BearerToken::Load(options.token_file, env_token, &token, &secret, &err)) {
      errors.push_back(err);
    }
  }
  if (!token.enabled() && !IsLoopback(options.host)) {
    errors.push_back(fmt::format(
        "--host {}: serving beyond this machine needs a token (--token-file or {})",
        options.host, kTokenVariable));
  }
  const std::unique_ptr<SlurmStepLauncher> slurm =
      MakeSlurmLauncher(options.launch, context.worker, &errors);
  const std::vector<std::string> gpus = SplitList(options.gpus);
  if (!gpus.empty() && options.common.interpret) {
    errors.push_back("--gpus: --interpret runs on the CPU; give --lanes instead");
  }
  if (!gpus.empty() && options.launch.launcher == "slurm") {
    errors.push_back("--gpus: with --launcher slurm the cluster gives each step its GPU "
                     "(--slurm-gres gpu:1); give --lanes instead");
  }
  if (!errors.empty()) return ReportUsageErrors(errors);

  const fs::path serve_dir = context.worker.scratch_dir / "serve";
  WorkerEvaluatorOptions worker_options;
  worker_options.worker = context.worker;
  worker_options.scratch = serve_dir;
  worker_options.gpus = gpus;
  if (gpus.empty() && !options.common.interpret && !context.worker.cuda_visible_devices.empty()) {
    worker_options.gpus = {context.worker.cuda_visible_devices};
  }
  const int lanes = std::max(0, options.lanes);
  worker_options.cpu_lanes = options.common.interpret || slurm ? std::max(1, lanes) : 1;
  if (!options.common.interpret && !slurm) {
    // Evaluations at once on each GPU: their CPU-side work overlaps, their timing takes turns.
    const int gpu_count = std::max(1, static_cast<int>(worker_options.gpus.size()));
    worker_options.lanes_per_gpu =
        lanes > 0 ? lanes : std::max(1, DefaultJobs(gpu_count) / gpu_count);
  }
  if (slurm) worker_options.slurm = slurm->slurm().options();
  worker_options.run_seed = context.worker.run_seed;
  worker_options.keep_files = options.keep_files;

  std::string err;
  auto queue = EvaluationQueue::Open(options.common.db, &err);
  if (!queue) return ReportUsageErrors({err});
  auto evaluator = std::make_unique<WorkerEvaluator>(worker_options);

  ServiceOptions service_options;
  service_options.max_queued = options.max_queue;
  service_options.max_attempts = options.max_attempts;
  service_options.interpret = options.common.interpret;
  service_options.secret = secret;
  EvaluationService service(queue.get(), evaluator.get(), &context.suite, service_options);

  HttpApiOptions api_options;
  api_options.token = token;
  api_options.max_body_bytes = options.max_body;
  api_options.rate_per_second = options.rate;
  api_options.rate_burst = options.burst;
  api_options.limits.max_batch = options.max_batch;
  api_options.limits.max_code_bytes = options.max_code;
  api_options.threads = options.http_threads;
  api_options.log_requests = options.log_requests;
  GpuStatus gpu_status(serve_dir, !options.common.interpret && options.launch.launcher == "local");
  HttpApi api(&service, api_options, [&gpu_status] { return gpu_status.Read(); });
  if (!api.Bind(options.host, options.port, &err)) return ReportUsageErrors({err});

  // A client that hangs up mid-answer must not end the server.
  signal(SIGPIPE, SIG_IGN);
  std::string summary;
  if (!service.Start(&summary, &err)) {
    std::cerr << "tritonize serve: error: " << err << "\n";
    return kExitFailed;
  }
  std::cerr << fmt::format(
      "tritonize serve: listening on http://{}:{} ({} lane{}, {}, {}, store {}); {}\n",
      options.host, api.port(), evaluator->lanes(), evaluator->lanes() == 1 ? "" : "s",
      options.common.interpret ? "interpreter, correctness only" : "GPU",
      token.enabled() ? "bearer token required" : "no token", queue->path().string(), summary);
  if (!options.port_file.empty()) {
    std::ofstream(options.port_file) << api.port() << "\n";
  }

  // SIGINT/SIGTERM set the interrupt flag (main): stop listening, let the lanes put back what
  // they were running, and leave with 130.
  std::atomic<bool> served{false};
  std::thread stopper([&] {
    while (!served.load() && !Interrupted()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    api.Stop();
  });
  const bool ok = api.Serve();
  served.store(true);
  stopper.join();
  service.Stop();
  std::cerr << "tritonize serve: stopped\n";
  if (Interrupted()) return kExitInterrupted;
  return ok ? kExitOk : kExitFailed;
}

}  // namespace

std::function<int()> SetupServe(CLI::App* app) {
  auto options = std::make_shared<ServeOptions>();
  AddCommonOptions(app, &options->common);
  AddGuardOptions(app, &options->guards);
  app->add_option("--host", options->host, "Address to listen on (beyond loopback needs a token)")
      ->capture_default_str();
  app->add_option("--port", options->port, "Port to listen on (0: any free one)")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  app->add_option("--port-file", options->port_file, "Write the port listened on to this file");
  app->add_option("--token-file", options->token_file,
                  "File holding the bearer token clients must send (else TRITONIZE_TOKEN)");
  app->add_option("--gpus", options->gpus, "GPUs to run on (e.g. 0,1,2,3), --lanes on each");
  app->add_option("--lanes", options->lanes,
                  "Evaluations at once: on each GPU (default: bench's default --jobs per GPU), "
                  "under --interpret (CPU lanes, default 1), or Slurm lanes (default 1)")
      ->check(CLI::Range(1, 256));
  app->add_option("--max-queue", options->max_queue, "Queued evaluations beyond which 503")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{10000000}));
  app->add_option("--max-body", options->max_body, "Largest request body, bytes (413 beyond)")
      ->capture_default_str();
  app->add_option("--max-batch", options->max_batch, "Submissions in one request")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  app->add_option("--max-code", options->max_code, "Largest candidate source, bytes")
      ->capture_default_str();
  app->add_option("--rate", options->rate,
                  "Requests a second per client address, on average (0: no limit; 429 beyond)")
      ->capture_default_str();
  app->add_option("--burst", options->burst, "Requests a client may make at once")
      ->capture_default_str();
  app->add_option("--http-threads", options->http_threads, "Connections served at once")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  app->add_option("--max-attempts", options->max_attempts,
                  "Times an evaluation is started before a restart gives it up as crashed")
      ->capture_default_str()
      ->check(CLI::Range(1, 100));
  app->add_flag("--keep-files", options->keep_files, "Keep each evaluation's job folder");
  app->add_flag("--log-requests", options->log_requests, "Log every request, not only changes");
  AddLauncherFlags(app, &options->launch,
                   "Where evaluations run: local (this machine's GPUs) or slurm (every step a "
                   "Slurm job step; --lanes of them at once)");
  return [options] { return RunServe(*options); };
}

}  // namespace tritonize
