#include "core/task_lint.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "core/task_suite.h"

namespace tritonize {
namespace {

namespace fs = std::filesystem;

TaskSuite Shipped() {
  TaskSuite suite;
  std::vector<std::string> errors;
  EXPECT_TRUE(TaskSuite::Load(fs::path(TRITONIZE_SOURCE_DIR) / "tasks", &suite, &errors));
  return suite;
}

TEST(TaskLintTest, EveryShippedTaskFitsAnH100AndCi) {
  const TaskSuite suite = Shipped();
  ASSERT_GE(suite.tasks().size(), 12u);
  for (const auto& task : suite.tasks()) {
    for (const auto& finding : LintSizes(task, 80.0 * (1LL << 30))) {
      EXPECT_NE(finding.result, "FAIL") << task.name << " " << finding.check << ": " << finding.detail;
    }
  }
}

TEST(TaskLintTest, InputBytesFollowShapesListsAndFormulas) {
  const TaskSuite suite = Shipped();
  double bytes = 0;
  std::string err;
  // grouped_gemm at 1024x128x32: A_i of (1024 / 2^i) x 32, four B of 32 x 128, float16.
  ASSERT_TRUE(InputBytes(*suite.Find("grouped_gemm"), "1024x128x32", 0, &bytes, &err)) << err;
  EXPECT_DOUBLE_EQ(bytes, ((1024 + 512 + 256 + 128) * 32 + 4 * 32 * 128) * 2.0);
  // matmul at 2x3x4 in float64: a is 2x4, b is 4x3.
  ASSERT_TRUE(InputBytes(*suite.Find("matmul"), "2x3x4", 8, &bytes, &err)) << err;
  EXPECT_DOUBLE_EQ(bytes, (8 + 12) * 8.0);
}

TEST(TaskLintTest, PeakBytesCountTheScoresOfTheAttentionBaseline) {
  const TaskSuite suite = Shipped();
  double bytes = 0;
  std::string err;
  ASSERT_TRUE(ReferenceBytes(*suite.Find("attention"), "4x32x4096x64", &bytes, &err)) << err;
  // 4 * Z*H*N*N * 4 bytes in float16 terms, float64 being twice float32's width (64 GiB), made
  // one of Z = 4 batch indices at a time (reference_slices): 16 GiB.
  EXPECT_NEAR(bytes / (1LL << 30), 4.0 * 4 * 32 * 4096 * 4096 * 8 / 4 / (1LL << 30), 1e-6);
}

TEST(TaskLintTest, AReferenceMadeInSlicesHoldsOneSlicesPeak) {
  const TaskSuite suite = Shipped();
  Task whole = *suite.Find("attention");
  whole.manifest.erase("reference_slices");
  double sliced_bytes = 0, whole_bytes = 0;
  std::string err;
  ASSERT_TRUE(ReferenceBytes(*suite.Find("attention"), "4x32x4096x128", &sliced_bytes, &err))
      << err;
  ASSERT_TRUE(ReferenceBytes(whole, "4x32x4096x128", &whole_bytes, &err)) << err;
  EXPECT_DOUBLE_EQ(whole_bytes, 4 * sliced_bytes);  // Z = 4
  // At Z = 1 the slice is the whole.
  ASSERT_TRUE(ReferenceBytes(*suite.Find("attention"), "1x5x1152x64", &sliced_bytes, &err)) << err;
  ASSERT_TRUE(ReferenceBytes(whole, "1x5x1152x64", &whole_bytes, &err)) << err;
  EXPECT_DOUBLE_EQ(whole_bytes, sliced_bytes);
}

TEST(TaskLintTest, AJobsGpuMemoryIsTheBaselinesPeakAndForTheTasksFirstJobItsReference) {
  const TaskSuite suite = Shipped();
  const Task& attention = *suite.Find("attention");
  // The largest check size, 4x32x4096x128: peak_bytes 4 * Z*H*N*N * 4; the reference twice that,
  // made one of Z = 4 batch indices at a time (reference_slices): half of it.
  const double peak = 4.0 * 4 * 32 * 4096 * 4096 * 4;
  for (const ImplKind pytorch : {ImplKind::kBaseline, ImplKind::kCompile}) {
    EXPECT_DOUBLE_EQ(JobGpuBytes(attention, pytorch, false), peak);
    EXPECT_DOUBLE_EQ(JobGpuBytes(attention, pytorch, true), peak + peak / 2);
  }
  // A kernel holds no score matrices: four copies of the inputs (q, k, v: 3 x 4x32x4096x128
  // float16) and two of the output (cost.forward.bytes less the inputs: one more such tensor),
  // besides the task's reference for the first job.
  const double tensor = 4.0 * 32 * 4096 * 128 * 2;
  for (const ImplKind kernel : {ImplKind::kExpert, ImplKind::kLlm, ImplKind::kCandidate}) {
    EXPECT_DOUBLE_EQ(JobGpuBytes(attention, kernel, false), 4 * 3 * tensor + 2 * tensor);
    EXPECT_DOUBLE_EQ(JobGpuBytes(attention, kernel, true), 14 * tensor + peak / 2);
  }
  // No peak_bytes: four copies of the inputs and two of the outputs, whatever the kind; softmax's
  // one output is as large as its one input (cost.forward.bytes 2 * M * N * 4).
  const Task& softmax = *suite.Find("softmax");
  double most = 0;
  for (const auto& size : softmax.check_sizes) {
    double bytes = 0;
    std::string err;
    ASSERT_TRUE(InputBytes(softmax, size, 0, &bytes, &err)) << err;
    most = std::max(most, bytes);
  }
  for (const ImplKind kind : kAllImplKinds) {
    EXPECT_DOUBLE_EQ(JobGpuBytes(softmax, kind, false), 6 * most);
    EXPECT_DOUBLE_EQ(JobGpuBytes(softmax, kind, true), 6 * most + 3 * 2 * most);  // float64
  }
}

TEST(TaskLintTest, ALargeCheckSizeIsOneCaseAndTheOthersEveryWay) {
  const TaskSuite suite = Shipped();
  const Task& attention = *suite.Find("attention");
  // 3 x 4x32x4096x128 float16 inputs (384 MiB) are over the schema's 256 MiB: one case. At
  // 4x32x1024x64 (24 MiB): two seeds, the manifest's draw, one distribution and the hidden one.
  EXPECT_TRUE(CheckedOnce(attention, "4x32x4096x128"));
  EXPECT_EQ(CheckCasesAt(attention, "4x32x4096x128", 3, true), 1);
  EXPECT_EQ(CheckCasesAt(attention, "4x32x1024x64", 3, true), 9);
  EXPECT_EQ(CheckCasesAt(attention, "4x32x1024x64", 2, false), 4);  // no run seed: no hidden draw
  // A task without distributions: its seeds.
  EXPECT_EQ(CheckCasesAt(*suite.Find("vector_add"), "1048576", 3, true), 3);
}

TEST(TaskLintTest, AJobsDiskIsItsOutputsAndForTheTasksFirstJobItsReference) {
  const TaskSuite suite = Shipped();
  const Task& vector_add = *suite.Find("vector_add");  // forward only, float32 x and y
  const std::vector<std::string> sizes = {"1048576", "134217728"};
  // 1048576: 2 cases (two seeds) of 8 MiB of inputs; 134217728: one case of 1 GiB. Outputs: what
  // the manifest's cost (3 N float32s read and written) has beyond the inputs (2 N), half of them a
  // case; once more for the first seed's case (the determinism guard's second call) and once more
  // at the last size (the late check). The reference: the outputs in float64.
  const double small = 2 * 1048576.0 * 4;
  const double large = 2 * 134217728.0 * 4;
  const double outputs = ((2 + 1) * small + (1 + 1) * large + large) / 2;
  EXPECT_DOUBLE_EQ(JobDiskBytes(vector_add, {sizes, 2, false}, false), outputs);
  EXPECT_DOUBLE_EQ(JobDiskBytes(vector_add, {sizes, 2, false}, true),
                   outputs + 2 * (2 * small + large) / 2);
  // A random op's output is checked by its properties: two more calls a case (properties.py).
  const Task& dropout = *suite.Find("dropout");
  const double x = 1048576.0 * 4;
  // With a run seed: three seeds (the hidden one), three draws (the manifest's, p_high, the hidden
  // variant): 9 cases, 3 of them the first seed's.
  EXPECT_DOUBLE_EQ(JobDiskBytes(dropout, {{"1048576"}, 3, true}, false), (9 * (1 + 2) + 3) * x + x);
  // Its reference stores none of them: no value of a random op's output is compared.
  EXPECT_DOUBLE_EQ(JobDiskBytes(dropout, {{"1048576"}, 3, true}, true),
                   JobDiskBytes(dropout, {{"1048576"}, 3, true}, false));
}

// A bfloat16 task's reference is stored as float32 (the schema's reference.narrow_bytes): twice its
// outputs' bytes on the disk, not four times.
TEST(TaskLintTest, ANarrowTasksReferenceIsCountedAsFloat32) {
  const TaskSuite suite = Shipped();
  const Task& rms_norm = *suite.Find("rms_norm");  // bfloat16 x[M, N] and weight[N], both modes
  const double m = 64, n = 128;
  // Two seeds, the manifest's draw and two distributions: 6 cases. The forward's output: its cost's
  // bytes beyond the inputs (M N bfloat16s); the backward's: as large as the inputs.
  const double inputs = (m * n + n) * 2;
  const double forward = (2 * m * n * 2 + n * 2) - inputs;
  const double reference = 6 * (forward + inputs) * 2;
  const CheckPlanShape plan{{"64x128"}, 2, false};
  EXPECT_DOUBLE_EQ(JobDiskBytes(rms_norm, plan, true) - JobDiskBytes(rms_norm, plan, false),
                   reference);
  double stored = 0;
  std::string err;
  ASSERT_TRUE(InputBytes(rms_norm, "64x128", kReferenceStored, &stored, &err)) << err;
  EXPECT_DOUBLE_EQ(stored, 2 * inputs);
}

TEST(TaskLintTest, TooLargeForTheGpuOrTheInterpreterFails) {
  const TaskSuite suite = Shipped();
  Task attention = *suite.Find("attention");
  auto found = LintSizes(attention, 16.0 * (1LL << 30));
  ASSERT_FALSE(found.empty());
  EXPECT_EQ(found[0].check, "memory");
  EXPECT_EQ(found[0].result, "FAIL") << found[0].detail;
  EXPECT_NE(found[0].detail.find("at 4x32x4096x"), std::string::npos) << found[0].detail;

  Task matmul = *suite.Find("matmul");
  matmul.interpret_check_sizes = {"2048x2048x2048"};
  found = LintSizes(matmul, 80.0 * (1LL << 30));
  ASSERT_EQ(found.size(), 3u);
  EXPECT_EQ(found[2].check, "interpreter_sizes");
  EXPECT_EQ(found[2].result, "FAIL");
  EXPECT_NE(found[2].detail.find("2048x2048x2048"), std::string::npos) << found[2].detail;
}

TEST(TaskLintTest, ATaskTheInterpreterCannotRunSaysWhy) {
  const TaskSuite suite = Shipped();
  const auto found = LintSizes(*suite.Find("asin"), 80.0 * (1LL << 30));
  ASSERT_EQ(found.size(), 3u);
  EXPECT_EQ(found[2].result, "skipped");
  EXPECT_NE(found[2].detail.find("libdevice"), std::string::npos);
}

// The lint says what a job of the task writes to the scratch disk, with a run's hidden seed and a
// hidden size as large as the largest check size: the figures the runner's disk admission counts.
TEST(TaskLintTest, TheScratchDiskAJobNeedsIsReported) {
  const TaskSuite suite = Shipped();
  const Task& vector_add = *suite.Find("vector_add");
  const auto found = LintSizes(vector_add, 80.0 * (1LL << 30));
  ASSERT_GE(found.size(), 2u);
  EXPECT_EQ(found[1].check, "scratch_disk");
  EXPECT_EQ(found[1].result, "info");
  std::vector<std::string> sizes = vector_add.check_sizes;
  sizes.push_back("134217728");  // the largest, standing for the hidden size
  const double outputs =
      JobDiskBytes(vector_add, {sizes, static_cast<int>(vector_add.seeds.size()) + 1, true}, false);
  EXPECT_NE(found[1].detail.find(fmt::format("{:.1f} GiB of outputs", outputs / (1 << 30))),
            std::string::npos)
      << found[1].detail;
}

}  // namespace
}  // namespace tritonize
