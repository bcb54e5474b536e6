#pragma once

// What a run shows while it runs (stderr): on a terminal, a live view of the lanes (what each
// GPU times, jobs preparing, queued and why they wait, done, an ETA) under the finished jobs'
// lines; elsewhere the lines, and, after a minute without one, what each job in progress does and
// why the queued ones wait (a log must not go silent while a job holds a lane for minutes). The
// footer gives the wall time and each lane's busy share.

#include <atomic>
#include <chrono>
#include <mutex>
#include <ostream>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "run/runner.h"

namespace tritonize {

class Progress {
 public:
  /// `live`: redraw the view every quarter second (a terminal); else print lines, and the state
  /// of the run (InProgress) whenever `quiet_s` pass without a line.
  Progress(const Runner& runner, size_t total, std::ostream& out, bool live, double quiet_s = 60);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  /// A line above the view (a finished job). Thread-safe.
  void Print(const std::string& line);
  /// Stops the view and prints the footer.
  void Finish(const RunnerStats& stats);

  /// The view's lines now (tested without a terminal).
  std::string View();
  /// The run's state as plain lines: each job in progress (its lane, how long, what it does on the
  /// lane or why it waits) and why the queued jobs wait (Runner::Waits).
  std::string InProgress();

 private:
  void Draw();  // under mutex_
  void Clear();  // under mutex_

  const Runner& runner_;
  size_t total_;
  size_t done_ = 0;
  std::ostream& out_;
  bool live_;
  std::mutex mutex_;
  int drawn_ = 0;  // lines of the view on screen
  double quiet_s_;
  std::chrono::steady_clock::time_point last_line_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::chrono::steady_clock::time_point started_;
};

/// "wall 95.3 s for 24 jobs, 8 at once; GPU 0: busy 71% of the wall time (timing 58%) ..."
std::string FooterLine(const RunnerStats& stats, int jobs);
/// The same as JSON, for the run's stored environment.
nlohmann::json RunnerStatsToJson(const RunnerStats& stats, int jobs);

/// Whether stderr is a terminal that can take the live view.
bool StderrIsTerminal();

}  // namespace tritonize
