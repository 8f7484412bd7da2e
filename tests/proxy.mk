## The proxy handler and outbound connections against the real weftd:
## failover when an upstream dies, end-to-end backpressure, error replies
## and no upstream at all.
check_PROGRAMS += tests/itest_proxy
TESTS += tests/itest_proxy

tests_itest_proxy_SOURCES = tests/itest_proxy.c tests/itest_util.c \
	tests/itest_util.h
tests_itest_proxy_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_itest_proxy_LDADD = $(CMOCKA_LIBS)
