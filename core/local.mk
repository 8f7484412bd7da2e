## libweft, and weftd on top of it.
include_HEADERS =
weftincludedir = $(includedir)/weft
weftinclude_HEADERS = \
	core/include/weft/weft.h \
	core/include/weft/common.h \
	core/include/weft/error.h \
	core/include/weft/log.h \
	core/include/weft/opts.h \
	core/include/weft/out.h \
	core/include/weft/conn.h \
	core/include/weft/codec.h \
	core/include/weft/handler.h \
	core/include/weft/plugin.h \
	core/include/weft/engine.h \
	core/include/weft/stats.h \
	core/include/weft/mailbox.h \
	core/include/weft/connect.h \
	core/include/weft/embed.h
nodist_weftinclude_HEADERS = core/include/weft/version.h

# Everything of libweft, with internal symbols visible, for unit tests.
noinst_LTLIBRARIES += core/libweftcore.la
core_libweftcore_la_SOURCES = \
	core/buf.c core/buf.h \
	core/out.c \
	core/error.c \
	core/log.c \
	core/opts.c core/opts_arg.c core/opts_internal.h \
	core/framer.c core/framer.h \
	core/conf.c core/conf.h \
	core/plugin_loader.c core/plugin_loader.h \
	core/list.h \
	core/internal.h \
	core/listener.c \
	core/conn.c \
	core/conn_write.c \
	core/client.c \
	core/connect.c \
	core/resolve.c \
	core/worker.c \
	core/timer.c \
	core/lsn.c \
	core/reload.c \
	core/stats.c \
	core/stage.c \
	core/mailbox.c \
	core/engine.c \
	core/embed.c
core_libweftcore_la_LIBADD = $(UV_LIBS) $(LIBCONFIG_LIBS) $(CARES_LIBS) \
	$(LIBLTDL) $(LIBDL)

lib_LTLIBRARIES += libweft.la
libweft_la_SOURCES =
libweft_la_LIBADD = core/libweftcore.la \
	-dlpreopen builtin/line.la -dlpreopen builtin/length.la \
	-dlpreopen builtin/echo.la -dlpreopen builtin/stats.la \
	-dlpreopen builtin/pubsub.la \
	-dlpreopen builtin/netstring.la -dlpreopen builtin/varint.la \
	-dlpreopen builtin/fixed.la -dlpreopen builtin/raw.la \
	-dlpreopen builtin/proxy.la
libweft_la_DEPENDENCIES = core/libweftcore.la builtin/line.la \
	builtin/length.la builtin/echo.la builtin/stats.la builtin/pubsub.la \
	builtin/netstring.la builtin/varint.la builtin/fixed.la builtin/raw.la \
	builtin/proxy.la
libweft_la_LDFLAGS = -no-undefined -version-info 0:0:0 \
	-export-symbols-regex '^weft_[a-z]'

bin_PROGRAMS += weftd
weftd_SOURCES = core/weftd.c
weftd_LDADD = libweft.la $(LIBLTDL)

# libweft (and so weftd) carries the built-in plugins linked in through
# libtool's preloaded-symbol tables, so it runs with nothing installed.
# libtool would link an installable module as a shared library, so each
# built-in also exists as a static convenience copy of the same name.
noinst_LTLIBRARIES += builtin/line.la builtin/length.la builtin/echo.la \
	builtin/stats.la builtin/pubsub.la
builtin_line_la_SOURCES = codecs/line.c
builtin_line_la_CPPFLAGS = $(AM_CPPFLAGS) -DWEFT_PLUGIN_MODULE=line
builtin_line_la_LDFLAGS = -module
builtin_length_la_SOURCES = codecs/length.c
builtin_length_la_CPPFLAGS = $(AM_CPPFLAGS) -DWEFT_PLUGIN_MODULE=length
builtin_length_la_LDFLAGS = -module
builtin_echo_la_SOURCES = plugins/echo.c
builtin_echo_la_CPPFLAGS = $(AM_CPPFLAGS) -DWEFT_PLUGIN_MODULE=echo
builtin_echo_la_LDFLAGS = -module
builtin_stats_la_SOURCES = plugins/stats.c
builtin_stats_la_CPPFLAGS = $(AM_CPPFLAGS) -DWEFT_PLUGIN_MODULE=stats
builtin_stats_la_LDFLAGS = -module
builtin_pubsub_la_SOURCES = plugins/pubsub.c
builtin_pubsub_la_CPPFLAGS = $(AM_CPPFLAGS) -DWEFT_PLUGIN_MODULE=pubsub
builtin_pubsub_la_LDFLAGS = -module
noinst_LTLIBRARIES += builtin/proxy.la
builtin_proxy_la_SOURCES = plugins/proxy.c
builtin_proxy_la_CPPFLAGS = $(AM_CPPFLAGS) -DWEFT_PLUGIN_MODULE=proxy
builtin_proxy_la_LDFLAGS = -module
noinst_LTLIBRARIES += builtin/netstring.la builtin/varint.la \
	builtin/fixed.la builtin/raw.la
builtin_netstring_la_SOURCES = codecs/netstring.c
builtin_netstring_la_CPPFLAGS = $(AM_CPPFLAGS) -DWEFT_PLUGIN_MODULE=netstring
builtin_netstring_la_LDFLAGS = -module
builtin_varint_la_SOURCES = codecs/varint.c
builtin_varint_la_CPPFLAGS = $(AM_CPPFLAGS) -DWEFT_PLUGIN_MODULE=varint
builtin_varint_la_LDFLAGS = -module
builtin_fixed_la_SOURCES = codecs/fixed.c
builtin_fixed_la_CPPFLAGS = $(AM_CPPFLAGS) -DWEFT_PLUGIN_MODULE=fixed
builtin_fixed_la_LDFLAGS = -module
builtin_raw_la_SOURCES = codecs/raw.c
builtin_raw_la_CPPFLAGS = $(AM_CPPFLAGS) -DWEFT_PLUGIN_MODULE=raw
builtin_raw_la_LDFLAGS = -module
