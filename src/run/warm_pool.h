#pragma once

#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "exec/subprocess.h"
#include "run/launcher.h"

namespace tritonize {

/// Pre-started candidate processes (`python -m tritonize_worker --warm`): each starts Python,
/// imports torch and Triton and sets up CUDA while other jobs run, then waits for one request on
/// its stdin, runs that one step and exits, so no job waits for an import and a candidate still
/// has a process of its own (docs/runner.md). Each was started in its sandbox with a folder of
/// its own, which its job then uses.
///
/// Processes are kept ready per GPU and trust (trusted code shares compiler caches across its
/// repeats, so its processes may write under the caches' folder, and learn which cache with the
/// request; candidate code may not): `per_key` of each kind once one was asked for. A step that
/// finds none ready (or a ready one died) runs in a fresh process.
class WarmPool : public Launcher {
 public:
  WarmPool(const WorkerOptions& options, int per_key);
  ~WarmPool() override;
  std::unique_ptr<StepSlot> Claim(const Step& step) override;
  std::string_view name() const override { return "warm"; }

  /// Starts `per_key` processes for steps like `step` now (before the first job needs them).
  void Prime(const Step& step);
  /// Whether `dir` is the folder of a process kept ready (started, not yet claimed): one that
  /// clears a scratch folder between jobs (serve's lanes) leaves it.
  bool Holds(const std::filesystem::path& dir) const;
  /// While a job runs alone on a GPU after running out of its memory beside others (run/runner.h),
  /// no process waits ready there: each holds a CUDA context (520-870 MiB on an H100, 2026-12-06:
  /// eleven of them held 6.7 GiB beside attention's float64 reference, "alone"). Ends the ready
  /// processes of steps on `devices` (their folders go with them) and starts none there until
  /// Resume(devices); a step claimed meanwhile runs in a fresh process. Returns how many it ended.
  int Pause(const std::string& devices);
  void Resume(const std::string& devices);
  /// Claims served by a pre-started process, and by a fresh one.
  int warm_claims() const;
  int fresh_claims() const;

 private:
  friend class WarmSlot;
  struct Warm {
    std::unique_ptr<StartedSubprocess> child;
    Step step;  // its folder, sandbox and caches
  };
  static std::string Key(const Step& step);
  /// Starts one process for steps like `like`; false if it could not start.
  bool Spawn(const Step& like, std::deque<Warm>* ready);

  const WorkerOptions& options_;
  int per_key_;
  ProcessLauncher fresh_;
  mutable std::mutex mutex_;
  std::map<std::string, std::deque<Warm>> ready_;
  std::map<std::string, int> paused_;  // devices -> Pause calls not yet resumed
  int warm_claims_ = 0;
  int fresh_claims_ = 0;
};

}  // namespace tritonize
