/*
 * Configuration: every bad setting is refused with file:line and the key,
 * all problems in one pass; plugin option errors name the plugin, the
 * option and the line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "capture.h"
#include "conf.h"
#include "opts_internal.h"
#include "internal.h"

/* The built handler plugins, beside the codecs (no built-ins here). */
#define TEST_HANDLERS TEST_CODECS "/../../plugins/.libs"

static const char *log_text;

/* Parses text; returns the error count and leaves the log in log_text. */
static int parse(const char *text, weft__config_t **out) {
  weft__config_t *c;
  int nerr = 0;

  capture_start();
  c = weft__config_read_string(text, "t.conf", &nerr);
  log_text = capture_end();
  if (out != NULL)
    *out = c;
  else
    weft__config_free(c);
  return nerr;
}

static void expect_log(const char *needle) {
  if (strstr(log_text, needle) == NULL)
    fail_msg("log lacks \"%s\":\n%s", needle, log_text);
}

#define LISTENER(extra)                                                        \
  "listeners = ( { name = \"a\"; bind = \"127.0.0.1:7000\";\n"                 \
  "  codec = { name = \"line\"; }; handler = { name = \"echo\"; };\n" extra    \
  " } );\n"

static void test_valid(void **state) {
  weft__config_t *c;

  (void)state;
  assert_int_equal(
      parse("workers = 3;\nshutdown_grace = \"1500ms\";\n"
            "plugin_path = [ \"/x\", \"/y\" ];\n" LISTENER(
                "  high_watermark = \"128k\"; low_watermark = 1000;\n"),
            &c),
      0);
  assert_non_null(c);
  assert_int_equal(c->workers, 3);
  assert_int_equal(c->shutdown_grace_ms, 1500);
  assert_int_equal(c->npath, 2);
  assert_string_equal(c->plugin_path[1], "/y");
  assert_int_equal(c->nlisteners, 1);
  assert_string_equal(c->listeners[0].name, "a");
  assert_int_equal(c->listeners[0].addr.family, AF_INET);
  assert_int_equal(c->listeners[0].high_watermark, 128 * 1024);
  assert_int_equal(c->listeners[0].low_watermark, 1000);
  assert_string_equal(c->listeners[0].codec.name, "line");
  weft__config_free(c);
}

static void test_default_is_valid(void **state) {
  weft__config_t *c;
  int nerr = 0;

  (void)state;
  c = weft__config_read_string(weft__default_config, "<default>", &nerr);
  assert_int_equal(nerr, 0);
  assert_int_equal(c->nlisteners, 2);
  assert_string_equal(c->listeners[0].bind, "127.0.0.1:7000");
  assert_string_equal(c->listeners[1].bind, "127.0.0.1:7001");
  weft__config_free(c);
}

static void test_syntax_error_has_line(void **state) {
  (void)state;
  assert_int_equal(parse("workers = 2;\nlisteners = ( { name = ; } );\n", NULL),
                   1);
  expect_log("t.conf:2: syntax error");
}

static void test_bad_values(void **state) {
  (void)state;
  /* Every problem is reported in one pass, each with its line. */
  assert_int_equal(
      parse("workers = 0;\n"                          /* 1 */
            "shutdown_grace = \"5 parsecs\";\n"        /* 2 */
            "wrokers = 2;\n"                           /* 3 */
            "log_level = \"loud\";\n" LISTENER(        /* 4, 5, 6 */
                "  high_watermark = \"12q\";\n"        /* 7 */
                "  backlog = -1;\n"                    /* 8 */
                "  colour = \"blue\";\n"),             /* 9 */
            NULL),
      7);
  expect_log("t.conf:1: workers = 0 is out of range [1, 256]");
  expect_log("t.conf:2: shutdown_grace = \"5 parsecs\" is not a duration");
  expect_log("t.conf:3: unknown setting \"wrokers\"");
  expect_log("t.conf:4: log_level = \"loud\"");
  expect_log("t.conf:7: high_watermark = \"12q\" is not a size");
  expect_log("t.conf:8: backlog = -1 is out of range");
  expect_log("t.conf:9: unknown listener setting \"colour\"");
}

static void test_huge_numbers(void **state) {
  (void)state;
  assert_true(parse("workers = 99999999999999999999;\n" LISTENER(""), NULL) >=
              1);
  expect_log("t.conf:1:");
  assert_int_equal(parse("workers = -1;\n" LISTENER(""), NULL), 1);
  expect_log("t.conf:1: workers = -1 is out of range");
  assert_int_equal(
      parse(LISTENER("  high_watermark = \"99999999999999999999k\";\n"), NULL),
      1);
  expect_log("t.conf:3: high_watermark");
  assert_int_equal(parse("workers = 2.5;\n" LISTENER(""), NULL), 1);
  expect_log("t.conf:1: workers must be an integer");
}

static void test_listener_rules(void **state) {
  (void)state;
  assert_int_equal(parse("listeners = ( { name = \"a\"; } );\n", NULL), 3);
  expect_log("needs bind");
  expect_log("needs codec");
  expect_log("needs handler");
  /* Reported at the watermarks' line, with what to do. */
  assert_int_equal(
      parse(LISTENER("  low_watermark = \"64k\"; high_watermark = \"64k\";\n"),
            NULL),
      1);
  expect_log("t.conf:3: low_watermark (65536) must be below high_watermark "
             "(65536); lower the one or raise the other");
  assert_int_equal(
      parse("listeners = ( { name = \"a\"; bind = \"nowhere\";\n"
            "  codec = { name = \"line\"; plugin = \"./x.so\"; };\n"
            "  handler = { size = 3; }; } );\n",
            NULL),
      3);
  expect_log("t.conf:1: bind = \"nowhere\" is not an address");
  expect_log("t.conf:2: codec has both name and plugin");
  expect_log("t.conf:3: handler needs name");
  assert_int_equal(parse("workers = 1;\n", NULL), 1);
  expect_log("no listeners");
  /* A key of the wrong type is one problem, not also a missing key. */
  assert_int_equal(
      parse("listeners = ( { name = 7; bind = 8000;\n"
            "  codec = { name = 3; }; handler = { name = \"echo\"; }; } );\n",
            NULL),
      3);
  expect_log("t.conf:1: name must be a string");
  expect_log("t.conf:1: bind must be a string");
  expect_log("t.conf:2: name must be a string");
  if (strstr(log_text, "needs") != NULL)
    fail_msg("a present key reported as missing:\n%s", log_text);
}

/* An unknown key names what to do: the near key, or all of them. */
static void test_unknown_key_hints(void **state) {
  (void)state;
  assert_int_equal(
      parse("wrokers = 2;\n"
            "colour = 1;\n" LISTENER("  idle = \"5s\"; backlgo = 5;\n"
                                     "  frobnicate = true;\n"),
            NULL),
      5);
  expect_log("t.conf:1: unknown setting \"wrokers\"; did you mean "
             "\"workers\"?");
  expect_log("t.conf:2: unknown setting \"colour\"; use workers, plugin_path, "
             "shutdown_grace, mailbox_size, log_level or listeners");
  expect_log("t.conf:5: unknown listener setting \"idle\"; did you mean "
             "\"idle_timeout\"?");
  expect_log("t.conf:5: unknown listener setting \"backlgo\"; did you mean "
             "\"backlog\"?");
  expect_log("t.conf:6: unknown listener setting \"frobnicate\"; use name, "
             "bind, codec,");
}

static void test_closest(void **state) {
  static const char *const names[] = {"max_length", "delimiter", "strip_cr"};
  char buf[64];

  (void)state;
  assert_string_equal(weft__closest("max_lenght", names, 3), "max_length");
  assert_string_equal(weft__closest("max_len", names, 3), "max_length");
  assert_string_equal(weft__closest("delimitr", names, 3), "delimiter");
  assert_null(weft__closest("colour", names, 3));
  assert_null(weft__closest("x", names, 3)); /* too short to guess */
  assert_null(weft__closest("max_length", names, 0));
  weft__names_join(buf, sizeof(buf), names, 3, " or ");
  assert_string_equal(buf, "max_length, delimiter or strip_cr");
  weft__names_join(buf, sizeof(buf), names, 1, " or ");
  assert_string_equal(buf, "max_length");
  weft__names_join(buf, 12, names, 3, " or ");
  assert_string_equal(buf, "max_length,");
}

static void test_duplicates(void **state) {
  (void)state;
  assert_int_equal(
      parse("listeners = (\n"
            " { name = \"a\"; bind = \"127.0.0.1:7000\"; codec = { name = "
            "\"line\"; }; handler = { name = \"echo\"; }; },\n"
            " { name = \"a\"; bind = \"127.0.0.1:7000\"; codec = { name = "
            "\"line\"; }; handler = { name = \"echo\"; }; } );\n",
            NULL),
      2);
  expect_log("t.conf:3: listener name \"a\" is already used at line 2");
  expect_log("t.conf:3: bind = \"127.0.0.1:7000\" is already used at line 2");
}

static void test_addresses(void **state) {
  weft__addr_t a;

  (void)state;
  assert_int_equal(weft__addr_parse("127.0.0.1:80", &a), 0);
  assert_int_equal(a.family, AF_INET);
  assert_int_equal(weft__addr_parse("[::1]:0", &a), 0);
  assert_int_equal(a.family, AF_INET6);
  assert_int_equal(weft__addr_parse("unix:/tmp/x.sock", &a), 0);
  assert_int_equal(a.family, AF_UNIX);
  assert_string_equal(a.unix_path, "/tmp/x.sock");
  assert_int_equal(weft__addr_parse("*:7000", &a), 0);
  assert_int_equal(weft__addr_parse("1.2.3.4:65536", &a), WEFT_EINVAL);
  assert_int_equal(weft__addr_parse("1.2.3.4:-1", &a), WEFT_EINVAL);
  assert_int_equal(weft__addr_parse("1.2.3.4", &a), WEFT_EINVAL);
  assert_int_equal(weft__addr_parse("::1:80", &a), 0); /* last colon: port */
  assert_int_equal(weft__addr_parse("example.com:80", &a), WEFT_EINVAL);
  assert_int_equal(weft__addr_parse("unix:", &a), WEFT_EINVAL);
}

/* Host names, for outbound connections (weft_connect): "name:port". */
static void test_address_names(void **state) {
  static const char *const bad[] = {
      /* No port, port 0 or out of range, a sign, junk after it. */
      "db", "db:0", "db:65536", "db:+80", "db:80x",
      /* Not a name: empty, a space, a bracket, a Unix path. */
      ":80", "a b:80", "[db]:80", "unix:/x"};
  char host[256], port[8];
  size_t i;

  (void)state;
  assert_int_equal(weft__addr_name("db.example.com:5432", host, sizeof(host),
                                   port),
                   0);
  assert_string_equal(host, "db.example.com");
  assert_string_equal(port, "5432");
  assert_int_equal(weft__addr_name("localhost:007", host, sizeof(host), port),
                   0);
  assert_string_equal(port, "7");
  assert_int_equal(weft__addr_name("my_host-1:1", host, sizeof(host), port),
                   0);
  for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    if (weft__addr_name(bad[i], host, sizeof(host), port) != WEFT_EINVAL)
      fail_msg("\"%s\" was taken for a host name", bad[i]);
  /* Too long for the caller's buffer. */
  assert_int_equal(weft__addr_name("db:80", host, 2, port), WEFT_EINVAL);
}

static void test_units(void **state) {
  uint64_t v;

  (void)state;
  assert_int_equal(weft__parse_size("64k", &v), 0);
  assert_int_equal(v, 65536);
  assert_int_equal(weft__parse_size("8M", &v), 0);
  assert_int_equal(v, 8 << 20);
  assert_int_equal(weft__parse_size("0", &v), 0);
  assert_int_equal(weft__parse_size("-1", &v), WEFT_EINVAL);
  assert_int_equal(weft__parse_size("18446744073709551616", &v), WEFT_EINVAL);
  assert_int_equal(weft__parse_size("17179869184G", &v), WEFT_EINVAL);
  assert_int_equal(weft__parse_size("1x", &v), WEFT_EINVAL);
  assert_int_equal(weft__parse_duration("250ms", &v), 0);
  assert_int_equal(v, 250);
  assert_int_equal(weft__parse_duration("2m", &v), 0);
  assert_int_equal(v, 120000);
  assert_int_equal(weft__parse_duration("30", &v), WEFT_EINVAL);
}

/*
 * Loads text as "t.conf" (expecting load_rc) and runs weft_engine_check()
 * with the log captured into log_text.  Returns the engine (free it) and
 * the number of problems in *problems.
 */
static weft_engine_t *check_text(const char *text, int load_rc,
                                 int *problems) {
  weft_engine_t *e;

  assert_int_equal(weft_engine_new(&e), 0);
  capture_start();
  assert_int_equal(weft_engine_load_string(e, text, "t.conf"), load_rc);
  *problems = weft_engine_check(e);
  log_text = capture_end();
  return e;
}

/* Options are checked by the plugins themselves, through the engine. */
static void test_plugin_option_errors(void **state) {
  int problems;

  (void)state;
  weft_engine_free(check_text(
          "plugin_path = [ \"" TEST_CODECS "\", \"" TEST_PLUGINS "/.libs\" ];\n"
          "listeners = (\n"
          " { name = \"a\"; bind = \"127.0.0.1:0\";\n"
          "   codec = { name = \"line\";\n"
          "     max_lenght = \"8k\"; };\n"      /* line 5 */
          "   handler = { plugin = \"" TEST_PLUGINS "/.libs/tcodec.so\"; }; },\n"
          " { name = \"b\"; bind = \"127.0.0.1:0\";\n"
          "   codec = { name = \"nosuchcodec\"; };\n" /* line 8 */
          "   handler = { plugin = \"" TEST_PLUGINS "/.libs/tcodec.so\"; }; }\n"
          ");\n",
          0, &problems));
  assert_int_equal(problems, 4);
  expect_log("t.conf:5: codec \"line\": unknown option \"max_lenght\"");
  expect_log("t.conf:6: listener \"a\":");
  expect_log("is a codec plugin, named here as a handler");
  expect_log("t.conf:8: listener \"b\": codec plugin \"nosuchcodec\" not found");
  expect_log("t.conf:9: listener \"b\":");
}

/* An unknown option names the options the plugin asked for. */
static void test_unknown_option_hints(void **state) {
  weft_opts_t *o;
  int64_t v;
  const char *str;

  (void)state;
  o = weft__opts_new("codec", "demo", "t.conf");
  assert_non_null(o);
  assert_int_equal(weft__opts_add_int(o, "max_lenght", 5, 3), 0);
  assert_int_equal(weft__opts_add_int(o, "colour", 1, 4), 0);
  assert_int_equal(weft_opt_int(o, "max_length", 1, 0, 9, &v), 0);
  assert_int_equal(weft_opt_str(o, "mode", "a", &str), 0);
  weft__opts_check_unused(o);
  assert_int_equal(weft__opts_nerrors(o), 2);
  assert_string_equal(weft__opts_error(o, 0),
                      "t.conf:3: codec \"demo\": unknown option "
                      "\"max_lenght\"; did you mean \"max_length\"?");
  assert_string_equal(weft__opts_error(o, 1),
                      "t.conf:4: codec \"demo\": unknown option \"colour\"; "
                      "it takes max_length and mode");
  weft__opts_free(o);
  o = weft__opts_new("handler", "quiet", "t.conf");
  assert_int_equal(weft__opts_add_bool(o, "loud", 1, 7), 0);
  weft__opts_check_unused(o);
  assert_string_equal(weft__opts_error(o, 0),
                      "t.conf:7: handler \"quiet\": unknown option \"loud\"; "
                      "it takes no options: remove it");
  weft__opts_free(o);
}

/* A string from a fixed set: its index, the default, or an error. */
static void test_opt_choice(void **state) {
  static const char *const modes[] = {"close", "discard", "wait", NULL};
  weft_opts_t *o;
  int v = -1;

  (void)state;
  o = weft__opts_new("codec", "demo", "t.conf");
  assert_non_null(o);
  assert_int_equal(weft__opts_add_str(o, "mode", "wait", 2), 0);
  assert_int_equal(weft__opts_add_str(o, "bad", "drop", 3), 0);
  assert_int_equal(weft__opts_add_int(o, "num", 1, 4), 0);
  assert_int_equal(weft_opt_choice(o, "mode", modes, 0, &v), 0);
  assert_int_equal(v, 2);
  assert_int_equal(weft_opt_choice(o, "absent", modes, 1, &v), 0);
  assert_int_equal(v, 1);
  assert_int_equal(weft_opt_choice(o, "bad", modes, 0, &v), WEFT_EINVAL);
  assert_int_equal(weft_opt_choice(o, "num", modes, 0, &v), WEFT_EINVAL);
  assert_int_equal(weft__opts_nerrors(o), 2);
  assert_string_equal(weft__opts_error(o, 0),
                      "t.conf:3: codec \"demo\": option \"bad\": must be "
                      "\"close\", \"discard\" or \"wait\", not \"drop\"");
  assert_non_null(strstr(weft__opts_error(o, 1), "\"num\" must be a string"));
  weft__opts_free(o);
}

/*
 * A refused configuration is still checked: weft_engine_check() counts the
 * file's problems and goes on to the plugins of every listener it could
 * read, so one run lists both kinds.
 */
static void test_check_refused(void **state) {
  weft_engine_t *e;
  int problems;

  (void)state;
  e = check_text(
          "plugin_path = [ \"" TEST_CODECS "\", \"" TEST_HANDLERS "\" ];\n"
          "colour = 1;\n" /* 2 */
          "listeners = (\n"
          " { name = \"a\"; bind = \"127.0.0.1:0\"; backlog = 0;\n" /* 4 */
          "   codec = { name = \"line\"; max_length = -5; };\n"     /* 5 */
          "   handler = { name = \"echo\"; }; },\n"
          " { name = \"b\"; bind = \"127.0.0.1:0\";\n"
          "   codec = { name = 5; };\n"                     /* 8 */
          "   handler = { name = \"nosuchhandler\"; }; }\n" /* 9 */
          ");\n",
          WEFT_ECONFIG, &problems);
  /* Not started: the refused file never replaces the running one. */
  assert_int_equal(weft_engine_start(e), WEFT_EINVAL);
  weft_engine_free(e);
  assert_int_equal(problems, 5);
  expect_log("t.conf:2: unknown setting \"colour\"");
  expect_log("t.conf:4: backlog = 0 is out of range [1, 65535]");
  expect_log("t.conf:8: name must be a string");
  expect_log("t.conf:5: codec \"line\": option \"max_length\" must not be "
             "negative");
  expect_log("t.conf:9: listener \"b\": handler plugin \"nosuchhandler\" "
             "not found (searched: " TEST_CODECS
             "/nosuchhandler.so, " TEST_HANDLERS
             "/nosuchhandler.so, built-ins");
}

/* A file libconfig cannot read: one problem, and check says so again. */
static void test_check_unreadable(void **state) {
  int problems;

  (void)state;
  weft_engine_free(check_text("workers = ;\n", WEFT_ECONFIG, &problems));
  assert_int_equal(problems, 1);
  expect_log("t.conf:1: syntax error; fix it and check again (reading stops "
             "at the first syntax error)");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_valid),
      cmocka_unit_test(test_default_is_valid),
      cmocka_unit_test(test_syntax_error_has_line),
      cmocka_unit_test(test_bad_values),
      cmocka_unit_test(test_huge_numbers),
      cmocka_unit_test(test_listener_rules),
      cmocka_unit_test(test_duplicates),
      cmocka_unit_test(test_addresses),
      cmocka_unit_test(test_address_names),
      cmocka_unit_test(test_units),
      cmocka_unit_test(test_plugin_option_errors),
      cmocka_unit_test(test_unknown_key_hints),
      cmocka_unit_test(test_closest),
      cmocka_unit_test(test_unknown_option_hints),
      cmocka_unit_test(test_opt_choice),
      cmocka_unit_test(test_check_refused),
      cmocka_unit_test(test_check_unreadable),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
