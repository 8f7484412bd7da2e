include tests/codecs.mk
