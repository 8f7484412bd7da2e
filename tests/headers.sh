#!/bin/sh
# Every public header compiles alone, as C99 with strict warnings, and the
# umbrella header also as C++ when a C++ compiler is at hand (extern "C").
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
CC=${CC:-cc}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/weft-hdr.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
failed=0 n=0
inc="-I$top_srcdir/core/include -I$top_builddir/core/include"
for h in "$top_srcdir"/core/include/weft/*.h "$top_builddir"/core/include/weft/version.h; do
  name=weft/$(basename "$h")
  printf '#include <%s>\n#include <%s>\nint weft_header_test;\n' "$name" "$name" > "$tmp/t.c"
  if $CC -std=c99 -pedantic -Wall -Wextra -Werror -Wstrict-prototypes \
      $inc -c "$tmp/t.c" -o "$tmp/t.o"; then
    n=$((n + 1))
  else
    echo "FAIL: <$name> does not compile alone (or twice)"; failed=1
  fi
done
if command -v c++ > /dev/null 2>&1; then
  printf '#include <weft/weft.h>\nint main() { return weft_strerror(0) == 0; }\n' > "$tmp/t.cc"
  if c++ -Wall -Wextra -Werror $inc -c "$tmp/t.cc" -o "$tmp/t.o"; then
    n=$((n + 1))
  else
    echo "FAIL: <weft/weft.h> does not compile as C++"; failed=1
  fi
fi
echo "$n header checks, failed: $failed"
exit $failed
