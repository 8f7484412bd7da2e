## weft-codec-test(1): the conformance tool for codec plugins.  It links
## the engine's internals (libweftcore: the framer, the plugin loader and
## the options), not libweft, whose exports are the public API only.
bin_PROGRAMS += tools/weft-codec-test
tools_weft_codec_test_SOURCES = tools/weft-codec-test.c
tools_weft_codec_test_LDADD = core/libweftcore.la
