#pragma once

#include <string_view>

namespace tritonize {

/// Words for an LLM/Expert speedup: >= 1.0 "matches", > 0.8 "very good", >= 0.5 "decent",
/// below "significant gap"; "-" for NaN. The ratio is rated as tables show it, rounded to two
/// decimals, so a row never reads "1.00x very good" (0.997 matches).
std::string_view Rating(double llm_over_expert);

}  // namespace tritonize
