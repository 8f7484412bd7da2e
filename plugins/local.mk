## Handler plugins.
pkglib_LTLIBRARIES += plugins/echo.la
plugins_echo_la_SOURCES = plugins/echo.c
plugins_echo_la_LDFLAGS = -module -avoid-version -no-undefined -Wl,-z,defs \
	-export-symbols-regex '^weft_plugin$$'
plugins_echo_la_LIBADD = libweft.la

pkglib_LTLIBRARIES += plugins/stats.la
plugins_stats_la_SOURCES = plugins/stats.c
plugins_stats_la_LDFLAGS = -module -avoid-version -no-undefined -Wl,-z,defs \
	-export-symbols-regex '^weft_plugin$$'
plugins_stats_la_LIBADD = libweft.la

# pubsub: topics shared by every listener and worker that use it.
pkglib_LTLIBRARIES += plugins/pubsub.la
plugins_pubsub_la_SOURCES = plugins/pubsub.c
plugins_pubsub_la_LDFLAGS = -module -avoid-version -no-undefined -Wl,-z,defs \
	-export-symbols-regex '^weft_plugin$$'
plugins_pubsub_la_LIBADD = libweft.la

# proxy: frames forwarded to upstreams over outbound connections.
pkglib_LTLIBRARIES += plugins/proxy.la
plugins_proxy_la_SOURCES = plugins/proxy.c
plugins_proxy_la_LDFLAGS = -module -avoid-version -no-undefined -Wl,-z,defs \
	-export-symbols-regex '^weft_plugin$$'
plugins_proxy_la_LIBADD = libweft.la
