## weft(1), the command-line client, against the real weftd on every
## built-in codec (tools/weft/local.mk builds it).  Shell tests do not run
## under LOG_COMPILER, so the test applies the wrapper (valgrind, in
## check-valgrind) to the client itself, from WEFT_WRAP.
TESTS += tests/weft_client.sh
EXTRA_DIST += tests/weft_client.sh
ITEST_ENV += WEFT_WRAP='$(TEST_WRAPPER)'; export WEFT_WRAP;
