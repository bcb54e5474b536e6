#include "llm/response_parser.h"

#include <gtest/gtest.h>

#include "core/sha256.h"

namespace tritonize {
namespace {

namespace fs = std::filesystem;

TEST(ResponseParserTest, ShippedResponsesGiveTheShippedCode) {
  const fs::path dir = fs::path(TRITONIZE_SOURCE_DIR) / "llm_triton" / "claude-devsession-oneshot";
  const std::pair<const char*, const char*> tasks[] = {
      {"softmax", "softmax"}, {"layernorm", "layer_norm"}, {"matmul", "matmul"}};
  for (const auto& [task, entry] : tasks) {
    std::string response, code, err;
    ASSERT_TRUE(ReadFile(dir / (std::string(task) + ".response.md"), &response, &err));
    ASSERT_TRUE(ReadFile(dir / (std::string(task) + ".py"), &code, &err));
    ExtractedCode got = ExtractCode(response, entry);
    ASSERT_TRUE(got.found) << task;
    EXPECT_EQ(got.code, code) << task;
    EXPECT_EQ(CheckCode(got.code, entry), "") << task;
  }
}

TEST(ResponseParserTest, PicksTheLastBlockThatDefinesTheEntryAndAKernel) {
  std::string answer =
      "First a sketch:\n```python\ndef helper():\n    pass\n```\nThen the module:\n"
      "```python\nimport triton\n@triton.jit\ndef k():\n    pass\n\ndef softmax(x):\n    return "
      "x\n```\n"
      "Usage:\n```python\ny = softmax(x)\n```\n";
  ExtractedCode got = ExtractCode(answer, "softmax");
  ASSERT_TRUE(got.found);
  EXPECT_EQ(got.block, 2);
  EXPECT_EQ(got.blocks, 3);
  EXPECT_NE(got.code.find("@triton.jit"), std::string::npos);
}

TEST(ResponseParserTest, NoBlockAndUnclosedBlockGiveNothing) {
  EXPECT_FALSE(ExtractCode("I cannot help with that.", "softmax").found);
  // max_tokens cut the answer inside the block: the fence never closes.
  EXPECT_FALSE(ExtractCode("```python\nimport triton\n@triton.jit\ndef k(", "softmax").found);
}

TEST(ResponseParserTest, CheckNamesWhatIsMissing) {
  EXPECT_NE(CheckCode("def other():\n    pass\n", "softmax").find("does not define `softmax`"),
            std::string::npos);
  EXPECT_NE(CheckCode("def softmax(x):\n    return x\n", "softmax").find("no @triton.jit"),
            std::string::npos);
  EXPECT_EQ(CheckCode("import triton\n@triton.jit\ndef k():\n    pass\nlayer_norm = F.apply\n",
                      "layer_norm"),
            "");
}

}  // namespace
}  // namespace tritonize
