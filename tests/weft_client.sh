#!/bin/sh
# weft(1), the command-line client, against the real weftd: `weft send`
# and `weft bench` on an echo listener of every built-in codec (text and
# binary, TCP and a Unix socket, built-in and .so codecs), then the ways
# they must fail: an unknown codec, bad --codec-opt values, a frame the
# codec refuses, a server that never answers (timeouts), wrong replies,
# and connections refused.  Each check says what it expected.
#
# Environment (AM_TESTS_ENVIRONMENT): WEFTD, top_builddir, WEFT_TEST_SCALE,
# and WEFT_WRAP, the wrapper test programs run under (valgrind in `make
# check-valgrind`), which shell tests must apply themselves.
set -u
WEFTD=${WEFTD:?} top_builddir=${top_builddir:?}
scale=${WEFT_TEST_SCALE:-1}
WEFT_WRAP=${WEFT_WRAP:-}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/weft-client.XXXXXX")
pid=
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
trap 'exit 99' HUP INT TERM
failed=0
fail() { echo "FAIL: $*"; failed=1; }
ok() { echo "ok: $*"; }

# weft ARGS...: the client, under the test wrapper; its stderr goes to
# $tmp/err, and any sanitizer or valgrind report in it is a failure.  Never
# call it in a pipeline, whose parts are subshells: rc and failed would be
# lost.  Input comes from files.
weft() {
  # shellcheck disable=SC2086  # the wrapper is a command and its arguments
  $WEFT_WRAP "$top_builddir/weft" "$@" 2> "$tmp/err"
  rc=$?
  if grep -E 'Sanitizer|runtime error:|^==[0-9]+== [A-Z]' "$tmp/err" >/dev/null; then
    fail "report from a checker running weft $*:"; sed 's/^/  | /' "$tmp/err"
  fi
  return $rc
}

# expect RC WORDS WHAT: the last weft exited RC and said WORDS on stderr.
expect() {
  if [ "$rc" -ne "$1" ]; then
    fail "$3: exit status $rc, expected $1:"; sed 's/^/  | /' "$tmp/err"
  elif [ -n "$2" ] && ! grep -qF -- "$2" "$tmp/err"; then
    fail "$3: \"$2\" not in stderr:"; sed 's/^/  | /' "$tmp/err"
  else
    ok "$3 (exit $1${2:+: $(grep -F -- "$2" "$tmp/err" | head -n 1)})"
  fi
}

# same FILE WANT WHAT: FILE holds exactly the bytes of WANT.
same() {
  if cmp -s "$1" "$2"; then ok "$3"; else
    fail "$3: got"; od -c "$1" | sed 's/^/  | /'
    echo "  expected"; od -c "$2" | sed 's/^/  | /'
    sed 's/^/  stderr | /' "$tmp/err"
  fi
}

hexof() { od -An -v -tx1 "$1" | tr -d ' \n'; }

port_of() { # NAME: the port weftd announced for listener NAME
  i=0
  while [ $i -lt 150 ]; do
    line=$(grep -F "listener \"$1\" listening on" "$tmp/d.log" 2>/dev/null | head -n 1)
    if [ -n "$line" ]; then
      echo "$line" | sed 's/.* listening on .*:\([0-9]*\) (.*/\1/'; return 0
    fi
    i=$((i + 1)); sleep 0.1
  done
  echo "weftd never announced listener $1:" >&2; cat "$tmp/d.log" >&2
  return 1
}

# A second of load at full scale; never under 200 ms (valgrind: 0.02).
dur=$(awk -v s="$scale" 'BEGIN { d = 1000 * s; if (d < 200) d = 200; printf "%dms", d }')

# Every built-in codec on an echo listener, a pubsub listener that never
# answers a PUB, a listener that echoes 130-byte blocks (two 64-byte lines:
# an odd line waits for its pair, unanswered), and a Unix socket with
# non-default codec options.
cat > "$tmp/weft.conf" <<EOF
workers = 2; shutdown_grace = "5s";
listeners = (
  { name = "line"; bind = "127.0.0.1:0"; codec = { name = "line"; }; handler = { name = "echo"; }; },
  { name = "length"; bind = "127.0.0.1:0"; codec = { name = "length"; }; handler = { name = "echo"; }; },
  { name = "netstring"; bind = "127.0.0.1:0"; codec = { name = "netstring"; }; handler = { name = "echo"; }; },
  { name = "varint"; bind = "127.0.0.1:0"; codec = { name = "varint"; }; handler = { name = "echo"; }; },
  { name = "fixed"; bind = "127.0.0.1:0"; codec = { name = "fixed"; frame_size = 16; }; handler = { name = "echo"; }; },
  { name = "raw"; bind = "127.0.0.1:0"; codec = { name = "raw"; }; handler = { name = "echo"; }; },
  { name = "silent"; bind = "127.0.0.1:0"; codec = { name = "line"; }; handler = { name = "pubsub"; ack_publish = false; }; },
  { name = "pairs"; bind = "127.0.0.1:0"; codec = { name = "fixed"; frame_size = 130; }; handler = { name = "echo"; }; },
  { name = "unix"; bind = "unix:$tmp/len2.sock"; codec = { name = "length"; length_size = 2; byte_order = "little"; }; handler = { name = "echo"; }; }
);
EOF
$WEFTD -c "$tmp/weft.conf" 2> "$tmp/d.log" &
pid=$!
for l in line length netstring varint fixed raw silent pairs; do
  eval "port_$l=\$(port_of $l)" || exit 1
done
port_of unix > /dev/null || exit 1
addr() { eval "echo 127.0.0.1:\$port_$1"; }
opts() { [ "$1" = fixed ] && echo "--codec-opt frame_size=16"; }

# --- send: text lines on every codec, replies equal to the input
printf 'hello\nworld\n\nthe last line\n' > "$tmp/text"
printf '0123456789abcdef\nthe 16 byte line\n' > "$tmp/text16"
for c in line length netstring varint fixed raw; do
  in=$tmp/text
  [ $c = fixed ] && in=$tmp/text16
  # shellcheck disable=SC2046
  weft send --codec $c $(opts $c) "$(addr $c)" < "$in" > "$tmp/out"
  [ $rc -eq 0 ] || fail "send on $c exited $rc: $(cat "$tmp/err")"
  same "$tmp/out" "$in" "send on $c: every reply equals its line"
done

# --- send: from a pipe, read as lines arrive (weft's own status and
# stderr are checked here, the pipeline being a subshell)
{ printf 'first\n'; sleep 0.3; printf 'second\n'; } |
  weft send "$(addr line)" > "$tmp/out"
rc=$?
grep -E 'Sanitizer|runtime error:|^==[0-9]+== [A-Z]' "$tmp/err" && fail "checker report"
printf 'first\nsecond\n' > "$tmp/want"
[ $rc -eq 0 ] || fail "send from a pipe exited $rc: $(cat "$tmp/err")"
same "$tmp/out" "$tmp/want" "send from a pipe: lines sent as they come"

# --- send: binary frames from files, printed in hex, one per line
printf '\000\001\377\376\177\200\t x\r y\033abc' > "$tmp/bin1"   # 16 bytes, no \n
printf 'A\nB\000C\n\n\377\377\377\377\377\377\377\377\377' > "$tmp/bin2" # 16, with \n
for c in line length netstring varint fixed raw; do
  files="-f $tmp/bin1 -f $tmp/bin2"
  { hexof "$tmp/bin1"; echo; hexof "$tmp/bin2"; echo; } > "$tmp/want"
  case $c in
    line) # a line cannot hold its delimiter
      files="-f $tmp/bin1"; { hexof "$tmp/bin1"; echo; } > "$tmp/want" ;;
    raw) # a stream: the bytes of both files, in one hex line
      { hexof "$tmp/bin1"; hexof "$tmp/bin2"; echo; } > "$tmp/want" ;;
  esac
  # shellcheck disable=SC2046,SC2086
  weft send --codec $c $(opts $c) --hex $files "$(addr $c)" > "$tmp/out"
  [ $rc -eq 0 ] || fail "send --hex on $c exited $rc: $(cat "$tmp/err")"
  same "$tmp/out" "$tmp/want" "send --hex on $c: binary frames come back intact"
done

# --- send: a Unix socket, with codec options as weft.conf takes them
printf 'a\nbb\n' > "$tmp/in"
weft send --codec length --codec-opt length_size=2 \
  --codec-opt 'byte_order="little"' "unix:$tmp/len2.sock" < "$tmp/in" > "$tmp/out"
printf 'a\nbb\n' > "$tmp/want"
[ $rc -eq 0 ] || fail "send on unix: exited $rc: $(cat "$tmp/err")"
same "$tmp/out" "$tmp/want" "send on a Unix socket with length_size=2, little-endian"

# --- send: codecs from a .so, by the plugin path and by path
printf 'x\n' > "$tmp/in"
weft send -v --plugin-path "$top_builddir/codecs/.libs" \
  --codec varint "$(addr varint)" < "$tmp/in" > "$tmp/out"
expect 0 "codecs/.libs/varint.so" "send -v: varint found on --plugin-path"
printf 'x\n' | cmp -s - "$tmp/out" || fail "send with varint.so: got $(cat "$tmp/out")"
printf 'y\n' > "$tmp/in"
weft send -v --codec "$top_builddir/codecs/.libs/netstring.so" \
  "$(addr netstring)" < "$tmp/in" > "$tmp/out"
expect 0 "codecs/.libs/netstring.so" "send -v: a codec given by its path"
printf 'y\n' | cmp -s - "$tmp/out" || fail "send with netstring.so: got $(cat "$tmp/out")"
printf 'x\n' > "$tmp/in"
weft send -v "$(addr line)" < "$tmp/in" > /dev/null
expect 0 'codec "line" 1.1 from built-in line' "send -v: line is the built-in by default"

# --- send: how many replies to wait for
printf 'one\ntwo\n' > "$tmp/in"
weft send --replies 1 "$(addr line)" < "$tmp/in" > "$tmp/out"
expect 0 "" "send --replies 1 exits once one reply came"
head -n 1 "$tmp/out" | grep -qx one || fail "send --replies 1: first reply $(cat "$tmp/out")"
printf 'PUB t x\n' > "$tmp/in"
weft send --no-wait "$(addr silent)" < "$tmp/in" > "$tmp/out"
expect 0 "" "send --no-wait does not wait for a reply that never comes"

# --- bench: every codec, a short run each, no error and frames counted
# bench_ok WHAT ARGS...: runs bench, checks exit 0, errors=0, frames > 0.
bench_ok() {
  what=$1; shift
  weft bench -d "$dur" --timeout 20s "$@" > "$tmp/out"
  kv=$(grep '^frames=' "$tmp/out")
  frames=$(echo "$kv" | sed -n 's/^frames=\([0-9]*\) .*/\1/p')
  errors=$(echo "$kv" | sed -n 's/.* errors=\([0-9]*\) .*/\1/p')
  if [ $rc -eq 0 ] && [ "${errors:-x}" = 0 ] && [ "${frames:-0}" -gt 0 ]; then
    ok "bench $what: $frames frames, 0 errors"
  else
    fail "bench $what: exit $rc, frames=${frames:-?} errors=${errors:-?}:"
    sed 's/^/  | /' "$tmp/out" "$tmp/err"
  fi
}
for c in line length netstring varint raw; do
  bench_ok "on $c" --codec $c -c 2 -p 8 "$(addr $c)"
done
bench_ok "on fixed, 16-byte frames" --codec fixed --codec-opt frame_size=16 \
  -s 16 -c 2 -p 4 "$(addr fixed)"
bench_ok "on length, 64k frames" --codec length -s 64k -c 2 -p 2 "$(addr length)"
bench_ok "on raw, 100k frames, replies checked as a stream" --codec raw \
  -s 100k -c 1 -p 2 "$(addr raw)"
weft bench -d "$dur" --timeout 20s --json -t 2 -c 3 --codec length \
  --codec-opt length_size=2 --codec-opt byte_order=little \
  "unix:$tmp/len2.sock" > "$tmp/out"
if [ $rc -eq 0 ] && grep -q '"threads":2,' "$tmp/out" &&
   grep -q '"errors":0,' "$tmp/out" && grep -q '"frames":[1-9]' "$tmp/out"; then
  ok "bench --json -t 2 on a Unix socket: $(cat "$tmp/out")"
else
  fail "bench --json -t 2: exit $rc:"; sed 's/^/  | /' "$tmp/out" "$tmp/err"
fi

# --- bench: the measured interval, counted runs, CPU time, --wait, -q
# key K: the value of key K in the key=value line of $tmp/out.
key() { tr ' ' '\n' < "$tmp/out" | sed -n "s/^$1=//p" | head -n 1; }
# num_ok K TEST: key K is a number and awk TEST holds for it (as v).
num_ok() {
  v=$(key "$1")
  echo "$v" | grep -Eq '^-?[0-9]+(\.[0-9]+)?$' &&
    awk -v v="$v" "BEGIN { exit !($2) }"
}
# -q: one line, every key the benchmark driver reads; -1 for CPU figures
# not asked for.
weft bench -q -d "$dur" --timeout 20s -c 2 "$(addr line)" > "$tmp/out"
if [ $rc -eq 0 ] && [ "$(wc -l < "$tmp/out")" -eq 1 ] &&
   grep -q '^frames=[1-9][0-9]* errors=0 ' "$tmp/out" &&
   num_ok srv_cpu_ns 'v == -1' && num_ok core_ns 'v == -1' &&
   num_ok cli_util 'v > 0'; then
  missing=
  for k in frames errors seconds frames_per_s mb_per_s p50_us p99_us \
    p999_us max_us srv_cpu_ns srv_util cli_util core_ns; do
    [ -n "$(key $k)" ] || missing="$missing $k"
  done
  [ -z "$missing" ] && ok "bench -q: one line, every key: $(cat "$tmp/out")" ||
    fail "bench -q: keys missing:$missing: $(cat "$tmp/out")"
else
  fail "bench -q: exit $rc:"; sed 's/^/  | /' "$tmp/out" "$tmp/err"
fi
# -w: frames flow for the warm-up, but only the interval after it counts.
weft bench -q -w 400ms -d "$dur" --timeout 20s -c 2 "$(addr line)" > "$tmp/out"
want=$(echo "$dur" | awk '{ printf "%.3f", $1 / 1000 }')
if [ $rc -eq 0 ] && num_ok frames 'v > 0' &&
   num_ok seconds "v >= $want - 0.002 && v <= $want + 0.002"; then
  ok "bench -w 400ms -d $dur: seconds=$(key seconds), the interval after the warm-up"
else
  fail "bench -w 400ms -d $dur: exit $rc, seconds should be $want:"
  sed 's/^/  | /' "$tmp/out" "$tmp/err"
fi
# -n: exactly so many frames, 1001 over 3 connections (334, 334, 333).
weft bench -q -n 1001 -c 3 -p 4 --timeout 20s "$(addr line)" > "$tmp/out"
if [ $rc -eq 0 ] && grep -q '^frames=1001 errors=0 ' "$tmp/out"; then
  ok "bench -n 1001 -c 3: $(cut -d' ' -f1-3 "$tmp/out")"
else
  fail "bench -n 1001 -c 3: exit $rc:"; sed 's/^/  | /' "$tmp/out" "$tmp/err"
fi
# A server that drops a frame: "pairs" answers the 4 frames of -n 4, not
# the third of -n 3.
weft bench -q -n 4 -c 1 -p 4 --timeout 20s "$(addr pairs)" > "$tmp/out"
if [ $rc -eq 0 ] && grep -q '^frames=4 errors=0 ' "$tmp/out"; then
  ok "bench -n 4 on pairs: all 4 answered"
else
  fail "bench -n 4 on pairs: exit $rc:"; sed 's/^/  | /' "$tmp/out" "$tmp/err"
fi
weft bench -q -n 3 -c 1 -p 4 --timeout 1s "$(addr pairs)" > "$tmp/out"
expect 1 "2 of the 3 frames of -n answered" "bench -n 3 on pairs: a frame missing"
grep -q '^frames=2 errors=1 ' "$tmp/out" || fail "bench -n 3 summary: $(cat "$tmp/out")"
weft bench -n 10 -d 1s "$(addr line)" > /dev/null
expect 2 "-n and -d: a run is counted (-n) or timed (-d" "bench -n with -d"
weft bench -n 10 -w 1s "$(addr line)" > /dev/null
expect 2 "-n and -w: a run is counted" "bench -n with -w"
# CPU time: weftd's, per frame and per second; the busy time of CPU 0.
cdur=$(echo "$dur" | awk '{ d = $1 + 0; printf "%dms", d < 500 ? 500 : d }')
weft bench -q -d "$cdur" --timeout 20s -c 2 --server-pid "$pid" \
  --server-cpu 0 "$(addr line)" > "$tmp/out"
if [ $rc -eq 0 ] && num_ok srv_cpu_ns 'v > 0' && num_ok srv_util 'v > 0' &&
   num_ok cli_util 'v > 0' && num_ok core_ns 'v >= 0'; then
  ok "bench --server-pid weftd --server-cpu 0: srv_cpu_ns=$(key srv_cpu_ns) srv_util=$(key srv_util) cli_util=$(key cli_util) core_ns=$(key core_ns)"
else
  fail "bench --server-pid, --server-cpu: exit $rc:"
  sed 's/^/  | /' "$tmp/out" "$tmp/err"
fi
weft bench --json -n 100 --server-pid "$pid" "$(addr line)" > "$tmp/out"
grep -q '"frames":100,.*"srv_cpu_ns":[0-9.-]*,"srv_util":[0-9.-]*,"cli_util":[0-9.-]*,"core_ns":-1.0}' "$tmp/out" &&
  ok "bench --json: the CPU keys too" || fail "bench --json CPU keys: $(cat "$tmp/out")"
weft bench -d 1s --server-pid 99999999 "$(addr line)" > /dev/null
expect 2 "--server-pid 99999999: cannot read /proc/99999999/stat: " "bench: a --server-pid not running"
weft bench -d 1s --server-cpu 99999 "$(addr line)" > /dev/null
expect 2 '--server-cpu 99999: no line "cpu99999"' "bench: a --server-cpu not there"
# --wait on a live port: exit 0 at once, silently.
weft bench --wait --timeout 20s "$(addr line)" > "$tmp/out"
if [ $rc -eq 0 ] && [ ! -s "$tmp/out" ] && [ ! -s "$tmp/err" ]; then
  ok "bench --wait on a live port: exit 0, nothing printed"
else
  fail "bench --wait on a live port: exit $rc:"; sed 's/^/  | /' "$tmp/out" "$tmp/err"
fi

# --- the man page: lint clean, and it documents every option --help shows
page=${top_srcdir:-$top_builddir}/man/weft.1
if command -v mandoc > /dev/null 2>&1; then
  out=$(mandoc -Tlint -W warning "$page" 2>&1)
  [ -z "$out" ] && ok "mandoc -Tlint: weft.1 is clean" ||
    fail "mandoc -Tlint -W warning weft.1: $out"
else
  fail "mandoc not found: install the Debian package mandoc"
fi
for cmd in send bench; do
  weft $cmd --help > "$tmp/help"
  [ $rc -eq 0 ] || fail "weft $cmd --help exited $rc"
  for o in $(grep -o -- '--[a-z][a-z-]*' "$tmp/help" | sort -u); do
    # mdoc writes --codec-opt as "Fl \-codec\-opt"; a space or the end of
    # the line must follow (--codec is not --codec-opt).
    LIT="Fl \\-$(echo "${o#--}" | sed 's/-/\\-/g') " &&
      LIT=$LIT awk 'index($0 " ", ENVIRON["LIT"]) { f = 1 } END { exit !f }' \
        "$page" ||
      fail "weft $cmd --help shows $o, which weft.1 does not document"
  done
done
ok "weft.1 documents every option of weft send --help and weft bench --help"

# --- what must fail, and how
weft --version > "$tmp/out"
[ $rc -eq 0 ] && grep -q "^weft .* (plugin ABI [0-9]*\.[0-9]*)$" "$tmp/out" &&
  ok "weft --version: $(cat "$tmp/out")" || fail "weft --version: exit $rc, $(cat "$tmp/out")"
weft frobnicate > /dev/null
expect 2 'unknown command "frobnicate"' "an unknown command"
weft send > /dev/null
expect 2 "where to? give HOST:PORT or unix:PATH" "send without an address"
weft bench -c 0 "$(addr line)" > /dev/null
expect 2 '-c "0": not a number from 1 to 100000' "bench -c 0"
weft send --timeout soon "$(addr line)" < /dev/null > /dev/null
expect 2 '--timeout "soon": not a positive duration' "send --timeout soon"
printf 'x\n' > "$tmp/in"
weft send --codec nope "$(addr line)" < "$tmp/in" > /dev/null
expect 2 'codec plugin "nope" not found (searched:' "send: an unknown codec"
weft bench --codec nope "$(addr line)" > /dev/null
expect 2 'codec plugin "nope" not found' "bench: an unknown codec"
printf 'x\n' > "$tmp/in"
weft send --codec-opt max_length=banana "$(addr line)" < "$tmp/in" > /dev/null
expect 2 '--codec-opt:1: codec "line": option "max_length" = "banana" is not a size' \
  "send: a --codec-opt value the codec refuses"
printf 'x\n' > "$tmp/in"
weft send --codec-opt max_length=8 --codec-opt colour=blue \
  "$(addr line)" < "$tmp/in" > /dev/null
expect 2 '--codec-opt:2: codec "line": unknown option "colour"' \
  "send: an option the codec does not know"
printf 'x\n' > "$tmp/in"
weft send --codec-opt max_length "$(addr line)" < "$tmp/in" > /dev/null
expect 2 '--codec-opt "max_length": not NAME=VALUE' "send: a --codec-opt without ="
weft bench --codec fixed "$(addr fixed)" > /dev/null
expect 2 'option "frame_size" is required' "bench: fixed without its frame_size"
weft bench --codec fixed --codec-opt frame_size=16 "$(addr fixed)" > /dev/null
expect 2 'the codec "fixed" refuses 64-byte frames' "bench: -s the codec cannot take"
printf 'short\n' > "$tmp/in"
weft send --codec fixed --codec-opt frame_size=16 \
  "$(addr fixed)" < "$tmp/in" > /dev/null
expect 1 'line 1: the codec "fixed" refused it as a frame (5 bytes)' \
  "send: a line the codec refuses"
weft send nowhere < /dev/null > /dev/null
expect 2 '"nowhere": expected HOST:PORT' "send: an address without a port"
weft send "unix:$tmp/none.sock" < /dev/null > /dev/null
expect 1 "connecting to unix:$tmp/none.sock: no such file or directory" \
  "send: a Unix socket that is not there"

# A server that never answers: every wait is bounded, and says which.
start=$(date +%s)
printf 'PUB t x\n' > "$tmp/in"
weft send --timeout 500ms "$(addr silent)" < "$tmp/in" > /dev/null
expect 1 "no reply within 500ms: 0 of 1 replies received" "send: a reply that never comes"
[ $(($(date +%s) - start)) -lt 15 ] || fail "send --timeout 500ms took $(($(date +%s) - start))s"
weft bench -d "$dur" --timeout 500ms --codec raw -c 2 "$(addr silent)" > "$tmp/out"
expect 1 "frame 1: no reply within 500ms (8 frames in flight)" "bench: replies that never come"
grep -q '^frames=0 errors=2 ' "$tmp/out" || fail "bench timeout summary: $(cat "$tmp/out")"
# A wrong reply: pubsub answers bench's frames with "ERR ...".
weft bench -d "$dur" -c 2 "$(addr silent)" > "$tmp/out"
expect 1 ', frame 1: the reply has' "bench: a reply that differs from the frame"
grep -q '^frames=0 errors=2 ' "$tmp/out" || fail "bench mismatch summary: $(cat "$tmp/out")"

# --- weftd stops cleanly; then its ports refuse connections
kill -TERM "$pid"; wait "$pid"; drc=$?; pid=
[ $drc -eq 0 ] && ok "weftd exits 0 on SIGTERM" || fail "weftd exited $drc"
if grep -E ' alert |AddressSanitizer|LeakSanitizer|runtime error:' "$tmp/d.log"; then
  fail "alert or sanitizer output in the weftd log"
fi
printf 'x\n' > "$tmp/in"
weft send "$(addr line)" < "$tmp/in" > /dev/null
expect 1 "connecting to $(addr line): connection refused" "send: connection refused"
weft bench -d "$dur" -c 2 "$(addr line)" > "$tmp/out"
expect 1 "connecting to $(addr line): connection refused" "bench: connection refused"
grep -q '^frames=0 errors=2 ' "$tmp/out" || fail "bench refused summary: $(cat "$tmp/out")"
# --wait on a dead port: exit 1 once the timeout is over, not much later.
start=$(date +%s)
weft bench --wait --timeout 500ms "$(addr line)" > "$tmp/out"
expect 1 "--wait: nothing answers at $(addr line) within 500ms: connection refused" \
  "bench --wait on a dead port"
[ $(($(date +%s) - start)) -lt 10 ] || fail "bench --wait --timeout 500ms took $(($(date +%s) - start))s"

exit $failed
