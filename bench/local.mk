## The benchmark (bench/README.md): the hand-written libuv baselines, the
## idle-connection probe and the work handler; the client is `weft bench`.
## `make check` only builds them, so they keep compiling; nothing here runs
## in `make check`.
## `make bench` runs the whole suite (BENCH_FLAGS=--quick for a short run).
check_PROGRAMS += bench/idle bench/baseline_line bench/baseline_length
bench_idle_SOURCES = bench/idle.c
bench_baseline_line_SOURCES = bench/baseline_line.c
bench_baseline_line_LDADD = $(UV_LIBS)
bench_baseline_length_SOURCES = bench/baseline_length.c
bench_baseline_length_LDADD = $(UV_LIBS)
# The CPU-bound echo handler of the workers scenario, a plugin by path.
check_LTLIBRARIES += bench/work.la
bench_work_la_SOURCES = bench/work.c
bench_work_la_LDFLAGS = -module -avoid-version -no-undefined -Wl,-z,defs \
	-export-symbols-regex '^weft_plugin$$' -rpath /nowhere
bench_work_la_LIBADD = libweft.la
# Handlers that send frames of their own, one at a time and in batches.
check_LTLIBRARIES += bench/reply.la bench/replies.la
bench_reply_la_SOURCES = bench/reply.c
bench_reply_la_LDFLAGS = $(bench_work_la_LDFLAGS)
bench_reply_la_LIBADD = libweft.la
bench_replies_la_SOURCES = bench/reply.c
bench_replies_la_CPPFLAGS = $(AM_CPPFLAGS) -DREPLY_MANY
bench_replies_la_LDFLAGS = $(bench_work_la_LDFLAGS)
bench_replies_la_LIBADD = libweft.la
EXTRA_DIST += bench/run.sh bench/cgfuncs.sh bench/README.md

BENCH_PROGS = bench/idle$(EXEEXT) bench/baseline_line$(EXEEXT) \
	bench/baseline_length$(EXEEXT) weft$(EXEEXT)
BENCH_FLAGS =

bench: $(BENCH_PROGS) weftd$(EXEEXT) codecs/line.la codecs/length.la \
	plugins/echo.la bench/work.la bench/reply.la bench/replies.la
	$(SHELL) $(srcdir)/bench/run.sh --builddir '$(abs_top_builddir)' \
		--no-build $(BENCH_FLAGS)
.PHONY: bench
