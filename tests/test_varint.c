/* Unit tests for the `varint` codec, driven through the real framer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "codec_util.h"

extern const weft_plugin_t varint_LTX_weft_plugin;

#define PLUGIN (&varint_LTX_weft_plugin)
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
    {NULL, "00", {""}, NOERR}, /* empty is a frame */
    {NULL, "03 'abc' 00 01 ff", {"'abc'", "", "ff"}, NOERR},
    /* 300 = ac 02, as protobuf's documentation writes it. */
    {"300", "ac02", {NULL}, WEFT_ETRUNC, 0, 1},
    {"299", "ac02", {NULL}, WEFT_EMSGSIZE, 1, 0},
    /* Non-minimal prefixes are accepted, up to 10 bytes. */
    {NULL, "80 00", {""}, NOERR},
    {NULL, "81 80 00 'a'", {"'a'"}, NOERR},
    {NULL, "80 80 80 80 80 80 80 80 80 00 01 'z'", {"", "'z'"}, NOERR},
    /* An 11th byte, or a 10th byte past bit 63: errors at the 10th. */
    {NULL, "80 80 80 80 80 80 80 80 80 80 00", {NULL}, WEFT_EPROTO, 9, 0},
    {NULL, "80 80 80 80 80 80 80 80 80 02", {NULL}, WEFT_EPROTO, 9, 0},
    {NULL, "80 80 80 80 80 80 80 80 80 7f", {NULL}, WEFT_EPROTO, 9, 0},
    {NULL, "80 80 80 80 80 80 80 80 80 01", {NULL}, WEFT_EMSGSIZE, 9, 0},
    /* 2^64 - 1, and every other huge value: from the prefix alone, as soon
     * as the bytes so far prove it, before the prefix ends. */
    {NULL, "ff ff ff ff ff ff ff ff ff 01", {NULL}, WEFT_EMSGSIZE, 3, 0},
    {NULL, "ff ff ff ff", {NULL}, WEFT_EMSGSIZE, 3, 0},
    {NULL, "80 80 80 08", {NULL}, WEFT_EMSGSIZE, 3, 0}, /* 2^24 = 16M */
    {NULL, "80 80 80 04", {NULL}, WEFT_ETRUNC, 0, 1},   /* 2^23 = 8M */
    {NULL, "81 80 80 04", {NULL}, WEFT_EMSGSIZE, 3, 0}, /* 8M + 1 */
    {NULL, "80 80 80 80 10", {NULL}, WEFT_EMSGSIZE, 4, 0},
    {"1G", "80 80 80 80 04", {NULL}, WEFT_ETRUNC, 0, 1}, /* 2^30 */
    {"1G", "81 80 80 80 04", {NULL}, WEFT_EMSGSIZE, 4, 0},
    /* Truncated at EOF: where the frame began. */
    {NULL, "80", {NULL}, WEFT_ETRUNC, 0, 1},
    {NULL, "05 'abc'", {NULL}, WEFT_ETRUNC, 0, 1},
    {NULL, "01 'a' 02 'b'", {"'a'"}, WEFT_ETRUNC, 2, 1},
    /* A small limit: exactly it passes, one more fails at its prefix. */
    {"4", "04 'abcd' 05", {"'abcd'"}, WEFT_EMSGSIZE, 5, 0},
    {"127", "7f", {NULL}, WEFT_ETRUNC, 0, 1},
    {"127", "80 01", {NULL}, WEFT_EMSGSIZE, 1, 0},
    {"128", "80 01", {NULL}, WEFT_ETRUNC, 0, 1},
};
/* clang-format on */

static void open_varint(cu_codec_t *c, const char *max_length) {
  cu_opt_t opts[] = {CU_STR("max_length", max_length), CU_END};

  if (cu_codec_open(c, PLUGIN, max_length != NULL ? opts : NULL) != 0)
    fail_msg("varint codec refused its options:\n%s", c->errors);
}

static void test_vectors(void **unused) {
  cu_codec_t c;
  size_t i;

  (void)unused;
  for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
    print_message("vector %zu: %s\n", i, vectors[i].in);
    open_varint(&c, vectors[i].max_length);
    cu_check_hex(&c, vectors[i].in, vectors[i].frames, vectors[i].error,
                 vectors[i].offset, vectors[i].at_eof);
    cu_codec_close(&c);
  }
}

/* The encoder writes minimal prefixes, as protobuf does. */
static void test_encode(void **unused) {
  static const struct {
    size_t len;
    const char *prefix;
  } cases[] = {
      {0, "00"},
      {1, "01"},
      {127, "7f"},
      {128, "80 01"},
      {300, "ac 02"},
      {16383, "ff 7f"},
      {16384, "80 80 01"},
      {2097151, "ff ff 7f"},
      {2097152, "80 80 80 01"},
  };
  cu_codec_t c;
  weft__buf_t b;
  uint8_t *frame, *want;
  size_t i, n;

  (void)unused;
  open_varint(&c, "2M");
  frame = calloc(1, 2097152);
  assert_non_null(frame);
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    memset(&b, 0, sizeof(b));
    assert_int_equal(cu_encode(&c, frame, cases[i].len, &b), 0);
    want = cu_hex(cases[i].prefix, &n);
    assert_int_equal(b.len, n + cases[i].len);
    assert_memory_equal(b.base, want, n);
    free(want);
    weft__buf_free(&b);
  }
  memset(&b, 0, sizeof(b));
  assert_int_equal(cu_encode(&c, frame, 2097153, &b), WEFT_EMSGSIZE);
  assert_int_equal(b.len, 0);
  free(frame);
  cu_codec_close(&c);
}

static void test_limit(void **unused) {
  cu_codec_t c;
  cu_split_t s;
  cu_result_t r;
  uint8_t in[2 + 1000];

  (void)unused;
  open_varint(&c, "1000");
  in[0] = 0xe8; /* 1000 = e8 07 */
  in[1] = 0x07;
  memset(in + 2, 'p', 1000);
  cu_check_splits(&c, in, sizeof(in), 0, 1, &r);
  assert_int_equal(r.nframes, 1);
  assert_int_equal(r.frame_len[0], 1000);
  cu_result_free(&r);

  in[0] = 0xe9; /* 1001 */
  memset(&s, 0, sizeof(s));
  s.kind = CU_BYTES;
  cu_run(&c, in, 2, s, 0, &r);
  assert_int_equal(r.error, WEFT_EMSGSIZE);
  assert_int_equal(r.error_offset, 1);
  assert_int_equal(r.reads, 2);
  cu_result_free(&r);
  cu_codec_close(&c);
}

static void test_round_trip(void **unused) {
  cu_codec_t c;
  uint64_t seed;

  (void)unused;
  open_varint(&c, "40000");
  for (seed = 1; seed <= 3; seed++)
    cu_round_trip(&c, 60, 0, 40000, seed);
  cu_round_trip(&c, 500, 120, 136, 9); /* around the 1- to 2-byte edge */
  cu_codec_close(&c);
}

static void test_options(void **unused) {
  cu_codec_t c;
  cu_opt_t zero[] = {CU_INT("max_length", 0), CU_END};
  cu_opt_t huge[] = {CU_STR("max_length", "2G"), CU_END};
  cu_opt_t unknown[] = {CU_INT("length_size", 4), CU_END};

  (void)unused;
  assert_int_equal(cu_codec_open(&c, PLUGIN, zero), WEFT_EINVAL);
  assert_true(
      cu_codec_error_has(&c, "test.conf:1:", "\"varint\"", "max_length", NULL));
  assert_int_equal(cu_codec_open(&c, PLUGIN, huge), WEFT_EINVAL);
  assert_int_equal(cu_codec_open(&c, PLUGIN, unknown), WEFT_EINVAL);
  assert_true(cu_codec_error_has(&c, "unknown", "length_size", NULL));
}

static void test_descriptor(void **unused) {
  const weft_codec_vtable_t *vt = PLUGIN->vtable;

  (void)unused;
  assert_int_equal(PLUGIN->magic, WEFT_PLUGIN_MAGIC);
  assert_int_equal(PLUGIN->kind, WEFT_PLUGIN_CODEC);
  assert_string_equal(PLUGIN->name, "varint");
  assert_int_equal(vt->struct_size, sizeof(weft_codec_vtable_t));
  assert_null(vt->conn_init);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_descriptor), cmocka_unit_test(test_vectors),
      cmocka_unit_test(test_encode),     cmocka_unit_test(test_limit),
      cmocka_unit_test(test_round_trip), cmocka_unit_test(test_options),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
