#pragma once

// Golden-output comparison for printer tests. TRITONIZE_UPDATE_GOLDEN=1 rewrites the golden
// files from the actual output instead of comparing.

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace tritonize::testing_golden {

inline std::filesystem::path GoldenPath(const std::string& name) {
  return std::filesystem::path(TRITONIZE_SOURCE_DIR) / "tests" / "report" / "golden" / name;
}

inline std::string FirstDifference(const std::string& expected, const std::string& actual) {
  std::istringstream e(expected), a(actual);
  std::string el, al;
  for (int line = 1;; ++line) {
    const bool more_e = static_cast<bool>(std::getline(e, el));
    const bool more_a = static_cast<bool>(std::getline(a, al));
    if (!more_e && !more_a) return "no line differs (line endings?)";
    if (!more_e || !more_a || el != al) {
      return "line " + std::to_string(line) + ":\n  expected: " + (more_e ? el : "<end>") +
             "\n  actual:   " + (more_a ? al : "<end>");
    }
  }
}

/// Compares `actual` with tests/report/golden/<name>. On a mismatch the actual output is
/// written beside the test's temp files so that `diff -u` can show all of it.
inline void ExpectMatchesGolden(const std::string& name, const std::string& actual) {
  const std::filesystem::path golden = GoldenPath(name);
  const char* update = std::getenv("TRITONIZE_UPDATE_GOLDEN");
  if (update != nullptr && std::string(update) == "1") {
    std::ofstream(golden, std::ios::binary) << actual;
    std::cerr << "updated " << golden << "\n";
    return;
  }
  std::ifstream in(golden, std::ios::binary);
  ASSERT_TRUE(in) << "missing golden file " << golden
                  << "; create it with TRITONIZE_UPDATE_GOLDEN=1";
  std::stringstream expected;
  expected << in.rdbuf();
  if (expected.str() == actual) return;
  const std::filesystem::path actual_path =
      std::filesystem::path(::testing::TempDir()) / (name + ".actual");
  std::ofstream(actual_path, std::ios::binary) << actual;
  ADD_FAILURE() << "output differs from " << golden << " at "
                << FirstDifference(expected.str(), actual) << "\nsee: diff -u " << golden << " "
                << actual_path << "\n(TRITONIZE_UPDATE_GOLDEN=1 accepts the new output)";
}

}  // namespace tritonize::testing_golden
