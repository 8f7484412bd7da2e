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

check_PROGRAMS += tests/test_netstring tests/test_varint tests/test_fixed \
	tests/test_raw
TESTS += tests/test_netstring tests/test_varint tests/test_fixed \
	tests/test_raw

tests_test_netstring_SOURCES = tests/test_netstring.c tests/codec_util.c \
	tests/codec_util.h codecs/netstring.c
tests_test_netstring_CPPFLAGS = $(AM_CPPFLAGS) -DWEFT_PLUGIN_MODULE=netstring
tests_test_netstring_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_netstring_LDADD = core/libweftcore.la $(CMOCKA_LIBS)

tests_test_varint_SOURCES = tests/test_varint.c tests/codec_util.c \
	tests/codec_util.h codecs/varint.c
tests_test_varint_CPPFLAGS = $(AM_CPPFLAGS) -DWEFT_PLUGIN_MODULE=varint
tests_test_varint_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_varint_LDADD = core/libweftcore.la $(CMOCKA_LIBS)

tests_test_fixed_SOURCES = tests/test_fixed.c tests/codec_util.c \
	tests/codec_util.h codecs/fixed.c
tests_test_fixed_CPPFLAGS = $(AM_CPPFLAGS) -DWEFT_PLUGIN_MODULE=fixed
tests_test_fixed_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_fixed_LDADD = core/libweftcore.la $(CMOCKA_LIBS)

tests_test_raw_SOURCES = tests/test_raw.c tests/codec_util.c \
	tests/codec_util.h codecs/raw.c
tests_test_raw_CPPFLAGS = $(AM_CPPFLAGS) -DWEFT_PLUGIN_MODULE=raw
tests_test_raw_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_raw_LDADD = core/libweftcore.la $(CMOCKA_LIBS)
