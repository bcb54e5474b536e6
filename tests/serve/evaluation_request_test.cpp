#include "serve/evaluation_request.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace tritonize {
namespace {

class EvaluationRequestTest : public testing::Test {
 protected:
  void SetUp() override {
    std::vector<std::string> errors;
    ASSERT_TRUE(TaskSuite::Load(std::filesystem::path(TRITONIZE_SOURCE_DIR) / "tasks", &suite_,
                                &errors));
  }
  /// The error of a body that must be refused.
  ApiError Refused(const std::string& body) {
    std::vector<EvaluationRequest> requests;
    bool batch = false;
    ApiError error;
    EXPECT_FALSE(ParseSubmission(body, suite_, limits_, &requests, &batch, &error)) << body;
    return error;
  }
  TaskSuite suite_;
  SubmissionLimits limits_;
};

TEST_F(EvaluationRequestTest, OneSubmissionWithEveryOption) {
  std::vector<EvaluationRequest> requests;
  bool batch = true;
  ApiError error;
  ASSERT_TRUE(ParseSubmission(
      R"({"task": "softmax", "code": "def softmax(x): return x",
          "options": {"sizes": ["4096x4096", "1024x1024"], "timing": false, "repeat": 2,
                      "seed": 7}, "force": true})",
      suite_, limits_, &requests, &batch, &error))
      << error.field << ": " << error.message;
  EXPECT_FALSE(batch);
  ASSERT_EQ(requests.size(), 1u);
  const EvaluationRequest& r = requests[0];
  EXPECT_EQ(r.task, "softmax");
  EXPECT_TRUE(r.force);
  // In the task's own order, whatever order the client gave.
  EXPECT_EQ(r.options.sizes, (std::vector<std::string>{"1024x1024", "4096x4096"}));
  EXPECT_FALSE(r.options.timing);
  EXPECT_EQ(r.options.repeat, 2);
  EXPECT_EQ(r.options.seed, 7u);
}

TEST_F(EvaluationRequestTest, BatchKeepsItsOrder) {
  std::vector<EvaluationRequest> requests;
  bool batch = false;
  ApiError error;
  ASSERT_TRUE(ParseSubmission(R"({"evaluations": [{"task": "softmax", "code": "a"},
                                                  {"task": "matmul", "code": "b"}]})",
                              suite_, limits_, &requests, &batch, &error))
      << error.message;
  EXPECT_TRUE(batch);
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].task, "matmul");
  EXPECT_EQ(requests[1].code, "b");
}

TEST_F(EvaluationRequestTest, EachProblemNamesItsField) {
  EXPECT_EQ(Refused("{not json").field, "");
  EXPECT_NE(Refused("{not json").message.find("malformed JSON"), std::string::npos);
  EXPECT_NE(Refused("[1, 2]").message.find("must be a JSON object"), std::string::npos);
  EXPECT_EQ(Refused(R"({"code": "x"})").field, "task");
  EXPECT_EQ(Refused(R"({"task": 3, "code": "x"})").field, "task");
  const ApiError unknown = Refused(R"({"task": "nope", "code": "x"})");
  EXPECT_EQ(unknown.field, "task");
  // Every task of the suite is named, in its order.
  std::string known;
  for (const auto& task : suite_.tasks()) known += (known.empty() ? "" : ", ") + task.name;
  EXPECT_NE(unknown.message.find("unknown task \"nope\" (known: " + known + ")"), std::string::npos)
      << unknown.message;
  EXPECT_NE(known.find("softmax"), std::string::npos);
  EXPECT_EQ(Refused(R"({"task": "softmax"})").field, "code");
  EXPECT_EQ(Refused(R"({"task": "softmax", "code": ["x"]})").field, "code");
  EXPECT_EQ(Refused(R"({"task": "softmax", "code": ""})").field, "code");
  EXPECT_EQ(Refused(R"({"task": "softmax", "code": "x", "optoins": {}})").field, "optoins");
  EXPECT_EQ(Refused(R"({"task": "softmax", "code": "x", "force": "yes"})").field, "force");
  EXPECT_EQ(Refused(R"({"task": "softmax", "code": "x", "options": []})").field, "options");
  EXPECT_EQ(Refused(R"({"task": "softmax", "code": "x", "options": {"repeat": 0}})").field,
            "options.repeat");
  EXPECT_EQ(Refused(R"({"task": "softmax", "code": "x", "options": {"repeat": 1.5}})").field,
            "options.repeat");
  EXPECT_EQ(Refused(R"({"task": "softmax", "code": "x", "options": {"timing": 1}})").field,
            "options.timing");
  EXPECT_EQ(Refused(R"({"task": "softmax", "code": "x", "options": {"seed": -3}})").field,
            "options.seed");
  EXPECT_EQ(Refused(R"({"task": "softmax", "code": "x", "options": {"colour": 1}})").field,
            "options.colour");
  const ApiError size =
      Refused(R"({"task": "softmax", "code": "x", "options": {"sizes": ["1024x1024", "3x3"]}})");
  EXPECT_EQ(size.field, "options.sizes[1]");
  EXPECT_NE(size.message.find("not a timed size of softmax"), std::string::npos) << size.message;
  EXPECT_EQ(Refused(R"({"evaluations": [{"task": "softmax", "code": "x"}, {"task": "softmax"}]})")
                .field,
            "evaluations[1].code");
  EXPECT_EQ(Refused(R"({"evaluations": {}})").field, "evaluations");
  EXPECT_EQ(Refused(R"({"evaluations": []})").field, "evaluations");
  EXPECT_EQ(Refused(R"({"evaluations": [], "extra": 1})").field, "extra");
}

TEST_F(EvaluationRequestTest, LimitsAreEnforced) {
  limits_.max_code_bytes = 10;
  EXPECT_EQ(Refused(R"({"task": "softmax", "code": "01234567890"})").field, "code");
  limits_.max_batch = 1;
  EXPECT_EQ(Refused(R"({"evaluations": [{"task": "softmax", "code": "a"},
                                       {"task": "softmax", "code": "b"}]})")
                .field,
            "evaluations");
}

// A deeply nested body must be refused, not overflow the stack.
TEST_F(EvaluationRequestTest, DeepNestingIsAnErrorNotACrash) {
  const std::string deep = std::string(200000, '[') + std::string(200000, ']');
  const ApiError error = Refused(deep);
  EXPECT_EQ(error.status, 400);
}

TEST_F(EvaluationRequestTest, EqualSubmissionsHaveEqualKeys) {
  EvaluationOptions a;
  a.sizes = {"1024x1024"};
  EvaluationOptions b = a;
  const auto key = [](const EvaluationOptions& o, const std::string& code, bool interpret) {
    return ContentKey("softmax", code, CanonicalOptions(o, interpret));
  };
  EXPECT_EQ(key(a, "x", false), key(b, "x", false));
  EXPECT_NE(key(a, "x", false), key(a, "y", false));
  EXPECT_NE(key(a, "x", false), key(a, "x", true));  // an interpreter verdict is not a GPU one
  b.repeat = 2;
  EXPECT_NE(key(a, "x", false), key(b, "x", false));
  b = a;
  b.seed = 5;
  EXPECT_NE(key(a, "x", false), key(b, "x", false));
  // Round trip through the stored form.
  const EvaluationOptions back = OptionsFromJson(CanonicalOptions(b, false));
  EXPECT_EQ(back.sizes, b.sizes);
  EXPECT_EQ(back.seed, b.seed);
  EXPECT_EQ(back.repeat, b.repeat);
  EXPECT_EQ(back.timing, b.timing);
}

}  // namespace
}  // namespace tritonize
