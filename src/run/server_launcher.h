#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "exec/step_server.h"
#include "run/launcher.h"

namespace tritonize {

/// Trusted steps (the reference and the compare step, which never import candidate code) in
/// long-lived workers (`python -m tritonize_worker --serve`, exec/step_server.h): a run pays
/// for starting Python and importing torch once per server, not once per step. `per_gpu`
/// servers per GPU (a step goes to a free one of its step's GPU); a step a server cannot take
/// (it would not start, or died without answering) runs in a fresh process after all.
class ServerLauncher : public Launcher {
 public:
  ServerLauncher(const WorkerOptions& options, std::filesystem::path home, int per_gpu);
  std::unique_ptr<StepSlot> Claim(const Step& step) override;
  std::string_view name() const override { return "server"; }

  /// Server processes started, and steps that fell back to a fresh process, over all servers.
  int starts() const;
  int fallbacks() const;

 private:
  friend class ServerSlot;
  struct Servers {  // one GPU's
    std::vector<std::unique_ptr<StepServer>> all;
    std::vector<int> idle;  // indices into all
  };
  /// An idle server of that GPU (a new one while there are fewer than per_gpu), waiting for one.
  int Take(const std::string& devices);
  StepServer* Server(const std::string& devices, int index);
  void Give(const std::string& devices, int index);

  const WorkerOptions& options_;
  std::filesystem::path home_;
  int per_gpu_;
  ProcessLauncher fresh_;
  mutable std::mutex mutex_;
  std::condition_variable idle_;
  std::map<std::string, Servers> servers_;  // by CUDA_VISIBLE_DEVICES
};

}  // namespace tritonize
