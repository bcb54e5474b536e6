#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

namespace tritonize {

/// Exit codes shared by every command.
constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;
constexpr int kExitInterrupted = 130;

/// A subcommand: Setup adds its options to `app` and returns what runs it after parsing.
struct Command {
  const char* name;
  const char* help;
  std::function<std::function<int()>(CLI::App* app)> setup;
};

/// The command table, in the order `tritonize --help` lists it.
const std::vector<Command>& Commands();

std::function<int()> SetupBench(CLI::App* app);
std::function<int()> SetupReport(CLI::App* app);
std::function<int()> SetupLeaderboard(CLI::App* app);
std::function<int()> SetupCompare(CLI::App* app);
std::function<int()> SetupEval(CLI::App* app);
std::function<int()> SetupTasks(CLI::App* app);
std::function<int()> SetupDoctor(CLI::App* app);
std::function<int()> SetupExtract(CLI::App* app);
std::function<int()> SetupChecks(CLI::App* app);
std::function<int()> SetupGenerate(CLI::App* app);
std::function<int()> SetupPrompt(CLI::App* app);
std::function<int()> SetupCalibrate(CLI::App* app);
std::function<int()> SetupServe(CLI::App* app);
std::function<int()> SetupSandboxRun(CLI::App* app);

}  // namespace tritonize
