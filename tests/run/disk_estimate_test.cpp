// The scratch disk estimate (core/task_lint.h JobDiskBytes) against what the real worker writes:
// each task's baseline job runs under the Triton interpreter with a run seed (so with the hidden
// size, seed and draw), its outputs kept, and the files it left are measured. On the H200
// (2026-12-04) an estimate that left out the hidden size and seed and the property checks' calls
// let a suite run fill the disk.
#include <gtest/gtest.h>

#include <cstdlib>

#include "../support/test_dir.h"
#include "core/candidates.h"
#include "core/task_lint.h"
#include "core/task_suite.h"
#include "run/job.h"
#include "run/launcher.h"

namespace tritonize {
namespace {

namespace fs = std::filesystem;

class DiskEstimateTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    const char* python = std::getenv("TRITONIZE_PYTHON");
    if (python == nullptr || *python == '\0') {
      GTEST_SKIP() << "TRITONIZE_PYTHON is not set (scripts/test.sh sets it): needs torch+triton";
    }
    dir_ = FreshTestDir("disk_estimate");
    std::vector<std::string> errors;
    ASSERT_TRUE(TaskSuite::Load(fs::path(TRITONIZE_SOURCE_DIR) / "tasks", &suite_, &errors));
    options_.python = python;
    options_.package_dir = fs::path(TRITONIZE_SOURCE_DIR) / "python";
    options_.scratch_dir = dir_ / "scratch" / "jobs";
    fs::create_directories(options_.scratch_dir);
    options_.interpret = true;
    options_.timing = false;
    options_.run_seed = 20261204;
    options_.timeout_s = 300;
    options_.sandbox.mode = SandboxMode::kOff;
    setenv("TRITONIZE_KEEP_OUTPUTS", "1", 1);
  }
  void TearDown() override {
    unsetenv("TRITONIZE_KEEP_OUTPUTS");
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  /// Bytes of the tensor files under the test's folder: the candidate's outputs, or the rest
  /// (the task's reference).
  double FileBytes(bool outputs) const {
    double total = 0;
    for (const auto& entry : fs::recursive_directory_iterator(dir_)) {
      if (!entry.is_regular_file()) continue;
      const std::string name = entry.path().filename().string();
      if (name.find(".safetensors") == std::string::npos) continue;
      if ((name.rfind("outputs.safetensors", 0) == 0) == outputs) {
        total += static_cast<double>(entry.file_size());
      }
    }
    return total;
  }

  fs::path dir_;
  TaskSuite suite_;
  WorkerOptions options_;
};

TEST_P(DiskEstimateTest, TheEstimateBoundsTheFilesABaselineJobWritesWithoutFarExceedingThem) {
  const Task& task = *suite_.Find(GetParam());
  ProcessLauncher launcher(options_);
  ReferenceCache references;
  JobContext context;
  context.options = &options_;
  context.candidate = context.trusted = &launcher;
  context.references = &references;
  const JobResult result = RunJob(task, BaselineImplementation(task), context);
  ASSERT_EQ(result.status, Status::kOk) << result.message;

  const CheckPlanShape plan{CheckSizesFor(task, options_),
                            static_cast<int>(CheckSeedsFor(task, options_).size()), true};
  const double outputs = JobDiskBytes(task, plan, false);
  const double reference = JobDiskBytes(task, plan, true) - outputs;
  // Each file's header (its tensors' names and shapes) is no more than a few kilobytes.
  constexpr double kHeaders = 64 * 1024;
  EXPECT_GT(FileBytes(true), 0);
  EXPECT_LE(FileBytes(true), outputs + kHeaders) << "outputs, estimate " << outputs;
  EXPECT_LE(FileBytes(false), reference + kHeaders) << "reference, estimate " << reference;
  // Not so far over that the admission needlessly keeps jobs waiting.
  EXPECT_GE(4 * FileBytes(true), outputs);
}

// Every shipped task the interpreter runs: forward only; forward and backward with outputs smaller
// than the inputs (cross_entropy's is a scalar); a random op with its property checks' calls;
// matrix products, whose outputs may be larger than their inputs; lists of tensors.
INSTANTIATE_TEST_SUITE_P(Tasks, DiskEstimateTest,
                         ::testing::Values("softmax", "layernorm", "matmul", "matmul_fp8",
                                           "vector_add", "asin", "dropout", "cross_entropy",
                                           "rms_norm", "swiglu", "geglu", "rope", "attention",
                                           "attention_noncausal", "grouped_gemm"));

}  // namespace
}  // namespace tritonize
