#!/usr/bin/env python3
"""Splices the demo's real output into the docs pages, so their examples
cannot be made up and are renewed by one command after each demo run.

scripts/demo.sh keeps each pgvise run's stdout, command line first and exit
code last, in build/demo-reports/out/<id>.txt, and the files the commands
read (an EXPLAIN plan, a SQL file) in build/demo-reports/inputs/. A docs page
asks for one of them between two markers:

    <!-- demo-output: advise-verify#Partitioning -->
    (everything here is replaced)
    <!-- /demo-output -->

`#Section` keeps only that section of a text report (a title line underlined
with dashes, up to the next such title), with `[...]` where lines were left
out. The inputs are copied to docs/examples/demo-<name> and their paths in the
output rewritten to match, so the examples that need no database can be
re-run from the docs as they stand (tests/docs_test.cc does, and checks the
rest is well formed).

Usage: scripts/demo_docs.py DEMO_DIR DOCS_DIR   (scripts/gen-docs.sh --demo runs it)
"""
import pathlib
import re
import shutil
import sys

BLOCK = re.compile(
    r"(?P<begin><!-- demo-output: (?P<id>[a-z0-9-]+)(?:#(?P<section>[^>]*?))? -->\n)"
    r"(?P<body>.*?)"
    r"(?P<end><!-- /demo-output -->)",
    re.S,
)
ELIDED = "[...]"


def is_rule(line):
    return len(line) >= 3 and set(line) == {"-"}


def section(text, title, where):
    """The lines of the text report's section `title`, up to the next title."""
    lines = text.split("\n")
    starts = [i for i in range(len(lines) - 1)
              if lines[i] and is_rule(lines[i + 1]) and len(lines[i + 1]) == len(lines[i])]
    for k, i in enumerate(starts):
        if lines[i] == title:
            j = starts[k + 1] if k + 1 < len(starts) else len(lines)
            body = lines[i:j]
            while body and not body[-1].strip():
                body.pop()
            return body
    sys.exit(f"{where}: no section titled {title!r} in the demo output")


def render(out, section_title, where):
    lines = out.rstrip("\n").split("\n")
    if not lines[0].startswith("$ pgvise ") or not lines[-1].startswith("-- exit code "):
        sys.exit(f"{where}: the demo output does not start with `$ pgvise` and end with its exit code")
    if section_title:
        lines = [lines[0], ELIDED] + section(out, section_title, where) + [ELIDED, lines[-1]]
    return "```text\n" + "\n".join(lines) + "\n```\n"


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    demo, docs = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    out_dir = demo / "out"
    if not out_dir.is_dir():
        sys.exit(f"{out_dir}: not found; run scripts/demo.sh first")
    version = (demo / "version.txt").read_text().strip() if (demo / "version.txt").exists() else "pgvise"

    # The inputs go next to the docs, under a name that says where they came from.
    renames = {}
    examples = docs / "examples"
    for f in sorted((demo / "inputs").glob("*")):
        examples.mkdir(exist_ok=True)
        dest = examples / f"demo-{f.name}"
        shutil.copyfile(f, dest)
        # The demo runs from the repository root and names its inputs by this path.
        renames[f"build/demo-reports/inputs/{f.name}"] = f"docs/examples/demo-{f.name}"

    def output(block_id, where):
        f = out_dir / f"{block_id}.txt"
        if not f.exists():
            sys.exit(f"{where}: {f} not found (the demo names its outputs in scripts/demo.sh)")
        text = f.read_text()
        for old, new in renames.items():
            text = text.replace(old, new)
        return text

    written = 0
    for page in sorted(docs.glob("*.md")):
        text = page.read_text()

        def splice(m):
            nonlocal written
            where = f"{page}: demo-output {m['id']}"
            written += 1
            note = (f"<sub>Real output of `scripts/demo.sh` ({version}), "
                    f"put here by `scripts/gen-docs.sh --demo`; not edited by hand.</sub>\n\n")
            return m["begin"] + note + render(output(m["id"], where), m["section"], where) + m["end"]

        new = BLOCK.sub(splice, text)
        if new != text:
            page.write_text(new)
            print(f"wrote {page}")
    print(f"{written} demo example(s) spliced")


if __name__ == "__main__":
    main()
