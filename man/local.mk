## Man pages: the overview weft(7), the daemon weftd(8), its configuration
## weft.conf(5), and the plugin ABI, weft-codec(3) and weft-handler(3).
dist_man_MANS += man/weft.7 man/weftd.8 man/weft.conf.5 man/weft-codec.3 \
	man/weft-handler.3

# The handler plugins' pages.
dist_man_MANS += man/weft-pubsub.7

# The built-in codecs, and the conformance tool for codec plugins.
dist_man_MANS += man/weft-codecs.7 man/weft-codec-test.1

# The pages must stay true to the code: tests/manlint.sh lints them with
# mandoc and compiles (and loads into weftd) the example plugins of
# weft-codec(3) and weft-handler(3) against the public headers.
TESTS += tests/manlint.sh
EXTRA_DIST += tests/manlint.sh
