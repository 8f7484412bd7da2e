## Integration tests: the real weftd over TCP, and an out-of-tree plugin
## built against a staged `make install`.  The top-level
## AM_TESTS_ENVIRONMENT exports WEFTD, WCLIENT, WEFT_TEST_SCALE,
## top_builddir, top_srcdir, CC and MAKE, then appends $(ITEST_ENV).

check_PROGRAMS += tests/itest_echo tests/wclient
TESTS += tests/itest_echo tests/outoftree.sh

tests_itest_echo_SOURCES = tests/itest_echo.c tests/itest_util.c \
	tests/itest_util.h
tests_itest_echo_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(UV_CFLAGS)
tests_itest_echo_LDADD = $(CMOCKA_LIBS) $(UV_LIBS)

# wclient: a netcat that half-closes, for the shell tests.
tests_wclient_SOURCES = tests/wclient.c

# outoftree.sh builds examples/ with the pkg-config configure found.
ITEST_ENV = PKG_CONFIG='$(PKG_CONFIG)'; export PKG_CONFIG;

# The out-of-tree example is part of the distribution, and its test
# builds it from $(top_srcdir), so distcheck exercises the shipped copy.
EXTRA_DIST += tests/outoftree.sh examples/README.md examples/Makefile \
	examples/crlf.c examples/upper.c examples/weft.conf

# `make install` relinks the plugin modules in the build tree (libtool
# moves codecs/.libs/*.so aside meanwhile), and other tests load those
# files: under `make -j check`, run the out-of-tree test after all others.
tests/outoftree.log: $(TEST_LOGS:tests/outoftree.log=)
