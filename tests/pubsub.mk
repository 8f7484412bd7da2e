## The pubsub handler against the real weftd: three codecs sharing topics
## across workers, slow subscribers under each policy, and posting to
## connections that are closing (run it under --enable-sanitizers too).
check_PROGRAMS += tests/itest_pubsub
TESTS += tests/itest_pubsub

tests_itest_pubsub_SOURCES = tests/itest_pubsub.c tests/itest_util.c \
	tests/itest_util.h
tests_itest_pubsub_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_itest_pubsub_LDADD = $(CMOCKA_LIBS)
