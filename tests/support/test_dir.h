// A fresh, empty folder per test, named after the test and the test process so that a failed
// run's files are easy to find and two tests never share one, not even two checkouts' test runs
// on one machine.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include <unistd.h>

namespace tritonize {

/// <tmp>/tritonize-<prefix>-<test name>-<pid>, emptied and created.
inline std::filesystem::path FreshTestDir(const std::string& prefix) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() /
      ("tritonize-" + prefix + "-" +
       std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + "-" +
       std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace tritonize
