#!/bin/sh
# weft-codec-test on every built-in codec, as the module weft installs,
# with options that exercise each; then on codecs broken on purpose
# (tests/codectest/broken.c), each of which it must fail with the right
# diagnosis.  Environment (from AM_TESTS_ENVIRONMENT): top_builddir.
set -u

top_builddir=${top_builddir:-$(cd "$(dirname "$0")/.." && pwd)}
tool=$top_builddir/tools/weft-codec-test
codecs=$top_builddir/codecs/.libs
broken=$top_builddir/tests/codectest/.libs
fail=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/weft-codectest-XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
trap 'exit 99' HUP INT TERM

if [ ! -x "$tool" ]; then
  echo "codectest: FAIL: $tool not built"
  exit 1
fi

# passes ARGS...: the tool must pass.
passes() {
  if "$tool" "$@" >"$tmp/out" 2>&1; then
    printf 'codectest: ok: %s\n' "$*"
  else
    printf 'codectest: FAIL: weft-codec-test %s (status %s):\n' "$*" "$?"
    cat "$tmp/out"
    fail=1
  fi
}

# caught WORDS ARGS...: the tool must fail (status 1), saying WORDS.
caught() {
  words=$1
  shift
  "$tool" "$@" >"$tmp/out" 2>&1
  rc=$?
  if [ $rc -eq 1 ] && grep -q -- "$words" "$tmp/out"; then
    printf 'codectest: ok: caught %s (%s)\n' "$*" "$words"
    grep '^FAIL' "$tmp/out" | sed 's/^/    /'
  else
    printf 'codectest: FAIL: weft-codec-test %s: want status 1 and "%s", ' \
      "$*" "$words"
    echo "got status $rc:"
    cat "$tmp/out"
    fail=1
  fi
}

# The built-in codecs, with limits small enough to test in a moment.
passes "$codecs/line.so" max_length=1k
passes "$codecs/line.so" max_length=300 strip_cr=false
passes "$codecs/line.so" 'delimiter=\r\n' max_length=200
passes "$codecs/line.so" 'delimiter=\0' max_length=100
passes "$codecs/line.so" delimiter=abab max_length=50
passes "$codecs/length.so" max_frame=4k
passes "$codecs/length.so" length_size=1
passes "$codecs/length.so" length_size=2 byte_order=little max_frame=1000
passes "$codecs/length.so" length_size=3 max_frame=70000
passes "$codecs/length.so" length_size=8 byte_order=little max_frame=2k
passes "$codecs/length.so" length_offset=1 length_size=2 \
  length_adjustment=1 strip=3 max_frame=2k
passes "$codecs/length.so" length_size=4 length_includes_header=true \
  max_frame=3000
passes "$codecs/length.so" length_size=2 length_adjustment=-2 strip=2 \
  max_frame=500
passes "$codecs/netstring.so" max_length=2k
passes "$codecs/varint.so" max_length=3000
passes "$codecs/varint.so" max_length=127
passes "$codecs/fixed.so" frame_size=7
passes "$codecs/fixed.so" frame_size=1
passes "$codecs/raw.so" --stream
# Built-ins by name, with nothing installed (the tool's preloaded table).
passes line max_length=1k
passes length max_frame=4k
passes netstring max_length=2k
# The test codec that writes and closes on its own (tests/codec_control.sh).
passes "$broken/control.so"

# The tool's own usage errors: status 2.
"$tool" "$codecs/line.so" max_length=0 >"$tmp/out" 2>&1
rc=$?
if [ $rc -eq 2 ] && grep -q 'max_length' "$tmp/out"; then
  echo "codectest: ok: bad options refused with status 2"
else
  echo "codectest: FAIL: bad options: status $rc"
  cat "$tmp/out"
  fail=1
fi

# Broken on purpose: each bug must be caught, and said for what it is.
caught "past the end of its" "$broken/overread.so"
caught "earlier call" "$broken/keepptr.so"
caught "without bound" "$broken/unbounded.so"
caught "FAIL splits" "$broken/splitdep.so"
caught "whole frames before the cut" "$broken/eofframe.so"

exit $fail
