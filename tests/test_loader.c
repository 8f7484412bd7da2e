/*
 * The plugin loader refuses each kind of broken plugin with its own
 * message naming the file, and accepts what the ABI promises to accept.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "plugin_loader.h"

#define LIBS TEST_PLUGINS "/.libs"

static char err[4096];

typedef struct {
  weft__plugins_t reg;
  const char *search[2];
  char tmp[64];
} fixture_t;

static int setup(void **state) {
  fixture_t *f = calloc(1, sizeof(*f));

  assert_non_null(f);
  strcpy(f->tmp, "/tmp/weft-loader-XXXXXX");
  assert_non_null(mkdtemp(f->tmp));
  f->search[0] = f->tmp;
  assert_int_equal(weft__plugins_init(&f->reg, f->search, 1, LIBS), 0);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture_t *f = *state;
  char cmd[128];

  weft__plugins_destroy(&f->reg);
  snprintf(cmd, sizeof(cmd), "rm -rf %s", f->tmp);
  assert_int_equal(system(cmd), 0);
  free(f);
  return 0;
}

/* Loading path (or name) must fail with a message containing each string. */
static void expect_refusal(fixture_t *f, const char *name, const char *path,
                           uint32_t kind, ...) {
  const char *needle;
  va_list ap;

  assert_null(weft__plugin_load(&f->reg, name, path, kind, err, sizeof(err)));
  va_start(ap, kind);
  while ((needle = va_arg(ap, const char *)) != NULL) {
    if (strstr(err, needle) == NULL)
      fail_msg("message \"%s\" lacks \"%s\"", err, needle);
  }
  va_end(ap);
}

static void copy_file(const char *from, const char *to, mode_t mode) {
  char buf[8192];
  FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
  size_t n;

  assert_non_null(in);
  assert_non_null(out);
  while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
    assert_int_equal(fwrite(buf, 1, n, out), n);
  fclose(in);
  fclose(out);
  assert_int_equal(chmod(to, mode), 0);
}

static void test_good_by_path(void **state) {
  fixture_t *f = *state;
  weft__plugin_t *p, *again;

  p = weft__plugin_load(&f->reg, NULL, LIBS "/tcodec.so", WEFT_PLUGIN_CODEC,
                        err, sizeof(err));
  if (p == NULL)
    fail_msg("%s", err);
  assert_string_equal(p->name, "tcodec");
  assert_non_null(p->codec.decode);
  /* The same file again is the same plugin, counted twice. */
  again = weft__plugin_load(&f->reg, NULL, LIBS "/tcodec.so",
                            WEFT_PLUGIN_CODEC, err, sizeof(err));
  assert_ptr_equal(p, again);
  assert_int_equal(p->refs, 2);
  weft__plugin_release(&f->reg, again);
  weft__plugin_release(&f->reg, p);
}

static void test_by_name_in_plugin_path(void **state) {
  fixture_t *f = *state;
  char path[256];
  weft__plugin_t *p;

  snprintf(path, sizeof(path), "%s/tcodec.so", f->tmp);
  copy_file(LIBS "/tcodec.so", path, 0755);
  p = weft__plugin_load(&f->reg, "tcodec", NULL, WEFT_PLUGIN_CODEC, err,
                        sizeof(err));
  if (p == NULL)
    fail_msg("%s", err);
  assert_non_null(strstr(p->file, f->tmp));
  weft__plugin_release(&f->reg, p);
}

static void test_missing(void **state) {
  fixture_t *f = *state;

  expect_refusal(f, NULL, LIBS "/nothing-here.so", WEFT_PLUGIN_CODEC,
                 "nothing-here.so", "No such file", NULL);
  /* By name: every place searched is listed. */
  expect_refusal(f, "nothing", NULL, WEFT_PLUGIN_CODEC,
                 "codec plugin \"nothing\" not found", f->tmp, "built-ins",
                 LIBS "/nothing.so", NULL);
  expect_refusal(f, "../etc", NULL, WEFT_PLUGIN_CODEC, "is not valid", NULL);
}

static void test_not_a_shared_object(void **state) {
  fixture_t *f = *state;
  char path[256];
  FILE *fp;

  snprintf(path, sizeof(path), "%s/text.so", f->tmp);
  fp = fopen(path, "w");
  assert_non_null(fp);
  fputs("this is not an ELF file\n", fp);
  fclose(fp);
  expect_refusal(f, NULL, path, WEFT_PLUGIN_CODEC, "text.so", "cannot load",
                 NULL);
  /* The dynamic loader's own reason, never a bare "file not found". */
  assert_null(strstr(err, "file not found"));
}

static void test_missing_dependency(void **state) {
  expect_refusal(*state, NULL, TEST_PLUGINS "/needgone.so", WEFT_PLUGIN_CODEC,
                 "needgone.so", "cannot load",
                 "libweftgone-never-installed.so", NULL);
}

static void test_unresolved_symbol(void **state) {
  expect_refusal(*state, NULL, TEST_PLUGINS "/undefsym.so", WEFT_PLUGIN_CODEC,
                 "undefsym.so", "undefined symbol",
                 "weft_no_such_function_anywhere", NULL);
}

static void test_no_descriptor(void **state) {
  expect_refusal(*state, NULL, LIBS "/nosym.so", WEFT_PLUGIN_CODEC, "nosym.so",
                 "not a weft plugin", "\"weft_plugin\"", NULL);
}

static void test_bad_magic(void **state) {
  expect_refusal(*state, NULL, LIBS "/badmagic.so", WEFT_PLUGIN_CODEC,
                 "badmagic.so", "0xdeadbeef", "0x57454654", NULL);
}

static void test_abi_major(void **state) {
  char mine[32], theirs[32];

  snprintf(theirs, sizeof(theirs), "ABI %d.%d", WEFT_ABI_MAJOR + 1,
           WEFT_ABI_MINOR);
  snprintf(mine, sizeof(mine), "ABI %d.%d", WEFT_ABI_MAJOR, WEFT_ABI_MINOR);
  expect_refusal(*state, NULL, LIBS "/badmajor.so", WEFT_PLUGIN_CODEC,
                 "badmajor.so", theirs, mine, NULL);
}

static void test_small_structs(void **state) {
  expect_refusal(*state, NULL, LIBS "/smalldesc.so", WEFT_PLUGIN_CODEC,
                 "smalldesc.so", "descriptor is 8 bytes", NULL);
  expect_refusal(*state, NULL, LIBS "/smallvt.so", WEFT_PLUGIN_CODEC,
                 "smallvt.so", "vtable is 8 bytes", NULL);
}

static void test_required_callback(void **state) {
  expect_refusal(*state, NULL, LIBS "/nodecode.so", WEFT_PLUGIN_CODEC,
                 "nodecode.so", "required callback (decode)", NULL);
}

static void test_unknown_kind(void **state) {
  expect_refusal(*state, NULL, LIBS "/badkind.so", WEFT_PLUGIN_CODEC,
                 "badkind.so", "unknown plugin kind 7", NULL);
}

static void test_wrong_kind(void **state) {
  expect_refusal(*state, NULL, LIBS "/tcodec.so", WEFT_PLUGIN_HANDLER,
                 "tcodec.so", "is a codec plugin, named here as a handler",
                 NULL);
}

static void test_newer_minor_accepted(void **state) {
  fixture_t *f = *state;
  weft__plugin_t *p;

  p = weft__plugin_load(&f->reg, NULL, LIBS "/newminor.so", WEFT_PLUGIN_CODEC,
                        err, sizeof(err));
  if (p == NULL)
    fail_msg("%s", err);
  /* Members past what this weft knows are ignored, not copied. */
  assert_int_equal(p->codec.struct_size, sizeof(weft_codec_vtable_t));
  assert_int_equal(p->desc->abi_minor, 99);
  weft__plugin_release(&f->reg, p);
}

static void test_duplicate_name(void **state) {
  fixture_t *f = *state;
  weft__plugin_t *p;

  p = weft__plugin_load(&f->reg, NULL, LIBS "/tcodec.so", WEFT_PLUGIN_CODEC,
                        err, sizeof(err));
  assert_non_null(p);
  expect_refusal(f, NULL, LIBS "/tcodec2.so", WEFT_PLUGIN_CODEC, "tcodec2.so",
                 "name \"tcodec\" is already provided by", "tcodec.so", NULL);
  weft__plugin_release(&f->reg, p);
}

static void test_name_mismatch(void **state) {
  fixture_t *f = *state;
  char path[256];

  /* A file found as "other" that says it is "tcodec". */
  snprintf(path, sizeof(path), "%s/other.so", f->tmp);
  copy_file(LIBS "/tcodec.so", path, 0755);
  expect_refusal(f, "other", NULL, WEFT_PLUGIN_CODEC, "other.so",
                 "declares the name \"tcodec\", expected \"other\"", NULL);
}

static void test_symlink_and_writable(void **state) {
  fixture_t *f = *state;
  char path[256], link[256];

  snprintf(path, sizeof(path), "%s/tcodec.so", f->tmp);
  snprintf(link, sizeof(link), "%s/link.so", f->tmp);
  copy_file(LIBS "/tcodec.so", path, 0755);
  assert_int_equal(symlink(path, link), 0);
  expect_refusal(f, NULL, link, WEFT_PLUGIN_CODEC, "link.so",
                 "symbolic link", NULL);
  assert_int_equal(chmod(path, 0777), 0);
  expect_refusal(f, NULL, path, WEFT_PLUGIN_CODEC, "tcodec.so",
                 "group- or world-writable", NULL);
  assert_int_equal(chmod(path, 0755), 0);
  assert_int_equal(chmod(f->tmp, 0777), 0);
  expect_refusal(f, NULL, path, WEFT_PLUGIN_CODEC, "world-writable directory",
                 NULL);
  assert_int_equal(chmod(f->tmp, 0700), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
      T(test_good_by_path),
      T(test_by_name_in_plugin_path),
      T(test_missing),
      T(test_not_a_shared_object),
      T(test_missing_dependency),
      T(test_unresolved_symbol),
      T(test_no_descriptor),
      T(test_bad_magic),
      T(test_abi_major),
      T(test_small_structs),
      T(test_required_callback),
      T(test_unknown_kind),
      T(test_wrong_kind),
      T(test_newer_minor_accepted),
      T(test_duplicate_name),
      T(test_name_mismatch),
      T(test_symlink_and_writable),
#undef T
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
