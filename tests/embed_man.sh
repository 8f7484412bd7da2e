#!/bin/sh
# The example of weft_embed(3) is a cmocka test of the example handler of
# weft-handler(3): this test extracts both (the code between the lines
# `.\" BEGIN EXAMPLE` and `.\" END EXAMPLE`, roff escapes undone), builds
# them together against this tree's libweft with -Wall -Wextra -Werror, and
# runs the result, so neither page can drift from the API or the engine.
#
# Environment (set by AM_TESTS_ENVIRONMENT): top_srcdir, top_builddir, CC,
# SAN_FLAGS, CMOCKA_CFLAGS, CMOCKA_LIBS.  Writes only to a temporary
# directory, so it works in `make distcheck`.
set -u

here=$(cd "$(dirname "$0")/.." && pwd)
top_srcdir=${top_srcdir:-$here}
top_builddir=${top_builddir:-$top_srcdir}
CC=${CC:-cc}
SAN_FLAGS=${SAN_FLAGS:-}
CMOCKA_CFLAGS=${CMOCKA_CFLAGS:-}
CMOCKA_LIBS=${CMOCKA_LIBS:--lcmocka}
mandir=$top_srcdir/man

fail() {
  echo "embed_man: FAIL: $*"
  exit 1
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/weft-embed-man-XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
trap 'exit 99' HUP INT TERM

. "${top_srcdir:?}/tests/manex.sh"

# extract PAGE OUT: the page's one example block, as C.
extract() {
  man_example "$mandir/$1" "$tmp/$2" ||
    fail "$1: want exactly one .\\\" BEGIN EXAMPLE ... .\\\" END EXAMPLE block"
  [ "$(wc -l <"$tmp/$2")" -ge 10 ] || fail "$1: the example block is (nearly) empty"
}

extract weft-handler.3 count.c
extract weft_embed.3 test_count.c

# CC and the flags may carry several words: leave them unquoted.
# shellcheck disable=SC2086
if ! "$top_builddir/libtool" --mode=link $CC $SAN_FLAGS -Wall -Wextra \
    -Werror -I"$top_srcdir/core/include" -I"$top_builddir/core/include" \
    $CMOCKA_CFLAGS -o "$tmp/test_count" "$tmp/test_count.c" "$tmp/count.c" \
    "$top_builddir/libweft.la" $CMOCKA_LIBS >"$tmp/cc.log" 2>&1; then
  cat "$tmp/cc.log"
  echo "the test as extracted:"
  cat -n "$tmp/test_count.c"
  fail "the examples of weft_embed(3) and weft-handler(3) do not build together"
fi
echo "embed_man: ok: the example of weft_embed(3) builds with count.c"

if ! "$top_builddir/libtool" --mode=execute "$tmp/test_count" \
    >"$tmp/run.log" 2>&1; then
  cat "$tmp/run.log"
  fail "the example test of weft_embed(3) fails"
fi
cat "$tmp/run.log"
grep -q "PASSED" "$tmp/run.log" && ! grep -q "FAILED" "$tmp/run.log" ||
  fail "the example test did not report its tests passed"
echo "embed_man: ok: the example test of weft_embed(3) passes"
