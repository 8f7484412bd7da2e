## weftd --check and --list-plugins: every problem of a configuration in
## one run, each with FILE:LINE.
TESTS += tests/check_problems.sh
EXTRA_DIST += tests/check_problems.sh
