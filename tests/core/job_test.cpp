#include "core/job.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace tritonize {
namespace {

TEST(JobResultTest, ParsesTheProtocolShape) {
  auto j = nlohmann::json::parse(R"({
    "schema_version": 2, "status": "wrong_result", "message": "y differs", "phase": "check",
    "checks": [{"size": "3x5", "seed": 1, "mode": "forward", "output": "y", "ok": false,
                "max_abs_err": 0.5, "max_rel_err": 2.0, "mismatches": 3, "numel": 15,
                "atol": 1e-6, "rtol": 1e-4}],
    "timings": [{"size": "4x4", "mode": "forward", "kernel_us": [1, 2.5], "call_us": [3],
                 "kernels": {"k": 2}, "first_call_s": 0.7, "tuned": {"k": "BLOCK: 64, num_warps: 4"},
                 "kernel_median_us": {"k": 1.25}}],
    "environment": {"gpu": "H100"}
  })");
  JobResult r;
  std::string err;
  ASSERT_TRUE(ParseJobResult(j, &r, &err)) << err;
  EXPECT_EQ(r.status, Status::kWrongResult);
  ASSERT_EQ(r.checks.size(), 1u);
  EXPECT_EQ(r.checks[0].mismatches, 3);
  EXPECT_EQ(r.checks[0].seed, 1);
  ASSERT_EQ(r.timings.size(), 1u);
  EXPECT_EQ(r.timings[0].kernel_us, (std::vector<double>{1, 2.5}));
  EXPECT_EQ(r.timings[0].kernels.at("k"), 2);
  EXPECT_EQ(r.timings[0].tuned.at("k"), "BLOCK: 64, num_warps: 4");
  EXPECT_EQ(r.timings[0].kernel_median_us.at("k"), 1.25);
  EXPECT_EQ(r.environment["gpu"], "H100");

  JobResult back;
  ASSERT_TRUE(ParseJobResult(
      [&] {
        auto out = JobResultToJson(r);
        out["schema_version"] = 2;
        return out;
      }(),
      &back, &err))
      << err;
  EXPECT_EQ(back.timings[0].call_us, r.timings[0].call_us);
  EXPECT_EQ(back.timings[0].tuned, r.timings[0].tuned);
  EXPECT_EQ(back.timings[0].kernel_median_us, r.timings[0].kernel_median_us);
}

// Regression: a candidate whose output held NaN crashed the job ("type must be number, but is
// null") instead of being wrong_result. Non-finite figures travel as strings, null reads as NaN.
TEST(JobResultTest, NonFiniteFiguresRoundTrip) {
  auto j = nlohmann::json::parse(R"({
    "schema_version": 2, "status": "wrong_result", "message": "y has NaN", "wall_s": 1.5,
    "checks": [{"size": "3x5", "seed": 0, "output": "y", "ok": false, "max_abs_err": "NaN",
                "max_rel_err": "Infinity", "mismatches": 2, "nonfinite": 2, "numel": 15,
                "atol": 1e-6, "rtol": 1e-4},
               {"size": "3x5", "seed": 1, "output": "y", "ok": false, "max_abs_err": null,
                "max_rel_err": "-Infinity", "mismatches": 15, "numel": 15},
               {"size": "3x5", "seed": 2, "output": "y", "ok": false, "max_abs_err": 1e300,
                "max_rel_err": 1e300, "mismatches": 1, "numel": 15}],
    "timings": [{"size": "4x4", "kernel_us": [1, "NaN"], "call_us": ["Infinity"],
                 "kernel_median_us": {"k": "NaN"}}]
  })");
  JobResult r;
  std::string err;
  ASSERT_TRUE(ParseJobResult(j, &r, &err)) << err;
  ASSERT_EQ(r.checks.size(), 3u);
  EXPECT_TRUE(std::isnan(r.checks[0].max_abs_err));
  EXPECT_EQ(r.checks[0].max_rel_err, std::numeric_limits<double>::infinity());
  EXPECT_EQ(r.checks[0].nonfinite, 2);
  EXPECT_TRUE(std::isnan(r.checks[1].max_abs_err));
  EXPECT_EQ(r.checks[1].max_rel_err, -std::numeric_limits<double>::infinity());
  EXPECT_EQ(r.checks[2].max_abs_err, 1e300);
  EXPECT_TRUE(std::isnan(r.timings[0].kernel_us[1]));
  EXPECT_TRUE(std::isinf(r.timings[0].call_us[0]));

  // The engine's own JSON (eval --json, bench --json) writes them the same way: nothing is lost.
  const nlohmann::json out = JobResultToJson(r);
  EXPECT_EQ(out["checks"][0]["max_abs_err"], "NaN");
  EXPECT_EQ(out["checks"][0]["max_rel_err"], "Infinity");
  EXPECT_EQ(out["checks"][0]["nonfinite"], 2);
  EXPECT_EQ(out["checks"][1]["max_rel_err"], "-Infinity");
  EXPECT_EQ(out["checks"][2]["max_abs_err"], 1e300);
  EXPECT_EQ(out["timings"][0]["kernel_us"][1], "NaN");
  EXPECT_EQ(out["timings"][0]["kernel_median_us"]["k"], "NaN");
  EXPECT_EQ(nlohmann::json::parse(out.dump()), out);  // valid JSON

  EXPECT_FALSE(ParseJobResult(nlohmann::json::parse(R"({"schema_version": 2, "status": "ok",
    "checks": [{"size": "1", "max_abs_err": "huge"}]})"),
                              &r, &err));
  EXPECT_NE(err.find("`max_abs_err` is not a number (\"huge\")"), std::string::npos) << err;
}

TEST(JobResultTest, JsonNumberSpellsEveryNonFiniteValue) {
  double value = 0;
  for (const double v : {std::numeric_limits<double>::infinity(),
                         -std::numeric_limits<double>::infinity(), 0.0, -2.5, 1e308}) {
    ASSERT_TRUE(ReadJsonNumber(JsonNumber(v), &value));
    EXPECT_EQ(value, v);
  }
  ASSERT_TRUE(ReadJsonNumber(JsonNumber(std::nan("")), &value));
  EXPECT_TRUE(std::isnan(value));
  EXPECT_FALSE(ReadJsonNumber("nan", &value));  // only the three spellings
  EXPECT_FALSE(ReadJsonNumber(true, &value));
}

TEST(JobResultTest, RejectsUnknownStatusAndWrongVersion) {
  JobResult r;
  std::string err;
  EXPECT_FALSE(ParseJobResult(nlohmann::json::parse(R"({"schema_version": 2, "status": "great"})"),
                              &r, &err));
  EXPECT_NE(err.find("unknown status \"great\""), std::string::npos);
  EXPECT_FALSE(ParseJobResult(nlohmann::json::parse(R"({"schema_version": 3, "status": "ok"})"),
                              &r, &err));
  EXPECT_NE(err.find("schema_version is 3"), std::string::npos);
  EXPECT_FALSE(ParseJobResult(
      nlohmann::json::parse(R"({"schema_version": 2, "status": "ok", "timings": [{"size": "1",
        "kernel_us": "fast"}]})"),
      &r, &err));
  EXPECT_NE(err.find("kernel_us"), std::string::npos);
  EXPECT_FALSE(ParseJobResult(
      nlohmann::json::parse(R"({"schema_version": 2, "status": "ok", "timings": [{"size": "1",
        "kernel_us": [1], "call_us": [1], "kernel_median_us": {"k": "slow"}}]})"),
      &r, &err));
  EXPECT_NE(err.find("kernel_median_us of k is not a number"), std::string::npos) << err;
}

TEST(StatusTest, NamesRoundTrip) {
  for (auto s : {Status::kOk, Status::kWrongResult, Status::kTimeout, Status::kCrashed,
                 Status::kUnavailable, Status::kRejected}) {
    EXPECT_EQ(ParseStatus(StatusName(s)), s);
  }
  EXPECT_FALSE(ParseStatus("nope").has_value());
}

}  // namespace
}  // namespace tritonize
