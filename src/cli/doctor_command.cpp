// `tritonize doctor`: is everything a benchmark run needs in place?
#include <fstream>
#include <iostream>

#include <fmt/format.h>

#include "cli/command.h"
#include "cli/context.h"
#include "core/sha256.h"
#include "exec/extractor.h"
#include "exec/sandbox.h"
#include "exec/subprocess.h"
#include "store/store.h"

namespace tritonize {
namespace {

namespace fs = std::filesystem;

// Prints what the worker's Python sees, as one JSON line; never raises.
constexpr const char* kProbe = R"(import json, sys
out = {"python": sys.version.split()[0]}
try:
    import torch
    out["torch"] = torch.__version__
    out["cuda_available"] = torch.cuda.is_available()
    out["cuda"] = torch.version.cuda
    if out["cuda_available"]:
        out["gpu"] = torch.cuda.get_device_name(0)
except Exception as e:
    out["torch_error"] = f"{type(e).__name__}: {e}"
try:
    import triton
    out["triton"] = triton.__version__
except Exception as e:
    out["triton_error"] = f"{type(e).__name__}: {e}"
try:
    import tritonize_worker
    out["worker"] = "ok"
except Exception as e:
    out["worker_error"] = f"{type(e).__name__}: {e}"
print(json.dumps(out))
)";

struct Doctor {
  int failures = 0;
  void Line(const char* verdict, const std::string& what) {
    std::cout << fmt::format("{:<5} {}\n", verdict, what);
  }
  void Ok(const std::string& what) { Line("ok", what); }
  void Warn(const std::string& what) { Line("warn", what); }
  void Fail(const std::string& what) {
    Line("FAIL", what);
    ++failures;
  }
};

nlohmann::json ProbePython(const EngineContext& context, std::string* err) {
  fs::path dir = context.worker.scratch_dir / "doctor";
  std::error_code ec;
  fs::create_directories(dir, ec);
  SubprocessOptions sub;
  sub.argv = {context.worker.python, "-c", kProbe};
  sub.env["PYTHONPATH"] = context.worker.package_dir.string();
  sub.stdout_path = dir / "probe.out";
  sub.stderr_path = dir / "probe.err";
  sub.timeout_s = 120;
  SubprocessResult run = RunSubprocess(sub);
  if (!run.started) {
    *err = run.spawn_error;
    return nullptr;
  }
  std::string text;
  ReadFile(sub.stdout_path, &text, err);
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) {
    *err = "probe failed: " + TailOfFile(sub.stderr_path, 500);
    return nullptr;
  }
  return j;
}

int RunDoctor(const CommonOptions& options, const std::string& tutorials_flag) {
  Doctor doctor;
  std::vector<std::string> errors;
  EngineContext context;
  if (!MakeContext(options, &context, &errors)) {
    for (const auto& e : errors) doctor.Fail(e);
    if (context.root.empty()) return kExitFailed;
  } else {
    doctor.Ok(fmt::format("{} tasks in {}", context.suite.tasks().size(),
                          context.tasks_dir.string()));
  }

  std::string err;
  nlohmann::json probe = ProbePython(context, &err);
  if (probe.is_null()) {
    doctor.Fail(fmt::format("python {}: {} (set --python or TRITONIZE_PYTHON)",
                            context.worker.python, err));
  } else {
    doctor.Ok(fmt::format("python {} ({})", probe.value("python", "?"), context.worker.python));
    if (probe.contains("torch")) {
      doctor.Ok(fmt::format("torch {} (CUDA {})", probe["torch"].get<std::string>(),
                            probe["cuda"].is_string() ? probe["cuda"].get<std::string>() : "none"));
    } else {
      doctor.Fail("torch: " + probe.value("torch_error", "missing"));
    }
    if (probe.contains("triton")) {
      doctor.Ok("triton " + probe["triton"].get<std::string>());
    } else {
      doctor.Fail("triton: " + probe.value("triton_error", "missing"));
    }
    if (probe.value("cuda_available", false)) {
      doctor.Ok("GPU " + probe.value("gpu", "?"));
    } else {
      doctor.Warn("no CUDA GPU visible: only `--interpret` (correctness on the CPU) can run");
    }
    if (!probe.contains("worker")) doctor.Fail("worker package: " + probe.value("worker_error", "?"));
  }

  // The candidate sandbox's layers here (--sandbox auto applies these; docs/security.md).
  const SandboxSupport& sandbox = ProbeSandbox();
  std::string missing;
  for (const auto& [layer, ok] : {std::pair<const char*, bool>{"network", sandbox.network},
                                  {"filesystem", sandbox.filesystem},
                                  {"pid", sandbox.pid},
                                  {"privileges", sandbox.privileges}}) {
    if (!ok) missing += (missing.empty() ? "" : ", ") + std::string(layer);
  }
  if (missing.empty()) {
    doctor.Ok("sandbox: environment, network, filesystem, pid, privileges (every layer)");
  } else {
    const char* them = missing.find(',') == std::string::npos ? "it" : "them";
    doctor.Warn(fmt::format("sandbox: {} not available ({}): --sandbox auto runs without {}, "
                            "--sandbox on refuses to run",
                            missing, sandbox.why_not, them));
  }

  fs::path tutorials = FindTutorials(tutorials_flag, context.root);
  if (tutorials.empty()) {
    doctor.Warn("no Triton tutorials: the expert column will be empty; " + TutorialsHint());
  } else {
    fs::path dir = fs::is_directory(tutorials / "python" / "tutorials")
                       ? tutorials / "python" / "tutorials"
                       : tutorials;
    for (const auto& task : context.suite.tasks()) {
      for (const auto& expert : task.experts) {
        if (expert.tutorial.empty()) continue;
        fs::path file = dir / expert.tutorial;
        if (fs::is_regular_file(file)) {
          doctor.Ok(fmt::format("tutorial {} for {} ({})", file.string(), task.name, expert.name));
        } else {
          doctor.Fail(fmt::format("tutorial {} for {} ({}) not found; {}", file.string(),
                                  task.name, expert.name, TutorialsHint()));
        }
      }
    }
  }

  if (auto store = Store::Open(options.db, &err)) {
    doctor.Ok("results database " + fs::absolute(options.db).string());
  } else {
    doctor.Fail(err);
  }
  return doctor.failures == 0 ? kExitOk : kExitFailed;
}

}  // namespace

std::function<int()> SetupDoctor(CLI::App* app) {
  auto options = std::make_shared<CommonOptions>();
  auto tutorials = std::make_shared<std::string>();
  AddCommonOptions(app, options.get());
  app->add_option("--tutorials", *tutorials, "Triton checkout to look for");
  return [options, tutorials] { return RunDoctor(*options, *tutorials); };
}

}  // namespace tritonize
