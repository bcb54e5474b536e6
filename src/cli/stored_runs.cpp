#include "cli/stored_runs.h"

#include <fmt/format.h>

#include <algorithm>
#include <iostream>
#include <memory>
#include <set>
#include <tuple>

namespace tritonize {
namespace {

namespace fs = std::filesystem;

/// The model of a table column's LLM job ("llm:<model>"); empty for every other name, a
/// sample's ("llm:<model>:s<i>-t<j>") included.
std::string ColumnModel(const std::string& name) {
  if (name.rfind("llm:", 0) != 0) return "";
  const std::string model = name.substr(4);
  return model.find(':') == std::string::npos ? model : "";
}

/// A stored job's implementation name that names its kind itself (baseline, expert, compile);
/// nullopt for an LLM's ("llm:<model>...") or anything else.
std::optional<ImplKind> FixedKind(const std::string& name) {
  const std::optional<ImplKind> kind = ImplKindNamed(name);
  if (kind == ImplKind::kLlm || kind == ImplKind::kCandidate) return std::nullopt;
  return kind;
}

bool IsColumn(const std::string& name) {
  return FixedKind(name).has_value() || !ColumnModel(name).empty();
}

ImplKind KindOf(const std::string& name) { return FixedKind(name).value_or(ImplKind::kLlm); }

bool AllDigits(const std::string& text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool LoadPlan(Store* store, const TaskSuite& suite, int64_t run_id, BenchPlan* plan,
              std::string* err) {
  std::vector<StoredJob> jobs;
  if (!store->Jobs(run_id, &jobs, err)) return false;
  for (const StoredJob& stored : jobs) {
    const Task* task = suite.Find(stored.task);
    if (task == nullptr) {
      *err =
          fmt::format("{}: run {} has jobs of task \"{}\", which the suite does not have (--root)",
                      store->path().string(), run_id, stored.task);
      return false;
    }
    PlannedJob job{task, Implementation(), JobResult()};
    job.impl.kind = KindOf(stored.implementation);
    job.impl.name = stored.implementation;
    job.impl.model_id =
        stored.model_id.empty() ? ColumnModel(stored.implementation) : stored.model_id;
    job.impl.content_hash = stored.content_hash;
    job.impl.metadata = stored.metadata;
    job.process = stored.process;
    if (!store->LoadJobResult(stored.id, &job.result, err)) return false;
    if (std::find(plan->tasks.begin(), plan->tasks.end(), task) == plan->tasks.end()) {
      plan->tasks.push_back(task);
    }
    const std::string model = ColumnModel(stored.implementation);
    if (!model.empty() &&
        std::find(plan->models.begin(), plan->models.end(), model) == plan->models.end()) {
      plan->models.push_back(model);
    }
    plan->llm = plan->llm || !model.empty();
    if (IsColumn(stored.implementation))
      plan->processes = std::max(plan->processes, job.process + 1);
    plan->jobs.push_back(std::move(job));
  }
  return true;
}

bool Load(Store* store, const fs::path& db, const StoredRun& run, const TaskSuite& suite,
          LoadedRun* out, std::string* err) {
  out->db = db;
  out->run = run;
  out->plan = BenchPlan();
  out->timed = !run.environment.value("interpret", false);
  return LoadPlan(store, suite, run.id, &out->plan, err);
}

}  // namespace

void MarkColumnsNotRun(LoadedRun* run) {
  if (run->run.status == "finished") return;
  BenchPlan& plan = run->plan;
  // The columns of the run (by implementation name), and which each task has.
  std::vector<std::string> columns;
  std::set<std::pair<const Task*, std::string>> has;
  for (const PlannedJob& job : plan.jobs) {
    const std::string& name = job.impl.name;
    // A kind's own name (the baseline, the first expert, compile) or an LLM model's column; a
    // further expert ("expert:liger") is its task's own, which no other task lacks.
    if (!IsColumn(name)) continue;
    if (std::find(columns.begin(), columns.end(), name) == columns.end()) columns.push_back(name);
    has.insert({job.task, name});
  }
  std::vector<PlannedJob> added;
  for (const Task* task : plan.tasks) {
    for (const std::string& name : columns) {
      if (has.count({task, name}) > 0) continue;
      PlannedJob job{task, Implementation(), JobResult()};
      job.impl.kind = KindOf(name);
      job.impl.name = name;
      job.impl.model_id = ColumnModel(name);
      job.result.status = Status::kUnavailable;
      job.result.message = fmt::format("not run: run {} is {} (bench --resume runs it)",
                                       run->run.id, run->run.status);
      job.skipped = true;
      added.push_back(std::move(job));
    }
  }
  for (PlannedJob& job : added) plan.jobs.push_back(std::move(job));
}

namespace {

std::unique_ptr<Store> OpenExisting(const fs::path& db, std::string* err) {
  std::error_code ec;
  if (!fs::is_regular_file(db, ec)) {
    *err = fmt::format("{}: no such file", db.string());
    return nullptr;
  }
  return Store::Open(db, err);
}

}  // namespace

bool ParseRunSpec(const std::string& text, const std::string& default_db, RunSpec* spec,
                  std::string* err) {
  std::error_code ec;
  if (AllDigits(text)) {
    *spec = {default_db, std::stoll(text)};
    return true;
  }
  const size_t colon = text.rfind(':');
  if (colon != std::string::npos && AllDigits(text.substr(colon + 1)) &&
      fs::is_regular_file(text.substr(0, colon), ec)) {
    *spec = {text.substr(0, colon), std::stoll(text.substr(colon + 1))};
    return true;
  }
  if (fs::is_regular_file(text, ec)) {
    *spec = {text, 0};
    return true;
  }
  *err = fmt::format(
      "\"{}\" is not a run: give a run id of --db ({}), a results database FILE, or FILE:ID", text,
      default_db);
  return false;
}

bool LoadRun(const fs::path& db, int64_t run_id, const TaskSuite& suite, LoadedRun* out,
             std::string* err) {
  auto store = OpenExisting(db, err);
  if (!store) return false;
  if (run_id == 0) {
    if (!store->NewestRun(&run_id, err)) return false;
    if (run_id == 0) {
      *err = fmt::format("{} has no run", db.string());
      return false;
    }
  }
  StoredRun run;
  if (!store->Run(run_id, &run, err)) return false;
  if (!Load(store.get(), db, run, suite, out, err)) return false;
  if (out->plan.jobs.empty()) {
    *err = fmt::format("run {} of {} has no stored job", run_id, db.string());
    return false;
  }
  return true;
}

bool LoadAllRuns(const fs::path& db, const TaskSuite& suite, std::vector<LoadedRun>* out,
                 std::string* err) {
  auto store = OpenExisting(db, err);
  if (!store) return false;
  std::vector<StoredRun> runs;
  if (!store->Runs(&runs, err)) return false;
  for (const StoredRun& run : runs) {
    LoadedRun loaded;
    if (!Load(store.get(), db, run, suite, &loaded, err)) return false;
    if (!loaded.plan.jobs.empty()) out->push_back(std::move(loaded));
  }
  return true;
}

BenchReport ReportOfRun(const LoadedRun& run, const std::string& calibration) {
  WorkerOptions worker;
  if (run.timed && !ReadTimingOptions(run.run.environment, &worker)) {
    std::cerr << fmt::format(
        "tritonize: note: {} does not record its --calls and --warmup (engine {}): the footer "
        "states the defaults\n",
        RunName(run), run.run.engine_version);
  }
  return BuildReport(run.plan, run.timed, worker, calibration);
}

std::vector<SampleMetrics> SampleMetricsOfRun(const LoadedRun& run) {
  return BuildSampleMetrics(run.plan, run.timed);
}

std::string RunName(const LoadedRun& run) {
  return fmt::format("run {} of {}", run.run.id, run.db.string());
}

std::string RunHeading(const LoadedRun& run) {
  return fmt::format("Run {} of {}, started {} ({}): {}", run.run.id, run.db.string(),
                     run.run.started_at, run.run.status, run.run.command_line);
}

std::map<std::string, std::string> RunGpus(const LoadedRun& run) {
  std::map<std::string, std::string> gpus;
  for (const PlannedJob& job : run.plan.jobs) {
    const nlohmann::json& env = job.result.environment;
    if (!env.is_object()) continue;
    const auto uuid = env.find("gpu_uuid");
    if (uuid == env.end() || !uuid->is_string()) continue;
    gpus[uuid->get<std::string>()] = env.value("gpu", std::string());
  }
  return gpus;
}

LoadedRun PoolRuns(const std::vector<LoadedRun>& runs, std::vector<std::string>* notes) {
  LoadedRun pooled = runs.back();
  pooled.plan = BenchPlan();
  // The code each (task, implementation) is pooled for: the newest run's.
  std::map<std::pair<std::string, std::string>, std::string> newest;
  for (const LoadedRun& run : runs) {
    for (const PlannedJob& job : run.plan.jobs) {
      newest[{job.task->name, job.impl.name}] = job.impl.content_hash;
    }
  }
  std::map<std::pair<std::string, std::string>, int> processes;
  std::set<std::pair<std::string, std::string>> samples_taken;
  std::set<std::tuple<int64_t, std::string, std::string>> left_out;
  for (auto run = runs.rbegin(); run != runs.rend(); ++run) {
    for (const PlannedJob& job : run->plan.jobs) {
      const std::pair<std::string, std::string> key{job.task->name, job.impl.name};
      if (job.impl.content_hash != newest[key]) {
        left_out.insert({run->run.id, job.task->name, job.impl.name});
        continue;
      }
      if (!IsColumn(job.impl.name) && samples_taken.count(key) > 0) continue;
      PlannedJob copy = job;
      if (IsColumn(job.impl.name)) {
        copy.process = processes[key]++;
      } else {
        samples_taken.insert(key);
      }
      BenchPlan& plan = pooled.plan;
      if (std::find(plan.tasks.begin(), plan.tasks.end(), job.task) == plan.tasks.end()) {
        plan.tasks.push_back(job.task);
      }
      const std::string model = ColumnModel(job.impl.name);
      if (!model.empty() &&
          std::find(plan.models.begin(), plan.models.end(), model) == plan.models.end()) {
        plan.models.push_back(model);
      }
      plan.llm = plan.llm || !model.empty();
      plan.processes = std::max(plan.processes, copy.process + 1);
      plan.jobs.push_back(std::move(copy));
    }
  }
  // Tasks and models by name: the order no longer depends on which run stored them first.
  std::sort(pooled.plan.tasks.begin(), pooled.plan.tasks.end(),
            [](const Task* a, const Task* b) { return a->name < b->name; });
  std::sort(pooled.plan.models.begin(), pooled.plan.models.end());
  for (const auto& [run_id, task, impl] : left_out) {
    notes->push_back(fmt::format(
        "Not pooled: run {}'s {} of {}: its code (content hash) is not the newest run's.", run_id,
        impl, task));
  }
  return pooled;
}

}  // namespace tritonize
