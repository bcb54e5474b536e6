#include "run/plan.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <sstream>

#include "core/candidates.h"
#include "exec/extractor.h"

namespace tritonize {

namespace fs = std::filesystem;

bool ParseImpls(const std::string& impls, BenchPlan* plan, std::vector<std::string>* errors) {
  std::stringstream stream(impls);
  std::string name;
  while (std::getline(stream, name, ',')) {
    if (name.empty()) continue;
    switch (ImplKindNamed(name).value_or(ImplKind::kCandidate)) {
      case ImplKind::kBaseline:
        plan->baseline = true;
        break;
      case ImplKind::kExpert:
        plan->expert = true;
        break;
      case ImplKind::kLlm:
        plan->llm = true;
        break;
      case ImplKind::kCompile:
        plan->compile = true;
        break;
      case ImplKind::kCandidate: {  // eval's file: not a column of a run
        std::vector<std::string_view> known;
        for (ImplKind kind : kAllImplKinds) {
          if (kind != ImplKind::kCandidate) known.push_back(ImplKindName(kind));
        }
        errors->push_back(fmt::format("--impls: unknown implementation \"{}\" (known: {})", name,
                                      fmt::join(known, ", ")));
        break;
      }
    }
  }
  return errors->empty();
}

void RepeatJobs(BenchPlan* plan) {
  if (plan->processes <= 1) return;
  std::vector<PlannedJob> first = std::move(plan->jobs);
  plan->jobs.clear();
  for (int r = 0; r < plan->processes; ++r) {
    for (const Task* task : plan->tasks) {
      std::vector<PlannedJob> of_task;
      for (const PlannedJob& job : first) {
        const bool sample =
            job.impl.metadata.contains("sample") && job.impl.name != "llm:" + job.impl.model_id;
        if (job.task == task && (r == 0 || !sample)) of_task.push_back(job);
      }
      if (r % 2 == 1) std::reverse(of_task.begin(), of_task.end());
      for (PlannedJob& job : of_task) {
        job.process = r;
        plan->jobs.push_back(std::move(job));
      }
    }
  }
}

/// The torch.compile contender: the task's baseline, which the worker wraps in torch.compile
/// for an implementation of kind compile (python/tritonize_worker/inductor.py).
Implementation CompileImplementation(const Task& task) {
  Implementation impl = BaselineImplementation(task);
  impl.kind = ImplKind::kCompile;
  impl.name = ImplKindName(ImplKind::kCompile);
  return impl;
}

void PlanJobs(const WorkerOptions& worker, const fs::path& tutorials, const fs::path& tasks_dir,
              const fs::path& llm_dir, BenchPlan* plan) {
  std::map<std::string, std::vector<Implementation>> experts;
  if (plan->expert) {
    if (tutorials.empty()) {
      std::cerr << "tritonize: no Triton tutorials checkout: the tutorial experts will be "
                   "unavailable; "
                << TutorialsHint() << "\n";
    }
    fs::path out = worker.scratch_dir.parent_path() / "expert";
    ExpertSet set = ExtractExperts(worker, tutorials, tasks_dir, plan->tasks, out);
    if (!set.error.empty()) std::cerr << "tritonize: " << set.error << "\n";
    experts = std::move(set.tasks);
  }
  for (const Task* task : plan->tasks) {
    if (plan->baseline) plan->jobs.push_back({task, BaselineImplementation(*task), {}});
    // One job per [[expert]]: "expert" (the table's column), then "expert:<name>" for the others.
    if (plan->expert) {
      for (auto& impl : experts[task->name]) plan->jobs.push_back({task, impl, {}});
    }
    if (plan->llm) {
      for (const auto& model : plan->models) {
        plan->jobs.push_back({task, LlmImplementation(llm_dir, model, *task), {}});
        // Every sample and turn `generate` wrote (docs/generate.md), scored as its own job.
        for (auto& sample : ListLlmSamples(llm_dir, model, *task)) {
          plan->jobs.push_back({task, std::move(sample.impl), {}});
        }
      }
    }
    if (plan->compile) plan->jobs.push_back({task, CompileImplementation(*task), {}});
    if (worker.interpret && !task->interpret_skip.empty()) {
      // The manifest says why the interpreter cannot run the task: every column says so.
      for (auto& job : plan->jobs) {
        if (job.task == task)
          job.impl.unavailable = "not under the Triton interpreter: " + task->interpret_skip;
      }
    }
  }
  RepeatJobs(plan);
}

std::vector<const JobResult*> FindResults(const BenchPlan& plan, const Task* task,
                                          const std::string& name) {
  std::vector<const JobResult*> results;
  for (const auto& job : plan.jobs) {
    if (job.task == task && job.impl.name == name) results.push_back(&job.result);
  }
  return results;
}

nlohmann::json TimingOptionsToJson(const WorkerOptions& worker) {
  return {{"calls", worker.calls},
          {"warmup_calls", worker.warmup_calls},
          {"flush_bytes", worker.flush_bytes},
          {"compile_mode", worker.compile_mode},
          {"autotune_timer", worker.autotune_timer}};
}

bool ReadTimingOptions(const nlohmann::json& run_environment, WorkerOptions* worker) {
  const auto& options = run_environment.value("timing_options", nlohmann::json::object());
  if (!options.is_object() || options.empty()) return false;
  worker->calls = options.value("calls", worker->calls);
  worker->warmup_calls = options.value("warmup_calls", worker->warmup_calls);
  worker->flush_bytes = options.value("flush_bytes", worker->flush_bytes);
  worker->compile_mode = options.value("compile_mode", std::string("default"));
  // Runs from before the option used Triton's own benchmark.
  worker->autotune_timer = options.value("autotune_timer", std::string("triton"));
  return true;
}

}  // namespace tritonize
