// `bench --launcher slurm` end to end, on the one-node cluster scripts/slurm-loopback.sh starts on
// loopback (scripts/test.sh does, as root, and exports SLURM_CONF): every step of every job an
// srun job step, the candidates sandboxed on the node by `tritonize sandbox-run`, and the same
// verdicts as a local run. Skipped, visibly, without the cluster or TRITONIZE_PYTHON; a bad Slurm
// setup's errors are checked without either.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "../support/run_binary.h"
#include "../support/test_dir.h"

namespace tritonize {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

bool HaveCluster() {
  const char* conf = std::getenv("SLURM_CONF");
  return conf != nullptr && *conf != '\0' && fs::exists(conf);
}
bool HavePython() {
  const char* p = std::getenv("TRITONIZE_PYTHON");
  return p != nullptr && *p != '\0';
}

class BenchSlurmTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = FreshTestDir("bench-slurm"); }
  void TearDown() override { fs::remove_all(dir_); }

  BinaryOutput Bench(const std::string& name, std::vector<std::string> extra) {
    const fs::path run = dir_ / name;
    fs::create_directories(run);
    std::vector<std::string> args = {"bench",     "--tasks",
                                     "softmax",   "--interpret",
                                     "--impls",   "baseline,llm",
                                     "--repeat",  "1",
                                     "--llm-dir", (dir_ / "llm").string(),
                                     "--json",    (run / "out.json").string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return RunTritonize(run, args, {}, /*timeout_s=*/900);
  }

  /// Each job's verdict by implementation name, from a run's --json.
  std::map<std::string, std::string> Verdicts(const std::string& name) {
    std::ifstream in(dir_ / name / "out.json");
    const json j = json::parse(in, nullptr, false);
    std::map<std::string, std::string> verdicts;
    if (!j.is_object()) return verdicts;
    for (const auto& job : j["jobs"]) verdicts[job["implementation"]] = job["status"];
    return verdicts;
  }

  /// An srun (and sinfo beside it) that log each call, then run the real one.
  fs::path LoggingSrun() {
    const fs::path bin = dir_ / "bin";
    fs::create_directories(bin);
    for (const char* tool : {"srun", "sinfo"}) {
      std::ofstream(bin / tool) << "#!/bin/sh\necho \"$*\" >> " << (dir_ / "calls.log").string()
                                << "\nexec " << tool << " \"$@\"\n";
      fs::permissions(bin / tool, fs::perms::owner_all, fs::perm_options::add);
    }
    return bin / "srun";
  }

  fs::path dir_;
};

TEST_F(BenchSlurmTest, JobsRunAsSlurmStepsWithTheLocalVerdicts) {
  if (!HaveCluster()) GTEST_SKIP() << "no Slurm cluster (SLURM_CONF): scripts/slurm-loopback.sh";
  if (!HavePython()) GTEST_SKIP() << "TRITONIZE_PYTHON not set: needs torch+triton";
  const fs::path fixtures = fs::path(TRITONIZE_SOURCE_DIR) / "tests" / "fixtures" / "candidates";
  for (const char* model : {"good", "wrong"}) fs::create_directories(dir_ / "llm" / model);
  fs::copy_file(fixtures / "softmax_ok.py", dir_ / "llm" / "good" / "softmax.py");
  fs::copy_file(fixtures / "softmax_wrong.py", dir_ / "llm" / "wrong" / "softmax.py");

  const BinaryOutput local = Bench("local", {});
  EXPECT_EQ(local.code, 1) << local.err;  // the wrong candidate
  const BinaryOutput slurm =
      Bench("slurm", {"--launcher", "slurm", "--jobs", "2", "--srun", LoggingSrun().string(),
                      "--slurm-binary", TRITONIZE_BINARY});
  EXPECT_EQ(slurm.code, 1) << slurm.err;

  const auto verdicts = Verdicts("local");
  ASSERT_EQ(verdicts.size(), 3u) << local.out;
  EXPECT_EQ(verdicts, Verdicts("slurm")) << slurm.out << slurm.err;
  int ok = 0, wrong = 0;
  for (const auto& [impl, status] : verdicts) {
    ok += status == "ok";
    wrong += status == "wrong_result";
  }
  EXPECT_EQ(ok, 2);
  EXPECT_EQ(wrong, 1);

  // Every step went through srun: one reference for the task, a candidate and a compare a job,
  // the candidate (and only it) under the sandbox on the node.
  std::ifstream calls(dir_ / "calls.log");
  int references = 0, candidates = 0, compares = 0, sandboxed = 0;
  for (std::string line; std::getline(calls, line);) {
    if (line.find("--job-name=tritonize-") == std::string::npos) continue;
    const bool candidate = line.find("-candidate-") != std::string::npos;
    references += line.find("-reference-") != std::string::npos;
    candidates += candidate;
    compares += line.find("-compare-") != std::string::npos;
    if (line.find(" sandbox-run ") != std::string::npos) {
      ++sandboxed;
      EXPECT_TRUE(candidate) << line;
    }
  }
  EXPECT_EQ(references, 1);
  EXPECT_EQ(candidates, 3);
  EXPECT_EQ(compares, 3);
  EXPECT_EQ(sandboxed, 3);

  // The run's stored environment names the launcher and the cluster's lanes.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "slurm" / "results.db").string().c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db, "SELECT environment FROM runs", -1, &stmt, nullptr);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  const json env = json::parse(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)));
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  EXPECT_EQ(env["runner"]["launcher"], "slurm") << env.dump(2);
  EXPECT_EQ(env["runner"]["lanes"].size(), 2u) << env.dump(2);
  EXPECT_EQ(env["runner"]["lanes"][0]["lane"], "slurm 0") << env.dump(2);
}

TEST_F(BenchSlurmTest, MissingSrunIsAClearUsageError) {
  const BinaryOutput o = RunTritonize(dir_,
                                      {"bench", "--tasks", "softmax", "--interpret", "--launcher",
                                       "slurm", "--srun", (dir_ / "nowhere" / "srun").string()},
                                      {}, 120);
  EXPECT_EQ(o.code, 2) << o.err;
  EXPECT_NE(o.err.find("cannot run srun"), std::string::npos) << o.err;
  EXPECT_NE(o.err.find((dir_ / "nowhere" / "srun").string()), std::string::npos) << o.err;
}

TEST_F(BenchSlurmTest, UnknownLauncherAndGpusWithSlurmAreUsageErrors) {
  BinaryOutput o =
      RunTritonize(dir_, {"bench", "--tasks", "softmax", "--launcher", "kubernetes"}, {}, 120);
  EXPECT_EQ(o.code, 2) << o.err;
  EXPECT_NE(o.err.find("--launcher: expected local or slurm, got \"kubernetes\""),
            std::string::npos)
      << o.err;
  if (!HaveCluster()) GTEST_SKIP() << "no Slurm cluster (SLURM_CONF): scripts/slurm-loopback.sh";
  o = RunTritonize(dir_, {"bench", "--tasks", "softmax", "--launcher", "slurm", "--gpus", "0"}, {},
                   120);
  EXPECT_EQ(o.code, 2) << o.err;
  EXPECT_NE(o.err.find("--gpus: with --launcher slurm"), std::string::npos) << o.err;
}

TEST_F(BenchSlurmTest, UnknownPartitionIsAClearUsageError) {
  if (!HaveCluster()) GTEST_SKIP() << "no Slurm cluster (SLURM_CONF): scripts/slurm-loopback.sh";
  const BinaryOutput o = RunTritonize(dir_,
                                      {"bench", "--tasks", "softmax", "--interpret", "--launcher",
                                       "slurm", "--slurm-partition", "nope"},
                                      {}, 120);
  EXPECT_EQ(o.code, 2) << o.err;
  EXPECT_NE(o.err.find("--slurm-partition: the cluster has no partition \"nope\""),
            std::string::npos)
      << o.err;
  EXPECT_NE(o.err.find("loopback"), std::string::npos) << o.err;  // what sinfo lists
}

}  // namespace
}  // namespace tritonize
