#include "llm/prompt.h"

#include <gtest/gtest.h>

#include "../support/shipped_prompts.h"
#include "core/sha256.h"
#include "core/task_suite.h"

namespace tritonize {
namespace {

namespace fs = std::filesystem;
const fs::path kRoot = TRITONIZE_SOURCE_DIR;

// The shipped candidates' prompts were rendered from prompts/oneshot-v1.txt by a throwaway
// script; the engine must render the same bytes, or `prompt` would not show what was sent.
TEST(PromptTest, RendersTheShippedPromptsByteForByte) {
  TaskSuite suite;
  std::vector<std::string> errors;
  ASSERT_TRUE(TaskSuite::Load(kRoot / "tasks", &suite, &errors));
  PromptTemplate tmpl;
  std::string err;
  ASSERT_TRUE(LoadPromptTemplate(kRoot, "oneshot-v1", &tmpl, &err)) << err;
  for (const char* name : {"softmax", "layernorm", "matmul"}) {
    const Task* task = suite.Find(name);
    ASSERT_NE(task, nullptr);
    PromptVars vars;
    std::string text, expected;
    ASSERT_TRUE(OneshotVars(*task, &vars, &err)) << err;
    ASSERT_TRUE(RenderPrompt(tmpl.text, vars, &text, &err)) << err;
    ASSERT_TRUE(ReadFile(
        kRoot / "llm_triton" / "claude-devsession-oneshot" / (std::string(name) + ".prompt.txt"),
        &expected, &err));
    EXPECT_EQ(text, AsRenderedToday(name, expected)) << name;
  }
}

TEST(PromptTest, NamesAPlaceholderWithNoValue) {
  std::string out, err;
  EXPECT_FALSE(RenderPrompt("a {{known}} b {{missing}}", {{"known", "x"}}, &out, &err));
  EXPECT_NE(err.find("{{missing}}"), std::string::npos) << err;
  EXPECT_TRUE(RenderPrompt("a {{known}} b", {{"known", "x"}}, &out, &err));
  EXPECT_EQ(out, "a x b");
}

TEST(PromptTest, FloatsLookLikePythonRepr) {
  EXPECT_EQ(PythonFloat(1e-6), "1e-06");
  EXPECT_EQ(PythonFloat(1e-4), "0.0001");
  EXPECT_EQ(PythonFloat(0.05), "0.05");
  EXPECT_EQ(PythonFloat(1.0), "1.0");
}

TEST(PromptTest, RefinementCarriesTheVerdict) {
  Task task;
  task.entry = "softmax";
  JobResult verdict;
  verdict.status = Status::kWrongResult;
  verdict.message = "y differs at 37x93";
  CheckRecord c;
  c.size = "37x93";
  c.output = "y";
  c.mode = "forward";
  c.mismatches = 12;
  c.numel = 3441;
  verdict.checks.push_back(c);
  PromptVars v = RefineVars(task, 2, true, verdict, nullptr);
  EXPECT_EQ(v["status"], "wrong_result");
  EXPECT_EQ(v["message"], "y differs at 37x93");
  EXPECT_NE(v["mismatches"].find("size 37x93"), std::string::npos);
  EXPECT_NE(v["mismatches"].find("12 of 3441"), std::string::npos);
  PromptTemplate tmpl;
  std::string err, out;
  ASSERT_TRUE(LoadPromptTemplate(kRoot, "refine-v1", &tmpl, &err)) << err;
  ASSERT_TRUE(RenderPrompt(tmpl.text, v, &out, &err)) << err;
  EXPECT_NE(out.find("Status: wrong_result"), std::string::npos);
}

}  // namespace
}  // namespace tritonize
