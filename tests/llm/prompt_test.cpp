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
    ASSERT_TRUE(OneshotVars(*task, "NVIDIA H100 80GB HBM3", &vars, &err)) << err;
    ASSERT_TRUE(RenderPrompt(tmpl.text, vars, &text, &err)) << err;
    ASSERT_TRUE(ReadFile(
        kRoot / "llm_triton" / "claude-devsession-oneshot" / (std::string(name) + ".prompt.txt"),
        &expected, &err));
    EXPECT_EQ(text, AsRenderedToday(name, expected)) << name;
  }
}

// The defect it mends: every prompt said "an NVIDIA H100 GPU" whatever the run's GPU.
TEST(PromptTest, TheCurrentTemplateNamesTheTargetGpu) {
  TaskSuite suite;
  std::vector<std::string> errors;
  ASSERT_TRUE(TaskSuite::Load(kRoot / "tasks", &suite, &errors));
  PromptTemplate tmpl;
  std::string err, h200, unknown;
  ASSERT_TRUE(LoadPromptTemplate(kRoot, "oneshot-v2", &tmpl, &err)) << err;
  PromptVars vars;
  ASSERT_TRUE(OneshotVars(*suite.Find("softmax"), "NVIDIA H200", &vars, &err)) << err;
  ASSERT_TRUE(RenderPrompt(tmpl.text, vars, &h200, &err)) << err;
  EXPECT_NE(h200.find("as fast as possible on the NVIDIA H200 GPU (Hopper)."), std::string::npos)
      << h200;
  EXPECT_EQ(h200.find("H100"), std::string::npos);
  ASSERT_TRUE(OneshotVars(*suite.Find("softmax"), "", &vars, &err)) << err;
  ASSERT_TRUE(RenderPrompt(tmpl.text, vars, &unknown, &err)) << err;
  EXPECT_NE(unknown.find("as fast as possible on an NVIDIA GPU."), std::string::npos) << unknown;
  EXPECT_EQ(TargetGpu("NVIDIA H200"), "NVIDIA H200");  // the flag wins
}

TEST(PromptTest, TheCurrentTemplateSaysTheTasksConstraintsChecksAndInputs) {
  TaskSuite suite;
  std::vector<std::string> errors;
  ASSERT_TRUE(TaskSuite::Load(kRoot / "tasks", &suite, &errors));
  PromptTemplate tmpl;
  std::string err;
  ASSERT_TRUE(LoadPromptTemplate(kRoot, "oneshot-v2", &tmpl, &err)) << err;
  auto render = [&](const char* name) {
    PromptVars vars;
    std::string text;
    EXPECT_TRUE(OneshotVars(*suite.Find(name), "NVIDIA H200", &vars, &err)) << err;
    EXPECT_TRUE(RenderPrompt(tmpl.text, vars, &text, &err)) << err;
    return text;
  };
  const std::string attention = render("attention");
  EXPECT_NE(attention.find("Every size has D is a multiple of 64 and N is a multiple of 128; it "
                           "must be correct for any such size"),
            std::string::npos)
      << attention;
  const std::string dropout = render("dropout");
  EXPECT_NE(dropout.find("y is checked as a dropout of x: every element 0 or x / (1 - p)"),
            std::string::npos)
      << dropout;
  EXPECT_EQ(dropout.find("float64 reference"), std::string::npos);
  const std::string softmax = render("softmax");
  EXPECT_NE(softmax.find("Every check is also made with inputs drawn otherwise: logits scaled by 50"),
            std::string::npos)
      << softmax;
  EXPECT_NE(softmax.find("not multiples of any block size"), std::string::npos);
  // [backward].consumes_inputs: what the checks allow every column (Liger's GeGLU backward writes
  // da and db into a and b), the LLM is told; a task without it says nothing of the kind.
  const std::string geglu = render("geglu");
  EXPECT_NE(
      geglu.find("- Return new tensors; the forward must not modify the inputs. Nothing reads "
                 "a, b after the backward: it may overwrite them, and write the gradients "
                 "into them.\n"),
      std::string::npos)
      << geglu;
  EXPECT_EQ(geglu.find("do not modify the inputs"), std::string::npos);
  EXPECT_NE(render("layernorm").find("- Return new tensors; do not modify the inputs.\n"),
            std::string::npos);
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
