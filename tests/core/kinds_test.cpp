// The lists the engine and the worker share (implementation kinds, statuses, the protocol's
// version) are defined once on each side; this holds the engine's against the worker's own
// (`python -m tritonize_worker --describe`), so that neither can drift from the other.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "../support/test_dir.h"
#include "core/implementation.h"
#include "core/job.h"
#include "core/sha256.h"
#include "core/status.h"
#include "exec/subprocess.h"

namespace tritonize {
namespace {

namespace fs = std::filesystem;

nlohmann::json DescribeWorker(const fs::path& dir) {
  const char* python = std::getenv("TRITONIZE_PYTHON");
  SubprocessOptions o;
  o.argv = {python, "-m", "tritonize_worker", "--describe"};
  o.env["PYTHONPATH"] = (fs::path(TRITONIZE_SOURCE_DIR) / "python").string();
  o.stdout_path = dir / "stdout";
  o.stderr_path = dir / "stderr";
  o.timeout_s = 60;
  SubprocessResult run = RunSubprocess(o);
  EXPECT_EQ(run.exit_code, 0) << TailOfFile(o.stderr_path, 2000);
  std::string text, err;
  ReadFile(o.stdout_path, &text, &err);
  return nlohmann::json::parse(text, nullptr, false);
}

TEST(KindsTest, EveryKindIsFoundByItsNameAndNothingElseIs) {
  for (ImplKind kind : kAllImplKinds) EXPECT_EQ(ImplKindNamed(ImplKindName(kind)), kind);
  for (const char* other : {"", "Compile", "llm:m", "torch.compile", "unknown"}) {
    EXPECT_FALSE(ImplKindNamed(other).has_value()) << other;
  }
}

TEST(KindsTest, EngineAndWorkerShareTheirLists) {
  if (std::getenv("TRITONIZE_PYTHON") == nullptr) {
    GTEST_SKIP() << "TRITONIZE_PYTHON is not set (scripts/test.sh sets it)";
  }
  const fs::path dir = FreshTestDir("kinds");
  const nlohmann::json worker = DescribeWorker(dir);
  ASSERT_TRUE(worker.is_object());
  EXPECT_EQ(worker["schema_version"], kWorkerSchemaVersion);

  std::vector<std::string> kinds;
  for (ImplKind kind : kAllImplKinds) kinds.emplace_back(ImplKindName(kind));
  EXPECT_EQ(worker["impl_kinds"].get<std::vector<std::string>>(), kinds);

  // Every status the worker writes is one the engine reads; the engine adds only its own
  // "unavailable" (a job it never started).
  std::vector<std::string> statuses;
  for (const auto& name : worker["statuses"]) {
    EXPECT_TRUE(ParseStatus(name.get<std::string>()).has_value()) << name;
    statuses.push_back(name.get<std::string>());
  }
  for (int i = 0; i <= static_cast<int>(Status::kUnavailable); ++i) {
    const auto status = static_cast<Status>(i);
    if (status == Status::kUnavailable) continue;
    EXPECT_NE(std::find(statuses.begin(), statuses.end(), StatusName(status)), statuses.end())
        << StatusName(status);
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace tritonize
