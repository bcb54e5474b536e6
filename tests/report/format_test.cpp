#include "report/format.h"

#include <gtest/gtest.h>

#include <cmath>

namespace tritonize {
namespace {

TEST(FormatTest, MicrosecondsToThreeSignificantDigits) {
  EXPECT_EQ(FormatMicroseconds(12.34), "12.3 us");
  EXPECT_EQ(FormatMicroseconds(1.234), "1.23 us");
  EXPECT_EQ(FormatMicroseconds(123.4), "123 us");
  EXPECT_EQ(FormatMicroseconds(0.5123), "0.512 us");
  EXPECT_EQ(FormatMicroseconds(0), "0.00 us");
}

TEST(FormatTest, LargerDurationsChangeUnit) {
  EXPECT_EQ(FormatMicroseconds(1234), "1.23 ms");
  EXPECT_EQ(FormatMicroseconds(45678), "45.7 ms");
  EXPECT_EQ(FormatMicroseconds(2.345e6), "2.35 s");
  EXPECT_EQ(FormatMicroseconds(1.5e9), "1500 s");
}

TEST(FormatTest, RoundingCarriesIntoTheNextUnit) {
  EXPECT_EQ(FormatMicroseconds(999.7), "1.00 ms");
  EXPECT_EQ(FormatMicroseconds(99.97), "100 us");
  EXPECT_EQ(FormatMicroseconds(9.996), "10.0 us");
}

TEST(FormatTest, NonFiniteDurationIsADash) {
  EXPECT_EQ(FormatMicroseconds(std::nan("")), "-");
  EXPECT_EQ(FormatSpeedup(INFINITY), "-");
}

TEST(FormatTest, SpeedupWithTwoDecimals) {
  EXPECT_EQ(FormatSpeedup(3.926), "3.93x");
  EXPECT_EQ(FormatSpeedup(1.0), "1.00x");
  EXPECT_EQ(FormatSpeedup(12.345678), "12.35x");
}

TEST(FormatTest, BackwardRowsAreLabelledBwd) {
  EXPECT_EQ(RowLabel("1024x1024", "forward"), "1024x1024");
  EXPECT_EQ(RowLabel("1024x1024", "backward"), "1024x1024 bwd");
}

TEST(FormatTest, EnvironmentLineHasWhatIsPresent) {
  const nlohmann::json env = {{"gpu", "NVIDIA H100"},        {"driver", "580.1"},
                              {"torch", "2.11.0"},           {"triton", "3.6.0"},
                              {"sm_clock_mhz_before", 1980}, {"sm_clock_mhz_after", 1755},
                              {"sm_clock_max_mhz", 1980}};
  EXPECT_EQ(EnvironmentLine(env),
            "NVIDIA H100, driver 580.1, torch 2.11.0, triton 3.6.0, SM clock 1980 -> 1755 MHz "
            "(max 1980)");
  EXPECT_EQ(EnvironmentLine({{"torch", "2.11.0"}, {"interpret", true}}),
            "torch 2.11.0, Triton interpreter on the CPU");
  EXPECT_EQ(EnvironmentLine({{"gpu", "NVIDIA H100"},
                             {"gpus", {{"GPU-21bdf09a-6f2c", 11}, {"GPU-e3f452c6-1c59", 13}}}}),
            "NVIDIA H100, jobs on 2 GPUs (GPU-21bdf09a x11, GPU-e3f452c6 x13): the spreads include "
            "their differences");
  EXPECT_EQ(EnvironmentLine({{"gpu", "NVIDIA H100"}, {"expert_libraries", {"liger_kernel 0.8.5"}}}),
            "NVIDIA H100, library experts liger_kernel 0.8.5");
  EXPECT_EQ(EnvironmentLine({{"gpus", {{"GPU-21bdf09a-6f2c", 24}}}}), "");  // one GPU: nothing
  EXPECT_EQ(EnvironmentLine(nlohmann::json::object()), "");
  EXPECT_EQ(EnvironmentLine({{"interpret", "yes"}}), "");  // wrong type: ignored, no throw
}

TEST(FormatTest, WrapTextBreaksAtSpaces) {
  const auto lines = WrapText("aaa bbb ccc dddddddddd e", 7);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0], "aaa bbb");
  EXPECT_EQ(lines[1], "ccc");
  EXPECT_EQ(lines[2], "dddddddddd");
  EXPECT_EQ(lines[3], "e");
  EXPECT_TRUE(WrapText("", 10).empty());
}

}  // namespace
}  // namespace tritonize
