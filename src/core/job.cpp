#include "core/job.h"

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
    if (!v.is_number()) {
      *err = fmt::format("`{}` must be a list of numbers", field);
      return false;
    }
    out->push_back(v.get<double>());
  }
  return true;
}

}  // namespace

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
    out->wall_s = j.value("wall_s", 0.0);
    if (j.contains("environment") && j["environment"].is_object()) {
      out->environment = j["environment"];
    }
    for (const auto& c : j.value("checks", nlohmann::json::array())) {
      CheckRecord r;
      r.size = c.at("size").get<std::string>();
      r.seed = c.value("seed", 0);
      r.mode = c.value("mode", "forward");
      r.output = c.value("output", "y");
      r.ok = c.value("ok", false);
      r.max_abs_err = c.value("max_abs_err", 0.0);
      r.max_rel_err = c.value("max_rel_err", 0.0);
      r.mismatches = c.value("mismatches", 0LL);
      r.numel = c.value("numel", 0LL);
      r.atol = c.value("atol", 0.0);
      r.rtol = c.value("rtol", 0.0);
      out->checks.push_back(std::move(r));
    }
    for (const auto& t : j.value("timings", nlohmann::json::array())) {
      Timing timing;
      timing.size = t.at("size").get<std::string>();
      timing.mode = t.value("mode", "forward");
      timing.first_call_s = t.value("first_call_s", 0.0);
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
        if (!us.is_number()) {
          *err = fmt::format("malformed result: kernel_median_us of {} is not a number", name);
          return false;
        }
        timing.kernel_median_us[name] = us.get<double>();
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
  j["wall_s"] = result.wall_s;
  j["process"] = result.process;
  j["environment"] = result.environment;
  j["checks"] = nlohmann::json::array();
  for (const auto& c : result.checks) {
    j["checks"].push_back({{"size", c.size}, {"seed", c.seed}, {"mode", c.mode},
                           {"output", c.output}, {"ok", c.ok}, {"max_abs_err", c.max_abs_err},
                           {"max_rel_err", c.max_rel_err}, {"mismatches", c.mismatches},
                           {"numel", c.numel}, {"atol", c.atol}, {"rtol", c.rtol}});
  }
  j["timings"] = nlohmann::json::array();
  for (const auto& t : result.timings) {
    j["timings"].push_back({{"size", t.size}, {"mode", t.mode}, {"kernel_us", t.kernel_us},
                            {"call_us", t.call_us}, {"kernels", t.kernels},
                            {"kernel_median_us", t.kernel_median_us}, {"tuned", t.tuned},
                            {"first_call_s", t.first_call_s}, {"host_us", t.host_us},
                            {"sampling", t.sampling}, {"env_before", t.env_before},
                            {"env_after", t.env_after}, {"process", t.process}});
  }
  return j;
}

}  // namespace tritonize
