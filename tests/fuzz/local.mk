## Fuzz targets, one per codec (see tests/fuzz/fuzz.h).  Every build makes
## replay_NAME, which feeds the seed corpus in tests/fuzz/corpus/NAME to
## the target for make check; a build configured with CC=clang
## --enable-fuzzing also makes fuzz_NAME, linked with libFuzzer, and
## `make fuzz FUZZ_SECONDS=60` runs each of them in turn.

FUZZ_CODECS = line length netstring varint fixed raw
FUZZ_SECONDS = 60
FUZZ_REPLAY = tests/fuzz/replay_line tests/fuzz/replay_length \
	tests/fuzz/replay_netstring tests/fuzz/replay_varint \
	tests/fuzz/replay_fixed tests/fuzz/replay_raw
check_PROGRAMS += $(FUZZ_REPLAY)
TESTS += $(FUZZ_REPLAY)
EXTRA_DIST += tests/fuzz/corpus tests/fuzz/mkcorpus.py

FUZZ_REPLAY_DEFS = $(AM_CPPFLAGS) -DFUZZ_SRCDIR='"$(abs_top_srcdir)"'
FUZZ_COMMON = tests/fuzz/driver.c tests/fuzz/fuzz.h

tests_fuzz_replay_line_SOURCES = tests/fuzz/replay.c $(FUZZ_COMMON) \
	tests/fuzz/fuzz_line.c codecs/line.c
tests_fuzz_replay_line_CPPFLAGS = $(FUZZ_REPLAY_DEFS) \
	-DWEFT_PLUGIN_MODULE=line
tests_fuzz_replay_line_LDADD = core/libweftcore.la
tests_fuzz_replay_length_SOURCES = tests/fuzz/replay.c $(FUZZ_COMMON) \
	tests/fuzz/fuzz_length.c codecs/length.c
tests_fuzz_replay_length_CPPFLAGS = $(FUZZ_REPLAY_DEFS) \
	-DWEFT_PLUGIN_MODULE=length
tests_fuzz_replay_length_LDADD = core/libweftcore.la
tests_fuzz_replay_netstring_SOURCES = tests/fuzz/replay.c $(FUZZ_COMMON) \
	tests/fuzz/fuzz_netstring.c codecs/netstring.c
tests_fuzz_replay_netstring_CPPFLAGS = $(FUZZ_REPLAY_DEFS) \
	-DWEFT_PLUGIN_MODULE=netstring
tests_fuzz_replay_netstring_LDADD = core/libweftcore.la
tests_fuzz_replay_varint_SOURCES = tests/fuzz/replay.c $(FUZZ_COMMON) \
	tests/fuzz/fuzz_varint.c codecs/varint.c
tests_fuzz_replay_varint_CPPFLAGS = $(FUZZ_REPLAY_DEFS) \
	-DWEFT_PLUGIN_MODULE=varint
tests_fuzz_replay_varint_LDADD = core/libweftcore.la
tests_fuzz_replay_fixed_SOURCES = tests/fuzz/replay.c $(FUZZ_COMMON) \
	tests/fuzz/fuzz_fixed.c codecs/fixed.c
tests_fuzz_replay_fixed_CPPFLAGS = $(FUZZ_REPLAY_DEFS) \
	-DWEFT_PLUGIN_MODULE=fixed
tests_fuzz_replay_fixed_LDADD = core/libweftcore.la
tests_fuzz_replay_raw_SOURCES = tests/fuzz/replay.c $(FUZZ_COMMON) \
	tests/fuzz/fuzz_raw.c codecs/raw.c
tests_fuzz_replay_raw_CPPFLAGS = $(FUZZ_REPLAY_DEFS) \
	-DWEFT_PLUGIN_MODULE=raw
tests_fuzz_replay_raw_LDADD = core/libweftcore.la

if FUZZING
# The codec and the driver get libFuzzer's coverage instrumentation and
# ASan and UBSan (FUZZ_CFLAGS); libweftcore, the framer, only gets the
# sanitizers of --enable-sanitizers.
FUZZ_PROGS = tests/fuzz/fuzz_line tests/fuzz/fuzz_length \
	tests/fuzz/fuzz_netstring tests/fuzz/fuzz_varint \
	tests/fuzz/fuzz_fixed tests/fuzz/fuzz_raw
noinst_PROGRAMS += $(FUZZ_PROGS)
FUZZ_TARGET_CC = $(AM_CFLAGS) $(FUZZ_CFLAGS)
FUZZ_TARGET_LD = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)

tests_fuzz_fuzz_line_SOURCES = $(FUZZ_COMMON) tests/fuzz/fuzz_line.c \
	codecs/line.c
tests_fuzz_fuzz_line_CPPFLAGS = $(AM_CPPFLAGS) -DWEFT_PLUGIN_MODULE=line
tests_fuzz_fuzz_line_CFLAGS = $(FUZZ_TARGET_CC)
tests_fuzz_fuzz_line_LDFLAGS = $(FUZZ_TARGET_LD)
tests_fuzz_fuzz_line_LDADD = core/libweftcore.la
tests_fuzz_fuzz_length_SOURCES = $(FUZZ_COMMON) tests/fuzz/fuzz_length.c \
	codecs/length.c
tests_fuzz_fuzz_length_CPPFLAGS = $(AM_CPPFLAGS) -DWEFT_PLUGIN_MODULE=length
tests_fuzz_fuzz_length_CFLAGS = $(FUZZ_TARGET_CC)
tests_fuzz_fuzz_length_LDFLAGS = $(FUZZ_TARGET_LD)
tests_fuzz_fuzz_length_LDADD = core/libweftcore.la
tests_fuzz_fuzz_netstring_SOURCES = $(FUZZ_COMMON) \
	tests/fuzz/fuzz_netstring.c codecs/netstring.c
tests_fuzz_fuzz_netstring_CPPFLAGS = $(AM_CPPFLAGS) \
	-DWEFT_PLUGIN_MODULE=netstring
tests_fuzz_fuzz_netstring_CFLAGS = $(FUZZ_TARGET_CC)
tests_fuzz_fuzz_netstring_LDFLAGS = $(FUZZ_TARGET_LD)
tests_fuzz_fuzz_netstring_LDADD = core/libweftcore.la
tests_fuzz_fuzz_varint_SOURCES = $(FUZZ_COMMON) tests/fuzz/fuzz_varint.c \
	codecs/varint.c
tests_fuzz_fuzz_varint_CPPFLAGS = $(AM_CPPFLAGS) -DWEFT_PLUGIN_MODULE=varint
tests_fuzz_fuzz_varint_CFLAGS = $(FUZZ_TARGET_CC)
tests_fuzz_fuzz_varint_LDFLAGS = $(FUZZ_TARGET_LD)
tests_fuzz_fuzz_varint_LDADD = core/libweftcore.la
tests_fuzz_fuzz_fixed_SOURCES = $(FUZZ_COMMON) tests/fuzz/fuzz_fixed.c \
	codecs/fixed.c
tests_fuzz_fuzz_fixed_CPPFLAGS = $(AM_CPPFLAGS) -DWEFT_PLUGIN_MODULE=fixed
tests_fuzz_fuzz_fixed_CFLAGS = $(FUZZ_TARGET_CC)
tests_fuzz_fuzz_fixed_LDFLAGS = $(FUZZ_TARGET_LD)
tests_fuzz_fuzz_fixed_LDADD = core/libweftcore.la
tests_fuzz_fuzz_raw_SOURCES = $(FUZZ_COMMON) tests/fuzz/fuzz_raw.c \
	codecs/raw.c
tests_fuzz_fuzz_raw_CPPFLAGS = $(AM_CPPFLAGS) -DWEFT_PLUGIN_MODULE=raw
tests_fuzz_fuzz_raw_CFLAGS = $(FUZZ_TARGET_CC)
tests_fuzz_fuzz_raw_LDFLAGS = $(FUZZ_TARGET_LD)
tests_fuzz_fuzz_raw_LDADD = core/libweftcore.la

# Each target for FUZZ_SECONDS, starting from the seed corpus; what it
# finds goes to tests/fuzz/found/NAME (a crash to tests/fuzz/NAME-crash-*),
# the log to tests/fuzz/NAME.log, and the run's figures to the terminal.
fuzz: $(FUZZ_PROGS)
	@fail=0; for t in $(FUZZ_CODECS); do \
	  $(MKDIR_P) tests/fuzz/found/$$t; \
	  echo "fuzz: $$t for $(FUZZ_SECONDS) s"; \
	  if tests/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) \
	      -print_final_stats=1 -artifact_prefix=tests/fuzz/$$t- \
	      tests/fuzz/found/$$t $(srcdir)/tests/fuzz/corpus/$$t \
	      >tests/fuzz/$$t.log 2>&1; then \
	    sed -n -e 's/^stat::number_of_executed_units: */  executions: /p' \
	      -e 's/^stat::average_exec_per_sec: */  executions per second: /p' \
	      -e 's/^stat::peak_rss_mb: */  peak RSS (MB): /p' \
	      tests/fuzz/$$t.log; \
	  else \
	    echo "fuzz: $$t FAILED (tests/fuzz/$$t.log):"; \
	    tail -n 40 tests/fuzz/$$t.log; fail=1; \
	  fi; \
	done; exit $$fail
else
fuzz:
	@echo "make fuzz: configure with CC=clang --enable-fuzzing first" >&2; \
	exit 1
endif
.PHONY: fuzz
