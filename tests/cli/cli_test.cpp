// End-to-end tests of the tritonize binary. Those that run the real worker need a Python
// with torch and triton (TRITONIZE_PYTHON, set by scripts/test.sh) and use the Triton
// interpreter on the CPU; without it they are skipped, visibly.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>

#include "../support/run_binary.h"
#include "../support/test_dir.h"
#include "store/store.h"

namespace tritonize {
namespace {

namespace fs = std::filesystem;

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = FreshTestDir("cli"); }
  void TearDown() override { fs::remove_all(dir_); }

  using Output = BinaryOutput;
  Output Tritonize(std::vector<std::string> args) {
    return RunTritonize(dir_, std::move(args), {}, /*timeout_s=*/600);
  }

  static bool HavePython() {
    const char* p = std::getenv("TRITONIZE_PYTHON");
    return p != nullptr && *p != '\0';
  }
  static std::string Fixture(const std::string& name) {
    return (fs::path(TRITONIZE_SOURCE_DIR) / "tests" / "fixtures" / "candidates" / name).string();
  }

  fs::path dir_;
};

#define REQUIRE_PYTHON() \
  if (!HavePython()) GTEST_SKIP() << "TRITONIZE_PYTHON not set: needs torch+triton"

TEST_F(CliTest, TasksListsTheSuite) {
  Output o = Tritonize({"tasks"});
  EXPECT_EQ(o.code, 0) << o.err;
  for (const char* name : {"softmax", "layernorm", "matmul", "05-layer-norm.py"}) {
    EXPECT_NE(o.out.find(name), std::string::npos) << name;
  }
}

TEST_F(CliTest, UsageErrorsAreCollectedAndExitTwo) {
  Output o = Tritonize({"bench", "--tasks", "softmax,nope", "--impls", "baseline,magic"});
  EXPECT_EQ(o.code, 2);
  EXPECT_NE(o.err.find("unknown task \"nope\""), std::string::npos) << o.err;
  EXPECT_NE(o.err.find("unknown implementation \"magic\""), std::string::npos) << o.err;
}

TEST_F(CliTest, UnknownFlagIsUsageError) {
  EXPECT_EQ(Tritonize({"bench", "--no-such-flag"}).code, 2);
}

TEST_F(CliTest, MalformedManifestNamesFileAndField) {
  fs::path root = dir_ / "root";
  fs::create_directories(root / "tasks" / "broken");
  fs::create_directories(root / "python" / "tritonize_worker");
  std::ofstream(root / "tasks" / "broken" / "task.toml")
      << "schema_version = 2\nname = \"broken\"\n";
  Output o = Tritonize({"tasks", "--root", root.string()});
  EXPECT_EQ(o.code, 2);
  EXPECT_NE(o.err.find("broken/task.toml: entry: missing"), std::string::npos) << o.err;
  EXPECT_NE(o.err.find("broken/task.toml: sizes: missing"), std::string::npos) << o.err;
}

// The lint's worker checks tell a task that can reject a wrong implementation from one that
// cannot: `identity`'s baseline returns its input, so a copy of the input passes it.
TEST_F(CliTest, TaskLintFailsATaskThatACopyOfTheInputPasses) {
  REQUIRE_PYTHON();
  const fs::path source = fs::path(TRITONIZE_SOURCE_DIR);
  const fs::path root = dir_ / "root";
  fs::create_directories(root / "tasks");
  fs::create_directory_symlink(source / "python", root / "python");
  fs::copy(source / "tasks" / "vector_add", root / "tasks" / "vector_add");
  std::string manifest;
  {
    std::ifstream in(source / "tasks" / "vector_add" / "task.toml");
    manifest.assign(std::istreambuf_iterator<char>(in), {});
  }
  manifest = manifest.substr(0, manifest.find("[[expert]]"));  // no expert: nothing to extract
  manifest.replace(manifest.find("name = \"vector_add\""), 19, "name = \"identity\"");
  fs::create_directories(root / "tasks" / "identity");
  std::ofstream(root / "tasks" / "identity" / "task.toml") << manifest;
  std::ofstream(root / "tasks" / "identity" / "baseline.py")
      << "def add(x, y):\n    return x.clone()\n";

  Output o = Tritonize({"tasks", "--lint", "--json", "--interpret", "--root", root.string(),
                        "--tutorials", (source / "tests" / "fixtures" / "tutorials").string(),
                        "--jobs", "2"});
  EXPECT_EQ(o.code, 1) << o.err;
  const nlohmann::json findings = nlohmann::json::parse(o.out);
  std::map<std::string, std::string> result;
  for (const auto& f : findings) {
    result[f["task"].get<std::string>() + " " + f["check"].get<std::string>()] = f["result"];
    if (f["task"] == "identity" && f["check"] == "copy_fails") {
      EXPECT_NE(f["detail"].get<std::string>().find("a copy of the input got ok"), std::string::npos)
          << f.dump();
    }
  }
  EXPECT_EQ(result["identity copy_fails"], "FAIL") << o.out;
  EXPECT_EQ(result["identity baseline"], "ok") << o.out;
  EXPECT_EQ(result["vector_add copy_fails"], "ok") << o.out;
  EXPECT_EQ(result["vector_add baseline"], "ok") << o.out;
  EXPECT_EQ(result["vector_add expert tutorial"], "skipped") << o.out;
  EXPECT_EQ(result["vector_add memory"], "ok") << o.out;
}

TEST_F(CliTest, EvalCorrectCandidateUnderInterpreter) {
  REQUIRE_PYTHON();
  Output o = Tritonize(
      {"eval", "--task", "softmax", "--file", Fixture("softmax_ok.py"), "--interpret", "--json"});
  EXPECT_EQ(o.code, 0) << o.out << o.err;
  auto j = nlohmann::json::parse(o.out);
  EXPECT_EQ(j["status"], "ok");
  EXPECT_FALSE(j["checks"].empty());
}

TEST_F(CliTest, EvalVerdictsForBadCandidates) {
  REQUIRE_PYTHON();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"softmax_wrong.py", "wrong_result"},
      {"softmax_syntax.py", "syntax_error"},
      {"softmax_segfault.py", "crashed"},
  };
  for (const auto& [file, expected] : cases) {
    Output o =
        Tritonize({"eval", "--task", "softmax", "--file", Fixture(file), "--interpret", "--json"});
    EXPECT_EQ(o.code, 1) << file;
    auto j = nlohmann::json::parse(o.out, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << file << ": " << o.out << o.err;
    EXPECT_EQ(j["status"], expected) << file << ": " << j["message"];
    EXPECT_FALSE(j["message"].get<std::string>().empty()) << file;
  }
}

TEST_F(CliTest, EvalHangIsTimeout) {
  REQUIRE_PYTHON();
  Output o = Tritonize({"eval", "--task", "softmax", "--file", Fixture("softmax_hang.py"),
                        "--interpret", "--json", "--timeout", "5"});
  EXPECT_EQ(o.code, 1);
  auto j = nlohmann::json::parse(o.out);
  EXPECT_EQ(j["status"], "timeout");
}

TEST_F(CliTest, BenchStoresEveryJobAndKeepsGoingPastFailures) {
  REQUIRE_PYTHON();
  // An LLM folder with one good and one broken model: the broken one must not stop the run.
  fs::path llm = dir_ / "llm";
  fs::create_directories(llm / "good");
  fs::create_directories(llm / "broken");
  fs::copy_file(Fixture("softmax_ok.py"), llm / "good" / "softmax.py");
  fs::copy_file(Fixture("softmax_syntax.py"), llm / "broken" / "softmax.py");
  fs::path json = dir_ / "out.json";
  Output o = Tritonize({"bench", "--tasks", "softmax", "--interpret", "--impls", "baseline,llm",
                        "--llm-dir", llm.string(), "--json", json.string()});
  EXPECT_EQ(o.code, 1) << o.err;  // one job failed
  EXPECT_NE(o.out.find("syntax_error"), std::string::npos) << o.out;
  std::ifstream in(json);
  auto j = nlohmann::json::parse(in);
  ASSERT_EQ(j["jobs"].size(), 3u);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "results.db").string().c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM jobs", -1, &stmt, nullptr);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(stmt, 0), 3);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  // A finished run removes the reference outputs it made (a suite's come to tens of GB).
  int references = 0;
  std::error_code ec;
  for (const auto& entry : fs::recursive_directory_iterator(dir_ / "references", ec)) {
    references += entry.path().extension() == ".safetensors";
  }
  EXPECT_EQ(references, 0);
  // Nor does any job keep its outputs once they are judged.
  int outputs = 0;
  for (const auto& entry : fs::recursive_directory_iterator(dir_ / "jobs", ec)) {
    outputs += entry.path().filename() == "outputs.safetensors";
  }
  EXPECT_EQ(outputs, 0);
  EXPECT_TRUE(fs::is_directory(dir_ / "jobs"));
  EXPECT_TRUE(fs::is_directory(dir_ / "references"));  // made: the reference was there to remove
}

TEST_F(CliTest, AJobWhoseReferenceFailsLeavesNoOutputsBehind) {
  REQUIRE_PYTHON();
  // The softmax task with a baseline that raises: the reference step fails after the candidate
  // step wrote its outputs, which the job must remove all the same (on the H200 a suite's failed
  // references left 60 GB of them and filled the disk).
  fs::path root = dir_ / "root";
  fs::create_directories(root / "tasks" / "softmax");
  fs::copy_file(fs::path(TRITONIZE_SOURCE_DIR) / "tasks" / "softmax" / "task.toml",
                root / "tasks" / "softmax" / "task.toml");
  std::ofstream(root / "tasks" / "softmax" / "baseline.py")
      << "def softmax(x):\n    raise RuntimeError('no baseline today')\n";
  fs::create_directory_symlink(fs::path(TRITONIZE_SOURCE_DIR) / "python", root / "python");
  fs::path llm = dir_ / "llm";
  fs::create_directories(llm / "good");
  fs::copy_file(Fixture("softmax_ok.py"), llm / "good" / "softmax.py");
  Output o = Tritonize({"bench", "--root", root.string(), "--tasks", "softmax", "--interpret",
                        "--impls", "llm", "--llm-dir", llm.string()});
  EXPECT_EQ(o.code, 1) << o.err;
  EXPECT_NE(o.out.find("no baseline today"), std::string::npos) << o.out;
  int outputs = 0;
  std::error_code ec;
  for (const auto& entry : fs::recursive_directory_iterator(dir_ / "jobs", ec)) {
    outputs += entry.path().filename() == "outputs.safetensors";
  }
  EXPECT_EQ(outputs, 0);
  EXPECT_TRUE(fs::is_directory(dir_ / "jobs"));
}

TEST_F(CliTest, AModelThatGaveNoCodeIsSaidSoInItsColumn) {
  REQUIRE_PYTHON();
  // The generator's record of an answer without code (docs/llm-candidates.md), and no .py file.
  fs::path llm = dir_ / "llm";
  fs::create_directories(llm / "terse");
  std::ofstream(llm / "terse" / "softmax.meta.json") << R"({"status": "no_code"})";
  Output o = Tritonize(
      {"bench", "--tasks", "softmax", "--interpret", "--impls", "llm", "--llm-dir", llm.string()});
  EXPECT_NE(o.out.find("the model's answer held no code"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("softmax.response.md"), std::string::npos) << o.out;
}

TEST_F(CliTest, NoTutorialsMeansTheExpertColumnSaysSo) {
  REQUIRE_PYTHON();
  // A root without .tutorials, so only the flag or the environment could name a checkout.
  fs::path root = dir_ / "root";
  fs::create_directories(root);
  fs::create_directory_symlink(fs::path(TRITONIZE_SOURCE_DIR) / "tasks", root / "tasks");
  fs::create_directory_symlink(fs::path(TRITONIZE_SOURCE_DIR) / "python", root / "python");
  Output o = Tritonize({"bench", "--root", root.string(), "--tasks", "softmax", "--interpret",
                        "--impls", "baseline,expert"});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_NE(o.err.find("sparse-checkout"), std::string::npos) << o.err;
  EXPECT_NE(o.out.find("unavailable"), std::string::npos) << o.out;
}

TEST_F(CliTest, MissingTutorialsFolderIsUsageError) {
  Output o = Tritonize({"bench", "--tasks", "softmax", "--tutorials", (dir_ / "nowhere").string()});
  EXPECT_EQ(o.code, 2);
  EXPECT_NE(o.err.find("nowhere"), std::string::npos) << o.err;
  EXPECT_NE(o.err.find("sparse-checkout"), std::string::npos) << o.err;
}

// The head of a stand-in python for a job's steps: the reference step writes an empty reference
// and passes, the compare step passes on the candidate's result; the candidate step is what
// follows it.
constexpr const char* kStandInSteps = R"sh(#!/bin/sh
request="$4"
result="$6"
field() { grep -o "\"$1\": *\"[^\"]*\"" "$request" | head -1 | sed 's/.*: *"//; s/"$//'; }
case "$(field role)" in
  reference) : > "$(field reference)"; echo '{"schema_version": 2, "status": "ok"}' > "$result"; exit 0;;
  compare) cp "$(field candidate_result)" "$result"; exit 0;;
esac
)sh";

/// Writes the stand-in python `dir`/python: kStandInSteps, then `candidate` for the candidate step.
fs::path StandInPython(const fs::path& dir, const std::string& candidate) {
  const fs::path python = dir / "python";
  std::ofstream(python) << kStandInSteps << candidate;
  fs::permissions(python, fs::perms::owner_all);
  return python;
}

// Its candidate step takes a second and passes: --stop-after needs timing of jobs, not their
// content.
constexpr const char* kSecondLongCandidate = R"sh(sleep 1
echo '{"schema_version": 2, "status": "ok", "phase": "check"}' > "$result"
)sh";

TEST_F(CliTest, StopAfterStartsNoJobThatWouldOverrunAndResumeFinishesTheRun) {
  const fs::path python = StandInPython(dir_, kSecondLongCandidate);
  const std::vector<std::string> bench = {"bench",    "--tasks",          "softmax",
                                          "--impls",  "baseline,compile", "--interpret",
                                          "--python", python.string(), "--jobs", "1"};

  std::vector<std::string> args = bench;
  args.insert(args.end(), {"--stop-after", "1.5"});
  Output stopped = Tritonize(args);
  EXPECT_EQ(stopped.code, 130) << stopped.err;
  EXPECT_NE(stopped.err.find("[1/2] softmax baseline: ok ("), std::string::npos) << stopped.err;
  // Whatever the machine's speed: a second elapsed and a second expected exceed 1.5 s.
  EXPECT_NE(stopped.err.find("softmax compile: not started: "), std::string::npos)
      << stopped.err;
  EXPECT_NE(stopped.err.find("expected, --stop-after 1.5\n"), std::string::npos) << stopped.err;
  EXPECT_NE(stopped.err.find("run the same command with --resume to finish run 1"),
            std::string::npos)
      << stopped.err;
  EXPECT_NE(stopped.out.find("not run: --stop-after was reached (--resume finishes it)"),
            std::string::npos)
      << stopped.out;
  // Its references went with it: they carry this engine's pid, and the --resume is another.
  std::error_code ec;
  for (const auto& entry : fs::recursive_directory_iterator(dir_ / "references", ec)) {
    EXPECT_NE(entry.path().extension(), ".safetensors") << entry.path();
  }

  args = bench;
  args.push_back("--resume");
  Output resumed = Tritonize(args);
  EXPECT_EQ(resumed.code, 0) << resumed.err;
  EXPECT_NE(resumed.err.find("[1/2] softmax baseline: ok (stored, job 1)"), std::string::npos)
      << resumed.err;
  EXPECT_NE(resumed.err.find("[2/2] softmax compile: ok ("), std::string::npos) << resumed.err;
}

// Its candidate steps find the scratch disk full while FULL exists beside it, and pass otherwise.
constexpr const char* kDiskFullCandidate = R"sh(if [ -e "$(dirname "$0")/FULL" ]; then
  echo '{"schema_version": 2, "status": "runtime_error", "phase": "check", "message": "worker error: SafetensorError: Error while serializing: I/O error: No space left on device (os error 28)"}' > "$result"
  exit 0
fi
echo '{"schema_version": 2, "status": "ok", "phase": "check"}' > "$result"
)sh";

// A job that finds the scratch disk full with no other job beside it has no verdict of its own:
// it is not stored (on the H100 eight such jobs were stored as runtime_error, which --resume then
// kept), the run ends unfinished and says what to do, and --resume runs it once there is room.
TEST_F(CliTest, AJobThatFindsTheDiskFullAloneIsNotStoredAndResumeRunsIt) {
  const fs::path python = StandInPython(dir_, kDiskFullCandidate);
  std::ofstream(dir_ / "FULL").close();
  const std::vector<std::string> bench = {
      "bench",       "--tasks",  "softmax",       "--impls", "baseline,compile",
      "--interpret", "--python", python.string(), "--jobs",  "1"};

  Output full = Tritonize(bench);
  EXPECT_EQ(full.code, 1) << full.err;
  EXPECT_NE(full.err.find("softmax baseline: the scratch disk was full, with no other job of this "
                          "run beside it (not stored, not the implementation's verdict"),
            std::string::npos)
      << full.err;
  EXPECT_NE(full.err.find("2 jobs found the scratch disk full with no other job beside them and "
                          "were not stored"),
            std::string::npos)
      << full.err;
  EXPECT_NE(full.err.find("--resume to finish run 1"), std::string::npos) << full.err;
  EXPECT_EQ(full.out.find("runtime_error"), std::string::npos) << full.out;
  EXPECT_NE(full.out.find("not run: the scratch disk was full, with no other job beside it "
                          "(--resume finishes it)"),
            std::string::npos)
      << full.out;

  fs::remove(dir_ / "FULL");
  std::vector<std::string> args = bench;
  args.push_back("--resume");
  Output resumed = Tritonize(args);
  EXPECT_EQ(resumed.code, 0) << resumed.err;
  EXPECT_NE(resumed.err.find("softmax baseline: ok ("), std::string::npos) << resumed.err;
  EXPECT_NE(resumed.err.find("softmax compile: ok ("), std::string::npos) << resumed.err;
  EXPECT_EQ(resumed.err.find("(stored, job"), std::string::npos) << resumed.err;
}

// Its candidate steps run out of GPU memory while OOM exists beside it, and pass otherwise.
constexpr const char* kOutOfMemoryCandidate = R"sh(sleep 1
if [ -e "$(dirname "$0")/OOM" ]; then
  echo '{"schema_version": 2, "status": "runtime_error", "phase": "check", "message": "worker error: the task'"'"'s float64 reference (its baseline in float64) ran out of GPU memory: OutOfMemoryError: CUDA out of memory. Tried to allocate 16.00 GiB"}' > "$result"
  exit 0
fi
echo '{"schema_version": 2, "status": "ok", "phase": "check"}' > "$result"
)sh";

// A job stored out of GPU memory (the GPU's size, not the implementation's verdict) runs again
// under --resume --rerun out-of-memory: its new verdict replaces the stored job, whose verdict the
// new one keeps in its environment; a plain --resume keeps it; --rerun needs --resume.
TEST_F(CliTest, ResumeRerunOutOfMemoryReplacesAJobStoredOutOfGpuMemory) {
  const fs::path python = StandInPython(dir_, kOutOfMemoryCandidate);
  std::ofstream(dir_ / "OOM").close();
  const std::vector<std::string> bench = {
      "bench",       "--tasks",  "softmax",       "--impls", "baseline,compile",
      "--interpret", "--python", python.string(), "--jobs",  "1"};
  std::vector<std::string> args = bench;
  args.insert(args.end(), {"--stop-after", "1.5"});
  Output stopped = Tritonize(args);
  ASSERT_EQ(stopped.code, 130) << stopped.err;
  ASSERT_NE(stopped.err.find("[1/2] softmax baseline: runtime_error ("), std::string::npos)
      << stopped.err;

  args = bench;
  args.insert(args.end(), {"--rerun", "out-of-memory"});
  Output alone = Tritonize(args);
  EXPECT_EQ(alone.code, 2) << alone.err;
  EXPECT_NE(alone.err.find("--rerun out-of-memory: reruns jobs of a stored run, so it goes with "
                           "--resume"),
            std::string::npos)
      << alone.err;
  args = bench;
  args.insert(args.end(), {"--resume", "--rerun", "everything"});
  Output bad = Tritonize(args);
  EXPECT_NE(bad.code, 0);
  EXPECT_NE(bad.err.find("--rerun"), std::string::npos) << bad.err;

  fs::remove(dir_ / "OOM");
  args = bench;
  args.insert(args.end(), {"--resume", "--rerun", "out-of-memory", "--stop-after", "1.5"});
  Output again = Tritonize(args);
  ASSERT_EQ(again.code, 130) << again.err;
  EXPECT_NE(again.err.find("resuming run 1 (1 jobs stored, 1 of them run again: --rerun "
                           "out-of-memory)"),
            std::string::npos)
      << again.err;
  EXPECT_NE(again.err.find("[1/2] softmax baseline: ok ("), std::string::npos) << again.err;
  EXPECT_NE(again.err.find(", replaces job 1)"), std::string::npos) << again.err;

  std::string err;
  {
    auto store = Store::Open(dir_ / "results.db", &err);
    ASSERT_TRUE(store) << err;
    std::vector<StoredJob> jobs;
    ASSERT_TRUE(store->Jobs(1, &jobs, &err)) << err;
    ASSERT_EQ(jobs.size(), 1u);  // the new verdict, not both
    EXPECT_EQ(jobs[0].implementation, "baseline");
    EXPECT_EQ(jobs[0].status, Status::kOk);
    EXPECT_NE(jobs[0].id, 1);
    JobResult result;
    ASSERT_TRUE(store->LoadJobResult(jobs[0].id, &result, &err)) << err;
    ASSERT_TRUE(result.environment.contains("replaces")) << result.environment.dump();
    EXPECT_EQ(result.environment["replaces"]["job"], 1);
    EXPECT_EQ(result.environment["replaces"]["status"], "runtime_error");
    EXPECT_NE(
        result.environment["replaces"]["message"].get<std::string>().find("ran out of GPU memory"),
        std::string::npos);
  }

  // An ok job is kept by --rerun out-of-memory, and the run finishes.
  args = bench;
  args.insert(args.end(), {"--resume", "--rerun", "out-of-memory"});
  Output finished = Tritonize(args);
  EXPECT_EQ(finished.code, 0) << finished.err;
  EXPECT_NE(finished.err.find("1 jobs stored, 0 of them run again"), std::string::npos)
      << finished.err;
  EXPECT_NE(finished.err.find("softmax baseline: ok (stored, job "), std::string::npos)
      << finished.err;
  EXPECT_NE(finished.err.find("softmax compile: ok ("), std::string::npos) << finished.err;
}

// An nvidia-smi that lists one GPU of the model in `dir`/gpu-model, and the stand-in's
// candidate, which records the model it found as the worker does (environment.gpu).
constexpr const char* kListsOneGpu = R"sh(#!/bin/sh
echo "0, GPU-00000000-1111-2222-3333-444444444444, $(cat "$(dirname "$0")/gpu-model"), 81559"
)sh";
constexpr const char* kRecordsItsGpu = R"sh(sleep 1
echo "{\"schema_version\": 2, \"status\": \"ok\", \"phase\": \"check\", \"environment\": {\"gpu\": \"$(cat "$(dirname "$0")/bin/gpu-model")\"}}" > "$result"
)sh";

// A run resumed on a GPU of another model would time a task's columns on two GPUs, and its
// LLM/Expert would be no ratio: --resume refuses before it reopens the run, and the same model,
// on any machine, takes it up.
TEST_F(CliTest, ResumeRefusesAGpuOfAnotherModelAndTakesTheSameModel) {
  const fs::path python = StandInPython(dir_, kRecordsItsGpu);
  fs::create_directories(dir_ / "bin");
  std::ofstream(dir_ / "bin" / "nvidia-smi") << kListsOneGpu;
  fs::permissions(dir_ / "bin" / "nvidia-smi", fs::perms::owner_all);
  const auto model = [&](const std::string& name) {
    std::ofstream(dir_ / "bin" / "gpu-model") << name;
  };
  const std::map<std::string, std::string> env = {
      {"PATH", (dir_ / "bin").string() + ":" + std::getenv("PATH")}};
  const std::vector<std::string> bench = {
      "bench",  "--tasks", "softmax",  "--impls", "baseline,compile", "--python", python.string(),
      "--jobs", "1",       "--repeat", "1"};
  std::vector<std::string> args = bench;
  args.insert(args.end(), {"--stop-after", "1.5"});
  model("NVIDIA H100 80GB HBM3");
  Output stopped = RunTritonize(dir_, args, env, 600);
  ASSERT_EQ(stopped.code, 130) << stopped.err;
  ASSERT_NE(stopped.err.find("softmax baseline: ok ("), std::string::npos) << stopped.err;

  args = bench;
  args.push_back("--resume");
  model("NVIDIA H200");
  Output refused = RunTritonize(dir_, args, env, 600);
  EXPECT_EQ(refused.code, 1) << refused.err;
  EXPECT_NE(refused.err.find("tritonize: error: --resume: run 1's jobs ran on NVIDIA H100 80GB "
                             "HBM3, and this machine's GPU 0 is an NVIDIA H200: a task's columns "
                             "timed on two GPU models give no true ratio"),
            std::string::npos)
      << refused.err;
  EXPECT_EQ(refused.err.find("softmax compile"), std::string::npos) << refused.err;

  model("NVIDIA H100 80GB HBM3");
  Output resumed = RunTritonize(dir_, args, env, 600);
  EXPECT_EQ(resumed.code, 0) << resumed.err;
  EXPECT_NE(resumed.err.find("resuming run 1 (1 jobs stored)"), std::string::npos) << resumed.err;
  EXPECT_NE(resumed.err.find("[1/2] softmax baseline: ok (stored, job 1)"), std::string::npos)
      << resumed.err;
  EXPECT_NE(resumed.err.find("softmax compile: ok ("), std::string::npos) << resumed.err;
}

}  // namespace
}  // namespace tritonize
