## Plugin loader tests: plugins broken on purpose, one way each.
TEST_PLUGIN_LDFLAGS = -module -avoid-version -no-undefined -rpath /nowhere \
	-Wl,-z,defs
check_LTLIBRARIES += tests/plugins/tcodec.la tests/plugins/tcodec2.la \
	tests/plugins/nosym.la tests/plugins/badmagic.la tests/plugins/badmajor.la \
	tests/plugins/smalldesc.la tests/plugins/smallvt.la \
	tests/plugins/nodecode.la tests/plugins/badkind.la \
	tests/plugins/newminor.la

tests_plugins_tcodec_la_SOURCES = tests/plugins/tcodec.c
tests_plugins_tcodec_la_CPPFLAGS = $(AM_CPPFLAGS) -DTCODEC_NAME='"tcodec"'
tests_plugins_tcodec_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
tests_plugins_tcodec_la_LIBADD = libweft.la
# Same name declared by another file: a duplicate, or a name mismatch.
tests_plugins_tcodec2_la_SOURCES = tests/plugins/tcodec.c
tests_plugins_tcodec2_la_CPPFLAGS = $(AM_CPPFLAGS) -DTCODEC_NAME='"tcodec"'
tests_plugins_tcodec2_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
tests_plugins_tcodec2_la_LIBADD = libweft.la
tests_plugins_nosym_la_SOURCES = tests/plugins/nosym.c
tests_plugins_nosym_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
tests_plugins_badmagic_la_SOURCES = tests/plugins/baddesc.c
tests_plugins_badmagic_la_CPPFLAGS = $(AM_CPPFLAGS) -DBADDESC_MAGIC -DBADDESC_NAME='"badmagic"'
tests_plugins_badmagic_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
tests_plugins_badmagic_la_LIBADD = libweft.la
tests_plugins_badmajor_la_SOURCES = tests/plugins/baddesc.c
tests_plugins_badmajor_la_CPPFLAGS = $(AM_CPPFLAGS) -DBADDESC_MAJOR -DBADDESC_NAME='"badmajor"'
tests_plugins_badmajor_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
tests_plugins_badmajor_la_LIBADD = libweft.la
tests_plugins_smalldesc_la_SOURCES = tests/plugins/baddesc.c
tests_plugins_smalldesc_la_CPPFLAGS = $(AM_CPPFLAGS) -DBADDESC_SMALLDESC -DBADDESC_NAME='"smalldesc"'
tests_plugins_smalldesc_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
tests_plugins_smalldesc_la_LIBADD = libweft.la
tests_plugins_smallvt_la_SOURCES = tests/plugins/baddesc.c
tests_plugins_smallvt_la_CPPFLAGS = $(AM_CPPFLAGS) -DBADDESC_SMALLVT -DBADDESC_NAME='"smallvt"'
tests_plugins_smallvt_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
tests_plugins_smallvt_la_LIBADD = libweft.la
tests_plugins_nodecode_la_SOURCES = tests/plugins/baddesc.c
tests_plugins_nodecode_la_CPPFLAGS = $(AM_CPPFLAGS) -DBADDESC_NODECODE -DBADDESC_NAME='"nodecode"'
tests_plugins_nodecode_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
tests_plugins_nodecode_la_LIBADD = libweft.la
tests_plugins_badkind_la_SOURCES = tests/plugins/baddesc.c
tests_plugins_badkind_la_CPPFLAGS = $(AM_CPPFLAGS) -DBADDESC_KIND -DBADDESC_NAME='"badkind"'
tests_plugins_badkind_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
tests_plugins_badkind_la_LIBADD = libweft.la
tests_plugins_newminor_la_SOURCES = tests/plugins/baddesc.c
tests_plugins_newminor_la_CPPFLAGS = $(AM_CPPFLAGS) -DBADDESC_NEWMINOR
tests_plugins_newminor_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
tests_plugins_newminor_la_LIBADD = libweft.la

# Failures of the dynamic loader itself, built without libtool: a plugin
# whose library dependency has a soname that exists nowhere, and one with
# an unresolved symbol (no -z defs on purpose).
check_DATA += tests/plugins/needgone.so tests/plugins/undefsym.so
CLEANFILES += tests/plugins/needgone.so tests/plugins/undefsym.so \
	tests/plugins/libweftgone.so
EXTRA_DIST += tests/plugins/needgone.c tests/plugins/undefsym.c \
	tests/plugins/weftgone.c
tests/plugins/libweftgone.so: tests/plugins/weftgone.c
	@$(MKDIR_P) tests/plugins
	$(AM_V_CC)$(CC) $(SAN_FLAGS) -shared -fPIC -o $@ \
		-Wl,-soname,libweftgone-never-installed.so $(srcdir)/tests/plugins/weftgone.c
tests/plugins/needgone.so: tests/plugins/needgone.c tests/plugins/libweftgone.so
	$(AM_V_CC)$(CC) $(AM_CPPFLAGS) $(SAN_FLAGS) -shared -fPIC -o $@ \
		$(srcdir)/tests/plugins/needgone.c tests/plugins/libweftgone.so
tests/plugins/undefsym.so: tests/plugins/undefsym.c
	@$(MKDIR_P) tests/plugins
	$(AM_V_CC)$(CC) $(AM_CPPFLAGS) $(SAN_FLAGS) -shared -fPIC -o $@ \
		$(srcdir)/tests/plugins/undefsym.c

check_PROGRAMS += tests/test_loader tests/test_config
TESTS += tests/test_loader tests/test_config
tests_test_loader_SOURCES = tests/test_loader.c tests/capture.c tests/capture.h
tests_test_loader_CPPFLAGS = $(AM_CPPFLAGS) \
	-DTEST_PLUGINS='"$(abs_top_builddir)/tests/plugins"' \
	-DTEST_CODECS='"$(abs_top_builddir)/codecs/.libs"'
tests_test_loader_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_loader_LDADD = core/libweftcore.la $(CMOCKA_LIBS)
tests_test_config_SOURCES = tests/test_config.c tests/capture.c tests/capture.h
tests_test_config_CPPFLAGS = $(AM_CPPFLAGS) \
	-DTEST_CODECS='"$(abs_top_builddir)/codecs/.libs"' \
	-DTEST_PLUGINS='"$(abs_top_builddir)/tests/plugins"'
tests_test_config_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_config_LDADD = core/libweftcore.la $(CMOCKA_LIBS)

TESTS += tests/weftd_cli.sh
EXTRA_DIST += tests/weftd_cli.sh
TESTS += tests/headers.sh
EXTRA_DIST += tests/headers.sh
TESTS += tests/reload.sh
EXTRA_DIST += tests/reload.sh
