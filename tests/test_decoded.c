/*
 * weft_out_decoded(3) through the engine: weft_conn_send_many() marks a
 * reply as decoded exactly when it is made of the frames on_frames was
 * given, on the connection that got them, during that call; and the
 * codecs' echo of decoded frames sends what the wire carried.  The line
 * and length codecs run as built in, with encode_many wrapped to record
 * what the engine said.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <weft/weft.h>

enum { SEND_ALL, SEND_TAIL, SEND_COPY, SEND_EACH };

static int mode;
static int calls, decoded; /* encode_many calls, and those marked */
static const weft_codec_vtable_t *inner;

static int rec_encode_many(weft_codec_ctx_t *ctx, const weft_frame_t *frames,
                           size_t n, weft_out_t *out) {
  calls++;
  decoded += weft_out_decoded(out) != 0;
  return inner->encode_many(ctx, frames, n, out);
}

static int h_frames(weft_conn_t *c, const weft_frame_t *frames, size_t n) {
  weft_frame_t copy[64];
  size_t i;
  int r = 0;

  switch (mode) {
  case SEND_ALL:
    return weft_conn_send_many(c, frames, n);
  case SEND_TAIL:
    /* The first frame alone, then the rest: both parts of the batch. */
    r = weft_conn_send_many(c, frames, 1);
    return r ? r : n > 1 ? weft_conn_send_many(c, frames + 1, n - 1) : 0;
  case SEND_COPY:
    /* The same frames in an array of the handler's: not provably the
     * decoder's any more. */
    assert_true(n <= 64);
    memcpy(copy, frames, n * sizeof(*frames));
    return weft_conn_send_many(c, copy, n);
  default:
    for (i = 0; i < n && r == 0; i++)
      r = weft_conn_send(c, frames[i].data, frames[i].len);
    return r;
  }
}

static int h_frame(weft_conn_t *c, const uint8_t *frame, size_t len) {
  return weft_conn_send(c, frame, len);
}

static const weft_handler_vtable_t h_vtable = {
    .struct_size = sizeof(weft_handler_vtable_t),
    .on_frame = h_frame,
    .on_frames = h_frames,
};

static const weft_plugin_t h_plugin = {
    .magic = WEFT_PLUGIN_MAGIC,
    .abi_major = WEFT_ABI_MAJOR,
    .abi_minor = WEFT_ABI_MINOR,
    .struct_size = (uint32_t)sizeof(weft_plugin_t),
    .kind = WEFT_PLUGIN_HANDLER,
    .name = "decoded-test",
    .version = "1.0",
    .vtable = &h_vtable,
};

/* Feeds in[0..len) to a connection of codec `name` in mode m; checks the
 * reply is exactly `want` and returns how many encode_many calls were
 * marked decoded (-1 when none was made). */
static int run(const char *name, const char *opts, int m, const void *in,
               size_t len, const void *want, size_t want_len) {
  static weft_codec_vtable_t vt;
  static weft_plugin_t codec;
  const weft_plugin_t *base = weft_embed_builtin(name);
  weft_embed_t *e = NULL;
  const uint8_t *out;
  size_t n;

  assert_non_null(base);
  inner = base->vtable;
  vt = *inner;
  vt.encode_many = rec_encode_many;
  codec = *base;
  codec.vtable = &vt;
  mode = m;
  calls = decoded = 0;
  assert_int_equal(weft_embed_new(&e, &codec, opts, &h_plugin, NULL), 0);
  assert_int_equal(weft_embed_feed(e, in, len), 0);
  n = weft_embed_output(e, &out);
  if (n != want_len || memcmp(out, want, n) != 0)
    fail_msg("%s, mode %d: %zu bytes out, %zu expected", name, m, n, want_len);
  weft_embed_free(e);
  return calls > 0 ? decoded : -1;
}

static void test_line(void **unused) {
  static char in[2048];
  size_t len = 0;
  int i;

  (void)unused;
  /* Lines as they come, one that loses a "\r", an empty one, long ones. */
  len += (size_t)sprintf(in, "abc\nde\r\n\n");
  for (i = 0; i < 3; i++) {
    memset(in + len, 'a' + i, 600);
    len += 600;
    in[len++] = '\n';
  }
  len += (size_t)sprintf(in + len, "z\n");
  /* The reply is the input, but for the "\r" that strip_cr dropped. */
  {
    static char want[2048];
    memcpy(want, in, 6);
    memcpy(want + 6, in + 7, len - 7);
    assert_int_equal(run("line", NULL, SEND_ALL, in, len, want, len - 1), 1);
    assert_int_equal(run("line", NULL, SEND_TAIL, in, len, want, len - 1), 2);
    assert_int_equal(run("line", NULL, SEND_COPY, in, len, want, len - 1), 0);
    assert_int_equal(run("line", NULL, SEND_EACH, in, len, want, len - 1), -1);
  }
  /* Without strip_cr the echo is the input, byte for byte. */
  assert_int_equal(run("line", "strip_cr = false;", SEND_ALL, in, len, in, len),
                   1);
}

static void test_length(void **unused) {
  static uint8_t in[4096];
  static const size_t lens[] = {0, 3, 64, 700, 1, 900};
  size_t len = 0, i;

  (void)unused;
  for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
    in[len++] = (uint8_t)(lens[i] >> 24);
    in[len++] = (uint8_t)(lens[i] >> 16);
    in[len++] = (uint8_t)(lens[i] >> 8);
    in[len++] = (uint8_t)lens[i];
    memset(in + len, 'a' + (int)i, lens[i]);
    len += lens[i];
  }
  assert_int_equal(run("length", NULL, SEND_ALL, in, len, in, len), 1);
  assert_int_equal(run("length", NULL, SEND_TAIL, in, len, in, len), 2);
  assert_int_equal(run("length", NULL, SEND_COPY, in, len, in, len), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_line),
      cmocka_unit_test(test_length),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
