// A fresh, empty folder per test, named after the test and the test process so that a failed
// run's files are easy to find and two tests never share one, not even two checkouts' test runs
// on one machine. A test that did not fail has its folders removed when it ends (set
// TRITONIZE_KEEP_TEST_DIRS=1 to keep them), so repeated test runs do not fill the temp folder.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include <unistd.h>

namespace tritonize {

/// Removes the folders FreshTestDir made for a test once the test ends without failing.
class TestDirCleaner : public ::testing::EmptyTestEventListener {
 public:
  void Add(const std::filesystem::path& dir) { dirs_.push_back(dir); }
  void OnTestEnd(const ::testing::TestInfo& info) override {
    const char* keep = std::getenv("TRITONIZE_KEEP_TEST_DIRS");
    if (!info.result()->Failed() && (keep == nullptr || std::string(keep) != "1")) {
      std::error_code ec;
      for (const auto& dir : dirs_) std::filesystem::remove_all(dir, ec);
    }
    dirs_.clear();
  }

  /// The one cleaner, appended to the test program's listeners on first use (gtest owns it).
  static TestDirCleaner& Get() {
    static TestDirCleaner* const cleaner = [] {
      auto* made = new TestDirCleaner;
      ::testing::UnitTest::GetInstance()->listeners().Append(made);
      return made;
    }();
    return *cleaner;
  }

 private:
  std::vector<std::filesystem::path> dirs_;
};

/// <tmp>/tritonize-<prefix>-<test name>-<pid>, emptied and created; removed when the test ends
/// unless it failed.
inline std::filesystem::path FreshTestDir(const std::string& prefix) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() /
      ("tritonize-" + prefix + "-" +
       std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + "-" +
       std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  TestDirCleaner::Get().Add(dir);
  return dir;
}

}  // namespace tritonize
