## weft-codec-test(1): the conformance tool for codec plugins.  It drives
## codecs with the engine's internals (libweftcore: the framer, the plugin
## loader, the options), and links libweft too, whose public API the
## plugins it loads resolve their weft_* calls against, as in weftd.
bin_PROGRAMS += tools/weft-codec-test
tools_weft_codec_test_SOURCES = tools/codec-test/ct.h \
	tools/codec-test/util.c tools/codec-test/guard.c \
	tools/codec-test/run.c tools/codec-test/frames.c \
	tools/codec-test/checks.c tools/codec-test/main.c
# The built-in codecs load by name through the table tools/weft/local.mk
# makes (libweft keeps its own to itself).
tools_weft_codec_test_LDADD = tools/libweftbuiltins.la libweft.la \
	core/libweftcore.la
include tools/weft/local.mk
