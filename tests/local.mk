include tests/codecs.mk
include tests/itest.mk
include tests/loader.mk
include tests/pressure.mk
include tests/codectest.mk
include tools/local.mk
include tests/pubsub.mk
include tests/fuzz/local.mk
include tests/proxy.mk
include tests/check.mk
EXTRA_DIST += tests/lib.sh
include tests/client.mk
include tests/embed.mk
EXTRA_DIST += tests/manex.sh
include tests/decoded.mk
