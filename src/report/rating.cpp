#include "report/rating.h"

#include <cmath>

namespace tritonize {

std::string_view Rating(double llm_over_expert) {
  if (std::isnan(llm_over_expert)) {
    return "-";
  }
  const double shown = std::round(llm_over_expert * 100) / 100;
  if (shown >= 1.0) {
    return "matches";
  }
  if (shown > 0.8) {
    return "very good";
  }
  if (shown >= 0.5) {
    return "decent";
  }
  return "significant gap";
}

}  // namespace tritonize
