#!/bin/sh
# Every public function has a man page (issue 6, acceptance 2).  This test
#   1. extracts the name of every function declared `WEFT_EXTERN ... weft_x(`
#      in core/include/weft/*.h, and fails for each one without a page
#      man/NAME.3, whose page (or the page its `.so` names) does not list it
#      with `.Nm NAME`, or that man/local.mk (or another man/*.mk) does
#      not install;
#   2. lints every man/*.3 page with `mandoc -Tlint -W warning` and fails on
#      any message, except the one-line `.so man3/FAMILY.3` pages, which
#      mandoc always warns about (".so is fragile"): for those it checks
#      that the target page exists instead.
#
# Environment (set by AM_TESTS_ENVIRONMENT): top_srcdir.  Without it, works
# from the source tree it lives in.  Writes nothing.
set -u

here=$(cd "$(dirname "$0")/.." && pwd)
top_srcdir=${top_srcdir:-$here}
incdir=$top_srcdir/core/include/weft
mandir=$top_srcdir/man
fail=0

bad() {
  echo "manpages: FAIL: $*"
  fail=1
}

# The target page of a `.so` stub, or nothing for a page of its own.
so_target() {
  sed -n '/^\.\\"/d; s/^\.so[ 	]\{1,\}man3\/\([^ 	]*\)[ 	]*$/\1/p; q' "$1"
}

funcs=$(for h in "$incdir"/*.h; do
  # A declaration may wrap: read from WEFT_EXTERN to the first `(`.
  awk '
    /^[ \t]*#/ { next }
    /WEFT_EXTERN/ { buf = ""; on = 1 }
    on {
      buf = buf " " $0
      if (buf ~ /\(/) {
        if (match(buf, /weft_[a-z0-9_]*[ \t]*\(/)) {
          s = substr(buf, RSTART, RLENGTH)
          sub(/[ \t]*\($/, "", s)
          print s
        }
        on = 0
      } else if (buf ~ /;/) on = 0
    }' "$h"
done | sort -u)

if [ -z "$funcs" ]; then
  bad "no WEFT_EXTERN function found in $incdir"
  exit 1
fi

n=0
for f in $funcs; do
  n=$((n + 1))
  page=$mandir/$f.3
  if [ ! -f "$page" ]; then
    bad "$f has no page man/$f.3"
    continue
  fi
  t=$(so_target "$page")
  listing=$page
  if [ -n "$t" ]; then
    listing=$mandir/$t
    if [ ! -f "$listing" ]; then
      bad "man/$f.3: .so target man/$t does not exist"
      continue
    fi
  fi
  if ! grep -Eq "^\.Nm $f( ,)?\$" "$listing"; then
    bad "$(basename "$listing") does not list $f in NAME (.Nm $f)"
  fi
  if ! grep -Eq "(^|[ 	])man/$f\.3([ 	]|\\\\|\$)" "$mandir"/*.mk; then
    bad "man/$f.3 is not in dist_man_MANS (man/local.mk or man/*.mk)"
  fi
done

if ! command -v mandoc >/dev/null 2>&1; then
  bad "mandoc not found: install the Debian package mandoc"
  exit 1
fi

for page in "$mandir"/*.3; do
  [ -f "$page" ] || continue
  t=$(so_target "$page")
  if [ -n "$t" ]; then
    [ -f "$mandir/$t" ] || bad "$(basename "$page"): .so target man/$t does not exist"
    continue
  fi
  out=$(cd "$mandir" && mandoc -Tlint -W warning "$(basename "$page")" 2>&1)
  if [ -n "$out" ]; then
    bad "mandoc -Tlint -W warning $(basename "$page"):"
    echo "$out"
  fi
done

if [ "$fail" -eq 0 ]; then
  echo "manpages: ok: $n public functions, each with a page"
fi
exit $fail
