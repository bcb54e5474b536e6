#include "report/report_builder.h"

#include <fmt/format.h>

#include <fstream>
#include <iostream>
#include <optional>
#include <set>

#include "core/calibration.h"
#include "core/gpu_specs.h"
#include "core/status.h"
#include "exec/extractor.h"
#include "report/json_printer.h"
#include "report/method.h"
#include "report/sample_printer.h"

namespace tritonize {
namespace {

namespace fs = std::filesystem;

const JobResult* FindResult(const BenchPlan& plan, const Task* task, const std::string& name) {
  for (const auto& job : plan.jobs) {
    if (job.task == task && job.impl.name == name) return &job.result;
  }
  return nullptr;
}

/// The roofline's limits for one task: spec peaks of the GPU the worker named, and the
/// calibrated ceilings when `tritonize calibrate` cached them for that GPU.
std::optional<PeakLimits> PeaksFor(const Task& task, const nlohmann::json& environment,
                                   const std::string& calibration) {
  const std::string gpu = environment.is_object() ? environment.value("gpu", "") : "";
  const auto spec = FindGpuSpec(gpu);
  if (gpu.empty() || !spec) return std::nullopt;
  PeakLimits peaks;
  peaks.gpu = spec->name;
  peaks.bandwidth_gb_s = PeakBandwidthGbS(environment, spec);
  peaks.tflops = PeakTflops(*spec, TaskDtype(task));
  peaks.l2_bytes = L2Bytes(environment, spec);
  Ceilings ceilings;
  std::string err;
  const fs::path cache = calibration.empty() ? DefaultCalibrationPath() : fs::path(calibration);
  if (LoadCeilings(cache, gpu, &ceilings, &err)) {
    peaks.measured_gb_s = ceilings.copy_gb_s;
    peaks.measured_tflops = MeasuredTflops(ceilings, TaskDtype(task));
  } else if (!err.empty()) {
    std::cerr << "tritonize: warning: " << err << "\n";
  }
  return peaks;
}

}  // namespace

std::vector<SampleMetrics> BuildSampleMetrics(const BenchPlan& plan, bool timed) {
  std::vector<SampleMetrics> metrics;
  for (const auto& model : plan.models) {
    for (const Task* task : plan.tasks) {
      std::vector<SampleTurn> turns;
      const JobResult* baseline = FindResult(plan, task, "baseline");
      const JobResult* expert = FindResult(plan, task, "expert");
      for (const auto& job : plan.jobs) {
        if (job.task != task || job.impl.model_id != model ||
            !job.impl.metadata.contains("sample") || job.impl.name == "llm:" + model) {
          continue;
        }
        SampleTurn t;
        const auto& meta = job.impl.metadata;
        t.sample = meta.value("sample", 0);
        t.turn = meta.value("turn", 1);
        t.correct = job.result.status == Status::kOk;
        if (baseline != nullptr) t.speedup_vs_baseline = GeomeanSpeedup(*baseline, job.result);
        if (expert != nullptr) t.speedup_vs_expert = GeomeanSpeedup(*expert, job.result);
        auto number = [&](const char* key) {
          return meta.contains(key) && meta[key].is_number() ? meta[key].get<double>() : -1.0;
        };
        t.tokens_in = static_cast<long long>(number("tokens_in"));
        t.tokens_out = static_cast<long long>(number("tokens_out"));
        t.cost_usd = number("cost_usd");
        turns.push_back(t);
      }
      if (!turns.empty()) metrics.push_back(ComputeSampleMetrics(model, task->name, turns, timed));
    }
  }
  return metrics;
}

BenchReport BuildReport(const BenchPlan& plan, bool timed, const WorkerOptions& worker,
                        const std::string& calibration) {
  BenchReport report;
  report.timed = timed;
  report.method = timed ? TimingMethod(worker, plan.processes) : InterpretMethod();
  nlohmann::json gpus = nlohmann::json::object();  // uuid -> jobs that ran on it
  std::set<std::string> libraries;                 // the library experts' versions
  for (const auto& job : plan.jobs) {
    const auto version = job.impl.metadata.find("library_version");
    if (job.impl.kind == ImplKind::kExpert && version != job.impl.metadata.end() &&
        version->is_string() && !version->get<std::string>().empty()) {
      libraries.insert(version->get<std::string>());
    }
    if (job.result.environment.empty()) continue;
    if (report.environment.empty()) report.environment = job.result.environment;
    const auto uuid = job.result.environment.find("gpu_uuid");
    if (uuid != job.result.environment.end() && uuid->is_string()) {
      gpus[uuid->get<std::string>()] = gpus.value(uuid->get<std::string>(), 0) + 1;
    }
  }
  // A run resumed on another machine: the footer says so, since GPUs of one model differ too.
  if (gpus.size() > 1) report.environment["gpus"] = gpus;
  // The installed library an expert column came from (Liger-Kernel, pinned in
  // python/requirements-experts.txt), as the worker found it.
  if (!libraries.empty() && report.environment.is_object()) {
    report.environment["expert_libraries"] = libraries;
  }
  for (const Task* task : plan.tasks) {
    std::vector<std::string> models = plan.llm ? plan.models : std::vector<std::string>{""};
    if (models.empty()) models.push_back("");
    for (const auto& model : models) {
      TableInputs inputs;
      inputs.baseline = FindResults(plan, task, "baseline");
      inputs.expert = FindResults(plan, task, "expert");
      if (!inputs.expert.empty() && task->experts.size() > 1) {
        for (size_t i = 0; i < task->experts.size(); ++i) {
          inputs.experts.push_back(
              {task->experts[i].name, FindResults(plan, task, ExpertImplName(*task, i))});
        }
      }
      if (!model.empty()) inputs.llm = FindResults(plan, task, "llm:" + model);
      inputs.compile = FindResults(plan, task, std::string(ImplKindName(ImplKind::kCompile)));
      inputs.llm_name = model;
      if (timed) inputs.peaks = PeaksFor(*task, report.environment, calibration);
      report.tables.push_back(BuildTaskTable(*task, inputs));
    }
  }
  if (timed) ApplyProcessSpread(&report);
  return report;
}

bool WriteBenchJson(const fs::path& path, const BenchReport& report,
                    const std::vector<SampleMetrics>& sample_metrics, const BenchPlan& plan,
                    int64_t run_id, const fs::path& db) {
  nlohmann::json j = ReportToJson(report);
  j["run_id"] = run_id;
  j["db"] = fs::absolute(db).string();
  j["jobs"] = nlohmann::json::array();
  j["samples"] = nlohmann::json::array();
  for (const auto& m : sample_metrics) j["samples"].push_back(SampleMetricsToJson(m));
  for (const auto& job : plan.jobs) {
    if (job.skipped) continue;  // never run: its first process's verdict is listed
    nlohmann::json entry = JobResultToJson(job.result);
    entry["task"] = job.task->name;
    entry["implementation"] = job.impl.name;
    entry["path"] = job.impl.path.string();
    entry["content_hash"] = job.impl.content_hash;
    entry["metadata"] = job.impl.metadata;
    j["jobs"].push_back(entry);
  }
  std::ofstream out(path);
  out << j.dump(2) << "\n";
  if (!out) {
    std::cerr << "tritonize: error: cannot write --json " << path.string() << "\n";
    return false;
  }
  return true;
}

}  // namespace tritonize
