#include "report/rating.h"

#include <gtest/gtest.h>

#include <cmath>

namespace tritonize {
namespace {

TEST(RatingTest, AtOrAboveOneMatches) {
  EXPECT_EQ(Rating(1.0), "matches");
  EXPECT_EQ(Rating(3.5), "matches");
}

TEST(RatingTest, JustBelowOneIsVeryGood) {
  EXPECT_EQ(Rating(0.99), "very good");
  EXPECT_EQ(Rating(0.81), "very good");
}

TEST(RatingTest, PointEightIsDecent) {
  EXPECT_EQ(Rating(0.8), "decent");
  EXPECT_EQ(Rating(0.79), "decent");
}

TEST(RatingTest, PointFiveIsDecentAndBelowIsAGap) {
  EXPECT_EQ(Rating(0.5), "decent");
  EXPECT_EQ(Rating(0.49), "significant gap");
  EXPECT_EQ(Rating(0.0), "significant gap");
}

TEST(RatingTest, RatesTheRatioAsShownToTwoDecimals) {
  EXPECT_EQ(Rating(0.996), "matches");    // shown as 1.00x
  EXPECT_EQ(Rating(0.994), "very good");  // shown as 0.99x
  EXPECT_EQ(Rating(0.8049), "decent");    // shown as 0.80x
  EXPECT_EQ(Rating(0.4951), "decent");    // shown as 0.50x
  EXPECT_EQ(Rating(0.4949), "significant gap");
}

TEST(RatingTest, NaNHasNoRating) { EXPECT_EQ(Rating(std::nan("")), "-"); }

}  // namespace
}  // namespace tritonize
