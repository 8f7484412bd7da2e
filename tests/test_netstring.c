/* Unit tests for the `netstring` codec, driven through the real framer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "codec_util.h"

extern const weft_plugin_t netstring_LTX_weft_plugin;

#define PLUGIN (&netstring_LTX_weft_plugin)
#define MAXF 8

typedef struct {
  const char *max_length; /* NULL: default (8M) */
  const char *in;         /* hex, see cu_hex() */
  const char *frames[MAXF];
  int error;
  uint64_t offset;
  int at_eof;
} vector_t;

#define NOERR 0, 0, 0

/* clang-format off */
static const vector_t vectors[] = {
    {NULL, "", {NULL}, NOERR},
    {NULL, "'0:,'", {""}, NOERR}, /* empty is a frame */
    {NULL, "'5:hello,'", {"'hello'"}, NOERR},
    {NULL, "'3:abc,0:,1:x,'", {"'abc'", "", "'x'"}, NOERR},
    {NULL, "'3:' 00 3a 2c ','", {"00 3a 2c"}, NOERR}, /* binary payload */
    {NULL, "'12:hello world!,'", {"'hello world!'"}, NOERR},
    /* Truncated at EOF: where the netstring began. */
    {NULL, "'5'", {NULL}, WEFT_ETRUNC, 0, 1},
    {NULL, "'5:'", {NULL}, WEFT_ETRUNC, 0, 1},
    {NULL, "'5:hell'", {NULL}, WEFT_ETRUNC, 0, 1},
    {NULL, "'5:hello'", {NULL}, WEFT_ETRUNC, 0, 1},
    {NULL, "'1:a,2:b'", {"'a'"}, WEFT_ETRUNC, 4, 1},
    /* Malformed: each where it is found, without waiting for EOF. */
    {NULL, "':abc,'", {NULL}, WEFT_EPROTO, 0, 0},
    {NULL, "'x:abc,'", {NULL}, WEFT_EPROTO, 0, 0},
    {NULL, "'3x:abc,'", {NULL}, WEFT_EPROTO, 1, 0},
    {NULL, "' 3:abc,'", {NULL}, WEFT_EPROTO, 0, 0},
    {NULL, "'-1:,'", {NULL}, WEFT_EPROTO, 0, 0},
    {NULL, "'+1:a,'", {NULL}, WEFT_EPROTO, 0, 0},
    {NULL, "'03:abc,'", {NULL}, WEFT_EPROTO, 1, 0}, /* leading zero */
    {NULL, "'00:,'", {NULL}, WEFT_EPROTO, 1, 0},
    {NULL, "'3:abc;'", {NULL}, WEFT_EPROTO, 5, 0},
    {NULL, "'3:abcd,'", {NULL}, WEFT_EPROTO, 5, 0},
    {NULL, "'1:a,1:b;1:c,'", {"'a'"}, WEFT_EPROTO, 7, 0},
    /* The limit, from the header alone, at the first digit past it. */
    {"10", "'10:0123456789,'", {"'0123456789'"}, NOERR},
    {"10", "'11:'", {NULL}, WEFT_EMSGSIZE, 1, 0},
    {"10", "'11'", {NULL}, WEFT_EMSGSIZE, 1, 0},
    {"10", "'100'", {NULL}, WEFT_EMSGSIZE, 2, 0},
    {"10", "'2:ab,99999999999999999999:'", {"'ab'"}, WEFT_EMSGSIZE, 6, 0},
    {"9", "'9:123456789,10:'", {"'123456789'"}, WEFT_EMSGSIZE, 13, 0},
    /* The default, 8M = 8388608, and the largest, 1G: no wrap. */
    {NULL, "'8388608:'", {NULL}, WEFT_ETRUNC, 0, 1},
    {NULL, "'8388609:'", {NULL}, WEFT_EMSGSIZE, 6, 0},
    {NULL, "'18446744073709551616:'", {NULL}, WEFT_EMSGSIZE, 7, 0},
    {"1G", "'1073741824:'", {NULL}, WEFT_ETRUNC, 0, 1},
    {"1G", "'1073741825:'", {NULL}, WEFT_EMSGSIZE, 9, 0},
    {"1G", "'99999999999999999999999:'", {NULL}, WEFT_EMSGSIZE, 9, 0},
};
/* clang-format on */

static void open_netstring(cu_codec_t *c, const char *max_length) {
  cu_opt_t opts[] = {CU_STR("max_length", max_length), CU_END};

  if (cu_codec_open(c, PLUGIN, max_length != NULL ? opts : NULL) != 0)
    fail_msg("netstring codec refused its options:\n%s", c->errors);
}

static void test_vectors(void **unused) {
  cu_codec_t c;
  size_t i;

  (void)unused;
  for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
    print_message("vector %zu: %s\n", i, vectors[i].in);
    open_netstring(&c, vectors[i].max_length);
    cu_check_hex(&c, vectors[i].in, vectors[i].frames, vectors[i].error,
                 vectors[i].offset, vectors[i].at_eof);
    cu_codec_close(&c);
  }
}

/* Exactly max passes; max + 1 is refused from the header, before any
 * payload, and the framer never held more than the header. */
static void test_limit(void **unused) {
  cu_codec_t c;
  cu_split_t s;
  cu_result_t r;
  char *in;
  size_t len;

  (void)unused;
  open_netstring(&c, "1000");
  in = malloc(1010);
  assert_non_null(in);
  len = (size_t)sprintf(in, "1000:");
  memset(in + len, 'p', 1000);
  in[len + 1000] = ',';
  cu_check_splits(&c, (const uint8_t *)in, len + 1001, 0, 1, &r);
  assert_int_equal(r.error, 0);
  assert_int_equal(r.nframes, 1);
  assert_int_equal(r.frame_len[0], 1000);
  cu_result_free(&r);

  memset(&s, 0, sizeof(s));
  s.kind = CU_BYTES;
  memcpy(in, "1001:", 5);
  cu_run(&c, (const uint8_t *)in, 4, s, 0, &r);
  assert_int_equal(r.error, WEFT_EMSGSIZE);
  assert_int_equal(r.error_offset, 3);
  assert_int_equal(r.reads, 4);
  assert_true(r.max_pending <= 3);
  cu_result_free(&r);
  free(in);
  cu_codec_close(&c);
}

static void test_decode_record(void **unused) {
  static const uint8_t partial[] = "5:he";
  cu_codec_t c;
  weft_codec_ctx_t ctx;
  weft_decode_t d;

  (void)unused;
  open_netstring(&c, NULL);
  memset(&ctx, 0, sizeof(ctx));
  ctx.vt = c.vt;
  ctx.state = c.state;

  /* Once the header is read, the engine is told the whole size. */
  memset(&d, 0, sizeof(d));
  assert_int_equal(c.vt->decode(&ctx, partial, 1, &d), WEFT_DECODE_MORE);
  assert_int_equal(d.need, 0);
  memset(&d, 0, sizeof(d));
  assert_int_equal(c.vt->decode(&ctx, partial, 4, &d), WEFT_DECODE_MORE);
  assert_int_equal(d.need, 8);
  memset(&d, 0, sizeof(d));
  assert_int_equal(c.vt->decode_eof(&ctx, partial, 4, &d), WEFT_DECODE_ERROR);
  assert_int_equal(d.error, WEFT_ETRUNC);
  assert_non_null(d.reason);
  assert_null(c.vt->conn_init);
  cu_codec_close(&c);
}

static void test_many_tiny(void **unused) {
  cu_codec_t c;
  cu_result_t r;
  char in[1000 * 8], want[8];
  size_t len = 0, i;

  (void)unused;
  open_netstring(&c, NULL);
  for (i = 0; i < 1000; i++) {
    snprintf(want, sizeof(want), "%zu", i);
    len += (size_t)sprintf(in + len, "%zu:%s,", strlen(want), want);
  }
  cu_check_splits(&c, (const uint8_t *)in, len, 0, 1, &r);
  assert_int_equal(r.error, 0);
  assert_int_equal(r.nframes, 1000);
  for (i = 0; i < 1000; i++) {
    snprintf(want, sizeof(want), "%zu", i);
    cu_assert_frame(&r, i, want, strlen(want));
  }
  assert_int_equal(r.reads, 1);
  assert_int_equal(r.max_pending, 0);
  cu_result_free(&r);
  cu_codec_close(&c);
}

static void test_encode(void **unused) {
  cu_codec_t c;
  weft__buf_t b;
  uint8_t big[11];

  (void)unused;
  open_netstring(&c, "10");
  memset(&b, 0, sizeof(b));
  assert_int_equal(cu_encode(&c, "hello", 5, &b), 0);
  assert_int_equal(cu_encode(&c, NULL, 0, &b), 0);
  memset(big, 'z', sizeof(big));
  assert_int_equal(cu_encode(&c, big, 10, &b), 0);
  assert_int_equal(b.len, 8 + 3 + 14);
  assert_memory_equal(b.base, "5:hello,0:,10:zzzzzzzzzz,", 25);
  assert_int_equal(cu_encode(&c, big, 11, &b), WEFT_EMSGSIZE);
  assert_int_equal(b.len, 25);
  weft__buf_free(&b);
  cu_codec_close(&c);
}

static void test_round_trip(void **unused) {
  cu_codec_t c;
  uint64_t seed;

  (void)unused;
  open_netstring(&c, "3000");
  for (seed = 1; seed <= 4; seed++)
    cu_round_trip(&c, 100, 0, 3000, seed);
  cu_codec_close(&c);
  open_netstring(&c, "9");
  cu_round_trip(&c, 300, 0, 9, 5);
  cu_codec_close(&c);
}

static void test_options(void **unused) {
  cu_codec_t c;
  cu_opt_t zero[] = {CU_INT("max_length", 0), CU_END};
  cu_opt_t huge[] = {CU_STR("max_length", "2G"), CU_END};
  cu_opt_t unknown[] = {CU_STR("max_frame", "1k"), CU_END};

  (void)unused;
  assert_int_equal(cu_codec_open(&c, PLUGIN, zero), WEFT_EINVAL);
  assert_true(cu_codec_error_has(&c, "test.conf:1:", "\"netstring\"",
                                 "max_length", NULL));
  assert_int_equal(cu_codec_open(&c, PLUGIN, huge), WEFT_EINVAL);
  assert_true(cu_codec_error_has(&c, "max_length", NULL));
  assert_int_equal(cu_codec_open(&c, PLUGIN, unknown), WEFT_EINVAL);
  assert_true(cu_codec_error_has(&c, "unknown", "max_frame", NULL));
}

static void test_descriptor(void **unused) {
  const weft_codec_vtable_t *vt = PLUGIN->vtable;

  (void)unused;
  assert_int_equal(PLUGIN->magic, WEFT_PLUGIN_MAGIC);
  assert_int_equal(PLUGIN->kind, WEFT_PLUGIN_CODEC);
  assert_string_equal(PLUGIN->name, "netstring");
  assert_int_equal(vt->struct_size, sizeof(weft_codec_vtable_t));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_descriptor), cmocka_unit_test(test_vectors),
      cmocka_unit_test(test_limit),      cmocka_unit_test(test_decode_record),
      cmocka_unit_test(test_many_tiny),  cmocka_unit_test(test_encode),
      cmocka_unit_test(test_round_trip), cmocka_unit_test(test_options),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
