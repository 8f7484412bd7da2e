## The codec benchmark (bench/codecs/bench_codecs.c): decode throughput of
## each built-in codec beside its physical reference.  Built by make check
## so it keeps compiling; run by `make bench-codecs` (BENCH_CODECS_FLAGS,
## e.g. --size 64 --rounds 3), never by make check.
check_PROGRAMS += bench/codecs/bench_codecs
bench_codecs_bench_codecs_SOURCES = bench/codecs/bench_codecs.c \
	bench/codecs/mod_line.c bench/codecs/mod_length.c \
	bench/codecs/mod_netstring.c bench/codecs/mod_varint.c \
	bench/codecs/mod_fixed.c bench/codecs/mod_raw.c
bench_codecs_bench_codecs_LDADD = core/libweftcore.la

BENCH_CODECS_FLAGS =
bench-codecs: bench/codecs/bench_codecs$(EXEEXT)
	bench/codecs/bench_codecs $(BENCH_CODECS_FLAGS)
.PHONY: bench-codecs
