// The runner over fake GPU lanes: real lane locks (python/tritonize_worker/lane.py) taken by a
// stand-in worker that sleeps where a real one checks or times, so that the scheduling can be
// tested on the CPU: exclusive holds overlap nothing on their lane, jobs spread over lanes, a
// job that dies or hangs never stalls a lane.
#include "run/runner.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "../support/test_dir.h"
#include "core/task_lint.h"
#include "core/task_suite.h"
#include "run/progress.h"

namespace tritonize {
namespace {

namespace fs = std::filesystem;

struct Hold {
  std::string kind;
  double start, end;
  int lane;
  size_t job;
};

class RunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* python = std::getenv("TRITONIZE_PYTHON");
    if (python == nullptr) GTEST_SKIP() << "TRITONIZE_PYTHON is not set (scripts/test.sh sets it)";
    dir_ = FreshTestDir("runner");
    std::vector<std::string> errors;
    ASSERT_TRUE(TaskSuite::Load(fs::path(TRITONIZE_SOURCE_DIR) / "tasks", &suite_, &errors));
    const fs::path wrapper = dir_ / "python";
    std::ofstream(wrapper) << "#!/bin/sh\nexec " << python << " "
                           << (fs::path(TRITONIZE_SOURCE_DIR) /
                               "tests/fixtures/workers/fake_lane_worker.py")
                                  .string()
                           << " \"$@\"\n";
    fs::permissions(wrapper, fs::perms::owner_all);
    options_.python = wrapper.string();
    options_.package_dir = fs::path(TRITONIZE_SOURCE_DIR) / "python";
    options_.scratch_dir = dir_ / "scratch" / "jobs";
    fs::create_directories(options_.scratch_dir);
    options_.timeout_s = 30;
    options_.sandbox.mode = SandboxMode::kOff;
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  /// `count` fake GPU lanes with lock files in the test's folder.
  std::vector<GpuLane> Lanes(int count) {
    std::vector<GpuLane> lanes;
    for (int i = 0; i < count; ++i) {
      const fs::path lock = dir_ / ("gpu" + std::to_string(i) + ".lock");
      const fs::path gate = dir_ / ("gpu" + std::to_string(i) + ".gate");
      std::ofstream(lock).close();
      std::ofstream(gate).close();
      lanes.push_back({i, std::to_string(i), "GPU " + std::to_string(i), lock, gate});
    }
    return lanes;
  }

  Implementation Candidate(const std::string& name, const std::string& actions) {
    const fs::path path = dir_ / (name + ".py");
    std::ofstream(path) << actions;
    Implementation impl;
    impl.kind = ImplKind::kCandidate;
    impl.name = name;
    impl.path = path;
    impl.entry = "softmax";
    return impl;
  }

  /// Candidate's stand-in as a baseline: counted by the task's peak_bytes (RunsTaskPyTorch).
  Implementation Baseline(const std::string& name, const std::string& actions) {
    Implementation impl = Candidate(name, actions);
    impl.kind = ImplKind::kBaseline;
    return impl;
  }

  /// Runs the jobs (each of its task) and waits; results in submission order.
  static std::vector<RunnerOutcome> RunAll(
      Runner& runner, const std::vector<std::pair<const Task*, Implementation>>& jobs) {
    std::vector<RunnerOutcome> outcomes(jobs.size());
    std::mutex mutex;
    for (size_t i = 0; i < jobs.size(); ++i) {
      runner.Submit(
          {jobs[i].first, jobs[i].second, 0, jobs[i].second.name, static_cast<int64_t>(i)},
          [&, i](const RunnerJob&, RunnerOutcome outcome) {
            std::lock_guard<std::mutex> lock(mutex);
            outcomes[i] = std::move(outcome);
          });
    }
    runner.Drain();
    return outcomes;
  }
  /// The same, every job of softmax.
  std::vector<RunnerOutcome> RunAll(Runner& runner, const std::vector<Implementation>& impls) {
    std::vector<std::pair<const Task*, Implementation>> jobs;
    for (const auto& impl : impls) jobs.emplace_back(suite_.Find("softmax"), impl);
    return RunAll(runner, jobs);
  }

  static std::vector<Hold> Holds(const std::vector<RunnerOutcome>& outcomes) {
    std::vector<Hold> holds;
    for (size_t j = 0; j < outcomes.size(); ++j) {
      const auto& env = outcomes[j].result.environment;
      if (!env.contains("lane")) continue;
      for (const auto& h : env["lane"]["holds"]) {
        holds.push_back({h[0].get<std::string>(), h[1].get<double>(), h[2].get<double>(),
                         outcomes[j].lane, j});
      }
    }
    return holds;
  }

  static bool Overlap(const Hold& a, const Hold& b) { return a.start < b.end && b.start < a.end; }
  /// Whether holds of two different jobs overlapped: the jobs ran beside each other.
  static bool JobsOverlapped(const std::vector<RunnerOutcome>& outcomes) {
    const std::vector<Hold> holds = Holds(outcomes);
    for (const auto& a : holds) {
      for (const auto& b : holds) {
        if (a.job != b.job && Overlap(a, b)) return true;
      }
    }
    return false;
  }

  /// Job `job` held its lane (at least once), and none of its holds overlaps another job's, on any
  /// lane.
  static void ExpectHoldsOverlapNoOtherJobs(const std::vector<RunnerOutcome>& outcomes,
                                            size_t job) {
    const auto holds = Holds(outcomes);
    int mine = 0;
    for (const auto& hold : holds) {
      if (hold.job != job) continue;
      ++mine;
      for (const auto& other : holds) {
        if (other.job != job) {
          EXPECT_FALSE(Overlap(hold, other)) << "job " << other.job << " on lane " << other.lane;
        }
      }
    }
    EXPECT_GT(mine, 0);
  }

  /// Two jobs at once on one lane whose memory has room for two jobs of `bytes` each.
  RunnerOptions OneLaneForTwoJobsOf(double bytes) {
    RunnerOptions runner_options;
    runner_options.jobs = 2;
    runner_options.lanes = Lanes(1);
    runner_options.lanes[0].memory_bytes = (2 * bytes + 1) / 0.8;
    return runner_options;
  }

  /// Every job ok, and no hold of one job overlapping a hold of another.
  static void ExpectOkOneAtATime(const std::vector<RunnerOutcome>& outcomes) {
    for (const auto& outcome : outcomes) {
      EXPECT_EQ(outcome.result.status, Status::kOk) << outcome.result.message;
    }
    const auto holds = Holds(outcomes);
    for (const auto& a : holds) {
      for (const auto& b : holds) {
        if (a.job != b.job) {
          EXPECT_FALSE(Overlap(a, b)) << "jobs " << a.job << " and " << b.job;
        }
      }
    }
  }

  /// By job: the start of its first hold and the end of its last.
  static std::map<size_t, std::pair<double, double>> Spans(
      const std::vector<RunnerOutcome>& outcomes) {
    std::map<size_t, std::pair<double, double>> span;
    for (const auto& hold : Holds(outcomes)) {
      auto [found, fresh] = span.try_emplace(hold.job, hold.start, hold.end);
      if (!fresh) {
        found->second.first = std::min(found->second.first, hold.start);
        found->second.second = std::max(found->second.second, hold.end);
      }
    }
    return span;
  }

  /// Runner::Waits once it says anything (within 5 s).
  static std::vector<std::string> FirstWaits(const Runner& runner) {
    std::vector<std::string> waits;
    for (int tries = 0; tries < 50 && waits.empty(); ++tries) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      waits = runner.Waits();
    }
    return waits;
  }

  fs::path dir_;
  TaskSuite suite_;
  WorkerOptions options_;
};

TEST_F(RunnerTest, TimingHoldsItsLaneAloneWhileOtherJobsCheckAtTheSameTime) {
  RunnerOptions runner_options;
  runner_options.jobs = 3;
  runner_options.lanes = Lanes(1);
  Runner runner(options_, runner_options);
  std::vector<Implementation> impls;
  for (int i = 0; i < 6; ++i) {
    impls.push_back(Candidate("c" + std::to_string(i), "check 0.3\ntime 0.2\ncheck 0.1\n"));
  }
  const auto outcomes = RunAll(runner, impls);
  for (const auto& outcome : outcomes) {
    ASSERT_EQ(outcome.result.status, Status::kOk) << outcome.result.message;
  }
  const auto holds = Holds(outcomes);
  int shared_overlaps = 0;
  for (const Hold& a : holds) {
    for (const Hold& b : holds) {
      if (a.job == b.job || !Overlap(a, b)) continue;
      EXPECT_FALSE(a.kind == "exclusive" || b.kind == "exclusive")
          << "job " << a.job << " " << a.kind << " [" << a.start << ", " << a.end
          << "] overlaps job " << b.job << " " << b.kind << " [" << b.start << ", " << b.end << "]";
      ++shared_overlaps;
    }
  }
  EXPECT_GT(shared_overlaps, 0) << "no two jobs ever checked at the same time";
  const RunnerStats stats = runner.Stats();
  ASSERT_EQ(stats.lanes.size(), 1u);
  EXPECT_EQ(stats.lanes[0].jobs, 6);
  EXPECT_NEAR(stats.lanes[0].exclusive_s, 6 * 0.2, 0.3);
  EXPECT_GT(stats.lanes[0].busy_s, stats.lanes[0].exclusive_s);
  EXPECT_LE(stats.lanes[0].busy_s, stats.wall_s);
}

TEST_F(RunnerTest, JobsSpreadOverLanesAndEachRunsOnItsLanesGpu) {
  RunnerOptions runner_options;
  runner_options.jobs = 4;
  runner_options.lanes = Lanes(2);
  Runner runner(options_, runner_options);
  std::vector<Implementation> impls;
  for (int i = 0; i < 4; ++i) impls.push_back(Candidate("c" + std::to_string(i), "time 0.4\n"));
  const auto outcomes = RunAll(runner, impls);
  std::map<int, int> per_lane;
  for (const auto& outcome : outcomes) {
    ASSERT_EQ(outcome.result.status, Status::kOk) << outcome.result.message;
    ++per_lane[outcome.lane];
    EXPECT_EQ(outcome.result.environment["devices"], std::to_string(outcome.lane));
    EXPECT_EQ(outcome.result.environment["lane"]["index"], outcome.lane);
  }
  EXPECT_EQ(per_lane[0], 2);
  EXPECT_EQ(per_lane[1], 2);
  // Two lanes time at once; on one lane never two.
  const auto holds = Holds(outcomes);
  bool across = false;
  for (const Hold& a : holds) {
    for (const Hold& b : holds) {
      if (a.job == b.job || !Overlap(a, b)) continue;
      EXPECT_NE(a.lane, b.lane);
      across = true;
    }
  }
  EXPECT_TRUE(across);
}

TEST_F(RunnerTest, AJobThatDiesHoldingTheLaneDoesNotStallIt) {
  RunnerOptions runner_options;
  runner_options.jobs = 2;
  runner_options.lanes = Lanes(1);
  Runner runner(options_, runner_options);
  const auto outcomes = RunAll(runner, {Candidate("dies", "check 0.1\ndie_timing\n"),
                                        Candidate("next", "check 0.2\ntime 0.2\n"),
                                        Candidate("last", "time 0.2\n")});
  EXPECT_EQ(outcomes[0].result.status, Status::kCrashed);
  EXPECT_NE(outcomes[0].result.message.find("exited with code 7"), std::string::npos)
      << outcomes[0].result.message;
  EXPECT_EQ(outcomes[1].result.status, Status::kOk) << outcomes[1].result.message;
  EXPECT_EQ(outcomes[2].result.status, Status::kOk) << outcomes[2].result.message;
}

TEST_F(RunnerTest, AJobOutOfGpuMemoryAmongOthersRunsAgainWithItsLaneToItself) {
  RunnerOptions runner_options;
  runner_options.jobs = 3;
  runner_options.lanes = Lanes(1);
  Runner runner(options_, runner_options);
  const auto outcomes = RunAll(runner, {Candidate("oom", "check 0.2\noom\n"),
                                        Candidate("a", "check 0.6\ntime 0.2\n"),
                                        Candidate("b", "check 0.6\ntime 0.2\n"),
                                        Candidate("c", "check 0.3\n")});
  // Out of memory alone too: that verdict is its own.
  ASSERT_EQ(outcomes[0].result.status, Status::kRuntimeError);
  const auto& rerun = outcomes[0].result.environment["rerun_alone"];
  ASSERT_TRUE(rerun.is_object()) << outcomes[0].result.environment.dump();
  EXPECT_EQ(rerun["first_status"], "runtime_error");
  EXPECT_NE(rerun["first_message"].get<std::string>().find("CUDA out of memory"), std::string::npos);
  for (size_t i = 1; i < outcomes.size(); ++i) {
    EXPECT_EQ(outcomes[i].result.status, Status::kOk) << outcomes[i].result.message;
    EXPECT_FALSE(outcomes[i].result.environment.contains("rerun_alone"));
  }
  // The rerun's holds (its environment is the rerun's) overlap no other job's.
  ExpectHoldsOverlapNoOtherJobs(outcomes, 0);
}

// The job that must run again alone does not stop the lane while the jobs beside it end: it goes
// to the queue's end and runs once the lane is empty, the queued jobs running meanwhile. (Before,
// the lane took no job until the others had ended: in the H200 suite run of 2026-12-05 one of them
// ran for minutes, and nothing started.)
TEST_F(RunnerTest, QueuedJobsKeepStartingWhileAJobWaitsToRunAlone) {
  RunnerOptions runner_options;
  runner_options.jobs = 2;
  runner_options.lanes = Lanes(1);
  Runner runner(options_, runner_options);
  std::vector<Implementation> impls{Candidate("oom", "check 0.1\noom\n"),
                                    Candidate("long", "check 2.0\n")};
  for (int i = 0; i < 3; ++i) {
    impls.push_back(Candidate("s" + std::to_string(i), "check 0.2\n"));
  }
  const auto outcomes = RunAll(runner, impls);
  for (size_t i = 1; i < outcomes.size(); ++i) {
    EXPECT_EQ(outcomes[i].result.status, Status::kOk) << outcomes[i].result.message;
  }
  auto span = Spans(outcomes);  // by job: first hold's start, last's end
  ASSERT_EQ(span.size(), outcomes.size());
  // The short jobs ran beside the long one, after the out-of-memory end...
  for (size_t i = 2; i < outcomes.size(); ++i) EXPECT_LT(span[i].first, span[1].second) << i;
  // ...and the rerun after every other job had ended.
  for (size_t i = 1; i < outcomes.size(); ++i) EXPECT_GE(span[0].first, span[i].second) << i;
  const auto& rerun = outcomes[0].result.environment["rerun_alone"];
  ASSERT_TRUE(rerun.is_object()) << outcomes[0].result.environment.dump();
  EXPECT_GT(rerun["waited_s"].get<double>(), 1.0);  // the long job's end
  EXPECT_EQ(runner.Stats().reruns_alone, 1);
}

// While it waits, the runner says so.
TEST_F(RunnerTest, AJobWaitingToRunAloneIsNamedInTheWaits) {
  RunnerOptions runner_options;
  runner_options.jobs = 2;
  runner_options.lanes = Lanes(1);
  Runner runner(options_, runner_options);
  runner.Submit({suite_.Find("softmax"), Candidate("oom", "check 0.1\noom\n"), 0, "softmax oom", 0},
                [](const RunnerJob&, RunnerOutcome) {});
  runner.Submit({suite_.Find("softmax"), Candidate("long", "check 3.0\n"), 0, "softmax long", 1},
                [](const RunnerJob&, RunnerOutcome) {});
  const std::vector<std::string> waits = FirstWaits(runner);
  ASSERT_EQ(waits.size(), 1u);
  EXPECT_EQ(waits[0],
            "1 waits to run again alone, once the lane has no job: softmax oom (out of GPU memory "
            "beside other jobs)");
  runner.Drain();
}

// A job that finds the scratch disk full (other jobs' files filled it) is not judged by it: it runs
// again once no job runs on any lane, and its verdict is its own.
TEST_F(RunnerTest, AJobThatFindsTheScratchDiskFullRunsAgainWithEveryLaneToItself) {
  RunnerOptions runner_options;
  runner_options.jobs = 4;
  runner_options.lanes = Lanes(2);
  Runner runner(options_, runner_options);
  const auto outcomes = RunAll(
      runner, {Candidate("full", "check 0.2\nnospace_once\ntime 0.1\n"),
               Candidate("a", "check 0.6\ntime 0.2\n"), Candidate("b", "check 0.6\ntime 0.2\n"),
               Candidate("c", "check 0.6\n"), Candidate("d", "check 0.3\n")});
  for (const auto& outcome : outcomes) {
    EXPECT_EQ(outcome.result.status, Status::kOk) << outcome.result.message;
  }
  const auto& rerun = outcomes[0].result.environment["rerun_alone"];
  ASSERT_TRUE(rerun.is_object()) << outcomes[0].result.environment.dump();
  EXPECT_NE(rerun["why"].get<std::string>().find("scratch disk"), std::string::npos);
  EXPECT_NE(rerun["first_message"].get<std::string>().find("No space left on device"),
            std::string::npos);
  for (size_t i = 1; i < outcomes.size(); ++i) {
    EXPECT_FALSE(outcomes[i].result.environment.contains("rerun_alone"));
  }
  // The rerun's holds overlap no other job's, on either lane.
  ExpectHoldsOverlapNoOtherJobs(outcomes, 0);
}

TEST(OutOfScratchDiskTest, NamesTheSystemsErrorAndAStepThatWroteNothingOnAFullDisk) {
  JobResult result;
  result.status = Status::kRuntimeError;
  result.message = "worker error: OSError: [Errno 28] No space left on device: 'outputs'";
  EXPECT_TRUE(OutOfScratchDisk(result));
  result.status = Status::kCrashed;
  result.message = std::string("worker exited with code 1 and wrote no result; ") + kScratchFull +
                   " (3 MiB free)";
  EXPECT_TRUE(OutOfScratchDisk(result));
  result.message = "worker exited with code 1 and wrote no result";
  EXPECT_FALSE(OutOfScratchDisk(result));
  // A candidate's own wrong answer that happens to print the words is still its verdict.
  result.status = Status::kWrongResult;
  result.message = "No space left on device";
  EXPECT_FALSE(OutOfScratchDisk(result));
  EXPECT_EQ(ScratchFullNote(std::filesystem::temp_directory_path()), "")
      << "this test expects more than 256 MiB free in the temporary folder";
}

// `eval` and `serve` judge one candidate, with no --resume: on a full disk it gets no verdict.
TEST(FullDiskTest, ASingleEvaluationOnAFullDiskGetsNoVerdict) {
  JobResult result;
  result.status = Status::kRuntimeError;
  result.message =
      "worker error: SafetensorError: Error while serializing: I/O error: No space "
      "left on device (os error 28)";
  result.timings.push_back(Timing());
  ASSERT_TRUE(NoVerdictOnAFullDisk("/scratch/jobs", &result));
  EXPECT_EQ(result.status, Status::kUnavailable);
  EXPECT_EQ(result.message,
            "not judged: the scratch disk was full (make room on the disk of /scratch/jobs and run "
            "it again): worker error: SafetensorError: Error while serializing: I/O error: No "
            "space left on device (os error 28)");
  EXPECT_TRUE(result.timings.empty());
  // Any other result is the candidate's own.
  JobResult wrong;
  wrong.status = Status::kWrongResult;
  wrong.message = "No space left on device";
  EXPECT_FALSE(NoVerdictOnAFullDisk("/scratch/jobs", &wrong));
  EXPECT_EQ(wrong.status, Status::kWrongResult);
}

// A reference step out of GPU memory is the GPU's state, not the baseline's verdict: it is not kept
// for the task's other jobs, and the job it failed runs again alone and makes it.
TEST_F(RunnerTest, AReferenceOutOfGpuMemoryIsMadeAgainNotKeptAsTheTasksFailure) {
  const fs::path references = options_.scratch_dir.parent_path() / "references";
  fs::create_directories(references);
  std::ofstream(references / "oom-once").close();
  RunnerOptions runner_options;
  runner_options.jobs = 2;
  runner_options.lanes = Lanes(1);
  Runner runner(options_, runner_options);
  const auto outcomes =
      RunAll(runner, {Candidate("a", "check 0.2\n"), Candidate("b", "check 0.2\n")});

  EXPECT_FALSE(fs::exists(references / "oom-once"));
  int reruns = 0;
  for (const auto& outcome : outcomes) {
    EXPECT_EQ(outcome.result.status, Status::kOk) << outcome.result.message;
    if (outcome.result.environment.contains("rerun_alone")) {
      ++reruns;
      EXPECT_NE(outcome.result.environment["rerun_alone"]["first_message"].get<std::string>().find(
                    "the baseline failed: OutOfMemoryError"),
                std::string::npos);
    }
  }
  EXPECT_EQ(reruns, 1);
}

// A job that runs alone after running out of GPU memory makes its task's reference before its
// candidate step starts, not beside it: on an H100 (2026-12-06) attention's LLM column ran alone,
// made the task's float64 reference (about 68 GiB) while its candidate step checked, and was stored
// `runtime_error`, out of memory, with 15 MiB of the GPU free.
TEST_F(RunnerTest, AJobRunningAloneMakesItsReferenceBeforeItsCandidateStep) {
  const fs::path references = options_.scratch_dir.parent_path() / "references";
  fs::create_directories(references);
  std::ofstream(references / "oom-once").close();
  std::ofstream(references / "reference-seconds") << "0.6";
  RunnerOptions runner_options;
  runner_options.jobs = 2;
  runner_options.lanes = Lanes(1);
  Runner runner(options_, runner_options);
  const auto outcomes = RunAll(runner, {Candidate("a", "check 0.2\n")});
  ASSERT_EQ(outcomes[0].result.status, Status::kOk) << outcomes[0].result.message;
  const nlohmann::json& environment = outcomes[0].result.environment;
  ASSERT_TRUE(environment.contains("rerun_alone")) << environment.dump();
  // Its first run's reference was not made, so the rerun, which makes it, counted it again.
  EXPECT_GT(environment["admitted_gpu_mib"]["of_it_reference"].get<double>(), 0.0)
      << environment["admitted_gpu_mib"].dump();
  // The rerun made the reference (its first run's reference step ran out of memory): each of the
  // candidate step's holds began after the reference step's last had ended.
  ASSERT_TRUE(environment.contains("reference_lane")) << environment.dump();
  double reference_ended = 0;
  for (const auto& hold : environment["reference_lane"]["holds"]) {
    reference_ended = std::max(reference_ended, hold[2].get<double>());
  }
  ASSERT_GT(reference_ended, 0.0);
  ASSERT_FALSE(environment["lane"]["holds"].empty());
  for (const auto& hold : environment["lane"]["holds"]) {
    EXPECT_GE(hold[1].get<double>(), reference_ended) << environment["lane"].dump();
  }
}

/// A pid no process has now: a child's, once it has exited and been reaped.
int EndedPid() {
  const pid_t child = fork();
  if (child == 0) _exit(0);
  int status = 0;
  waitpid(child, &status, 0);
  return static_cast<int>(child);
}

// What an engine no longer running left under the scratch root (its reference files and their
// steps' folders, job folders, trusted caches: each named with its pid, so no later engine can use
// them) goes when a runner starts, before the disk's free space is counted; a running engine's
// (this one's, another bench's on the same root) and files of no engine's naming stay. On the H100
// a suite resumed over three calls found the disk full of an earlier call's references.
TEST_F(RunnerTest, FilesOfEnginesNoLongerRunningAreRemovedWhenARunnerStarts) {
  const fs::path root = options_.scratch_dir.parent_path();
  const int ended = EndedPid();
  const int running = static_cast<int>(getppid());  // the test's parent: running, not this process
  const auto write = [](const fs::path& path, size_t bytes) {
    fs::create_directories(path.parent_path());
    std::ofstream(path) << std::string(bytes, 'x');
  };
  const std::string key = "0123456789abcdef";
  const auto name = [&](const std::string& stem, int pid) {
    return stem + "-" + std::to_string(pid);
  };
  // The ended engine's: a reference, its parts and its step's folder; a job folder; a cache.
  write(root / "references" / (name("softmax-" + key, ended) + ".safetensors"), 1000);
  write(root / "references" / (name("softmax-" + key, ended) + ".safetensors.part1"), 500);
  write(root / "references" / name("softmax-" + key, ended) / "result.json", 20);
  write(root / "jobs" / (name("softmax-llm", ended) + "-7") / "outputs.safetensors", 2000);
  write(root / "caches" / name("matmul-expert", ended) / "triton" / "kernel.cubin", 300);
  // A running engine's, and what no engine's naming describes.
  write(root / "references" / (name("softmax-" + key, running) + ".safetensors"), 1000);
  write(root / "jobs" / (name("softmax-llm", running) + "-0") / "outputs.safetensors", 10);
  write(root / "caches" / name("matmul-expert", running) / "kernel.cubin", 10);
  write(root / "references" / "notes.safetensors", 10);
  write(root / "jobs" / "keep-me" / "file", 10);

  RunnerOptions runner_options;
  runner_options.jobs = 1;
  runner_options.lanes = Lanes(1);
  Runner runner(options_, runner_options);
  const LeftBehind removed = runner.Stats().left_behind;

  EXPECT_EQ(removed.entries, 5);
  EXPECT_DOUBLE_EQ(removed.bytes, 1000 + 500 + 20 + 2000 + 300);
  EXPECT_EQ(removed.pids, std::vector<int>{ended});
  EXPECT_FALSE(fs::exists(root / "references" / (name("softmax-" + key, ended) + ".safetensors")));
  EXPECT_FALSE(fs::exists(root / "references" / name("softmax-" + key, ended)));
  EXPECT_FALSE(fs::exists(root / "jobs" / (name("softmax-llm", ended) + "-7")));
  EXPECT_FALSE(fs::exists(root / "caches" / name("matmul-expert", ended)));
  EXPECT_TRUE(fs::exists(root / "references" / (name("softmax-" + key, running) + ".safetensors")));
  EXPECT_TRUE(fs::exists(root / "jobs" / (name("softmax-llm", running) + "-0")));
  EXPECT_TRUE(fs::exists(root / "caches" / name("matmul-expert", running)));
  EXPECT_TRUE(fs::exists(root / "references" / "notes.safetensors"));
  EXPECT_TRUE(fs::exists(root / "jobs" / "keep-me"));
  // Said in the footer and the run's record.
  EXPECT_NE(FooterLine(runner.Stats(), 1)
                .find("removed at the start 0.00 GiB (5 files and "
                      "folders) that 1 engines no longer running had "
                      "left under the scratch root"),
            std::string::npos)
      << FooterLine(runner.Stats(), 1);
  EXPECT_EQ(RunnerStatsToJson(runner.Stats(), 1)["left_behind_removed"]["entries"], 5);
}

// A lane's jobs fit in 80% of its GPU's memory by their estimates (core/task_lint.h): with room for
// one job, they run one at a time, and the runner says how long they waited.
TEST_F(RunnerTest, JobsThatDoNotFitInTheGpusMemoryTogetherRunOneAtATime) {
  RunnerOptions runner_options;
  runner_options.jobs = 3;
  runner_options.lanes = Lanes(1);
  runner_options.lanes[0].memory_bytes = 1;  // room for no job beside another
  Runner runner(options_, runner_options);
  const auto outcomes =
      RunAll(runner, {Candidate("a", "check 0.3\n"), Candidate("b", "check 0.3\n"),
                      Candidate("c", "check 0.3\n")});
  ExpectOkOneAtATime(outcomes);
  const RunnerStats stats = runner.Stats();
  EXPECT_EQ(stats.memory_waits, 2);
  EXPECT_GT(stats.memory_wait_s, 0.3);
  // Each job's record has the estimate it was admitted by, beside its steps' measured peaks: the
  // first counted its task's reference too (`of_it_reference`), the others not.
  const Task& softmax = *suite_.Find("softmax");
  const double mib = 1024.0 * 1024.0;
  const double with = JobGpuBytes(softmax, ImplKind::kCandidate, true) / mib,
               without = JobGpuBytes(softmax, ImplKind::kCandidate, false) / mib;
  ASSERT_GT(with, without);
  for (size_t i = 0; i < outcomes.size(); ++i) {
    const auto& admitted = outcomes[i].result.environment["admitted_gpu_mib"];
    ASSERT_TRUE(admitted.is_object()) << outcomes[i].result.environment.dump();
    EXPECT_NEAR(admitted["job"].get<double>(), i == 0 ? with : without, 0.06) << i;
    EXPECT_NEAR(admitted["of_it_reference"].get<double>(), i == 0 ? with - without : 0, 0.06) << i;
  }
}

TEST_F(RunnerTest, JobsWhoseFilesDoNotFitOnTheDiskTogetherRunOneAtATime) {
  const Task& softmax = *suite_.Find("softmax");
  ASSERT_GT(JobDiskBytes(softmax, {softmax.check_sizes, 2, false}, false), 0);
  RunnerOptions runner_options;
  runner_options.jobs = 3;
  runner_options.lanes = Lanes(1);
  runner_options.disk_bytes = 1;  // room for no job's files beside another's
  Runner runner(options_, runner_options);
  const auto outcomes =
      RunAll(runner, {Candidate("a", "check 0.3\n"), Candidate("b", "check 0.3\n"),
                      Candidate("c", "check 0.3\n")});
  ExpectOkOneAtATime(outcomes);
  const RunnerStats stats = runner.Stats();
  EXPECT_EQ(stats.disk_waits, 2);
  EXPECT_GT(stats.disk_wait_s, 0.3);
  EXPECT_EQ(stats.memory_waits, 0);
}

// The task's reference stays on the disk until no job of the task will run again: its estimate
// counts until then, and a job that fits beside the others' outputs then starts.
TEST_F(RunnerTest, AKeptReferenceCountsOnTheDiskUntilItIsRemoved) {
  const Task& softmax = *suite_.Find("softmax");
  const double with = JobDiskBytes(softmax, {softmax.check_sizes, 2, false}, true);
  const double without = JobDiskBytes(softmax, {softmax.check_sizes, 2, false}, false);
  ASSERT_GT(with, without);
  RunnerOptions runner_options;
  runner_options.jobs = 2;
  runner_options.lanes = Lanes(1);
  runner_options.disk_bytes = with + without / 2;  // a's outputs and reference, not b's beside them
  Runner runner(options_, runner_options);
  auto outcomes = RunAll(runner, {Candidate("a", "check 0.3\n")});
  ASSERT_EQ(outcomes[0].result.status, Status::kOk) << outcomes[0].result.message;
  // a ended; its reference is kept: b alone fits (a job with none running always does), but b and
  // c together would not, so they run one after the other.
  outcomes = RunAll(runner, {Candidate("b", "check 0.3\n"), Candidate("c", "check 0.3\n")});
  EXPECT_EQ(runner.Stats().disk_waits, 1);
  runner.RemoveReferences("softmax");
  outcomes = RunAll(runner, {Candidate("d", "check 0.3\n"), Candidate("e", "check 0.3\n")});
  EXPECT_EQ(runner.Stats().disk_waits, 1);  // with the reference gone, d and e fit together
}

// A job that cannot start for want of GPU memory does not hold back the smaller jobs behind it:
// two threads, an attention job running, an attention_noncausal job that does not fit beside it,
// and two softmax jobs that do. The softmax jobs run beside the first attention job.
TEST_F(RunnerTest, AJobThatDoesNotFitYetDoesNotHoldBackSmallerJobsBehindIt) {
  const Task& big = *suite_.Find("attention");
  const Task& other = *suite_.Find("attention_noncausal");
  const Task& small = *suite_.Find("softmax");
  const double softmax_both = JobGpuBytes(small, ImplKind::kCandidate, true) +
                              JobGpuBytes(small, ImplKind::kCandidate, false);
  ASSERT_GT(JobGpuBytes(big, ImplKind::kBaseline, false), softmax_both);
  RunnerOptions runner_options;
  runner_options.jobs = 2;
  runner_options.lanes = Lanes(1);
  // Room for one attention job and its reference with both softmax jobs, not for two attention
  // jobs.
  runner_options.lanes[0].memory_bytes =
      (JobGpuBytes(big, ImplKind::kBaseline, true) + softmax_both) / 0.8 + 1;
  Runner runner(options_, runner_options);
  const std::vector<std::pair<const Task*, Implementation>> jobs{
      {&big, Baseline("a", "check 1.5\n")},
      {&other, Baseline("b", "check 0.2\n")},
      {&small, Candidate("c", "check 0.3\n")},
      {&small, Candidate("d", "check 0.3\n")}};
  const auto outcomes = RunAll(runner, jobs);
  for (const auto& outcome : outcomes) {
    ASSERT_EQ(outcome.result.status, Status::kOk) << outcome.result.message;
  }
  auto span = Spans(outcomes);  // by job: its first hold's start, last's end
  ASSERT_EQ(span.size(), 4u);
  // c and d both checked while a did; b only after a had ended.
  EXPECT_LT(span[2].second, span[0].second);
  EXPECT_LT(span[3].second, span[0].second);
  EXPECT_GE(span[1].first, span[0].second);
  const RunnerStats stats = runner.Stats();
  EXPECT_EQ(stats.memory_waits, 1);  // b
}

// The queue's first job is overtaken a bounded number of times (twice per thread): then the jobs
// behind it wait for it, so that a stream of small jobs cannot keep a large one waiting forever.
TEST_F(RunnerTest, AJobOvertakenOftenEnoughStartsBeforeTheJobsBehindIt) {
  const Task& big = *suite_.Find("attention");
  const Task& other = *suite_.Find("attention_noncausal");
  const Task& small = *suite_.Find("softmax");
  RunnerOptions runner_options;
  runner_options.jobs = 2;
  runner_options.lanes = Lanes(1);
  // Room for an attention job and its reference beside softmax jobs, not beside another attention
  // job.
  runner_options.lanes[0].memory_bytes = (JobGpuBytes(big, ImplKind::kBaseline, true) +
                                          JobGpuBytes(small, ImplKind::kCandidate, true)) /
                                             0.8 +
                                         1;
  Runner runner(options_, runner_options);
  // a runs for 5 s; b cannot start beside it; eight short softmax jobs queue behind b.
  std::vector<std::pair<const Task*, Implementation>> jobs{{&big, Baseline("a", "check 5.0\n")},
                                                           {&other, Baseline("b", "check 0.1\n")}};
  for (int i = 0; i < 8; ++i) {
    jobs.push_back({&small, Candidate("s" + std::to_string(i), "check 0.1\n")});
  }
  const auto outcomes = RunAll(runner, jobs);
  std::map<size_t, double> first_hold;
  double a_ended = 0;
  for (const auto& hold : Holds(outcomes)) {
    auto [found, fresh] = first_hold.try_emplace(hold.job, hold.start);
    if (!fresh) found->second = std::min(found->second, hold.start);
    if (hold.job == 0) a_ended = std::max(a_ended, hold.end);
  }
  ASSERT_EQ(first_hold.size(), jobs.size());
  // b started only once a had ended. Four softmax jobs (twice the threads) overtook b beside a; the
  // other four waited for b to start.
  EXPECT_GE(first_hold[1], a_ended);
  int beside_a = 0;
  for (size_t i = 2; i < jobs.size(); ++i) beside_a += first_hold[i] < a_ended ? 1 : 0;
  EXPECT_EQ(beside_a, 4);
}

// While a job waits for GPU memory, the runner says so with the figures it counted, and the
// statistics count the wait before the job starts (an interrupted run's footer then shows it).
TEST_F(RunnerTest, AQueuedJobSaysItWaitsForGpuMemoryWithTheFiguresCounted) {
  const Task& big = *suite_.Find("attention");
  const Task& other = *suite_.Find("attention_noncausal");
  RunnerOptions runner_options;
  runner_options.jobs = 2;
  runner_options.lanes = Lanes(1);
  runner_options.lanes[0].memory_bytes =
      (JobGpuBytes(big, ImplKind::kBaseline, true) + 1) / 0.8;  // one at a time
  Runner runner(options_, runner_options);
  std::ostringstream out;
  Progress progress(runner, 2, out, /*live=*/false, /*quiet_s=*/0.5);
  std::atomic<int> ended{0};
  runner.Submit({&big, Baseline("a", "check 3.0\n"), 0, "attention a", 0},
                [&](const RunnerJob&, RunnerOutcome) { ++ended; });
  runner.Submit({&other, Baseline("b", "check 0.1\n"), 0, "attention_noncausal b", 1},
                [&](const RunnerJob&, RunnerOutcome) { ++ended; });
  const std::vector<std::string> waits = FirstWaits(runner);
  ASSERT_EQ(waits.size(), 1u);
  EXPECT_EQ(waits[0].rfind("1 wait for GPU memory: the first, attention_noncausal b, needs ", 0),
            0u)
      << waits[0];
  EXPECT_NE(waits[0].find("; GPU 0 counts "), std::string::npos) << waits[0];
  EXPECT_NE(waits[0].find(" GiB for 1 jobs"), std::string::npos) << waits[0];
  const RunnerStats waiting = runner.Stats();
  EXPECT_EQ(waiting.memory_waits, 1);
  EXPECT_GT(waiting.memory_wait_s, 0.0);
  EXPECT_EQ(ended.load(), 0);
  // A minute's silence in a log, here half a second: the state of the run, then and there.
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  const std::string text = out.str();
  EXPECT_NE(text.find(" elapsed, 0/2 done, 1 in progress, 1 queued\n"), std::string::npos) << text;
  EXPECT_NE(text.find("  attention a on GPU 0: "), std::string::npos) << text;
  EXPECT_NE(text.find(" s, shared check\n"), std::string::npos) << text;
  EXPECT_NE(text.find("  queued: 1 wait for GPU memory: the first, attention_noncausal b"),
            std::string::npos)
      << text;
  runner.Drain();
  progress.Finish(runner.Stats());
  EXPECT_TRUE(runner.Waits().empty());
  EXPECT_EQ(runner.Stats().memory_waits, 1);  // b's wait, counted once
}

TEST_F(RunnerTest, AQueuedJobSaysItWaitsForTheScratchDiskWithTheReferencesKept) {
  const Task& small = *suite_.Find("softmax");
  const Task& other = *suite_.Find("layernorm");
  const CheckPlanShape plan{CheckSizesFor(small, options_),
                            static_cast<int>(CheckSeedsFor(small, options_).size()), false};
  RunnerOptions runner_options;
  runner_options.jobs = 2;
  runner_options.lanes = Lanes(1);
  runner_options.disk_bytes = JobDiskBytes(small, plan, true) + 1;  // a's files and no more
  Runner runner(options_, runner_options);
  runner.Submit({&small, Candidate("a", "check 2.0\n"), 0, "softmax a", 0},
                [](const RunnerJob&, RunnerOutcome) {});
  runner.Submit({&other, Candidate("b", "check 0.1\n"), 0, "layernorm b", 1},
                [](const RunnerJob&, RunnerOutcome) {});
  const std::vector<std::string> waits = FirstWaits(runner);
  ASSERT_EQ(waits.size(), 1u);
  EXPECT_EQ(
      waits[0].rfind("1 wait for room on the scratch disk: the first, layernorm b, needs ", 0), 0u)
      << waits[0];
  EXPECT_NE(waits[0].find("GiB counted for 1 running jobs and the references kept (softmax "),
            std::string::npos)
      << waits[0];
  runner.Drain();
}

// What a job's worker last said it did on its lane is handed back with its end: an interrupted
// job's line says it ("interrupted after 312 s, while: exclusive timing forward 4096").
TEST_F(RunnerTest, WhatAJobLastDidOnItsLaneIsHandedBack) {
  RunnerOptions runner_options;
  runner_options.jobs = 2;
  runner_options.lanes = Lanes(1);
  Runner runner(options_, runner_options);
  const auto outcomes = RunAll(
      runner, {Candidate("dies", "check 0.1\ndie_timing\n"), Candidate("ends", "time 0.1\n")});
  EXPECT_EQ(outcomes[0].last_status, "exclusive timing");  // it died holding the lane
  EXPECT_EQ(outcomes[1].last_status, "");                  // it gave the lane back
}

// The task's first job counts its float64 reference only until the reference is made: then a
// second job fits beside it.
TEST_F(RunnerTest, TheFirstJobsReferenceStopsCountingOnceMade) {
  const Task& softmax = *suite_.Find("softmax");
  const double with = JobGpuBytes(softmax, ImplKind::kCandidate, true);
  const double without = JobGpuBytes(softmax, ImplKind::kCandidate, false);
  // Room for two jobs without a reference: the first job, counting its reference, fits alone
  // and fills the lane until its reference is made.
  const double room = 2 * without + 1;
  ASSERT_LE(with, room);
  ASSERT_GT(with + without, room);
  RunnerOptions runner_options;
  runner_options.jobs = 2;
  runner_options.lanes = Lanes(1);
  runner_options.lanes[0].memory_bytes = room / 0.8;
  Runner runner(options_, runner_options);
  const auto outcomes =
      RunAll(runner, {Candidate("a", "check 1.0\n"), Candidate("b", "check 1.0\n")});
  for (const auto& outcome : outcomes) {
    EXPECT_EQ(outcome.result.status, Status::kOk) << outcome.result.message;
  }
  // Both checked at once: b's check began before a's ended.
  const auto holds = Holds(outcomes);
  bool together = false;
  for (const auto& a : holds) {
    for (const auto& b : holds) {
      if (a.job == 0 && b.job == 1 && Overlap(a, b)) together = true;
    }
  }
  EXPECT_TRUE(together);
  EXPECT_EQ(runner.Stats().memory_waits, 1);
}

// The estimate is the baseline's peak at one size; what a job's steps held can be several times it
// (asin's candidate steps on the H100, 2026-12-05: 10.3 GiB against an estimate of 1.5). Once a job
// of a task has ended, its measured peak admits the task's later jobs of its group where it is the
// larger: an expert's, the kernels (experts', LLMs', candidates').
TEST_F(RunnerTest, AnEndedJobsMeasuredPeakAdmitsTheTasksLaterJobs) {
  const double without = JobGpuBytes(*suite_.Find("softmax"), ImplKind::kCandidate, false);
  Runner runner(options_, OneLaneForTwoJobsOf(without));
  const double peak_mib = std::round(15 * without / (1024.0 * 1024.0)) / 10;  // 1.5 times it
  // A candidate's figure steers nothing (its process reports it); the expert's does.
  const std::string held = "check 0.1\npeak " + std::to_string(peak_mib) + "\n";
  Implementation expert = Candidate("a", held);
  expert.kind = ImplKind::kExpert;
  const auto first = RunAll(runner, {Candidate("llm", held), expert});
  for (const auto& outcome : first) {
    ASSERT_EQ(outcome.result.status, Status::kOk) << outcome.result.message;
    EXPECT_EQ(outcome.result.environment["admitted_gpu_mib"]["by"], "the estimate");
  }

  const auto later = RunAll(runner, {Candidate("b", "check 0.5\n"), Candidate("c", "check 0.5\n")});
  ExpectOkOneAtATime(later);  // two of 1.5 times the estimate do not fit where two of it do
  for (const auto& outcome : later) {
    const auto& admitted = outcome.result.environment["admitted_gpu_mib"];
    EXPECT_EQ(admitted["by"], "an ended job's peak") << admitted.dump();
    EXPECT_NEAR(admitted["job"].get<double>(), peak_mib, 0.06) << admitted.dump();
  }
}

// The baseline's PyTorch can hold what no kernel does (attention's score matrices: 71 GiB on the
// H100, 2026-12-05, against 6 for the expert, and every later column of the task ran alone): its
// peak admits the task's later baseline and torch.compile jobs, not its kernels.
TEST_F(RunnerTest, ABaselinesPeakAdmitsItsCompileColumnNotTheTasksKernels) {
  const double without = JobGpuBytes(*suite_.Find("softmax"), ImplKind::kCandidate, false);
  Runner runner(options_, OneLaneForTwoJobsOf(without));
  const double peak_mib = std::round(15 * without / (1024.0 * 1024.0)) / 10;  // 1.5 times it
  Implementation baseline = Candidate("a", "check 0.1\npeak " + std::to_string(peak_mib) + "\n");
  baseline.kind = ImplKind::kBaseline;
  ASSERT_EQ(RunAll(runner, {baseline})[0].result.status, Status::kOk);

  // Two kernels fit together, by the estimate.
  const auto kernels =
      RunAll(runner, {Candidate("b", "check 1.0\n"), Candidate("c", "check 1.0\n")});
  EXPECT_TRUE(JobsOverlapped(kernels));
  for (const auto& outcome : kernels) {
    EXPECT_EQ(outcome.result.environment["admitted_gpu_mib"]["by"], "the estimate");
  }
  // Two compile jobs do not, by the baseline's peak.
  Implementation compile_d = Candidate("d", "check 0.5\n");
  compile_d.kind = ImplKind::kCompile;
  Implementation compile_e = Candidate("e", "check 0.5\n");
  compile_e.kind = ImplKind::kCompile;
  const auto compiles = RunAll(runner, {compile_d, compile_e});
  ExpectOkOneAtATime(compiles);
  for (const auto& outcome : compiles) {
    EXPECT_EQ(outcome.result.environment["admitted_gpu_mib"]["by"], "an ended job's peak");
  }
}

// A resumed run's stored jobs count as ended ones: the suite, run over several device calls, admits
// its later calls' jobs by the peaks of the earlier calls' (PlanRun's LoadStored).
TEST_F(RunnerTest, AStoredJobsMeasuredPeakAdmitsTheTasksJobs) {
  const double without = JobGpuBytes(*suite_.Find("softmax"), ImplKind::kCandidate, false);
  JobResult stored;
  stored.status = Status::kOk;
  stored.environment = {{"gpu_peak_mib", 0.9 * without / (1024.0 * 1024.0)},
                        {"compare_gpu_peak_mib", 0.6 * without / (1024.0 * 1024.0)}};
  // As in TheFirstJobsReferenceStopsCountingOnceMade, the second job checks beside the first once
  // its reference is made: a candidate's stored figure (1.5 times the estimate) steers nothing.
  Runner llm_only(options_, OneLaneForTwoJobsOf(without));
  llm_only.LearnFromStored("softmax", ImplKind::kLlm, stored);
  const auto together =
      RunAll(llm_only, {Candidate("a", "check 1.0\n"), Candidate("b", "check 1.0\n")});
  EXPECT_TRUE(JobsOverlapped(together));
  // An expert's does: the two do not fit.
  Runner runner(options_, OneLaneForTwoJobsOf(without));
  runner.LearnFromStored("softmax", ImplKind::kExpert, stored);
  const auto outcomes =
      RunAll(runner, {Candidate("a", "check 1.0\n"), Candidate("b", "check 1.0\n")});
  ExpectOkOneAtATime(outcomes);
  for (const auto& outcome : outcomes) {
    EXPECT_EQ(outcome.result.environment["admitted_gpu_mib"]["by"], "an ended job's peak");
  }
}

// Through one launcher for every step (--launcher slurm's seam; a local one stands in for the
// cluster's here) the lanes are no GPUs of this machine: out of memory is the verdict, not rerun.
TEST_F(RunnerTest, AJobOutOfGpuMemoryOnClusterLanesIsNotRunAgain) {
  ProcessLauncher steps(options_);
  RunnerOptions runner_options;
  runner_options.jobs = 3;
  runner_options.lanes = ClusterLanes(3);
  runner_options.steps = &steps;
  Runner runner(options_, runner_options);
  const auto outcomes =
      RunAll(runner, {Candidate("oom", "check 0.2\noom\n"), Candidate("a", "check 0.6\n"),
                      Candidate("b", "check 0.6\n")});
  ASSERT_EQ(outcomes[0].result.status, Status::kRuntimeError) << outcomes[0].result.message;
  EXPECT_NE(outcomes[0].result.message.find("CUDA out of memory"), std::string::npos);
  for (const auto& outcome : outcomes) {
    EXPECT_FALSE(outcome.result.environment.contains("rerun_alone"))
        << outcome.result.environment.dump();
  }
  for (size_t i = 1; i < outcomes.size(); ++i) {
    EXPECT_EQ(outcomes[i].result.status, Status::kOk) << outcomes[i].result.message;
  }
}

TEST_F(RunnerTest, AHungJobTimesOutWhileTheOthersFinish) {
  options_.timeout_s = 3;
  RunnerOptions runner_options;
  runner_options.jobs = 2;
  runner_options.lanes = Lanes(1);
  Runner runner(options_, runner_options);
  const auto outcomes = RunAll(
      runner, {Candidate("hangs", "hang\n"), Candidate("a", "time 0.1\n"), Candidate("b", "time 0.1\n")});
  EXPECT_EQ(outcomes[0].result.status, Status::kTimeout);
  EXPECT_EQ(outcomes[1].result.status, Status::kOk);
  EXPECT_EQ(outcomes[2].result.status, Status::kOk);
}

TEST_F(RunnerTest, PreStartedProcessesServeTheCandidates) {
  RunnerOptions runner_options;
  runner_options.jobs = 2;
  runner_options.lanes = Lanes(1);
  runner_options.warm = true;
  Runner runner(options_, runner_options);
  std::vector<Implementation> impls;
  for (int i = 0; i < 5; ++i) impls.push_back(Candidate("c" + std::to_string(i), "time 0.1\n"));
  const auto outcomes = RunAll(runner, impls);
  std::set<int> pids;
  for (const auto& outcome : outcomes) {
    ASSERT_EQ(outcome.result.status, Status::kOk) << outcome.result.message;
    pids.insert(outcome.result.environment["pid"].get<int>());
  }
  EXPECT_EQ(pids.size(), 5u);  // still a process per candidate
  const RunnerStats stats = runner.Stats();
  EXPECT_EQ(stats.warm_claims + stats.fresh_claims, 5);
  EXPECT_GE(stats.warm_claims, 3);  // only the first jobs can find none ready
}

// A job that runs alone for want of GPU memory has the GPU without the pre-started processes, each
// of which holds a CUDA context (eleven held 6.7 GiB beside a job "alone" on an H100, 2026-12-06):
// they end when it starts, none starts while it runs, and the pool fills again after it.
TEST_F(RunnerTest, AJobRunningAloneForGpuMemoryHasNoPreStartedProcessBesideIt) {
  RunnerOptions runner_options;
  runner_options.jobs = 2;
  runner_options.lanes = Lanes(1);
  runner_options.warm = true;
  Runner runner(options_, runner_options);
  const auto outcomes =
      RunAll(runner, {Candidate("oom", "check 0.2\nready_beside\noom_once\n"),
                      Candidate("a", "check 0.6\nready_beside\n"), Candidate("b", "check 0.3\n")});
  for (const auto& outcome : outcomes) {
    ASSERT_EQ(outcome.result.status, Status::kOk) << outcome.result.message;
  }
  // Beside the others, processes were ready (the test sees them)...
  EXPECT_FALSE(outcomes[1].result.environment["ready_beside"].empty())
      << outcomes[1].result.environment.dump();
  // ...and none beside the rerun, which ended those there were.
  const nlohmann::json& alone = outcomes[0].result.environment;
  ASSERT_TRUE(alone.contains("rerun_alone")) << alone.dump();
  EXPECT_TRUE(alone["ready_beside"].empty()) << alone.dump();
  EXPECT_GE(alone["rerun_alone"]["ready_processes_ended"].get<int>(), 1) << alone.dump();
  // Afterwards the pool starts them again.
  const auto after =
      RunAll(runner, {Candidate("c", "check 0.1\n"), Candidate("d", "check 0.6\nready_beside\n")});
  ASSERT_EQ(after[1].result.status, Status::kOk) << after[1].result.message;
  EXPECT_FALSE(after[1].result.environment["ready_beside"].empty())
      << after[1].result.environment.dump();
}

TEST_F(RunnerTest, AdmitRefusesAJobWhichThenIsNotRun) {
  RunnerOptions runner_options;
  runner_options.lanes = Lanes(1);
  Runner runner(options_, runner_options);
  runner.SetAdmit([](const RunnerJob& job) { return job.tag != 1; });
  const auto outcomes =
      RunAll(runner, {Candidate("a", "time 0.05\n"), Candidate("refused", "time 0.05\n")});
  EXPECT_TRUE(outcomes[0].ran);
  EXPECT_FALSE(outcomes[1].ran);
  EXPECT_EQ(outcomes[1].result.status, Status::kUnavailable);
}

TEST_F(RunnerTest, TheLiveViewSaysWhatEachLaneTimes) {
  RunnerOptions runner_options;
  runner_options.jobs = 2;
  runner_options.lanes = Lanes(2);
  Runner runner(options_, runner_options);
  std::ostringstream out;
  Progress progress(runner, 2, out, /*live=*/false);
  for (int i = 0; i < 2; ++i) {
    runner.Submit({suite_.Find("softmax"), Candidate("c" + std::to_string(i), "time 3\n"), 0,
                   "softmax c" + std::to_string(i), i},
                  [](const RunnerJob&, RunnerOutcome) {});
  }
  // Both jobs time at once, one on each lane; the view reads their workers' status lines.
  std::string view;
  for (int tries = 0; tries < 100; ++tries) {
    view = progress.View();
    if (view.find("GPU 0    timing softmax c") != std::string::npos &&
        view.find("GPU 1    timing softmax c") != std::string::npos) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_NE(view.find("GPU 0    timing softmax c"), std::string::npos) << view;
  EXPECT_NE(view.find("(timing)"), std::string::npos) << view;
  EXPECT_NE(view.find("0 preparing, 0 queued, 0/2 done"), std::string::npos) << view;
  runner.Drain();
  progress.Finish(runner.Stats());
  EXPECT_NE(out.str().find("tritonize: wall "), std::string::npos);
}

TEST(ProgressTest, FooterSaysTheWallTimeAndEachLanesBusyShare) {
  RunnerStats stats;
  stats.wall_s = 100;
  stats.lanes = {{"GPU 0", 12, 71.2, 58.4, 3}, {"GPU 1", 11, 64.9, 50.0, 1}};
  stats.warm_claims = 20;
  stats.fresh_claims = 3;
  EXPECT_EQ(FooterLine(stats, 8),
            "wall 100.0 s, 8 at once; GPU 0: 12 jobs, lane busy 71% of the wall time (timing "
            "58%); GPU 1: 11 jobs, lane busy 65% of the wall time (timing 50%); candidate "
            "processes: 20 pre-started, 3 started for their job");
  const nlohmann::json j = RunnerStatsToJson(stats, 8);
  EXPECT_DOUBLE_EQ(j["lanes"][0]["busy_share"].get<double>(), 0.712);
}

TEST(LanesTest, TheInterpreterGetsOneCpuLaneWithoutALock) {
  std::vector<std::string> errors;
  const auto lanes = MakeLanes("", true, "/nonexistent", &errors);
  ASSERT_EQ(lanes.size(), 1u);
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(lanes[0].label, "cpu");
  EXPECT_TRUE(lanes[0].lock.empty());
}

TEST(LanesTest, GivenGpusGetALaneEachWithLockFilesNamedByGpu) {
  const fs::path dir = FreshTestDir("lanes");
  std::vector<std::string> errors;
  // No nvidia-smi here (or one that lists other GPUs): a UUID needs no lookup.
  const auto lanes = MakeLanes("GPU-aaaa,GPU-bbbb", false, dir, &errors);
  if (!errors.empty()) GTEST_SKIP() << errors[0];  // a machine whose nvidia-smi lists its own
  ASSERT_EQ(lanes.size(), 2u);
  EXPECT_EQ(lanes[1].devices, "GPU-bbbb");
  EXPECT_EQ(lanes[1].lock, dir / "GPU-bbbb.lock");
  EXPECT_TRUE(fs::exists(lanes[1].gate));
  fs::remove_all(dir);
}

TEST(JobsTest, DefaultJobsAreAtLeastOneAndAtMostTwelveALane) {
  EXPECT_GE(DefaultJobs(1), 1);
  EXPECT_LE(DefaultJobs(1), 12);
  EXPECT_LE(DefaultJobs(2), 24);
}

}  // namespace
}  // namespace tritonize
