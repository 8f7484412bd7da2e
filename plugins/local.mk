## Handler plugins.
pkglib_LTLIBRARIES += plugins/echo.la
plugins_echo_la_SOURCES = plugins/echo.c
plugins_echo_la_CPPFLAGS = $(AM_CPPFLAGS) -DWEFT_PLUGIN_MODULE=echo
plugins_echo_la_LDFLAGS = -module -avoid-version -no-undefined -Wl,-z,defs \
	-export-symbols-regex '^(echo_LTX_)?weft_plugin$$'
plugins_echo_la_LIBADD = libweft.la
