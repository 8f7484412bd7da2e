## Codec unit tests.  Each links the codec's source directly (built as the
## preloaded module, so its descriptor is NAME_LTX_weft_plugin) against the
## whole of core, internal symbols included.

check_PROGRAMS += tests/test_line tests/test_length
TESTS += tests/test_line tests/test_length

tests_test_line_SOURCES = tests/test_line.c tests/codec_util.c \
	tests/codec_util.h codecs/line.c
tests_test_line_CPPFLAGS = $(AM_CPPFLAGS) -DWEFT_PLUGIN_MODULE=line
tests_test_line_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_line_LDADD = core/libweftcore.la $(CMOCKA_LIBS)

tests_test_length_SOURCES = tests/test_length.c tests/codec_util.c \
	tests/codec_util.h tests/capture.c tests/capture.h codecs/length.c
tests_test_length_CPPFLAGS = $(AM_CPPFLAGS) -DWEFT_PLUGIN_MODULE=length
tests_test_length_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_length_LDADD = core/libweftcore.la $(CMOCKA_LIBS)
