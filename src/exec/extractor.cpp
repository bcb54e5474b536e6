#include "exec/extractor.h"

#include <fmt/format.h>

#include "core/candidates.h"
#include "core/sha256.h"
#include "exec/subprocess.h"

namespace tritonize {

namespace fs = std::filesystem;

std::string TutorialsHint() {
  return "get a checkout at the tag of the installed triton, e.g. for 3.6.0: git clone --depth 1 "
         "--filter=blob:none --sparse --branch v3.6.0 https://github.com/triton-lang/triton && "
         "git -C triton sparse-checkout set python/tutorials; then pass --tutorials triton or set "
         "TRITONIZE_TUTORIALS";
}

std::string ExpertImplName(const Task& task, size_t index) {
  return index == 0 ? "expert" : "expert:" + task.experts[index].name;
}

namespace {

/// Every expert of the tasks, unavailable for `why` until the extractor's report says otherwise.
void AllUnavailable(const std::vector<const Task*>& tasks, const std::string& why, ExpertSet* set) {
  for (const Task* task : tasks) {
    auto& list = set->tasks[task->name];
    list.clear();
    for (size_t i = 0; i < task->experts.size(); ++i) {
      Implementation impl;
      impl.kind = ImplKind::kExpert;
      impl.name = ExpertImplName(*task, i);
      impl.entry = task->experts[i].entry;
      impl.unavailable = why;
      impl.metadata = {{"expert", task->experts[i].name}};
      list.push_back(impl);
    }
  }
}

}  // namespace

ExpertSet ExtractExperts(const WorkerOptions& options, const fs::path& tutorials,
                         const fs::path& tasks_dir, const std::vector<const Task*>& tasks,
                         const fs::path& out_dir) {
  ExpertSet set;
  std::error_code ec;
  fs::remove_all(out_dir, ec);
  fs::create_directories(out_dir, ec);

  std::vector<const Task*> with_experts;
  for (const Task* task : tasks) {
    if (!task->experts.empty()) with_experts.push_back(task);
  }
  AllUnavailable(tasks, "the task has no [[expert]] in its manifest", &set);
  if (with_experts.empty()) {
    set.ok = true;
    return set;
  }
  SubprocessOptions sub;
  sub.argv = {options.python, "-m",       "tritonize_worker.extract", "--tasks-dir",
              tasks_dir.string(), "--out", out_dir.string()};
  // Without a checkout each tutorial expert says what is missing; the library ones still run.
  if (!tutorials.empty()) {
    sub.argv.push_back("--tutorials");
    sub.argv.push_back(tutorials.string());
  }
  for (const Task* task : with_experts) {
    sub.argv.push_back("--task");
    sub.argv.push_back(task->name);
  }
  sub.env["PYTHONPATH"] = options.package_dir.string();
  sub.stdout_path = out_dir / "extract.stdout.log";
  sub.stderr_path = out_dir / "extract.stderr.log";
  sub.timeout_s = 120;
  SubprocessResult run = RunSubprocess(sub);
  const std::string tail = TailOfFile(sub.stderr_path, 2000);

  std::string text;
  std::string err;
  nlohmann::json report;
  if (run.started && ReadFile(out_dir / "extract.json", &text, &err)) {
    report = nlohmann::json::parse(text, nullptr, false);
  }
  if (!run.started || report.is_discarded() || !report.is_object()) {
    set.error = run.started ? fmt::format("the expert extractor failed (exit {}): {}",
                                          run.exit_code, tail)
                            : run.spawn_error;
    AllUnavailable(with_experts, "expert not extracted: " + set.error, &set);
    return set;
  }
  for (const auto& entry : report.value("tasks", nlohmann::json::array())) {
    auto it = set.tasks.find(entry.value("task", ""));
    if (it == set.tasks.end()) continue;
    const Task* task = nullptr;
    for (const Task* t : with_experts) {
      if (t->name == it->first) task = t;
    }
    if (task == nullptr) continue;
    for (size_t i = 0; i < task->experts.size(); ++i) {
      if (task->experts[i].name != entry.value("expert", "")) continue;
      Implementation& impl = it->second[i];
      impl.metadata = entry;
      impl.metadata["expert"] = task->experts[i].name;
      const std::string skip = task->manifest["expert"][i].value("interpret_skip", "");
      if (entry.value("status", "") != "ok") {
        impl.unavailable = fmt::format("expert extraction failed: {}", entry.value("message", "?"));
      } else if (options.interpret && !skip.empty()) {
        impl.unavailable = "not run under the Triton interpreter: " + skip;
      } else {
        impl.unavailable.clear();
        impl.path = fs::absolute(entry.value("module", ""));
        impl.entry = entry.value("entry", impl.entry);
        HashImplementation(&impl);
      }
    }
  }
  set.ok = true;
  return set;
}

}  // namespace tritonize
