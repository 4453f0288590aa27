// ToJson: PgTree's view printed as the JSON text libpg_query's
// pg_query_parse would print for the same statement. Only tests use it (the
// byte-for-byte comparison with libpg_query's JSON that keeps the view
// honest, and readable failure messages); it reads the tree through the
// public element/object/array view alone, so it lives apart from the node
// tables in pg_tree.cc and needs none of the PostgreSQL server headers.
#include <cstdio>
#include <string>
#include <string_view>

#include "analyzer/sql/pg_tree.h"

namespace pgvise::pgtree {

namespace {

void AppendJson(element e, std::string* out);

void AppendString(std::string_view s, std::string* out) {
  out->push_back('"');
  for (char c : s) {
    switch (c) {
      case '"':
        *out += "\\\"";
        break;
      case '\\':
        *out += "\\\\";
        break;
      case '\n':
        *out += "\\n";
        break;
      case '\t':
        *out += "\\t";
        break;
      case '\r':
        *out += "\\r";
        break;
      default:
        // libpg_query escapes < and > too.
        if (static_cast<unsigned char>(c) < 0x20 || c == '<' || c == '>') {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          *out += buf;
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

void AppendJson(element e, std::string* out) {
  object o;
  array a;
  std::string_view s;
  int64_t i;
  bool b;
  double d;
  if (e.get(o) == SUCCESS) {
    out->push_back('{');
    bool first = true;
    for (key_value_pair kv : o) {
      if (!first) out->push_back(',');
      first = false;
      AppendString(kv.key, out);
      out->push_back(':');
      AppendJson(kv.value, out);
    }
    out->push_back('}');
  } else if (e.get(a) == SUCCESS) {
    out->push_back('[');
    bool first = true;
    for (element x : a) {
      if (!first) out->push_back(',');
      first = false;
      AppendJson(x, out);
    }
    out->push_back(']');
  } else if (e.get(s) == SUCCESS) {
    AppendString(s, out);
  } else if (e.get(i) == SUCCESS) {
    *out += std::to_string(i);
  } else if (e.get(b) == SUCCESS) {
    *out += b ? "true" : "false";
  } else if (e.get(d) == SUCCESS) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", d);
    *out += buf;
  } else {
    *out += "null";
  }
}

}  // namespace

std::string ToJson(element e) {
  std::string out;
  AppendJson(e, &out);
  return out;
}

}  // namespace pgvise::pgtree
