#!/bin/sh
# Live reload (SIGHUP) while 50 connections stream: a listener added, one
# changed, one removed, a plugin file replaced on disk; then a broken
# configuration that must change nothing.
set -u
WEFTD=${WEFTD:?} WCLIENT=${WCLIENT:?}
top_builddir=${top_builddir:?}
scale=${WEFT_TEST_SCALE:-1}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/weft-reload.XXXXXX")
pid=
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
. "${top_srcdir:?}/tests/lib.sh"

port_of() { # LOG NAME [NTH]: the port of the NTH announcement of NAME
  i=0
  while [ $i -lt 150 ]; do
    line=$(grep -F "listener \"$2\" listening on" "$1" | sed -n "${3:-1}p")
    if [ -n "$line" ]; then
      echo "$line" | sed 's/.* listening on .*:\([0-9]*\) (.*/\1/'; return 0
    fi
    i=$((i + 1)); sleep 0.1
  done
  echo "no announcement ${3:-1} of $2" >&2; cat "$1" >&2; return 1
}

# Valgrind is slow: give streams more time, never fewer checks.
lines=30 gap=0.1
case $scale in 1|1.0) ;; *) gap=0.3 ;; esac

# A codec file that will be replaced on disk by another codec.
mkdir -p "$tmp/plug" && chmod 700 "$tmp/plug"
# (tcodec: every byte is a frame; after the swap, 4-byte length framing)
cp "$top_builddir/tests/plugins/.libs/tcodec.so" "$tmp/plug/swap.so"
chmod 755 "$tmp/plug/swap.so"

write_conf() { # $1: "before" or "after"
  {
    echo 'workers = 2; shutdown_grace = "5s";'
    echo 'listeners = ('
    echo ' { name = "stream"; bind = "127.0.0.1:0"; codec = { name = "line"; }; handler = { name = "echo"; }; },'
    if [ "$1" = before ]; then
      echo ' { name = "changing"; bind = "127.0.0.1:0"; codec = { name = "line"; max_length = 64; }; handler = { name = "echo"; }; },'
      echo ' { name = "removed"; bind = "127.0.0.1:0"; codec = { name = "line"; }; handler = { name = "echo"; }; },'
    else
      echo ' { name = "changing"; bind = "127.0.0.1:0"; codec = { name = "line"; max_length = 8; }; handler = { name = "echo"; }; },'
      echo ' { name = "added"; bind = "127.0.0.1:0"; codec = { name = "line"; strip_cr = false; }; handler = { name = "echo"; }; },'
    fi
    echo " { name = \"swap\"; bind = \"127.0.0.1:0\"; codec = { plugin = \"$tmp/plug/swap.so\"; }; handler = { name = \"echo\"; }; },"
    echo ' { name = "stats"; bind = "127.0.0.1:0"; codec = { name = "line"; }; handler = { name = "stats"; }; }'
    echo ');'
  } > "$tmp/weft.conf"
}

write_conf before
$WEFTD -c "$tmp/weft.conf" 2> "$tmp/d.log" &
pid=$!
sp=$(port_of "$tmp/d.log" stream) || exit 1
cp_before=$(port_of "$tmp/d.log" changing) || exit 1
rp=$(port_of "$tmp/d.log" removed) || exit 1
swp=$(port_of "$tmp/d.log" swap) || exit 1

# 50 connections streaming a line every $gap seconds across the reload.
i=0
while [ $i -lt 50 ]; do
  (n=1; while [ $n -le $lines ]; do echo "conn$i line $n"; n=$((n + 1)); sleep $gap; done) |
    $WCLIENT -t 60 127.0.0.1 "$sp" > "$tmp/stream.$i" 2> "$tmp/stream.$i.err" &
  i=$((i + 1))
done
# A connection on the listener that changes, opened before the change: it
# keeps its codec options (64 bytes) after the reload.
(echo "short"; sleep 2; echo "a line of twenty-four b"; ) |
  $WCLIENT -t 60 127.0.0.1 "$cp_before" > "$tmp/old_changing" &
oldc=$!
# Likewise on the plugin that is replaced: it keeps the old code.
(echo "before swap"; sleep 2; echo "still line framed") |
  $WCLIENT -t 60 127.0.0.1 "$swp" > "$tmp/old_swap" &
olds=$!
sleep 1

# The reload: one added, one changed, one removed, one plugin file replaced.
cp "$top_builddir/codecs/.libs/length.so" "$tmp/plug/swap.so.new"
chmod 755 "$tmp/plug/swap.so.new"
mv "$tmp/plug/swap.so.new" "$tmp/plug/swap.so"
write_conf after
kill -HUP "$pid"
ap=$(port_of "$tmp/d.log" added) || exit 1
cp_after=$(port_of "$tmp/d.log" changing 2) || exit 1
grep -q "reload: .*: 2 listeners kept, 3 new or changed, 3 retired" "$tmp/d.log" &&
  ok "reload kept 2, replaced or added 3, retired 3" ||
  fail "unexpected reload summary: $(grep 'reload:' "$tmp/d.log")"

# The added listener serves (and keeps the \r: strip_cr = false).
printf 'abc\r\n' | $WCLIENT 127.0.0.1 "$ap" > "$tmp/out" &&
  printf 'abc\r\n' | cmp -s - "$tmp/out" && ok "added listener serves" ||
  fail "added listener did not echo"
# The removed one no longer accepts.
if printf 'x\n' | $WCLIENT -t 3 127.0.0.1 "$rp" > "$tmp/out" 2>&1; then
  fail "removed listener still accepts"
else
  ok "removed listener refuses connections"
fi
# The changed one applies its new options to new connections: 8 bytes max.
printf 'tiny\na line far too long\n' | $WCLIENT 127.0.0.1 "$cp_after" > "$tmp/out"
[ "$(cat "$tmp/out")" = "tiny" ] && ok "changed listener uses the new max_length" ||
  fail "changed listener answered: $(cat "$tmp/out")"
# The replaced plugin: new connections get the new code (length framing).
printf '\000\000\000\002hi' | $WCLIENT 127.0.0.1 "$(port_of "$tmp/d.log" swap 2)" > "$tmp/out" &&
  printf '\000\000\000\002hi' | cmp -s - "$tmp/out" &&
  ok "replaced plugin file is loaded anew" || fail "replaced plugin not reloaded"

wait $oldc $olds
printf 'short\na line of twenty-four b\n' | cmp -s - "$tmp/old_changing" &&
  ok "open connection keeps its old codec options" ||
  fail "old connection on the changed listener got: $(cat "$tmp/old_changing")"
printf 'before swap\nstill line framed\n' | cmp -s - "$tmp/old_swap" &&
  ok "open connection keeps the old plugin code (byte frames)" ||
  fail "old connection on the replaced plugin got: $(cat "$tmp/old_swap")"

# Every streaming connection got every line, in order, through the reload.
wait_all=0
i=0
while [ $i -lt 50 ]; do
  n=0
  while [ $n -lt 600 ] && [ "$(wc -l < "$tmp/stream.$i")" -lt $lines ]; do
    sleep 0.1; n=$((n + 1))
  done
  n=1; : > "$tmp/expect"
  while [ $n -le $lines ]; do echo "conn$i line $n" >> "$tmp/expect"; n=$((n + 1)); done
  cmp -s "$tmp/expect" "$tmp/stream.$i" || { wait_all=1; echo "stream $i differs:"; head -3 "$tmp/stream.$i"; cat "$tmp/stream.$i.err"; }
  i=$((i + 1))
done
[ $wait_all -eq 0 ] && ok "50 streaming connections unbroken by the reload" ||
  fail "a streaming connection broke"

# A broken configuration on SIGHUP changes nothing.
cp "$tmp/weft.conf" "$tmp/good.conf"
echo 'listeners = ( { name = "x"; bind = "nowhere"; } );' > "$tmp/weft.conf"
kill -HUP "$pid"; sleep 0.5
grep -q "reload: .* problems\? in the configuration: nothing changed" "$tmp/d.log" &&
  ok "broken config refused on reload" || fail "broken config not reported"
printf 'still\n' | $WCLIENT 127.0.0.1 "$sp" > "$tmp/out" && [ "$(cat "$tmp/out")" = still ] &&
  ok "old configuration keeps serving" || fail "service changed after a broken reload"

# Retired listeners are released once drained (checked every second).
sleep 2.5
grep -q 'listener "removed" (retired) released' "$tmp/d.log" &&
  ok "retired listener released" || fail "retired listener never released"

kill -TERM "$pid"; wait "$pid"; rc=$?; pid=
[ $rc -eq 0 ] && ok "exit 0" || fail "weftd exited $rc"
if grep -E ' alert |AddressSanitizer|LeakSanitizer|runtime error:' "$tmp/d.log"; then
  fail "alert or sanitizer output in the log"
fi
[ $failed -eq 0 ] && echo "reload: all checks passed" || cat "$tmp/d.log"
exit $failed
