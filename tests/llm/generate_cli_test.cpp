// `tritonize generate` as a user runs it: the real binary against a loopback server, then
// `bench --interpret` on what it wrote. The worker runs need TRITONIZE_PYTHON (skipped without).
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>

#include "../support/run_binary.h"
#include "../support/test_dir.h"
#include "core/sha256.h"
#include "loopback_server.h"

namespace tritonize {
namespace {

namespace fs = std::filesystem;
const fs::path kRoot = TRITONIZE_SOURCE_DIR;
constexpr const char* kKey = "sk-ant-cli-test-SECRET-99";

std::string Fenced(const fs::path& file) {
  std::string code, err;
  ReadFile(file, &code, &err);
  return "```python\n" + code + "```\n";
}

/// Softmax: turn 1 alternates right, wrong, right; every turn 2 is right. The other tasks get
/// the shipped (GPU-only) candidates, which fail under the interpreter.
ScriptedReply FakeModel(const httplib::Request& req, std::map<std::string, int>* turn1_count) {
  auto body = nlohmann::json::parse(req.body);
  std::string first = body["messages"][0]["content"];
  std::string task = first.find("Task: softmax") != std::string::npos     ? "softmax"
                     : first.find("Task: layernorm") != std::string::npos ? "layernorm"
                                                                          : "matmul";
  const fs::path fixtures = kRoot / "tests" / "fixtures" / "candidates";
  std::string answer;
  if (task == "softmax") {
    bool turn1 = body["messages"].size() == 1;
    int k = turn1 ? (*turn1_count)[task]++ : 0;
    answer = Fenced(fixtures / (turn1 && k % 3 == 1 ? "softmax_wrong.py" : "softmax_ok.py"));
  } else {
    answer = Fenced(kRoot / "llm_triton" / "claude-devsession-oneshot" / (task + ".py"));
  }
  return {200, AnthropicBody(answer, "end_turn", 2000, 800), {}, 0};
}

class GenerateCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = FreshTestDir("gencli");
    std::ofstream(dir_ / "prices.toml")
        << "[models.\"anthropic:test-model\"]\ninput_per_mtok = 3.0\n"
           "output_per_mtok = 15.0\n";
  }
  void TearDown() override { fs::remove_all(dir_); }

  using Output = BinaryOutput;
  Output Tritonize(std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
    return RunTritonize(dir_, std::move(args), std::move(env), /*timeout_s=*/900);
  }
  fs::path dir_;
};

TEST_F(GenerateCliTest, UnknownProviderIsAUsageError) {
  Output r = Tritonize({"generate", "--model", "bogus:model"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("unknown provider \"bogus\""), std::string::npos) << r.err;
}

TEST_F(GenerateCliTest, MissingKeyIsAUsageErrorSayingWhichVariable) {
  Output r = Tritonize({"generate", "--model", "anthropic:test-model", "--api-key-env",
                        "TRITONIZE_TEST_NO_SUCH_KEY"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("set TRITONIZE_TEST_NO_SUCH_KEY"), std::string::npos) << r.err;
}

TEST_F(GenerateCliTest, UnreachableHostFailsTheRequests) {
  Output r =
      Tritonize({"generate", "--model", "anthropic:test-model", "--base-url", "http://127.0.0.1:1",
                 "--max-attempts", "1", "--tasks", "softmax", "--prices",
                 (dir_ / "prices.toml").string(), "--llm-dir", (dir_ / "llm").string()},
                {{"ANTHROPIC_API_KEY", kKey}});
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("1 request(s) failed"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find(kKey), std::string::npos);
}

// The "done when": generate 3 samples x 2 turns for the first three tasks against the loopback
// server, score them with bench (pass@k), and rerun generate: no request is sent.
TEST_F(GenerateCliTest, SamplesAndTurnsAreScoredByBenchAndTheRerunIsFree) {
  const char* python = std::getenv("TRITONIZE_PYTHON");
  if (python == nullptr || *python == '\0') GTEST_SKIP() << "TRITONIZE_PYTHON not set";
  std::map<std::string, int> turn1_count;
  LoopbackServer server([&](const httplib::Request& req) { return FakeModel(req, &turn1_count); });
  const std::vector<std::string> generate = {"generate",
                                             "--model",
                                             "anthropic:test-model",
                                             "--base-url",
                                             server.base(),
                                             "--tasks",
                                             "softmax,layernorm,matmul",
                                             "--samples",
                                             "3",
                                             "--turns",
                                             "2",
                                             "--interpret",
                                             "--prices",
                                             (dir_ / "prices.toml").string(),
                                             "--llm-dir",
                                             (dir_ / "llm").string()};
  Output first = Tritonize(generate, {{"ANTHROPIC_API_KEY", kKey}});
  ASSERT_EQ(first.code, 0) << first.err;
  EXPECT_EQ(server.hits(), 18);  // 3 tasks x 3 samples x 2 turns
  EXPECT_NE(
      first.out.find(
          "total      |       18 |   18 |      0 |      0 |      36000 |       14400 |     0.3240"),
      std::string::npos)
      << first.out;
  std::cout << "---- generate (first run) ----\n" << first.out;

  Output bench = Tritonize({"bench", "--interpret", "--tasks", "softmax,layernorm,matmul", "--impls", "baseline,llm",
                            "--llm-dir", (dir_ / "llm").string()});
  std::cout << "---- bench --interpret ----\n" << bench.out;
  EXPECT_NE(bench.out.find("Samples: LLM (anthropic-test-model)"), std::string::npos) << bench.out;
  // softmax: turn 1 right in samples 0 and 2, wrong in 1; every turn 2 right.
  EXPECT_NE(bench.out.find("softmax   | 3 |     2 |    100% |   100% |   100% |        - |        "
                           "- |         - |               - |            67% |          100%"),
            std::string::npos)
      << bench.out;

  Output second = Tritonize(generate, {{"ANTHROPIC_API_KEY", kKey}});
  ASSERT_EQ(second.code, 0) << second.err;
  EXPECT_EQ(server.hits(), 18);
  EXPECT_NE(second.out.find("no request was sent"), std::string::npos)
      << second.out << "\n---- first run's log ----\n" << first.err << "\n---- second's ----\n"
      << second.err;
  std::cout << "---- generate (second run) ----\n" << second.out;

  for (const auto& entry : fs::recursive_directory_iterator(dir_)) {
    if (!entry.is_regular_file()) continue;
    std::string bytes, err;
    ReadFile(entry.path(), &bytes, &err);
    EXPECT_EQ(bytes.find(kKey), std::string::npos) << entry.path();
  }
}

}  // namespace
}  // namespace tritonize
