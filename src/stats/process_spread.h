#pragma once

#include <cstddef>
#include <vector>

#include "stats/stats.h"

namespace tritonize {

/// How much a kernel's median moves from one fresh process to the next, pooled over many
/// cells (implementation, size, mode) of one run: the variance of log(process median) about
/// its cell's mean, summed over cells and divided by the pooled degrees of freedom
/// sum(processes - 1). Two processes per cell say little about that cell alone (one degree
/// of freedom); a run's 48 cells say a lot about the GPU and the method (docs/measurement.md).
struct ProcessSpread {
  double log_variance = 0;  // of log(process median)
  int df = 0;               // 0: no cell had two processes, nothing is known
  int cells = 0;            // cells that contributed
};

/// The pooled spread of `cells`, each the samples of one cell grouped by process. Cells with
/// fewer than two non-empty processes, or a median that is not positive, add nothing.
ProcessSpread PooledProcessSpread(const std::vector<SampleGroups>& cells);

/// The q-quantile of Student's t distribution with df > 0 degrees of freedom (q in (0, 1));
/// NaN outside those. Exact to about 1e-10: bisection on the CDF, which is the regularized
/// incomplete beta function.
double StudentTQuantile(double q, double df);

/// `ci` widened to hold at least point * exp(+-t * sqrt(s2 * (1/n + 1/d))), where s2 is the
/// pooled log variance, n and d the processes on each side and t Student's quantile at the
/// pooled df: a between-process interval that does not rest on the two processes of this
/// one cell. Unchanged when the spread has no df or a side has no process.
RatioCi WidenByProcessSpread(const RatioCi& ci, const ProcessSpread& spread, size_t num_processes,
                             size_t den_processes, double confidence);

}  // namespace tritonize
