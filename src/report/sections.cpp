#include "report/sections.h"

namespace tritonize {

const std::vector<Section>& Sections(bool timed) {
  static const std::vector<Section> kTimed = {
      {"kernel-time",
       "Kernel time (median per call ±IQR/median); ratios are speedups, higher is better: + clear "
       "win, - clear loss, ~ tie (the 95% interval contains 1.0)",
       KernelTimeGrid, nullptr, nullptr},
      {"experts",
       "Each expert (kernel time, median per call ±IQR/median): the Expert column above is the "
       "fastest of them at each size, named in its last column",
       ExpertsGrid, HasSeveralExperts, nullptr},
      {"throughput",
       "Throughput (GB/s if memory-bound, else TFLOP/s), % of the spec roofline [% of the "
       "measured ceiling]",
       RooflineGrid, HasRoofline, AboveCeilingNotes},
      {"call-latency", "Call latency (CUDA events, median per call)", CallLatencyGrid, nullptr,
       nullptr},
      {"host-time", "Host time per call (back-to-back calls, no synchronisation)", HostOverheadGrid,
       nullptr, nullptr},
      {"first-call", "First call (compile + autotune, wall time)", FirstCallGrid, nullptr, nullptr},
  };
  static const std::vector<Section> kUntimed = {
      {"correctness", "Correctness (no timings)", CorrectnessGrid, nullptr, nullptr},
  };
  return timed ? kTimed : kUntimed;
}

bool Shown(const Section& section, const TaskTable& table) {
  return section.shown == nullptr || section.shown(table);
}

std::vector<std::string> SectionNotes(const Section& section, const TaskTable& table) {
  return section.notes == nullptr ? std::vector<std::string>{} : section.notes(table);
}

}  // namespace tritonize
