// The index candidate as a value: its SQL (keys, DDL, a readable name), its
// identity for de-duplication, whether an existing index already provides
// it, and its size once B-tree deduplication is counted. Generation itself
// (advisor/candidates.h has the essay) is candidates_collect.cc (what one
// statement asks of one table), candidates_generate.cc (the shapes) and
// candidates_merge.cc (merging and relevance); GenerateCandidates below runs
// it.
#include "advisor/candidates.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <deque>
#include <optional>

#include "advisor/candidates_internal.h"
#include "core/session.h"

namespace pgvise {

std::string CandidateKey::Sql() const {
  std::string s = expression.empty() ? QuoteIdent(column) : "(" + expression + ")";
  if (!opclass.empty()) s += " " + opclass;
  if (descending) s += " DESC";
  // Defaults: ASC NULLS LAST, DESC NULLS FIRST. Only a departure is written.
  if (descending && !nulls_first) s += " NULLS LAST";
  if (!descending && nulls_first) s += " NULLS FIRST";
  return s;
}

std::string IndexCandidate::QualifiedTable() const {
  return QuoteIdent(schema) + "." + QuoteIdent(table);
}

std::string IndexCandidate::Id() const {
  std::string id = schema + "." + table + "|" + method + "|";
  for (const auto& k : keys) id += k.Sql() + ",";
  id += "|";
  for (const auto& c : include) id += c + ",";
  return id + "|" + predicate;
}

std::string IndexCandidate::Ddl(const std::string& name, bool concurrently,
                                bool if_not_exists) const {
  std::string s = "CREATE INDEX ";
  if (concurrently) s += "CONCURRENTLY ";
  if (if_not_exists && !name.empty()) s += "IF NOT EXISTS ";
  if (!name.empty()) s += QuoteIdent(name) + " ";
  s += "ON " + QualifiedTable();
  if (method != "btree") s += " USING " + method;
  s += " (";
  for (size_t i = 0; i < keys.size(); ++i) s += (i ? ", " : "") + keys[i].Sql();
  s += ")";
  if (!include.empty()) {
    s += " INCLUDE (";
    for (size_t i = 0; i < include.size(); ++i) s += (i ? ", " : "") + QuoteIdent(include[i]);
    s += ")";
  }
  if (!predicate.empty()) s += " WHERE " + predicate;
  return s;
}

namespace {

// Lower-case alphanumerics and single underscores: a name that needs no
// quoting whatever the column names were.
std::string NamePart(const std::string& s) {
  std::string out;
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (std::isalnum(u))
      out += static_cast<char>(std::tolower(u));
    else if (!out.empty() && out.back() != '_')
      out += '_';
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  return out;
}

}  // namespace

std::string IndexCandidate::SuggestedName() const {
  std::string name = NamePart(table);
  if (name.empty()) name = "t";
  for (const auto& k : keys) {
    std::string p = NamePart(k.expression.empty() ? k.column : k.expression);
    if (!p.empty()) name += "_" + p;
  }
  if (!predicate.empty()) name += "_partial";
  if (!include.empty()) name += "_incl";
  std::string suffix = method == "btree" ? "_idx" : "_" + method;
  if (name.size() + suffix.size() > 63) name.resize(63 - suffix.size());
  while (!name.empty() && name.back() == '_') name.pop_back();
  if (!name.empty() && std::isdigit(static_cast<unsigned char>(name[0]))) name = "i" + name;
  return name + suffix;
}

int CandidateSet::Add(IndexCandidate c) {
  std::string id = c.Id();
  if (auto it = by_id_.find(id); it != by_id_.end()) return it->second;
  int n = static_cast<int>(candidates.size());
  by_id_[id] = n;
  candidates.push_back(std::move(c));
  return n;
}

int CandidateSet::Find(const std::string& id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? -1 : it->second;
}

namespace {

std::string Compact(const std::string& s) {
  std::string out;
  for (char c : s)
    if (!std::isspace(static_cast<unsigned char>(c)) && c != '"')
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool SameKey(const IndexKey& e, const CandidateKey& c) {
  if (!c.expression.empty())
    return e.column.empty() && Compact(e.expression) == Compact(c.expression);
  return e.column == c.column && (c.opclass.empty() ? e.default_opclass : e.opclass == c.opclass);
}

}  // namespace

bool ExistingIndexProvides(const TableInfo& t, const IndexCandidate& c) {
  for (const auto& ix : t.indexes) {
    if (!ix.valid || ix.method != c.method) continue;
    // A partial index serves only statements that imply its predicate; we
    // don't try to prove implication, so it never "provides" a candidate.
    if (!ix.predicate.empty()) continue;
    if (c.keys.size() > ix.keys.size()) continue;
    bool keys_match = true, same_dir = true, reversed_dir = true;
    for (size_t i = 0; i < c.keys.size(); ++i) {
      if (!SameKey(ix.keys[i], c.keys[i])) {
        keys_match = false;
        break;
      }
      if (ix.keys[i].descending != c.keys[i].descending) same_dir = false;
      if (ix.keys[i].descending == c.keys[i].descending) reversed_dir = false;
    }
    if (!keys_match) continue;
    // A B-tree is scanned backwards as easily as forwards: (a DESC, b DESC)
    // provides (a, b), but (a, b DESC) does not.
    if (c.method == "btree" && !same_dir && !reversed_dir) continue;
    bool covered = true;
    for (const auto& inc : c.include) {
      bool found = false;
      for (const auto& k : ix.keys) found |= k.column == inc;
      for (const auto& k : ix.include) found |= k.column == inc;
      covered &= found;
    }
    if (covered) return true;
  }
  return false;
}

CandidateSet GenerateCandidates(const Workload& w, const Catalog& cat, const CandidateOptions& o) {
  CandidateSet out;
  candidates::Generator g(w, cat, o, &out);
  g.Run();
  return out;
}

}  // namespace pgvise
