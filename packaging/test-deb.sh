#!/usr/bin/env bash
# Builds pgvise's .deb with CPack, unpacks it into a temp root (dpkg -x: no
# root, no system change) and checks the installed tool works from there:
# --version, the rules found beside the binary, a review, the man pages and
# the completion scripts, and that the package depends on Debian's runtime
# libraries (not on -dev packages).
#   packaging/test-deb.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$build"
cpack -G DEB -B "$work/out" >"$work/cpack.log" 2>&1 || { cat "$work/cpack.log"; exit 1; }
deb=$(ls "$work"/out/pgvise_*.deb | head -1)
[ -f "$deb" ] || { echo "FAIL: no .deb built"; exit 1; }
fail() { echo "FAIL: $*"; exit 1; }

deps=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $deps"
case "$deps" in *libpq5*) ;; *) fail "Depends lacks libpq5";; esac
case "$deps" in *-dev*) fail "Depends names a -dev package";; esac

dpkg-deb -x "$deb" "$work/root"
bin="$work/root/usr/bin/pgvise"
[ -x "$bin" ] || fail "no usr/bin/pgvise in the package"
"$bin" --version | grep -Eq '^pgvise [0-9]+\.[0-9]+\.[0-9]+ \(' || fail "--version"
# Rules come from <exe>/../share/pgvise/rules: no source tree, no env var.
n=$(cd / && env -u PGVISE_RULES -u PGVISE_SOURCE_DIR "$bin" rules --format json | grep -c '"id"' || true)
[ "$n" -ge 30 ] || fail "installed binary lists $n rules"
printf 'CREATE INDEX i ON t (a);\n' >"$work/m.sql"
set +e
(cd / && env -u PGVISE_RULES "$bin" review "$work/m.sql" >"$work/review.out" 2>&1)
rc=$?
set -e
[ "$rc" -eq 0 ] || { cat "$work/review.out"; fail "review exit $rc, expected 0 (a warning is below --fail-on error)"; }
grep -q require-concurrent-index-creation "$work/review.out" || fail "review finding"
for m in pgvise pgvise-review pgvise-explain pgvise-advise pgvise-rewrite pgvise-maintain; do
  f="$work/root/usr/share/man/man1/$m.1"
  [ -f "$f" ] || f="$f.gz"
  [ -f "$f" ] || fail "no man page $m"
done
[ -f "$work/root/usr/share/bash-completion/completions/pgvise" ] || fail "no bash completion"
[ -f "$work/root/usr/share/zsh/vendor-completions/_pgvise" ] || fail "no zsh completion"
bash -n "$work/root/usr/share/bash-completion/completions/pgvise" || fail "bash completion syntax"
echo "package ok: $(basename "$deb"), $(du -h "$deb" | cut -f1)"
