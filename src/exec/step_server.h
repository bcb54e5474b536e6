#pragma once

#include <mutex>
#include <string>

#include "exec/subprocess.h"

namespace tritonize {

/// One long-lived trusted worker (`python -m tritonize_worker --serve`) that runs steps sent to
/// it one at a time, instead of a fresh Python per step. Only for steps that never import
/// candidate code (the compare step): on the H100 a fresh compare step spent 4-13 s starting
/// Python and importing torch, 165 s of a 14-minute run (docs/measurement.md).
class StepServer {
 public:
  enum class Outcome {
    kDone,         // the server answered: the result file is written (or the reply says why not)
    kTimedOut,     // no answer within the timeout: the server was killed
    kInterrupted,  // the engine was interrupted: the server was killed
    kUnavailable,  // it could not start, or died without answering: run the step afresh
  };

  /// Sends one request line ("REQUEST<TAB>RESULT"), starting the server with `start` (argv,
  /// env, cwd, stderr_path) first when it is not running. `reply` gets the server's line,
  /// `why` the reason for anything but kDone. Thread-safe: callers take turns (generate scores
  /// several chains at once), each step's timeout counting from its turn.
  Outcome Run(const SubprocessOptions& start, const std::string& line, double timeout_s,
              std::string* reply, std::string* why);
  /// How many times a server process was started (1 for a run where it never failed).
  int starts() const;
  /// Steps the server could not take, run in a fresh process instead.
  int fallbacks() const;
  void CountFallback();

 private:
  mutable std::mutex mutex_;
  Coprocess process_;
  int starts_ = 0;
  int fallbacks_ = 0;
};

}  // namespace tritonize
