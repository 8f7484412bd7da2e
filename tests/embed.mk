## The in-memory test API (weft_embed): the engine's semantics through it,
## the built-in handlers' unit tests on it, and the examples' own test.
## Each links the installed-style libweft and uses only the public API.

check_PROGRAMS += tests/test_embed
TESTS += tests/test_embed
tests_test_embed_SOURCES = tests/test_embed.c
tests_test_embed_CPPFLAGS = $(AM_CPPFLAGS) \
	-DTEST_PLUGINS='"$(abs_top_builddir)/tests/plugins/.libs"'
tests_test_embed_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_embed_LDADD = libweft.la $(CMOCKA_LIBS) -lpthread

check_PROGRAMS += tests/test_handlers
TESTS += tests/test_handlers
tests_test_handlers_SOURCES = tests/test_handlers.c
tests_test_handlers_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_handlers_LDADD = libweft.la $(CMOCKA_LIBS)

# The example handler's own test (examples/test_upper.c), built here too so
# that it runs under valgrind and the sanitizers; tests/outoftree.sh builds
# it with examples/Makefile against an installed tree.
check_PROGRAMS += tests/test_upper
TESTS += tests/test_upper
tests_test_upper_SOURCES = examples/test_upper.c examples/upper.c
tests_test_upper_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_upper_LDFLAGS = -export-dynamic
tests_test_upper_LDADD = libweft.la $(CMOCKA_LIBS)
EXTRA_DIST += examples/test_upper.c

# tests/outoftree.sh builds the example test with the sanitizers when the
# tree has them (a program linked to an ASan libweft needs them too).
ITEST_ENV += SAN_FLAGS='$(SAN_FLAGS)'; export SAN_FLAGS;

# The example of weft_embed(3), a test of weft-handler(3)'s example, built
# and run.
TESTS += tests/embed_man.sh
EXTRA_DIST += tests/embed_man.sh
ITEST_ENV += CMOCKA_CFLAGS='$(CMOCKA_CFLAGS)'; CMOCKA_LIBS='$(CMOCKA_LIBS)'; \
	export CMOCKA_CFLAGS CMOCKA_LIBS;
