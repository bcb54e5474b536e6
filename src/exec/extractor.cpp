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

ExpertSet ExtractExperts(const WorkerOptions& options, const fs::path& tutorials,
                         const fs::path& tasks_dir, const std::vector<const Task*>& tasks,
                         const fs::path& out_dir) {
  ExpertSet set;
  auto unavailable = [&](const std::string& why) {
    for (const Task* task : tasks) {
      Implementation impl;
      impl.kind = ImplKind::kExpert;
      impl.name = "expert";
      impl.entry = task->expert_entry;
      impl.unavailable = why;
      set.tasks[task->name] = impl;
    }
  };
  std::error_code ec;
  fs::remove_all(out_dir, ec);
  fs::create_directories(out_dir, ec);

  SubprocessOptions sub;
  sub.argv = {options.python, "-m", "tritonize_worker.extract", "--tutorials", tutorials.string(),
              "--tasks-dir", tasks_dir.string(), "--out", out_dir.string()};
  for (const Task* task : tasks) {
    if (!task->expert_tutorial.empty()) {
      sub.argv.push_back("--task");
      sub.argv.push_back(task->name);
    }
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
  if (!run.started || report.is_discarded() || report.is_null()) {
    set.error = run.started ? fmt::format("the tutorial extractor failed (exit {}): {}",
                                          run.exit_code, tail)
                            : run.spawn_error;
    unavailable("expert not extracted: " + set.error);
    return set;
  }
  const nlohmann::json& entries = report.is_array() ? report : report.value("tasks", report);
  unavailable("the task has no [expert] table in its manifest");
  for (const auto& entry : entries) {
    const std::string name = entry.value("task", "");
    auto it = set.tasks.find(name);
    if (it == set.tasks.end()) continue;
    Implementation& impl = it->second;
    if (entry.value("status", "") != "ok") {
      impl.unavailable = fmt::format("expert extraction failed: {}", entry.value("message", "?"));
      continue;
    }
    impl.unavailable.clear();
    impl.path = fs::absolute(out_dir / (name + ".py"));
    impl.entry = entry.value("entry", impl.entry);
    impl.metadata = entry;
    HashImplementation(&impl);
  }
  set.ok = true;
  return set;
}

}  // namespace tritonize
