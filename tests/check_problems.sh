#!/bin/sh
# weftd --check as a plugin author meets it: one run lists every problem
# of a configuration, those of the file and those of its plugins, each as
# FILE:LINE: with what to do, then the count, and exits 1; a good file
# passes; --list-plugins shows name, kind, ABI and file of every plugin.
# Every check that fails says what it expected.
set -u
WEFTD=${WEFTD:?} top_builddir=${top_builddir:?}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/weft-check.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
. "${top_srcdir:?}/tests/lib.sh"

# Error lines of a weftd log, without the timestamp and level.
errors_of() { sed -n 's/^[^ ]* error //p' "$1"; }

# --- eight problems of five kinds, each on a known line
cfg=$tmp/bad.conf
cat > "$cfg" <<'CONF'
# one run must name every problem below
workers = 1;
colour = "blue";
listeners = (
  { name = "a"; bind = "127.0.0.1:0";
    codec = { name = "line"; max_length = -5; };
    handler = { name = "echo"; };
    backlog = -3; },
  { name = "b"; bind = "127.0.0.1:7199";
    codec = { name = "nosuch"; };
    handler = { name = "echo"; };
    low_watermark = "64k"; high_watermark = "32k"; },
  { name = "a";
    bind = "127.0.0.1:7199";
    codec = { name = "length"; lenght_size = 4; };
    handler = { name = "echo"; }; }
);
CONF
# LINE|TEXT: what --check must say at that line of the file.
cat > "$tmp/expected" <<'EXP'
3|unknown setting "colour"; use workers, plugin_path,
6|codec "line": option "max_length" must not be negative
8|backlog = -3 is out of range [1, 65535]
10|listener "b": codec plugin "nosuch" not found (searched: built-ins,
12|low_watermark (65536) must be below high_watermark (32768); lower the one or raise the other
13|listener name "a" is already used at line 5; give each listener a name of its own
14|bind = "127.0.0.1:7199" is already used at line 9; give each listener an address of its own
15|codec "length": unknown option "lenght_size"; did you mean "length_size"?
EXP
nexp=$(wc -l < "$tmp/expected")

$WEFTD --check -c "$cfg" > "$tmp/out" 2> "$tmp/err"; rc=$?
[ $rc -eq 1 ] && ok "--check of a bad config exits 1" || fail "--check exited $rc"
errors_of "$tmp/err" > "$tmp/errors"
while IFS='|' read -r line text; do
  expect_in "$tmp/errors" "$cfg:$line: $text" "line $line: ${text%%;*}"
done < "$tmp/expected"
# Nothing else, and nothing without its file:line.
n=$(wc -l < "$tmp/errors")
[ "$n" -eq "$nexp" ] && ok "exactly $nexp problems logged" ||
  { fail "$n problems logged, expected $nexp:"; sed 's/^/  | /' "$tmp/errors"; }
if grep -v "^$cfg:[0-9][0-9]*: " "$tmp/errors"; then
  fail "a problem without FILE:LINE (above)"
else
  ok "every problem has FILE:LINE"
fi
expect_in "$tmp/err" "$cfg: $nexp problems found" "the count ends the report"
[ ! -s "$tmp/out" ] && ok "nothing on standard output" ||
  fail "standard output: $(cat "$tmp/out")"

# --- at start the same file is refused with the same list, nothing bound
$WEFTD -c "$cfg" > "$tmp/out" 2> "$tmp/err"; rc=$?
[ $rc -eq 1 ] && ok "bad config refuses to start" || fail "start exited $rc"
errors_of "$tmp/err" > "$tmp/start"
while IFS='|' read -r line text; do
  grep -qF -- "$cfg:$line: $text" "$tmp/start" ||
    fail "start-up does not list line $line: $text"
done < "$tmp/expected"
expect_in "$tmp/start" "$cfg: $nexp problems found: configuration refused, nothing started" \
  "start-up counts the same problems"
if grep -q "listening on" "$tmp/err"; then fail "bad config bound a port"; fi

# --- a syntax error stops libconfig: one problem, with its line
printf 'workers = 1;\nlisteners = (\n  { name = "x"; bind = ; }\n);\n' \
  > "$tmp/syntax.conf"
$WEFTD --check -c "$tmp/syntax.conf" > "$tmp/out" 2> "$tmp/err"; rc=$?
[ $rc -eq 1 ] && ok "--check of a syntax error exits 1" || fail "syntax: exit $rc"
expect_in "$tmp/err" "$tmp/syntax.conf:3: syntax error; fix it and check again" \
  "syntax error names file:line and what to do"
expect_in "$tmp/err" "$tmp/syntax.conf: 1 problem found" "syntax error counted once"

# --- a file that is not there
$WEFTD --check -c "$tmp/nowhere.conf" > "$tmp/out" 2> "$tmp/err"; rc=$?
[ $rc -eq 1 ] && ok "--check of a missing file exits 1" || fail "missing file: exit $rc"
expect_in "$tmp/err" "$tmp/nowhere.conf: cannot read: No such file or directory" \
  "missing file named"

# --- a good file passes, quietly
cat > "$tmp/good.conf" <<'CONF'
workers = 1;
listeners = (
  { name = "a"; bind = "127.0.0.1:0";
    codec = { name = "line"; max_length = "8k"; };
    handler = { name = "echo"; }; },
  { name = "b"; bind = "127.0.0.1:0";
    codec = { name = "length"; length_size = 2; };
    handler = { name = "stats"; }; }
);
CONF
$WEFTD --check -c "$tmp/good.conf" > "$tmp/out" 2> "$tmp/err"; rc=$?
[ $rc -eq 0 ] && ok "--check of a good config exits 0" || fail "good config: exit $rc"
expect_in "$tmp/out" "$tmp/good.conf: configuration OK" "good config reported OK"
if grep -E ' (error|warn|alert) ' "$tmp/err"; then fail "good config logged problems"; fi

# --- --list-plugins: a header, the ten built-ins, files in plugin_path
abi=$($WEFTD --version | sed -n 's/.*plugin ABI \([0-9]*\.[0-9]*\).*/\1/p')
[ -n "$abi" ] || fail "--version names no ABI"
$WEFTD --list-plugins > "$tmp/out" 2> "$tmp/err"; rc=$?
[ $rc -eq 0 ] && ok "--list-plugins exits 0" || fail "--list-plugins exited $rc"
head -n 1 "$tmp/out" | grep -qE '^NAME +KIND +ABI +VERSION +FILE$' &&
  ok "--list-plugins has a header" || fail "header: $(head -n 1 "$tmp/out")"
for p in line:codec length:codec netstring:codec varint:codec fixed:codec \
         raw:codec echo:handler stats:handler pubsub:handler proxy:handler; do
  name=${p%%:*} kind=${p#*:}
  if grep -qE "^$name +$kind +ABI $abi +[^ ]+ +built-in $name\$" "$tmp/out"; then
    ok "built-in $kind $name listed with ABI $abi"
  else
    fail "built-in $kind $name not listed:"; sed 's/^/  | /' "$tmp/out"
  fi
done
n=$(grep -c ' built-in ' "$tmp/out")
[ "$n" -eq 10 ] && ok "ten built-ins" || fail "$n built-ins listed, expected 10"

# A plugin file is listed with its path; a file that is no plugin, with
# the dynamic loader's reason, and exit 1.
mkdir "$tmp/plugins"
chmod 755 "$tmp/plugins"
cp "$top_builddir/codecs/.libs/netstring.so" "$tmp/plugins/netstring.so"
chmod 755 "$tmp/plugins/netstring.so"
printf 'plugin_path = [ "%s" ];\nlisteners = ( );\n' "$tmp/plugins" > "$tmp/path.conf"
$WEFTD --list-plugins -c "$tmp/path.conf" > "$tmp/out" 2> "$tmp/err"; rc=$?
[ $rc -eq 0 ] && ok "--list-plugins with plugin_path exits 0" ||
  fail "--list-plugins with plugin_path exited $rc: $(cat "$tmp/out" "$tmp/err")"
grep -qE "^netstring +codec +ABI $abi +[^ ]+ +$tmp/plugins/netstring.so\$" "$tmp/out" &&
  ok "a plugin file is listed with its path" ||
  { fail "$tmp/plugins/netstring.so not listed:"; sed 's/^/  | /' "$tmp/out"; }
echo "not a shared object" > "$tmp/plugins/junk.so"
chmod 644 "$tmp/plugins/junk.so"
$WEFTD --list-plugins -c "$tmp/path.conf" > "$tmp/out" 2> "$tmp/err"; rc=$?
[ $rc -eq 1 ] && ok "--list-plugins with a broken file exits 1" ||
  fail "--list-plugins with a broken file exited $rc"
expect_in "$tmp/out" "error: $tmp/plugins/junk.so: cannot load: " \
  "a broken file is listed with the loader's reason"

[ $failed -eq 0 ] && echo "check_problems: all checks passed"
exit $failed
