#pragma once

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>

#include "report/grid.h"
#include "report/leaderboard.h"
#include "report/report_format.h"

namespace tritonize {

constexpr int kLeaderboardJsonSchemaVersion = 1;

/// # | Model | Tasks | n | pass@1 | pass@k | fast_1.0 and fast_2.0 against the baseline and
/// the expert | LLM/Expert | 95% CI | Cells >= expert | Tokens/correct | USD/correct.
Grid LeaderboardGrid(const Leaderboard& board);

/// The same per model and task.
Grid TaskStandingsGrid(const Leaderboard& board);

/// The models' geomean LLM/Expert with their intervals, as an SVG interval chart.
std::string LeaderboardChart(const Leaderboard& board);

nlohmann::json LeaderboardToJson(const Leaderboard& board);

/// The leaderboard's section of an HTML page: chart, tables, notes.
void PrintLeaderboardHtml(const Leaderboard& board, std::ostream& out);

/// The leaderboard in `format`, after `heading` (what it was built from). The notes are its
/// footer: the definitions and the caveats the caller added.
void PrintLeaderboard(ReportFormat format, const Leaderboard& board, const std::string& heading,
                      std::ostream& out);

}  // namespace tritonize
