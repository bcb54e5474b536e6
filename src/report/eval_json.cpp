#include "report/eval_json.h"

#include <vector>

#include "stats/stats.h"

namespace tritonize {
namespace {

nlohmann::json SummaryJson(const std::vector<double>& samples) {
  if (samples.empty()) return nullptr;
  Summary s = Summarize(samples);
  return {{"median", s.median}, {"q1", s.q1}, {"q3", s.q3}, {"min", s.min}, {"max", s.max},
          {"n", s.n}, {"rel_iqr", s.rel_iqr}};
}

}  // namespace

nlohmann::json EvalJson(const Task& task, const Implementation& impl, const JobResult& result) {
  nlohmann::json j = JobResultToJson(result);
  j["task"] = task.name;
  j["file"] = impl.path.string();
  j["content_hash"] = impl.content_hash;
  nlohmann::json sizes = nlohmann::json::array();
  for (const auto& t : result.timings) {
    sizes.push_back({{"size", t.size}, {"mode", t.mode}, {"kernel_us", SummaryJson(t.kernel_us)},
                     {"call_us", SummaryJson(t.call_us)}, {"kernels", t.kernels},
                     {"first_call_s", t.first_call_s}, {"process", t.process}});
  }
  j["sizes"] = sizes;
  j.erase("timings");  // the raw samples are in the store; sizes has their summaries
  return j;
}

}  // namespace tritonize
