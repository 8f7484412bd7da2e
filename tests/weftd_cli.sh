#!/bin/sh
# weftd as an operator meets it: options, --check, --list-plugins, start-up
# failures (bad config, port in use), Unix-domain and IPv6 listeners,
# signals.  Every check that fails says what it expected.
set -u
WEFTD=${WEFTD:?} WCLIENT=${WCLIENT:?}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/weft-cli.XXXXXX")
pids=
cleanup() {
  for p in $pids; do kill -9 "$p" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT
. "${top_srcdir:?}/tests/lib.sh"

# Waits for weftd (log $1) to announce listener $2; prints its port.
port_of() {
  i=0
  while [ $i -lt 100 ]; do
    line=$(grep -F "listener \"$2\" listening on" "$1" 2>/dev/null | head -n 1)
    if [ -n "$line" ]; then
      echo "$line" | sed 's/.* listening on .*:\([0-9]*\) (.*/\1/'
      return 0
    fi
    i=$((i + 1)); sleep 0.1
  done
  echo "weftd never announced listener $2:" >&2; cat "$1" >&2
  return 1
}

# Stops weftd $1 with SIGTERM; checks it exits 0 and its log ($2) is clean.
stop_clean() {
  kill -TERM "$1"; wait "$1"; rc=$?
  [ $rc -eq 0 ] && ok "graceful stop exits 0" || fail "weftd exited $rc after SIGTERM"
  if grep -E ' alert |AddressSanitizer|LeakSanitizer|runtime error:' "$2"; then
    fail "alert or sanitizer output in $2"
  fi
}

# --- options
vh="$top_builddir/core/include/weft/version.h"
abi="$(sed -n 's/^#define WEFT_ABI_MAJOR \([0-9]*\).*/\1/p' "$vh").$(sed -n 's/^#define WEFT_ABI_MINOR \([0-9]*\).*/\1/p' "$vh")"
$WEFTD --version > "$tmp/out" 2>&1 || fail "--version exits non-zero"
expect_in "$tmp/out" "plugin ABI $abi" "--version names the ABI"
$WEFTD --help > "$tmp/out" 2>&1 || fail "--help exits non-zero"
expect_in "$tmp/out" "--list-plugins" "--help lists the options"
$WEFTD --no-such-option > "$tmp/out" 2>&1; rc=$?
[ $rc -eq 2 ] && ok "unknown option exits 2" || fail "unknown option exited $rc"

# --- built-ins need nothing installed
$WEFTD --list-plugins > "$tmp/out" 2>&1 || fail "--list-plugins failed"
for p in "line       codec    ABI $abi" "length     codec    ABI $abi" \
         "echo       handler  ABI $abi" "stats      handler  ABI $abi" \
         "proxy      handler  ABI $abi"; do
  expect_in "$tmp/out" "$p" "--list-plugins shows $p"
done
$WEFTD --check > "$tmp/out" 2>&1 || fail "--check of the embedded default failed"
expect_in "$tmp/out" "<default>: configuration OK" "embedded default is valid"

# --- a config with five problems: --check names each with its line
cat > "$tmp/bad.conf" <<'CONF'
workers = 0;
listeners = (
  { name = "a"; bind = "127.0.0.1:99999";
    codec = { name = "line"; max_length = "lots"; };
    handler = { name = "echo"; };
    idle = "5s"; },
  { name = "b"; bind = "127.0.0.1:0";
    codec = { name = "nosuch"; };
    handler = { name = "echo"; }; }
);
CONF
$WEFTD --check -c "$tmp/bad.conf" > "$tmp/out" 2>&1; rc=$?
[ $rc -eq 1 ] && ok "--check of a bad config exits 1" || fail "--check exited $rc"
expect_in "$tmp/out" "bad.conf:1: workers = 0 is out of range" "workers problem"
expect_in "$tmp/out" "bad.conf:3: bind = \"127.0.0.1:99999\" is not an address" "bind problem"
expect_in "$tmp/out" "bad.conf:6: unknown listener setting \"idle\"" "unknown key"
# Plugin problems alone: each with its line, all counted.
cat > "$tmp/bad.conf" <<'CONF'
workers = 1;
listeners = (
  { name = "a"; bind = "127.0.0.1:0";
    codec = { name = "line"; max_length = "lots"; };
    handler = { name = "echo"; colour = "blue"; }; },
  { name = "b"; bind = "127.0.0.1:0";
    codec = { name = "nosuch"; };
    handler = { plugin = "./missing.so"; }; }
);
CONF
$WEFTD --check -c "$tmp/bad.conf" > "$tmp/out" 2>&1; rc=$?
[ $rc -eq 1 ] && ok "--check of bad plugins exits 1" || fail "--check exited $rc"
expect_in "$tmp/out" "bad.conf:4: codec \"line\": option \"max_length\" = \"lots\" is not a size" "bad option value"
expect_in "$tmp/out" "bad.conf:5: handler \"echo\": unknown option \"colour\"" "unknown option"
expect_in "$tmp/out" "bad.conf:7: listener \"b\": codec plugin \"nosuch\" not found (searched:" "missing plugin by name"
expect_in "$tmp/out" "bad.conf:8: listener \"b\": ./missing.so: No such file" "missing plugin file"
expect_in "$tmp/out" "4 problems found" "every problem counted"
# Without --check the same config starts nothing.
$WEFTD -c "$tmp/bad.conf" > "$tmp/out" 2>&1; rc=$?
[ $rc -eq 1 ] && ok "bad config refuses to start" || fail "bad config: exit $rc"
if grep -q "listening on" "$tmp/out"; then fail "bad config bound a port"; fi
printf 'workers = 1;\nlisteners = ( { name = "x" ' > "$tmp/syntax.conf"
$WEFTD -c "$tmp/syntax.conf" > "$tmp/out" 2>&1; rc=$?
[ $rc -eq 1 ] && ok "syntax error exits 1" || fail "syntax error: exit $rc"
expect_in "$tmp/out" "syntax.conf:2: syntax error" "syntax error names file:line"

# --- a running daemon: echo over TCP, Unix socket and IPv6
cat > "$tmp/good.conf" <<CONF
workers = 2;
shutdown_grace = "2s";
listeners = (
  { name = "tcp"; bind = "127.0.0.1:0";
    codec = { name = "line"; }; handler = { name = "echo"; }; },
  { name = "unix"; bind = "unix:$tmp/echo.sock";
    codec = { name = "line"; }; handler = { name = "echo"; }; },
  { name = "v6"; bind = "[::1]:0";
    codec = { name = "length"; length_size = 2; }; handler = { name = "echo"; }; }
);
CONF
$WEFTD -c "$tmp/good.conf" 2> "$tmp/a.log" &
a=$!; pids="$pids $a"
port=$(port_of "$tmp/a.log" tcp) || exit 1
v6port=$(port_of "$tmp/a.log" v6) || exit 1
printf 'one\r\ntwo\n' | $WCLIENT 127.0.0.1 "$port" > "$tmp/out" || fail "tcp echo"
printf 'one\ntwo\n' | cmp -s - "$tmp/out" && ok "tcp line echo" || fail "tcp echo got: $(cat "$tmp/out")"
printf 'over unix\n' | $WCLIENT "unix:$tmp/echo.sock" - > "$tmp/out" || fail "unix echo"
printf 'over unix\n' | cmp -s - "$tmp/out" && ok "unix socket echo" || fail "unix echo got: $(cat "$tmp/out")"
printf '\000\003abc\000\000' | $WCLIENT ::1 "$v6port" > "$tmp/out" || fail "ipv6 echo"
printf '\000\003abc\000\000' | cmp -s - "$tmp/out" && ok "ipv6 length echo" || fail "ipv6 echo differs"

# --- the port is taken: a clear message, exit 1
cat > "$tmp/clash.conf" <<CONF
listeners = (
  { name = "free"; bind = "127.0.0.1:0";
    codec = { name = "line"; }; handler = { name = "echo"; }; },
  { name = "taken"; bind = "127.0.0.1:$port";
    codec = { name = "line"; }; handler = { name = "echo"; }; }
);
CONF
$WEFTD -c "$tmp/clash.conf" > "$tmp/out" 2>&1; rc=$?
[ $rc -eq 1 ] && ok "port in use exits 1" || fail "port in use: exit $rc"
expect_in "$tmp/out" "listener \"taken\" (" "port clash names the listener"
expect_in "$tmp/out" "cannot bind 127.0.0.1:$port: address already in use (EADDRINUSE)" "port clash names address and errno"
if grep -q "listening on" "$tmp/out"; then fail "port clash left a listener announced"; fi

# --- SIGHUP with the same file: everything kept, still serving
kill -HUP "$a"; sleep 0.3
printf 'still here\n' | $WCLIENT 127.0.0.1 "$port" > "$tmp/out" || fail "echo after SIGHUP"
expect_in "$tmp/out" "still here" "serves after SIGHUP"
expect_in "$tmp/a.log" "3 listeners kept, 0 new or changed, 0 retired" "SIGHUP reload keeps unchanged listeners"
stop_clean "$a" "$tmp/a.log"
[ ! -e "$tmp/echo.sock" ] && ok "unix socket file removed" || fail "unix socket file left behind"

# --- on_overflow = "discard": the long line is skipped and reported, the
# connection goes on
cat > "$tmp/discard.conf" <<CONF
listeners = (
  { name = "d"; bind = "127.0.0.1:0";
    codec = { name = "line"; max_length = 8; on_overflow = "discard"; };
    handler = { name = "echo"; }; }
);
CONF
$WEFTD -c "$tmp/discard.conf" 2> "$tmp/c.log" &
c=$!; pids="$pids $c"
dport=$(port_of "$tmp/c.log" d) || exit 1
printf 'short\nthis line is far too long\nok\n' | $WCLIENT 127.0.0.1 "$dport" > "$tmp/out"
printf 'short\nok\n' | cmp -s - "$tmp/out" && ok "discard skips the long line only" ||
  fail "discard answered: $(cat "$tmp/out")"
expect_in "$tmp/c.log" "line longer than max_length, discarded (skipped)" "a discarded line is logged"
stop_clean "$c" "$tmp/c.log"

# --- --syslog: the daemon's lines leave stderr; --check still answers here
$WEFTD --syslog -c "$tmp/bad.conf" > "$tmp/out" 2> "$tmp/err"; rc=$?
[ $rc -eq 1 ] && [ ! -s "$tmp/err" ] && ok "--syslog sends the log away from stderr" ||
  fail "--syslog: exit $rc, stderr: $(cat "$tmp/err")"
$WEFTD --syslog --check -c "$tmp/bad.conf" > "$tmp/out" 2>&1
expect_in "$tmp/out" "problems found" "--check answers on the terminal even with --syslog"

# --- a second signal forces the stop
$WEFTD -c "$tmp/good.conf" 2> "$tmp/b.log" &
b=$!; pids="$pids $b"
port_of "$tmp/b.log" tcp > /dev/null || exit 1
kill -INT "$b"; kill -INT "$b"; wait "$b"; rc=$?
[ $rc -eq 0 ] && ok "double SIGINT exits 0" || fail "double SIGINT: exit $rc"

[ $failed -eq 0 ] && echo "weftd_cli: all checks passed"
exit $failed
