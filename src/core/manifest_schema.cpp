#include "core/manifest_schema.h"

#include <fmt/format.h>

#include <algorithm>
#include <sstream>

namespace tritonize {
namespace {

using nlohmann::json;

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

std::string JoinPath(const std::string& where, const std::string& key) {
  return where.empty() ? key : where + "." + key;
}

bool IsInteger(const json& v) { return v.is_number_integer(); }
bool IsNumber(const json& v) { return v.is_number(); }

bool IsShape(const json& v) {
  if (!v.is_array()) return false;
  return std::all_of(v.begin(), v.end(), [](const json& e) { return e.is_string() || IsInteger(e); });
}

bool AllOf(const json& v, bool (*pred)(const json&)) {
  return v.is_array() && std::all_of(v.begin(), v.end(), pred);
}

/// Scalar and list types: whether `value` is one, and how a message names it. The names match
/// python/tritonize_worker/schema.py's _TYPE_TEXT.
bool ScalarType(const std::string& type, const json& value, std::string* text) {
  static const std::vector<std::pair<std::string, std::string>> kTexts = {
      {"string", "a string"},
      {"int", "an integer"},
      {"float", "a number"},
      {"bool", "a boolean"},
      {"strings", "a list of strings"},
      {"ints", "a list of integers"},
      {"shape", "a shape (a list of dim names, numbers or formulas)"},
      {"shapes", "a list of shapes"},
      {"bound", "a number or a formula over the dims"},
      {"value", "a number, a boolean or a list"},
  };
  for (const auto& [name, words] : kTexts) {
    if (name == type) *text = words;
  }
  if (type == "string") return value.is_string();
  if (type == "int") return IsInteger(value);
  if (type == "float") return IsNumber(value);
  if (type == "bool") return value.is_boolean();
  if (type == "strings") return AllOf(value, [](const json& e) { return e.is_string(); });
  if (type == "ints") return AllOf(value, IsInteger);
  if (type == "shape") return IsShape(value);
  if (type == "shapes") return AllOf(value, IsShape);
  if (type == "bound") return value.is_string() || IsInteger(value);
  if (type == "value") return IsNumber(value) || value.is_boolean() || IsShape(value);
  *text = "(unknown schema type " + type + ")";
  return false;
}

/// What a `value` must be for each input kind.
std::string ValueTypeFor(const std::string& kind) {
  if (kind == "shape" || kind == "int" || kind == "float" || kind == "bool") return kind;
  return "value";
}

/// An input's kind decides which of its fields apply ("": no known kind).
std::string InputKind(const json& item) {
  const auto kinds = SchemaVocab("input_kinds");
  if (!item.is_object() || !item.contains("kind") || !item["kind"].is_string()) return "";
  const std::string kind = item["kind"].get<std::string>();
  return std::find(kinds.begin(), kinds.end(), kind) != kinds.end() ? kind : "";
}

}  // namespace

const json& ManifestSchema() {
  static const json schema = [] {
    toml::table table = toml::parse(kManifestSchemaText);
    return TomlToJson(table);
  }();
  return schema;
}

std::vector<std::string> SchemaVocab(const std::string& name) {
  const json& vocab = ManifestSchema()["vocab"];
  if (!vocab.contains(name)) return {};
  return vocab[name].get<std::vector<std::string>>();
}

std::string JsonTypeName(const json& value) {
  if (value.is_boolean()) return "a boolean";
  if (value.is_number_integer()) return "an integer";
  if (value.is_number()) return "a number";
  if (value.is_string()) return "a string";
  if (value.is_array()) return "a list";
  if (value.is_object()) return "a table";
  return "null";
}

bool CheckFields(const json& obj, const std::string& table, const std::string& where,
                 const std::string* kind, std::vector<std::string>* problems) {
  const size_t before = problems->size();
  if (!obj.is_object()) {
    problems->push_back(fmt::format("{}: expected a table, got {}",
                                    where.empty() ? "the manifest" : where, JsonTypeName(obj)));
    return false;
  }
  const json& fields = ManifestSchema()["tables"][table];
  std::vector<std::string> known;
  for (const auto& [key, spec] : fields.items()) known.push_back(key);
  for (const auto& [key, value] : obj.items()) {
    if (!fields.contains(key)) {
      problems->push_back(
          fmt::format("{}: unknown field (known: {})", JoinPath(where, key), Join(known)));
    }
  }
  for (const auto& [key, spec] : fields.items()) {
    const std::string path = JoinPath(where, key);
    const bool restricted = spec.contains("kinds");
    if (restricted && kind != nullptr && kind->empty()) continue;
    bool applies = true;
    if (restricted && kind != nullptr) {
      const auto kinds = spec["kinds"].get<std::vector<std::string>>();
      applies = std::find(kinds.begin(), kinds.end(), *kind) != kinds.end();
    }
    if (!obj.contains(key)) {
      if (spec.value("required", false) && applies) problems->push_back(path + ": missing");
      continue;
    }
    if (!applies) {
      problems->push_back(fmt::format("{}: only for inputs of kind {}", path,
                                      Join(spec["kinds"].get<std::vector<std::string>>())));
      continue;
    }
    CheckValue(obj[key], spec, path, kind, problems);
  }
  return problems->size() == before;
}

bool CheckValue(const json& value, const json& spec, const std::string& path,
                const std::string* kind, std::vector<std::string>* problems) {
  const size_t before = problems->size();
  std::string type = spec["type"].get<std::string>();
  if (type == "value" && kind != nullptr) type = ValueTypeFor(*kind);
  if (type.rfind("one of ", 0) == 0) {
    const auto words = SchemaVocab(type.substr(7));
    if (!value.is_string()) {
      problems->push_back(fmt::format("{}: expected a string, got {}", path, JsonTypeName(value)));
    } else if (std::find(words.begin(), words.end(), value.get<std::string>()) == words.end()) {
      problems->push_back(fmt::format("{}: \"{}\" is not one of {}", path,
                                      value.get<std::string>(), Join(words)));
    }
  } else if (type.rfind("list of ", 0) == 0) {
    const auto words = SchemaVocab(type.substr(8));
    if (!AllOf(value, [](const json& e) { return e.is_string(); })) {
      problems->push_back(
          fmt::format("{}: expected a list of strings, got {}", path, JsonTypeName(value)));
    } else {
      for (const auto& v : value) {
        if (std::find(words.begin(), words.end(), v.get<std::string>()) == words.end()) {
          problems->push_back(
              fmt::format("{}: \"{}\" is not one of {}", path, v.get<std::string>(), Join(words)));
        }
      }
    }
  } else if (type == "table") {
    CheckFields(value, spec["of"].get<std::string>(), path, nullptr, problems);
  } else if (type == "tables") {
    if (!value.is_array()) {
      problems->push_back(
          fmt::format("{}: expected a list of tables, got {}", path, JsonTypeName(value)));
    } else {
      const std::string of = spec["of"].get<std::string>();
      for (size_t i = 0; i < value.size(); ++i) {
        const std::string item_kind = InputKind(value[i]);
        CheckFields(value[i], of, fmt::format("{}[{}]", path, i),
                    of == "input" ? &item_kind : nullptr, problems);
      }
    }
  } else if (type == "map") {
    if (!value.is_object()) {
      problems->push_back(fmt::format("{}: expected a table, got {}", path, JsonTypeName(value)));
    } else {
      const std::string of = spec["of"].get<std::string>();
      const bool is_table = ManifestSchema()["tables"].contains(of);
      for (const auto& [key, item] : value.items()) {
        if (is_table) {
          CheckFields(item, of, JoinPath(path, key), nullptr, problems);
        } else {
          CheckValue(item, json{{"type", of}}, JoinPath(path, key), nullptr, problems);
        }
      }
    }
  } else {
    std::string text;
    if (!ScalarType(type, value, &text)) {
      problems->push_back(fmt::format("{}: expected {}, got {}", path, text, JsonTypeName(value)));
    }
  }
  if (problems->size() == before && spec.value("required", false) && value.is_array() &&
      value.empty()) {
    problems->push_back(path + ": must not be empty");
  }
  return problems->size() == before;
}

json TomlToJson(const toml::node& node) {
  if (const auto* table = node.as_table()) {
    json out = json::object();
    for (const auto& [key, value] : *table) out[std::string(key.str())] = TomlToJson(value);
    return out;
  }
  if (const auto* array = node.as_array()) {
    json out = json::array();
    for (const auto& value : *array) out.push_back(TomlToJson(value));
    return out;
  }
  if (const auto* s = node.as_string()) return s->get();
  if (const auto* i = node.as_integer()) return i->get();
  if (const auto* f = node.as_floating_point()) return f->get();
  if (const auto* b = node.as_boolean()) return b->get();
  return "(unsupported TOML value: dates and times are not used in manifests)";
}

}  // namespace tritonize
