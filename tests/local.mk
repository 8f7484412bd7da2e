include tests/codecs.mk
include tests/itest.mk
include tests/loader.mk
include tests/pressure.mk
