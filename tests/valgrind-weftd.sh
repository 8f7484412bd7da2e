#!/bin/sh
# weftd under valgrind, for the integration tests of `make check-valgrind`.
top_builddir=${top_builddir:-$(cd "$(dirname "$0")/.." && pwd)}
exec "$(dirname "$0")/valgrind.sh" "$top_builddir/weftd" "$@"
