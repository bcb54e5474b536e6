#include "run/launcher.h"

#include "run/job.h"

namespace tritonize {
namespace {

namespace fs = std::filesystem;

class ProcessSlot : public StepSlot {
 public:
  ProcessSlot(Step step, const WorkerOptions& options)
      : step_(FreshProcessStep(std::move(step), options)), options_(options) {}
  const fs::path& dir() const override { return step_.dir; }
  std::string sandbox() const override { return sandbox_; }

  bool Run(const nlohmann::json& request, nlohmann::json* result, JobResult* failure) override {
    if (!WriteStepRequest(step_, request, failure)) return false;
    SubprocessOptions sub = StepProcessOptions(step_, options_);
    sub.argv = StepArgv(step_, options_);
    const SubprocessResult run = RunSubprocess(sub);
    sandbox_ = run.sandbox;
    return StepResultOf(step_, run, options_, result, failure);
  }

 private:
  Step step_;
  const WorkerOptions& options_;
  std::string sandbox_;
};

}  // namespace

Step FreshProcessStep(Step step, const WorkerOptions& options) {
  if (step.dir.empty()) step.dir = NewJobDir(options, step.label);
  if (step.sandbox) {
    auto& writable = step.sandbox->writable;
    writable.insert(writable.begin(), step.dir);
  }
  MakeStepDir(step.dir);
  return step;
}

std::unique_ptr<StepSlot> ProcessLauncher::Claim(const Step& step) {
  return std::make_unique<ProcessSlot>(step, options_);
}

}  // namespace tritonize
