#include "run/launcher.h"

#include "run/job.h"

namespace tritonize {
namespace {

namespace fs = std::filesystem;

class ProcessSlot : public StepSlot {
 public:
  ProcessSlot(Step step, const WorkerOptions& options) : step_(std::move(step)), options_(options) {
    if (step_.dir.empty()) step_.dir = NewJobDir(options_, step_.label);
    if (step_.sandbox) {
      auto& writable = step_.sandbox->writable;
      writable.insert(writable.begin(), step_.dir);
    }
    std::error_code ec;
    fs::create_directories(step_.dir / "triton-cache", ec);
  }
  const fs::path& dir() const override { return step_.dir; }
  std::string sandbox() const override { return sandbox_; }

  bool Run(const nlohmann::json& request, nlohmann::json* result, JobResult* failure) override {
    if (!WriteStepRequest(step_, request, failure)) return false;
    SubprocessOptions sub = StepProcessOptions(step_, options_);
    sub.argv = {options_.python,         "-m",     "tritonize_worker", "--request",
                StepRequestPath(step_).string(), "--result", StepResultPath(step_).string()};
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

std::unique_ptr<StepSlot> ProcessLauncher::Claim(const Step& step) {
  return std::make_unique<ProcessSlot>(step, options_);
}

}  // namespace tritonize
