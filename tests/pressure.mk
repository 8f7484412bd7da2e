## The engine under pressure (issue 4): backpressure, timeouts, connection
## limits, descriptor exhaustion, graceful stop and a connect storm, each
## against its own real weftd.  Helpers shared by such tests live in
## tests/itest_util.[ch].

check_PROGRAMS += tests/itest_pressure
TESTS += tests/itest_pressure

tests_itest_pressure_SOURCES = tests/itest_pressure.c tests/itest_util.c \
	tests/itest_util.h
tests_itest_pressure_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_itest_pressure_LDADD = $(CMOCKA_LIBS)
