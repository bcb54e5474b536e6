// RunGeneration against a loopback server: cache, cost, budget, failures, key hygiene.
#include "llm/generator.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "../support/shipped_prompts.h"
#include "../support/test_dir.h"
#include "core/sha256.h"
#include "core/task_suite.h"
#include "llm/anthropic_provider.h"
#include "loopback_server.h"

namespace tritonize {
namespace {

namespace fs = std::filesystem;
const fs::path kRoot = TRITONIZE_SOURCE_DIR;
constexpr const char* kKey = "sk-ant-test-DO-NOT-LEAK-4242";

class InstantClock : public Clock {
 public:
  double Now() override { return 0; }
  void Sleep(double) override {}
};

std::string SoftmaxAnswer() {
  std::string code, err;
  ReadFile(kRoot / "tests" / "fixtures" / "candidates" / "softmax_ok.py", &code, &err);
  return "Here it is.\n\n```python\n" + code + "```\n";
}

class GeneratorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = FreshTestDir("gen");
    std::vector<std::string> errors;
    ASSERT_TRUE(TaskSuite::Load(kRoot / "tasks", &suite_, &errors));
    tasks_ = {suite_.Find("softmax")};
    std::string err;
    ASSERT_TRUE(LoadPromptTemplate(kRoot, "oneshot-v1", &config_.oneshot, &err));
    ASSERT_TRUE(LoadPromptTemplate(kRoot, "refine-v1", &config_.refine, &err));
    prices_.Set("anthropic:test-model", {3.0, 15.0});
    store_ = GenerationStore::Open(dir_ / "results.db", &err);
    ASSERT_TRUE(store_) << err;
    transport_ = MakeCurlTransport();
    config_.spec = {"anthropic", "test-model"};
    config_.model_id = "anthropic-test-model";
    config_.api_key = kKey;
    config_.out_dir = dir_ / "llm" / config_.model_id;
    config_.prices = &prices_;
    config_.transport = transport_.get();
    config_.clock = &clock_;
    config_.store = store_.get();
    config_.retry.max_attempts = 2;
    config_.jobs = 1;
  }
  void TearDown() override { fs::remove_all(dir_); }

  GenerateSummary Run(LoopbackServer& server) {
    provider_ = MakeAnthropicProvider(server.base());
    config_.provider = provider_.get();
    config_.base_url = server.base();
    return RunGeneration(config_, tasks_, [this](const std::string& l) { log_ += l + "\n"; });
  }

  fs::path dir_;
  TaskSuite suite_;
  std::vector<const Task*> tasks_;
  GenerateConfig config_;
  PriceTable prices_;
  std::unique_ptr<GenerationStore> store_;
  std::unique_ptr<HttpTransport> transport_;
  std::unique_ptr<Provider> provider_;
  InstantClock clock_;
  std::string log_;
};

TEST_F(GeneratorTest, SecondRunIsServedFromTheCacheAndCostsNothing) {
  LoopbackServer server([](const httplib::Request&) {
    return ScriptedReply{200, AnthropicBody(SoftmaxAnswer(), "end_turn", 1000, 500), {}, 0};
  });
  config_.samples = 3;
  GenerateSummary first = Run(server);
  EXPECT_EQ(server.hits(), 3);
  EXPECT_EQ(first.requests_sent, 3);
  double cost = 0;
  long long in = 0;
  for (const auto& t : first.turns) {
    EXPECT_EQ(t.status, "ok");
    cost += t.cost_usd;
    in += t.tokens_in;
  }
  EXPECT_EQ(in, 3000);
  EXPECT_NEAR(cost, 3 * (1000 * 3.0 + 500 * 15.0) / 1e6, 1e-12);  // 0.0315 USD
  EXPECT_TRUE(fs::exists(config_.out_dir / "softmax.py"));
  for (int s = 0; s < 3; ++s) {
    EXPECT_TRUE(fs::exists(config_.out_dir / "samples" / "softmax" / fmt::format("s{}-t1.py", s)));
  }
  GenerateSummary second = Run(server);
  EXPECT_EQ(server.hits(), 3);  // no new request
  EXPECT_EQ(second.requests_sent, 0);
  EXPECT_EQ(second.cache_hits, 3);
  config_.no_cache = true;
  Run(server);
  EXPECT_EQ(server.hits(), 6);
}

TEST_F(GeneratorTest, KeyAppearsInNoFileTheRunWrites) {
  // The server echoes the key in an error, as some gateways do: it must be redacted.
  LoopbackServer server([](const httplib::Request&) {
    return ScriptedReply{200, AnthropicBody(SoftmaxAnswer()), {}, 0};
  });
  server.Script({{400, std::string(R"({"error":{"message":"bad key )") + kKey + R"("}})", {}, 0}});
  config_.samples = 2;
  Run(server);
  EXPECT_EQ(log_.find(kKey), std::string::npos) << log_;
  EXPECT_NE(log_.find("[redacted]"), std::string::npos) << log_;
  int files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(dir_)) {
    if (!entry.is_regular_file()) continue;
    std::string bytes, err;
    ASSERT_TRUE(ReadFile(entry.path(), &bytes, &err));
    EXPECT_EQ(bytes.find(kKey), std::string::npos) << entry.path();
    ++files;
  }
  EXPECT_GT(files, 4);  // the store and one sample's files
}

TEST_F(GeneratorTest, OneFailedRequestCostsNothingElse) {
  LoopbackServer server([](const httplib::Request&) {
    return ScriptedReply{200, AnthropicBody(SoftmaxAnswer()), {}, 0};
  });
  server.Script({{500, "boom", {}, 0}, {500, "boom", {}, 0}});  // sample 0: both attempts fail
  config_.samples = 3;
  GenerateSummary first = Run(server);
  EXPECT_EQ(first.failed, 1);
  int ok = 0;
  for (const auto& t : first.turns) ok += t.status == "ok";
  EXPECT_EQ(ok, 2);
  EXPECT_EQ(server.hits(), 4);
  // The rerun asks only for the one that failed.
  GenerateSummary second = Run(server);
  EXPECT_EQ(second.failed, 0);
  EXPECT_EQ(second.requests_sent, 1);
  EXPECT_EQ(server.hits(), 5);
}

TEST_F(GeneratorTest, BudgetStopsNewRequestsAndKeepsWhatIsDone) {
  LoopbackServer server([](const httplib::Request&) {
    return ScriptedReply{200, AnthropicBody(SoftmaxAnswer(), "end_turn", 1000, 500), {}, 0};
  });
  config_.samples = 4;
  config_.budget_usd = 0.015;  // one call costs 0.0105 USD
  GenerateSummary s = Run(server);
  EXPECT_EQ(server.hits(), 2);
  EXPECT_TRUE(s.budget_reached);
  int budget = 0;
  for (const auto& t : s.turns) budget += t.status == "budget";
  EXPECT_EQ(budget, 2);
  EXPECT_TRUE(fs::exists(config_.out_dir / "samples" / "softmax" / "s1-t1.py"));
}

TEST_F(GeneratorTest, NoCodeRefusalAndTruncationAreRecordedWithoutACandidate) {
  LoopbackServer server([](const httplib::Request&) {
    return ScriptedReply{200, AnthropicBody("I would rather not write code."), {}, 0};
  });
  server.Script(
      {{200, AnthropicBody("I can't help with that.", "refusal"), {}, 0},
       {200, AnthropicBody("```python\nimport triton\n@triton.jit\ndef k(", "max_tokens"), {}, 0}});
  config_.samples = 3;
  GenerateSummary s = Run(server);
  std::vector<std::string> statuses;
  for (const auto& t : s.turns) statuses.push_back(t.status);
  EXPECT_EQ(statuses, (std::vector<std::string>{"refused", "truncated", "no_code"}));
  const fs::path dir = config_.out_dir / "samples" / "softmax";
  for (int k = 0; k < 3; ++k) {
    EXPECT_TRUE(fs::exists(dir / fmt::format("s{}-t1.meta.json", k)));
    EXPECT_FALSE(fs::exists(dir / fmt::format("s{}-t1.py", k)));
  }
  EXPECT_EQ(s.failed, 0);  // answered: they count as incorrect samples, not failed requests
}

TEST(ReplayTest, RegeneratesTheShippedSetByteForByte) {
  const fs::path shipped = kRoot / "llm_triton" / "claude-devsession-oneshot";
  const fs::path out = fs::temp_directory_path() / "tritonize-replay-test";
  fs::remove_all(out);
  TaskSuite suite;
  std::vector<std::string> errors;
  ASSERT_TRUE(TaskSuite::Load(kRoot / "tasks", &suite, &errors));
  GenerateConfig config;
  ReplaySource replay;
  PriceTable prices;
  std::string err;
  ASSERT_TRUE(ReplaySource::Load(shipped, &replay, &err)) << err;
  ASSERT_TRUE(LoadPromptTemplate(kRoot, "oneshot-v1", &config.oneshot, &err));
  ASSERT_TRUE(LoadPromptTemplate(kRoot, "refine-v1", &config.refine, &err));
  auto store = GenerationStore::Open(out / "results.db", &err);
  config.spec = {"replay", "claude-devsession-oneshot"};
  config.model_id = "claude-devsession-oneshot";
  config.replay = &replay;
  config.prices = &prices;
  config.store = store.get();
  config.out_dir = out / config.model_id;
  GenerateSummary s =
      RunGeneration(config, suite.Select("softmax,layernorm,matmul", &errors), nullptr);
  EXPECT_EQ(s.requests_sent, 0);
  for (const char* task : {"softmax", "layernorm", "matmul"}) {
    for (const char* ext : {".py", ".prompt.txt", ".response.md"}) {
      std::string a, b;
      ASSERT_TRUE(ReadFile(shipped / (std::string(task) + ext), &a, &err));
      ASSERT_TRUE(ReadFile(config.out_dir / (std::string(task) + ext), &b, &err)) << err;
      if (std::string(ext) == ".prompt.txt") a = AsRenderedToday(task, a);
      EXPECT_EQ(a, b) << task << ext;
    }
    std::string meta_text;
    ASSERT_TRUE(ReadFile(config.out_dir / (std::string(task) + ".meta.json"), &meta_text, &err));
    auto meta = nlohmann::json::parse(meta_text);
    EXPECT_EQ(meta["provider"], "none (no API call)");  // the recorded provenance is kept
    EXPECT_TRUE(meta.contains("replayed_by"));
  }
  fs::remove_all(out);
}

// The suite's twelve later tasks were answered to the oneshot-v2 prompt naming the H200
// (docs/llm-candidates.md); replaying their recorded answers writes every shipped file again, and
// geglu's answer (no closed code block) no candidate.
TEST(ReplayTest, RegeneratesTheNewTasksFromTheirOneshotV2Prompts) {
  const fs::path shipped = kRoot / "llm_triton" / "claude-devsession-oneshot";
  const fs::path out = fs::temp_directory_path() / "tritonize-replay-v2-test";
  fs::remove_all(out);
  TaskSuite suite;
  std::vector<std::string> errors;
  ASSERT_TRUE(TaskSuite::Load(kRoot / "tasks", &suite, &errors));
  const std::vector<std::string> tasks = {
      "vector_add", "dropout",      "attention",     "attention_noncausal",
      "asin",       "grouped_gemm", "matmul_fp8",    "rms_norm",
      "swiglu",     "geglu",        "cross_entropy", "rope"};
  GenerateConfig config;
  ReplaySource replay;
  PriceTable prices;
  std::string err;
  ASSERT_TRUE(ReplaySource::Load(shipped, &replay, &err)) << err;
  ASSERT_TRUE(LoadPromptTemplate(kRoot, "oneshot-v2", &config.oneshot, &err));
  ASSERT_TRUE(LoadPromptTemplate(kRoot, "refine-v1", &config.refine, &err));
  auto store = GenerationStore::Open(out / "results.db", &err);
  config.spec = {"replay", "claude-devsession-oneshot"};
  config.model_id = "claude-devsession-oneshot";
  config.gpu = "NVIDIA H200";
  config.replay = &replay;
  config.prices = &prices;
  config.store = store.get();
  config.out_dir = out / config.model_id;
  std::string selection;
  for (const auto& task : tasks) selection += (selection.empty() ? "" : ",") + task;
  GenerateSummary s = RunGeneration(config, suite.Select(selection, &errors), nullptr);
  ASSERT_TRUE(errors.empty()) << errors.front();
  EXPECT_EQ(s.requests_sent, 0);
  for (const auto& task : tasks) {
    for (const char* ext : {".py", ".prompt.txt", ".response.md"}) {
      const fs::path want = shipped / (task + ext), got = config.out_dir / (task + ext);
      EXPECT_EQ(fs::exists(want), fs::exists(got)) << task << ext;
      if (!fs::exists(want)) continue;
      std::string a, b;
      ASSERT_TRUE(ReadFile(want, &a, &err)) << err;
      ASSERT_TRUE(ReadFile(got, &b, &err)) << err;
      // A prompt as the engine renders it today (a contract declared after it was sent).
      EXPECT_EQ(std::string(ext) == ".prompt.txt" ? AsRenderedToday(task, a) : a, b) << task << ext;
    }
    std::string meta_text;
    ASSERT_TRUE(ReadFile(config.out_dir / (task + ".meta.json"), &meta_text, &err)) << err;
    auto meta = nlohmann::json::parse(meta_text);
    EXPECT_EQ(meta["target_gpu"], "NVIDIA H200") << task;
    EXPECT_EQ(meta["prompt_template"], "prompts/oneshot-v2.txt") << task;
    EXPECT_EQ(meta["status"], task == "geglu" ? "no_code" : "ok") << task;
  }
  EXPECT_FALSE(fs::exists(config.out_dir / "geglu.py"));
  fs::remove_all(out);
}

TEST(ReplayTest, ReadsBothBatchResultFormats) {
  const fs::path dir = fs::path(kRoot) / "tests" / "fixtures" / "responses";
  ReplaySource replay;
  std::string err, raw, origin;
  ASSERT_TRUE(ReplaySource::Load(dir, &replay, &err)) << err;
  Completion c;
  ASSERT_TRUE(replay.Find("softmax", 0, 1, &c, &raw, &origin));
  EXPECT_EQ(c.tokens_in, 1200);  // Anthropic Message Batches line
  ASSERT_TRUE(replay.Find("softmax", 1, 1, &c, &raw, &origin));
  EXPECT_EQ(c.tokens_in, 1300);                                   // OpenAI Batch line
  EXPECT_FALSE(replay.Find("softmax", 2, 1, &c, &raw, &origin));  // errored in the batch
  ASSERT_TRUE(replay.Find("matmul", 0, 1, &c, &raw, &origin));    // one file per request
  EXPECT_NE(c.text.find("```python"), std::string::npos);
}

}  // namespace
}  // namespace tritonize
