#include "core/task.h"

#include <algorithm>
#include <charconv>
#include <set>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "core/formula.h"
#include "core/manifest_schema.h"

namespace tritonize {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

bool Contains(const std::vector<std::string>& items, const std::string& item) {
  return std::find(items.begin(), items.end(), item) != items.end();
}

std::vector<std::string> Strings(const json& manifest, const char* key) {
  return manifest.contains(key) ? manifest[key].get<std::vector<std::string>>()
                                : std::vector<std::string>{};
}

/// What the field list cannot say, in the worker's order and words
/// (python/tritonize_worker/manifest.py, class _Rules): run on a manifest whose fields passed
/// CheckFields, so every field has its schema type.
class ManifestRules {
 public:
  ManifestRules(const json& raw, std::vector<std::string>* problems)
      : raw_(raw), problems_(problems), dims_(Strings(raw, "dims")) {}

  void Check() {
    if (raw_["schema_version"].get<long long>() != kTaskSchemaVersion) {
      Fail("schema_version", fmt::format("is {}, but this reads version {}",
                                         raw_["schema_version"].get<long long>(),
                                         kTaskSchemaVersion));
    }
    modes_ = Strings(raw_, "modes");
    if (!Contains(modes_, "forward")) Fail("modes", "must include forward");
    MultipleOf();
    for (const char* key : {"sizes", "check_sizes", "interpret_check_sizes"}) {
      Sizes(key, Strings(raw_, key));
    }
    if (raw_["seeds"].size() < 2) Fail("seeds", "must list at least two seeds");
    const bool sizes = raw_.contains("interpret_check_sizes");
    const bool skip = raw_.contains("interpret_skip");
    if (!sizes && !skip) {
      Fail("interpret_check_sizes",
           "missing (or interpret_skip, saying why the interpreter cannot run it)");
    } else if (sizes && skip) {
      Fail("interpret_skip", "cannot go with interpret_check_sizes");
    }
    Inputs();
    Outputs();
    ReferenceSlices();
    Tolerances();
    Cost();
    if (raw_.contains("peak_bytes")) {
      std::string why;
      if (!ValidateFormula(raw_["peak_bytes"].get<std::string>(), dims_, &why)) Fail("peak_bytes", why);
    }
    Distributions();
    Experts();
    const json checks = raw_.value("checks", json::object());
    const double share = checks.value("triton_time_share", 0.8);
    if (share < 0 || share > 1) {
      Fail("checks.triton_time_share", fmt::format("must be in [0, 1], got {:g}", share));
    }
  }

  const std::vector<std::string>& outputs() const { return outputs_; }

 private:
  void Fail(const std::string& path, const std::string& what) {
    problems_->push_back(path + ": " + what);
  }

  void Unique(const std::string& where, const std::vector<std::string>& names) {
    for (size_t i = 0; i < names.size(); ++i) {
      auto first = std::find(names.begin(), names.begin() + static_cast<long>(i), names[i]);
      if (first != names.begin() + static_cast<long>(i)) {
        Fail(fmt::format("{}[{}].name", where, i),
             fmt::format("\"{}\" is used by {}[{}] too", names[i], where, first - names.begin()));
      }
    }
  }

  void MultipleOf() {
    const json multiples = raw_.value("multiple_of", json::object());
    for (const auto& [dim, multiple] : multiples.items()) {
      if (!Contains(dims_, dim)) {
        Fail("multiple_of." + dim,
             fmt::format("\"{}\" is not one of the task's dims ({})", dim, Join(dims_)));
      } else if (multiple.get<long long>() < 1) {
        Fail("multiple_of." + dim, "must be at least 1");
      } else {
        multiple_of_[dim] = multiple.get<long long>();
      }
    }
  }

  void Sizes(const std::string& key, const std::vector<std::string>& sizes) {
    std::vector<long long> numbers;
    for (const auto& size : sizes) {
      if (!ParseSize(size, dims_.size(), &numbers)) {
        Fail(key, fmt::format("size \"{}\" is not {} positive numbers joined by 'x'", size,
                              dims_.size()));
        continue;
      }
      for (size_t i = 0; i < dims_.size(); ++i) {
        auto it = multiple_of_.find(dims_[i]);
        if (it != multiple_of_.end() && numbers[i] % it->second != 0) {
          Fail(key, fmt::format("size \"{}\": {} = {} is not a multiple of {}", size, dims_[i],
                                numbers[i], it->second));
        }
      }
    }
  }

  void Extent(const std::string& path, const json& entry) {
    if (entry.is_number_integer()) {
      if (entry.get<long long>() < 0) Fail(path, fmt::format("negative size {}", entry.get<long long>()));
      return;
    }
    std::string why;
    if (!ValidateFormula(entry.get<std::string>(), dims_, &why)) Fail(path, why);
  }

  void Inputs() {
    const auto int_dtypes = SchemaVocab("int_dtypes");
    std::vector<std::string> names;
    bool tensor = false, grad = false;
    for (size_t i = 0; i < raw_["inputs"].size(); ++i) {
      const json& input = raw_["inputs"][i];
      const std::string where = fmt::format("inputs[{}]", i);
      const std::string kind = input["kind"].get<std::string>();
      for (const auto& entry : input.value("shape", json::array())) Extent(where + ".shape", entry);
      for (const auto& shape : input.value("shapes", json::array())) {
        for (const auto& entry : shape) Extent(where + ".shapes", entry);
      }
      const std::string dtype = input.value("dtype", "");
      Draw(where, kind, dtype, input);
      if (input.value("grad", false) && Contains(int_dtypes, dtype)) {
        Fail(where + ".grad", "integer tensors have no gradient");
      }
      if (kind == "int" && !input.contains("value") && input.value("init", "") != "randint") {
        Fail(where + ".value", "missing (or init = \"randint\" with high)");
      } else if ((kind == "shape" || kind == "float" || kind == "bool") && !input.contains("value")) {
        Fail(where + ".value", "missing");
      }
      names.push_back(input["name"].get<std::string>());
      kinds_[names.back()] = kind;
      drawn_[names.back()] = kind == "tensor" || kind == "tensor_list" ||
                             (kind == "int" && !input.contains("value"));
      if (kind == "tensor" || kind == "tensor_list") {
        tensor = true;
        if (first_dtype_.empty()) first_dtype_ = dtype;
      }
      if (input.value("grad", false)) {
        grad = true;
        grads_.push_back("grad_" + names.back());
      }
    }
    Unique("inputs", names);
    input_names_ = names;
    if (!tensor) Fail("inputs", "at least one input must be a tensor");
    if (Contains(modes_, "backward")) {
      if (!grad) Fail("inputs", "the backward mode needs at least one tensor input with grad = true");
      if (!raw_.contains("backward")) {
        Fail("backward", "missing (grad_output_scale is required with the backward mode)");
      }
    }
  }

  /// init, scale, shift, low and high agree with each other and with the dtype.
  void Draw(const std::string& where, const std::string& kind, const std::string& dtype,
            const json& raw) {
    const bool integer = Contains(SchemaVocab("int_dtypes"), dtype) || kind == "int";
    const bool has_init = raw.contains("init");
    const std::string init = raw.value("init", "");
    if (has_init && kind == "int" && init != "randint") {
      Fail(where + ".init", "an int input is drawn with \"randint\"");
    } else if (init == "randint" && !integer) {
      Fail(where + ".init", fmt::format("\"randint\" draws integers, but dtype is {}", dtype));
    } else if (integer && kind != "int" && init != "randint" && has_init) {
      Fail(where + ".init", "integer tensors are drawn with \"randint\"");
    }
    if (init == "randint" && !raw.contains("high")) {
      Fail(where + ".high", "missing (randint draws from [low, high))");
    }
    for (const char* key : {"low", "high"}) {
      if (!raw.contains(key)) continue;
      if (init != "randint") {
        Fail(fmt::format("{}.{}", where, key), "only with init = \"randint\"");
      } else {
        Extent(fmt::format("{}.{}", where, key), raw[key]);
      }
    }
    for (const char* key : {"scale", "shift"}) {
      if (raw.contains(key) && (init == "randint" || integer)) {
        Fail(fmt::format("{}.{}", where, key), "not with init = \"randint\"");
      }
    }
    if ((kind == "tensor" || kind == "tensor_list") && integer && !has_init) {
      Fail(where + ".init", "integer tensors are drawn with \"randint\"");
    }
  }

  void Outputs() {
    json raw = raw_.value("outputs", json::array());
    if (raw.empty()) raw = json::array({{{"name", "y"}}});
    const std::vector<std::pair<std::string, std::string>> roles = {
        {"input", "tensor"}, {"p", "float"}, {"seed", "int"}};
    for (size_t i = 0; i < raw.size(); ++i) {
      const std::string where = fmt::format("outputs[{}]", i);
      const bool dropout = raw[i].value("check", "values") == "dropout";
      for (const auto& [key, kind] : roles) {
        if (!dropout) {
          if (raw[i].contains(key)) Fail(where + "." + key, "only with check = \"dropout\"");
        } else if (!raw[i].contains(key)) {
          Fail(where + "." + key, "missing (the dropout check needs it)");
        } else {
          const std::string name = raw[i][key].get<std::string>();
          auto it = kinds_.find(name);
          if (it == kinds_.end() || it->second != kind) {
            Fail(where + "." + key, fmt::format("\"{}\" is not an input of kind {}", name, kind));
          }
        }
      }
      if (raw[i].value("kind", "tensor") != "tensor" && Contains(modes_, "backward")) {
        Fail(where + ".kind", "the backward mode needs tensor outputs");
      }
      outputs_.push_back(raw[i]["name"].get<std::string>());
    }
    Unique("outputs", outputs_);
  }

  /// reference_slices: a dim that every tensor input either starts with (cut along its first
  /// axis) or does not name; no lists, whose tensors the reference could not cut or join.
  void ReferenceSlices() {
    if (!raw_.contains("reference_slices")) return;
    const std::string dim = raw_["reference_slices"].get<std::string>();
    if (!Contains(dims_, dim)) {
      Fail("reference_slices",
           fmt::format("\"{}\" is not one of the task's dims ({})", dim, Join(dims_)));
      return;
    }
    bool cut = false;
    for (size_t i = 0; i < raw_["inputs"].size(); ++i) {
      const json& input = raw_["inputs"][i];
      const std::string where = fmt::format("inputs[{}]", i);
      const std::string kind = input["kind"].get<std::string>();
      if (kind == "tensor_list") {
        Fail(where + ".kind", "reference_slices cannot cut a tensor_list");
        continue;
      }
      if (kind != "tensor") continue;
      const json& shape = input["shape"];
      for (size_t axis = 0; axis < shape.size(); ++axis) {
        if (!shape[axis].is_string() || shape[axis].get<std::string>() != dim) continue;
        if (axis == 0) {
          cut = true;
        } else {
          Fail(where + ".shape",
               fmt::format("names \"{}\" at position {}; reference_slices cuts a tensor along its "
                           "first axis",
                           dim, axis));
        }
      }
    }
    if (!cut)
      Fail("reference_slices", fmt::format("no tensor input's shape starts with \"{}\"", dim));
    const json outputs = raw_.value("outputs", json::array());
    for (size_t i = 0; i < outputs.size(); ++i) {
      if (outputs[i].value("kind", "tensor") != "tensor") {
        Fail(fmt::format("outputs[{}].kind", i), "reference_slices joins tensor outputs only");
      }
    }
  }

  void Tolerances() {
    std::vector<std::string> needed = outputs_;
    if (Contains(modes_, "backward")) needed.insert(needed.end(), grads_.begin(), grads_.end());
    const json& tolerance = raw_["tolerance"];
    std::vector<std::string> missing;
    for (const auto& name : needed) {
      if (!tolerance.contains(name)) missing.push_back(name);
    }
    if (!missing.empty()) Fail("tolerance", "missing a tolerance for " + Join(missing));
    for (const auto& [name, pair] : tolerance.items()) {
      if (!Contains(needed, name)) {
        Fail("tolerance." + name,
             fmt::format("not an output of the task (they are: {})", Join(needed)));
      }
      for (const char* key : {"atol", "rtol"}) {
        if (pair[key].get<double>() < 0) {
          Fail(fmt::format("tolerance.{}.{}", name, key), "must be >= 0");
        }
      }
    }
  }

  void Cost() {
    const json& cost = raw_["cost"];
    for (const auto& mode : modes_) {
      if (!cost.contains(mode)) {
        Fail("cost." + mode, "missing (bytes and flops formulas are required per mode)");
      }
    }
    for (const auto& [mode, formulas] : cost.items()) {
      if (!Contains(modes_, mode)) {
        Fail("cost." + mode,
             fmt::format("\"{}\" is not one of the task's modes ({})", mode, Join(modes_)));
      }
      for (const char* key : {"bytes", "flops"}) {
        std::string why;
        if (!ValidateFormula(formulas[key].get<std::string>(), dims_, &why)) {
          Fail(fmt::format("cost.{}.{}", mode, key), why);
        }
      }
    }
  }

  void Distributions() {
    std::vector<std::string> names;
    const json& list = raw_.value("distributions", json::array());
    for (size_t i = 0; i < list.size(); ++i) {
      const std::string where = fmt::format("distributions[{}]", i);
      for (const auto& [name, draw] : list[i]["inputs"].items()) {
        const std::string path = where + ".inputs." + name;
        if (!kinds_.contains(name)) {
          Fail(path, fmt::format("not an input of the task (they are: {})", Join(input_names_)));
          continue;
        }
        const std::string& kind = kinds_[name];
        if (draw.contains("value")) {
          if (drawn_[name]) {
            Fail(path + ".value", "only for inputs of kind shape, int, float, bool with a value");
          } else {
            CheckValue(draw["value"], json{{"type", "value"}}, path + ".value", &kind, problems_);
          }
        }
        bool drawing = false;
        for (const char* key : {"init", "scale", "shift", "low", "high"}) drawing |= draw.contains(key);
        if (!drawing) continue;
        if (!drawn_[name]) {
          Fail(path, "init, scale, shift, low and high are only for drawn inputs");
          continue;
        }
        json merged = InputOf(name);
        json keep = json::object();
        for (const char* key : {"init", "high"}) {
          if (merged.contains(key)) keep[key] = merged[key];
        }
        if (!keep.contains("init")) keep["init"] = "randn";
        for (const auto& [key, value] : draw.items()) keep[key] = value;
        Draw(path, kind, merged.value("dtype", ""), keep);
      }
      DistributionTolerances(where, list[i].value("tolerance", json::object()));
      names.push_back(list[i]["name"].get<std::string>());
      if (names.back() == "default") {
        Fail(where + ".name", "\"default\" names the inputs as the manifest draws them");
      }
    }
    Unique("distributions", names);
  }

  /// A distribution's own tolerances: of outputs that have one in [tolerance], never negative.
  void DistributionTolerances(const std::string& where, const json& own) {
    const json& tolerance = raw_["tolerance"];
    std::vector<std::string> known;
    for (const auto& [name, pair] : tolerance.items()) known.push_back(name);
    for (const auto& [name, pair] : own.items()) {
      const std::string path = where + ".tolerance." + name;
      if (!tolerance.contains(name)) {
        Fail(path, fmt::format("not an output with a tolerance (they are: {})", Join(known)));
      }
      for (const char* key : {"atol", "rtol"}) {
        if (pair[key].get<double>() < 0) Fail(fmt::format("{}.{}", path, key), "must be >= 0");
      }
    }
  }

  const json& InputOf(const std::string& name) const {
    for (const auto& input : raw_["inputs"]) {
      if (input["name"] == name) return input;
    }
    return raw_["inputs"][0];
  }

  void Experts() {
    std::vector<std::string> names;
    const json& list = raw_.value("expert", json::array());
    for (size_t i = 0; i < list.size(); ++i) {
      const std::string where = fmt::format("expert[{}]", i);
      const json& expert = list[i];
      if (expert.contains("tutorial") == expert.contains("module")) {
        Fail(where,
             "needs one of `tutorial` (a Triton tutorial) and `module` (an installed library)");
      }
      if (expert.contains("tutorial")) {
        const std::string tutorial = expert["tutorial"].get<std::string>();
        if (tutorial.find_first_of("/\\") != std::string::npos || tutorial.empty() ||
            tutorial == "." || tutorial == "..") {
          Fail(where + ".tutorial",
               fmt::format("\"{}\" must be a file name in python/tutorials", tutorial));
        }
      }
      if (expert.contains("module") && !expert.contains("names")) {
        Fail(where + ".names", "missing (the names the entry uses from the module)");
      }
      if (expert.contains("names") && !expert.contains("module")) {
        Fail(where + ".names", "only with `module`");
      }
      names.push_back(expert["name"].get<std::string>());
    }
    Unique("expert", names);
  }

  const json& raw_;
  std::vector<std::string>* problems_;
  std::vector<std::string> dims_, modes_, outputs_, grads_, input_names_;
  std::map<std::string, long long> multiple_of_;
  std::map<std::string, std::string> kinds_;
  std::map<std::string, bool> drawn_;
  std::string first_dtype_;
};

}  // namespace

bool ParseSize(const std::string& size, size_t dims, std::vector<long long>* values) {
  values->clear();
  size_t start = 0;
  while (start <= size.size()) {
    size_t end = size.find('x', start);
    if (end == std::string::npos) end = size.size();
    long long v = 0;
    const char* first = size.data() + start;
    const char* last = size.data() + end;
    auto [ptr, ec] = std::from_chars(first, last, v);
    if (ec != std::errc() || ptr != last || v <= 0) return false;
    values->push_back(v);
    start = end + 1;
  }
  return values->size() == dims;
}

bool CheckManifest(const json& manifest, std::vector<std::string>* problems) {
  const size_t before = problems->size();
  // Mistyped fields first: the rules below assume every field has its schema type.
  if (!CheckFields(manifest, "task", "", nullptr, problems)) return false;
  ManifestRules(manifest, problems).Check();
  return problems->size() == before;
}

bool LoadTask(const fs::path& manifest_path, Task* task, std::vector<std::string>* errors) {
  const std::string file = manifest_path.string();
  json manifest;
  try {
    toml::table table = toml::parse_file(file);
    manifest = TomlToJson(table);
  } catch (const toml::parse_error& e) {
    errors->push_back(fmt::format("{}:{}:{}: not valid TOML: {}", file,
                                  e.source().begin.line, e.source().begin.column,
                                  e.description()));
    return false;
  }
  std::vector<std::string> problems;
  const bool fields_ok = CheckFields(manifest, "task", "", nullptr, &problems);
  ManifestRules rules(manifest, &problems);
  if (fields_ok) rules.Check();
  task->dir = fs::absolute(manifest_path).parent_path();
  if (fields_ok) {
    task->name = manifest["name"].get<std::string>();
    if (task->name != task->dir.filename().string()) {
      problems.push_back(fmt::format("name: is \"{}\" but the folder is \"{}\"", task->name,
                                     task->dir.filename().string()));
    }
    task->baseline = task->dir / manifest["baseline"].get<std::string>();
    if (!fs::is_regular_file(task->baseline)) {
      problems.push_back(
          fmt::format("baseline: file {} does not exist", task->baseline.string()));
    }
  }
  for (const auto& problem : problems) errors->push_back(fmt::format("{}: {}", file, problem));
  if (!problems.empty()) return false;

  task->description = manifest.value("description", "");
  task->entry = manifest["entry"].get<std::string>();
  task->signature = manifest["signature"].get<std::string>();
  task->modes = Strings(manifest, "modes");
  task->dims = Strings(manifest, "dims");
  task->sizes = Strings(manifest, "sizes");
  task->check_sizes = Strings(manifest, "check_sizes");
  task->interpret_check_sizes = Strings(manifest, "interpret_check_sizes");
  task->interpret_skip = manifest.value("interpret_skip", "");
  task->multiple_of.clear();
  const json multiples = manifest.value("multiple_of", json::object());
  for (const auto& [dim, multiple] : multiples.items()) {
    task->multiple_of[dim] = multiple.get<long long>();
  }
  task->seeds = manifest["seeds"].get<std::vector<int>>();
  task->outputs = rules.outputs();
  task->cost.clear();
  for (const auto& [mode, formulas] : manifest["cost"].items()) {
    task->cost[mode] = CostFormula{formulas["bytes"].get<std::string>(),
                                   formulas["flops"].get<std::string>()};
  }
  task->experts.clear();
  for (const auto& expert : manifest.value("expert", json::array())) {
    task->experts.push_back(Expert{expert["name"].get<std::string>(), expert.value("tutorial", ""),
                                   expert.value("module", ""), Strings(expert, "names"),
                                   expert["entry"].get<std::string>()});
  }
  task->manifest = std::move(manifest);
  return true;
}

std::string TaskDtype(const Task& task) {
  // A list of tensors (grouped_gemm's) bounds it as a tensor does: before 2026-12-05 only a
  // tensor counted, and grouped_gemm's roofline had no FLOP peak (its GEMMs shown as GB/s).
  for (const auto& input : task.manifest.value("inputs", nlohmann::json::array())) {
    const std::string kind = input.value("kind", "");
    if (kind == "tensor" || kind == "tensor_list") return input.value("dtype", "");
  }
  return "";
}

}  // namespace tritonize
