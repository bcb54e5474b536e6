// The manifest schema, engine side: every shared bad manifest gives exactly the problem both
// checkers must report (tests/fixtures/manifests; python/tests/test_manifest.py reads the same
// files), so the engine and the worker cannot drift apart again.
#include "core/manifest_schema.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "core/task.h"

namespace tritonize {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> Fixtures() {
  std::vector<fs::path> paths;
  for (const auto& entry :
       fs::directory_iterator(fs::path(TRITONIZE_SOURCE_DIR) / "tests" / "fixtures" / "manifests")) {
    if (entry.path().extension() == ".toml") paths.push_back(entry.path());
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

std::vector<std::string> Expectations(const fs::path& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  const std::string prefix = "# expect: ";
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(prefix, 0) == 0) out.push_back(line.substr(prefix.size()));
  }
  return out;
}

TEST(ManifestSchemaTest, EverySharedFixtureGivesExactlyTheExpectedProblem) {
  const auto fixtures = Fixtures();
  ASSERT_GE(fixtures.size(), 40u);
  for (const auto& path : fixtures) {
    const auto expected = Expectations(path);
    ASSERT_FALSE(expected.empty()) << path << " says nothing it expects";
    toml::table table = toml::parse_file(path.string());
    std::vector<std::string> problems;
    CheckManifest(TomlToJson(table), &problems);
    std::string listed;
    for (const auto& p : problems) listed += "\n  " + p;
    if (expected == std::vector<std::string>{"ok"}) {
      EXPECT_TRUE(problems.empty()) << path.filename() << ":" << listed;
      continue;
    }
    for (const auto& line : expected) {
      EXPECT_NE(std::find(problems.begin(), problems.end(), line), problems.end())
          << path.filename() << ": expected\n  " << line << "\ngot:" << listed;
    }
  }
}

TEST(ManifestSchemaTest, FloatSixtyFourIsOneOfTheDtypes) {
  const auto dtypes = SchemaVocab("dtypes");
  EXPECT_NE(std::find(dtypes.begin(), dtypes.end(), "float64"), dtypes.end());
  EXPECT_NE(std::find(dtypes.begin(), dtypes.end(), "int64"), dtypes.end());
}

TEST(ManifestSchemaTest, EmbeddedSchemaIsTheWorkersFile) {
  std::ifstream in(fs::path(TRITONIZE_SOURCE_DIR) / "python" / "tritonize_worker" /
                   "manifest_schema.toml");
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), kManifestSchemaText) << "rebuild: the embedded schema is stale";
}

TEST(ManifestSchemaTest, TypesAreNamedAsTheWorkerNamesThem) {
  std::vector<std::string> problems;
  CheckValue(nlohmann::json::array({1, "M", true}), {{"type", "shape"}}, "inputs[0].shape", nullptr,
             &problems);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0],
            "inputs[0].shape: expected a shape (a list of dim names, numbers or formulas), got a "
            "list");
  EXPECT_EQ(JsonTypeName(nlohmann::json(1.5)), "a number");
  EXPECT_EQ(JsonTypeName(nlohmann::json(true)), "a boolean");
}

}  // namespace
}  // namespace tritonize
