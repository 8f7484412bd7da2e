/* Unit tests for the `fixed` codec, driven through the real framer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "codec_util.h"

extern const weft_plugin_t fixed_LTX_weft_plugin;

#define PLUGIN (&fixed_LTX_weft_plugin)

static void open_fixed(cu_codec_t *c, int64_t size) {
  cu_opt_t opts[] = {CU_INT("frame_size", size), CU_END};

  if (cu_codec_open(c, PLUGIN, opts) != 0)
    fail_msg("fixed codec refused its options:\n%s", c->errors);
}

static void test_vectors(void **unused) {
  cu_codec_t c;

  (void)unused;
  open_fixed(&c, 1);
  cu_check_hex(&c, "", (const char *const[]){NULL}, 0, 0, 0);
  cu_check_hex(&c, "00 ff 'a'", (const char *const[]){"00", "ff", "'a'", NULL},
               0, 0, 0);
  cu_codec_close(&c);

  open_fixed(&c, 3);
  cu_check_hex(&c, "'abcdef'", (const char *const[]){"'abc'", "'def'", NULL}, 0,
               0, 0);
  cu_check_hex(&c, "'abcdefg'", (const char *const[]){"'abc'", "'def'", NULL},
               WEFT_ETRUNC, 6, 1);
  cu_check_hex(&c, "'ab'", (const char *const[]){NULL}, WEFT_ETRUNC, 0, 1);
  cu_codec_close(&c);
}

static void test_decode_record(void **unused) {
  static const uint8_t in[] = "abcdefgh";
  cu_codec_t c;
  weft_codec_ctx_t ctx;
  weft_decode_t d;

  (void)unused;
  open_fixed(&c, 5);
  memset(&ctx, 0, sizeof(ctx));
  ctx.vt = c.vt;
  ctx.state = c.state;
  /* The engine knows the size before any byte of a frame arrives. */
  memset(&d, 0, sizeof(d));
  assert_int_equal(c.vt->decode(&ctx, in, 4, &d), WEFT_DECODE_MORE);
  assert_int_equal(d.need, 5);
  memset(&d, 0, sizeof(d));
  assert_int_equal(c.vt->decode(&ctx, in, 8, &d), WEFT_DECODE_FRAME);
  assert_ptr_equal(d.frame, in);
  assert_int_equal(d.frame_len, 5);
  assert_int_equal(d.consumed, 5);
  cu_codec_close(&c);
}

/* The framer's buffer for a large frame grows to the frame size and no
 * further, whatever the reads. */
static void test_large(void **unused) {
  enum { N = 100000 };
  cu_codec_t c;
  cu_split_t s;
  cu_result_t r;
  uint8_t *in;
  uint64_t seed = 3;

  (void)unused;
  open_fixed(&c, N);
  in = malloc(2 * N);
  assert_non_null(in);
  cu_rand_bytes(&seed, in, 2 * N);
  memset(&s, 0, sizeof(s));
  s.kind = CU_RANDOM;
  s.arg = 5;
  cu_run(&c, in, 2 * N, s, 1, &r);
  assert_int_equal(r.error, 0);
  assert_int_equal(r.nframes, 2);
  cu_assert_frame(&r, 0, in, N);
  cu_assert_frame(&r, 1, in + N, N);
  assert_true(r.max_pending < N);
  cu_result_free(&r);
  free(in);
  cu_codec_close(&c);
}

static void test_encode(void **unused) {
  cu_codec_t c;
  weft__buf_t b;

  (void)unused;
  open_fixed(&c, 3);
  memset(&b, 0, sizeof(b));
  assert_int_equal(cu_encode(&c, "abc", 3, &b), 0);
  assert_int_equal(cu_encode(&c, "ab", 2, &b), WEFT_EINVAL);
  assert_int_equal(cu_encode(&c, NULL, 0, &b), WEFT_EINVAL);
  assert_int_equal(cu_encode(&c, "abcd", 4, &b), WEFT_EMSGSIZE);
  assert_int_equal(b.len, 3);
  assert_memory_equal(b.base, "abc", 3);
  weft__buf_free(&b);
  cu_codec_close(&c);
}

static void test_round_trip(void **unused) {
  cu_codec_t c;

  (void)unused;
  open_fixed(&c, 1);
  cu_round_trip(&c, 500, 1, 1, 1);
  cu_codec_close(&c);
  open_fixed(&c, 1000);
  cu_round_trip(&c, 50, 1000, 1000, 2);
  cu_codec_close(&c);
}

static void test_options(void **unused) {
  cu_codec_t c;
  cu_opt_t zero[] = {CU_INT("frame_size", 0), CU_END};
  cu_opt_t huge[] = {CU_STR("frame_size", "2G"), CU_END};
  cu_opt_t units[] = {CU_STR("frame_size", "4k"), CU_END};
  cu_opt_t unknown[] = {CU_INT("frame_size", 4), CU_INT("size", 4), CU_END};

  (void)unused;
  /* Required. */
  assert_int_equal(cu_codec_open(&c, PLUGIN, NULL), WEFT_EINVAL);
  assert_true(
      cu_codec_error_has(&c, "\"fixed\"", "frame_size", "required", NULL));
  assert_int_equal(cu_codec_open(&c, PLUGIN, zero), WEFT_EINVAL);
  assert_true(cu_codec_error_has(&c, "test.conf:1:", "frame_size", NULL));
  assert_int_equal(cu_codec_open(&c, PLUGIN, huge), WEFT_EINVAL);
  assert_int_equal(cu_codec_open(&c, PLUGIN, unknown), WEFT_EINVAL);
  assert_true(cu_codec_error_has(&c, "test.conf:2:", "unknown", "size", NULL));
  assert_int_equal(cu_codec_open(&c, PLUGIN, units), 0);
  cu_codec_close(&c);
}

static void test_descriptor(void **unused) {
  const weft_codec_vtable_t *vt = PLUGIN->vtable;

  (void)unused;
  assert_int_equal(PLUGIN->magic, WEFT_PLUGIN_MAGIC);
  assert_int_equal(PLUGIN->kind, WEFT_PLUGIN_CODEC);
  assert_string_equal(PLUGIN->name, "fixed");
  assert_int_equal(vt->struct_size, sizeof(weft_codec_vtable_t));
  assert_null(vt->conn_init);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_descriptor),    cmocka_unit_test(test_vectors),
      cmocka_unit_test(test_decode_record), cmocka_unit_test(test_large),
      cmocka_unit_test(test_encode),        cmocka_unit_test(test_round_trip),
      cmocka_unit_test(test_options),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
