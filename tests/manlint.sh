#!/bin/sh
# The man pages must stay true to the code.  This test
#   1. lints every page with `mandoc -Tlint -W warning`, and fails on any
#      message at all;
#   2. extracts the example plugin of weft-codec(3) and of weft-handler(3),
#      the code between the lines `.\" BEGIN EXAMPLE` and `.\" END EXAMPLE`,
#      undoes the roff escapes, and compiles it against the public headers
#      with -Wall -Wextra -Werror, so an example cannot drift from the API;
#   3. when weftd has been built, builds each example as a plugin and has
#      `weftd --check` load it, so its descriptor passes the loader too;
#   4. when weft-codec-test has been built, runs it on the example codec,
#      which weft-codec(3) says passes it.
#
# Environment (set by AM_TESTS_ENVIRONMENT): top_srcdir, top_builddir, CC.
# Without them it works from the source tree it lives in.  Works in
# `make distcheck`, where the source tree is read-only: everything it
# writes goes to a temporary directory.
set -u

here=$(cd "$(dirname "$0")/.." && pwd)
top_srcdir=${top_srcdir:-$here}
top_builddir=${top_builddir:-$top_srcdir}
CC=${CC:-cc}
mandir=$top_srcdir/man
pages="weft.7 weftd.8 weft.conf.5 weft-codec.3 weft-handler.3 weft-codecs.7
weft-codec-test.1 weft-pubsub.7 weft-proxy.7"
fail=0

say() { echo "manlint: $*"; }
bad() {
  echo "manlint: FAIL: $*"
  fail=1
}

if ! command -v mandoc >/dev/null 2>&1; then
  say "FAIL: mandoc not found: install the Debian package mandoc"
  exit 1
fi

# Plugin files must not be group- or world-writable, or weftd refuses them.
umask 022
tmp=$(mktemp -d "${TMPDIR:-/tmp}/weft-manlint-XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
trap 'exit 99' HUP INT TERM

# 1. mandoc: silence is the only pass.
for p in $pages; do
  if [ ! -f "$mandir/$p" ]; then
    bad "$mandir/$p is missing"
    continue
  fi
  out=$(mandoc -Tlint -W warning "$mandir/$p" 2>&1)
  rc=$?
  if [ $rc -ne 0 ] || [ -n "$out" ]; then
    bad "mandoc -Tlint -W warning $p (status $rc):"
    printf '%s\n' "$out"
  else
    say "ok: $p lints clean"
  fi
done

# 2. The examples (tests/manex.sh extracts them).
. "$top_srcdir/tests/manex.sh"

weftd=$top_builddir/weftd
[ -x "$weftd" ] || say "note: $weftd not built: examples compiled, not loaded"

for p in weft-codec.3 weft-handler.3; do
  [ -f "$mandir/$p" ] || continue
  name=${p%.3}
  if ! man_example "$mandir/$p" "$tmp/$name.c"; then
    bad "$p: want exactly one .\\\" BEGIN EXAMPLE ... .\\\" END EXAMPLE block"
    continue
  fi
  if [ "$(wc -l <"$tmp/$name.c")" -lt 10 ]; then
    bad "$p: the example block is (nearly) empty"
    continue
  fi
  # CC may carry flags of its own: leave it unquoted.
  if ! $CC -fsyntax-only -Wall -Wextra -Werror \
      -I"$top_srcdir/core/include" -I"$top_builddir/core/include" \
      "$tmp/$name.c" >"$tmp/$name.cc.log" 2>&1; then
    bad "$p: the example does not compile against the headers:"
    cat "$tmp/$name.cc.log"
    say "the code as extracted:"
    cat -n "$tmp/$name.c"
    continue
  fi
  say "ok: $p example compiles"

  # 3. Loaded by the real loader, by path, with its default options.
  [ -x "$weftd" ] || continue
  if ! $CC -shared -fPIC \
      -I"$top_srcdir/core/include" -I"$top_builddir/core/include" \
      "$tmp/$name.c" -o "$tmp/$name.so" >"$tmp/$name.cc.log" 2>&1; then
    bad "$p: the example does not build as a plugin:"
    cat "$tmp/$name.cc.log"
    continue
  fi
  if [ "$p" = weft-codec.3 ]; then
    codec="plugin = \"$tmp/$name.so\";"
    handler='name = "echo";'
  else
    codec='name = "line";'
    handler="plugin = \"$tmp/$name.so\";"
  fi
  cat >"$tmp/$name.conf" <<EOF
listeners = (
  { name = "manlint"; bind = "127.0.0.1:0";
    codec = { $codec }; handler = { $handler }; }
);
EOF
  if ! "$weftd" --check -c "$tmp/$name.conf" >"$tmp/$name.check.log" 2>&1
  then
    bad "$p: weftd --check refuses the example plugin:"
    cat "$tmp/$name.check.log"
    continue
  fi
  say "ok: $p example loads into weftd"

  # 4. The example codec keeps the decoder contract.
  tool=$top_builddir/tools/weft-codec-test
  [ "$p" = weft-codec.3 ] && [ -x "$tool" ] || continue
  if ! "$tool" "$tmp/$name.so" max_length=4k >"$tmp/$name.ct.log" 2>&1; then
    bad "$p: weft-codec-test fails the example codec:"
    cat "$tmp/$name.ct.log"
    continue
  fi
  say "ok: $p example passes weft-codec-test"
done

exit $fail
