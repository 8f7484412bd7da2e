## weft(1): the command-line client, `weft send` and `weft bench`, built
## beside weftd at the top of the tree.  Like weft-codec-test it drives
## codecs with the engine's internals (libweftcore: the plugin loader, the
## options, the framer) and links libweft, whose public API the codec
## plugins it loads resolve their weft_* calls against, as in weftd.
## libweft keeps its table of built-ins to itself, so the program has its
## own, made by libtool from the same static copies, which main.c hands
## to libltdl: the built-in codecs load by name with nothing installed.
bin_PROGRAMS += weft
weft_SOURCES = tools/weft/client.h tools/weft/main.c \
	tools/weft/args.c tools/weft/codec.c \
	tools/weft/addr.c tools/weft/sock.c tools/weft/hex.c \
	tools/weft/input.c tools/weft/send.c tools/weft/hist.c \
	tools/weft/bench.h tools/weft/bench.c tools/weft/bench_conn.c \
	tools/weft/bench_cpu.c tools/weft/bench_wait.c
weft_LDADD = tools/libweftbuiltins.la libweft.la core/libweftcore.la \
	$(UV_LIBS)

# The table: a libtool library may preload the built-ins' static copies.
noinst_LTLIBRARIES += tools/libweftbuiltins.la
tools_libweftbuiltins_la_SOURCES =
tools_libweftbuiltins_la_LIBADD = \
	-dlpreopen builtin/line.la -dlpreopen builtin/length.la \
	-dlpreopen builtin/netstring.la -dlpreopen builtin/varint.la \
	-dlpreopen builtin/fixed.la -dlpreopen builtin/raw.la
tools_libweftbuiltins_la_DEPENDENCIES = builtin/line.la builtin/length.la \
	builtin/netstring.la builtin/varint.la builtin/fixed.la builtin/raw.la
