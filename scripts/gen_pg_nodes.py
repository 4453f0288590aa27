#!/usr/bin/env python3
"""Generates analyzer's field tables for PostgreSQL's raw parse-tree nodes.

QueryFacts reads the parse tree libpg_query builds in C (analyzer/sql/pg_tree.h)
instead of the JSON text libpg_query can print: the JSON costs more than the
parse itself. The walker still asks for fields by the names that JSON uses,
which are PostgreSQL's own C member names, so all it needs is, per node type,
the list of members and where they are. This script reads them from the
PostgreSQL server headers the build compiles against (nodes/parsenodes.h,
primnodes.h, value.h, nodes.h, lockoptions.h) and writes one C++ include file:

  PGV_TYPE_BEGIN(SelectStmt)           a node struct, its NodeTag and name
  PGV_FIELD(SelectStmt, targetList)    one member, in declaration order
  PGV_TYPE_END(SelectStmt)
  PGV_ENUM_BEGIN(LimitOption) PGV_ENUM_VALUE(LIMIT_OPTION_DEFAULT, 0) ... PGV_ENUM_END
  PGV_TAG(SelectStmt)                  every NodeTag name (T_ stripped)

Enum values come from libpg_query's pg_query.proto, not the server headers:
libpg_query reorders some enums so that the default is 0 (LimitOption:
DEFAULT, COUNT, WITH_TIES where PostgreSQL has COUNT, WITH_TIES, DEFAULT), and
the proto lists its C values plus one (0 is *_UNDEFINED). Enums whose C
values are spelled out ('i', 1 << 2) keep the header's enumerators.

Member types are classified by the C++ compiler (templates on decltype), not
here, so the script only has to find struct and enum declarations.

Usage: gen_pg_nodes.py SERVER_INCLUDE_DIR PG_QUERY_PROTO OUTPUT
"""
import os
import re
import sys

HEADERS = ["nodes/nodes.h", "nodes/value.h", "nodes/primnodes.h", "nodes/parsenodes.h",
           "nodes/lockoptions.h"]


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    return re.sub(r"^\s*#.*$", " ", text, flags=re.M)


def matching_brace(text, i):
    depth = 0
    for j in range(i, len(text)):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return j
    raise ValueError("unbalanced braces")


def structs(text):
    """(name, [member names]) for each `typedef struct X { ... } X;` whose first
    member is `NodeTag type` or `Expr xpr` (a node)."""
    out = []
    for m in re.finditer(r"(typedef\s+)?struct\s+(\w+)\s*\{", text):
        open_at = m.end() - 1
        close = matching_brace(text, open_at)
        tail = re.match(r"\s*(\w+)?\s*;", text[close + 1:])
        if not tail:
            continue
        # `typedef struct X {..} X;` or `struct X {..};` (typedef'd earlier)
        name, body = tail.group(1) or m.group(2), text[open_at + 1:close]
        members = []
        depth, start = 0, 0
        for k, ch in enumerate(body):
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
            elif ch == ";" and depth == 0:
                members.append(" ".join(body[start:k].split()))
                start = k + 1
        if not members or members[0] not in ("NodeTag type", "Expr xpr"):
            continue
        names = []
        for decl in members[1:]:
            if decl.startswith("union") or "(" in decl or "[" in decl:
                continue  # A_Const's value union is read by hand; no arrays or function pointers
            decl = re.sub(r"^(const|struct)\s+", "", decl)
            for d in decl.split(",")[0:1] + decl.split(",")[1:]:
                mm = re.search(r"(\w+)\s*$", d)
                if mm:
                    names.append(mm.group(1))
        out.append((name, names))
    return out


def enums(text):
    out = []
    for m in re.finditer(r"typedef\s+enum\s+\w*\s*\{([^}]*)\}\s*(\w+)\s*;", text):
        values, explicit = [], False
        for item in m.group(1).split(","):
            item = item.strip()
            if item:
                values.append(item.split("=")[0].strip())
                explicit = explicit or "=" in item
        out.append((m.group(2), values, explicit))
    return out


def proto_enums(text):
    out = {}
    for m in re.finditer(r"\benum\s+(\w+)\s*\{([^}]*)\}", text):
        values = []
        for name, num in re.findall(r"(\w+)\s*=\s*(\d+)\s*;", m.group(2)):
            if int(num) > 0:
                values.append((name, int(num) - 1))
        out[m.group(1)] = values
    return out


def main():
    inc, proto, output = sys.argv[1], sys.argv[2], sys.argv[3]
    by_proto = proto_enums(open(proto).read())
    texts = {h: strip_comments(open(os.path.join(inc, h)).read()) for h in HEADERS}
    tags = re.search(r"typedef\s+enum\s+NodeTag\s*\{([^}]*)\}", texts["nodes/nodes.h"]).group(1)
    tag_names = [t.split("=")[0].strip()[2:] for t in tags.split(",") if t.strip().startswith("T_")]
    macros = ["PGV_ENUM_BEGIN(E)", "PGV_ENUM_VALUE(V, N)", "PGV_ENUM_END", "PGV_TYPE_BEGIN(S)",
              "PGV_FIELD(S, f)", "PGV_TYPE_END(S)", "PGV_TAG(T)"]
    lines = ["// Generated by scripts/gen_pg_nodes.py from " + inc + "; do not edit.",
             "// An includer defines the macros it needs; the others expand to nothing,",
             "// and all are undefined at the end, so the file can be included again.", ""]
    for m in macros:
        name = m.split("(")[0]
        lines += ["#ifndef " + name, "#define " + m, "#endif"]
    seen = set()
    for h in HEADERS:
        for name, values, explicit in enums(texts[h]):
            if name in ("NodeTag",) or name in seen or name not in by_proto:
                continue
            seen.add(name)
            lines.append("PGV_ENUM_BEGIN(%s)" % name)
            if explicit:
                # Values spelled out in C ('i', 1 << 2): the enumerators are the truth.
                lines += ["PGV_ENUM_VALUE(%s, %s)" % (v, v) for v in values]
            else:
                lines += ["PGV_ENUM_VALUE(%s, %d)" % v for v in by_proto[name]]
            lines.append("PGV_ENUM_END")
    known = set(tag_names)
    for h in HEADERS:
        for name, members in structs(texts[h]):
            if name not in known or name in ("List",):
                continue
            lines.append("PGV_TYPE_BEGIN(%s)" % name)
            lines += ["PGV_FIELD(%s, %s)" % (name, f) for f in members]
            lines.append("PGV_TYPE_END(%s)" % name)
    lines += ["PGV_TAG(%s)" % t for t in tag_names]
    lines += ["#undef " + m.split("(")[0] for m in macros]
    tmp = output + ".tmp"
    with open(tmp, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(tmp, output)


if __name__ == "__main__":
    main()
