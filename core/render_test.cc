#include "core/render.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "core/json.h"

namespace pgvise {
namespace {

using json = nlohmann::ordered_json;

Finding FileFinding(std::string file, int line, int col, Severity sev, std::string rule,
                    std::string msg, std::string fix = "") {
  Finding f;
  f.rule = std::move(rule);
  f.severity = sev;
  f.message = std::move(msg);
  f.location.file = std::move(file);
  f.location.line = line;
  f.location.column = col;
  f.suggestion = std::move(fix);
  return f;
}

Finding PlanFinding() {
  Finding f;
  f.rule = "seq-scan-large-filter";
  f.severity = Severity::kWarning;
  f.message = "filter removes 99% of 1000000 rows";
  f.location.plan_path = "Plan.Plans[0]";
  f.location.node_type = "Seq Scan";
  f.location.object = "orders";
  f.Add("rows_removed", int64_t{990000}).Add("ratio", 0.99);
  f.suggestion = "CREATE INDEX ON orders (status);";
  return f;
}

RuleBook Book() {
  RuleBook b;
  Rule r;
  r.id = "require-concurrent-index-creation";
  r.area = "migration";
  r.severity = Severity::kError;
  r.summary = "CREATE INDEX without CONCURRENTLY blocks writes.";
  r.rationale = "A plain CREATE INDEX takes a SHARE lock for the whole build.";
  r.fix = "Use CREATE INDEX CONCURRENTLY outside a transaction block.";
  b.Add(r);
  r.id = "seq-scan-large-filter";
  r.area = "plan";
  r.severity = Severity::kWarning;
  r.summary = "Sequential scan filters out most rows of a large table.";
  b.Add(r);
  return b;
}

std::vector<Finding> Sample() {
  std::vector<Finding> v;
  v.push_back(FileFinding("migrations/001 add index.sql", 3, 5, Severity::kError,
                          "require-concurrent-index-creation", "CREATE INDEX locks \"orders\"",
                          "CREATE INDEX CONCURRENTLY ...;"));
  v.push_back(FileFinding("q.sql", 1, 1, Severity::kInfo, "select-star", "SELECT * | all columns"));
  v.push_back(PlanFinding());
  return v;
}

TEST(RenderText, CompilerStyleLineWithIndentedFixAndSummary) {
  RenderOptions o;
  o.inputs = {"migrations/001 add index.sql", "q.sql"};
  std::string out = RenderFindings(Sample(), o);
  EXPECT_NE(
      out.find("migrations/001 add index.sql:3:5: error: CREATE INDEX locks \"orders\" "
               "[require-concurrent-index-creation]\n    fix: CREATE INDEX CONCURRENTLY ...;\n"),
      std::string::npos)
      << out;
  EXPECT_NE(out.find("q.sql:1:1: info: SELECT * | all columns [select-star]\n"), std::string::npos);
  EXPECT_NE(out.find("Plan.Plans[0] (Seq Scan on orders): warning: filter removes"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("1 error, 1 warning, 1 info (2 files checked)\n"), std::string::npos) << out;
  EXPECT_EQ(out.find('\033'), std::string::npos) << "colour must be off unless asked for";
}

TEST(RenderText, PlanFindingWithFilePutsNodeAfterPosition) {
  Finding f = PlanFinding();
  f.location.file = "q.sql";
  f.location.line = 4;
  f.location.column = 1;
  std::string out = RenderFindings({f}, RenderOptions{});
  EXPECT_NE(out.find("q.sql:4:1: warning: Plan.Plans[0] (Seq Scan on orders): filter removes"),
            std::string::npos)
      << out;
}

TEST(RenderText, ColourOnlyWhenAskedAndNotesFirst) {
  RenderOptions o;
  o.color = true;
  o.notes = {"plan has no ANALYZE data"};
  std::string out = RenderFindings(Sample(), o);
  EXPECT_NE(out.find("\033[1;31merror\033[0m"), std::string::npos) << out;
  EXPECT_EQ(out.rfind("\033[1mnote\033[0m: plan has no ANALYZE data\n", 0), 0u) << out;
}

TEST(RenderText, NoFindingsSaysSo) {
  RenderOptions o;
  o.inputs = {"a.sql"};
  EXPECT_EQ(RenderFindings({}, o), "no findings (1 file checked)\n");
}

TEST(RenderJson, DocumentCarriesFindingsInContractShapeAndSummary) {
  RenderOptions o;
  o.format = "json";
  o.command = "review";
  auto findings = Sample();
  json doc = json::parse(RenderFindings(findings, o));
  EXPECT_EQ(doc["tool"], "pgvise");
  EXPECT_EQ(doc["command"], "review");
  ASSERT_EQ(doc["findings"].size(), 3u);
  for (size_t i = 0; i < findings.size(); ++i) EXPECT_EQ(doc["findings"][i], ToJson(findings[i]));
  EXPECT_EQ(doc["summary"]["errors"], 1);
  EXPECT_EQ(doc["summary"]["warnings"], 1);
  EXPECT_EQ(doc["summary"]["infos"], 1);
  EXPECT_EQ(doc["findings"][2]["evidence"]["rows_removed"], 990000);
}

// ---- SARIF: the required structure of sarif-schema-2.1.0.json -------------
// The schema sets additionalProperties: false on every object we emit (except
// property bags), so the checker verifies both the required members and that
// no member outside the schema's list appears.

struct SarifChecker {
  std::vector<std::string> errors;

  void Fail(const std::string& path, const std::string& what) {
    errors.push_back(path + ": " + what);
  }

  void Members(const json& j, const std::string& path, const std::set<std::string>& allowed,
               const std::set<std::string>& required) {
    if (!j.is_object()) return Fail(path, "not an object");
    for (const auto& [k, v] : j.items())
      if (!allowed.count(k)) Fail(path, "member '" + k + "' is not in the schema");
    for (const auto& r : required)
      if (!j.contains(r)) Fail(path, "required member '" + r + "' missing");
  }
  void Text(const json& j, const std::string& path) {  // multiformatMessageString / message
    Members(j, path, {"text", "markdown", "id", "arguments", "properties"}, {});
    if (!j.contains("text") || !j["text"].is_string()) Fail(path, "needs a string 'text'");
  }
  void PositiveInt(const json& j, const char* key, const std::string& path) {
    if (j.contains(key) && !(j[key].is_number_integer() && j[key].get<int>() >= 1))
      Fail(path + "." + key, "must be an integer >= 1");
  }
  void ArtifactLocation(const json& j, const std::string& path) {
    Members(j, path, {"uri", "uriBaseId", "index", "description", "properties"}, {});
    if (j.contains("uri")) {
      std::string uri = j["uri"];
      for (char c : uri)
        if (c == ' ' || c == '\\') Fail(path + ".uri", "not a URI reference: " + uri);
    }
  }
  void Rule(const json& j, const std::string& path) {
    Members(j, path,
            {"id", "deprecatedIds", "guid", "deprecatedGuids", "name", "deprecatedNames",
             "shortDescription", "fullDescription", "messageStrings", "defaultConfiguration",
             "helpUri", "help", "relationships", "properties"},
            {"id"});
    for (const char* k : {"shortDescription", "fullDescription", "help"})
      if (j.contains(k)) Text(j[k], path + "." + k);
    if (j.contains("defaultConfiguration")) {
      const json& c = j["defaultConfiguration"];
      Members(c, path + ".defaultConfiguration",
              {"enabled", "level", "rank", "parameters", "properties"}, {});
      Level(c, path + ".defaultConfiguration");
    }
  }
  void Level(const json& j, const std::string& path) {
    static const std::set<std::string> kLevels = {"none", "note", "warning", "error"};
    if (j.contains("level") && !kLevels.count(j["level"].get<std::string>()))
      Fail(path + ".level", "not none|note|warning|error");
  }
  void Result(const json& j, const std::string& path, const json& rules) {
    Members(j, path,
            {"ruleId",
             "ruleIndex",
             "rule",
             "kind",
             "level",
             "message",
             "analysisTarget",
             "locations",
             "guid",
             "correlationGuid",
             "occurrenceCount",
             "partialFingerprints",
             "fingerprints",
             "stacks",
             "codeFlows",
             "graphs",
             "graphTraversals",
             "relatedLocations",
             "suppressions",
             "baselineState",
             "rank",
             "attachments",
             "hostedViewerUri",
             "workItemUris",
             "provenance",
             "fixes",
             "taxa",
             "webRequest",
             "webResponse",
             "properties"},
            {"message"});
    if (j.contains("message")) Text(j["message"], path + ".message");
    Level(j, path);
    if (j.contains("ruleIndex")) {
      int idx = j["ruleIndex"];
      if (idx < 0 || idx >= static_cast<int>(rules.size()))
        Fail(path + ".ruleIndex", "out of range");
      else if (rules[idx]["id"] != j["ruleId"])
        Fail(path + ".ruleIndex", "points at a rule with another id");
    }
    if (!j.contains("locations")) return;
    for (size_t i = 0; i < j["locations"].size(); ++i) {
      const json& l = j["locations"][i];
      std::string lp = path + ".locations[" + std::to_string(i) + "]";
      Members(l, lp,
              {"id", "physicalLocation", "logicalLocations", "message", "annotations",
               "relationships", "properties"},
              {});
      if (l.contains("physicalLocation")) {
        const json& p = l["physicalLocation"];
        std::string pp = lp + ".physicalLocation";
        Members(p, pp, {"address", "artifactLocation", "region", "contextRegion", "properties"},
                {"artifactLocation"});
        if (p.contains("artifactLocation"))
          ArtifactLocation(p["artifactLocation"], pp + ".artifactLocation");
        if (p.contains("region")) {
          const json& r = p["region"];
          std::string rp = pp + ".region";
          Members(
              r, rp,
              {"startLine", "startColumn", "endLine", "endColumn", "charOffset", "charLength",
               "byteOffset", "byteLength", "snippet", "message", "sourceLanguage", "properties"},
              {"startLine"});
          for (const char* k : {"startLine", "startColumn", "endLine", "endColumn"})
            PositiveInt(r, k, rp);
        }
      }
      if (l.contains("logicalLocations"))
        for (const auto& ll : l["logicalLocations"])
          Members(ll, lp + ".logicalLocations[]",
                  {"name", "index", "fullyQualifiedName", "decoratedName", "parentIndex", "kind",
                   "properties"},
                  {});
    }
  }
  void Log(const json& doc) {
    Members(doc, "$", {"$schema", "version", "runs", "inlineExternalProperties", "properties"},
            {"version", "runs"});
    if (doc.value("version", "") != "2.1.0") Fail("$.version", "must be 2.1.0");
    if (!doc["runs"].is_array() || doc["runs"].empty()) return Fail("$.runs", "needs one run");
    const json& run = doc["runs"][0];
    Members(run, "$.runs[0]",
            {"tool",
             "invocations",
             "conversion",
             "language",
             "versionControlProvenance",
             "originalUriBaseIds",
             "artifacts",
             "logicalLocations",
             "graphs",
             "results",
             "automationDetails",
             "runAggregates",
             "baselineGuid",
             "redactionTokens",
             "defaultEncoding",
             "defaultSourceLanguage",
             "newlineSequences",
             "columnKind",
             "externalPropertyFileReferences",
             "threadFlowLocations",
             "taxonomies",
             "addresses",
             "translations",
             "policies",
             "webRequests",
             "webResponses",
             "specialLocations",
             "properties"},
            {"tool"});
    if (run.contains("columnKind") && run["columnKind"] != "unicodeCodePoints" &&
        run["columnKind"] != "utf16CodeUnits")
      Fail("$.runs[0].columnKind", "bad enum");
    Members(run["tool"], "$.runs[0].tool", {"driver", "extensions", "properties"}, {"driver"});
    const json& driver = run["tool"]["driver"];
    Members(driver, "$.runs[0].tool.driver",
            {"guid",
             "name",
             "organization",
             "product",
             "productSuffix",
             "shortDescription",
             "fullDescription",
             "fullName",
             "version",
             "semanticVersion",
             "dottedQuadFileVersion",
             "releaseDateUtc",
             "downloadUri",
             "informationUri",
             "globalMessageStrings",
             "notifications",
             "rules",
             "taxa",
             "locations",
             "language",
             "contents",
             "isComprehensive",
             "localizedDataSemanticVersion",
             "minimumRequiredLocalizedDataSemanticVersion",
             "associatedComponent",
             "translationMetadata",
             "supportedTaxonomies",
             "properties"},
            {"name"});
    json rules = driver.value("rules", json::array());
    std::set<std::string> ids;
    for (size_t i = 0; i < rules.size(); ++i) {
      Rule(rules[i], "$.runs[0].tool.driver.rules[" + std::to_string(i) + "]");
      if (!ids.insert(rules[i].value("id", "")).second) Fail("rules", "duplicate rule");
    }
    if (run.contains("artifacts"))
      for (const auto& a : run["artifacts"]) {
        Members(a, "$.runs[0].artifacts[]",
                {"location", "parentIndex", "offset", "length", "roles", "mimeType", "contents",
                 "encoding", "sourceLanguage", "hashes", "lastModifiedTimeUtc", "description",
                 "properties"},
                {});
        if (a.contains("location"))
          ArtifactLocation(a["location"], "$.runs[0].artifacts[].location");
      }
    if (run.contains("invocations"))
      for (const auto& inv : run["invocations"]) {
        if (!inv.contains("executionSuccessful")) Fail("invocation", "executionSuccessful missing");
        for (const auto& n : inv.value("toolExecutionNotifications", json::array())) {
          if (!n.contains("message"))
            Fail("notification", "message missing");
          else
            Text(n["message"], "notification.message");
        }
      }
    const json results = run.value("results", json::array());
    for (size_t i = 0; i < results.size(); ++i)
      Result(results[i], "$.runs[0].results[" + std::to_string(i) + "]", rules);
  }
};

// GitLab Code Quality: one issue per finding with GitLab's required fields;
// fingerprints ignore the line (a finding moved by an edit is the same
// issue) but tell two identical findings in one file apart.
TEST(RenderGitlab, IssuesHaveRequiredFieldsAndLineIndependentFingerprints) {
  RenderOptions o;
  o.format = "gitlab";
  std::vector<Finding> a = {FileFinding("m.sql", 3, 1, Severity::kError, "r1", "same"),
                            FileFinding("m.sql", 9, 1, Severity::kError, "r1", "same")};
  json doc = json::parse(RenderFindings(a, o));
  ASSERT_EQ(doc.size(), 2u);
  for (const auto& i : doc) {
    for (const char* k : {"description", "check_name", "fingerprint", "severity", "location"})
      EXPECT_TRUE(i.contains(k)) << k;
    EXPECT_EQ(i["severity"], "critical");
  }
  EXPECT_EQ(doc[0]["location"]["lines"]["begin"], 3);
  EXPECT_NE(doc[0]["fingerprint"], doc[1]["fingerprint"]);
  a[0].location.line = 40;  // moved by an edit above it
  EXPECT_EQ(json::parse(RenderFindings(a, o))[0]["fingerprint"], doc[0]["fingerprint"]);
}

TEST(RenderSarif, OutputHasTheSchemasRequiredStructure) {
  RuleBook book = Book();
  RenderOptions o;
  o.format = "sarif";
  o.rules = &book;
  o.inputs = {"migrations/001 add index.sql", "q.sql"};
  o.notes = {"no database: plan checks skipped"};
  auto findings = Sample();
  Finding syntax = FileFinding("-", 2, 7, Severity::kError, "syntax-error", "syntax error");
  syntax.location.end_line = 2;
  syntax.location.end_column = 9;
  findings.push_back(syntax);
  json doc = json::parse(RenderFindings(findings, o));
  SarifChecker c;
  c.Log(doc);
  EXPECT_TRUE(c.errors.empty()) << ::testing::PrintToString(c.errors);
  // And the checker itself catches a broken log.
  json broken = doc;
  broken["runs"][0]["results"][0].erase("message");
  broken["runs"][0]["results"][1]["bogus"] = 1;
  SarifChecker c2;
  c2.Log(broken);
  EXPECT_EQ(c2.errors.size(), 2u) << ::testing::PrintToString(c2.errors);  // missing, bogus
}

TEST(RenderSarif, MapsSeverityRegionAndRuleMetadata) {
  RuleBook book = Book();
  RenderOptions o;
  o.format = "sarif";
  o.rules = &book;
  auto findings = Sample();
  findings[0].location.end_line = 3;
  findings[0].location.end_column = 40;
  json run = json::parse(RenderFindings(findings, o))["runs"][0];
  EXPECT_EQ(run["columnKind"], "unicodeCodePoints");
  const json& rules = run["tool"]["driver"]["rules"];
  const json& r0 = run["results"][0];
  EXPECT_EQ(r0["level"], "error");
  EXPECT_EQ(rules[r0["ruleIndex"].get<int>()]["defaultConfiguration"]["level"], "error");
  EXPECT_EQ(rules[r0["ruleIndex"].get<int>()]["fullDescription"]["text"],
            "A plain CREATE INDEX takes a SHARE lock for the whole build.");
  const json& phys = r0["locations"][0]["physicalLocation"];
  EXPECT_EQ(phys["artifactLocation"]["uri"], "migrations/001%20add%20index.sql");
  EXPECT_EQ(phys["region"]["startLine"], 3);
  EXPECT_EQ(phys["region"]["startColumn"], 5);
  EXPECT_EQ(phys["region"]["endColumn"], 40);
  EXPECT_EQ(run["results"][1]["level"], "note");  // info -> note
  const json& plan = run["results"][2];
  EXPECT_EQ(plan["locations"][0]["logicalLocations"][0]["fullyQualifiedName"], "Plan.Plans[0]");
  EXPECT_EQ(plan["properties"]["evidence"]["rows_removed"], 990000);
  EXPECT_NE(plan["message"]["text"].get<std::string>().find("Seq Scan on orders"),
            std::string::npos);
}

// A plan file's finding names a node, not a line: docs/contracts.md says
// unknown positions are absent (never 0), and SARIF's region needs
// startLine >= 1, so the physical location carries the file alone and the
// node is the logical location.
TEST(RenderFindings, PlanFindingInAFileWithoutALineHasNoPosition) {
  Finding f = PlanFinding();
  f.location.file = "plan.json";
  RenderOptions o;
  o.format = "json";
  json loc = json::parse(RenderFindings({f}, o))["findings"][0]["location"];
  EXPECT_EQ(loc["file"], "plan.json");
  EXPECT_FALSE(loc.contains("line")) << loc.dump();
  EXPECT_FALSE(loc.contains("column")) << loc.dump();
  EXPECT_FALSE(loc.contains("end_line")) << loc.dump();
  EXPECT_EQ(loc["plan_path"], "Plan.Plans[0]");

  // A line without a column keeps the line only.
  Finding g = f;
  g.location.line = 7;
  json loc2 = ToJson(g.location);
  EXPECT_EQ(loc2["line"], 7);
  EXPECT_FALSE(loc2.contains("column")) << loc2.dump();

  RuleBook book = Book();
  o.format = "sarif";
  o.rules = &book;
  o.inputs = {"plan.json"};
  json doc = json::parse(RenderFindings({f}, o));
  SarifChecker c;
  c.Log(doc);
  EXPECT_TRUE(c.errors.empty()) << ::testing::PrintToString(c.errors);
  const json& l = doc["runs"][0]["results"][0]["locations"][0];
  EXPECT_EQ(l["physicalLocation"]["artifactLocation"]["uri"], "plan.json");
  EXPECT_FALSE(l["physicalLocation"].contains("region")) << l.dump();
  EXPECT_EQ(l["logicalLocations"][0]["fullyQualifiedName"], "Plan.Plans[0]");

  o.format = "text";
  EXPECT_EQ(
      RenderFindings({f}, o).rfind("plan.json: warning: Plan.Plans[0] (Seq Scan on orders): ", 0),
      0u);
}

TEST(RenderMarkdown, GroupsByFileWithBadgesAndEscapesCells) {
  RenderOptions o;
  o.format = "markdown";
  o.command = "review";
  o.inputs = {"a", "b"};
  std::string out = RenderFindings(Sample(), o);
  EXPECT_EQ(out.rfind("### ❌ pgvise review: 1 error, 1 warning, 1 info (2 files checked)\n", 0), 0u)
      << out;
  size_t mig = out.find("#### `migrations/001 add index.sql`");
  size_t q = out.find("#### `q.sql`");
  size_t other = out.find("#### Other findings");
  ASSERT_NE(mig, std::string::npos) << out;
  ASSERT_NE(q, std::string::npos);
  ASSERT_NE(other, std::string::npos);
  EXPECT_LT(mig, q);
  EXPECT_LT(q, other);  // findings without a file come last
  EXPECT_NE(out.find("| 🔴 error | 3:5 | `require-concurrent-index-creation` |"), std::string::npos);
  EXPECT_NE(out.find("SELECT * \\| all columns"), std::string::npos) << out;
  EXPECT_NE(out.find("<br>**Fix:** CREATE INDEX CONCURRENTLY"), std::string::npos);
  EXPECT_EQ(RenderFindings({}, o).rfind("### ✅ pgvise review: no findings", 0), 0u);
}

TEST(SortFindings, ByFileLineColumnThenErrorsFirst) {
  std::vector<Finding> v = {
      FileFinding("b.sql", 1, 1, Severity::kInfo, "x", "m"),
      FileFinding("a.sql", 10, 1, Severity::kWarning, "x", "m"),
      FileFinding("a.sql", 2, 8, Severity::kWarning, "y", "m"),
      FileFinding("a.sql", 2, 8, Severity::kError, "z", "m"),
      FileFinding("a.sql", 2, 3, Severity::kInfo, "x", "m"),
  };
  SortFindings(&v);
  std::vector<std::string> got;
  for (const auto& f : v)
    got.push_back(f.location.file + ":" + std::to_string(f.location.line) + ":" +
                  std::to_string(f.location.column) + ":" + f.rule);
  EXPECT_EQ(got, (std::vector<std::string>{"a.sql:2:3:x", "a.sql:2:8:z", "a.sql:2:8:y",
                                           "a.sql:10:1:x", "b.sql:1:1:x"}));
}

}  // namespace
}  // namespace pgvise
