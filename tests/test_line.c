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
  int at_eof; /* the error is only known at EOF */
} vector_t;

#define NOERR 0, 0, 0
#define DEF 0, -1

/* clang-format off */
static const vector_t vectors[] = {
    /* Plain lines. */
    {S(""), DEF, {NULL}, {0}, NOERR},
    {S("\n"), DEF, {""}, {0}, NOERR},
    {S("abc\n"), DEF, {"abc"}, {0}, NOERR},
    {S("a\nb\n\nc\n"), DEF, {"a", "b", "", "c"}, {0}, NOERR},
    {S("\n\n\n"), DEF, {"", "", ""}, {0}, NOERR},
    {S("a\0b\n"), DEF, {"a\0b"}, {3}, NOERR},
    {S("\xff\xfe\x80\n"), DEF, {"\xff\xfe\x80"}, {0}, NOERR},
    /* One trailing CR dropped by default, only one, only trailing. */
    {S("abc\r\n"), DEF, {"abc"}, {0}, NOERR},
    {S("abc\r\r\n"), DEF, {"abc\r"}, {0}, NOERR},
    {S("\r\n"), DEF, {""}, {0}, NOERR},
    {S("a\rb\n"), DEF, {"a\rb"}, {0}, NOERR},
    {S("\r\n\r\nx\r\n"), DEF, {"", "", "x"}, {0}, NOERR},
    /* strip_cr = false keeps it. */
    {S("abc\r\n"), 0, 0, {"abc\r"}, {0}, NOERR},
    {S("\r\n"), 0, 0, {"\r"}, {0}, NOERR},
    /* Unterminated at EOF: no frame, a truncation where the line began. */
    {S("abc"), DEF, {NULL}, {0}, WEFT_ETRUNC, 0, 1},
    {S("ab\ncd"), DEF, {"ab"}, {0}, WEFT_ETRUNC, 3, 1},
    {S("ab\n\r"), DEF, {"ab"}, {0}, WEFT_ETRUNC, 3, 1},
    {S("a\n\nbc\r"), DEF, {"a", ""}, {0}, WEFT_ETRUNC, 3, 1},
    /* max_length = 4: exactly 4 passes, the 5th byte without "\n" fails
     * there, whatever follows and without waiting for EOF. */
    {S("abcd\n"), 4, -1, {"abcd"}, {0}, NOERR},
    {S("abcd"), 4, -1, {NULL}, {0}, WEFT_ETRUNC, 0, 1},
    {S("abcde"), 4, -1, {NULL}, {0}, WEFT_EMSGSIZE, 4, 0},
    {S("abcde\n"), 4, -1, {NULL}, {0}, WEFT_EMSGSIZE, 4, 0},
    {S("abcdefghijklmnop\n"), 4, -1, {NULL}, {0}, WEFT_EMSGSIZE, 4, 0},
    {S("ab\nabcde\nxy\n"), 4, -1, {"ab"}, {0}, WEFT_EMSGSIZE, 7, 0},
    {S("\n\n\nabcdX"), 4, -1, {"", "", ""}, {0}, WEFT_EMSGSIZE, 7, 0},
    {S("abcd\nabcd\nabcd\n"), 4, -1, {"abcd", "abcd", "abcd"}, {0}, NOERR},
    /* The limit is on raw bytes: a CR that is stripped still counts. */
    {S("abc\r\n"), 4, -1, {"abc"}, {0}, NOERR},
    {S("abcd\r\n"), 4, -1, {NULL}, {0}, WEFT_EMSGSIZE, 4, 0},
    /* The smallest limit. */
    {S("a\n\nb\n"), 1, -1, {"a", "", "b"}, {0}, NOERR},
    {S("a\nbc\n"), 1, -1, {"a"}, {0}, WEFT_EMSGSIZE, 3, 0},
};
/* clang-format on */

static void open_line(cu_codec_t *c, int64_t max_length, int strip_cr) {
  cu_opt_t opts[3];
  int n = 0;

  memset(opts, 0, sizeof(opts));
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

static void check_vector(const vector_t *v, size_t idx) {
  cu_codec_t c;
  cu_result_t r;
  size_t i, n, len;

  open_line(&c, v->max_length, v->strip_cr);
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

  /* Stateless: no per-connection hooks. */
  assert_null(c.vt->conn_init);
  assert_null(c.vt->conn_free);
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

/*
 * O(n): a 1 MiB line fed a byte at a time.  A shim around decode sums the
 * bytes each call had to examine (len minus the resume point it was given);
 * a codec that reported no progress would make that ~n^2/2.  The shim also
 * plants a "\n" just before the resume point during the call: a codec that
 * ignored the resume point and rescanned would find it and cut the line
 * short.  (Safe: the byte there was examined and was not a "\n", and the
 * test's input is all 'a', so no "\r" check can see it either.)
 */
static const weft_codec_vtable_t *real_vt;
static uint64_t examined;
static uint64_t calls;

static weft_decode_status_t counting_decode(weft_codec_ctx_t *ctx,
                                            const uint8_t *in, size_t len,
                                            weft_decode_t *d) {
  weft_decode_status_t st;
  size_t from = d->scanned;
  uint8_t *mark = NULL;
  uint8_t saved = 0;

  assert_true(from <= len);
  examined += len - from;
  calls++;
  if (from > 0) {
    /* The framer's own buffer: writable, only viewed as const here. */
    mark = (uint8_t *)(uintptr_t)(in + from - 1);
    saved = *mark;
    assert_int_not_equal(saved, '\n');
    *mark = '\n';
  }
  st = real_vt->decode(ctx, in, len, d);
  if (mark != NULL)
    *mark = saved;
  if (st == WEFT_DECODE_FRAME && d->consumed <= from)
    fail_msg("decode rescanned before its resume point %zu", from);
  return st;
}

static void test_linear_scan(void **unused) {
  enum { N = 1 << 20 };
  weft_codec_vtable_t shim;
  cu_codec_t c;
  cu_split_t s;
  cu_result_t r;
  uint8_t *in;
  cu_opt_t opts[] = {CU_STR("max_length", "2M"), CU_END};

  (void)unused;
  assert_int_equal(cu_codec_open(&c, PLUGIN, opts), 0);
  real_vt = c.vt;
  shim = *c.vt;
  shim.decode = counting_decode;
  c.vt = &shim;

  in = malloc(N + 1);
  assert_non_null(in);
  memset(in, 'a', N);
  in[N] = '\n';
  examined = calls = 0;
  memset(&s, 0, sizeof(s));
  s.kind = CU_BYTES;
  cu_run(&c, in, N + 1, s, 1, &r);
  assert_int_equal(r.error, 0);
  assert_int_equal(r.nframes, 1);
  cu_assert_frame(&r, 0, in, N);
  assert_int_equal(calls, N + 1);
  print_message("1 MiB line byte by byte: %llu bytes examined in %llu calls, "
                "framer tail reallocated %zu times\n",
                (unsigned long long)examined, (unsigned long long)calls,
                r.tail_grows);
  assert_true(examined < 3 * (uint64_t)(N + 1));
  /* The framer's copying is O(n) too: its tail grows geometrically. */
  assert_true(r.tail_grows < 64);
  cu_result_free(&r);

  c.vt = real_vt;
  free(in);
  cu_codec_close(&c);
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
      cmocka_unit_test(test_descriptor),    cmocka_unit_test(test_vectors),
      cmocka_unit_test(test_decode_record), cmocka_unit_test(test_limit),
      cmocka_unit_test(test_many_tiny),     cmocka_unit_test(test_encode),
      cmocka_unit_test(test_round_trip),    cmocka_unit_test(test_linear_scan),
      cmocka_unit_test(test_options),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
