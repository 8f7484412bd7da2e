#!/bin/sh
# A codec's own output and close, through the real weftd: the test codec
# tests/codectest/control.c greets each peer with weft_codec_write() and
# answers "QUIT" with "BYE" and weft_conn_close(), in order with the echo
# handler's replies.  Environment (from AM_TESTS_ENVIRONMENT): WEFTD,
# WCLIENT, top_builddir.
set -u

top_builddir=${top_builddir:-$(cd "$(dirname "$0")/.." && pwd)}
WEFTD=${WEFTD:-$top_builddir/weftd}
WCLIENT=${WCLIENT:-$top_builddir/tests/wclient}
TIMEOUT=${TIMEOUT:-30}
plugin=$top_builddir/tests/codectest/.libs/control.so
tmp=$(mktemp -d "${TMPDIR:-/tmp}/weft-control-XXXXXX") || exit 99
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 99' HUP INT TERM
fail() {
  echo "codec_control: FAIL: $*"
  echo "--- weftd log:"
  cat "$tmp/log"
  exit 1
}

cat >"$tmp/conf" <<CONF
workers = 1;
listeners = (
  { name = "control"; bind = "127.0.0.1:0";
    codec = { plugin = "$plugin"; }; handler = { name = "echo"; }; }
);
CONF
: >"$tmp/log"
"$WEFTD" -c "$tmp/conf" 2>>"$tmp/log" &
pid=$!
port=
n=0
while [ -z "$port" ]; do
  port=$(sed -n 's/.*listener "control" listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$tmp/log")
  [ -n "$port" ] && break
  kill -0 "$pid" 2>/dev/null || { pid=; fail "weftd exited during start-up"; }
  n=$((n + 1))
  [ "$n" -le $((TIMEOUT * 10)) ] || fail "no port announced"
  sleep 0.1
done

# talk INPUT WANT: sends INPUT, expects exactly WANT back, then the close.
talk() {
  printf "$1" >"$tmp/in"
  printf "$2" >"$tmp/want"
  "$WCLIENT" -t "$TIMEOUT" 127.0.0.1 "$port" <"$tmp/in" >"$tmp/got" ||
    fail "wclient failed"
  cmp -s "$tmp/want" "$tmp/got" ||
    fail "sent $(od -c "$tmp/in" | head -3), got $(od -c "$tmp/got" | head -3)"
  printf 'codec_control: ok: %s\n' "$1"
}

# The greeting first, then the echoes; QUIT answered by the codec, and
# nothing after it reaches the handler, though the client keeps sending.
talk 'a\nb\n' 'HELLO weft\na\nb\n'
talk 'one\nQUIT\ntwo\nthree\n' 'HELLO weft\none\nBYE\n'
talk 'QUIT\n' 'HELLO weft\nBYE\n'

kill -TERM "$pid"
wait "$pid"
rc=$?
pid=
[ "$rc" -eq 0 ] || fail "weftd exited $rc"
if grep -E ' (alert|error) |AddressSanitizer|runtime error' "$tmp/log" >/dev/null; then
  fail "alerts or errors in the log"
fi
echo "codec_control: ok: weftd stopped cleanly"
exit 0
