#pragma once

// The task lint's checks that need no worker (tritonize tasks --lint): do the sizes fit the GPU's
// memory, are the interpreter's sizes small enough for CI. The checks that run the worker (the
// baseline's output varies, a copy fails, the experts pass) are in src/cli/tasks_command.cpp.
#include <string>
#include <vector>

#include "core/implementation.h"
#include "core/task.h"

namespace tritonize {

/// One line of the lint's table.
struct LintFinding {
  std::string task;
  // memory, scratch_disk, interpreter_sizes, baseline, copy_fails, expert:<name>, ...
  std::string check;
  std::string result;  // ok | FAIL | skipped
  std::string detail;
};

/// Elements the interpreter may draw per call at one of a task's interpret_check_sizes, and the
/// arithmetic it may do (the cost formula's flops): above these, CI under the interpreter is slow.
constexpr double kInterpretMaxElements = 1 << 20;
constexpr double kInterpretMaxFlops = 1e9;

/// InputBytes' bytes_per_element for the width the reference step stores an input's dtype at:
/// float32 for a dtype of the schema's reference.narrow_bytes or fewer, float64 for the others.
constexpr double kReferenceStored = -1;

/// Bytes of all tensor inputs at `size` at `bytes_per_element` (0: each input's own dtype;
/// kReferenceStored: as the reference stores it; formulas round down); false with *err for a size
/// or shape that does not evaluate.
bool InputBytes(const Task& task, const std::string& size, double bytes_per_element, double* bytes,
                std::string* err);

/// What the float64 reference step needs on the GPU at `size`, roughly: its inputs, outputs and
/// gradients in float64 (three times the inputs), or the manifest's peak_bytes scaled from the
/// task's dtype to float64, whichever is larger.
bool ReferenceBytes(const Task& task, const std::string& size, double* bytes, std::string* err);

/// What a step of an implementation of `kind` needs on the GPU at `size`, roughly: four copies of
/// its inputs and two of its forward outputs (a checked call and its repeat); for the task's own
/// PyTorch (RunsTaskPyTorch: the baseline, torch.compile), the manifest's peak_bytes (the
/// baseline's peak, in the task's own dtype) where that is larger. A Triton kernel (an expert's,
/// an LLM's) is counted by its inputs and outputs: attention's experts held 6 GiB where the
/// baseline's score matrices held 71 (H100, 2026-12-05).
bool CandidateBytes(const Task& task, const std::string& size, ImplKind kind, double* bytes,
                    std::string* err);

/// The most a job of `task` and `kind` needs on the GPU over its check sizes: CandidateBytes, plus
/// ReferenceBytes when `with_reference` (the job that makes the task's reference); 0 when a size
/// does not evaluate (the job then fails on its own).
double JobGpuBytes(const Task& task, ImplKind kind, bool with_reference);

/// Whether the worker checks `size` once (python/tritonize_worker/cases.py): its tensor inputs come
/// to more than the schema's plan.full_check_bytes.
bool CheckedOnce(const Task& task, const std::string& size);

/// What a job checks (exec/worker.h CheckSizesFor, CheckSeedsFor): its sizes and the number of its
/// seeds, the run's hidden ones included, and whether the run has a seed (then a task with
/// distributions gets a hidden variant of one).
struct CheckPlanShape {
  std::vector<std::string> sizes;
  int seeds = 1;
  bool run_seeded = false;
};

/// How many check cases the worker makes at `size`: one when CheckedOnce, else every seed with the
/// manifest's draw, each distribution and, when `run_seeded`, the run's hidden variant of one.
int CheckCasesAt(const Task& task, const std::string& size, int seeds, bool run_seeded);

/// What a job of `task` writes to the scratch disk, roughly: the candidate's outputs of every check
/// case (the forward's what the manifest's [cost.forward] bytes has beyond the inputs, else as
/// large as the inputs; the backward's as large as the inputs; in forward mode once more for the
/// first seed's cases (the determinism guard) and for each extra call of a random op's property
/// checks, the schema's output_check_calls), every mode's once more at the last size (the late
/// check), plus, when `with_reference`, the task's reference of the same cases as it is stored
/// (kReferenceStored; no forward output when every output is checked by its properties); 0 when a
/// size does not evaluate. On the H200 (2026-12-04) an estimate that left out the hidden size and
/// seed and the property checks' calls let the suite fill the disk.
double JobDiskBytes(const Task& task, const CheckPlanShape& plan, bool with_reference);

/// The memory check over the check sizes (`gpu_bytes`: the GPU's memory) and the interpreter
/// check over the interpret sizes.
std::vector<LintFinding> LintSizes(const Task& task, double gpu_bytes);

}  // namespace tritonize
