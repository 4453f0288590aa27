// pgvise explain — placeholder until its issue lands; it says so and exits 2.
#include <CLI/CLI.hpp>

#include "cli/command.h"

namespace pgvise {

RunFn SetupExplain(CLI::App& app, std::shared_ptr<CommonOptions> common) {
  AddCommonOptions(app, common.get(), true, true);
  return [] () -> int { throw Error(ExitCode::kInputError, "'explain' is not implemented yet"); };
}

}  // namespace pgvise
