#include "serve/evaluation_request.h"

#include <algorithm>

#include <fmt/format.h>

#include "core/sha256.h"

namespace tritonize {
namespace {

using json = nlohmann::json;

std::string TypeName(const json& j) { return j.type_name(); }

/// Fills *error and returns false: a convenience for the checks below.
bool Fail(ApiError* error, std::string field, std::string message) {
  error->status = 400;
  error->field = std::move(field);
  error->message = std::move(message);
  return false;
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

bool ParseOptions(const json& j, const std::string& where, const Task& task,
                  const SubmissionLimits& limits, EvaluationOptions* options, ApiError* error) {
  if (!j.is_object()) {
    return Fail(error, where, "must be an object, not " + TypeName(j));
  }
  for (const auto& [key, value] : j.items()) {
    const std::string field = where + "." + key;
    if (key == "sizes") {
      if (!value.is_array()) return Fail(error, field, "must be a list of sizes, not " + TypeName(value));
      if (value.empty()) return Fail(error, field, "must name at least one size (or be left out)");
      for (size_t i = 0; i < value.size(); ++i) {
        const std::string item = fmt::format("{}[{}]", field, i);
        if (!value[i].is_string()) {
          return Fail(error, item, "must be a string, not " + TypeName(value[i]));
        }
        const std::string size = value[i].get<std::string>();
        if (std::find(task.sizes.begin(), task.sizes.end(), size) == task.sizes.end()) {
          return Fail(error, item,
                      fmt::format("\"{}\" is not a timed size of {} ({})", size, task.name,
                                  Join(task.sizes)));
        }
        if (std::find(options->sizes.begin(), options->sizes.end(), size) !=
            options->sizes.end()) {
          return Fail(error, item, fmt::format("\"{}\" is listed twice", size));
        }
        options->sizes.push_back(size);
      }
    } else if (key == "timing") {
      if (!value.is_boolean()) return Fail(error, field, "must be true or false, not " + TypeName(value));
      options->timing = value.get<bool>();
    } else if (key == "repeat") {
      if (!value.is_number_integer()) {
        return Fail(error, field, "must be an integer, not " + TypeName(value));
      }
      const auto repeat = value.get<int64_t>();
      if (repeat < 1 || repeat > limits.max_repeat) {
        return Fail(error, field, fmt::format("must be 1 to {}, got {}", limits.max_repeat, repeat));
      }
      options->repeat = static_cast<int>(repeat);
    } else if (key == "seed") {
      if (!value.is_number_unsigned() || value.get<uint64_t>() == 0) {
        return Fail(error, field, "must be a positive integer");
      }
      options->seed = value.get<uint64_t>();
    } else {
      return Fail(error, field, "unknown option (known: sizes, timing, repeat, seed)");
    }
  }
  // One order for the content key, whatever order the client listed them in.
  std::vector<std::string> ordered;
  for (const auto& size : task.sizes) {
    if (std::find(options->sizes.begin(), options->sizes.end(), size) != options->sizes.end()) {
      ordered.push_back(size);
    }
  }
  options->sizes = ordered;
  return true;
}

bool ParseOne(const json& j, const std::string& where, const TaskSuite& suite,
              const SubmissionLimits& limits, EvaluationRequest* request, ApiError* error) {
  const std::string prefix = where.empty() ? "" : where + ".";
  if (!j.is_object()) {
    return Fail(error, where, "a submission must be an object, not " + TypeName(j));
  }
  for (const auto& [key, value] : j.items()) {
    if (key != "task" && key != "code" && key != "options" && key != "force") {
      return Fail(error, prefix + key, "unknown field (known: task, code, options, force)");
    }
  }
  const auto task_field = j.find("task");
  if (task_field == j.end()) return Fail(error, prefix + "task", "is missing");
  if (!task_field->is_string()) {
    return Fail(error, prefix + "task", "must be a string, not " + TypeName(*task_field));
  }
  request->task = task_field->get<std::string>();
  const Task* task = suite.Find(request->task);
  if (task == nullptr) {
    std::vector<std::string> names;
    for (const auto& t : suite.tasks()) names.push_back(t.name);
    return Fail(error, prefix + "task",
                fmt::format("unknown task \"{}\" (known: {})", request->task, Join(names)));
  }
  const auto code = j.find("code");
  if (code == j.end()) return Fail(error, prefix + "code", "is missing");
  if (!code->is_string()) {
    return Fail(error, prefix + "code", "must be a string (the module's source), not " + TypeName(*code));
  }
  request->code = code->get<std::string>();
  if (request->code.empty()) return Fail(error, prefix + "code", "is empty");
  if (request->code.size() > limits.max_code_bytes) {
    return Fail(error, prefix + "code",
                fmt::format("is {} bytes, more than the {} this server takes", request->code.size(),
                            limits.max_code_bytes));
  }
  if (const auto force = j.find("force"); force != j.end()) {
    if (!force->is_boolean()) {
      return Fail(error, prefix + "force", "must be true or false, not " + TypeName(*force));
    }
    request->force = force->get<bool>();
  }
  if (const auto options = j.find("options"); options != j.end()) {
    return ParseOptions(*options, prefix + "options", *task, limits, &request->options, error);
  }
  return true;
}

}  // namespace

bool ParseSubmission(const std::string& body, const TaskSuite& suite,
                     const SubmissionLimits& limits, std::vector<EvaluationRequest>* requests,
                     bool* batch, ApiError* error) {
  requests->clear();
  *batch = false;
  json j;
  try {
    j = json::parse(body);
  } catch (const json::parse_error& e) {
    return Fail(error, "", fmt::format("malformed JSON: {}", e.what()));
  }
  if (!j.is_object()) return Fail(error, "", "the body must be a JSON object, not " + TypeName(j));
  if (!j.contains("evaluations")) {
    EvaluationRequest request;
    if (!ParseOne(j, "", suite, limits, &request, error)) return false;
    requests->push_back(std::move(request));
    return true;
  }
  *batch = true;
  if (j.size() != 1) {
    for (const auto& [key, value] : j.items()) {
      if (key != "evaluations") {
        return Fail(error, key, "unknown field beside `evaluations` (a batch holds only that list)");
      }
    }
  }
  const json& list = j["evaluations"];
  if (!list.is_array()) {
    return Fail(error, "evaluations", "must be a list of submissions, not " + TypeName(list));
  }
  if (list.empty()) return Fail(error, "evaluations", "is empty");
  if (list.size() > limits.max_batch) {
    return Fail(error, "evaluations",
                fmt::format("holds {} submissions, more than the {} one request may hold",
                            list.size(), limits.max_batch));
  }
  for (size_t i = 0; i < list.size(); ++i) {
    EvaluationRequest request;
    if (!ParseOne(list[i], fmt::format("evaluations[{}]", i), suite, limits, &request, error)) {
      return false;
    }
    requests->push_back(std::move(request));
  }
  return true;
}

nlohmann::json CanonicalOptions(const EvaluationOptions& options, bool interpret) {
  return {{"sizes", options.sizes},
          {"timing", options.timing && !interpret},
          {"repeat", options.repeat},
          {"seed", options.seed ? json(*options.seed) : json(nullptr)},
          {"interpret", interpret}};
}

EvaluationOptions OptionsFromJson(const nlohmann::json& canonical) {
  EvaluationOptions options;
  if (!canonical.is_object()) return options;
  for (const auto& size : canonical.value("sizes", json::array())) {
    if (size.is_string()) options.sizes.push_back(size.get<std::string>());
  }
  options.timing = canonical.value("timing", true);
  options.repeat = canonical.value("repeat", 1);
  if (const auto seed = canonical.find("seed"); seed != canonical.end() && seed->is_number_unsigned()) {
    options.seed = seed->get<uint64_t>();
  }
  return options;
}

std::string ContentKey(const std::string& task, const std::string& code,
                       const nlohmann::json& canonical_options) {
  // The code enters as its own hash, so no separator inside it can make two keys collide.
  const json key = {{"task", task}, {"code_sha256", Sha256Hex(code)}, {"options", canonical_options}};
  return Sha256Hex(key.dump());
}

nlohmann::json ApiErrorJson(const ApiError& error) {
  return {{"error", {{"status", error.status}, {"field", error.field}, {"message", error.message}}}};
}

}  // namespace tritonize
