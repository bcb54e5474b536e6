#include "llm/prompt.h"

#include <fmt/format.h>

#include <algorithm>

#include <cstdlib>

#include <unistd.h>

#include "core/gpu_specs.h"
#include "core/sha256.h"
#include "exec/subprocess.h"
#include "stats/stats.h"

namespace tritonize {

namespace fs = std::filesystem;

namespace {

std::string Join(const std::vector<std::string>& items, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) out += (i ? sep : "") + items[i];
  return out;
}

/// "a", "a and b", "a, b and c".
std::string JoinAnd(const std::vector<std::string>& items) {
  if (items.size() <= 1) return Join(items, "");
  std::vector<std::string> head(items.begin(), items.end() - 1);
  return Join(head, ", ") + " and " + items.back();
}

/// y first, then grad_<input> in the inputs' order, then anything else by name.
std::vector<std::string> ToleranceOrder(const Task& task) {
  std::vector<std::string> order;
  const auto& tol = task.manifest.value("tolerance", nlohmann::json::object());
  if (tol.contains("y")) order.push_back("y");
  for (const auto& input : task.manifest.value("inputs", nlohmann::json::array())) {
    std::string name = "grad_" + input.value("name", "");
    if (tol.contains(name)) order.push_back(name);
  }
  for (const auto& [name, value] : tol.items()) {
    if (std::find(order.begin(), order.end(), name) == order.end()) order.push_back(name);
  }
  return order;
}

std::string StripTrailingNewlines(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

}  // namespace

std::string PythonFloat(double value) {
  std::string s = fmt::format("{}", value);
  if (s.find_first_of(".eni") == std::string::npos) s += ".0";
  return s;
}

bool LoadPromptTemplate(const fs::path& root, const std::string& name, PromptTemplate* out,
                        std::string* err) {
  out->name = name;
  out->path = "prompts/" + name + ".txt";
  if (!ReadFile(root / out->path, &out->text, err)) {
    *err = fmt::format("prompt template {}: {}", name, *err);
    return false;
  }
  out->sha256 = Sha256Hex(out->text);
  return true;
}

bool RenderPrompt(const std::string& text, const PromptVars& vars, std::string* out,
                  std::string* err) {
  out->clear();
  size_t pos = 0;
  while (true) {
    size_t open = text.find("{{", pos);
    if (open == std::string::npos) break;
    size_t close = text.find("}}", open + 2);
    if (close == std::string::npos) break;
    std::string name = text.substr(open + 2, close - open - 2);
    auto it = vars.find(name);
    if (it == vars.end()) {
      *err = fmt::format("the template has {{{{{}}}}}, which has no value", name);
      return false;
    }
    out->append(text, pos, open - pos);
    out->append(it->second);
    pos = close + 2;
  }
  out->append(text, pos, std::string::npos);
  return true;
}

std::string GpuPhrase(const std::string& gpu) {
  if (gpu.empty()) return "an NVIDIA GPU";
  const auto spec = FindGpuSpec(gpu);
  return fmt::format("the {} GPU{}", gpu,
                     spec && !spec->architecture.empty() ? fmt::format(" ({})", spec->architecture) : "");
}

std::string TargetGpu(const std::string& flag) {
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv("TRITONIZE_GPU"); env != nullptr && *env != '\0') return env;
  // The GPU of this machine, if it has one: the first nvidia-smi lists.
  const fs::path dir = fs::temp_directory_path() / fmt::format("tritonize-gpu-{}", getpid());
  std::error_code ec;
  fs::create_directories(dir, ec);
  SubprocessOptions sub;
  sub.argv = {"nvidia-smi", "--query-gpu=name", "--format=csv,noheader"};
  sub.stdout_path = dir / "stdout";
  sub.stderr_path = dir / "stderr";
  sub.timeout_s = 20;
  const SubprocessResult run = RunSubprocess(sub);
  std::string text, read_err;
  std::string name;
  if (run.started && run.exit_code == 0 && ReadFile(sub.stdout_path, &text, &read_err)) {
    name = text.substr(0, text.find('\n'));
    while (!name.empty() && (name.back() == '\r' || name.back() == ' ')) name.pop_back();
  }
  fs::remove_all(dir, ec);
  return name;
}

namespace {

/// "It must be correct for any size ..." or, with multiple_of, for any size of those multiples.
std::string SizeRule(const Task& task) {
  if (task.multiple_of.empty()) {
    return "It must be correct for any size, including sizes that are not multiples of any block "
           "size";
  }
  std::vector<std::string> rules;
  for (const auto& [dim, multiple] : task.multiple_of) {
    rules.push_back(fmt::format("{} is a multiple of {}", dim, multiple));
  }
  return fmt::format("Every size has {}; it must be correct for any such size", JoinAnd(rules));
}

/// How outputs are checked: against a float64 reference, or by the properties of dropout.
std::string CheckRule(const Task& task) {
  std::vector<std::string> by_property;
  for (const auto& output : task.manifest.value("outputs", nlohmann::json::array())) {
    if (output.value("check", "values") == "dropout") {
      by_property.push_back(fmt::format(
          "{} is checked as a dropout of {}: every element 0 or {} / (1 - {}), the share kept 1 - {} "
          "(binomial bound), the same {} giving the same output and another {} another mask",
          output["name"].get<std::string>(), output.value("input", ""), output.value("input", ""),
          output.value("p", ""), output.value("p", ""), output.value("seed", ""),
          output.value("seed", "")));
    }
  }
  if (!by_property.empty()) return Join(by_property, "; ");
  return "Results are compared with a float64 reference";
}

/// The input distributions checked besides the manifest's own draw.
std::string InputsNote(const Task& task) {
  std::vector<std::string> notes;
  for (const auto& d : task.manifest.value("distributions", nlohmann::json::array())) {
    notes.push_back(d.contains("note") ? d["note"].get<std::string>()
                                       : d["name"].get<std::string>());
  }
  if (notes.empty()) return "";
  return "\n- Every check is also made with inputs drawn otherwise: " + Join(notes, "; ") +
         ", and a hidden variant of these.";
}

}  // namespace

bool OneshotVars(const Task& task, const std::string& gpu, PromptVars* vars, std::string* err) {
  std::string baseline;
  if (!ReadFile(task.baseline, &baseline, err)) return false;
  PromptVars& v = *vars;
  v["gpu"] = GpuPhrase(gpu);
  v["size_rule"] = SizeRule(task);
  v["check_rule"] = CheckRule(task);
  v["inputs_note"] = InputsNote(task);
  v["name"] = task.name;
  v["description"] = task.description;
  v["entry"] = task.entry;
  v["signature"] = task.signature;
  v["modes"] = JoinAnd(task.modes);
  v["backward_note"] = "";
  v["inputs_rule"] = "Return new tensors; do not modify the inputs.";
  if (std::find(task.modes.begin(), task.modes.end(), "backward") != task.modes.end()) {
    std::vector<std::string> grads;
    for (const auto& input : task.manifest.value("inputs", nlohmann::json::array())) {
      if (input.value("grad", false)) grads.push_back(input.value("name", ""));
    }
    v["backward_note"] = fmt::format(
        " The result must be differentiable: y.backward(dy) must produce the gradients of {} "
        "(implement a torch.autograd.Function whose backward also runs in Triton kernels).",
        Join(grads, ", "));
    // [backward].consumes_inputs (docs/tasks.md): what the checks allow every column, said to the
    // LLM too.
    if (task.manifest.value("backward", nlohmann::json::object()).value("consumes_inputs", false)) {
      std::vector<std::string> tensors;
      for (const auto& input : task.manifest.value("inputs", nlohmann::json::array())) {
        if (input.value("kind", "tensor") == "tensor") tensors.push_back(input.value("name", ""));
      }
      v["inputs_rule"] = fmt::format(
          "Return new tensors; the forward must not modify the inputs. Nothing reads {} after the "
          "backward: it may overwrite them, and write the gradients into them.",
          Join(tensors, ", "));
    }
  }
  // Three irregular examples: the manifest lists its irregular check sizes first.
  std::vector<std::string> examples(
      task.check_sizes.begin(),
      task.check_sizes.begin() + static_cast<long>(std::min<size_t>(3, task.check_sizes.size())));
  v["check_sizes"] = Join(examples, ", ");
  v["sizes"] = Join(task.sizes, ", ");
  v["dims"] = Join(task.dims, "x");
  std::vector<std::string> tolerances;
  const auto& tol = task.manifest.value("tolerance", nlohmann::json::object());
  for (const auto& name : ToleranceOrder(task)) {
    tolerances.push_back(fmt::format("{}: atol={}, rtol={}", name,
                                     PythonFloat(tol[name].value("atol", 0.0)),
                                     PythonFloat(tol[name].value("rtol", 0.0))));
  }
  v["tolerances"] = Join(tolerances, "; ");
  v["baseline"] = StripTrailingNewlines(baseline);
  return true;
}

namespace {

std::string MedianKernel(const JobResult& r, const std::string& size, const std::string& mode,
                         double* out) {
  for (const auto& t : r.timings) {
    if (t.size == size && t.mode == mode && !t.kernel_us.empty()) {
      *out = Median(t.kernel_us);
      return fmt::format("{:.2f} us", *out);
    }
  }
  return "";
}

std::string Figures(const JobResult& verdict, const JobResult* baseline) {
  std::string out;
  for (const auto& t : verdict.timings) {
    double mine = 0, base = 0;
    std::string line = fmt::format("- {} {}: your kernel time {}", t.size, t.mode,
                                   MedianKernel(verdict, t.size, t.mode, &mine));
    if (baseline != nullptr) {
      std::string b = MedianKernel(*baseline, t.size, t.mode, &base);
      if (!b.empty() && mine > 0) {
        line += fmt::format(", baseline {} ({:.2f}x the baseline's speed)", b, base / mine);
      }
    }
    out += line + "\n";
  }
  if (out.empty())
    out = "- none (the checks did not pass, or this run measures correctness only)\n";
  return StripTrailingNewlines(out);
}

std::string Mismatches(const JobResult& verdict) {
  std::string out;
  int shown = 0;
  for (const auto& c : verdict.checks) {
    if (c.ok || shown >= 5) continue;
    ++shown;
    out += fmt::format(
        "- size {} seed {} {} output {}: {} of {} elements outside atol={} "
        "rtol={}; max abs error {:.3g}, max rel error {:.3g}\n",
        c.size, c.seed, c.mode, c.output, c.mismatches, c.numel, PythonFloat(c.atol),
        PythonFloat(c.rtol), c.max_abs_err, c.max_rel_err);
  }
  return out.empty() ? "- none\n" : out;
}

}  // namespace

PromptVars RefineVars(const Task& task, int turn, bool code_found, const JobResult& verdict,
                      const JobResult* baseline) {
  PromptVars v;
  v["turn"] = std::to_string(turn);
  v["entry"] = task.entry;
  if (!code_found) {
    v["status"] = "no_code";
    v["message"] = "your answer had no ```python fenced block with a complete module";
    v["detail"] = "";
    v["mismatches"] = "- none\n";
    v["figures"] = "- none";
    return v;
  }
  v["status"] = std::string(StatusName(verdict.status));
  v["message"] = verdict.message.empty() ? "all checks passed" : verdict.message;
  std::string detail = verdict.detail;
  if (detail.size() > 3000) detail = "...\n" + detail.substr(detail.size() - 3000);
  v["detail"] = StripTrailingNewlines(detail);
  v["mismatches"] = Mismatches(verdict);
  v["figures"] = Figures(verdict, baseline);
  return v;
}

}  // namespace tritonize
