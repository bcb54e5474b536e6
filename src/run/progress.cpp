#include "run/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>

#include "core/sha256.h"

namespace tritonize {
namespace {

std::string Clock(double seconds) {
  const int s = static_cast<int>(seconds + 0.5);
  return fmt::format("{}:{:02d}", s / 60, s % 60);
}

std::string StatusLine(const std::filesystem::path& path) {
  // Written in the job's folder, which its candidate could write to: never read through a link.
  std::string text;
  std::string err;
  if (path.empty() || !ReadRegularFile(path, &text, &err, 4096)) return {};
  return text.substr(0, text.find('\n'));
}

double Share(double part, double wall) { return wall > 0 ? 100.0 * part / wall : 0.0; }

}  // namespace

bool StderrIsTerminal() {
  const char* term = std::getenv("TERM");
  return isatty(STDERR_FILENO) && term != nullptr && std::string(term) != "dumb";
}

Progress::Progress(const Runner& runner, size_t total, std::ostream& out, bool live, double quiet_s)
    : runner_(runner),
      total_(total),
      out_(out),
      live_(live),
      quiet_s_(quiet_s),
      last_line_(std::chrono::steady_clock::now()),
      started_(std::chrono::steady_clock::now()) {
  if (live_) {
    thread_ = std::thread([this] {
      while (!stop_.load()) {
        {
          std::lock_guard<std::mutex> lock(mutex_);
          Clear();
          Draw();
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
      }
    });
  } else if (quiet_s_ > 0) {
    thread_ = std::thread([this] {
      while (!stop_.load()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        const auto now = std::chrono::steady_clock::now();
        std::lock_guard<std::mutex> lock(mutex_);
        if (std::chrono::duration<double>(now - last_line_).count() < quiet_s_) continue;
        if (runner_.Running().empty() && runner_.Queued() == 0) continue;
        out_ << InProgress();
        out_.flush();
        last_line_ = now;
      }
    });
  }
}

Progress::~Progress() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

void Progress::Print(const std::string& line) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++done_;
  Clear();
  out_ << line << "\n";
  if (live_) Draw();
  out_.flush();
  last_line_ = std::chrono::steady_clock::now();
}

void Progress::Finish(const RunnerStats& stats) {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
  std::lock_guard<std::mutex> lock(mutex_);
  Clear();
  out_ << "tritonize: " << FooterLine(stats, runner_.jobs()) << "\n";
  out_.flush();
}

std::string Progress::View() {
  const auto running = runner_.Running();
  const auto& lanes = runner_.lanes();
  std::map<int, std::string> timing;  // lane -> what holds it exclusively
  std::map<int, int> preparing;
  std::map<int, int> waiting;
  std::string alone;  // jobs that wait to run alone, or run alone
  for (const auto& job : running) {
    const std::string status = StatusLine(job.status_file);
    if (!job.note.empty()) {
      alone += fmt::format("  {:<8} {}: {}\n", lanes[static_cast<size_t>(job.lane)].label,
                           job.label, job.note);
    } else if (status.rfind("exclusive", 0) == 0) {
      timing[job.lane] = fmt::format("{} ({})", job.label, status.substr(10));
    } else if (status.rfind("waiting exclusive", 0) == 0) {
      ++waiting[job.lane];
    } else {
      ++preparing[job.lane];
    }
  }
  std::string view;
  for (const auto& lane : lanes) {
    const auto held = timing.find(lane.index);
    view += fmt::format("  {:<8} {}{}\n", lane.label,
                        held != timing.end() ? "timing " + held->second : "no timing now",
                        waiting[lane.index] > 0
                            ? fmt::format("; {} waiting to time", waiting[lane.index])
                            : "");
  }
  int total_preparing = 0;
  for (const auto& [lane, count] : preparing) total_preparing += count;
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  std::string eta;
  if (done_ > 0 && done_ < total_) {
    eta = ", ETA " + Clock(elapsed / static_cast<double>(done_) * static_cast<double>(total_ - done_));
  }
  view += alone;
  view += fmt::format("  {} preparing, {} queued, {}/{} done, {} elapsed{}\n", total_preparing,
                      runner_.Queued(), done_, total_, Clock(elapsed), eta);
  for (const std::string& line : runner_.Waits()) view += "    " + line + "\n";
  return view;
}

std::string Progress::InProgress() {
  const auto running = runner_.Running();
  const auto& lanes = runner_.lanes();
  const auto now = std::chrono::steady_clock::now();
  std::string text = fmt::format("tritonize: {} elapsed, {}/{} done, {} in progress, {} queued\n",
                                 Clock(std::chrono::duration<double>(now - started_).count()),
                                 done_, total_, running.size(), runner_.Queued());
  for (const auto& job : running) {
    std::string doing = job.note;
    if (doing.empty()) {
      doing = StatusLine(job.status_file);
      if (doing.empty()) doing = "no hold of its lane (CPU work, or not started on the GPU yet)";
    }
    text += fmt::format(
        "  {} on {}: {} s, {}\n", job.label, lanes[static_cast<size_t>(job.lane)].label,
        static_cast<int>(std::chrono::duration<double>(now - job.started).count()), doing);
  }
  for (const std::string& line : runner_.Waits()) text += "  queued: " + line + "\n";
  return text;
}

void Progress::Draw() {
  const std::string view = View();
  out_ << view;
  out_.flush();
  drawn_ = 0;
  for (char c : view) drawn_ += c == '\n';
}

void Progress::Clear() {
  if (drawn_ > 0) out_ << fmt::format("\x1b[{}A\x1b[J", drawn_);
  drawn_ = 0;
}

std::string FooterLine(const RunnerStats& stats, int jobs) {
  std::string line = fmt::format("wall {:.1f} s, {} at once", stats.wall_s, jobs);
  for (const auto& lane : stats.lanes) {
    line += fmt::format("; {}: {} jobs, lane busy {:.0f}% of the wall time (timing {:.0f}%)",
                        lane.label, lane.jobs, Share(lane.busy_s, stats.wall_s),
                        Share(lane.exclusive_s, stats.wall_s));
  }
  if (stats.warm_claims + stats.fresh_claims > 0) {
    line += fmt::format("; candidate processes: {} pre-started, {} started for their job",
                        stats.warm_claims, stats.fresh_claims);
  }
  if (stats.disk_waits > 0) {
    line += fmt::format("; {} jobs waited {:.1f} s in all for room on the scratch disk",
                        stats.disk_waits, stats.disk_wait_s);
  }
  if (stats.memory_waits > 0) {
    line += fmt::format("; {} jobs waited {:.1f} s in all for GPU memory", stats.memory_waits,
                        stats.memory_wait_s);
  }
  if (stats.reruns_alone > 0) {
    line += fmt::format("; {} jobs ran again alone (out of GPU memory or disk beside others)",
                        stats.reruns_alone);
  }
  if (stats.left_behind.entries > 0) {
    line += fmt::format(
        "; removed at the start {:.2f} GiB ({} files and folders) that {} engines no longer "
        "running had left under the scratch root",
        stats.left_behind.bytes / (1024.0 * 1024.0 * 1024.0), stats.left_behind.entries,
        stats.left_behind.pids.size());
  }
  return line;
}

nlohmann::json RunnerStatsToJson(const RunnerStats& stats, int jobs) {
  nlohmann::json lanes = nlohmann::json::array();
  for (const auto& lane : stats.lanes) {
    lanes.push_back({{"lane", lane.label},
                     {"jobs", lane.jobs},
                     {"busy_s", lane.busy_s},
                     {"exclusive_s", lane.exclusive_s},
                     {"wait_s", lane.wait_s},
                     {"busy_share", stats.wall_s > 0 ? lane.busy_s / stats.wall_s : 0.0}});
  }
  return {{"wall_s", stats.wall_s},
          {"jobs_at_once", jobs},
          {"lanes", lanes},
          {"warm_claims", stats.warm_claims},
          {"fresh_claims", stats.fresh_claims},
          {"memory_waits", stats.memory_waits},
          {"memory_wait_s", stats.memory_wait_s},
          {"disk_waits", stats.disk_waits},
          {"disk_wait_s", stats.disk_wait_s},
          {"reruns_alone", stats.reruns_alone},
          {"left_behind_removed",
           {{"entries", stats.left_behind.entries},
            {"bytes", stats.left_behind.bytes},
            {"pids", stats.left_behind.pids}}}};
}

}  // namespace tritonize
