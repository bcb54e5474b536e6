#include "core/job.h"

#include <cmath>
#include <limits>

#include <fmt/format.h>

namespace tritonize {
namespace {

bool ReadNumbers(const nlohmann::json& j, const char* field, std::vector<double>* out,
                 std::string* err) {
  auto it = j.find(field);
  if (it == j.end()) return true;
  if (!it->is_array()) {
    *err = fmt::format("`{}` must be a list of numbers", field);
    return false;
  }
  for (const auto& v : *it) {
    double value = 0;
    if (!ReadJsonNumber(v, &value)) {
      *err = fmt::format("`{}` must be a list of numbers", field);
      return false;
    }
    out->push_back(value);
  }
  return true;
}

/// `field` of `j` into *out when present (else *out keeps its default).
bool ReadNumber(const nlohmann::json& j, const char* field, double* out, std::string* err) {
  auto it = j.find(field);
  if (it == j.end()) return true;
  if (!ReadJsonNumber(*it, out)) {
    *err = fmt::format("malformed result: `{}` is not a number ({})", field, it->dump());
    return false;
  }
  return true;
}

nlohmann::json JsonNumbers(const std::vector<double>& values) {
  nlohmann::json out = nlohmann::json::array();
  for (double v : values) out.push_back(JsonNumber(v));
  return out;
}

}  // namespace

nlohmann::json JsonNumber(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
  return value;
}

bool ReadJsonNumber(const nlohmann::json& j, double* out) {
  if (j.is_number()) {
    *out = j.get<double>();
    return true;
  }
  if (j.is_null()) {
    *out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  if (j.is_string()) {
    const auto& text = j.get_ref<const std::string&>();
    if (text == "NaN") {
      *out = std::numeric_limits<double>::quiet_NaN();
    } else if (text == "Infinity") {
      *out = std::numeric_limits<double>::infinity();
    } else if (text == "-Infinity") {
      *out = -std::numeric_limits<double>::infinity();
    } else {
      return false;
    }
    return true;
  }
  return false;
}

bool ParseJobResult(const nlohmann::json& j, JobResult* out, std::string* err) {
  try {
    if (!j.is_object()) {
      *err = "result is not a JSON object";
      return false;
    }
    if (j.value("schema_version", 0) != kWorkerSchemaVersion) {
      *err = fmt::format("result schema_version is {}, expected {}", j.value("schema_version", 0),
                         kWorkerSchemaVersion);
      return false;
    }
    auto status = ParseStatus(j.value("status", ""));
    if (!status) {
      *err = fmt::format("unknown status \"{}\"", j.value("status", ""));
      return false;
    }
    out->status = *status;
    out->message = j.value("message", "");
    out->detail = j.value("detail", "");
    out->phase = j.value("phase", "");
    if (!ReadNumber(j, "wall_s", &out->wall_s, err)) return false;
    if (j.contains("environment") && j["environment"].is_object()) {
      out->environment = j["environment"];
    }
    for (const auto& c : j.value("checks", nlohmann::json::array())) {
      CheckRecord r;
      r.size = c.at("size").get<std::string>();
      r.seed = c.value("seed", 0);
      r.mode = c.value("mode", "forward");
      r.output = c.value("output", "y");
      r.distribution = c.value("distribution", "default");
      r.ok = c.value("ok", false);
      if (!ReadNumber(c, "max_abs_err", &r.max_abs_err, err) ||
          !ReadNumber(c, "max_rel_err", &r.max_rel_err, err) ||
          !ReadNumber(c, "atol", &r.atol, err) || !ReadNumber(c, "rtol", &r.rtol, err)) {
        return false;
      }
      r.mismatches = c.value("mismatches", 0LL);
      r.nonfinite = c.value("nonfinite", 0LL);
      r.numel = c.value("numel", 0LL);
      out->checks.push_back(std::move(r));
    }
    for (const auto& t : j.value("timings", nlohmann::json::array())) {
      Timing timing;
      timing.size = t.at("size").get<std::string>();
      timing.mode = t.value("mode", "forward");
      if (!ReadNumber(t, "first_call_s", &timing.first_call_s, err)) return false;
      if (!ReadNumbers(t, "kernel_us", &timing.kernel_us, err) ||
          !ReadNumbers(t, "call_us", &timing.call_us, err) ||
          !ReadNumbers(t, "host_us", &timing.host_us, err)) {
        return false;
      }
      if (t.contains("sampling") && t["sampling"].is_object()) timing.sampling = t["sampling"];
      timing.env_before = t.value("env_before", nlohmann::json());
      timing.env_after = t.value("env_after", nlohmann::json());
      const nlohmann::json kernels = t.value("kernels", nlohmann::json::object());
      for (const auto& [name, count] : kernels.items()) {
        timing.kernels[name] = count.get<int>();
      }
      const nlohmann::json tuned = t.value("tuned", nlohmann::json::object());
      for (const auto& [name, config] : tuned.items()) {
        timing.tuned[name] = config.get<std::string>();
      }
      const nlohmann::json per_kernel = t.value("kernel_median_us", nlohmann::json::object());
      for (const auto& [name, us] : per_kernel.items()) {
        double value = 0;
        if (!ReadJsonNumber(us, &value)) {
          *err = fmt::format("malformed result: kernel_median_us of {} is not a number", name);
          return false;
        }
        timing.kernel_median_us[name] = value;
      }
      out->timings.push_back(std::move(timing));
    }
  } catch (const nlohmann::json::exception& e) {
    *err = fmt::format("malformed result: {}", e.what());
    return false;
  }
  return true;
}

nlohmann::json JobResultToJson(const JobResult& result) {
  nlohmann::json j;
  j["status"] = StatusName(result.status);
  j["message"] = result.message;
  j["detail"] = result.detail;
  j["phase"] = result.phase;
  j["wall_s"] = JsonNumber(result.wall_s);
  j["process"] = result.process;
  j["environment"] = result.environment;
  j["checks"] = nlohmann::json::array();
  for (const auto& c : result.checks) {
    j["checks"].push_back({{"size", c.size},
                           {"seed", c.seed},
                           {"mode", c.mode},
                           {"output", c.output},
                           {"ok", c.ok},
                           {"max_abs_err", JsonNumber(c.max_abs_err)},
                           {"max_rel_err", JsonNumber(c.max_rel_err)},
                           {"mismatches", c.mismatches},
                           {"nonfinite", c.nonfinite},
                           {"numel", c.numel},
                           {"atol", JsonNumber(c.atol)},
                           {"rtol", JsonNumber(c.rtol)}});
    if (c.distribution != "default") j["checks"].back()["distribution"] = c.distribution;
  }
  j["timings"] = nlohmann::json::array();
  for (const auto& t : result.timings) {
    nlohmann::json per_kernel = nlohmann::json::object();
    for (const auto& [name, us] : t.kernel_median_us) per_kernel[name] = JsonNumber(us);
    j["timings"].push_back({{"size", t.size},
                            {"mode", t.mode},
                            {"kernel_us", JsonNumbers(t.kernel_us)},
                            {"call_us", JsonNumbers(t.call_us)},
                            {"kernels", t.kernels},
                            {"kernel_median_us", per_kernel},
                            {"tuned", t.tuned},
                            {"first_call_s", JsonNumber(t.first_call_s)},
                            {"host_us", JsonNumbers(t.host_us)},
                            {"sampling", t.sampling},
                            {"env_before", t.env_before},
                            {"env_after", t.env_after},
                            {"process", t.process}});
  }
  return j;
}

}  // namespace tritonize
