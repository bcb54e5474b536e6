#include "core/task.h"

#include <charconv>
#include <set>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "core/formula.h"

namespace tritonize {
namespace {

namespace fs = std::filesystem;

nlohmann::json TomlToJson(const toml::node& node) {
  if (const auto* table = node.as_table()) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [key, value] : *table) out[std::string(key.str())] = TomlToJson(value);
    return out;
  }
  if (const auto* array = node.as_array()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& value : *array) out.push_back(TomlToJson(value));
    return out;
  }
  if (const auto* s = node.as_string()) return s->get();
  if (const auto* i = node.as_integer()) return i->get();
  if (const auto* f = node.as_floating_point()) return f->get();
  if (const auto* b = node.as_boolean()) return b->get();
  return "(unsupported TOML value: dates and times are not used in manifests)";
}

/// Collects field errors with the file name in front, so they can all be reported at once.
class FieldReader {
 public:
  FieldReader(const fs::path& file, const nlohmann::json& root, std::vector<std::string>* errors)
      : file_(file.string()), root_(root), errors_(errors) {}

  void Fail(const std::string& field, const std::string& what) {
    errors_->push_back(fmt::format("{}: field `{}`: {}", file_, field, what));
    ok_ = false;
  }

  std::string String(const std::string& field, bool required = true) {
    auto it = root_.find(field);
    if (it == root_.end()) {
      if (required) Fail(field, "missing (a string is required)");
      return {};
    }
    if (!it->is_string() || it->get<std::string>().empty()) {
      Fail(field, "must be a non-empty string");
      return {};
    }
    return it->get<std::string>();
  }

  std::vector<std::string> Strings(const std::string& field, bool required = true) {
    std::vector<std::string> out;
    auto it = root_.find(field);
    if (it == root_.end()) {
      if (required) Fail(field, "missing (a list of strings is required)");
      return out;
    }
    if (!it->is_array() || it->empty()) {
      Fail(field, "must be a non-empty list of strings");
      return out;
    }
    for (const auto& v : *it) {
      if (!v.is_string()) {
        Fail(field, "every element must be a string");
        return {};
      }
      out.push_back(v.get<std::string>());
    }
    return out;
  }

  bool ok() const { return ok_; }

 private:
  std::string file_;
  const nlohmann::json& root_;
  std::vector<std::string>* errors_;
  bool ok_ = true;
};

void CheckSizes(FieldReader& reader, const std::string& field,
                const std::vector<std::string>& sizes, size_t dims) {
  std::vector<long long> values;
  for (const auto& size : sizes) {
    if (!ParseSize(size, dims, &values)) {
      reader.Fail(field, fmt::format("size \"{}\" is not {} positive numbers joined by 'x'", size,
                                     dims));
    }
  }
}

void CheckInputs(FieldReader& reader, const nlohmann::json& manifest,
                 const std::set<std::string>& dims) {
  auto it = manifest.find("inputs");
  if (it == manifest.end() || !it->is_array() || it->empty()) {
    reader.Fail("inputs", "missing: at least one [[inputs]] table is required");
    return;
  }
  static const std::set<std::string> kKinds = {"tensor", "shape", "float", "int"};
  static const std::set<std::string> kDtypes = {"float16", "bfloat16", "float32", "float64"};
  static const std::set<std::string> kInits = {"randn", "rand"};
  for (size_t i = 0; i < it->size(); ++i) {
    const auto& input = (*it)[i];
    const std::string where = fmt::format("inputs[{}]", i);
    if (!input.is_object()) {
      reader.Fail(where, "must be a table");
      continue;
    }
    if (!input.contains("name") || !input["name"].is_string()) reader.Fail(where + ".name", "missing");
    const std::string kind = input.value("kind", "");
    if (!kKinds.contains(kind)) {
      reader.Fail(where + ".kind", "must be one of tensor, shape, float, int");
      continue;
    }
    if (kind == "tensor") {
      if (!kDtypes.contains(input.value("dtype", ""))) {
        reader.Fail(where + ".dtype", "must be one of float16, bfloat16, float32, float64");
      }
      if (!kInits.contains(input.value("init", ""))) reader.Fail(where + ".init", "must be randn or rand");
      if (!input.contains("shape") || !input["shape"].is_array()) {
        reader.Fail(where + ".shape", "missing (a list of dim names or numbers)");
        continue;
      }
      for (const auto& d : input["shape"]) {
        if (d.is_string() && !dims.contains(d.get<std::string>())) {
          reader.Fail(where + ".shape", fmt::format("`{}` is not one of the task's dims",
                                                    d.get<std::string>()));
        }
      }
    } else if (!input.contains("value")) {
      reader.Fail(where + ".value", "missing (required for kind " + kind + ")");
    }
  }
}

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

bool LoadTask(const fs::path& manifest_path, Task* task, std::vector<std::string>* errors) {
  const std::string file = manifest_path.string();
  nlohmann::json manifest;
  try {
    toml::table table = toml::parse_file(file);
    manifest = TomlToJson(table);
  } catch (const toml::parse_error& e) {
    errors->push_back(fmt::format("{}:{}:{}: not valid TOML: {}", file,
                                  e.source().begin.line, e.source().begin.column,
                                  e.description()));
    return false;
  }

  FieldReader reader(manifest_path, manifest, errors);
  auto version = manifest.find("schema_version");
  if (version == manifest.end() || !version->is_number_integer()) {
    reader.Fail("schema_version", "missing (an integer is required)");
  } else if (version->get<int>() != kTaskSchemaVersion) {
    reader.Fail("schema_version", fmt::format("is {}, this engine reads version {}",
                                              version->get<int>(), kTaskSchemaVersion));
  }
  task->dir = fs::absolute(manifest_path).parent_path();
  task->name = reader.String("name");
  if (!task->name.empty() && task->name != task->dir.filename().string()) {
    reader.Fail("name", fmt::format("is \"{}\" but the folder is \"{}\"", task->name,
                                    task->dir.filename().string()));
  }
  task->description = reader.String("description", false);
  task->entry = reader.String("entry");
  task->signature = reader.String("signature");
  const std::string baseline = reader.String("baseline");
  if (!baseline.empty()) {
    task->baseline = task->dir / baseline;
    if (!fs::is_regular_file(task->baseline)) {
      reader.Fail("baseline", fmt::format("file {} does not exist", task->baseline.string()));
    }
  }
  task->modes = reader.Strings("modes");
  for (const auto& mode : task->modes) {
    if (mode != "forward" && mode != "backward") {
      reader.Fail("modes", fmt::format("\"{}\" is not forward or backward", mode));
    }
  }
  task->dims = reader.Strings("dims");
  task->sizes = reader.Strings("sizes");
  task->check_sizes = reader.Strings("check_sizes");
  task->interpret_check_sizes = reader.Strings("interpret_check_sizes");
  CheckSizes(reader, "sizes", task->sizes, task->dims.size());
  CheckSizes(reader, "check_sizes", task->check_sizes, task->dims.size());
  CheckSizes(reader, "interpret_check_sizes", task->interpret_check_sizes, task->dims.size());

  task->seeds.clear();
  auto seeds = manifest.find("seeds");
  if (seeds == manifest.end() || !seeds->is_array() || seeds->size() < 2) {
    reader.Fail("seeds", "must list at least two integer seeds");
  } else {
    for (const auto& s : *seeds) {
      if (!s.is_number_integer()) {
        reader.Fail("seeds", "every seed must be an integer");
        break;
      }
      task->seeds.push_back(s.get<int>());
    }
  }

  CheckInputs(reader, manifest, std::set<std::string>(task->dims.begin(), task->dims.end()));

  auto tolerance = manifest.find("tolerance");
  if (tolerance == manifest.end() || !tolerance->is_object() || !tolerance->contains("y")) {
    reader.Fail("tolerance.y", "missing: the forward result's {atol, rtol} is required");
  } else {
    for (const auto& [output, tol] : tolerance->items()) {
      if (!tol.is_object() || !tol.contains("atol") || !tol.contains("rtol") ||
          !tol["atol"].is_number() || !tol["rtol"].is_number()) {
        reader.Fail("tolerance." + output, "must be { atol = number, rtol = number }");
      }
    }
  }

  task->cost.clear();
  if (auto cost = manifest.find("cost"); cost != manifest.end() && cost->is_object()) {
    for (const auto& [mode, formulas] : cost->items()) {
      task->cost[mode] = CostFormula{formulas.value("bytes", ""), formulas.value("flops", "")};
    }
  }
  for (const auto& mode : task->modes) {
    if (!task->cost.contains(mode)) {
      reader.Fail("cost." + mode, "missing: bytes and flops formulas are required per mode");
    }
  }
  for (const auto& [mode, formulas] : task->cost) {
    for (const auto& [field, formula] : {std::pair{"bytes", &formulas.bytes},
                                         std::pair{"flops", &formulas.flops}}) {
      std::string why;
      if (!ValidateFormula(*formula, task->dims, &why)) {
        reader.Fail(fmt::format("cost.{}.{}", mode, field), why);
      }
    }
  }

  task->expert_tutorial.clear();
  task->expert_entry.clear();
  if (auto expert = manifest.find("expert"); expert != manifest.end()) {
    task->expert_tutorial = expert->value("tutorial", "");
    task->expert_entry = expert->value("entry", "");
    if (task->expert_tutorial.empty() || task->expert_entry.empty()) {
      reader.Fail("expert", "needs both `tutorial` and `entry`");
    }
  }
  task->manifest = std::move(manifest);
  return reader.ok();
}

}  // namespace tritonize
