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
  assert_int_equal(
      parse(LISTENER("  low_watermark = \"64k\"; high_watermark = \"64k\";\n"),
            NULL),
      1);
  expect_log("t.conf:1: low_watermark (65536) must be below high_watermark");
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

/* Options are checked by the plugins themselves, through the engine. */
static void test_plugin_option_errors(void **state) {
  weft_engine_t *e;
  int problems;

  (void)state;
  assert_int_equal(weft_engine_new(&e), 0);
  capture_start();
  assert_int_equal(
      weft_engine_load_string(
          e,
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
          "t.conf"),
      0);
  problems = weft_engine_check(e);
  log_text = capture_end();
  weft_engine_free(e);
  assert_int_equal(problems, 4);
  expect_log("t.conf:5: codec \"line\": unknown option \"max_lenght\"");
  expect_log("t.conf:6: listener \"a\":");
  expect_log("is a codec plugin, named here as a handler");
  expect_log("t.conf:8: listener \"b\": codec plugin \"nosuchcodec\" not found");
  expect_log("t.conf:9: listener \"b\":");
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
      cmocka_unit_test(test_units),
      cmocka_unit_test(test_plugin_option_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
