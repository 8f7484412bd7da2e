/*
 * Unit tests for the `raw` codec.  Its frames are the reads, so unlike the
 * other codecs, splits give different frames: what must hold is that the
 * frames, put together, are the stream, one per read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "codec_util.h"

extern const weft_plugin_t raw_LTX_weft_plugin;

#define PLUGIN (&raw_LTX_weft_plugin)

/* The frames of r, concatenated, are in[0..len), and none is empty. */
static void assert_stream(const cu_result_t *r, const uint8_t *in, size_t len) {
  size_t i;

  assert_int_equal(r->error, 0);
  assert_int_equal(r->data_len, len);
  assert_memory_equal(r->data, in, len);
  for (i = 0; i < r->nframes; i++)
    assert_true(r->frame_len[i] > 0);
}

static void test_splits(void **unused) {
  cu_codec_t c;
  cu_split_t s;
  cu_result_t r;
  uint8_t in[3000];
  uint64_t seed = 11;
  size_t i;

  (void)unused;
  assert_int_equal(cu_codec_open(&c, PLUGIN, NULL), 0);
  cu_rand_bytes(&seed, in, sizeof(in));
  memset(&s, 0, sizeof(s));

  /* One read, one frame. */
  cu_run(&c, in, sizeof(in), s, 1, &r);
  assert_stream(&r, in, sizeof(in));
  assert_int_equal(r.nframes, 1);
  assert_int_equal(r.max_pending, 0);
  cu_result_free(&r);

  /* A frame per byte. */
  s.kind = CU_BYTES;
  cu_run(&c, in, sizeof(in), s, 1, &r);
  assert_stream(&r, in, sizeof(in));
  assert_int_equal(r.nframes, sizeof(in));
  cu_result_free(&r);

  /* Two reads, two frames, wherever the cut. */
  s.kind = CU_AT;
  for (i = 1; i < 40; i++) {
    s.arg = i;
    cu_run(&c, in, sizeof(in), s, 1, &r);
    assert_stream(&r, in, sizeof(in));
    assert_int_equal(r.nframes, 2);
    assert_int_equal(r.frame_len[0], i);
    cu_result_free(&r);
  }

  /* Random reads: as many frames as reads; nothing kept, nothing at EOF. */
  s.kind = CU_RANDOM;
  for (i = 0; i < 8; i++) {
    s.arg = i;
    s.stop_each = (int)(i & 1);
    cu_run(&c, in, sizeof(in), s, 1, &r);
    assert_stream(&r, in, sizeof(in));
    assert_int_equal(r.nframes, r.reads);
    assert_int_equal(r.max_pending, 0);
    cu_result_free(&r);
  }
  cu_codec_close(&c);
}

static void test_encode(void **unused) {
  cu_codec_t c;
  weft__buf_t b;

  (void)unused;
  assert_int_equal(cu_codec_open(&c, PLUGIN, NULL), 0);
  memset(&b, 0, sizeof(b));
  assert_int_equal(cu_encode(&c, "ab\n\0", 4, &b), 0);
  assert_int_equal(cu_encode(&c, NULL, 0, &b), 0);
  assert_int_equal(cu_encode(&c, "c", 1, &b), 0);
  assert_int_equal(b.len, 5);
  assert_memory_equal(b.base, "ab\n\0c", 5);
  weft__buf_free(&b);
  cu_codec_close(&c);
}

static void test_options(void **unused) {
  cu_codec_t c;
  cu_opt_t any[] = {CU_STR("max_length", "1k"), CU_END};

  (void)unused;
  assert_int_equal(cu_codec_open(&c, PLUGIN, any), WEFT_EINVAL);
  assert_true(cu_codec_error_has(&c, "test.conf:1:", "\"raw\"", "unknown",
                                 "max_length", NULL));
}

static void test_descriptor(void **unused) {
  const weft_codec_vtable_t *vt = PLUGIN->vtable;

  (void)unused;
  assert_int_equal(PLUGIN->magic, WEFT_PLUGIN_MAGIC);
  assert_int_equal(PLUGIN->kind, WEFT_PLUGIN_CODEC);
  assert_string_equal(PLUGIN->name, "raw");
  assert_int_equal(vt->struct_size, sizeof(weft_codec_vtable_t));
  assert_null(vt->decode_eof);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_descriptor),
      cmocka_unit_test(test_splits),
      cmocka_unit_test(test_encode),
      cmocka_unit_test(test_options),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
