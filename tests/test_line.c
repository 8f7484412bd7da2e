/* Unit tests for the `line` codec, driven through the real framer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "codec_util.h"

extern const weft_plugin_t line_LTX_weft_plugin;

#define PLUGIN (&line_LTX_weft_plugin)
#define MAXF 8 /* most frames a vector expects */

/* A C string literal with its length, NULs and all. */
#define S(lit) lit, sizeof(lit) - 1

typedef struct {
  const char *in;
  size_t in_len;
  int64_t max_length; /* 0: default */
  int strip_cr;       /* -1: default */
  const char *frames[MAXF];
  size_t frame_lens[MAXF]; /* 0: strlen(frames[i]) */
  int error;               /* 0: none */
  uint64_t offset;
  int at_eof;        /* the error is only known at EOF */
  const char *delim; /* the delimiter option as written; NULL: default */
} vector_t;

#define NOERR 0, 0, 0
#define DEF 0, -1

/* clang-format off */
static const vector_t vectors[] = {
    /* Plain lines. */
    {S(""), DEF, {NULL}, {0}, NOERR, NULL},
    {S("\n"), DEF, {""}, {0}, NOERR, NULL},
    {S("abc\n"), DEF, {"abc"}, {0}, NOERR, NULL},
    {S("a\nb\n\nc\n"), DEF, {"a", "b", "", "c"}, {0}, NOERR, NULL},
    {S("\n\n\n"), DEF, {"", "", ""}, {0}, NOERR, NULL},
    {S("a\0b\n"), DEF, {"a\0b"}, {3}, NOERR, NULL},
    {S("\xff\xfe\x80\n"), DEF, {"\xff\xfe\x80"}, {0}, NOERR, NULL},
    /* One trailing CR dropped by default, only one, only trailing. */
    {S("abc\r\n"), DEF, {"abc"}, {0}, NOERR, NULL},
    {S("abc\r\r\n"), DEF, {"abc\r"}, {0}, NOERR, NULL},
    {S("\r\n"), DEF, {""}, {0}, NOERR, NULL},
    {S("a\rb\n"), DEF, {"a\rb"}, {0}, NOERR, NULL},
    {S("\r\n\r\nx\r\n"), DEF, {"", "", "x"}, {0}, NOERR, NULL},
    /* strip_cr = false keeps it. */
    {S("abc\r\n"), 0, 0, {"abc\r"}, {0}, NOERR, NULL},
    {S("\r\n"), 0, 0, {"\r"}, {0}, NOERR, NULL},
    /* Unterminated at EOF: no frame, a truncation where the line began. */
    {S("abc"), DEF, {NULL}, {0}, WEFT_ETRUNC, 0, 1, NULL},
    {S("ab\ncd"), DEF, {"ab"}, {0}, WEFT_ETRUNC, 3, 1, NULL},
    {S("ab\n\r"), DEF, {"ab"}, {0}, WEFT_ETRUNC, 3, 1, NULL},
    {S("a\n\nbc\r"), DEF, {"a", ""}, {0}, WEFT_ETRUNC, 3, 1, NULL},
    /* max_length = 4: exactly 4 passes, the 5th byte without "\n" fails
     * there, whatever follows and without waiting for EOF. */
    {S("abcd\n"), 4, -1, {"abcd"}, {0}, NOERR, NULL},
    {S("abcd"), 4, -1, {NULL}, {0}, WEFT_ETRUNC, 0, 1, NULL},
    {S("abcde"), 4, -1, {NULL}, {0}, WEFT_EMSGSIZE, 4, 0, NULL},
    {S("abcde\n"), 4, -1, {NULL}, {0}, WEFT_EMSGSIZE, 4, 0, NULL},
    {S("abcdefghijklmnop\n"), 4, -1, {NULL}, {0}, WEFT_EMSGSIZE, 4, 0, NULL},
    {S("ab\nabcde\nxy\n"), 4, -1, {"ab"}, {0}, WEFT_EMSGSIZE, 7, 0, NULL},
    {S("\n\n\nabcdX"), 4, -1, {"", "", ""}, {0}, WEFT_EMSGSIZE, 7, 0, NULL},
    {S("abcd\nabcd\nabcd\n"), 4, -1, {"abcd", "abcd", "abcd"}, {0}, NOERR, NULL},
    /* The limit is on raw bytes: a CR that is stripped still counts. */
    {S("abc\r\n"), 4, -1, {"abc"}, {0}, NOERR, NULL},
    {S("abcd\r\n"), 4, -1, {NULL}, {0}, WEFT_EMSGSIZE, 4, 0, NULL},
    /* The smallest limit. */
    {S("a\n\nb\n"), 1, -1, {"a", "", "b"}, {0}, NOERR, NULL},
    {S("a\nbc\n"), 1, -1, {"a"}, {0}, WEFT_EMSGSIZE, 3, 0, NULL},

    /* "\r\n": a bare "\n" or "\r" is data; a delimiter split between
     * reads is still found. */
    {S("a\r\nb\r\n"), DEF, {"a", "b"}, {0}, NOERR, "\r\n"},
    {S("a\nb\r\n"), DEF, {"a\nb"}, {0}, NOERR, "\r\n"},
    {S("a\r\r\n\r\n"), DEF, {"a\r", ""}, {0}, NOERR, "\r\n"},
    {S("a\rb\r"), DEF, {NULL}, {0}, WEFT_ETRUNC, 0, 1, "\r\n"},
    /* The same, as libconfig hands it over after decoding "\r\n". */
    {S("x\r\n"), DEF, {"x"}, {0}, NOERR, "\\r\\n"},
    /* max_length 4 with a 2-byte delimiter: the 5th byte fails unless it
     * can begin the delimiter; then the 6th decides. */
    {S("abcd\r\n"), 4, -1, {"abcd"}, {0}, NOERR, "\r\n"},
    {S("abcd\r"), 4, -1, {NULL}, {0}, WEFT_ETRUNC, 0, 1, "\r\n"},
    {S("abcde"), 4, -1, {NULL}, {0}, WEFT_EMSGSIZE, 4, 0, "\r\n"},
    {S("abcd\rX"), 4, -1, {NULL}, {0}, WEFT_EMSGSIZE, 4, 0, "\r\n"},
    {S("abcd\r\r\n"), 4, -1, {NULL}, {0}, WEFT_EMSGSIZE, 4, 0, "\r\n"},
    {S("ab\r\nabc\r\r\n"), 4, -1, {"ab", "abc\r"}, {0}, NOERR, "\r\n"},
    {S("\r\r\n"), 1, -1, {"\r"}, {0}, NOERR, "\r\n"},
    {S("ab"), 1, -1, {NULL}, {0}, WEFT_EMSGSIZE, 1, 0, "\r\n"},
    /* NUL-terminated frames, the delimiter written with escapes. */
    {S("a\0\0bc\0"), DEF, {"a", "", "bc"}, {0}, NOERR, "\\0"},
    {S("a\nb\0"), DEF, {"a\nb"}, {0}, NOERR, "\\x00"},
    /* Self-overlapping delimiters: the first whole match wins. */
    {S("xaaa"), DEF, {"x"}, {0}, WEFT_ETRUNC, 3, 1, "aa"},
    {S("aaaa"), DEF, {"", ""}, {0}, NOERR, "aa"},
    {S("xabaabab"), DEF, {"xaba"}, {0}, NOERR, "abab"},
    {S("xababab"), DEF, {"x"}, {0}, WEFT_ETRUNC, 5, 1, "abab"},
    /* Three bytes, limit 2: "abE", "abEN" may still end well. */
    {S("abEND"), 2, -1, {"ab"}, {0}, NOERR, "END"},
    {S("abEN"), 2, -1, {NULL}, {0}, WEFT_ETRUNC, 0, 1, "END"},
    {S("abENX"), 2, -1, {NULL}, {0}, WEFT_EMSGSIZE, 2, 0, "END"},
    {S("abEEND"), 2, -1, {NULL}, {0}, WEFT_EMSGSIZE, 2, 0, "END"},
    {S("ENDxENDxyEND"), 2, -1, {"", "x", "xy"}, {0}, NOERR, "END"},
};
/* clang-format on */

static void open_line_delim(cu_codec_t *c, int64_t max_length, int strip_cr,
                            const char *delim) {
  cu_opt_t opts[4];
  int n = 0;

  memset(opts, 0, sizeof(opts));
  if (delim != NULL) {
    opts[n].type = CU_OPT_STR;
    opts[n].name = "delimiter";
    opts[n++].s = delim;
  }
  if (max_length > 0) {
    opts[n].type = CU_OPT_INT;
    opts[n].name = "max_length";
    opts[n++].i = max_length;
  }
  if (strip_cr >= 0) {
    opts[n].type = CU_OPT_BOOL;
    opts[n].name = "strip_cr";
    opts[n++].i = strip_cr;
  }
  if (cu_codec_open(c, PLUGIN, opts) != 0)
    fail_msg("line codec refused its options:\n%s", c->errors);
}

static void open_line(cu_codec_t *c, int64_t max_length, int strip_cr) {
  open_line_delim(c, max_length, strip_cr, NULL);
}

static void check_vector(const vector_t *v, size_t idx) {
  cu_codec_t c;
  cu_result_t r;
  size_t i, n, len;

  open_line_delim(&c, v->max_length, v->strip_cr, v->delim);
  for (n = 0; n < MAXF && v->frames[n] != NULL; n++)
    ;
  print_message("vector %zu\n", idx);

  /* With EOF: every split gives the expected frames and error. */
  cu_check_splits(&c, (const uint8_t *)v->in, v->in_len, 4096, 1, &r);
  assert_int_equal(r.nframes, n);
  for (i = 0; i < n; i++) {
    len = v->frame_lens[i] ? v->frame_lens[i] : strlen(v->frames[i]);
    cu_assert_frame(&r, i, v->frames[i], len);
  }
  assert_int_equal(r.error, v->error);
  assert_int_equal(r.error_offset, v->offset);
  if (v->error != 0) {
    assert_int_equal(r.error_at_eof, v->at_eof);
    assert_non_null(r.reason);
  }
  cu_result_free(&r);

  /* Without EOF: the same frames; errors not needing EOF still come. */
  cu_check_splits(&c, (const uint8_t *)v->in, v->in_len, 4096, 0, &r);
  assert_int_equal(r.nframes, n);
  assert_int_equal(r.error, v->at_eof ? 0 : v->error);
  if (!v->at_eof)
    assert_int_equal(r.error_offset, v->offset);
  cu_result_free(&r);

  cu_codec_close(&c);
}

static void test_vectors(void **unused) {
  size_t i;

  (void)unused;
  for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++)
    check_vector(&vectors[i], i);
}

/* Direct calls: the decode record is filled as codec.h says. */
static void test_decode_record(void **unused) {
  cu_codec_t c;
  weft_codec_ctx_t ctx;
  weft_decode_t d;
  const uint8_t *in;

  (void)unused;
  open_line(&c, 4, -1);
  memset(&ctx, 0, sizeof(ctx));
  ctx.vt = c.vt;
  ctx.state = c.state;

  in = (const uint8_t *)"abc";
  memset(&d, 0, sizeof(d));
  assert_int_equal(c.vt->decode(&ctx, in, 3, &d), WEFT_DECODE_MORE);
  assert_int_equal(d.scanned, 3);
  assert_int_equal(d.need, 0);

  /* Resuming at 3 still finds a delimiter right there. */
  in = (const uint8_t *)"abc\nz";
  memset(&d, 0, sizeof(d));
  d.scanned = 3;
  assert_int_equal(c.vt->decode(&ctx, in, 5, &d), WEFT_DECODE_FRAME);
  assert_ptr_equal(d.frame, in);
  assert_int_equal(d.frame_len, 3);
  assert_int_equal(d.consumed, 4);

  in = (const uint8_t *)"ab\r\n";
  memset(&d, 0, sizeof(d));
  assert_int_equal(c.vt->decode(&ctx, in, 4, &d), WEFT_DECODE_FRAME);
  assert_int_equal(d.frame_len, 2);
  assert_int_equal(d.consumed, 4);

  /* A resume point past the input (an engine bug) is not trusted. */
  in = (const uint8_t *)"a\n";
  memset(&d, 0, sizeof(d));
  d.scanned = 100;
  assert_int_equal(c.vt->decode(&ctx, in, 2, &d), WEFT_DECODE_FRAME);
  assert_int_equal(d.frame_len, 1);

  in = (const uint8_t *)"abcde";
  memset(&d, 0, sizeof(d));
  d.scanned = 4;
  assert_int_equal(c.vt->decode(&ctx, in, 5, &d), WEFT_DECODE_ERROR);
  assert_int_equal(d.error, WEFT_EMSGSIZE);
  assert_int_equal(d.consumed, 4);
  assert_non_null(d.reason);
  assert_non_null(strstr(d.reason, "max_length"));

  memset(&d, 0, sizeof(d));
  assert_int_equal(c.vt->decode_eof(&ctx, in, 3, &d), WEFT_DECODE_ERROR);
  assert_int_equal(d.error, WEFT_ETRUNC);
  assert_non_null(d.reason);

  /* Closing on overflow keeps nothing per connection. */
  {
    void *cs = &c;
    assert_non_null(c.vt->conn_init);
    assert_int_equal(c.vt->conn_init(c.state, &cs), 0);
    assert_ptr_equal(cs, &c); /* untouched: no state */
  }
  cu_codec_close(&c);
}

/* Exactly max passes, max + 1 fails at the first byte past the limit, fed
 * without EOF, and the framer never holds more than the limit. */
static void check_limit(cu_codec_t *c, size_t max) {
  static const uint64_t seeds[] = {7, 8, 9};
  cu_split_t s;
  cu_result_t r;
  uint8_t *in;
  size_t i;

  in = malloc(max + 2);
  assert_non_null(in);
  memset(in, 'x', max + 2);

  in[max] = '\n';
  cu_check_splits(c, in, max + 1, 0, 1, &r);
  assert_int_equal(r.nframes, 1);
  assert_int_equal(r.frame_len[0], max);
  assert_int_equal(r.error, 0);
  cu_result_free(&r);

  /* max + 1 bytes, no EOF, one byte per read: the error comes with the
   * last byte read, so the codec did not wait for anything more. */
  in[max] = 'x';
  memset(&s, 0, sizeof(s));
  s.kind = CU_BYTES;
  cu_run(c, in, max + 1, s, 0, &r);
  assert_int_equal(r.error, WEFT_EMSGSIZE);
  assert_int_equal(r.error_offset, max);
  assert_int_equal(r.reads, max + 1);
  assert_true(r.max_pending <= max);
  assert_int_equal(r.nframes, 0);
  cu_result_free(&r);

  /* Same with a delimiter right after: still an error, at the same place. */
  in[max + 1] = '\n';
  for (i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
    s.kind = CU_RANDOM;
    s.arg = seeds[i];
    cu_run(c, in, max + 2, s, 1, &r);
    assert_int_equal(r.error, WEFT_EMSGSIZE);
    assert_int_equal(r.error_offset, max);
    assert_int_equal(r.error_at_eof, 0);
    assert_true(r.max_pending <= max);
    cu_result_free(&r);
  }
  free(in);
}

static void test_limit(void **unused) {
  cu_codec_t c;

  (void)unused;
  open_line(&c, 1000, -1);
  check_limit(&c, 1000);
  cu_codec_close(&c);

  /* The default is 64k. */
  open_line(&c, 0, -1);
  check_limit(&c, 65536);
  cu_codec_close(&c);
}

static void test_many_tiny(void **unused) {
  cu_codec_t c;
  cu_result_t r;
  char *in, want[16];
  size_t len = 0, i;

  (void)unused;
  open_line(&c, 0, -1);
  in = malloc(1000 * 8);
  assert_non_null(in);
  for (i = 0; i < 1000; i++)
    len += (size_t)sprintf(in + len, "%zu%s", i, i % 3 == 0 ? "\r\n" : "\n");
  cu_check_splits(&c, (const uint8_t *)in, len, 0, 1, &r);
  assert_int_equal(r.nframes, 1000);
  assert_int_equal(r.error, 0);
  for (i = 0; i < 1000; i++) {
    snprintf(want, sizeof(want), "%zu", i);
    cu_assert_frame(&r, i, want, strlen(want));
  }
  /* All of it in one read: one read, no tail left behind. */
  assert_int_equal(r.reads, 1);
  assert_int_equal(r.max_pending, 0);
  cu_result_free(&r);
  free(in);
  cu_codec_close(&c);
}

/*
 * ABI 1.2: the whole lines of a read come through decode_many, at most 64 a
 * batch, and a batch stops before whatever decode() has to handle itself
 * (cu_check_splits compares every split, batched or not, and decode_many
 * with decode() directly).
 */
static void test_batch(void **unused) {
  cu_codec_t c;
  cu_split_t s;
  cu_result_t r;
  char *in;
  size_t len = 0, i;

  (void)unused;
  open_line(&c, 0, -1);
  assert_non_null(c.vt->decode_many);
  assert_non_null(c.vt->encode_many);
  in = malloc(1000 * 8);
  assert_non_null(in);
  for (i = 0; i < 1000; i++)
    len += (size_t)sprintf(in + len, "%zu%s", i, i % 3 == 0 ? "\r\n" : "\n");
  memset(&s, 0, sizeof(s));
  s.kind = CU_WHOLE;
  s.batch = CU_BATCH;
  cu_run(&c, (const uint8_t *)in, len, s, 1, &r);
  assert_int_equal(r.error, 0);
  assert_int_equal(r.nframes, 1000);
  assert_int_equal(r.batched, 1000);
  assert_int_equal(r.batches, (1000 + 63) / 64);
  cu_assert_frame(&r, 999, "999", 3);
  cu_result_free(&r);
  free(in);
  cu_codec_close(&c);

  /* Two lines in a batch, then one over the limit: found at its byte
   * max_length + 1, as one at a time. */
  open_line(&c, 4, -1);
  s.batch = CU_BATCH;
  cu_run(&c, (const uint8_t *)"ab\ncd\r\nabcdef\n", 14, s, 1, &r);
  assert_int_equal(r.nframes, 2);
  assert_int_equal(r.batched, 2);
  cu_assert_frame(&r, 1, "cd", 2);
  assert_int_equal(r.error, WEFT_EMSGSIZE);
  assert_int_equal(r.error_offset, 11);
  cu_result_free(&r);
  cu_codec_close(&c);
}

/* A batch of frames with bad ones at each place. */
static void check_encode_batch(cu_codec_t *c, const uint8_t *bad,
                               size_t bad_len, int want) {
  enum { N = 52 };
  static uint8_t buf[N][600];
  weft_frame_t f[N + 1];
  size_t n = 0, i, at;

  /* Every short length, and some around the 16-byte steps and the
   * 512-byte limit for appending apart. */
  for (i = 0; i < 41; i++)
    f[n++].len = i;
  f[n++].len = 63;
  f[n++].len = 64;
  f[n++].len = 65;
  f[n++].len = 255;
  f[n++].len = 511;
  f[n++].len = 512;
  f[n++].len = 513;
  f[n++].len = 599;
  f[n++].len = 600;
  f[n++].len = 16;
  f[n++].len = 32;
  for (i = 0; i < n; i++) {
    memset(buf[i], 'a' + (int)(i % 26), f[i].len);
    f[i].data = buf[i];
  }
  assert_int_equal(n, N);
  assert_int_equal(cu_check_encode_many(c, f, n), 0);
  if (bad == NULL)
    return;
  for (at = 0; at <= n; at++) {
    memmove(f + at + 1, f + at, (n - at) * sizeof(f[0]));
    f[at].data = bad;
    f[at].len = bad_len;
    assert_int_equal(cu_check_encode_many(c, f, n + 1), want);
    memmove(f + at, f + at + 1, (n - at) * sizeof(f[0]));
  }
}

static void test_encode_batch(void **unused) {
  static uint8_t big[700];
  cu_codec_t c;

  (void)unused;
  open_line(&c, 600, -1);
  check_encode_batch(&c, NULL, 0, 0);
  check_encode_batch(&c, (const uint8_t *)"a\nb", 3, WEFT_EINVAL);
  check_encode_batch(&c, (const uint8_t *)"ab\r", 3, WEFT_EINVAL);
  check_encode_batch(&c, (const uint8_t *)"\n", 1, WEFT_EINVAL);
  /* The delimiter in the last of several 16-byte steps, in the overlap. */
  memset(big, 'x', sizeof(big));
  big[16] = '\n';
  check_encode_batch(&c, big, 17, WEFT_EINVAL);
  big[16] = 'x';
  big[33] = '\n';
  check_encode_batch(&c, big, 70, WEFT_EINVAL);
  check_encode_batch(&c, big, 34, WEFT_EINVAL);
  big[33] = 'x';
  big[9] = '\n';
  check_encode_batch(&c, big, 12, WEFT_EINVAL); /* two overlapping words */
  big[9] = 'x';
  big[520] = '\n';
  check_encode_batch(&c, big, 530, WEFT_EINVAL); /* appended apart */
  big[520] = 'x';
  check_encode_batch(&c, big, 601, WEFT_EMSGSIZE);
  cu_codec_close(&c);

  /* Without strip_cr a trailing CR is fine. */
  open_line(&c, 600, 0);
  check_encode_batch(&c, (const uint8_t *)"ab\r", 3, 0);
  cu_codec_close(&c);

  /* A max_length below the 512 bytes of a short frame. */
  open_line(&c, 20, -1);
  {
    weft_frame_t f[3] = {
        {(const uint8_t *)"abc", 3}, {big, 21}, {(const uint8_t *)"d", 1}};
    assert_int_equal(cu_check_encode_many(&c, f, 3), WEFT_EMSGSIZE);
    f[1].len = 20;
    assert_int_equal(cu_check_encode_many(&c, f, 3), 0);
  }
  cu_codec_close(&c);
}

/* An echo of decoded lines (weft_out_decoded) sends what encode() would:
 * lines that keep their delimiter in the input, lines that lost a "\r"
 * to strip_cr, an empty one, one long enough to go by reference, and one
 * that encode() refuses ("ij\r", whose "\r" the peer would strip). */
static void test_encode_decoded(void **unused) {
  static char in[700];
  cu_codec_t c;
  size_t len;

  (void)unused;
  strcpy(in, "abc\nde\n\nfgh\r\nij\r\r\n\r\nklm\n");
  len = strlen(in);
  memset(in + len, 'x', 520);
  len += 520;
  memcpy(in + len, "\nz\n", 3);
  len += 3;
  open_line(&c, 600, -1);
  assert_int_equal(cu_check_decoded(&c, (const uint8_t *)in, len), 9);
  cu_codec_close(&c);
  open_line(&c, 600, 0);
  assert_int_equal(cu_check_decoded(&c, (const uint8_t *)in, len), 9);
  cu_codec_close(&c);
  open_line_delim(&c, 600, -1, "\\r\\n");
  assert_int_equal(
      cu_check_decoded(&c, (const uint8_t *)"ab\r\ncd\r\n\r\nx\n\r\n", 14), 4);
  cu_codec_close(&c);
}

static void test_encode(void **unused) {
  cu_codec_t c;
  weft__buf_t b;

  (void)unused;
  open_line(&c, 4, -1);
  memset(&b, 0, sizeof(b));

  assert_int_equal(cu_encode(&c, "abc", 3, &b), 0);
  assert_int_equal(cu_encode(&c, "", 0, &b), 0);
  assert_int_equal(cu_encode(&c, NULL, 0, &b), 0);
  assert_int_equal(cu_encode(&c, "abcd", 4, &b), 0);
  assert_int_equal(b.len, 11);
  assert_memory_equal(b.base, "abc\n\n\nabcd\n", 11);

  /* Refused frames append nothing. */
  assert_int_equal(cu_encode(&c, "abcde", 5, &b), WEFT_EMSGSIZE);
  assert_int_equal(cu_encode(&c, "a\nb", 3, &b), WEFT_EINVAL);
  assert_int_equal(cu_encode(&c, "\n", 1, &b), WEFT_EINVAL);
  assert_int_equal(b.len, 11);

  weft__buf_free(&b);
  cu_codec_close(&c);
}

/* Encode random frames, decode the stream in random chunks, compare. */
static void round_trip(int strip_cr, uint64_t seed) {
  enum { N = 300, MAX = 200 };
  cu_codec_t c;
  cu_split_t s;
  cu_result_t r;
  weft__buf_t b;
  uint8_t *frames[N];
  size_t lens[N], i, j;

  open_line(&c, MAX, strip_cr);
  memset(&b, 0, sizeof(b));
  for (i = 0; i < N; i++) {
    lens[i] = (cu_rand(&seed) & 7) == 0 ? MAX : cu_rand(&seed) % (MAX + 1);
    frames[i] = malloc(lens[i] + 1);
    assert_non_null(frames[i]);
    cu_rand_bytes(&seed, frames[i], lens[i]);
    for (j = 0; j < lens[i]; j++)
      if (frames[i][j] == '\n')
        frames[i][j] = 'n';
    /* With strip_cr a trailing CR would not survive: line framing cannot
     * carry it. */
    if (strip_cr && lens[i] > 0 && frames[i][lens[i] - 1] == '\r')
      frames[i][lens[i] - 1] = 'r';
    assert_int_equal(cu_encode(&c, frames[i], lens[i], &b), 0);
  }

  memset(&s, 0, sizeof(s));
  s.kind = CU_RANDOM;
  s.arg = seed;
  cu_run(&c, b.base, b.len, s, 1, &r);
  assert_int_equal(r.error, 0);
  assert_int_equal(r.nframes, N);
  for (i = 0; i < N; i++)
    cu_assert_frame(&r, i, frames[i], lens[i]);
  assert_true(r.max_pending <= MAX + 1);
  cu_result_free(&r);

  for (i = 0; i < N; i++)
    free(frames[i]);
  weft__buf_free(&b);
  cu_codec_close(&c);
}

static void test_round_trip(void **unused) {
  uint64_t seed;

  (void)unused;
  for (seed = 1; seed <= 8; seed++) {
    round_trip(1, seed);
    round_trip(0, seed);
  }
}

static const weft_codec_vtable_t *real_vt;
static uint64_t examined;
static uint64_t calls;
static const char *plant = "\n"; /* planted behind the resume point */
static size_t plant_len = 1;

static weft_decode_status_t counting_decode(weft_codec_ctx_t *ctx,
                                            const uint8_t *in, size_t len,
                                            weft_decode_t *d) {
  weft_decode_status_t st;
  size_t from = d->scanned, n = plant_len;
  uint8_t *mark = NULL;
  uint8_t saved[8];

  assert_true(from <= len);
  examined += len - from;
  calls++;
  if (from >= n) {
    /* The framer's own buffer: writable, only viewed as const here.  The
     * delimiter is planted so that it ends just before the resume point. */
    mark = (uint8_t *)(uintptr_t)(in + from - n);
    memcpy(saved, mark, n);
    assert_true(memchr(saved, plant[n - 1], n) == NULL);
    memcpy(mark, plant, n);
  }
  st = real_vt->decode(ctx, in, len, d);
  if (mark != NULL)
    memcpy(mark, saved, n);
  if (st == WEFT_DECODE_FRAME && d->consumed <= from)
    fail_msg("decode rescanned before its resume point %zu", from);
  return st;
}

static void check_linear_scan(const char *delim, const char *wire_delim,
                              size_t dlen, size_t N) {
  weft_codec_vtable_t shim;
  cu_codec_t c;
  cu_split_t s;
  cu_result_t r;
  uint8_t *in;
  cu_opt_t opts[] = {CU_STR("max_length", "2M"), CU_STR("delimiter", delim),
                     CU_END};

  assert_int_equal(cu_codec_open(&c, PLUGIN, opts), 0);
  real_vt = c.vt;
  shim = *c.vt;
  shim.decode = counting_decode;
  c.vt = &shim;
  plant = wire_delim;
  plant_len = dlen;

  in = malloc(N + dlen);
  assert_non_null(in);
  memset(in, 'a', N);
  memcpy(in + N, wire_delim, dlen);
  examined = calls = 0;
  memset(&s, 0, sizeof(s));
  s.kind = CU_BYTES;
  cu_run(&c, in, N + dlen, s, 1, &r);
  assert_int_equal(r.error, 0);
  assert_int_equal(r.nframes, 1);
  cu_assert_frame(&r, 0, in, N);
  assert_int_equal(calls, N + dlen);
  print_message("%zu KiB line byte by byte, delimiter of %zu bytes: %llu "
                "bytes examined in %llu calls, framer tail reallocated %zu "
                "times\n",
                N >> 10, dlen, (unsigned long long)examined,
                (unsigned long long)calls, r.tail_grows);
  assert_true(examined < 3 * (uint64_t)(N + dlen) + dlen * calls);
  /* The framer's copying is O(n) too: its tail grows geometrically. */
  assert_true(r.tail_grows < 64);
  cu_result_free(&r);

  c.vt = real_vt;
  free(in);
  cu_codec_close(&c);
}

/*
 * O(n): a 1 MiB line fed a byte at a time.  A shim around decode sums the
 * bytes each call had to examine (len minus the resume point it was given);
 * a codec that reported no progress would make that ~n^2/2.  The shim also
 * plants a delimiter just before the resume point during the call: a codec
 * that ignored the resume point and rescanned would find it and cut the
 * line short.  (Safe: those bytes were examined and held no delimiter, and
 * the input is all 'a', so no "\r" check can see them either.)
 */
static void test_linear_scan(void **unused) {
  (void)unused;
  check_linear_scan("\n", "\n", 1, 1 << 20);
  /* Smaller, to keep the suite quick under valgrind: the count is what
   * shows the cost is linear, not the time. */
  check_linear_scan("\r\n", "\r\n", 2, 1 << 18);
  check_linear_scan("\\0END", "\0END", 4, 1 << 18);
}

static void test_options(void **unused) {
  cu_codec_t c;
  cu_result_t r;
  cu_split_t s;
  cu_opt_t zero[] = {CU_INT("max_length", 0), CU_END};
  cu_opt_t zero_str[] = {CU_STR("max_length", "0"), CU_END};
  cu_opt_t huge[] = {CU_STR("max_length", "2G"), CU_END};
  cu_opt_t junk[] = {CU_STR("max_length", "lots"), CU_END};
  cu_opt_t bad_bool[] = {CU_STR("strip_cr", "yes"), CU_END};
  cu_opt_t unknown[] = {CU_INT("max_length", 10), CU_INT("max_len", 10),
                        CU_END};
  cu_opt_t two_bad[] = {CU_INT("max_length", 0), CU_INT("strip_cr", 1), CU_END};
  cu_opt_t units[] = {CU_STR("max_length", "8k"), CU_BOOL("strip_cr", 0),
                      CU_END};

  (void)unused;
  assert_int_equal(cu_codec_open(&c, PLUGIN, zero), WEFT_EINVAL);
  assert_true(
      cu_codec_error_has(&c, "test.conf:1:", "\"line\"", "max_length", NULL));
  assert_int_equal(c.nerrors, 1);

  assert_int_equal(cu_codec_open(&c, PLUGIN, zero_str), WEFT_EINVAL);
  assert_true(cu_codec_error_has(&c, "max_length", NULL));
  assert_int_equal(cu_codec_open(&c, PLUGIN, huge), WEFT_EINVAL);
  assert_true(cu_codec_error_has(&c, "max_length", NULL));
  assert_int_equal(cu_codec_open(&c, PLUGIN, junk), WEFT_EINVAL);
  assert_true(cu_codec_error_has(&c, "max_length", "lots", NULL));
  assert_int_equal(cu_codec_open(&c, PLUGIN, bad_bool), WEFT_EINVAL);
  assert_true(cu_codec_error_has(&c, "strip_cr", NULL));

  assert_int_equal(cu_codec_open(&c, PLUGIN, unknown), WEFT_EINVAL);
  assert_true(
      cu_codec_error_has(&c, "test.conf:2:", "unknown", "max_len", NULL));
  assert_int_equal(c.nerrors, 1);

  /* Both bad values reported, neither mistaken for an unknown option. */
  assert_int_equal(cu_codec_open(&c, PLUGIN, two_bad), WEFT_EINVAL);
  assert_true(cu_codec_error_has(&c, "test.conf:1:", "max_length", NULL));
  assert_true(cu_codec_error_has(&c, "test.conf:2:", "strip_cr", NULL));
  assert_false(cu_codec_error_has(&c, "unknown", NULL));
  assert_int_equal(c.nerrors, 2);

  /* Units work, and the values take effect. */
  assert_int_equal(cu_codec_open(&c, PLUGIN, units), 0);
  {
    uint8_t *in = malloc(8194);
    assert_non_null(in);
    memset(in, 'x', 8194);
    in[8191] = '\r';
    in[8192] = '\n';
    memset(&s, 0, sizeof(s));
    cu_run(&c, in, 8194, s, 0, &r);
    assert_int_equal(r.nframes, 1);
    assert_int_equal(r.frame_len[0], 8192); /* the CR kept */
    cu_result_free(&r);
    in[8192] = 'x';
    cu_run(&c, in, 8194, s, 0, &r);
    assert_int_equal(r.error, WEFT_EMSGSIZE);
    assert_int_equal(r.error_offset, 8192);
    cu_result_free(&r);
    free(in);
  }
  cu_codec_close(&c);
}

/* The delimiter, strip_cr and on_overflow options, and what they refuse. */
static void test_delimiter_options(void **unused) {
  cu_codec_t c;
  cu_opt_t empty[] = {CU_STR("delimiter", ""), CU_END};
  cu_opt_t bad_esc[] = {CU_STR("delimiter", "\\q"), CU_END};
  cu_opt_t bad_hex[] = {CU_STR("delimiter", "\\x4"), CU_END};
  cu_opt_t trail[] = {CU_STR("delimiter", "ab\\"), CU_END};
  cu_opt_t too_long[] = {
      CU_STR("delimiter", "0123456789abcdef0123456789abcdefX"), CU_END};
  cu_opt_t longest[] = {CU_STR("delimiter", "0123456789abcdef0123456789abcdef"),
                        CU_END};
  cu_opt_t not_str[] = {CU_INT("delimiter", 10), CU_END};
  cu_opt_t crlf_strip[] = {CU_STR("delimiter", "\r\n"), CU_BOOL("strip_cr", 1),
                           CU_END};
  cu_opt_t crlf_nostrip[] = {CU_STR("delimiter", "\r\n"),
                             CU_BOOL("strip_cr", 0), CU_END};
  cu_opt_t lf_escaped[] = {CU_STR("delimiter", "\\n"), CU_BOOL("strip_cr", 1),
                           CU_END};
  cu_opt_t overflow_bad[] = {CU_STR("on_overflow", "drop"), CU_END};
  cu_opt_t overflow_close[] = {CU_STR("on_overflow", "close"), CU_END};
  cu_opt_t append_bad[] = {CU_STR("append_delimiter", "no"), CU_END};
  cu_opt_t all_bad[] = {CU_STR("delimiter", ""), CU_INT("max_length", 0),
                        CU_STR("on_overflow", "x"),
                        CU_STR("append_delimiter", "x"), CU_END};

  (void)unused;
  assert_int_equal(cu_codec_open(&c, PLUGIN, empty), WEFT_EINVAL);
  assert_true(cu_codec_error_has(&c, "test.conf:1:", "delimiter", "empty",
                                 "\\0", NULL));
  assert_int_equal(cu_codec_open(&c, PLUGIN, bad_esc), WEFT_EINVAL);
  assert_true(cu_codec_error_has(&c, "delimiter", "unknown escape", NULL));
  assert_int_equal(cu_codec_open(&c, PLUGIN, bad_hex), WEFT_EINVAL);
  assert_true(cu_codec_error_has(&c, "delimiter", "two hex digits", NULL));
  assert_int_equal(cu_codec_open(&c, PLUGIN, trail), WEFT_EINVAL);
  assert_true(cu_codec_error_has(&c, "delimiter", "unknown escape", NULL));
  assert_int_equal(cu_codec_open(&c, PLUGIN, too_long), WEFT_EINVAL);
  assert_true(cu_codec_error_has(&c, "delimiter", "32 bytes", NULL));
  assert_int_equal(cu_codec_open(&c, PLUGIN, longest), 0);
  cu_codec_close(&c);
  assert_int_equal(cu_codec_open(&c, PLUGIN, not_str), WEFT_EINVAL);
  assert_true(cu_codec_error_has(&c, "delimiter", NULL));

  assert_int_equal(cu_codec_open(&c, PLUGIN, crlf_strip), WEFT_EINVAL);
  assert_true(cu_codec_error_has(&c, "test.conf:2:", "strip_cr", "\\n", NULL));
  assert_int_equal(c.nerrors, 1);
  assert_int_equal(cu_codec_open(&c, PLUGIN, crlf_nostrip), 0);
  cu_codec_close(&c);
  assert_int_equal(cu_codec_open(&c, PLUGIN, lf_escaped), 0);
  cu_codec_close(&c);

  assert_int_equal(cu_codec_open(&c, PLUGIN, overflow_bad), WEFT_EINVAL);
  assert_true(cu_codec_error_has(&c, "on_overflow", "\"close\"", "\"discard\"",
                                 "drop", NULL));
  assert_int_equal(cu_codec_open(&c, PLUGIN, overflow_close), 0);
  cu_codec_close(&c);
  assert_int_equal(cu_codec_open(&c, PLUGIN, append_bad), WEFT_EINVAL);
  assert_true(cu_codec_error_has(&c, "append_delimiter", NULL));

  /* Every bad value reported at once, none taken for unknown. */
  assert_int_equal(cu_codec_open(&c, PLUGIN, all_bad), WEFT_EINVAL);
  assert_int_equal(c.nerrors, 4);
  assert_false(cu_codec_error_has(&c, "unknown", NULL));
}

static void check_encode(cu_codec_t *c, const char *frame, size_t len,
                         int want_rc, const char *wire, size_t wire_len) {
  weft__buf_t b;

  memset(&b, 0, sizeof(b));
  assert_int_equal(cu_encode(c, frame, len, &b), want_rc);
  if (want_rc == 0) {
    assert_int_equal(b.len, wire_len);
    assert_memory_equal(b.base, wire, wire_len);
  }
  weft__buf_free(&b);
}

static void test_encode_delimiter(void **unused) {
  cu_codec_t c;
  cu_opt_t no_append[] = {CU_BOOL("append_delimiter", 0),
                          CU_STR("max_length", "2"), CU_END};

  (void)unused;
  open_line_delim(&c, 0, -1, "\\r\\n");
  check_encode(&c, S("abc"), 0, S("abc\r\n"));
  check_encode(&c, S(""), 0, S("\r\n"));
  check_encode(&c, S("a\nb\r"), 0, S("a\nb\r\r\n")); /* no strip_cr here */
  check_encode(&c, S("a\r\nb"), WEFT_EINVAL, NULL, 0);
  check_encode(&c, S("\r\n"), WEFT_EINVAL, NULL, 0);
  cu_codec_close(&c);

  /* A frame whose tail and the delimiter's head make a delimiter. */
  open_line_delim(&c, 0, -1, "aa");
  check_encode(&c, S("xy"), 0, S("xyaa"));
  check_encode(&c, S("xa"), WEFT_EINVAL, NULL, 0);
  check_encode(&c, S("a"), WEFT_EINVAL, NULL, 0);
  cu_codec_close(&c);
  open_line_delim(&c, 0, -1, "abc");
  check_encode(&c, S("xab"), 0, S("xababc"));
  check_encode(&c, S("xabcy"), WEFT_EINVAL, NULL, 0);
  cu_codec_close(&c);

  /* NUL: a frame with a NUL inside cannot be sent. */
  open_line_delim(&c, 0, -1, "\\0");
  check_encode(&c, S("ab"), 0, S("ab\0"));
  check_encode(&c, S("a\0b"), WEFT_EINVAL, NULL, 0);
  cu_codec_close(&c);

  /* With strip_cr (the default for "\n"), a trailing CR would not survive
   * the trip, so it is refused; without it, it goes through. */
  open_line(&c, 0, -1);
  check_encode(&c, S("ab\r"), WEFT_EINVAL, NULL, 0);
  check_encode(&c, S("a\rb"), 0, S("a\rb\n"));
  cu_codec_close(&c);
  open_line(&c, 0, 0);
  check_encode(&c, S("ab\r"), 0, S("ab\r\n"));
  cu_codec_close(&c);

  /* append_delimiter = false: the bytes as given, unchecked. */
  assert_int_equal(cu_codec_open(&c, PLUGIN, no_append), 0);
  check_encode(&c, S("abc\nd\n"), 0, S("abc\nd\n"));
  check_encode(&c, S(""), 0, S(""));
  cu_codec_close(&c);
}

/* Random frames through encode and decode with multi-byte delimiters. */
static void round_trip_delim(const char *delim, uint64_t seed) {
  enum { N = 200, MAX = 64 };
  cu_codec_t c;
  cu_split_t s;
  cu_result_t r;
  weft__buf_t b;
  uint8_t *frames[N];
  size_t lens[N], i, j, tries;
  int rc;

  open_line_delim(&c, MAX, -1, delim);
  memset(&b, 0, sizeof(b));
  for (i = 0; i < N; i++) {
    lens[i] = (cu_rand(&seed) & 7) == 0 ? MAX : cu_rand(&seed) % (MAX + 1);
    frames[i] = malloc(lens[i] + 1);
    assert_non_null(frames[i]);
    /* From a small alphabet, so the delimiter's bytes are frequent; a
     * frame the encoder refuses is drawn again. */
    for (tries = 0;; tries++) {
      for (j = 0; j < lens[i]; j++)
        frames[i][j] = (uint8_t) "ab\r\n\0E"[cu_rand(&seed) % 6];
      rc = cu_encode(&c, frames[i], lens[i], &b);
      if (rc == 0)
        break;
      assert_int_equal(rc, WEFT_EINVAL);
      if (tries > 50)
        lens[i] = 0;
    }
  }

  memset(&s, 0, sizeof(s));
  for (j = 0; j < 3; j++) {
    s.kind = j == 0 ? CU_WHOLE : j == 1 ? CU_BYTES : CU_RANDOM;
    s.arg = seed;
    cu_run(&c, b.base, b.len, s, 1, &r);
    assert_int_equal(r.error, 0);
    assert_int_equal(r.nframes, N);
    for (i = 0; i < N; i++)
      cu_assert_frame(&r, i, frames[i], lens[i]);
    cu_result_free(&r);
  }

  for (i = 0; i < N; i++)
    free(frames[i]);
  weft__buf_free(&b);
  cu_codec_close(&c);
}

static void test_round_trip_delimiter(void **unused) {
  static const char *const delims[] = {"\\r\\n", "\\0",  "aa",
                                       "abab",   "EEND", "\\r\\n\\r\\n"};
  size_t i;
  uint64_t seed;

  (void)unused;
  for (i = 0; i < sizeof(delims) / sizeof(delims[0]); i++)
    for (seed = 1; seed <= 3; seed++)
      round_trip_delim(delims[i], seed * 100 + i);
}

#ifdef WEFT_HAVE_DECODE_SKIP
/* on_overflow = "discard": the long line is skipped, however long and
 * however split, the connection lives on, and the lines around it come
 * through. */
static void test_discard(void **unused) {
  static const struct {
    const char *delim;
    const char *in;
    const char *frames[4];
    unsigned discarded;
  } cases[] = {
      /* clang-format off */
      {NULL, "ab\nabcdefgh\ncd\n", {"ab", "cd"}, 1},
      {NULL, "abcde\n\n", {""}, 1},
      {NULL, "abcd\nabcde\nabcdefghijklmnopqrstuvwxyz\nabcd\n",
       {"abcd", "abcd"}, 2},
      {"\\r\\n", "abcd\r\r\nx\r\n", {"x"}, 1},
      {"\\r\\n", "abcdefg\r\r\r\r\nx\r\n", {"x"}, 1},
      {"\\r\\n", "ab\r\nabcd\r\r\n\r\n", {"ab", ""}, 1},
      {"END", "abcdeENENDxyEND", {"xy"}, 1},
      /* Cut off at EOF while discarding: no second report, no error. */
      {NULL, "abcdefgh", {NULL}, 1},
      {"\\r\\n", "ab\r\nabcdefgh\r", {"ab"}, 1},
      /* clang-format on */
  };
  cu_codec_t c;
  cu_result_t r;
  size_t i, j, n;

  (void)unused;
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    cu_opt_t opts[] = {
        CU_INT("max_length", 4), CU_STR("on_overflow", "discard"),
        CU_STR("delimiter", cases[i].delim ? cases[i].delim : "\\n"), CU_END};
    assert_int_equal(cu_codec_open(&c, PLUGIN, opts), 0);
    cu_check_splits(&c, (const uint8_t *)cases[i].in, strlen(cases[i].in), 4096,
                    1, &r);
    for (n = 0; n < 4 && cases[i].frames[n] != NULL; n++)
      ;
    assert_int_equal(r.error, 0);
    assert_int_equal(r.nframes, n);
    assert_int_equal(r.discarded, cases[i].discarded);
    for (j = 0; j < n; j++)
      cu_assert_frame(&r, j, cases[i].frames[j], strlen(cases[i].frames[j]));
    cu_result_free(&r);
    cu_codec_close(&c);
  }
}
#endif

static void test_descriptor(void **unused) {
  const weft_codec_vtable_t *vt = PLUGIN->vtable;

  (void)unused;
  assert_int_equal(PLUGIN->magic, WEFT_PLUGIN_MAGIC);
  assert_int_equal(PLUGIN->abi_major, WEFT_ABI_MAJOR);
  assert_int_equal(PLUGIN->kind, WEFT_PLUGIN_CODEC);
  assert_string_equal(PLUGIN->name, "line");
  assert_int_equal(vt->struct_size, sizeof(weft_codec_vtable_t));
  assert_non_null(vt->decode);
  assert_non_null(vt->encode);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_descriptor),
      cmocka_unit_test(test_vectors),
      cmocka_unit_test(test_decode_record),
      cmocka_unit_test(test_limit),
      cmocka_unit_test(test_many_tiny),
      cmocka_unit_test(test_batch),
      cmocka_unit_test(test_encode),
      cmocka_unit_test(test_encode_batch),
      cmocka_unit_test(test_encode_decoded),
      cmocka_unit_test(test_round_trip),
      cmocka_unit_test(test_linear_scan),
      cmocka_unit_test(test_options),
      cmocka_unit_test(test_delimiter_options),
      cmocka_unit_test(test_encode_delimiter),
      cmocka_unit_test(test_round_trip_delimiter),
#ifdef WEFT_HAVE_DECODE_SKIP
      cmocka_unit_test(test_discard),
#endif
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
