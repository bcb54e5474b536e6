#include "core/formula.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace tritonize {
namespace {

const std::map<std::string, double> kDims = {{"M", 4096}, {"N", 2048}, {"K", 512}};

double Eval(const std::string& formula) {
  double value = 0;
  std::string err;
  EXPECT_TRUE(EvaluateFormula(formula, kDims, &value, &err)) << err;
  return value;
}

TEST(FormulaTest, PrecedenceAndParentheses) {
  EXPECT_DOUBLE_EQ(Eval("2 * (M * K + K * N + M * N)"), 2.0 * (4096 * 512 + 512 * 2048 + 4096 * 2048));
  EXPECT_DOUBLE_EQ(Eval("2 * M * N * 2 + 2 * N * 2"), 2.0 * 4096 * 2048 * 2 + 2 * 2048 * 2);
  EXPECT_DOUBLE_EQ(Eval("M - N - K"), 4096.0 - 2048 - 512);  // left-associative
  EXPECT_DOUBLE_EQ(Eval("M / N / 2"), 1.0);
  EXPECT_DOUBLE_EQ(Eval("-K + 1e3"), 488.0);
  EXPECT_DOUBLE_EQ(Eval("1.5e-1 * 20"), 3.0);
}

TEST(FormulaTest, ErrorsSayWhatAndWhere) {
  double value = 0;
  std::string err;
  EXPECT_FALSE(EvaluateFormula("2 * Q", kDims, &value, &err));
  EXPECT_EQ(err, "column 5: unknown name `Q` in \"2 * Q\"");
  EXPECT_FALSE(EvaluateFormula("2 * (M + N", kDims, &value, &err));
  EXPECT_EQ(err, "column 11: `)` expected in \"2 * (M + N\"");
  EXPECT_FALSE(EvaluateFormula("M N", kDims, &value, &err));
  EXPECT_EQ(err, "column 3: unexpected `N` in \"M N\"");
  EXPECT_FALSE(EvaluateFormula("", kDims, &value, &err));
  EXPECT_EQ(err, "column 1: empty formula in \"\"");
  EXPECT_FALSE(EvaluateFormula("M / (N - N)", kDims, &value, &err));
  EXPECT_NE(err.find("division by zero"), std::string::npos);
  EXPECT_FALSE(EvaluateFormula("M ** 2", kDims, &value, &err));
  EXPECT_NE(err.find("unexpected `*`"), std::string::npos);
}

TEST(FormulaTest, ValidationNeedsOnlyTheDimNames) {
  std::string err;
  EXPECT_TRUE(ValidateFormula("2 * M * N / (N - N + 1)", {"M", "N"}, &err)) << err;
  EXPECT_FALSE(ValidateFormula("2 * M * K", {"M", "N"}, &err));
  EXPECT_EQ(err, "column 9: unknown name `K` (the task's dims: M, N) in \"2 * M * K\"");
}

TEST(FormulaTest, BindDimsReadsTheSize) {
  std::map<std::string, double> values;
  ASSERT_TRUE(BindDims({"M", "N"}, "2048x1024", &values));
  EXPECT_EQ(values, (std::map<std::string, double>{{"M", 2048}, {"N", 1024}}));
  EXPECT_FALSE(BindDims({"M", "N"}, "2048", &values));
}

}  // namespace
}  // namespace tritonize
