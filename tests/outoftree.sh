#!/bin/sh
# The out-of-tree plugin promise, end to end: `make install DESTDIR=...`,
# then the examples/ codec and handler built from a copy of the source
# tree's examples with nothing but `pkg-config --cflags weft` pointed at
# that staging root, loaded by path into the installed weftd, and working.
# The handler's own unit test (examples/test_upper.c, `make check` there)
# is built against the installed libweft and run: the handler on an
# in-memory connection (weft_embed), with no socket opened.
#
# Also: `weftd --check` accepts that config, and refuses one naming a
# missing plugin file with the path in its message (as does a real start);
# the daemon stops on SIGTERM with status 0 and logs no alert and no
# sanitizer report.  Never skips (no exit 77): a missing piece is a failure.
#
# Environment (set by AM_TESTS_ENVIRONMENT): top_builddir, top_srcdir,
# MAKE, CC, WCLIENT, PKG_CONFIG, SAN_FLAGS.  Works in `make distcheck`, where the
# source tree is read-only and apart from the build tree.
set -eu

# Plugin files and their directory must not be group/world-writable, or
# the loader refuses them; do not inherit a umask of 002.
umask 022

: "${top_builddir:?top_builddir is not set: run through make check}"
: "${top_srcdir:?top_srcdir is not set: run through make check}"
MAKE=${MAKE:-make}
CC=${CC:-cc}
PKG_CONFIG=${PKG_CONFIG:-pkg-config}
WCLIENT=${WCLIENT:-$top_builddir/tests/wclient}
TIMEOUT=30 # seconds for any one step that waits on weftd

fail() {
  echo "outoftree: FAIL: $*" >&2
  exit 1
}

pid=
watchdog=
tmp=$(mktemp -d "${TMPDIR:-/tmp}/weft-oot-XXXXXX") || fail "mktemp -d"
cleanup() {
  [ -z "$watchdog" ] || kill "$watchdog" 2>/dev/null || true
  [ -z "$pid" ] || kill -9 "$pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

dump() { # file: show it in the test log
  echo "---- $1" >&2
  cat "$1" >&2 || true
  echo "---- end of $1" >&2
}

command -v "$PKG_CONFIG" >/dev/null || fail "pkg-config ($PKG_CONFIG) not found"
# cmocka is the system's, found before pkg-config is pointed at the stage.
cmocka_cflags=$("$PKG_CONFIG" --cflags cmocka 2>/dev/null) || cmocka_cflags=
cmocka_libs=$("$PKG_CONFIG" --libs cmocka 2>/dev/null) || cmocka_libs=-lcmocka
SAN_FLAGS=${SAN_FLAGS:-}
[ -x "$WCLIENT" ] || fail "$WCLIENT not built"

# ---- install into a staging root ----------------------------------------
root=$tmp/root
echo "== $MAKE -C $top_builddir install DESTDIR=$root"
# shellcheck disable=SC2086 # MAKE may carry arguments
if ! $MAKE -C "$top_builddir" install DESTDIR="$root" >"$tmp/install.log" 2>&1; then
  tail -n 60 "$tmp/install.log" >&2
  fail "make install DESTDIR=$root failed"
fi
pc=$(find "$root" -name weft.pc -type f)
[ -n "$pc" ] || fail "no weft.pc installed under $root"
[ "$(printf '%s\n' "$pc" | wc -l)" -eq 1 ] || fail "several weft.pc: $pc"
pcdir=$(dirname "$pc")
libdir=$(dirname "$pcdir")
weftd=$(find "$root" -path '*/bin/weftd' -type f)
[ -n "$weftd" ] || fail "no installed bin/weftd under $root"
[ -x "$weftd" ] || fail "$weftd is not executable"
ls "$libdir"/libweft.so* >/dev/null 2>&1 || fail "no libweft.so in $libdir"

# Only the staged weft.pc, never one installed on this machine; the sysroot
# makes its -I point into the staging root.
PKG_CONFIG_PATH=$pcdir
PKG_CONFIG_LIBDIR=$pcdir
PKG_CONFIG_SYSROOT_DIR=$root
export PKG_CONFIG_PATH PKG_CONFIG_LIBDIR PKG_CONFIG_SYSROOT_DIR
cflags=$("$PKG_CONFIG" --cflags weft) || fail "pkg-config --cflags weft failed"
echo "== pkg-config --cflags weft: $cflags"
case " $cflags " in
*" -I$root/"*) ;;
*) fail "pkg-config --cflags weft gives \"$cflags\", not an -I into $root" ;;
esac

# ---- build the examples from a copy of the source tree's ---------------
# distcheck's source tree is read-only, and a stale build there must not be
# what gets tested: copy the sources, writable, without any .so.
cp -R "$top_srcdir/examples" "$tmp/examples"
chmod -R u+w,go-w "$tmp/examples"
rm -f "$tmp/examples"/*.so "$tmp/examples/test_upper"
echo "== make -C $tmp/examples"
# A fresh make: flags of the `make check` that runs us (a CFLAGS=... given
# on its command line, say) must not leak into the plugin build.
# shellcheck disable=SC2086
if ! (unset MAKEFLAGS MFLAGS MAKELEVEL
      $MAKE -C "$tmp/examples" CC="$CC" \
        CFLAGS="-O2 -g -Wall -Wextra -Werror") >"$tmp/build.log" 2>&1; then
  dump "$tmp/build.log"
  fail "the examples do not build against the installed headers"
fi
cat "$tmp/build.log"
for so in crlf.so upper.so; do
  [ -f "$tmp/examples/$so" ] || fail "make built no $so"
  chmod 0755 "$tmp/examples/$so"
done

# ---- the installed weftd, and only the installed libweft ---------------
LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export LD_LIBRARY_PATH
if command -v ldd >/dev/null 2>&1; then
  ldd "$weftd" | grep -F "libweft.so" | grep -qF "$libdir/" ||
    fail "the installed weftd does not load libweft from $libdir: $(ldd "$weftd" | grep libweft)"
fi

# ---- the example handler's unit test, against the installed libweft ----
echo "== make -C $tmp/examples check"
# shellcheck disable=SC2086
if ! (unset MAKEFLAGS MFLAGS MAKELEVEL
      $MAKE -C "$tmp/examples" check CC="$CC" \
        CFLAGS="-O2 -g -Wall -Wextra -Werror $SAN_FLAGS" LDFLAGS="$SAN_FLAGS" \
        CMOCKA_CFLAGS="$cmocka_cflags" CMOCKA_LIBS="$cmocka_libs") \
    >"$tmp/examples-check.log" 2>&1; then
  dump "$tmp/examples-check.log"
  fail "the example handler's unit test (make check in examples/) failed"
fi
cat "$tmp/examples-check.log"
grep -q "PASSED" "$tmp/examples-check.log" && ! grep -q "FAILED" "$tmp/examples-check.log" ||
  fail "examples/test_upper did not report its tests passed"
if command -v ldd >/dev/null 2>&1; then
  ldd "$tmp/examples/test_upper" | grep -F "libweft.so" | grep -qF "$libdir/" ||
    fail "examples/test_upper does not load libweft from $libdir: $(ldd "$tmp/examples/test_upper" | grep libweft)"
fi

conf=$tmp/weft.conf
cat >"$conf" <<EOF
# written by tests/outoftree.sh
workers = 2;
listeners = (
  { name = "upper"; bind = "127.0.0.1:0";
    codec = { plugin = "$tmp/examples/crlf.so"; max_length = "16"; };
    handler = { plugin = "$tmp/examples/upper.so"; }; }
);
EOF

echo "== weftd --check -c $conf"
rc=0
timeout "$TIMEOUT" "$weftd" --check -c "$conf" >"$tmp/check.out" 2>&1 || rc=$?
[ "$rc" -eq 0 ] || { dump "$tmp/check.out"; fail "weftd --check exited $rc, expected 0"; }
grep -q "configuration OK" "$tmp/check.out" ||
  { dump "$tmp/check.out"; fail "weftd --check did not say the configuration is OK"; }

missing=$tmp/examples/nosuch.so
sed "s|$tmp/examples/crlf.so|$missing|" "$conf" >"$tmp/missing.conf"
for mode in --check start; do
  echo "== weftd $mode with a missing plugin file"
  rc=0
  if [ "$mode" = --check ]; then
    timeout "$TIMEOUT" "$weftd" --check -c "$tmp/missing.conf" >"$tmp/missing.out" 2>&1 || rc=$?
  else
    timeout "$TIMEOUT" "$weftd" -c "$tmp/missing.conf" >"$tmp/missing.out" 2>&1 || rc=$?
  fi
  [ "$rc" -eq 1 ] || { dump "$tmp/missing.out"; fail "weftd $mode with a missing plugin exited $rc, expected 1"; }
  grep -qF "$missing" "$tmp/missing.out" ||
    { dump "$tmp/missing.out"; fail "weftd $mode did not name $missing"; }
done

# ---- traffic -----------------------------------------------------------
echo "== weftd -c $conf"
log=$tmp/weftd.log
: >"$log" # before the daemon starts, so the port loop can always read it
"$weftd" -c "$conf" 2>>"$log" &
pid=$!
port=
n=0
while [ -z "$port" ]; do
  port=$(sed -n 's/.*listener "upper" listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$log" || true)
  [ -n "$port" ] && break
  kill -0 "$pid" 2>/dev/null || { dump "$log"; pid=; fail "weftd exited during start-up"; }
  n=$((n + 1))
  [ "$n" -le $((TIMEOUT * 10)) ] || { dump "$log"; fail "weftd announced no port within $TIMEOUT s"; }
  sleep 0.1
done
echo "== listening on port $port"

# exchange NAME INPUT EXPECTED: send INPUT (printf format), half-close,
# and require exactly EXPECTED (printf format) before the daemon's EOF.
exchange() {
  # shellcheck disable=SC2059
  printf "$2" >"$tmp/in"
  # shellcheck disable=SC2059
  printf "$3" >"$tmp/expect"
  rc=0
  "$WCLIENT" -t "$TIMEOUT" 127.0.0.1 "$port" <"$tmp/in" >"$tmp/got" 2>"$tmp/err" || rc=$?
  if [ "$rc" -ne 0 ] || ! cmp -s "$tmp/got" "$tmp/expect"; then
    cat "$tmp/err" >&2
    echo "expected:" >&2; od -c "$tmp/expect" >&2
    echo "got:" >&2; od -c "$tmp/got" >&2
    dump "$log"
    fail "$1 (wclient exit $rc)"
  fi
  echo "ok: $1"
}

exchange "two frames upper-cased" 'hello\r\nworld\r\n' 'HELLO\r\nWORLD\r\n'
exchange "empty frame, and a bare CR is data" '\r\na\rb\r\n' '\r\nA\rB\r\n'
exchange "exactly max_length passes" '0123456789abcdef\r\n' '0123456789ABCDEF\r\n'
exchange "max_length + 1 closes after the earlier reply" \
  'ok\r\n0123456789abcdefg\r\n' 'OK\r\n'
exchange "a bare LF closes after the earlier reply" 'ok\r\nbad\nmore\r\n' 'OK\r\n'
exchange "a partial frame at EOF gets the earlier reply" 'ok\r\npart' 'OK\r\n'

# ---- graceful stop -----------------------------------------------------
echo "== SIGTERM"
kill -TERM "$pid"
# A watchdog that leaves no stray sleep behind when it is called off.
(
  trap 'kill "$nap" 2>/dev/null; exit 0' TERM
  sleep "$TIMEOUT" &
  nap=$!
  wait "$nap"
  kill -9 "$pid" 2>/dev/null
) &
watchdog=$!
rc=0
wait "$pid" || rc=$?
pid=
kill "$watchdog" 2>/dev/null || true
watchdog=
[ "$rc" -eq 0 ] || { dump "$log"; fail "weftd exited with status $rc after SIGTERM, expected 0 (137: killed after $TIMEOUT s)"; }
if grep -E ' alert |ERROR: AddressSanitizer|runtime error:|LeakSanitizer' "$log" >&2; then
  dump "$log"
  fail "alert or sanitizer output in the weftd log"
fi
echo "outoftree: PASS"
