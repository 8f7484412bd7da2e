#!/bin/sh
# Runs one test program (or weftd) under valgrind: any memory error or
# definite/indirect leak makes it exit 99, which fails the test.
top_builddir=${top_builddir:-$(cd "$(dirname "$0")/.." && pwd)}
exec "$top_builddir/libtool" --mode=execute valgrind --quiet \
  --error-exitcode=99 --leak-check=full \
  --show-leak-kinds=definite,indirect \
  --errors-for-leak-kinds=definite,indirect \
  --suppressions="$(dirname "$0")/valgrind.supp" "$@"
