## Codec plugins: libtool modules installed in $(pkglibdir).  Each is built
## with WEFT_PLUGIN_MODULE so its descriptor is also reachable as
## NAME_LTX_weft_plugin when preloaded into weftd; only that one symbol is
## exported, and -z defs catches an unresolved symbol at link time rather
## than at load.

pkglib_LTLIBRARIES += codecs/line.la
codecs_line_la_SOURCES = codecs/line.c
codecs_line_la_CPPFLAGS = $(AM_CPPFLAGS) -DWEFT_PLUGIN_MODULE=line
codecs_line_la_LDFLAGS = -module -avoid-version -no-undefined -Wl,-z,defs \
	-export-symbols-regex '^(line_LTX_)?weft_plugin$$'
codecs_line_la_LIBADD = libweft.la

pkglib_LTLIBRARIES += codecs/length.la
codecs_length_la_SOURCES = codecs/length.c
codecs_length_la_CPPFLAGS = $(AM_CPPFLAGS) -DWEFT_PLUGIN_MODULE=length
codecs_length_la_LDFLAGS = -module -avoid-version -no-undefined -Wl,-z,defs \
	-export-symbols-regex '^(length_LTX_)?weft_plugin$$'
codecs_length_la_LIBADD = libweft.la
