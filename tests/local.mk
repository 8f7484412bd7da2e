include tests/codecs.mk
include tests/itest.mk
include tests/loader.mk
include tests/pressure.mk
include tests/codectest.mk
include tools/local.mk
include tests/pubsub.mk
include tests/fuzz/local.mk
