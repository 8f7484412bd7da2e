#!/bin/sh
# cgfuncs.sh SMALL.out LARGE.out FRAMES [TOP]
#
# Per-function cost of one echoed frame, from two callgrind profiles of the
# same server that differ only in the number of frames echoed (FRAMES more
# in LARGE): each function's self instructions (Ir, exclusive) in LARGE
# minus those in SMALL, divided by FRAMES.  Start-up, plugin loading,
# connection set-up and shutdown are the same in both runs and cancel out.
# Prints the TOP (default 25) costliest functions, the total, then the
# cost per object (the codec's and the handler's .so, libweft, libuv,
# libc...), over every function, not only the TOP.
set -eu

if [ $# -lt 3 ]; then
  echo "usage: cgfuncs.sh SMALL.out LARGE.out FRAMES [TOP]" >&2
  exit 2
fi
small=$1 large=$2 frames=$3 top=${4:-25}

# "  1,234 (12.34%)  file:function [object]" -> "1234<TAB>function [object]"
annot() {
  callgrind_annotate --auto=no --inclusive=no --threshold=100 "$1" | awk '
    /file:function/ { go = 1; next }
    go && match($0, /^ *[0-9,]+ +\( *[0-9.]+%\) +/) {
      n = substr($0, 1, RLENGTH); sub(/\(.*/, "", n); gsub(/[ ,]/, "", n)
      name = substr($0, RLENGTH + 1)
      obj = ""
      if (match(name, / \[[^]]*\]$/)) {
        obj = substr(name, RSTART + 2, RLENGTH - 3); sub(/.*\//, "", obj)
        name = substr(name, 1, RSTART - 1)
      }
      sub(/^.*:/, "", name) # drop the source file: inlined lines merge
      printf "%s\t%s\t%s\n", n, name, obj
    }'
}

{
  annot "$small" | sed 's/^/S\t/'
  annot "$large" | sed 's/^/L\t/'
} | awk -F '\t' -v frames="$frames" -v top="$top" '
  { key = $3; if ($4 != "") obj[key] = $4
    if ($1 == "S") s[key] += $2; else l[key] += $2 }
  END {
    for (k in l) { d = (l[k] - (k in s ? s[k] : 0)) / frames; tot += d; cost[k] = d }
    for (k in s) if (!(k in l)) { d = -s[k] / frames; tot += d; cost[k] = d }
    printf "%10s %6s  %s\n", "Ir/frame", "share", "function [object]"
    n = 0
    for (k in cost) keys[++n] = k
    # sort by cost, descending (insertion sort: a few hundred functions)
    for (i = 2; i <= n; i++) {
      v = keys[i]; j = i - 1
      while (j > 0 && cost[keys[j]] < cost[v]) { keys[j + 1] = keys[j]; j-- }
      keys[j + 1] = v
    }
    for (i = 1; i <= n && i <= top; i++) {
      k = keys[i]
      printf "%10.2f %5.1f%%  %s%s\n", cost[k], tot ? 100 * cost[k] / tot : 0,
             k, (k in obj) ? " [" obj[k] "]" : ""
    }
    printf "%10.2f %5.1f%%  %s\n", tot, 100, "total"
    for (k in cost) byobj[(k in obj) ? obj[k] : "?"] += cost[k]
    printf "\n%10s %6s  %s\n", "Ir/frame", "share", "object"
    m = 0
    for (o in byobj) objs[++m] = o
    for (i = 2; i <= m; i++) {
      v = objs[i]; j = i - 1
      while (j > 0 && byobj[objs[j]] < byobj[v]) { objs[j + 1] = objs[j]; j-- }
      objs[j + 1] = v
    }
    for (i = 1; i <= m; i++)
      if (byobj[objs[i]] >= 0.05 || byobj[objs[i]] <= -0.05)
        printf "%10.2f %5.1f%%  %s\n", byobj[objs[i]],
               tot ? 100 * byobj[objs[i]] / tot : 0, objs[i]
  }'
