#include "run/warm_pool.h"

#include <fmt/format.h>

#include <vector>

#include "run/job.h"

namespace tritonize {

namespace fs = std::filesystem;

/// The ready marker a pre-started worker writes once its imports are done: a process that ends
/// without a result before writing it failed to start, which is not its job's fault.
constexpr const char* kReadyFile = "warm-ready";

class WarmSlot : public StepSlot {
 public:
  WarmSlot(WarmPool& pool, WarmPool::Warm warm, Step asked)
      : pool_(pool), warm_(std::move(warm)), asked_(std::move(asked)) {
    // The job's timeout and step name; the process's folder, sandbox and caches.
    warm_.step.timeout_s = asked_.timeout_s;
  }
  const fs::path& dir() const override { return warm_.step.dir; }
  std::string sandbox() const override { return warm_.child->sandbox(); }

  bool Run(const nlohmann::json& request, nlohmann::json* result, JobResult* failure) override {
    const Step& step = warm_.step;
    if (!WriteStepRequest(step, request, failure)) return false;
    const std::string line = StepRequestPath(step).string() + "\t" + StepResultPath(step).string();
    if (line.find('\n') != std::string::npos || !warm_.child->Send(line + "\n")) {
      return Fresh(request, result, failure);
    }
    const SubprocessResult run = warm_.child->Wait(step.timeout_s);
    std::error_code ec;
    const bool answered = fs::exists(StepResultPath(step), ec);
    if (!answered && !run.timed_out && !run.interrupted && !fs::exists(step.dir / kReadyFile, ec)) {
      // It died while still starting (an import, CUDA): the step runs afresh, blamed on nothing.
      return Fresh(request, result, failure);
    }
    return StepResultOf(step, run, pool_.options_, result, failure);
  }

 private:
  bool Fresh(const nlohmann::json& request, nlohmann::json* result, JobResult* failure) {
    Step step = asked_;
    step.dir = warm_.step.dir;  // the request names files there
    step.sandbox = warm_.step.sandbox;
    std::unique_ptr<StepSlot> slot = pool_.fresh_.Claim(step);
    return slot->Run(request, result, failure);
  }

  WarmPool& pool_;
  WarmPool::Warm warm_;
  Step asked_;
};

WarmPool::WarmPool(const WorkerOptions& options, int per_key)
    : options_(options), per_key_(per_key), fresh_(options) {}

WarmPool::~WarmPool() {
  std::lock_guard<std::mutex> lock(mutex_);
  ready_.clear();  // each StartedSubprocess kills its process group
}

std::string WarmPool::Key(const Step& step) {
  std::string key = step.name + "|" + step.cuda_visible_devices + "|" +
                    (step.cache_dir.empty() ? "untrusted" : "trusted");
  if (step.sandbox) key += "|" + step.sandbox->no_filesystem;
  return key;
}

bool WarmPool::Spawn(const Step& like, std::deque<Warm>* ready) {
  if (paused_.count(like.cuda_visible_devices) > 0) return false;
  Warm warm;
  warm.step = like;
  warm.step.dir = NewJobDir(options_, "warm");
  warm.step.label = "warm";
  warm.step.cache_dir.clear();  // its own, until the request names the implementation's
  if (warm.step.sandbox) {
    auto& writable = warm.step.sandbox->writable;
    writable.clear();
    writable.push_back(warm.step.dir);
    // Trusted code's caches are shared by its repeats: any of them, under their folder.
    if (!like.cache_dir.empty()) writable.push_back(like.cache_dir.parent_path());
  }
  MakeStepDir(warm.step.dir);
  SubprocessOptions sub = StepProcessOptions(warm.step, options_);
  sub.argv = WorkerArgv(options_, {"--warm", (warm.step.dir / kReadyFile).string()});
  sub.timeout_s = 0;
  warm.child = std::make_unique<StartedSubprocess>();
  std::string err;
  if (!warm.child->Start(sub, &err)) return false;
  ready->push_back(std::move(warm));
  return true;
}

void WarmPool::Prime(const Step& step) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto& ready = ready_[Key(step)];
  while (static_cast<int>(ready.size()) < per_key_ && Spawn(step, &ready)) {
  }
}

std::unique_ptr<StepSlot> WarmPool::Claim(const Step& step) {
  std::unique_lock<std::mutex> lock(mutex_);
  auto& ready = ready_[Key(step)];
  while (!ready.empty()) {
    Warm warm = std::move(ready.front());
    ready.pop_front();
    if (!warm.child->Running()) continue;  // died waiting (its folder stays, with its log)
    ++warm_claims_;
    // A replacement starts now, while this one runs its step.
    while (static_cast<int>(ready.size()) < per_key_ && Spawn(step, &ready)) {
    }
    lock.unlock();
    return std::make_unique<WarmSlot>(*this, std::move(warm), step);
  }
  ++fresh_claims_;
  while (static_cast<int>(ready.size()) < per_key_ && Spawn(step, &ready)) {
  }
  lock.unlock();
  return fresh_.Claim(step);
}

int WarmPool::Pause(const std::string& devices) {
  std::vector<Warm> ended;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ++paused_[devices];
    for (auto& [key, ready] : ready_) {
      for (auto it = ready.begin(); it != ready.end();) {
        if (it->step.cuda_visible_devices == devices) {
          ended.push_back(std::move(*it));
          it = ready.erase(it);
        } else {
          ++it;
        }
      }
    }
  }
  // Outside the lock: each ends its process group and waits for it (the driver frees a context
  // when its process has gone), then its folder goes.
  for (Warm& warm : ended) {
    warm.child.reset();
    std::error_code ec;
    fs::remove_all(warm.step.dir, ec);
  }
  return static_cast<int>(ended.size());
}

void WarmPool::Resume(const std::string& devices) {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto found = paused_.find(devices);
  if (found != paused_.end() && --found->second <= 0) paused_.erase(found);
}

bool WarmPool::Holds(const fs::path& dir) const {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& [key, ready] : ready_) {
    for (const Warm& warm : ready) {
      if (warm.step.dir == dir) return true;
    }
  }
  return false;
}

int WarmPool::warm_claims() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return warm_claims_;
}

int WarmPool::fresh_claims() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return fresh_claims_;
}

}  // namespace tritonize
