// One job's three steps and the engine's side of the worker protocol, against stand-in workers
// written in sh: the real worker is tested by python/tests and the CLI tests.
#include "run/job.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include "../support/test_dir.h"
#include "core/task_suite.h"
#include "run/plan_runner.h"
#include "run/server_launcher.h"

namespace tritonize {
namespace {

namespace fs = std::filesystem;

constexpr const char* kField =
    R"sh(field() { grep -o "\"$1\": \"[^\"]*\"" "$request" | head -1 | cut -d'"' -f4; }
)sh";
// The trusted steps of the stand-in: the reference writes an empty reference file, the compare
// step passes the candidate's result on; its first part (a request without the candidate's
// result) writes an empty `compared` file. Both keep their last request and its path. `served` is
// "" in a fresh process, " (served)" in a server's loop.
constexpr const char* kTrusted =
    R"sh(trusted() {
  role=$(field role)
  if [ "$role" = compare ] && [ -z "$(field candidate_result)" ]; then role="compare-first"; fi
  echo "$role$1" >> "$(dirname "$0")/steps.log" 2>/dev/null
  case "$role" in compare*)
    cp "$request" "$(dirname "$0")/$role-request.json"; echo "$request" > "$(dirname "$0")/$role-request-path";;
  esac
  case "$role" in
    reference) : > "$(field reference)"; echo '{"schema_version": 2, "status": "ok"}' > "$result"; return 0;;
    compare-first) echo '{}' > "$(field compared)"; echo '{"schema_version": 2, "status": "ok"}' > "$result"; return 0;;
    compare) cp "$(field candidate_result)" "$result"; return 0;;
  esac
  return 1
}
)sh";
constexpr const char* kDispatch = R"sh(if trusted ""; then exit 0; fi
)sh";

class WorkerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = FreshTestDir("worker");
    std::vector<std::string> errors;
    ASSERT_TRUE(TaskSuite::Load(fs::path(TRITONIZE_SOURCE_DIR) / "tasks", &suite_, &errors));
    impl_.kind = ImplKind::kCandidate;
    impl_.name = "candidate";
    impl_.path = dir_ / "candidate.py";
    impl_.entry = "softmax";
    options_.scratch_dir = dir_ / "jobs";
    options_.timeout_s = 10;
    options_.sandbox.mode = SandboxMode::kOff;
  }
  void TearDown() override { fs::remove_all(dir_); }

  /// A stand-in "python": argv is `-m tritonize_worker --request R --result S`. `body` is the
  /// candidate step; the reference step writes an empty reference, the compare step passes
  /// the candidate's result through, and each appends its role to steps.log.
  void FakePython(const std::string& body, const std::string& preamble = "") {
    fs::path script = dir_ / "python";
    std::ofstream(script) << "#!/bin/sh\n"
                          << kField << kTrusted << preamble
                          << "request=\"$4\"\nresult=\"$6\"\n"
                          << kDispatch << body << "\n";
    fs::permissions(script, fs::perms::owner_all);
    options_.python = script.string();
  }

  /// FakePython that, asked to --serve, runs `serve` (a loop over request lines, each
  /// "REQUEST<TAB>RESULT") instead of the one-step body.
  void FakeServingPython(const std::string& body, const std::string& serve) {
    FakePython(body,
               "if [ \"$3\" = --serve ]; then echo serving >> \"$(dirname \"$0\")/steps.log\"\n" +
                   serve + "\nexit 0; fi\n");
    servers_ = std::make_unique<ServerLauncher>(options_, dir_ / "servers", 1);
  }

  std::string Steps() const {
    std::ifstream in(dir_ / "steps.log");
    return {(std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()};
  }

  JobResult Run(const Implementation& impl, int process = 0) {
    ProcessLauncher fresh(options_);
    JobContext context;
    context.options = &options_;
    context.candidate = &fresh;
    context.trusted = servers_ ? static_cast<Launcher*>(servers_.get()) : &fresh;
    context.references = &references_;
    return RunJob(*suite_.Find("softmax"), impl, context, process);
  }
  JobResult Run() { return Run(impl_); }

  fs::path dir_;
  TaskSuite suite_;
  Implementation impl_;
  WorkerOptions options_;
  ReferenceCache references_;
  std::unique_ptr<ServerLauncher> servers_;  // set: trusted steps go to step servers
};

TEST_F(WorkerTest, ReadsTheResultFile) {
  FakePython(R"(echo '{"schema_version": 2, "status": "ok", "timings": [{"size": "1024x1024",
  "mode": "forward", "kernel_us": [5, 6], "call_us": [9]}]}' > "$result"; echo chatter)");
  JobResult r = Run();
  EXPECT_EQ(r.status, Status::kOk) << r.message;
  ASSERT_EQ(r.timings.size(), 1u);
  EXPECT_EQ(r.timings[0].kernel_us.size(), 2u);
}

TEST_F(WorkerTest, TheValuesAreComparedWhileTheCandidateStillTimes) {
  // The outputs file written whole after the checks, then a second of "timing": the compare
  // step's first part runs in it, and the compare step after it is told what the first part wrote.
  FakePython(R"sh(: > "$(field outputs)"; sleep 1; echo timed >> "$(dirname "$0")/steps.log"
  echo '{"schema_version": 2, "status": "ok"}' > "$result")sh");
  JobResult r = Run();
  EXPECT_EQ(r.status, Status::kOk) << r.message;
  EXPECT_NE(Steps().find("compare-first\ntimed\ncompare\n"), std::string::npos) << Steps();
  std::ifstream first(dir_ / "compare-first-request.json");
  const nlohmann::json part = nlohmann::json::parse(first);
  std::ifstream last(dir_ / "compare-request.json");
  const nlohmann::json request = nlohmann::json::parse(last);
  ASSERT_TRUE(request["files"].contains("compared")) << request.dump(2);
  EXPECT_EQ(request["files"]["compared"], part["files"]["compared"]);
  // Neither part's folder (its request, its result, what it compared) is the candidate's, which
  // the candidate could fill with links.
  const fs::path candidate_dir =
      fs::path(request["files"]["outputs"].get<std::string>()).parent_path();
  EXPECT_NE(fs::path(part["files"]["compared"].get<std::string>()).parent_path(), candidate_dir);
  for (const char* role : {"compare-first", "compare"}) {
    std::string path;
    std::getline(std::ifstream(dir_ / (std::string(role) + "-request-path")), path);
    EXPECT_NE(fs::path(path).parent_path(), candidate_dir) << role;
  }
}

TEST_F(WorkerTest, ACandidateThatEndsBeforeItsOutputsGetsOneCompareStep) {
  FakePython(R"(echo '{"schema_version": 2, "status": "ok"}' > "$result")");
  EXPECT_EQ(Run().status, Status::kOk);
  EXPECT_EQ(Steps().find("compare-first"), std::string::npos) << Steps();
  std::ifstream last(dir_ / "compare-request.json");
  EXPECT_FALSE(nlohmann::json::parse(last)["files"].contains("compared"));
}

TEST_F(WorkerTest, RequestCarriesTheManifestAndSizes) {
  FakePython(R"(cp "$request" "$(dirname "$0")/seen.json"; exit 1)");
  Run();
  std::ifstream in(dir_ / "seen.json");
  nlohmann::json request = nlohmann::json::parse(in);
  EXPECT_EQ(request["schema_version"], 2);
  EXPECT_EQ(request["role"], "candidate");
  EXPECT_EQ(request["task"]["name"], "softmax");
  EXPECT_EQ(request["implementation"]["entry"], "softmax");
  EXPECT_EQ(request["check"]["sizes"][0], "1823x781");
  EXPECT_EQ(request["timing"]["enabled"], true);
  EXPECT_GE(request["timing"]["calls"].get<int>(), 30);
  EXPECT_EQ(request["timing"]["autotune_timer"], "job");
}

TEST_F(WorkerTest, RequestCarriesTheAutotuneTimerAsked) {
  FakePython(R"(cp "$request" "$(dirname "$0")/seen.json"; exit 1)");
  options_.autotune_timer = "triton";
  Run();
  std::ifstream in(dir_ / "seen.json");
  EXPECT_EQ(nlohmann::json::parse(in)["timing"]["autotune_timer"], "triton");
}

TEST_F(WorkerTest, InterpretModeUsesSmallSizesAndNoTiming) {
  FakePython(
      R"(cp "$request" "$(dirname "$0")/seen.json"; echo "$TRITON_INTERPRET" > "$(dirname "$0")/env"; exit 1)");
  options_.interpret = true;
  Run();
  std::ifstream in(dir_ / "seen.json");
  nlohmann::json request = nlohmann::json::parse(in);
  EXPECT_EQ(request["check"]["sizes"][0], "37x93");
  EXPECT_EQ(request["timing"]["enabled"], false);
  EXPECT_EQ(request["device"], "cpu");
  std::ifstream env(dir_ / "env");
  std::string value;
  env >> value;
  EXPECT_EQ(value, "1");
}

TEST_F(WorkerTest, NonZeroExitWithoutResultIsCrashedWithStderr) {
  FakePython("echo 'Fatal Python error: Segmentation fault' >&2; exit 139");
  JobResult r = Run();
  EXPECT_EQ(r.status, Status::kCrashed);
  EXPECT_NE(r.message.find("exited with code 139"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("Segmentation fault"), std::string::npos) << r.message;
}

TEST_F(WorkerTest, SignalIsCrashed) {
  FakePython("kill -SEGV $$");
  JobResult r = Run();
  EXPECT_EQ(r.status, Status::kCrashed);
  EXPECT_NE(r.message.find("signal 11"), std::string::npos) << r.message;
}

TEST_F(WorkerTest, GarbageResultIsCrashed) {
  FakePython(R"(echo 'this is not json {' > "$result")");
  JobResult r = Run();
  EXPECT_EQ(r.status, Status::kCrashed);
  EXPECT_NE(r.message.find("unreadable result"), std::string::npos) << r.message;
}

TEST_F(WorkerTest, WrongShapeResultIsCrashed) {
  FakePython(R"(echo '{"schema_version": 2, "status": "splendid"}' > "$result")");
  JobResult r = Run();
  EXPECT_EQ(r.status, Status::kCrashed);
  EXPECT_NE(r.message.find("unknown status"), std::string::npos) << r.message;
}

TEST_F(WorkerTest, HangIsTimeout) {
  FakePython("sleep 30");
  options_.timeout_s = 0.5;
  JobResult r = Run();
  EXPECT_EQ(r.status, Status::kTimeout);
  EXPECT_LT(r.wall_s, 5.0);
}

// The server's loop: the fixture's trusted steps, for each line, then "done".
constexpr const char* kServeLoop =
    "tab=$(printf '\\t'); while IFS=\"$tab\" read -r request result; do\n"
    "  trusted \" (served)\"; echo done; done";
constexpr const char* kOkCandidate = R"(echo '{"schema_version": 2, "status": "ok"}' > "$result")";

/// The reference step and the first job's candidate step run at once (run/job.cpp): either may
/// log first. `after` is what follows the two.
bool FirstJobThen(const std::string& steps, const std::string& reference,
                  const std::string& after) {
  return steps == reference + "candidate\n" + after || steps == "candidate\n" + reference + after;
}

TEST_F(WorkerTest, TrustedStepsGoToOneServerProcess) {
  FakeServingPython(kOkCandidate, kServeLoop);
  EXPECT_EQ(Run().status, Status::kOk);
  JobResult second = Run();
  EXPECT_EQ(second.status, Status::kOk) << second.message;
  std::string steps = Steps();
  // The server starts for the reference step, which runs beside the first candidate step: its
  // "serving" comes before the reference, and may come after the candidate.
  const size_t serving = steps.find("serving\n");
  ASSERT_NE(serving, std::string::npos) << steps;
  EXPECT_EQ(steps.find("serving\n", serving + 1), std::string::npos) << steps;
  EXPECT_LT(serving, steps.find("reference (served)")) << steps;
  const std::string logged = steps;
  steps.erase(serving, 8);
  EXPECT_TRUE(FirstJobThen(steps, "reference (served)\n",
                           "compare (served)\ncandidate\ncompare (served)\n"))
      << logged;
  EXPECT_EQ(servers_->starts(), 1);
  EXPECT_EQ(servers_->fallbacks(), 0);
}

TEST_F(WorkerTest, ServerThatDiesIsReplacedByAFreshProcessForTheStep) {
  FakeServingPython(kOkCandidate, "read line; exit 1");
  JobResult r = Run();
  EXPECT_EQ(r.status, Status::kOk) << r.message;
  // Each trusted step finds the server dead, starts it again, and runs afresh after all (the
  // candidate step runs beside the first of them, so its line may come anywhere before the compare).
  const std::string steps = Steps();
  EXPECT_TRUE(steps == "serving\nreference\ncandidate\nserving\ncompare\n" ||
              steps == "serving\ncandidate\nreference\nserving\ncompare\n" ||
              steps == "candidate\nserving\nreference\nserving\ncompare\n")
      << steps;
  EXPECT_EQ(servers_->fallbacks(), 2);
}

TEST_F(WorkerTest, ServerThatHangsIsATimeoutOfTheCompareStep) {
  FakeServingPython(kOkCandidate,
                    "tab=$(printf '\\t'); IFS=\"$tab\" read -r request result; trusted ''; echo done\n"
                    "read line; sleep 30");
  options_.timeout_s = 0.5;
  JobResult r = Run();
  // As with a fresh compare process: the verdict's step failing is the engine's error.
  EXPECT_EQ(r.status, Status::kRuntimeError);
  EXPECT_NE(r.message.find("the compare step: killed after"), std::string::npos) << r.message;
  EXPECT_LT(r.wall_s, 5.0);
}

TEST_F(WorkerTest, ServerThatCannotWriteTheResultSaysWhy) {
  FakeServingPython(kOkCandidate,
                    "tab=$(printf '\\t'); IFS=\"$tab\" read -r request result; trusted ''; echo done\n"
                    "while read line; do echo 'cannot write x: disk full'; done");
  JobResult r = Run();
  EXPECT_EQ(r.status, Status::kRuntimeError);
  EXPECT_NE(r.message.find("the step server wrote no result: cannot write x: disk full"),
            std::string::npos)
      << r.message;
}

TEST_F(WorkerTest, MissingPythonIsCrashedWithHint) {
  options_.python = (dir_ / "no-such-python").string();
  JobResult r = Run();
  EXPECT_EQ(r.status, Status::kCrashed);
  EXPECT_NE(r.message.find("no-such-python"), std::string::npos);
  EXPECT_NE(r.detail.find("--python"), std::string::npos);
}

TEST_F(WorkerTest, UnavailableImplementationIsNotRun) {
  impl_.unavailable = "no Triton tutorials checkout";
  FakePython("exit 99");
  JobResult r = Run();
  EXPECT_EQ(r.status, Status::kUnavailable);
  EXPECT_EQ(r.message, "no Triton tutorials checkout");
}

TEST_F(WorkerTest, ReferenceIsMadeOncePerTaskAndSeedsThenReused) {
  FakePython(R"(echo '{"schema_version": 2, "status": "ok"}' > "$result")");
  options_.run_seed = 42;
  EXPECT_EQ(Run().status, Status::kOk);
  EXPECT_EQ(Run().status, Status::kOk);
  std::ifstream in(dir_ / "steps.log");
  std::string steps((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_TRUE(FirstJobThen(steps, "reference\n", "compare\ncandidate\ncompare\n")) << steps;
}

TEST_F(WorkerTest, RunSeedAddsAHiddenSizeAndSeedThatChangeWithIt) {
  const Task& task = *suite_.Find("softmax");
  EXPECT_TRUE(HiddenSizesFor(task, options_).empty());  // run seed 0: none
  options_.run_seed = 1;
  const auto first = HiddenSizesFor(task, options_);
  const auto first_seeds = CheckSeedsFor(task, options_);
  options_.run_seed = 2;
  ASSERT_EQ(first.size(), 1u);
  EXPECT_NE(first, HiddenSizesFor(task, options_));
  EXPECT_NE(first_seeds, CheckSeedsFor(task, options_));
  EXPECT_EQ(first_seeds.size(), task.seeds.size() + 1);
  std::vector<long long> values;
  ASSERT_TRUE(ParseSize(first[0], 2, &values)) << first[0];
  EXPECT_LE(values[0], 4096);
  EXPECT_EQ(CheckSizesFor(task, options_).back(), HiddenSizesFor(task, options_)[0]);
}

TEST_F(WorkerTest, HiddenSizeKeepsTheManifestsMultiples) {
  Task task = *suite_.Find("softmax");
  task.multiple_of = {{"M", 128}};
  for (uint64_t seed = 1; seed < 40; ++seed) {
    options_.run_seed = seed;
    std::vector<long long> values;
    ASSERT_TRUE(ParseSize(HiddenSizesFor(task, options_)[0], 2, &values));
    EXPECT_EQ(values[0] % 128, 0) << "run seed " << seed;
    EXPECT_GE(values[0], 128);
  }
}

// bench --repeat: a later process checks only the hidden size and seed (its reference is the
// first process's, reused) and the compare step compares just those.
TEST_F(WorkerTest, RepeatProcessChecksOnlyTheHiddenInputAndReusesTheReference) {
  FakePython(
      R"(here=$(dirname "$0"); n=$(grep -c . "$here/steps.log"); cp "$request" "$here/candidate-$n.json"
echo '{"schema_version": 2, "status": "ok"}' > "$result")");
  options_.run_seed = 7;
  const Task& task = *suite_.Find("softmax");
  const JobResult first_run = Run(impl_, 0);
  EXPECT_EQ(first_run.status, Status::kOk) << first_run.message << first_run.detail;
  const JobResult repeat = Run(impl_, 2);
  EXPECT_EQ(repeat.status, Status::kOk);
  EXPECT_EQ(repeat.process, 2);
  std::ifstream log(dir_ / "steps.log");
  std::string steps((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  EXPECT_TRUE(FirstJobThen(steps, "reference\n", "compare\ncandidate\ncompare\n")) << steps;
  // Each candidate's request, named by the lines logged before it: the first process's has the
  // lower number whichever of it and the reference logged first.
  std::map<int, fs::path> requests;
  for (const auto& entry : fs::directory_iterator(dir_)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("candidate-", 0) == 0) requests[std::stoi(name.substr(10))] = entry.path();
  }
  ASSERT_EQ(requests.size(), 2u);
  nlohmann::json first = nlohmann::json::parse(std::ifstream(requests.begin()->second));
  nlohmann::json later = nlohmann::json::parse(std::ifstream(requests.rbegin()->second));
  EXPECT_EQ(first["check"]["sizes"], CheckSizesFor(task, options_));
  EXPECT_EQ(later["check"]["sizes"], nlohmann::json::array({HiddenSizesFor(task, options_)[0]}));
  EXPECT_EQ(later["check"]["seeds"], nlohmann::json::array({CheckSeedsFor(task, options_).back()}));
  EXPECT_EQ(later["timing"], first["timing"]);
}

// Trusted code (baseline, expert) shares its compiler caches between its repeats; candidate code
// never does: each of its processes starts with an empty cache.
TEST_F(WorkerTest, OnlyTrustedImplementationsShareCompilerCachesAcrossRepeats) {
  FakePython(R"(env | grep -e '^TRITON_CACHE_DIR=' -e '^TORCHINDUCTOR_CACHE_DIR=' | sort \
  >> "$(dirname "$0")/caches.log"
echo '{"schema_version": 2, "status": "ok"}' > "$result")");
  auto caches = [&] {
    std::ifstream in(dir_ / "caches.log");
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    fs::remove(dir_ / "caches.log");
    return lines;
  };
  Run(impl_, 0);
  Run(impl_, 1);
  const auto candidate = caches();
  ASSERT_EQ(candidate.size(), 2u);  // TRITON_CACHE_DIR only, one per process
  EXPECT_NE(candidate[0], candidate[1]);
  EXPECT_NE(candidate[0].find("/jobs/"), std::string::npos) << candidate[0];

  Implementation expert = impl_;
  expert.kind = ImplKind::kExpert;
  expert.name = "expert";
  Run(expert, 0);
  Run(expert, 1);
  const auto trusted = caches();
  ASSERT_EQ(trusted.size(), 4u);  // both variables, per process
  EXPECT_EQ(trusted[0], trusted[2]);
  EXPECT_EQ(trusted[1], trusted[3]);
  EXPECT_NE(trusted[1].find("/caches/softmax-expert-"), std::string::npos) << trusted[1];
}

TEST_F(WorkerTest, SandboxAllowsWritesOnlyInTheJobFolderAndHasNoNetwork) {
  const SandboxSupport& support = ProbeSandbox();
  if (!support.network || !support.filesystem || !support.pid || !support.privileges) {
    GTEST_SKIP() << "not every layer here: " << support.why_not;
  }
  options_.sandbox.mode = SandboxMode::kOn;
  options_.interpret = true;  // no CUDA probe: the stand-in python has no torch
  FakePython(R"(touch "$(dirname "$0")/escaped"
touch "$(dirname "$result")/inside" || exit 3
if [ -e "$(dirname "$0")/escaped" ]; then exit 4; fi
if grep -q -v -e lo: -e Inter -e face /proc/net/dev; then exit 5; fi
echo '{"schema_version": 2, "status": "ok"}' > "$result")");
  JobResult r = Run();
  EXPECT_EQ(r.status, Status::kOk) << r.message << r.detail;
  EXPECT_FALSE(fs::exists(dir_ / "escaped"));
  EXPECT_EQ(r.environment.value("sandbox", ""), "environment, network, filesystem, pid, privileges");
}

TEST(ReferenceCacheTest, RemovesTheFilesItMadeForATaskAndLeavesTheOthers) {
  const fs::path dir = FreshTestDir("reference-cache");
  ReferenceCache cache;
  auto make = [&](const std::string& key, const std::string& task) {
    ReferenceCache::Entry& entry = cache.Find(key, task);
    entry.made = true;
    entry.path = dir / (key + ".safetensors");
    entry.step_dir = dir / key;
    fs::create_directories(entry.step_dir);
    std::ofstream(entry.path) << "reference";
  };
  make("a1", "attention");
  make("s1", "softmax");
  ReferenceCache::Entry& earlier = cache.Find("s2", "softmax");  // an earlier run's file: not ours
  earlier.made = true;
  std::ofstream(dir / "s2.safetensors") << "reference";

  cache.RemoveMade("attention");
  EXPECT_FALSE(fs::exists(dir / "a1.safetensors"));
  EXPECT_FALSE(fs::exists(dir / "a1"));
  EXPECT_TRUE(fs::exists(dir / "s1.safetensors"));

  cache.RemoveMade();
  EXPECT_FALSE(fs::exists(dir / "s1.safetensors"));
  EXPECT_FALSE(fs::exists(dir / "s1"));
  EXPECT_TRUE(fs::exists(dir / "s2.safetensors"));
  EXPECT_EQ(cache.Find("a1", "attention").task, "attention");  // the entry stays: made, not again
  EXPECT_TRUE(cache.Find("a1", "attention").made);
}

/// Names of the files under `dir` (recursively) that begin with `prefix`.
std::vector<std::string> FilesStartingWith(const fs::path& dir, const std::string& prefix) {
  std::vector<std::string> found;
  std::error_code ec;
  for (const auto& entry : fs::recursive_directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && name.rfind(prefix, 0) == 0) found.push_back(name);
  }
  return found;
}

// Writes the tensor file named in the request's files.<$1> as the worker may (python/
// tritonize_worker/tensor_files.py): the file, its parts `<name>.part<N>`, the later outputs
// `<name>.later`, a write cut short `<name>.<pid>.partial`; and a file of another name beside it.
constexpr const char* kWriteParts = R"sh(parts() {
  f=$(field "$1")
  for g in "$f" "$f.part1" "$f.part2" "$f.later" "$f.77.partial"; do : > "$g"; done
  : > "$(dirname "$f")/notes.safetensors.part1"
}
)sh";

/// kWriteParts, and a reference step that writes the reference in parts and then does `then`.
std::string PartsAndAReferenceStepThat(const std::string& then) {
  return std::string(kWriteParts) + "request=\"$4\"\nif [ \"$(field role)\" = reference ]; then\n" +
         "  parts reference\n" + then + "\n  exit 0\nfi\n";
}

// A job's outputs go with every part of them when it ends; a file of another name stays.
TEST_F(WorkerTest, AJobsOutputsGoWithEveryPartOfThem) {
  FakePython(R"(parts outputs; echo '{"schema_version": 2, "status": "ok"}' > "$result")",
             kWriteParts);
  ASSERT_EQ(Run().status, Status::kOk);
  EXPECT_EQ(FilesStartingWith(dir_ / "jobs", "outputs.safetensors"), std::vector<std::string>{});
  EXPECT_EQ(FilesStartingWith(dir_ / "jobs", "notes.safetensors").size(), 1u);
}

// A reference made in parts is kept for the run's other jobs, then removed whole.
TEST_F(WorkerTest, AReferenceGoesWithEveryPartOfIt) {
  FakePython(R"(echo '{"schema_version": 2, "status": "ok"}' > "$result")",
             PartsAndAReferenceStepThat(R"(echo '{"schema_version": 2, "status": "ok"}' > "$6")"));
  ASSERT_EQ(Run().status, Status::kOk);
  EXPECT_EQ(FilesStartingWith(dir_ / "references", "softmax-").size(), 5u);
  references_.RemoveMade();
  EXPECT_EQ(FilesStartingWith(dir_ / "references", "softmax-"), std::vector<std::string>{});
  EXPECT_EQ(FilesStartingWith(dir_ / "references", "notes.safetensors").size(), 1u);
}

// A reference step that fails leaves none of what it wrote (the next attempt writes its own).
TEST_F(WorkerTest, AReferenceStepThatFailsLeavesNoPartsBehind) {
  FakePython(R"(echo '{"schema_version": 2, "status": "ok"}' > "$result")",
             PartsAndAReferenceStepThat(R"sh(rm "$(field reference)"
  echo '{"schema_version": 2, "status": "runtime_error", "message": "worker error: no"}' > "$6")sh"));
  const JobResult r = Run();
  EXPECT_EQ(r.status, Status::kRuntimeError) << r.message;
  EXPECT_EQ(FilesStartingWith(dir_ / "references", "softmax-"), std::vector<std::string>{});
}

// --rerun's words and which stored verdicts each runs again.
TEST(RerunTest, OutOfMemoryTakesTheGpusFaultsAndFailedEveryFailure) {
  EXPECT_EQ(ParseRerun("out-of-memory"), Rerun::kOutOfMemory);
  EXPECT_EQ(ParseRerun("failed"), Rerun::kFailed);
  EXPECT_EQ(ParseRerun("oom"), Rerun::kNone);
  const auto result = [](Status status, const std::string& message) {
    JobResult r;
    r.status = status;
    r.message = message;
    return r;
  };
  const JobResult oom = result(Status::kRuntimeError,
                               "worker error: OutOfMemoryError: CUDA out of memory. Tried to "
                               "allocate 16.00 GiB");
  const JobResult wrong = result(Status::kWrongResult, "y at 4x4 seed 0: 3 elements off");
  const JobResult ok = result(Status::kOk, "");
  const JobResult no_code = result(Status::kUnavailable, "the answer has no code");
  EXPECT_TRUE(RerunsStored(Rerun::kOutOfMemory, oom));
  EXPECT_FALSE(RerunsStored(Rerun::kOutOfMemory, wrong));
  EXPECT_FALSE(RerunsStored(Rerun::kOutOfMemory, ok));
  EXPECT_TRUE(RerunsStored(Rerun::kFailed, oom));
  EXPECT_TRUE(RerunsStored(Rerun::kFailed, wrong));
  EXPECT_FALSE(RerunsStored(Rerun::kFailed, ok));
  EXPECT_FALSE(RerunsStored(Rerun::kFailed, no_code));
  EXPECT_FALSE(RerunsStored(Rerun::kNone, oom));
}

}  // namespace
}  // namespace tritonize
