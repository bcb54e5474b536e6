#include "run/server_launcher.h"

#include <algorithm>
#include <chrono>

#include <fmt/format.h>
#include <unistd.h>

namespace tritonize {

namespace fs = std::filesystem;

class ServerSlot : public StepSlot {
 public:
  ServerSlot(ServerLauncher& launcher, Step step) : launcher_(launcher), step_(std::move(step)) {}
  const fs::path& dir() const override { return step_.dir; }

  bool Run(const nlohmann::json& request, nlohmann::json* result, JobResult* failure) override {
    const std::string line = StepRequestPath(step_).string() + "\t" + StepResultPath(step_).string();
    if (line.find('\n') != std::string::npos ||
        std::count(line.begin(), line.end(), '\t') != 1) {
      return Fresh(request, result, failure);  // a path the line protocol cannot carry
    }
    if (!WriteStepRequest(step_, request, failure)) return false;
    const int index = launcher_.Take(step_.cuda_visible_devices);
    StepServer* server = launcher_.Server(step_.cuda_visible_devices, index);
    const fs::path home = launcher_.home_ / fmt::format("step-server-{}-gpu{}-{}", getpid(),
                                                        step_.cuda_visible_devices, index);
    MakeStepDir(home);
    Step server_step{"step-server", home, "", 0, std::nullopt, {}, step_.cuda_visible_devices};
    SubprocessOptions start = StepProcessOptions(server_step, launcher_.options_);
    start.argv = WorkerArgv(launcher_.options_, {"--serve"});
    start.stdout_path.clear();

    const auto began = std::chrono::steady_clock::now();
    std::string reply;
    std::string why;
    const StepServer::Outcome outcome = server->Run(start, line, step_.timeout_s, &reply, &why);
    launcher_.Give(step_.cuda_visible_devices, index);
    const double wall_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
    const std::string stderr_tail = TailOfFile(start.stderr_path, kStepTailBytes);
    switch (outcome) {
      case StepServer::Outcome::kUnavailable:
        server->CountFallback();
        return Fresh(request, result, failure);
      case StepServer::Outcome::kTimedOut:
        *failure = StepFailure(Status::kTimeout, "run",
                               fmt::format("{}killed after the {:.0f} s job timeout (--timeout)",
                                           StepPrefix(step_), step_.timeout_s),
                               stderr_tail);
        failure->wall_s = wall_s;
        return false;
      case StepServer::Outcome::kInterrupted:
        *failure = StepFailure(Status::kCrashed, "run", "interrupted by the user", stderr_tail);
        return false;
      case StepServer::Outcome::kDone:
        break;
    }
    if (reply != "done") {  // the server's reason for writing no result
      *failure = StepFailure(
          Status::kCrashed, "run",
          fmt::format("{}the step server wrote no result: {}", StepPrefix(step_), reply),
          stderr_tail);
      return false;
    }
    if (!ReadStepResult(step_, 0, stderr_tail, result, failure)) return false;
    failure->wall_s = wall_s;
    return true;
  }

 private:
  bool Fresh(const nlohmann::json& request, nlohmann::json* result, JobResult* failure) {
    return launcher_.fresh_.Claim(step_)->Run(request, result, failure);
  }

  ServerLauncher& launcher_;
  Step step_;
};

ServerLauncher::ServerLauncher(const WorkerOptions& options, fs::path home, int per_gpu)
    : options_(options), home_(std::move(home)), per_gpu_(std::max(1, per_gpu)), fresh_(options) {}

std::unique_ptr<StepSlot> ServerLauncher::Claim(const Step& step) {
  return std::make_unique<ServerSlot>(*this, step);
}

int ServerLauncher::Take(const std::string& devices) {
  std::unique_lock<std::mutex> lock(mutex_);
  Servers& servers = servers_[devices];
  if (servers.idle.empty() && static_cast<int>(servers.all.size()) < per_gpu_) {
    servers.all.push_back(std::make_unique<StepServer>());
    return static_cast<int>(servers.all.size()) - 1;
  }
  idle_.wait(lock, [&] { return !servers.idle.empty(); });
  const int index = servers.idle.back();
  servers.idle.pop_back();
  return index;
}

StepServer* ServerLauncher::Server(const std::string& devices, int index) {
  std::lock_guard<std::mutex> lock(mutex_);
  return servers_[devices].all[static_cast<size_t>(index)].get();
}

void ServerLauncher::Give(const std::string& devices, int index) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    servers_[devices].idle.push_back(index);
  }
  idle_.notify_all();
}

int ServerLauncher::starts() const {
  std::lock_guard<std::mutex> lock(mutex_);
  int total = 0;
  for (const auto& [devices, servers] : servers_) {
    for (const auto& server : servers.all) total += server->starts();
  }
  return total;
}

int ServerLauncher::fallbacks() const {
  std::lock_guard<std::mutex> lock(mutex_);
  int total = 0;
  for (const auto& [devices, servers] : servers_) {
    for (const auto& server : servers.all) total += server->fallbacks();
  }
  return total;
}

}  // namespace tritonize
