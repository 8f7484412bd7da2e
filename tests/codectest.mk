## The conformance tool, weft-codec-test, run on every built-in codec (the
## modules as installed) and on codecs broken on purpose, which it must
## catch.  The tool is built by tools/local.mk.
BROKEN_CODEC_LDFLAGS = -module -avoid-version -no-undefined -rpath /nowhere \
	-Wl,-z,defs
check_LTLIBRARIES += tests/codectest/overread.la tests/codectest/keepptr.la \
	tests/codectest/unbounded.la tests/codectest/splitdep.la \
	tests/codectest/eofframe.la
tests_codectest_overread_la_SOURCES = tests/codectest/broken.c
tests_codectest_overread_la_CPPFLAGS = $(AM_CPPFLAGS) -DBROKEN_OVERREAD \
	-DBROKEN_NAME='"overread"'
tests_codectest_overread_la_LDFLAGS = $(BROKEN_CODEC_LDFLAGS)
tests_codectest_overread_la_LIBADD = libweft.la
tests_codectest_keepptr_la_SOURCES = tests/codectest/broken.c
tests_codectest_keepptr_la_CPPFLAGS = $(AM_CPPFLAGS) -DBROKEN_KEEPPTR \
	-DBROKEN_NAME='"keepptr"'
tests_codectest_keepptr_la_LDFLAGS = $(BROKEN_CODEC_LDFLAGS)
tests_codectest_keepptr_la_LIBADD = libweft.la
tests_codectest_unbounded_la_SOURCES = tests/codectest/broken.c
tests_codectest_unbounded_la_CPPFLAGS = $(AM_CPPFLAGS) -DBROKEN_UNBOUNDED \
	-DBROKEN_NAME='"unbounded"'
tests_codectest_unbounded_la_LDFLAGS = $(BROKEN_CODEC_LDFLAGS)
tests_codectest_unbounded_la_LIBADD = libweft.la
tests_codectest_splitdep_la_SOURCES = tests/codectest/broken.c
tests_codectest_splitdep_la_CPPFLAGS = $(AM_CPPFLAGS) -DBROKEN_SPLITDEP \
	-DBROKEN_NAME='"splitdep"'
tests_codectest_splitdep_la_LDFLAGS = $(BROKEN_CODEC_LDFLAGS)
tests_codectest_splitdep_la_LIBADD = libweft.la
tests_codectest_eofframe_la_SOURCES = tests/codectest/broken.c
tests_codectest_eofframe_la_CPPFLAGS = $(AM_CPPFLAGS) -DBROKEN_EOFFRAME \
	-DBROKEN_NAME='"eofframe"'
tests_codectest_eofframe_la_LDFLAGS = $(BROKEN_CODEC_LDFLAGS)
tests_codectest_eofframe_la_LIBADD = libweft.la

TESTS += tests/codectest.sh
EXTRA_DIST += tests/codectest.sh

# A codec's own output (a greeting, a reply) and close, through weftd.
check_LTLIBRARIES += tests/codectest/control.la
tests_codectest_control_la_SOURCES = tests/codectest/control.c
tests_codectest_control_la_LDFLAGS = $(BROKEN_CODEC_LDFLAGS)
tests_codectest_control_la_LIBADD = libweft.la
TESTS += tests/codec_control.sh
EXTRA_DIST += tests/codec_control.sh
