// pgvise rules [ID] — what the rule book holds after --rules and the config
// file are applied: a table of every rule, or one rule in full. The command
// wires: options, the rule book, the one rule asked for; the rendering is
// core/rule_render.h.
#include <CLI/CLI.hpp>

#include "cli/command.h"
#include "core/rule_render.h"

namespace pgvise {

namespace {

struct RulesOptions {
  std::string id;
};

}  // namespace

RunFn SetupRules(CLI::App& app, std::shared_ptr<CommonOptions> common) {
  auto opts = std::make_shared<RulesOptions>();
  AddCommonOptions(app, common.get(), false, false);
  app.add_option("--format", common->format, "text | json | markdown (the full reference)")
      ->check(CLI::IsMember({"text", "json", "markdown"}))
      ->capture_default_str();
  app.add_option("id", opts->id, "show this rule in full");
  return [common, opts]() -> int {
    const RuleBook book = LoadRules(*common);
    const Rule* one = nullptr;
    if (!opts->id.empty()) {
      one = book.Find(opts->id);
      if (!one)
        throw Error(ExitCode::kInputError,
                    "unknown rule '" + opts->id + "' (`pgvise rules` lists every rule)");
    }
    WriteOutput(*common, RenderRuleBook(book, one, common->format));
    return static_cast<int>(ExitCode::kOk);
  };
}

}  // namespace pgvise
