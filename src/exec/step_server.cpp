#include "exec/step_server.h"

#include <fmt/format.h>

namespace tritonize {

StepServer::Outcome StepServer::Run(const SubprocessOptions& start, const std::string& line,
                                    double timeout_s, std::string* reply, std::string* why) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!process_.running()) {
    if (!process_.Start(start, why)) return Outcome::kUnavailable;
    ++starts_;
  }
  switch (process_.Ask(line, timeout_s, reply)) {
    case Coprocess::Reply::kLine:
      return Outcome::kDone;
    case Coprocess::Reply::kTimedOut:
      *why = fmt::format("no answer within {:.0f} s", timeout_s);
      return Outcome::kTimedOut;
    case Coprocess::Reply::kInterrupted:
      *why = "interrupted by the user";
      return Outcome::kInterrupted;
    case Coprocess::Reply::kExited:
      break;
  }
  *why = "the step server " + (process_.ended().empty() ? "ended" : process_.ended()) +
         " without answering";
  return Outcome::kUnavailable;
}

int StepServer::starts() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return starts_;
}

int StepServer::fallbacks() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return fallbacks_;
}

void StepServer::CountFallback() {
  std::lock_guard<std::mutex> lock(mutex_);
  ++fallbacks_;
}

}  // namespace tritonize
