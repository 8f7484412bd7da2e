## Codec plugins: libtool modules installed in $(pkglibdir).  Built like an
## out-of-tree plugin, so each exports the plain `weft_plugin` descriptor
## (plugin.h); the copies preloaded into weftd are built separately, with
## WEFT_PLUGIN_MODULE, by core/local.mk.  Only the descriptor is exported,
## and -z defs catches an unresolved symbol at link time, not at load.

pkglib_LTLIBRARIES += codecs/line.la
codecs_line_la_SOURCES = codecs/line.c
codecs_line_la_LDFLAGS = -module -avoid-version -no-undefined -Wl,-z,defs \
	-export-symbols-regex '^(line_LTX_)?weft_plugin$$'
codecs_line_la_LIBADD = libweft.la

pkglib_LTLIBRARIES += codecs/length.la
codecs_length_la_SOURCES = codecs/length.c
codecs_length_la_LDFLAGS = -module -avoid-version -no-undefined -Wl,-z,defs \
	-export-symbols-regex '^(length_LTX_)?weft_plugin$$'
codecs_length_la_LIBADD = libweft.la

pkglib_LTLIBRARIES += codecs/netstring.la
codecs_netstring_la_SOURCES = codecs/netstring.c
codecs_netstring_la_LDFLAGS = -module -avoid-version -no-undefined \
	-Wl,-z,defs -export-symbols-regex '^(netstring_LTX_)?weft_plugin$$'
codecs_netstring_la_LIBADD = libweft.la

pkglib_LTLIBRARIES += codecs/varint.la
codecs_varint_la_SOURCES = codecs/varint.c
codecs_varint_la_LDFLAGS = -module -avoid-version -no-undefined \
	-Wl,-z,defs -export-symbols-regex '^(varint_LTX_)?weft_plugin$$'
codecs_varint_la_LIBADD = libweft.la

pkglib_LTLIBRARIES += codecs/fixed.la
codecs_fixed_la_SOURCES = codecs/fixed.c
codecs_fixed_la_LDFLAGS = -module -avoid-version -no-undefined \
	-Wl,-z,defs -export-symbols-regex '^(fixed_LTX_)?weft_plugin$$'
codecs_fixed_la_LIBADD = libweft.la

pkglib_LTLIBRARIES += codecs/raw.la
codecs_raw_la_SOURCES = codecs/raw.c
codecs_raw_la_LDFLAGS = -module -avoid-version -no-undefined \
	-Wl,-z,defs -export-symbols-regex '^(raw_LTX_)?weft_plugin$$'
codecs_raw_la_LIBADD = libweft.la
