## weft_out_decoded(3) through the engine (weft_embed): when a reply is
## marked as the decoder's own frames, and what the codecs send for it.
check_PROGRAMS += tests/test_decoded
TESTS += tests/test_decoded
tests_test_decoded_SOURCES = tests/test_decoded.c
tests_test_decoded_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_decoded_LDADD = libweft.la $(CMOCKA_LIBS)
