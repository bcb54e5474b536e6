#pragma once

// The task manifest's schema, defined once in python/tritonize_worker/manifest_schema.toml: the
// engine embeds that file when it is built, the worker reads it. Both check a manifest against it
// field by field with the same messages ("<path>: <what is wrong>", a path such as
// `inputs[0].dtype`); python/tritonize_worker/schema.py is the worker's side of this file.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <toml++/toml.h>

namespace tritonize {

/// The schema as JSON data (parsed once from the embedded text).
const nlohmann::json& ManifestSchema();

/// A vocabulary of the schema ("modes", "input_kinds", "dtypes", ...); empty if unknown.
std::vector<std::string> SchemaVocab(const std::string& name);

/// Checks `obj` against the schema's table `table` (task, input, output, ...): unknown, missing
/// and mistyped fields, recursively. `kind` is an input's kind for the fields that belong to some
/// kinds only ("": unknown, such fields are skipped; null: not an input). Appends one problem per
/// fault; true when there was none.
bool CheckFields(const nlohmann::json& obj, const std::string& table, const std::string& where,
                 const std::string* kind, std::vector<std::string>* problems);

/// Checks one value against a field spec ({"type": ...}); as CheckFields.
bool CheckValue(const nlohmann::json& value, const nlohmann::json& spec, const std::string& path,
                const std::string* kind, std::vector<std::string>* problems);

/// "a string", "an integer", "a number", "a boolean", "a list", "a table", "null".
std::string JsonTypeName(const nlohmann::json& value);

/// A parsed TOML document as JSON (keys in the order toml++ keeps them: sorted).
nlohmann::json TomlToJson(const toml::node& node);

/// The schema file's text as embedded (generated at build time, manifest_schema_text.cpp.in).
extern const char* const kManifestSchemaText;

}  // namespace tritonize
