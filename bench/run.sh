#!/bin/sh
# bench/run.sh: weft's benchmark driver.  See bench/README.md.
#
# Runs weftd (workers = 1; the line and length codecs and the echo handler
# loaded as .so plugins by path, not the built-ins) and the hand-written
# libuv baselines side by side, server and client pinned to different CPUs,
# in interleaved rounds, and prints one table.  Run it from the top of a
# configured build tree (`sh bench/run.sh`), or as `make bench`.
set -u

usage() {
  cat <<'EOF'
usage: sh bench/run.sh [--quick] [options]
  --quick            ~1 minute: 1 round of 2 s, smaller callgrind runs
  --rounds N         interleaved rounds per scenario (5)
  --time SECS        measured seconds per load run (3)
  --warmup SECS      warm-up seconds before each measured run (1)
  --server-cpu N     CPU for the servers (1)
  --client-cpu N     CPU for the load generator (0)
  --port BASE        first of the 12 TCP ports used (62300, or $WEFT_BENCH_PORT)
  --idle-conns N     connections for the idle-memory test (10000)
  --no-callgrind     skip the instructions-per-frame runs
  --no-idle          skip the idle-connection test
  --no-load          skip the load runs (frames/s, latency, CPU)
  --builddir DIR     the configured build tree (default: the current directory)
  --no-build         do not run make (make bench has built everything)
  --out DIR          where logs, profiles and the table go
                     (default: BUILDDIR/bench/results/DATE)
EOF
}

srcdir=$(cd "$(dirname "$0")/.." && pwd)
builddir=$(pwd)
quick=0 rounds=5 secs=3 warm=1 scpu=1 ccpu=0
port=${WEFT_BENCH_PORT:-62300} idle_n=10000 do_cg=1 do_idle=1 build=1 out=
do_load=1
cg_small=20000 cg_large=100000
while [ $# -gt 0 ]; do
  case $1 in
  --quick) quick=1 ;;
  --rounds) rounds=$2; shift ;;
  --time) secs=$2; shift ;;
  --warmup) warm=$2; shift ;;
  --server-cpu) scpu=$2; shift ;;
  --client-cpu) ccpu=$2; shift ;;
  --port) port=$2; shift ;;
  --idle-conns) idle_n=$2; shift ;;
  --no-callgrind) do_cg=0 ;;
  --no-idle) do_idle=0 ;;
  --no-load) do_load=0 ;;
  --builddir) builddir=$2; shift ;;
  --no-build) build=0 ;;
  --out) out=$2; shift ;;
  -h|--help) usage; exit 0 ;;
  *) echo "run.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
if [ $quick = 1 ]; then
  rounds=1 secs=2 warm=0.5 cg_small=10000 cg_large=40000
fi
builddir=$(cd "$builddir" && pwd) || exit 2
[ -n "$out" ] || out=$builddir/bench/results/$(date +%Y%m%d-%H%M%S)
mkdir -p "$out" || exit 2
out=$(cd "$out" && pwd)

say() { printf '%s\n' "$*" >&2; }
die() { say "run.sh: $*"; cleanup; exit 1; }

# ---------------------------------------------------------------- build --
MAKE=${MAKE:-make}
if [ $build = 1 ]; then
  say "building weftd, weft, the plugins and the benchmark programs..."
  (cd "$builddir" && $MAKE weftd weft codecs/line.la codecs/length.la \
    plugins/echo.la bench/work.la bench/reply.la \
    bench/replies.la bench/idle bench/baseline_line \
    bench/baseline_length) >"$out/build.log" 2>&1 ||
    { say "run.sh: make failed, see $out/build.log"; exit 1; }
fi
WEFT=$builddir/weft
IDLE=$builddir/bench/idle
BASE_LINE=$builddir/bench/baseline_line
BASE_LENGTH=$builddir/bench/baseline_length
LIBTOOL=$builddir/libtool
WEFTD=$builddir/weftd
LINE_SO=$builddir/codecs/.libs/line.so
LENGTH_SO=$builddir/codecs/.libs/length.so
ECHO_SO=$builddir/plugins/.libs/echo.so
WORK_SO=$builddir/bench/.libs/work.so
REPLY_SO=$builddir/bench/.libs/reply.so
REPLIES_SO=$builddir/bench/.libs/replies.so
for f in "$WEFT" "$IDLE" "$BASE_LINE" "$BASE_LENGTH" "$WEFTD" "$LIBTOOL" \
  "$LINE_SO" "$LENGTH_SO" "$ECHO_SO" "$WORK_SO" "$REPLY_SO" \
  "$REPLIES_SO"; do
  [ -e "$f" ] || { say "run.sh: $f is missing: build first"; exit 1; }
done

# ------------------------------------------------------------- machine --
ncpu=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
if [ "$ncpu" -ge 2 ] && command -v taskset >/dev/null 2>&1; then
  PIN_S="taskset -c $scpu" PIN_C="taskset -c $ccpu" CORE="--server-cpu $scpu"
  pinning="server on CPU $scpu, client on CPU $ccpu"
else
  PIN_S= PIN_C= CORE= pinning="not pinned ($ncpu CPU)"
fi
# 10,000 idle connections need descriptors, in the servers and in idle.
ulimit -n "$(ulimit -Hn)" 2>/dev/null
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((idle_n + 64)) ]
then
  say "run.sh: ulimit -n is $(ulimit -n): the idle test needs $((idle_n + 64))"
  do_idle=0
fi

# Ports outside the ephemeral range: the idle test opens 10,000
# connections, and one of their local ports must not take a server's.
if read -r lo hi </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null &&
  [ $((port + 11)) -ge "$lo" ] && [ "$port" -le "$hi" ]; then
  say "run.sh: warning: ports $port-$((port + 11)) are in the ephemeral range $lo-$hi"
fi
# Ports: weftd w=1 line/length, the baselines, weftd w=2 line/length,
# an unpinned weftd w=1 line/length, the work listeners of the
# unpinned w=1 and of w=2, and weftd w=1's reply and replies listeners.
P_WL=$port P_WN=$((port + 1)) P_BL=$((port + 2)) P_BN=$((port + 3))
P_W2L=$((port + 4)) P_W2N=$((port + 5)) P_W1U=$((port + 6))
P_W1UN=$((port + 7)) P_K1=$((port + 8)) P_K2=$((port + 9))
P_WR=$((port + 10)) P_WRS=$((port + 11))
# The work handler's hash rounds per frame: about 1.7 us of server CPU for
# a 64-byte frame here, about four times what the client spends on it.
work_rounds=16

write_conf() { # FILE WORKERS LINE_PORT LENGTH_PORT WORK_PORT|- [REPLY_PORTS]
  _work=
  [ "$5" = - ] || _work=",
  { name = \"work\"; bind = \"127.0.0.1:$5\";
    codec = { plugin = \"$LINE_SO\"; };
    handler = { plugin = \"$WORK_SO\"; rounds = $work_rounds; }; }"
  [ -z "${6:-}" ] || _work="$_work,
  { name = \"reply\"; bind = \"127.0.0.1:$6\";
    codec = { plugin = \"$LINE_SO\"; };
    handler = { plugin = \"$REPLY_SO\"; }; },
  { name = \"replies\"; bind = \"127.0.0.1:$(($6 + 1))\";
    codec = { plugin = \"$LINE_SO\"; };
    handler = { plugin = \"$REPLIES_SO\"; }; }"
  cat >"$1" <<EOF
# weftd configuration of bench/run.sh
workers = $2;
log_level = "warn";
listeners = (
  { name = "line"; bind = "127.0.0.1:$3";
    codec = { plugin = "$LINE_SO"; };
    handler = { plugin = "$ECHO_SO"; }; },
  { name = "length"; bind = "127.0.0.1:$4";
    codec = { plugin = "$LENGTH_SO"; length_size = 4; };
    handler = { plugin = "$ECHO_SO"; }; }$_work
);
EOF
}
write_conf "$out/weft1.conf" 1 $P_WL $P_WN - $P_WR
write_conf "$out/weft2.conf" 2 $P_W2L $P_W2N $P_K2
write_conf "$out/weft1u.conf" 1 $P_W1U $P_W1UN $P_K1

# ------------------------------------------------------------- servers --
PIDS=
cleanup() {
  for p in $PIDS; do kill -TERM "$p" 2>/dev/null; done
  for p in $PIDS; do wait "$p" 2>/dev/null; done
  PIDS=
}
trap 'cleanup; exit 130' INT TERM

# start NAME PIN PORT CMD...: starts a server in the background, waits until
# PORT answers; sets SPID.
start() {
  _name=$1 _pin=$2 _port=$3
  shift 3
  case $1 in
  "$WEFTD") $LIBTOOL --mode=execute $_pin "$@" >>"$out/$_name.log" 2>&1 \
              </dev/null & ;;
  *) $_pin "$@" >>"$out/$_name.log" 2>&1 </dev/null & ;;
  esac
  SPID=$!
  PIDS="$PIDS $SPID"
  "$WEFT" bench --wait --timeout 60s "127.0.0.1:$_port" 2>>"$out/$_name.log" ||
    die "$_name did not start, see $out/$_name.log"
  # A server that failed to bind may leave another one answering.
  kill -0 "$SPID" 2>/dev/null || die "$_name exited, see $out/$_name.log"
}

stop() { # PID: graceful stop, wait for the exit status
  kill -TERM "$1" 2>/dev/null
  wait "$1"
  _rc=$?
  PIDS=$(echo "$PIDS" | tr ' ' '\n' | grep -v "^$1\$" | tr '\n' ' ')
  return $_rc
}

# ---------------------------------------------------------- load runs --
RES=$out/results.txt
: >"$RES"
fails=0

# The client's codec arguments for a framing: the baselines' length
# header is 4 bytes, big-endian.
codec_args() {
  case $1 in
  line) echo "--codec line" ;;
  length) echo "--codec length --codec-opt length_size=4" ;;
  esac
}

# load SCENARIO SERVER ROUND PID PORT PIN WEFT-BENCH-ARGS...
load() {
  _lsc=$1 _lsv=$2 _lr=$3 _lpid=$4 _lport=$5 _lpin=$6
  shift 6
  # The server's CPU busy time counts only when the server has it alone.
  _lcore=
  [ -z "$_lpin" ] || _lcore=$CORE
  _lres=$($_lpin "$WEFT" bench -q -d "$secs" -w "$warm" \
    --server-pid "$_lpid" $_lcore "$@" "127.0.0.1:$_lport" \
    2>>"$out/client.log")
  _lrc=$?
  # The table's keys: fps and mbps.
  _lres=$(printf '%s\n' "$_lres" |
    sed '/frames_per_s=/!d; s/frames_per_s=/fps=/; s/mb_per_s=/mbps=/')
  if [ $_lrc != 0 ] || [ -z "$_lres" ]; then
    echo "$_lsc / $_lsv / round $_lr: exit status $_lrc" >>"$out/client.log"
    say "  $_lsc / $_lsv: FAILED (see $out/client.log)"
    fails=$((fails + 1))
    return
  fi
  echo "$_lsc $_lsv $_lr $_lres" >>"$RES"
  say "  $_lsc / $_lsv / round $_lr: $(printf '%s' "$_lres" |
    sed 's/.*fps=\([0-9]*\).* p50_us=\([0-9.]*\).*srv_cpu_ns=\([0-9.-]*\).*/\1 frames\/s, p50 \2 us, server \3 ns\/frame/')"
}

say "servers: $pinning; $rounds round(s) of ${secs}s (+${warm}s warm-up)"
start weftd "$PIN_S" $P_WL "$WEFTD" -c "$out/weft1.conf"
W1=$SPID
start baseline_line "$PIN_S" $P_BL "$BASE_LINE" $P_BL
BL=$SPID
start baseline_length "$PIN_S" $P_BN "$BASE_LENGTH" $P_BN
BN=$SPID
start weftd-w2 "" $P_W2L "$WEFTD" -c "$out/weft2.conf"
W2=$SPID
start weftd-w1u "" $P_W1U "$WEFTD" -c "$out/weft1u.conf"
W1U=$SPID

# The scenarios: name, framing, size, connections, depth.
SCEN="line64:line:64:10:16 length64:length:64:10:16
line4k:line:4096:10:16 length4k:length:4096:10:16
lat-line:line:64:1:1 lat-length:length:64:1:1"

r=1
[ $do_load = 1 ] || r=$((rounds + 1))
while [ $r -le "$rounds" ]; do
  say "round $r"
  for s in $SCEN; do
    IFS=: read -r name mode size conns depth <<EOF
$s
EOF
    if [ $mode = line ]; then
      wp=$P_WL bp=$P_BL bpid=$BL
    else
      wp=$P_WN bp=$P_BN bpid=$BN
    fi
    # Interleaved: weftd first in odd rounds, the baseline first in even.
    if [ $((r % 2)) = 1 ]; then
      load $name weftd $r $W1 $wp "$PIN_C" $(codec_args $mode) -s $size -c $conns -p $depth
      load $name baseline $r $bpid $bp "$PIN_C" $(codec_args $mode) -s $size -c $conns -p $depth
    else
      load $name baseline $r $bpid $bp "$PIN_C" $(codec_args $mode) -s $size -c $conns -p $depth
      load $name weftd $r $W1 $wp "$PIN_C" $(codec_args $mode) -s $size -c $conns -p $depth
    fi
  done
  # workers = 1 against workers = 2: nothing pinned, the kernel places the
  # client and the workers on the two CPUs as it likes.  Echo, where the
  # client needs as much CPU as the server, then the work handler, where
  # the server needs four times as much.
  for w in 1 2; do
    [ $((r % 2)) = 1 ] || w=$((3 - w))
    if [ $w = 1 ]; then
      load workers weftd-w1 $r $W1U $P_W1U "" --codec line -s 64 -c 10 -p 16
      load work weftd-w1 $r $W1U $P_K1 "" --codec line -s 64 -c 10 -p 16
    else
      load workers weftd-w2 $r $W2 $P_W2L "" --codec line -s 64 -c 10 -p 16
      load work weftd-w2 $r $W2 $P_K2 "" --codec line -s 64 -c 10 -p 16
    fi
  done
  r=$((r + 1))
done
cleanup

# ---------------------------------------------------------- callgrind --
# Instructions per frame: each server runs under callgrind for a counted
# run of cg_small and of cg_large frames (64 B, 10 connections, depth 16);
# (Ir(large) - Ir(small)) / (large - small) leaves out start-up, plugin
# loading, connection set-up and shutdown.  Callgrind counts user-space
# instructions only.
VG="valgrind --tool=callgrind --dump-instr=no"
cg_total() { sed -n 's/^summary: *//p' "$1" | head -1; }

# cg NAME MODE PORT CMD...
cg() {
  _cname=$1 _cmode=$2 _cport=$3
  shift 3
  for _cn in $cg_small $cg_large; do
    _cf=$out/callgrind.$_cname.$_cn.out
    case $1 in
    "$WEFTD") $LIBTOOL --mode=execute $PIN_S $VG --callgrind-out-file="$_cf" \
                "$@" >>"$out/cg-$_cname.log" 2>&1 </dev/null & ;;
    *) $PIN_S $VG --callgrind-out-file="$_cf" "$@" \
         >>"$out/cg-$_cname.log" 2>&1 </dev/null & ;;
    esac
    _cpid=$!
    PIDS="$PIDS $_cpid"
    "$WEFT" bench --wait --timeout 120s "127.0.0.1:$_cport" \
      2>>"$out/cg-$_cname.log" ||
      die "$_cname did not start under valgrind, see $out/cg-$_cname.log"
    $PIN_C "$WEFT" bench -q $(codec_args $_cmode) -s 64 -c 10 -p 16 -n "$_cn" \
      --timeout 120s "127.0.0.1:$_cport" \
      >>"$out/cg-$_cname.log" 2>&1 || { say "  callgrind $_cname: load failed"; fails=$((fails + 1)); }
    stop $_cpid || say "  callgrind $_cname: exit status $_rc"
  done
  _cs=$(cg_total "$out/callgrind.$_cname.$cg_small.out")
  _cl=$(cg_total "$out/callgrind.$_cname.$cg_large.out")
  if [ -z "$_cs" ] || [ -z "$_cl" ]; then
    say "  callgrind $_cname: no profile"
    fails=$((fails + 1))
    return
  fi
  _cipf=$(awk -v s="$_cs" -v l="$_cl" -v a=$cg_small -v b=$cg_large \
    'BEGIN { printf "%.1f", (l - s) / (b - a) }')
  say "  callgrind $_cname: $_cipf instructions/frame"
  echo "$_cname ipf=$_cipf" >>"$out/callgrind.txt"
  sh "$srcdir/bench/cgfuncs.sh" "$out/callgrind.$_cname.$cg_small.out" \
    "$out/callgrind.$_cname.$cg_large.out" $((cg_large - cg_small)) 40 \
    >"$out/profile.$_cname.txt" 2>&1
}

: >"$out/callgrind.txt"
if [ $do_cg = 1 ]; then
  if command -v valgrind >/dev/null 2>&1; then
    say "callgrind: $cg_small and $cg_large frames per server"
    cg weftd-line line $P_WL "$WEFTD" -c "$out/weft1.conf"
    cg baseline-line line $P_BL "$BASE_LINE" $P_BL
    cg weftd-length length $P_WN "$WEFTD" -c "$out/weft1.conf"
    cg baseline-length length $P_BN "$BASE_LENGTH" $P_BN
    cg weftd-reply line $P_WR "$WEFTD" -c "$out/weft1.conf"
    cg weftd-replies line $P_WRS "$WEFTD" -c "$out/weft1.conf"
  else
    say "callgrind: valgrind not installed, skipped"
  fi
fi

# --------------------------------------------------------------- idle --
: >"$out/idle.txt"
# idle NAME MODE PORT CMD...: a fresh server, idle_n connections.
idle() {
  _iname=$1 _imode=$2 _iport=$3
  shift 3
  start "idle-$_iname" "$PIN_S" $_iport "$@"
  _ires=$($PIN_C "$IDLE" -p $_iport -m $_imode -n $idle_n --pid $SPID \
    2>>"$out/idle.log")
  printf '%s\n' "$_ires" >>"$out/idle.log"
  _ires=$(printf '%s\n' "$_ires" | sed -n 's/^RESULT .*bytes_per_conn=//p')
  stop $SPID
  if [ -z "$_ires" ]; then
    say "  idle $_iname: FAILED (see $out/idle.log)"
    fails=$((fails + 1))
    return
  fi
  say "  idle $_iname: $_ires bytes per connection"
  echo "$_iname rss=$_ires" >>"$out/idle.txt"
}
if [ $do_idle = 1 ]; then
  say "idle: $idle_n connections per server"
  idle weftd line $P_WL "$WEFTD" -c "$out/weft1.conf"
  idle baseline-line line $P_BL "$BASE_LINE" $P_BL
  idle baseline-length length $P_BN "$BASE_LENGTH" $P_BN
fi

# -------------------------------------------------------------- table --
{
  echo "weft benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), $ncpu CPUs ($(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)), $pinning"
  echo "load: $rounds interleaved round(s) of ${secs} s after ${warm} s of warm-up, median shown; frames verified byte for byte"
  awk -v cg="$out/callgrind.txt" -v idle="$out/idle.txt" -v idle_n=$idle_n \
    -v cgn="$cg_small/$cg_large" '
    function median(x, n,   i, j, v) {
      if (n == 0) return ""
      for (i = 2; i <= n; i++) { v = x[i]; j = i - 1
        while (j > 0 && x[j] > v) { x[j + 1] = x[j]; j-- } x[j + 1] = v }
      return n % 2 ? x[(n + 1) / 2] : (x[n / 2] + x[n / 2 + 1]) / 2
    }
    # A figure of one server in one scenario, the median over the rounds.
    function med(sc, sv, key,   r, n, x) {
      n = 0
      for (r = 1; r <= nr; r++)
        if ((sc, sv, r, key) in byround) x[++n] = byround[sc, sv, r, key]
      return median(x, n)
    }
    function num(x, fmt) { return x == "" || x < 0 ? "-" : sprintf(fmt, x) }
    FILENAME == cg { split($2, kv, "="); ipf[$1] = kv[2]; next }
    FILENAME == idle { split($2, kv, "="); rss[$1] = kv[2]; next }
    { for (i = 4; i <= NF; i++) { split($i, kv, "=")
        byround[$1, $2, $3, kv[1]] = kv[2] }
      if ($3 + 0 > nr) nr = $3 + 0 }
    function row(label, sc, sv, ipfkey,   fps) {
      fps = med(sc, sv, "fps")
      printf "%-28s %-10s %9s %7s %7s %8s %7s %7s %7s %7s\n", label, sv,
        num(fps, "%.0f"), num(med(sc, sv, "mbps"), "%.1f"),
        num(med(sc, sv, "p50_us"), "%.1f"), num(med(sc, sv, "p99_us"), "%.1f"),
        num(med(sc, sv, "srv_cpu_ns"), "%.0f"), num(med(sc, sv, "core_ns"), "%.0f"),
        num(ipfkey in ipf ? ipf[ipfkey] : "", "%.1f"), "-"
    }
    function ratio(a, b) { return (a == "" || b == "" || b == 0) ? "" : a / b }
    # The median of the per-round ratios: each round runs the two back to
    # back, so the VM changing speed between rounds counts against neither.
    function pratio(sc, a, b, key,   r, n, x) {
      n = 0
      for (r = 1; r <= nr; r++)
        if ((sc, a, r, key) in byround && (sc, b, r, key) in byround &&
            byround[sc, b, r, key] > 0)
          x[++n] = byround[sc, a, r, key] / byround[sc, b, r, key]
      return median(x, n)
    }
    function verdict(x, lim, le) {
      if (x == "") return "n/a"
      return (le ? x <= lim : x >= lim) ? "met" : "MISSED"
    }
    END {
      printf "%-28s %-10s %9s %7s %7s %8s %7s %7s %7s %7s\n", "scenario", "server",
        "frames/s", "MB/s", "p50 us", "p99 us", "proc ns", "core ns", "instr", "RSS B"
      row("line 64 B, 10 x 16", "line64", "weftd", "weftd-line")
      row("line 64 B, 10 x 16", "line64", "baseline", "baseline-line")
      row("length 64 B, 10 x 16", "length64", "weftd", "weftd-length")
      row("length 64 B, 10 x 16", "length64", "baseline", "baseline-length")
      row("line 64 B, own replies 1 x 1", "-", "weftd", "weftd-reply")
      row("line 64 B, own replies batch", "-", "weftd", "weftd-replies")
      row("line 4 KiB, 10 x 16", "line4k", "weftd", "")
      row("line 4 KiB, 10 x 16", "line4k", "baseline", "")
      row("length 4 KiB, 10 x 16", "length4k", "weftd", "")
      row("length 4 KiB, 10 x 16", "length4k", "baseline", "")
      row("line 64 B, 1 x 1 (latency)", "lat-line", "weftd", "")
      row("line 64 B, 1 x 1 (latency)", "lat-line", "baseline", "")
      row("length 64 B, 1 x 1 (latency)", "lat-length", "weftd", "")
      row("length 64 B, 1 x 1 (latency)", "lat-length", "baseline", "")
      row("line 64 B, 10 x 16, unpinned", "workers", "weftd-w1", "")
      row("line 64 B, 10 x 16, unpinned", "workers", "weftd-w2", "")
      row("work 64 B, 10 x 16, unpinned", "work", "weftd-w1", "")
      row("work 64 B, 10 x 16, unpinned", "work", "weftd-w2", "")
      split("weftd baseline-line baseline-length", names, " ")
      for (i = 1; i <= 3; i++)
        if (names[i] in rss)
          printf "%-28s %-10s %9s %7s %7s %8s %7s %7s %7s %7.0f\n",
            idle_n " idle conns, " (names[i] == "baseline-length" ? "length" : "line"),
            names[i] == "weftd" ? "weftd" : "baseline", "-", "-", "-", "-", "-",
            "-", "-", rss[names[i]]
      print ""
      print "targets (issue 7):"
      x = ratio(ipf["weftd-line"], ipf["baseline-line"])
      printf "  1. instructions/frame, line:    weftd/baseline = %s (<= 1.30): %s\n", num(x, "%.2f"), verdict(x, 1.3, 1)
      x = ratio(ipf["weftd-length"], ipf["baseline-length"])
      printf "     instructions/frame, length:  weftd/baseline = %s (<= 1.30): %s\n", num(x, "%.2f"), verdict(x, 1.3, 1)
      x = ratio(ipf["weftd-reply"], ipf["baseline-line"])
      y = ratio(ipf["weftd-replies"], ipf["baseline-line"])
      printf "     own replies, line: weftd/baseline = %s one at a time, %s in batches (not targets: bench/README.md)\n", num(x, "%.2f"), num(y, "%.2f")
      x = pratio("line4k", "weftd", "baseline", "fps")
      printf "  2. 4 KiB frames/s, line:        weftd/baseline = %s (>= 0.95): %s\n", num(x, "%.3f"), verdict(x, 0.95, 0)
      x = pratio("length4k", "weftd", "baseline", "fps")
      printf "     4 KiB frames/s, length:      weftd/baseline = %s (>= 0.95): %s\n", num(x, "%.3f"), verdict(x, 0.95, 0)
      x = ("weftd" in rss) ? rss["weftd"] : ""
      printf "  3. RSS per idle connection:     %s B (<= 512): %s\n", num(x, "%.0f"), verdict(x, 512, 1)
      x = pratio("lat-line", "weftd", "baseline", "p50_us")
      printf "  4. pipeline-1 p50, line:        weftd/baseline = %s (<= 1.05): %s\n", num(x, "%.3f"), verdict(x, 1.05, 1)
      x = pratio("lat-length", "weftd", "baseline", "p50_us")
      printf "     pipeline-1 p50, length:      weftd/baseline = %s (<= 1.05): %s\n", num(x, "%.3f"), verdict(x, 1.05, 1)
      x = pratio("work", "weftd-w2", "weftd-w1", "fps")
      printf "  5. workers=2 / workers=1, work: frames/s ratio = %s (>= 0.97): %s\n", num(x, "%.3f"), verdict(x, 0.97, 0)
      x = pratio("work", "weftd-w2", "weftd-w1", "srv_cpu_ns")
      printf "     the same, server CPU/frame:  ratio = %s (1.00: nothing shared costs)\n", num(x, "%.3f")
      x = pratio("workers", "weftd-w2", "weftd-w1", "fps")
      printf "     workers=2 / workers=1, echo: frames/s ratio = %s (client-bound: see bench/README.md)\n", num(x, "%.3f")
      print ""
      print "proc ns: the server process'"'"'s CPU time (utime + stime, all threads) per frame"
      print "core ns: the server CPU'"'"'s busy time per frame, softirq included (pinned runs only)"
      printf "instr: instructions per frame, callgrind, user space: Ir difference of %s-frame runs / frame difference\n", cgn
      print "RSS B: server VmRSS growth per idle connection (each pinged once)"
      print "ratios of load figures: the median of the per-round ratios (same round, back to back)"
    }' "$out/callgrind.txt" "$out/idle.txt" "$RES"
} >"$out/table.txt"
cat "$out/table.txt"
say "logs, profiles and this table: $out"
[ $fails = 0 ] || { say "run.sh: $fails run(s) failed"; exit 1; }
exit 0
