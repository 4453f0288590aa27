// The exit-code contract of Main (docs/contracts.md): usage and input errors
// exit 2, and a bug (an exception that is not pgvise::Error) exits 5 with one
// "internal error" line, so a script never mistakes a pgvise bug for bad input.
#include <gtest/gtest.h>

#include <CLI/CLI.hpp>
#include <stdexcept>

#include "cli/command.h"

namespace pgvise {
namespace {

RunFn SetupBug(CLI::App& app, std::shared_ptr<CommonOptions> common) {
  AddCommonOptions(app, common.get(), false, false);
  return []() -> int { throw std::logic_error("an invariant broke"); };
}

RunFn SetupBadInput(CLI::App& app, std::shared_ptr<CommonOptions> common) {
  AddCommonOptions(app, common.get(), false, false);
  return []() -> int { throw Error(ExitCode::kInputError, "x.sql:1:1: empty input"); };
}

RunFn SetupFine(CLI::App& app, std::shared_ptr<CommonOptions> common) {
  AddCommonOptions(app, common.get(), false, false);
  return [] { return 0; };
}

const std::vector<Subcommand> kTestCommands = {
    {"bug", "throws std::logic_error", SetupBug},
    {"bad-input", "throws Error(kInputError)", SetupBadInput},
    {"fine", "succeeds", SetupFine},
};

struct Outcome {
  int exit;
  std::string err;
};

Outcome RunMain(std::vector<std::string> args) {
  args.insert(args.begin(), "pgvise");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  ::testing::internal::CaptureStderr();
  int code = RunCommandLine(kTestCommands, static_cast<int>(argv.size()), argv.data());
  return {code, ::testing::internal::GetCapturedStderr()};
}

TEST(MainExitCode, InternalErrorExitsFive) {
  Outcome o = RunMain({"bug"});
  EXPECT_EQ(o.exit, 5);
  EXPECT_EQ(o.exit, static_cast<int>(ExitCode::kInternalError));
  EXPECT_EQ(o.err, "pgvise: internal error: an invariant broke\n");
}

TEST(MainExitCode, UsageErrorStillExitsTwo) {
  Outcome o = RunMain({"fine", "--bogus"});
  EXPECT_EQ(o.exit, 2);
  EXPECT_NE(o.err.find("--bogus"), std::string::npos) << o.err;
  EXPECT_EQ(RunMain({"no-such-command"}).exit, 2);
}

TEST(MainExitCode, InputErrorStillExitsTwo) {
  Outcome o = RunMain({"bad-input"});
  EXPECT_EQ(o.exit, 2);
  EXPECT_EQ(o.err, "pgvise: x.sql:1:1: empty input\n");
}

TEST(MainExitCode, SuccessExitsZero) { EXPECT_EQ(RunMain({"fine"}).exit, 0); }

}  // namespace
}  // namespace pgvise
