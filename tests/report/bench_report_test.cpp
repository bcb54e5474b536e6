#include "report/bench_report.h"

#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "report/csv_printer.h"
#include "report/grid.h"
#include "report/table_printer.h"
#include "report_fixtures.h"

namespace tritonize {
namespace {

using namespace testing_fixtures;

TEST(BenchReportTest, SpeedupsAreRatiosOfKernelMedians) {
  const Task task = SoftmaxTask();
  const JobResult base = TimedJob(task, {20, 40, 80});
  const JobResult expert = TimedJob(task, {10, 20, 40});
  const JobResult llm = TimedJob(task, {12.5, 10, 80});
  const TaskTable table = BuildTaskTable(task, &base, &expert, &llm, "claude-x");
  ASSERT_EQ(table.rows.size(), 3u);
  const Row& row = table.rows[0];
  EXPECT_EQ(row.size, "1024x1024");
  EXPECT_EQ(row.mode, "forward");
  ASSERT_TRUE(row.baseline.kernel_us.has_value());
  EXPECT_DOUBLE_EQ(row.baseline.kernel_us->median, 20.0);
  EXPECT_DOUBLE_EQ(*row.expert_over_base, 2.0);
  EXPECT_DOUBLE_EQ(*row.llm_over_base, 1.6);
  EXPECT_DOUBLE_EQ(*row.llm_over_expert, 0.8);
  EXPECT_DOUBLE_EQ(*table.rows[1].llm_over_expert, 2.0);
  EXPECT_DOUBLE_EQ(*table.rows[2].llm_over_expert, 0.5);
  EXPECT_TRUE(table.notes.empty());
}

// A task with several experts: each row's Expert cell is the fastest ok one, named; the ratios
// are against it; each expert keeps its own cell and LLM ratio; a failed expert is noted under its
// own name and never chosen.
TEST(BenchReportTest, SeveralExpertsGiveTheFastestPerRowNamedAndEachItsOwnColumn) {
  const Task task = SoftmaxTask();
  const JobResult base = TimedJob(task, {20, 40, 80});
  const JobResult tutorial = TimedJob(task, {10, 20, 40});
  const JobResult liger = TimedJob(task, {5, 25, 40});
  const JobResult broken = FailedJob(Status::kWrongResult, "y off at 1024x1024");
  const JobResult llm = TimedJob(task, {10, 10, 80});
  TableInputs inputs;
  inputs.baseline = {&base};
  inputs.expert = {&tutorial};
  inputs.experts = {{"tutorial", {&tutorial}}, {"liger", {&liger}}, {"broken", {&broken}}};
  inputs.llm = {&llm};
  inputs.llm_name = "claude-x";
  const TaskTable table = BuildTaskTable(task, inputs);
  ASSERT_EQ(table.expert_names, (std::vector<std::string>{"tutorial", "liger", "broken"}));
  ASSERT_EQ(table.rows.size(), 3u);
  EXPECT_EQ(table.rows[0].expert_name, "liger");     // 5 < 10
  EXPECT_EQ(table.rows[1].expert_name, "tutorial");  // 20 < 25
  EXPECT_EQ(table.rows[2].expert_name, "tutorial");  // a tie keeps the first
  EXPECT_DOUBLE_EQ(table.rows[0].expert.kernel_us->median, 5.0);
  EXPECT_DOUBLE_EQ(*table.rows[0].llm_over_expert, 0.5);  // against liger, not the tutorial
  EXPECT_DOUBLE_EQ(*table.rows[0].expert_over_base, 4.0);
  ASSERT_EQ(table.rows[0].experts.size(), 3u);
  EXPECT_DOUBLE_EQ(*table.rows[0].llm_over_experts[0], 1.0);
  EXPECT_DOUBLE_EQ(*table.rows[0].llm_over_experts[1], 0.5);
  EXPECT_FALSE(table.rows[0].llm_over_experts[2].has_value());
  EXPECT_EQ(table.rows[0].experts[2].status, Status::kWrongResult);
  // LLM/Expert over the fastest: 0.5, 2.0, 0.5; against the tutorial alone: 1, 2, 0.5.
  EXPECT_NEAR(*table.geomean_llm_over_expert, std::cbrt(0.5), 1e-12);
  EXPECT_NEAR(*table.geomean_llm_over_experts[0], 1.0, 1e-12);
  EXPECT_EQ(table.notes,
            (std::vector<std::string>{"Expert (broken): wrong_result: y off at 1024x1024"}));

  const Grid kernel = KernelTimeGrid(table);
  EXPECT_EQ(kernel.header[2], "Expert (fastest)");
  EXPECT_EQ(kernel.header.back(), "Fastest expert");
  EXPECT_EQ(kernel.rows[0].back(), "liger");
  const Grid each = ExpertsGrid(table);
  EXPECT_EQ(each.header, (std::vector<std::string>{"Size", "Expert (tutorial)", "Expert (liger)",
                                                   "Expert (broken)", "LLM/tutorial", "LLM/liger",
                                                   "LLM/broken"}));
  EXPECT_EQ(each.rows[0][3], "wrong_result");
  EXPECT_EQ(each.rows.back()[0], "geomean");

  // CSV names the expert record's expert.
  BenchReport report;
  report.tables.push_back(table);
  std::ostringstream csv;
  PrintCsv(report, csv);
  EXPECT_NE(csv.str().find("softmax,,1024x1024,forward,expert,ok,"), std::string::npos)
      << csv.str();
  EXPECT_NE(csv.str().find(",liger\n"), std::string::npos) << csv.str();

  // One expert: the table is as it always was.
  TableInputs one = inputs;
  one.experts.clear();
  const TaskTable single = BuildTaskTable(task, one);
  EXPECT_TRUE(single.expert_names.empty());
  EXPECT_TRUE(single.rows[0].experts.empty());
  EXPECT_EQ(KernelTimeGrid(single).header[2], "Expert");
  EXPECT_FALSE(HasSeveralExperts(single));
}

TEST(BenchReportTest, GeomeansAreOverRowsWhereTheRatioIsDefined) {
  const Task task = SoftmaxTask();
  const JobResult base = TimedJob(task, {20, 40, 80});
  const JobResult expert = TimedJob(task, {10, 20, 40});
  JobResult llm = TimedJob(task, {5, 80, 1});
  llm.timings.pop_back();  // no 4096x4096 timing: that row's LLM ratios are undefined
  const TaskTable table = BuildTaskTable(task, &base, &expert, &llm, "claude-x");
  ASSERT_EQ(table.rows.size(), 3u);
  EXPECT_FALSE(table.rows[2].llm_over_expert.has_value());
  EXPECT_DOUBLE_EQ(*table.geomean_expert_over_base, 2.0);
  // LLM/Expert: 10/5 = 2 and 20/80 = 0.25 -> sqrt(0.5).
  EXPECT_NEAR(*table.geomean_llm_over_expert, std::sqrt(0.5), 1e-12);
  // LLM/Base: 20/5 = 4 and 40/80 = 0.5 -> sqrt(2).
  EXPECT_NEAR(*table.geomean_llm_over_base, std::sqrt(2.0), 1e-12);
}

TEST(BenchReportTest, OkJobMissingATimingGetsAnUnavailableCellAndANote) {
  const Task task = SoftmaxTask();
  const JobResult base = TimedJob(task, {20, 40, 80});
  JobResult expert = TimedJob(task, {10, 20, 40});
  expert.timings.erase(expert.timings.begin() + 1);
  const TaskTable table = BuildTaskTable(task, &base, &expert, nullptr, "");
  EXPECT_EQ(table.rows[1].expert.status, Status::kUnavailable);
  EXPECT_FALSE(table.rows[1].expert.kernel_us.has_value());
  EXPECT_FALSE(table.rows[1].expert_over_base.has_value());
  ASSERT_EQ(table.notes.size(), 2u);
  EXPECT_EQ(table.notes[0], "Expert: unavailable: no timing at 2048x2048 forward");
  EXPECT_EQ(table.notes[1], "LLM: unavailable: not requested");
}

TEST(BenchReportTest, FailedJobFillsEveryRowWithItsStatus) {
  const Task task = SoftmaxTask();
  const JobResult base = TimedJob(task, {20, 40, 80});
  const JobResult expert = TimedJob(task, {10, 20, 40});
  const JobResult llm =
      FailedJob(Status::kWrongResult, "y differs at 1823x781 seed 0 (523 of 1423763 elements)");
  const TaskTable table = BuildTaskTable(task, &base, &expert, &llm, "claude-x");
  ASSERT_EQ(table.rows.size(), 3u);
  for (const Row& row : table.rows) {
    EXPECT_EQ(row.llm.status, Status::kWrongResult);
    EXPECT_FALSE(row.llm.kernel_us.has_value());
    EXPECT_FALSE(row.llm.call_us.has_value());
    EXPECT_FALSE(row.llm_over_base.has_value());
    EXPECT_FALSE(row.llm_over_expert.has_value());
    EXPECT_TRUE(row.expert_over_base.has_value());
  }
  EXPECT_FALSE(table.geomean_llm_over_expert.has_value());
  ASSERT_EQ(table.notes.size(), 1u);
  EXPECT_EQ(table.notes[0],
            "LLM (claude-x): wrong_result: y differs at 1823x781 seed 0 (523 of 1423763 elements)");
}

TEST(BenchReportTest, NullJobIsAColumnNotRequested) {
  const Task task = SoftmaxTask();
  const JobResult base = TimedJob(task, {20, 40, 80});
  const JobResult llm = TimedJob(task, {10, 20, 40});
  const TaskTable table = BuildTaskTable(task, &base, nullptr, &llm, "m");
  for (const Row& row : table.rows) {
    EXPECT_EQ(row.expert.status, Status::kUnavailable);
    EXPECT_EQ(row.expert.message, "not requested");
    EXPECT_FALSE(row.llm_over_expert.has_value());
    EXPECT_TRUE(row.llm_over_base.has_value());
  }
  ASSERT_EQ(table.notes.size(), 1u);
  EXPECT_EQ(table.notes[0], "Expert: unavailable: not requested");
}

TEST(BenchReportTest, BackwardRowFollowsItsForwardRow) {
  const Task task = LayerNormTask();
  // TimedJob reports mode-major: 1024 fwd, 2048 fwd, 1024 bwd, 2048 bwd.
  const JobResult base = TimedJob(task, {10, 20, 30, 40});
  const TaskTable table = BuildTaskTable(task, &base, nullptr, nullptr, "");
  ASSERT_EQ(table.rows.size(), 4u);
  EXPECT_EQ(table.rows[0].size + " " + table.rows[0].mode, "1024x1024 forward");
  EXPECT_EQ(table.rows[1].size + " " + table.rows[1].mode, "1024x1024 backward");
  EXPECT_EQ(table.rows[2].size + " " + table.rows[2].mode, "2048x2048 forward");
  EXPECT_EQ(table.rows[3].size + " " + table.rows[3].mode, "2048x2048 backward");
  EXPECT_DOUBLE_EQ(table.rows[1].baseline.kernel_us->median, 30.0);
}

TEST(BenchReportTest, SizesTheManifestDoesNotListComeLast) {
  const Task task = SoftmaxTask();
  JobResult base;
  base.status = Status::kOk;
  base.timings = {MakeTiming("333x333", "forward", 5), MakeTiming("2048x2048", "forward", 6),
                  MakeTiming("1024x1024", "forward", 7)};
  const TaskTable table = BuildTaskTable(task, &base, nullptr, nullptr, "");
  ASSERT_EQ(table.rows.size(), 3u);
  EXPECT_EQ(table.rows[0].size, "1024x1024");
  EXPECT_EQ(table.rows[1].size, "2048x2048");
  EXPECT_EQ(table.rows[2].size, "333x333");
}

TEST(BenchReportTest, UntimedJobsGiveRowsFromTheirChecks) {
  const Task task = LayerNormTask();
  const JobResult base = CheckedJob(task);
  const JobResult llm = FailedJob(Status::kCompileError, "triton.compiler.errors.CompilationError");
  const TaskTable table = BuildTaskTable(task, &base, nullptr, &llm, "m");
  ASSERT_EQ(table.rows.size(), 2u);
  EXPECT_EQ(table.rows[0].size, "37x93");
  EXPECT_EQ(table.rows[1].mode, "backward");
  EXPECT_EQ(table.rows[0].baseline.status, Status::kOk);
  EXPECT_FALSE(table.rows[0].baseline.kernel_us.has_value());
  EXPECT_EQ(table.rows[1].llm.status, Status::kCompileError);
}

TEST(BenchReportTest, AllJobsFailedGivesTheTasksSizes) {
  const Task task = LayerNormTask();
  const JobResult crashed = FailedJob(Status::kCrashed, "worker killed by signal 9");
  const TaskTable table = BuildTaskTable(task, &crashed, &crashed, &crashed, "m");
  ASSERT_EQ(table.rows.size(), 4u);
  EXPECT_EQ(table.rows[3].size, "2048x2048");
  EXPECT_EQ(table.rows[3].mode, "backward");
  EXPECT_EQ(table.rows[3].expert.status, Status::kCrashed);
  EXPECT_EQ(table.notes.size(), 3u);
}

TEST(BenchReportTest, MultiLineMessageBecomesOneNoteLine) {
  const Task task = SoftmaxTask();
  const JobResult llm = FailedJob(Status::kRuntimeError, "CUDA error:\nillegal address");
  const TaskTable table = BuildTaskTable(task, nullptr, nullptr, &llm, "m");
  EXPECT_EQ(table.notes.back(), "LLM (m): runtime_error: CUDA error: illegal address");
}

TEST(BenchReportTest, LlmColumnName) {
  EXPECT_EQ(LlmColumnName(""), "LLM");
  EXPECT_EQ(LlmColumnName("claude-x"), "LLM (claude-x)");
}

}  // namespace
}  // namespace tritonize

namespace tritonize {
namespace {

Task CostedSoftmax() {
  Task task = testing_fixtures::SoftmaxTask();
  task.dims = {"M", "N"};
  task.cost["forward"] = CostFormula{"2 * M * N * 4", "5 * M * N"};
  task.manifest = {{"inputs", {{{"name", "x"}, {"kind", "tensor"}, {"dtype", "float32"}}}}};
  return task;
}

/// The table as the timed text report prints it.
std::string PrintedTimed(const TaskTable& table) {
  BenchReport report;
  report.timed = true;
  report.tables.push_back(table);
  std::ostringstream out;
  PrintTables(report, out);
  return out.str();
}

TEST(BenchReportTest, RooflineIsBytesOverTimeAgainstThePeak) {
  PeakLimits peaks;
  peaks.bandwidth_gb_s = 3352;
  peaks.tflops = 494.7;
  peaks.measured_gb_s = 3027;
  // 2048x2048 float32 read and written: 33.55 MB in 12.5 us = 2684 GB/s.
  const auto r = RooflineOf(CostedSoftmax(), "2048x2048", "forward", 12.5, peaks);
  ASSERT_TRUE(r.has_value());
  EXPECT_NEAR(r->gb_s, 2684.4, 0.1);
  EXPECT_TRUE(r->memory_bound);
  EXPECT_NEAR(r->pct_of_peak, 100 * 2684.4 / 3352, 0.1);
  EXPECT_NEAR(r->pct_of_measured, 100 * 2684.4 / 3027, 0.1);
  EXPECT_FALSE(r->impossible);
  EXPECT_FALSE(RooflineOf(CostedSoftmax(), "2048", "forward", 12.5, peaks).has_value());
}

TEST(BenchReportTest, AbovePeakIsImpossibleAndNeverAWin) {
  const Task task = CostedSoftmax();
  // The LLM "moves" 33.55 MB in 8 us (4194 GB/s > 3352): a measurement error, not a win.
  JobResult expert = testing_fixtures::TimedJob(task, {20, 20, 100});
  JobResult llm = testing_fixtures::TimedJob(task, {10, 8, 50});
  TableInputs inputs;
  inputs.expert = {&expert};
  inputs.llm = {&llm};
  inputs.peaks = PeakLimits{"H100", 3352, 494.7, 0, 0};
  const TaskTable table = BuildTaskTable(task, inputs);
  const Row& row = table.rows[1];
  ASSERT_TRUE(row.llm.roofline.has_value());
  EXPECT_TRUE(row.llm.roofline->impossible);
  ASSERT_TRUE(row.llm_over_expert_ci.has_value());
  EXPECT_TRUE(row.llm_over_expert_ci->impossible);
  EXPECT_FALSE(table.rows[0].llm_over_expert_ci->impossible);
}

// Measured on the H100: softmax 4096x4096 "moved" 3318 GB/s, 99% of the spec and 110% of the
// measured copy: below the spec, so not impossible, but marked, with the note under the table.
TEST(BenchReportTest, FasterThanTheMeasuredCopyIsMarkedButNotImpossible) {
  const Task task = CostedSoftmax();
  // 2048x2048: 33.55 MB in 10.5 us = 3196 GB/s (95% of 3352, 106% of 3025); 1024x1024 in 20 us.
  JobResult expert = testing_fixtures::TimedJob(task, {20, 10.5, 100});
  TableInputs inputs;
  inputs.expert = {&expert};
  inputs.peaks = PeakLimits{"H100", 3352, 494.7, 3025, 0};
  const TaskTable table = BuildTaskTable(task, inputs);
  ASSERT_TRUE(table.rows[1].expert.roofline.has_value());
  EXPECT_TRUE(table.rows[1].expert.roofline->above_ceiling);
  EXPECT_FALSE(table.rows[1].expert.roofline->impossible);
  EXPECT_FALSE(table.rows[0].expert.roofline->above_ceiling);
  EXPECT_EQ(AboveCeilingNotes(table), std::vector<std::string>{kAboveCopyCeilingNote});
  const std::string printed = PrintedTimed(table);
  EXPECT_NE(printed.find("3196 GB/s 95% [106%] ^"), std::string::npos) << printed;
  EXPECT_NE(printed.find(kAboveCopyCeilingNote), std::string::npos) << printed;
}

// Past 100% of the spec's bandwidth but short of the floor that leaves out the L2's 50 MiB
// (writes it may still hold when the kernel ends): marked, not impossible, and its ratios keep
// their verdicts. Below the floor: impossible.
TEST(BenchReportTest, AboveTheSpecBandwidthIsImpossibleOnlyBelowTheFloorThatLeavesOutTheL2) {
  const Task task = CostedSoftmax();
  // 4096x4096: 134.2 MB, 40.0 us at 3352 GB/s; the floor (134.2 MB - 50 MiB) / 3352 = 24.4 us.
  JobResult expert = testing_fixtures::TimedJob(task, {20, 20, 60});
  JobResult llm = testing_fixtures::TimedJob(task, {20, 20, 38});
  JobResult compile = testing_fixtures::TimedJob(task, {20, 20, 24});
  TableInputs inputs;
  inputs.expert = {&expert};
  inputs.llm = {&llm};
  inputs.compile = {&compile};
  inputs.peaks = PeakLimits{"H100", 3352, 494.7, 0, 0, 52428800};
  const TaskTable table = BuildTaskTable(task, inputs);
  const Row& row = table.rows[2];
  ASSERT_TRUE(row.llm.roofline.has_value() && row.compile.roofline.has_value());
  EXPECT_GT(row.llm.roofline->pct_of_peak, 100);
  EXPECT_FALSE(row.llm.roofline->impossible);
  EXPECT_TRUE(row.llm.roofline->above_ceiling);  // no calibration: marked against the spec
  ASSERT_TRUE(row.llm_over_expert_ci.has_value());
  EXPECT_FALSE(row.llm_over_expert_ci->impossible);
  EXPECT_TRUE(row.compile.roofline->impossible);
  EXPECT_EQ(AboveCeilingNotes(table), std::vector<std::string>{kAboveCopyCeilingNote});
}

// Measured on the H100 (eighth session): cuBLAS at 4096^3 between flushes ran 772 TFLOP/s, 101%
// of calibrate's 8192^3 GEMM (761): marked with its own note, which says the ceiling is not a bound.
TEST(BenchReportTest, FasterThanTheMeasuredGemmIsMarkedWithItsOwnNote) {
  Task task;
  task.name = "matmul";
  task.description = "Matrix product.";
  task.modes = {"forward"};
  task.dims = {"M", "N", "K"};
  task.sizes = {"2048x2048x2048", "4096x4096x4096"};
  task.cost["forward"] = CostFormula{"2 * (M * K + K * N + M * N)", "2 * M * N * K"};
  task.manifest = {{"inputs", {{{"name", "a"}, {"kind", "tensor"}, {"dtype", "float16"}}}}};
  // 2048: 17.18 GFLOP in 24.8 us = 693 TFLOP/s (91% of 761); 4096: 137.4 GFLOP in 178 us = 772.
  JobResult baseline = testing_fixtures::TimedJob(task, {24.8, 178});
  TableInputs inputs;
  inputs.baseline = {&baseline};
  inputs.peaks = PeakLimits{"H100", 3352, 989.5, 3025, 761};
  const TaskTable table = BuildTaskTable(task, inputs);
  ASSERT_TRUE(table.rows[1].baseline.roofline.has_value());
  EXPECT_FALSE(table.rows[1].baseline.roofline->memory_bound);
  EXPECT_TRUE(table.rows[1].baseline.roofline->above_ceiling);
  EXPECT_FALSE(table.rows[1].baseline.roofline->impossible);
  EXPECT_FALSE(table.rows[0].baseline.roofline->above_ceiling);
  EXPECT_EQ(AboveCeilingNotes(table), std::vector<std::string>{kAboveGemmCeilingNote});
  const std::string printed = PrintedTimed(table);
  EXPECT_NE(printed.find("772 TFLOP/s 78% [101%] ^"), std::string::npos) << printed;
  EXPECT_NE(printed.find(kAboveGemmCeilingNote), std::string::npos) << printed;
  EXPECT_EQ(printed.find(kAboveCopyCeilingNote), std::string::npos) << printed;
}

TEST(BenchReportTest, RepeatsArePooledAndKeptPerProcess) {
  const Task task = testing_fixtures::SoftmaxTask();
  const JobResult base1 = testing_fixtures::TimedJob(task, {20, 40, 80});
  const JobResult base2 = testing_fixtures::TimedJob(task, {22, 44, 88});
  const JobResult compile = testing_fixtures::TimedJob(task, {10, 20, 40});
  TableInputs inputs;
  inputs.baseline = {&base1, &base2};
  inputs.compile = {&compile};
  const TaskTable table = BuildTaskTable(task, inputs);
  EXPECT_TRUE(table.has_compile);
  const Row& row = table.rows[0];
  EXPECT_EQ(row.baseline.kernel_groups.size(), 2u);
  EXPECT_EQ(row.baseline.kernel_us->n, 6u);
  EXPECT_NEAR(*row.compile_over_base, 21.0 / 10.0, 0.05);
  ASSERT_TRUE(row.compile_over_base_ci.has_value());
  EXPECT_EQ(row.compile_over_base_ci->verdict, Verdict::kWin);
  EXPECT_LE(row.compile_over_base_ci->ci.lo, 2.0);  // the slower process's 20 / 10 is inside
}

// Measured on the H100: Inductor's benchmark picked R0_BLOCK 4096 in one process and 2048 in
// another, 3% apart. A cell whose processes tuned a kernel differently says so under the table;
// one whose processes agree does not.
TEST(BenchReportTest, ProcessesThatAutotunedDifferentlyGetANote) {
  const Task task = testing_fixtures::SoftmaxTask();
  JobResult first = testing_fixtures::TimedJob(task, {22.2, 40, 80});
  JobResult second = testing_fixtures::TimedJob(task, {23.0, 40, 80});
  for (JobResult* job : {&first, &second}) {
    for (Timing& t : job->timings) t.tuned = {{"triton_red_0", "R0_BLOCK=4096, num_warps=16"}};
  }
  second.timings[0].tuned["triton_red_0"] = "R0_BLOCK=2048, num_warps=16";
  TableInputs inputs;
  inputs.compile = {&first, &second};
  const TaskTable table = BuildTaskTable(task, inputs);
  EXPECT_TRUE(TunedDifferently(table.rows[0].compile));
  EXPECT_FALSE(TunedDifferently(table.rows[1].compile));
  EXPECT_EQ(table.rows[1].compile.tuned.at("triton_red_0").size(), 2u);
  const std::vector<std::string> tuning_notes = [&] {
    std::vector<std::string> notes;
    for (const auto& note : table.notes) {
      if (note.find("autotuned") != std::string::npos) notes.push_back(note);
    }
    return notes;
  }();
  ASSERT_EQ(tuning_notes.size(), 1u) << ::testing::PrintToString(table.notes);
  EXPECT_EQ(tuning_notes[0],
            "Compile 1024x1024 forward: its processes autotuned differently, so their times may "
            "sit on different levels (triton_red_0: process 0 [R0_BLOCK=4096, num_warps=16], "
            "process 1 [R0_BLOCK=2048, num_warps=16])");
}

// Two processes that agree give a bootstrap interval narrower than the run's process spread:
// the pooled spread (from the baseline, whose processes differ) widens it into a tie.
TEST(BenchReportTest, PooledProcessSpreadWidensIntervalsAndRetakesVerdicts) {
  const Task task = testing_fixtures::SoftmaxTask();
  const JobResult base1 = testing_fixtures::TimedJob(task, {100, 200, 400});
  const JobResult base2 = testing_fixtures::TimedJob(task, {104, 208, 416});
  const JobResult expert1 = testing_fixtures::TimedJob(task, {50, 100, 200});
  const JobResult expert2 = testing_fixtures::TimedJob(task, {50, 100, 200});
  const JobResult llm1 = testing_fixtures::TimedJob(task, {48.4, 96.8, 193.6});
  const JobResult llm2 = testing_fixtures::TimedJob(task, {48.4, 96.8, 193.6});
  TableInputs inputs;
  inputs.baseline = {&base1, &base2};
  inputs.expert = {&expert1, &expert2};
  inputs.llm = {&llm1, &llm2};
  BenchReport report;
  report.tables.push_back(BuildTaskTable(task, inputs));
  const RatioCi before = report.tables[0].rows[0].llm_over_expert_ci->ci;
  ASSERT_EQ(report.tables[0].rows[0].llm_over_expert_ci->verdict, Verdict::kWin);

  ApplyProcessSpread(&report);

  // 3 rows x 3 columns of 2 processes; only the baseline's differ, by log(1.04).
  EXPECT_EQ(report.process_spread.cells, 9);
  EXPECT_EQ(report.process_spread.df, 9);
  EXPECT_NEAR(report.process_spread.log_variance, 3 * std::pow(std::log(1.04), 2) / 2 / 9, 1e-9);
  const RatioEstimate& after = *report.tables[0].rows[0].llm_over_expert_ci;
  EXPECT_LT(after.ci.lo, before.lo);
  EXPECT_GT(after.ci.hi, before.hi);
  EXPECT_EQ(after.verdict, Verdict::kTie);  // 1.033x, and the t interval is +-3.6%
  EXPECT_NE(report.method.find("pooled over this run's 9 cells"), std::string::npos)
      << report.method;
}

TEST(BenchReportTest, OneProcessPerCellPoolsNothing) {
  const Task task = testing_fixtures::SoftmaxTask();
  const JobResult base = testing_fixtures::TimedJob(task, {100, 200, 400});
  const JobResult expert = testing_fixtures::TimedJob(task, {50, 100, 200});
  TableInputs inputs;
  inputs.baseline = {&base};
  inputs.expert = {&expert};
  BenchReport report;
  report.tables.push_back(BuildTaskTable(task, inputs));
  const RatioCi before = report.tables[0].rows[0].expert_over_base_ci->ci;
  ApplyProcessSpread(&report);
  EXPECT_EQ(report.process_spread.df, 0);
  EXPECT_DOUBLE_EQ(report.tables[0].rows[0].expert_over_base_ci->ci.lo, before.lo);
  EXPECT_TRUE(report.method.empty());
}

}  // namespace
}  // namespace tritonize
