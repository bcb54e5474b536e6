#include "core/job.h"

#include <gtest/gtest.h>

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
