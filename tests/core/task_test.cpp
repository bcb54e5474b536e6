#include "core/task.h"

#include <fstream>

#include <gtest/gtest.h>

#include "core/task_suite.h"

namespace tritonize {
namespace {

namespace fs = std::filesystem;

class TaskTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("tritonize-task-test-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
            "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "demo");
    std::ofstream(dir_ / "demo" / "baseline.py") << "def demo(x):\n    return x\n";
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path Write(const std::string& toml) {
    fs::path path = dir_ / "demo" / "task.toml";
    std::ofstream(path) << toml;
    return path;
  }

  static std::string Valid() {
    return R"toml(schema_version = 2
name = "demo"
entry = "demo"
signature = "demo(x)"
baseline = "baseline.py"
modes = ["forward"]
dims = ["M", "N"]
sizes = ["4x4"]
check_sizes = ["3x5"]
interpret_check_sizes = ["3x5"]
seeds = [0, 1]
[[inputs]]
name = "x"
kind = "tensor"
shape = ["M", "N"]
dtype = "float32"
init = "randn"
[tolerance]
y = { atol = 1e-6, rtol = 1e-5 }
[cost.forward]
bytes = "8 * M * N"
flops = "M * N"
)toml";
  }

  fs::path dir_;
};

bool AnyContains(const std::vector<std::string>& errors, const std::string& needle) {
  for (const auto& e : errors) {
    if (e.find(needle) != std::string::npos) return true;
  }
  return false;
}

TEST_F(TaskTest, LoadsAValidManifest) {
  Task task;
  std::vector<std::string> errors;
  ASSERT_TRUE(LoadTask(Write(Valid()), &task, &errors)) << (errors.empty() ? "" : errors[0]);
  EXPECT_EQ(task.name, "demo");
  EXPECT_EQ(task.dims, (std::vector<std::string>{"M", "N"}));
  EXPECT_EQ(task.seeds, (std::vector<int>{0, 1}));
  EXPECT_EQ(task.cost.at("forward").bytes, "8 * M * N");
  EXPECT_TRUE(task.experts.empty());
  EXPECT_EQ(task.outputs, (std::vector<std::string>{"y"}));
  EXPECT_EQ(task.manifest["inputs"][0]["dtype"], "float32");
}

TEST_F(TaskTest, MissingFieldsAreAllReportedWithFileAndField) {
  std::string toml = Valid();
  toml.replace(toml.find("entry = \"demo\"\n"), 15, "");
  toml.replace(toml.find("seeds = [0, 1]"), 14, "seeds = \"01\"");
  Task task;
  std::vector<std::string> errors;
  fs::path path = Write(toml);
  EXPECT_FALSE(LoadTask(path, &task, &errors));
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_TRUE(AnyContains(errors, path.string() + ": entry: missing"));
  EXPECT_TRUE(AnyContains(errors, ": seeds: expected a list of integers, got a string"));
}

TEST_F(TaskTest, MalformedSizeNamesTheSize) {
  std::string toml = Valid();
  toml.replace(toml.find("sizes = [\"4x4\"]"), 15, "sizes = [\"4x\"]");
  Task task;
  std::vector<std::string> errors;
  EXPECT_FALSE(LoadTask(Write(toml), &task, &errors));
  EXPECT_TRUE(AnyContains(errors, ": sizes: size \"4x\" is not 2 positive numbers"));
}

TEST_F(TaskTest, UnknownDimInShapeIsAnError) {
  std::string toml = Valid();
  toml.replace(toml.find("shape = [\"M\", \"N\"]"), 18, "shape = [\"M\", \"Q\"]");
  Task task;
  std::vector<std::string> errors;
  EXPECT_FALSE(LoadTask(Write(toml), &task, &errors));
  EXPECT_TRUE(AnyContains(errors, "inputs[0].shape: column 1: unknown name `Q`"));
}

TEST_F(TaskTest, InvalidTomlGivesLineAndColumn) {
  Task task;
  std::vector<std::string> errors;
  fs::path path = Write("name = \"demo\"\nmodes = [\n");
  EXPECT_FALSE(LoadTask(path, &task, &errors));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find(path.string() + ":"), std::string::npos);
  EXPECT_NE(errors[0].find("not valid TOML"), std::string::npos);
}

TEST_F(TaskTest, MissingBaselineFileIsNamed) {
  fs::remove(dir_ / "demo" / "baseline.py");
  Task task;
  std::vector<std::string> errors;
  EXPECT_FALSE(LoadTask(Write(Valid()), &task, &errors));
  EXPECT_TRUE(AnyContains(errors, ": baseline: file"));
}

TEST_F(TaskTest, NewerSchemaVersionIsRefused) {
  std::string toml = Valid();
  toml.replace(0, 18, "schema_version = 9");
  Task task;
  std::vector<std::string> errors;
  EXPECT_FALSE(LoadTask(Write(toml), &task, &errors));
  EXPECT_TRUE(AnyContains(errors, ": schema_version: is 9, but this reads version 2"));
}

TEST_F(TaskTest, ExpertsAreReadInManifestOrder) {
  std::string toml = Valid() + R"toml(
[[expert]]
name = "tutorial"
tutorial = "01-demo.py"
entry = "demo"

[[expert]]
name = "liger"
module = "liger_kernel.ops.demo"
names = ["DemoFunction"]
entry = "lambda x: DemoFunction.apply(x)"
interpret_skip = "no interpreter"
)toml";
  Task task;
  std::vector<std::string> errors;
  ASSERT_TRUE(LoadTask(Write(toml), &task, &errors)) << (errors.empty() ? "" : errors[0]);
  ASSERT_EQ(task.experts.size(), 2u);
  EXPECT_EQ(task.experts[0].name, "tutorial");
  EXPECT_EQ(task.experts[0].tutorial, "01-demo.py");
  EXPECT_EQ(task.experts[1].module, "liger_kernel.ops.demo");
  EXPECT_EQ(task.experts[1].names, (std::vector<std::string>{"DemoFunction"}));
}

TEST_F(TaskTest, FolderNameMustMatch) {
  std::string toml = Valid();
  toml.replace(toml.find("name = \"demo\""), 13, "name = \"odd\" ");
  Task task;
  std::vector<std::string> errors;
  EXPECT_FALSE(LoadTask(Write(toml), &task, &errors));
  EXPECT_TRUE(AnyContains(errors, "name: is \"odd\" but the folder is \"demo\""));
}

TEST(SizeTest, ParsesAndRejects) {
  std::vector<long long> v;
  EXPECT_TRUE(ParseSize("1823x781", 2, &v));
  EXPECT_EQ(v, (std::vector<long long>{1823, 781}));
  EXPECT_TRUE(ParseSize("1x2x3", 3, &v));
  EXPECT_FALSE(ParseSize("1x2", 3, &v));
  EXPECT_FALSE(ParseSize("0x2", 2, &v));
  EXPECT_FALSE(ParseSize("ax2", 2, &v));
  EXPECT_FALSE(ParseSize("", 1, &v));
}

TEST(TaskSuiteTest, ShippedSuiteLoads) {
  TaskSuite suite;
  std::vector<std::string> errors;
  ASSERT_TRUE(TaskSuite::Load(fs::path(TRITONIZE_SOURCE_DIR) / "tasks", &suite, &errors))
      << (errors.empty() ? "" : errors[0]);
  ASSERT_NE(suite.Find("softmax"), nullptr);
  ASSERT_NE(suite.Find("layernorm"), nullptr);
  ASSERT_NE(suite.Find("matmul"), nullptr);
  EXPECT_EQ(suite.Find("layernorm")->modes, (std::vector<std::string>{"forward", "backward"}));
  ASSERT_FALSE(suite.Find("layernorm")->experts.empty());
  EXPECT_EQ(suite.Find("layernorm")->experts[0].entry, "LayerNorm.apply");
  EXPECT_EQ(suite.Find("layernorm")->experts[0].tutorial, "05-layer-norm.py");
  for (const auto& task : suite.tasks()) {
    EXPECT_GE(task.sizes.size(), 1u) << task.name;
    EXPECT_GE(task.seeds.size(), 2u) << task.name;
    EXPECT_FALSE(task.experts.empty()) << task.name << " has no expert column";
    EXPECT_NE(task.interpret_check_sizes.empty(), task.interpret_skip.empty()) << task.name;
  }
}

// The dtype that bounds a task's arithmetic: a list of tensors counts as a tensor (grouped_gemm's
// GEMMs had no FLOP peak before, and the roofline took them for memory-bound).
TEST(TaskSuiteTest, TheDtypeOfATaskIsItsFirstTensorOrTensorListInputs) {
  TaskSuite suite;
  std::vector<std::string> errors;
  ASSERT_TRUE(TaskSuite::Load(fs::path(TRITONIZE_SOURCE_DIR) / "tasks", &suite, &errors));
  EXPECT_EQ(TaskDtype(*suite.Find("grouped_gemm")), "float16");
  EXPECT_EQ(TaskDtype(*suite.Find("softmax")), "float32");
  EXPECT_EQ(TaskDtype(*suite.Find("matmul")), "float16");
  Task scalars_only;
  scalars_only.manifest = {{"inputs", {{{"name", "n"}, {"kind", "int"}, {"value", 3}}}}};
  EXPECT_EQ(TaskDtype(scalars_only), "");
}

TEST(TaskSuiteTest, SelectReportsUnknownNames) {
  TaskSuite suite;
  std::vector<std::string> errors;
  ASSERT_TRUE(TaskSuite::Load(fs::path(TRITONIZE_SOURCE_DIR) / "tasks", &suite, &errors));
  auto selected = suite.Select("softmax,nope", &errors);
  EXPECT_EQ(selected.size(), 1u);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("unknown task \"nope\""), std::string::npos);
  EXPECT_EQ(suite.Select("all", &errors).size(), suite.tasks().size());
}

}  // namespace
}  // namespace tritonize
