#pragma once

// The report built from a run's jobs: shared by `bench`, which runs them, and `report`, which
// loads them from the store.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "exec/worker.h"
#include "report/bench_report.h"
#include "report/sample_metrics.h"
#include "run/plan.h"

namespace tritonize {

/// Per model and task with samples: pass@k, fast_p and the rest (report/sample_metrics.h).
std::vector<SampleMetrics> BuildSampleMetrics(const BenchPlan& plan, bool timed);

/// The tables of every task and model, the roofline against the GPU's spec and the ceilings
/// cached by `calibrate` (`calibration`, empty: the default cache), the intervals widened by
/// the run's pooled process spread, and the method footer.
BenchReport BuildReport(const BenchPlan& plan, bool timed, const WorkerOptions& worker,
                        const std::string& calibration);

/// `--json`: the report, the sample metrics and every job run (not the skipped repeats).
/// False with a message on stderr when the file cannot be written.
bool WriteBenchJson(const std::filesystem::path& path, const BenchReport& report,
                    const std::vector<SampleMetrics>& sample_metrics, const BenchPlan& plan,
                    int64_t run_id, const std::filesystem::path& db);

}  // namespace tritonize
