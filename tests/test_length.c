/* Unit tests for the `length` codec, driven through the real framer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "capture.h"
#include "codec_util.h"

extern const weft_plugin_t length_LTX_weft_plugin;

#define PLUGIN (&length_LTX_weft_plugin)
#define MAXF 8

/* Header widths and orders every test goes through. */
static const int sizes[] = {1, 2, 3, 4, 8};
static const char *const orders[] = {"big", "little"};

typedef struct {
  int length_size;          /* 0: default (4) */
  const char *byte_order;   /* NULL: default (big) */
  const char *max_frame;    /* NULL: default (8M) */
  const char *in;           /* hex, see cu_hex() */
  const char *frames[MAXF]; /* hex */
  int error;
  uint64_t offset;
  int at_eof;
} vector_t;

#define NOERR 0, 0, 0

/* clang-format off */
static const vector_t vectors[] = {
    /* Defaults: 4-byte big-endian header. */
    {0, NULL, NULL, "", {NULL}, NOERR},
    {0, NULL, NULL, "00000000", {""}, NOERR}, /* empty is a frame */
    {0, NULL, NULL, "00000003 'abc'", {"'abc'"}, NOERR},
    {0, NULL, NULL, "00000003 'abc' 00000000 00000001 'x'",
     {"'abc'", "", "'x'"}, NOERR},
    {0, NULL, NULL, "00000000 00000000 00000000", {"", "", ""}, NOERR},
    {0, NULL, NULL, "00000004 00000000", {"00000000"}, NOERR},
    /* Truncated at EOF: no frame, an error where the frame began. */
    {0, NULL, NULL, "00", {NULL}, WEFT_ETRUNC, 0, 1},
    {0, NULL, NULL, "000000", {NULL}, WEFT_ETRUNC, 0, 1},
    {0, NULL, NULL, "00000003 'ab'", {NULL}, WEFT_ETRUNC, 0, 1},
    {0, NULL, NULL, "00000001 'a' 0000", {"'a'"}, WEFT_ETRUNC, 5, 1},
    {0, NULL, NULL, "00000001 'a' 00000002 'b'", {"'a'"}, WEFT_ETRUNC, 5, 1},
    /* Over the default 8M, from the header alone, no EOF needed.
     * 8M - 4 is exactly the limit: accepted (then truncated here). */
    {0, NULL, NULL, "007ffffc 'abc'", {NULL}, WEFT_ETRUNC, 0, 1},
    {0, NULL, NULL, "007ffffd", {NULL}, WEFT_EMSGSIZE, 0, 0},
    {0, NULL, NULL, "00800000 'abc'", {NULL}, WEFT_EMSGSIZE, 0, 0},
    {0, NULL, NULL, "ffffffff", {NULL}, WEFT_EMSGSIZE, 0, 0},
    {0, NULL, NULL, "80000000", {NULL}, WEFT_EMSGSIZE, 0, 0},
    {0, NULL, NULL, "fffffffc", {NULL}, WEFT_EMSGSIZE, 0, 0},
    {0, NULL, NULL, "00000001 'a' ffffffff 'zzzz'", {"'a'"}, WEFT_EMSGSIZE, 5,
     0},
    /* Little-endian. */
    {4, "little", NULL, "03000000 'abc' 00000000", {"'abc'", ""}, NOERR},
    {4, "little", NULL, "fcff7f00", {NULL}, WEFT_ETRUNC, 0, 1},
    {4, "little", NULL, "fdff7f00", {NULL}, WEFT_EMSGSIZE, 0, 0},
    {4, "little", NULL, "ffffffff", {NULL}, WEFT_EMSGSIZE, 0, 0},
    {4, "little", NULL, "00000080", {NULL}, WEFT_EMSGSIZE, 0, 0},
    /* One byte. */
    {1, NULL, NULL, "03 'abc' 00 01 00", {"'abc'", "", "00"}, NOERR},
    {1, "little", NULL, "02 'ab' 01", {"'ab'"}, WEFT_ETRUNC, 3, 1},
    /* Two bytes. */
    {2, NULL, NULL, "0003 'abc' 0000", {"'abc'", ""}, NOERR},
    {2, "little", NULL, "0300 'abc' 0100 'z'", {"'abc'", "'z'"}, NOERR},
    {2, "little", NULL, "0003 'abc'", {NULL}, WEFT_ETRUNC, 0, 1}, /* 768 */
    /* Eight bytes: values that wrap when the header is added, that are
     * negative as signed, or are simply huge, all refused from the header. */
    {8, NULL, NULL, "0000000000000003 'abc'", {"'abc'"}, NOERR},
    {8, NULL, NULL, "0000000000000000", {""}, NOERR},
    {8, NULL, NULL, "00000000ffffffff", {NULL}, WEFT_EMSGSIZE, 0, 0},
    {8, NULL, NULL, "7fffffffffffffff", {NULL}, WEFT_EMSGSIZE, 0, 0},
    {8, NULL, NULL, "8000000000000000", {NULL}, WEFT_EMSGSIZE, 0, 0},
    {8, NULL, NULL, "ffffffffffffffff", {NULL}, WEFT_EMSGSIZE, 0, 0},
    {8, NULL, NULL, "fffffffffffffff8", {NULL}, WEFT_EMSGSIZE, 0, 0},
    {8, NULL, NULL, "fffffffffffffff7", {NULL}, WEFT_EMSGSIZE, 0, 0},
    {8, NULL, NULL, "0000000100000000", {NULL}, WEFT_EMSGSIZE, 0, 0},
    {8, "little", NULL, "0300000000000000 'abc'", {"'abc'"}, NOERR},
    {8, "little", NULL, "ffffffffffffffff", {NULL}, WEFT_EMSGSIZE, 0, 0},
    {8, "little", NULL, "0000000000000080", {NULL}, WEFT_EMSGSIZE, 0, 0},
    {8, "little", NULL, "f8ffffffffffffff", {NULL}, WEFT_EMSGSIZE, 0, 0},
    /* The largest max_frame: still no wrap. */
    {8, NULL, "1G", "000000003ffffff8", {NULL}, WEFT_ETRUNC, 0, 1},
    {8, NULL, "1G", "000000003ffffff9", {NULL}, WEFT_EMSGSIZE, 0, 0},
    {8, NULL, "1G", "fffffffffffffff8", {NULL}, WEFT_EMSGSIZE, 0, 0},
    {8, NULL, "1G", "ffffffffffffffff", {NULL}, WEFT_EMSGSIZE, 0, 0},
    /* A small max_frame: exactly it passes, one more fails, header first. */
    {4, NULL, "10", "00000006 'abcdef'", {"'abcdef'"}, NOERR},
    {4, NULL, "10", "00000007 'abcdefg'", {NULL}, WEFT_EMSGSIZE, 0, 0},
    {4, NULL, "10", "00000002 'ab' 00000007", {"'ab'"}, WEFT_EMSGSIZE, 6, 0},
    {4, NULL, "4", "00000000 00000000", {"", ""}, NOERR},
    {4, NULL, "4", "00000001 'a'", {NULL}, WEFT_EMSGSIZE, 0, 0},
    {1, NULL, "1", "00 00 01", {"", ""}, WEFT_EMSGSIZE, 2, 0},
};
/* clang-format on */

static void open_length(cu_codec_t *c, int size, const char *order,
                        const char *max_frame) {
  cu_opt_t opts[4];
  int n = 0;

  memset(opts, 0, sizeof(opts));
  if (size > 0) {
    opts[n].type = CU_OPT_INT;
    opts[n].name = "length_size";
    opts[n++].i = size;
  }
  if (order != NULL) {
    opts[n].type = CU_OPT_STR;
    opts[n].name = "byte_order";
    opts[n++].s = order;
  }
  if (max_frame != NULL) {
    opts[n].type = CU_OPT_STR;
    opts[n].name = "max_frame";
    opts[n++].s = max_frame;
  }
  if (cu_codec_open(c, PLUGIN, opts) != 0)
    fail_msg("length codec refused its options:\n%s", c->errors);
}

/* Runs one hex vector through c, whole and split every way. */
static void check_hex(cu_codec_t *c, const char *hex, const char *const *frames,
                      int error, uint64_t offset, int at_eof) {
  cu_check_hex(c, hex, frames, error, offset, at_eof);
}

static void check_vector(const vector_t *v, size_t idx) {
  cu_codec_t c;

  print_message("vector %zu: %s\n", idx, v->in);
  open_length(&c, v->length_size, v->byte_order, v->max_frame);
  check_hex(&c, v->in, v->frames, v->error, v->offset, v->at_eof);
  cu_codec_close(&c);
}

static void test_vectors(void **unused) {
  size_t i;

  (void)unused;
  for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++)
    check_vector(&vectors[i], i);
}

/* Vectors with the full set of options, Netty's LengthFieldBasedFrameDecoder
 * examples first. */
#define OFF(n) CU_INT("length_offset", n)
#define SIZE(n) CU_INT("length_size", n)
#define ADJ(n) CU_INT("length_adjustment", n)
#define STRIP(n) CU_INT("strip", n)
#define MAX(s) CU_STR("max_frame", s)
#define LE CU_STR("byte_order", "little")
#define INCL CU_BOOL("length_includes_header", 1)

typedef struct {
  cu_opt_t opts[8];
  const char *in;
  const char *frames[MAXF];
  int error;
  uint64_t offset;
  int at_eof;
} ovector_t;

#define HW "'HELLO, WORLD'"

/* clang-format off */
static const ovector_t ovectors[] = {
    /* Netty 1: 2-byte length, nothing stripped: the whole frame. */
    {{SIZE(2), STRIP(0), CU_END}, "000C" HW, {"000C" HW}, NOERR},
    /* Netty 2: the header stripped. */
    {{SIZE(2), STRIP(2), CU_END}, "000C" HW, {HW}, NOERR},
    /* Netty 3: the length counts the header (adjustment -2, or the flag). */
    {{SIZE(2), ADJ(-2), STRIP(0), CU_END}, "000E" HW, {"000E" HW}, NOERR},
    {{SIZE(2), INCL, STRIP(0), CU_END}, "000E" HW, {"000E" HW}, NOERR},
    {{SIZE(2), INCL, CU_END}, "000E" HW, {HW}, NOERR},
    /* Netty 4: a 3-byte length after a 2-byte header. */
    {{OFF(2), SIZE(3), STRIP(0), CU_END}, "CAFE 00000C" HW,
     {"CAFE 00000C" HW}, NOERR},
    /* Netty 5: a 2-byte header after the length, counted by adjustment. */
    {{SIZE(3), ADJ(2), STRIP(0), CU_END}, "00000C CAFE" HW,
     {"00000C CAFE" HW}, NOERR},
    /* Netty 6: offset 1, adjustment 1, strip 3. */
    {{OFF(1), SIZE(2), ADJ(1), STRIP(3), CU_END}, "CA 000C FE" HW,
     {"FE" HW}, NOERR},
    /* Netty 7: the same with a length counting everything. */
    {{OFF(1), SIZE(2), ADJ(-3), STRIP(3), CU_END}, "CA 0010 FE" HW,
     {"FE" HW}, NOERR},
    /* Little-endian 3 bytes. */
    {{SIZE(3), LE, CU_END}, "020000 'ab' 000000", {"'ab'", ""}, NOERR},
    {{SIZE(3), CU_END}, "7ffffd", {NULL}, WEFT_ETRUNC, 0, 1},
    {{SIZE(3), CU_END}, "7ffffe", {NULL}, WEFT_EMSGSIZE, 0, 0},
    {{SIZE(3), CU_END}, "ffffff", {NULL}, WEFT_EMSGSIZE, 0, 0},
    {{SIZE(3), LE, CU_END}, "ffffff", {NULL}, WEFT_EMSGSIZE, 0, 0},

    /* Over max_frame, counted after adjustment, found from the header. */
    {{SIZE(1), MAX("10"), CU_END}, "09 'abcdefghi'", {"'abcdefghi'"}, NOERR},
    {{SIZE(1), MAX("10"), CU_END}, "0a", {NULL}, WEFT_EMSGSIZE, 0, 0},
    {{SIZE(1), ADJ(5), MAX("10"), CU_END}, "04 'abcdefghi'", {"'abcdefghi'"},
     NOERR},
    {{SIZE(1), ADJ(5), MAX("10"), CU_END}, "05", {NULL}, WEFT_EMSGSIZE, 0, 0},
    {{SIZE(1), INCL, MAX("10"), CU_END}, "0a 'abcdefghi'", {"'abcdefghi'"},
     NOERR},
    {{SIZE(1), INCL, MAX("10"), CU_END}, "0b", {NULL}, WEFT_EMSGSIZE, 0, 0},
    /* The field after a header: the error is where the field starts. */
    {{OFF(3), SIZE(2), MAX("100"), CU_END}, "'abc' 0001 'x' 'abc' 0060",
     {"'x'"}, WEFT_EMSGSIZE, 9, 0},
    {{OFF(3), SIZE(2), MAX("100"), CU_END}, "'abc' 005f", {NULL}, WEFT_ETRUNC,
     0, 1},
    /* Values that wrap when the header or the adjustment is added, or are
     * negative as signed: errors, never a size. */
    {{SIZE(8), ADJ(1000), CU_END}, "ffffffffffffffff", {NULL},
     WEFT_EMSGSIZE, 0, 0},
    {{SIZE(8), ADJ(-1073741824), CU_END}, "ffffffffffffffff", {NULL},
     WEFT_EMSGSIZE, 0, 0},
    {{SIZE(8), ADJ(-1073741824), CU_END}, "7fffffffffffffff", {NULL},
     WEFT_EMSGSIZE, 0, 0},
    {{SIZE(8), ADJ(-1073741824), CU_END}, "8000000000000000", {NULL},
     WEFT_EMSGSIZE, 0, 0},
    {{SIZE(8), ADJ(-100), STRIP(0), CU_END}, "0000000000000063", {NULL},
     WEFT_EPROTO, 0, 0},
    {{SIZE(8), ADJ(-100), STRIP(0), CU_END}, "0000000000000064 'abcd'",
     {"0000000000000064"}, WEFT_ETRUNC, 8, 1},
    {{SIZE(8), OFF(4), INCL, MAX("1G"), CU_END}, "'hdr!' fffffffffffffff4",
     {NULL}, WEFT_EMSGSIZE, 4, 0},
    /* Below the header after adjustment ("negative" lengths). */
    {{SIZE(4), ADJ(-4), CU_END}, "00000004 00000003", {"", NULL},
     WEFT_EPROTO, 4, 0},
    {{SIZE(4), ADJ(-10), CU_END}, "0000000a 00000005 'x'", {""}, WEFT_EPROTO,
     4, 0},
    {{SIZE(2), INCL, CU_END}, "0002 0003 'x' 0001", {"", "'x'"}, WEFT_EPROTO,
     5, 0},
    {{SIZE(2), INCL, CU_END}, "0000", {NULL}, WEFT_EPROTO, 0, 0},
    /* Below strip: the frame would not even reach its first kept byte. */
    {{SIZE(2), STRIP(4), CU_END}, "0002 'ab' 0001 'a'", {""}, WEFT_EPROTO, 4,
     0},
    {{SIZE(2), STRIP(4), CU_END}, "0003 'abc'", {"'c'"}, NOERR},
    /* An empty frame is a frame, with or without a header delivered. */
    {{SIZE(2), STRIP(0), CU_END}, "0000 0000", {"0000", "0000"}, NOERR},
    {{SIZE(1), MAX("1"), CU_END}, "00 00", {"", ""}, NOERR},
    /* Truncated after a header of several parts. */
    {{OFF(1), SIZE(2), CU_END}, "'x' 0002 'a'", {NULL}, WEFT_ETRUNC, 0, 1},
    {{OFF(1), SIZE(2), CU_END}, "'x' 00", {NULL}, WEFT_ETRUNC, 0, 1},
};
/* clang-format on */

static void test_options_vectors(void **unused) {
  cu_codec_t c;
  size_t i;

  (void)unused;
  for (i = 0; i < sizeof(ovectors) / sizeof(ovectors[0]); i++) {
    print_message("option vector %zu: %s\n", i, ovectors[i].in);
    if (cu_codec_open(&c, PLUGIN, ovectors[i].opts) != 0)
      fail_msg("vector %zu: options refused:\n%s", i, c.errors);
    check_hex(&c, ovectors[i].in, ovectors[i].frames, ovectors[i].error,
              ovectors[i].offset, ovectors[i].at_eof);
    {
      size_t len;
      uint8_t *in = cu_hex(ovectors[i].in, &len);
      cu_check_decoded(&c, in, len);
      free(in);
    }
    cu_codec_close(&c);
  }
}

/* Direct calls: the decode record is filled as codec.h says. */
static void test_decode_record(void **unused) {
  static const uint8_t hdr_only[] = {0, 0, 3, 0xe4}; /* 996 */
  static const uint8_t too_big[] = {0, 0, 3, 0xe5};  /* 997 */
  static const uint8_t frame[] = {0, 0, 0, 2, 'h', 'i', 0, 0};
  cu_codec_t c;
  weft_codec_ctx_t ctx;
  weft_decode_t d;

  (void)unused;
  open_length(&c, 4, NULL, "1000");
  memset(&ctx, 0, sizeof(ctx));
  ctx.vt = c.vt;
  ctx.state = c.state;

  /* A partial header: nothing known yet. */
  memset(&d, 0, sizeof(d));
  assert_int_equal(c.vt->decode(&ctx, hdr_only, 3, &d), WEFT_DECODE_MORE);
  assert_int_equal(d.need, 0);
  assert_int_equal(d.scanned, 0);

  /* A whole header: the engine is told the frame's full size. */
  memset(&d, 0, sizeof(d));
  assert_int_equal(c.vt->decode(&ctx, hdr_only, 4, &d), WEFT_DECODE_MORE);
  assert_int_equal(d.need, 1000);
  assert_int_equal(d.scanned, 0);

  memset(&d, 0, sizeof(d));
  assert_int_equal(c.vt->decode(&ctx, too_big, 4, &d), WEFT_DECODE_ERROR);
  assert_int_equal(d.error, WEFT_EMSGSIZE);
  assert_int_equal(d.consumed, 0);
  assert_non_null(d.reason);
  assert_non_null(strstr(d.reason, "max_frame"));

  memset(&d, 0, sizeof(d));
  d.scanned = 3; /* irrelevant to this codec */
  assert_int_equal(c.vt->decode(&ctx, frame, sizeof(frame), &d),
                   WEFT_DECODE_FRAME);
  assert_ptr_equal(d.frame, frame + 4);
  assert_int_equal(d.frame_len, 2);
  assert_int_equal(d.consumed, 6);

  memset(&d, 0, sizeof(d));
  assert_int_equal(c.vt->decode(&ctx, frame + 6, 2, &d), WEFT_DECODE_MORE);
  memset(&d, 0, sizeof(d));
  assert_int_equal(c.vt->decode_eof(&ctx, frame + 6, 2, &d), WEFT_DECODE_ERROR);
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

/* Exactly max_frame passes; one more is refused once the header is in,
 * before any payload arrives, and the framer never held more than max. */
static void test_limit(void **unused) {
  enum { MAX = 1000 };
  cu_codec_t c;
  cu_split_t s;
  cu_result_t r;
  uint8_t in[MAX + 1];
  size_t i;

  (void)unused;
  for (i = 0; i < sizeof(orders) / sizeof(orders[0]); i++) {
    open_length(&c, 4, orders[i], "1000");
    memset(in, 'p', sizeof(in));
    /* 996 = 0x3e4 */
    memcpy(in, i == 0 ? "\x00\x00\x03\xe4" : "\xe4\x03\x00\x00", 4);
    cu_check_splits(&c, in, MAX, 0, 1, &r);
    assert_int_equal(r.error, 0);
    assert_int_equal(r.nframes, 1);
    assert_int_equal(r.frame_len[0], MAX - 4);
    cu_result_free(&r);

    memset(&s, 0, sizeof(s));
    s.kind = CU_BYTES;
    cu_run(&c, in, MAX, s, 1, &r);
    assert_true(r.max_pending <= MAX);
    cu_result_free(&r);

    /* 997: only the 4 header bytes are read, one at a time, no EOF. */
    in[i == 0 ? 3 : 0] = 0xe5;
    cu_run(&c, in, 4, s, 0, &r);
    assert_int_equal(r.error, WEFT_EMSGSIZE);
    assert_int_equal(r.error_offset, 0);
    assert_int_equal(r.reads, 4);
    assert_int_equal(r.nframes, 0);
    cu_result_free(&r);
    cu_codec_close(&c);
  }
}

static void test_many_tiny(void **unused) {
  cu_codec_t c;
  cu_result_t r;
  uint8_t in[1000 * 5], want;
  size_t len = 0, i;

  (void)unused;
  open_length(&c, 2, "little", NULL);
  for (i = 0; i < 1000; i++) {
    if (i % 10 == 9) {
      in[len++] = 0; /* an empty frame now and then */
      in[len++] = 0;
    } else {
      in[len++] = 1;
      in[len++] = 0;
      in[len++] = (uint8_t)i;
    }
  }
  cu_check_splits(&c, in, len, 0, 1, &r);
  assert_int_equal(r.error, 0);
  assert_int_equal(r.nframes, 1000);
  for (i = 0; i < 1000; i++) {
    want = (uint8_t)i;
    cu_assert_frame(&r, i, &want, i % 10 == 9 ? 0 : 1);
  }
  assert_int_equal(r.reads, 1);
  assert_int_equal(r.max_pending, 0);
  cu_result_free(&r);
  cu_codec_close(&c);
}

/*
 * ABI 1.2: the whole frames of a read come through decode_many, at most 64
 * a batch; a batch stops before a header decode() must refuse.
 */
static void test_batch(void **unused) {
  cu_codec_t c;
  cu_split_t s;
  cu_result_t r;
  uint8_t in[1000 * 7];
  size_t len = 0, i;

  (void)unused;
  open_length(&c, 4, NULL, "64k");
  assert_non_null(c.vt->decode_many);
  assert_non_null(c.vt->encode_many);
  for (i = 0; i < 1000; i++) {
    in[len++] = 0;
    in[len++] = 0;
    in[len++] = 0;
    in[len++] = (uint8_t)(i % 3);
    memset(in + len, 'a', i % 3);
    len += i % 3;
  }
  memset(&s, 0, sizeof(s));
  s.kind = CU_WHOLE;
  s.batch = CU_BATCH;
  cu_run(&c, in, len, s, 1, &r);
  assert_int_equal(r.error, 0);
  assert_int_equal(r.nframes, 1000);
  assert_int_equal(r.batched, 1000);
  assert_int_equal(r.batches, (1000 + 63) / 64);
  cu_assert_frame(&r, 998, "aa", 2);
  cu_result_free(&r);

  /* Two frames, then a header over max_frame: the batch holds the two,
   * and the error is where the field starts. */
  memcpy(in, "\0\0\0\1x\0\0\0\0\0\1\0\1", 13);
  cu_run(&c, in, 13, s, 1, &r);
  assert_int_equal(r.nframes, 2);
  assert_int_equal(r.batched, 2);
  assert_int_equal(r.error, WEFT_EMSGSIZE);
  assert_int_equal(r.error_offset, 9);
  cu_result_free(&r);
  cu_codec_close(&c);
}

/* A codec whose decode_many claims more input than it was given: the
 * framer refuses it, as it refuses a bad decode(). */
static size_t bad_decode_many(weft_codec_ctx_t *ctx, const uint8_t *in,
                              size_t len, weft_frame_t *frames, size_t max,
                              size_t *used) {
  (void)ctx;
  (void)max;
  frames[0].data = in;
  frames[0].len = 0;
  *used = len + 1;
  return 1;
}

static void test_batch_broken(void **unused) {
  weft_codec_vtable_t shim;
  const weft_codec_vtable_t *vt;
  cu_codec_t c;
  cu_split_t s;
  cu_result_t r;

  (void)unused;
  open_length(&c, 4, NULL, NULL);
  vt = c.vt;
  shim = *vt;
  shim.decode_many = bad_decode_many;
  c.vt = &shim;
  memset(&s, 0, sizeof(s));
  s.batch = CU_BATCH;
  cu_run(&c, (const uint8_t *)"\0\0\0\1x", 5, s, 1, &r);
  assert_int_equal(r.nframes, 0);
  assert_int_equal(r.error, WEFT_EPLUGIN);
  assert_string_equal(r.reason, "codec returned frames outside its input");
  cu_result_free(&r);
  /* One frame at a time, decode_many is never asked. */
  s.batch = CU_ONE;
  cu_run(&c, (const uint8_t *)"\0\0\0\1x", 5, s, 1, &r);
  assert_int_equal(r.error, 0);
  assert_int_equal(r.nframes, 1);
  cu_result_free(&r);
  c.vt = vt;
  cu_codec_close(&c);
}

/* encode_many against encode() for each field, with bad frames among
 * good ones at every place. */
static void test_encode_batch(void **unused) {
  enum { N = 40 };
  static uint8_t buf[N][600];
  static const size_t lens[] = {0,  1,   2,   3,   15,  16,  17,  63, 64,
                                65, 254, 255, 256, 511, 512, 513, 599};
  weft_frame_t f[N + 1];
  cu_codec_t c;
  size_t i, j, n, at, o;

  (void)unused;
  for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
    for (o = 0; o < 2; o++) {
      open_length(&c, sizes[i], orders[o], "600");
      /* The lengths this field can carry, each once, then again. */
      for (n = 0, j = 0; j < 2 * sizeof(lens) / sizeof(lens[0]); j++) {
        f[n].len = lens[j % (sizeof(lens) / sizeof(lens[0]))];
        if (sizes[i] == 1 && f[n].len > 255)
          continue;
        if (f[n].len + (size_t)sizes[i] > 600)
          continue;
        memset(buf[n], 'a' + (int)(n % 26), f[n].len);
        f[n].data = buf[n];
        n++;
      }
      assert_int_equal(cu_check_encode_many(&c, f, n), 0);
      /* One too long for the field or for max_frame, at each place. */
      for (at = 0; at <= n; at++) {
        memmove(f + at + 1, f + at, (n - at) * sizeof(f[0]));
        f[at].data = buf[0];
        f[at].len = sizes[i] == 1 ? 256 : 600 - (size_t)sizes[i] + 1;
        assert_int_equal(cu_check_encode_many(&c, f, n + 1), WEFT_EMSGSIZE);
        memmove(f + at, f + at + 1, (n - at) * sizeof(f[0]));
      }
      cu_codec_close(&c);
    }
}

/* An echo of decoded frames (weft_out_decoded) sends what encode() would,
 * for every field and around the 512 bytes a payload goes apart at. */
static void test_encode_decoded(void **unused) {
  static const size_t lens[] = {0, 1, 5, 63, 255, 511, 512, 513, 0, 2};
  static uint8_t payload[600];
  weft__buf_t in;
  cu_codec_t c;
  size_t i, j, o, n;

  (void)unused;
  memset(payload, 'p', sizeof(payload));
  for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
    for (o = 0; o < 2; o++) {
      open_length(&c, sizes[i], orders[o], "600");
      memset(&in, 0, sizeof(in));
      for (n = 0, j = 0; j < sizeof(lens) / sizeof(lens[0]); j++) {
        if ((sizes[i] == 1 && lens[j] > 255) ||
            lens[j] + (size_t)sizes[i] > 600)
          continue;
        payload[0] = (uint8_t)j; /* frames differ */
        assert_int_equal(cu_encode(&c, payload, lens[j], &in), 0);
        n++;
      }
      assert_int_equal(cu_check_decoded(&c, in.base, in.len), n);
      weft__buf_free(&in);
      cu_codec_close(&c);
    }
}

static void test_encode(void **unused) {
  static const struct {
    int size;
    const char *order;
    const char *wire;
  } cases[] = {
      {1, "big", "03 'abc'"},
      {1, "little", "03 'abc'"},
      {2, "big", "0003 'abc'"},
      {2, "little", "0300 'abc'"},
      {3, "big", "000003 'abc'"},
      {3, "little", "030000 'abc'"},
      {4, "big", "00000003 'abc'"},
      {4, "little", "03000000 'abc'"},
      {8, "big", "0000000000000003 'abc'"},
      {8, "little", "0300000000000000 'abc'"},
  };
  cu_codec_t c;
  weft__buf_t b;
  uint8_t *want;
  size_t want_len, i;

  (void)unused;
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    open_length(&c, cases[i].size, cases[i].order, NULL);
    memset(&b, 0, sizeof(b));
    assert_int_equal(cu_encode(&c, "abc", 3, &b), 0);
    want = cu_hex(cases[i].wire, &want_len);
    assert_int_equal(b.len, want_len);
    assert_memory_equal(b.base, want, want_len);
    free(want);
    /* An empty frame is a bare header of zeros. */
    assert_int_equal(cu_encode(&c, NULL, 0, &b), 0);
    assert_int_equal(b.len, want_len + (size_t)cases[i].size);
    weft__buf_free(&b);
    cu_codec_close(&c);
  }
}

/* Frames that do not fit the header or max_frame are refused, appending
 * nothing; the largest that fit are accepted. */
static void check_encode_limit(int size, const char *max_frame, size_t ok) {
  cu_codec_t c;
  weft__buf_t b;
  uint8_t *p;

  open_length(&c, size, NULL, max_frame);
  memset(&b, 0, sizeof(b));
  p = calloc(1, ok + 1);
  assert_non_null(p);
  assert_int_equal(cu_encode(&c, p, ok, &b), 0);
  assert_int_equal(b.len, (size_t)size + ok);
  assert_int_equal(cu_encode(&c, p, ok + 1, &b), WEFT_EMSGSIZE);
  assert_int_equal(b.len, (size_t)size + ok);
  free(p);
  weft__buf_free(&b);
  cu_codec_close(&c);
}

static void test_encode_limits(void **unused) {
  (void)unused;
  check_encode_limit(1, NULL, 255);   /* header width */
  check_encode_limit(2, NULL, 65535); /* header width */
  check_encode_limit(2, "100", 98);   /* max_frame */
  check_encode_limit(4, "10", 6);     /* max_frame */
  check_encode_limit(4, NULL, (8u << 20) - 4);
  check_encode_limit(8, "16", 8);
  check_encode_limit(3, NULL, (8u << 20) - 3);
  check_encode_limit(3, "1G", (1u << 24) - 1); /* the field's range */
  check_encode_limit(4, "4", 0);
}

/* Encode random frames, decode the stream whole and in random chunks. */
static void round_trip(int size, const char *order, uint64_t seed) {
  enum { N = 200 };
  cu_codec_t c;
  cu_split_t s;
  cu_result_t r;
  weft__buf_t b;
  uint8_t *frames[N];
  size_t lens[N], i, cap, k;

  open_length(&c, size, order, "4k");
  /* The largest payload: the header's range or max_frame, whichever is
   * smaller; hit it exactly now and then. */
  cap = size == 1 ? 255 : 4096 - (size_t)size;
  memset(&b, 0, sizeof(b));
  for (i = 0; i < N; i++) {
    k = cu_rand(&seed) & 7;
    lens[i] = k == 0 ? cap : k == 1 ? 0 : cu_rand(&seed) % (cap + 1);
    frames[i] = malloc(lens[i] + 1);
    assert_non_null(frames[i]);
    cu_rand_bytes(&seed, frames[i], lens[i]);
    assert_int_equal(cu_encode(&c, frames[i], lens[i], &b), 0);
  }

  memset(&s, 0, sizeof(s));
  for (k = 0; k < 3; k++) {
    s.kind = k == 0 ? CU_WHOLE : CU_RANDOM;
    s.arg = seed + k;
    s.stop_each = k == 2;
    cu_run(&c, b.base, b.len, s, 1, &r);
    assert_int_equal(r.error, 0);
    assert_int_equal(r.nframes, N);
    for (i = 0; i < N; i++)
      cu_assert_frame(&r, i, frames[i], lens[i]);
    assert_true(r.max_pending <= 4096);
    cu_result_free(&r);
  }

  for (i = 0; i < N; i++)
    free(frames[i]);
  weft__buf_free(&b);
  cu_codec_close(&c);
}

static void test_round_trip(void **unused) {
  size_t i, j;
  uint64_t seed;

  (void)unused;
  for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
    for (j = 0; j < sizeof(orders) / sizeof(orders[0]); j++)
      for (seed = 1; seed <= 4; seed++)
        round_trip(sizes[i], orders[j], seed * 1000 + i * 10 + j);
}

static void test_options(void **unused) {
  cu_codec_t c;
  cu_opt_t size5[] = {CU_INT("length_size", 5), CU_END};
  cu_opt_t size0[] = {CU_INT("length_size", 0), CU_END};
  cu_opt_t size16[] = {CU_INT("length_size", 16), CU_END};
  cu_opt_t size_str[] = {CU_STR("length_size", "4"), CU_END};
  cu_opt_t middle[] = {CU_STR("byte_order", "middle"), CU_END};
  cu_opt_t order_int[] = {CU_INT("byte_order", 1), CU_END};
  cu_opt_t max0[] = {CU_INT("max_frame", 0), CU_END};
  cu_opt_t max_huge[] = {CU_STR("max_frame", "2G"), CU_END};
  cu_opt_t max_small[] = {CU_INT("length_size", 8), CU_STR("max_frame", "7"),
                          CU_END};
  cu_opt_t unknown[] = {CU_INT("length_size", 2), CU_STR("frame_max", "1k"),
                        CU_END};
  cu_opt_t all_bad[] = {CU_INT("length_size", 5),
                        CU_STR("byte_order", "middle"), CU_INT("max_frame", 0),
                        CU_END};
  cu_opt_t good[] = {CU_INT("length_size", 8), CU_STR("byte_order", "little"),
                     CU_STR("max_frame", "8"), CU_END};

  (void)unused;
  assert_int_equal(cu_codec_open(&c, PLUGIN, size5), WEFT_EINVAL);
  assert_true(cu_codec_error_has(&c, "test.conf:1:", "\"length\"",
                                 "length_size", "1, 2, 3, 4 or 8", NULL));
  assert_int_equal(c.nerrors, 1);
  assert_int_equal(cu_codec_open(&c, PLUGIN, size0), WEFT_EINVAL);
  assert_true(cu_codec_error_has(&c, "length_size", NULL));
  assert_int_equal(cu_codec_open(&c, PLUGIN, size16), WEFT_EINVAL);
  assert_true(cu_codec_error_has(&c, "length_size", NULL));
  assert_int_equal(cu_codec_open(&c, PLUGIN, size_str), WEFT_EINVAL);
  assert_true(cu_codec_error_has(&c, "length_size", NULL));

  assert_int_equal(cu_codec_open(&c, PLUGIN, middle), WEFT_EINVAL);
  assert_true(
      cu_codec_error_has(&c, "test.conf:1:", "byte_order", "middle", NULL));
  assert_int_equal(cu_codec_open(&c, PLUGIN, order_int), WEFT_EINVAL);
  assert_true(cu_codec_error_has(&c, "byte_order", NULL));

  assert_int_equal(cu_codec_open(&c, PLUGIN, max0), WEFT_EINVAL);
  assert_true(cu_codec_error_has(&c, "max_frame", NULL));
  assert_int_equal(cu_codec_open(&c, PLUGIN, max_huge), WEFT_EINVAL);
  assert_true(cu_codec_error_has(&c, "max_frame", NULL));
  /* No room even for the header. */
  assert_int_equal(cu_codec_open(&c, PLUGIN, max_small), WEFT_EINVAL);
  assert_true(cu_codec_error_has(&c, "test.conf:2:", "max_frame", NULL));

  assert_int_equal(cu_codec_open(&c, PLUGIN, unknown), WEFT_EINVAL);
  assert_true(
      cu_codec_error_has(&c, "test.conf:2:", "unknown", "frame_max", NULL));
  assert_int_equal(c.nerrors, 1);

  /* Every bad value at once, none taken for an unknown option. */
  assert_int_equal(cu_codec_open(&c, PLUGIN, all_bad), WEFT_EINVAL);
  assert_true(cu_codec_error_has(&c, "test.conf:1:", "length_size", NULL));
  assert_true(cu_codec_error_has(&c, "test.conf:2:", "byte_order", NULL));
  assert_true(cu_codec_error_has(&c, "test.conf:3:", "max_frame", NULL));
  assert_false(cu_codec_error_has(&c, "unknown", NULL));
  assert_int_equal(c.nerrors, 3);

  assert_int_equal(cu_codec_open(&c, PLUGIN, good), 0);
  cu_codec_close(&c);
}

/* Combinations of options under which no frame could ever be valid are
 * refused when the configuration is loaded, each with its reason. */
static void test_impossible_options(void **unused) {
  static const struct {
    cu_opt_t opts[6];
    const char *where, *option, *words;
  } cases[] = {
      /* clang-format off */
      {{OFF(10), SIZE(4), MAX("13"), CU_END}, "test.conf:3:", "max_frame",
       "header"},
      {{SIZE(8), MAX("7"), CU_END}, "test.conf:2:", "max_frame", "header"},
      {{SIZE(2), STRIP(101), MAX("100"), CU_END}, "test.conf:2:", "strip",
       "max_frame"},
      /* A 1-byte field cannot count to 300. */
      {{SIZE(1), ADJ(-300), CU_END}, "test.conf:2:", "length_adjustment",
       "at least 300"},
      /* Every frame would be over max_frame. */
      {{SIZE(2), ADJ(100), MAX("100"), CU_END}, "test.conf:2:",
       "length_adjustment", "no length field value"},
      {{SIZE(2), INCL, ADJ(101), MAX("100"), CU_END}, "test.conf:3:",
       "length_adjustment", "length_includes_header"},
      /* Plain range errors. */
      {{SIZE(2), OFF(-1), CU_END}, "test.conf:2:", "length_offset", "range"},
      {{SIZE(2), OFF(65536), CU_END}, "test.conf:2:", "length_offset", "range"},
      {{ADJ(-1073741825), CU_END}, "test.conf:1:", "length_adjustment",
       "range"},
      {{STRIP(-1), CU_END}, "test.conf:1:", "strip", "range"},
      {{CU_STR("strip", "4"), CU_END}, "test.conf:1:", "strip", "integer"},
      {{CU_STR("on_overflow", "ignore"), CU_END}, "test.conf:1:",
       "on_overflow", "\"discard\""},
      {{CU_INT("length_includes_header", 1), CU_END}, "test.conf:1:",
       "length_includes_header", "true or false"},
      /* clang-format on */
  };
  cu_opt_t fine[] = {OFF(1), SIZE(2), ADJ(-3), STRIP(3), INCL, CU_END};
  cu_opt_t edge[] = {SIZE(1), ADJ(-255), STRIP(0), CU_END};
  cu_codec_t c;
  size_t i;

  (void)unused;
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    assert_int_equal(cu_codec_open(&c, PLUGIN, cases[i].opts), WEFT_EINVAL);
    if (!cu_codec_error_has(&c, cases[i].where, cases[i].option, cases[i].words,
                            NULL))
      fail_msg("case %zu: want %s %s %s, got:\n%s", i, cases[i].where,
               cases[i].option, cases[i].words, c.errors);
    assert_int_equal(c.nerrors, 1);
  }
  /* Odd but workable. */
  assert_int_equal(cu_codec_open(&c, PLUGIN, fine), 0);
  cu_codec_close(&c);
  assert_int_equal(cu_codec_open(&c, PLUGIN, edge), 0);
  /* 255 - 254: the smallest frame is the 1-byte header alone. */
  check_hex(&c, "ff 'x'", (const char *const[]){"ff", NULL}, WEFT_EPROTO, 1, 0);
  cu_codec_close(&c);
}

/* The encoder writes what the decoder reads back, for every layout. */
static void test_encode_layouts(void **unused) {
  static const struct {
    cu_opt_t opts[7];
    const char *frame, *wire;
    int rc;
  } cases[] = {
      /* clang-format off */
      {{SIZE(2), CU_END}, HW, "000C" HW, 0},
      {{SIZE(2), INCL, CU_END}, HW, "000E" HW, 0},
      {{SIZE(2), ADJ(-2), CU_END}, HW, "000E" HW, 0},
      {{SIZE(3), LE, ADJ(2), CU_END}, "'ab'", "000000 'ab'", 0},
      /* Stripped header bytes are written as zeros. */
      {{OFF(1), SIZE(2), ADJ(1), STRIP(3), CU_END}, "FE" HW, "00 000C FE" HW,
       0},
      {{OFF(1), SIZE(2), ADJ(-3), STRIP(3), CU_END}, "FE" HW, "00 0010 FE" HW,
       0},
      /* A frame that carries the field must hold the right value. */
      {{SIZE(2), STRIP(0), CU_END}, "000C" HW, "000C" HW, 0},
      {{SIZE(2), STRIP(0), CU_END}, "000D" HW, NULL, WEFT_EINVAL},
      {{OFF(2), SIZE(3), STRIP(0), CU_END}, "CAFE 00000C" HW,
       "CAFE 00000C" HW, 0},
      {{OFF(2), SIZE(3), STRIP(3), CU_END}, "000C" HW, "0000 00000C" HW, 0},
      {{OFF(2), SIZE(3), STRIP(3), CU_END}, "000D" HW, NULL, WEFT_EINVAL},
      {{OFF(2), SIZE(3), STRIP(3), CU_END}, "010C" HW, NULL, WEFT_EINVAL},
      /* Too short to hold the header, or the adjustment. */
      {{SIZE(2), STRIP(0), CU_END}, "00", NULL, WEFT_EINVAL},
      {{SIZE(2), STRIP(0), CU_END}, "", NULL, WEFT_EINVAL},
      {{SIZE(2), ADJ(4), CU_END}, "'abc'", NULL, WEFT_EINVAL},
      {{SIZE(2), ADJ(4), CU_END}, "'abcd'", "0000 'abcd'", 0},
      {{SIZE(2), ADJ(-4), CU_END}, "'a'", "0005 'a'", 0},
      /* Too long for the field or for max_frame. */
      {{SIZE(1), ADJ(-10), CU_END}, "'abcd'", "0e 'abcd'", 0},
      {{SIZE(1), MAX("5"), CU_END}, "'abcde'", NULL, WEFT_EMSGSIZE},
      {{SIZE(1), STRIP(0), MAX("5"), CU_END}, "04 'abcd'", "04 'abcd'", 0},
      {{SIZE(1), STRIP(0), MAX("5"), CU_END}, "06 'abcde'", NULL,
       WEFT_EMSGSIZE},
      /* clang-format on */
  };
  cu_codec_t c;
  weft__buf_t b;
  uint8_t *frame, *want;
  size_t flen, wlen, i;
  cu_result_t r;
  cu_split_t sp;

  (void)unused;
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    if (cu_codec_open(&c, PLUGIN, cases[i].opts) != 0)
      fail_msg("case %zu: options refused:\n%s", i, c.errors);
    frame = cu_hex(cases[i].frame, &flen);
    memset(&b, 0, sizeof(b));
    if (cu_encode(&c, frame, flen, &b) != cases[i].rc)
      fail_msg("case %zu: encode %s: want %d", i, cases[i].frame, cases[i].rc);
    if (cases[i].rc == 0) {
      want = cu_hex(cases[i].wire, &wlen);
      assert_int_equal(b.len, wlen);
      assert_memory_equal(b.base, want, wlen);
      free(want);
      /* And back. */
      memset(&sp, 0, sizeof(sp));
      cu_run(&c, b.base, b.len, sp, 1, &r);
      assert_int_equal(r.error, 0);
      assert_int_equal(r.nframes, 1);
      cu_assert_frame(&r, 0, frame, flen);
      cu_result_free(&r);
    } else {
      assert_int_equal(b.len, 0);
    }
    weft__buf_free(&b);
    free(frame);
    cu_codec_close(&c);
  }
}

/* Random frames through layouts that deliver the header too, so each
 * frame must carry a right length field: the test writes it. */
static void test_round_trip_layouts(void **unused) {
  static const struct {
    cu_opt_t opts[7];
    size_t off, size, strip;
    int64_t k; /* whole frame = value + k */
    int little;
  } cases[] = {
      /* clang-format off */
      {{OFF(1), SIZE(2), ADJ(1), STRIP(3), MAX("300"), CU_END}, 1, 2, 3, 4, 0},
      {{SIZE(2), STRIP(0), MAX("300"), CU_END}, 0, 2, 0, 2, 0},
      {{OFF(2), SIZE(3), STRIP(0), LE, MAX("300"), CU_END}, 2, 3, 0, 5, 1},
      {{SIZE(4), INCL, STRIP(2), MAX("300"), CU_END}, 0, 4, 2, 0, 0},
      {{SIZE(8), ADJ(-8), STRIP(1), LE, MAX("300"), CU_END}, 0, 8, 1, 0, 1},
      {{SIZE(1), ADJ(-1), STRIP(0), MAX("255"), CU_END}, 0, 1, 0, 0, 0},
      /* clang-format on */
  };
  enum { N = 100 };
  uint8_t *frames[N], *wire;
  size_t lens[N], i, j, n, min, total;
  uint64_t seed = 77, v;
  weft__buf_t b;
  cu_codec_t c;
  cu_result_t r;
  cu_split_t sp;

  (void)unused;
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    assert_int_equal(cu_codec_open(&c, PLUGIN, cases[i].opts), 0);
    memset(&b, 0, sizeof(b));
    /* The shortest whole frame: the header, strip, and a value of 0. */
    min = cases[i].off + cases[i].size;
    if (cases[i].k > 0 && (size_t)cases[i].k > min)
      min = (size_t)cases[i].k;
    min = min > cases[i].strip ? min - cases[i].strip : 0;
    for (n = 0; n < N; n++) {
      lens[n] = min + cu_rand(&seed) % 200;
      frames[n] = malloc(lens[n] + 1);
      assert_non_null(frames[n]);
      cu_rand_bytes(&seed, frames[n], lens[n]);
      /* Write the field's bytes that fall inside the frame. */
      total = cases[i].strip + lens[n];
      v = (uint64_t)((int64_t)total - cases[i].k);
      wire = calloc(1, total);
      assert_non_null(wire);
      memcpy(wire + cases[i].strip, frames[n], lens[n]);
      for (j = 0; j < cases[i].size; j++)
        wire[cases[i].off + (cases[i].little ? j : cases[i].size - 1 - j)] =
            (uint8_t)(v >> (8 * j));
      memcpy(frames[n], wire + cases[i].strip, lens[n]);
      free(wire);
      if (cu_encode(&c, frames[n], lens[n], &b) != 0)
        fail_msg("layout %zu: frame %zu of %zu bytes refused", i, n, lens[n]);
    }
    memset(&sp, 0, sizeof(sp));
    for (j = 0; j < 3; j++) {
      sp.kind = j == 0 ? CU_WHOLE : j == 1 ? CU_BYTES : CU_RANDOM;
      sp.arg = seed;
      cu_run(&c, b.base, b.len, sp, 1, &r);
      assert_int_equal(r.error, 0);
      assert_int_equal(r.nframes, N);
      for (n = 0; n < N; n++)
        cu_assert_frame(&r, n, frames[n], lens[n]);
      cu_result_free(&r);
    }
    for (n = 0; n < N; n++)
      free(frames[n]);
    weft__buf_free(&b);
    cu_codec_close(&c);
  }
}

/* At debug level, create() logs the frame layout as a byte diagram. */
static void test_layout_log(void **unused) {
  cu_opt_t opts[] = {OFF(2), SIZE(2), ADJ(-2), STRIP(4), CU_END};
  cu_codec_t c;
  const char *log;
  int level = weft_log_get_level();

  (void)unused;
  weft_log_set_level(WEFT_LOG_DEBUG);
  capture_start();
  assert_int_equal(cu_codec_open(&c, PLUGIN, opts), 0);
  log = capture_end();
  weft_log_set_level(level);
  cu_codec_close(&c);
  print_message("%s", log);
  assert_int_equal(capture_count(log, "frame layout"), 1);
  assert_int_equal(capture_count(log, "| 2 B | length: 2 B BE |"), 1);
  assert_int_equal(capture_count(log, "+-----+"), 2);
  assert_int_equal(capture_count(log, "length + 2 bytes"), 1);
  assert_int_equal(capture_count(log, "bytes 4 to the end"), 1);

  /* Not at the default level. */
  capture_start();
  assert_int_equal(cu_codec_open(&c, PLUGIN, opts), 0);
  log = capture_end();
  cu_codec_close(&c);
  assert_int_equal(capture_count(log, "layout"), 0);
}

#ifdef WEFT_HAVE_DECODE_SKIP
/* on_overflow = "discard": exactly the over-long frame is skipped, as it
 * arrives, and the frames after it come through. */
static void test_discard(void **unused) {
  static const struct {
    cu_opt_t opts[5];
    const char *in;
    const char *frames[4];
    unsigned discarded;
  } cases[] = {
      /* clang-format off */
      {{SIZE(1), MAX("4"), CU_END}, "01 'a' 05 'abcde' 02 'xy'",
       {"'a'", "'xy'"}, 1},
      {{SIZE(1), MAX("4"), CU_END}, "04 'abcd' 04 'abcd' 00",
       {""}, 2},
      /* Declared length after adjustment and header. */
      {{SIZE(2), ADJ(2), STRIP(0), MAX("6"), CU_END},
       "0002 'ab' 'cd' 0003 'abc' 'de' 0000 'zz'", {"0002 'abcd'", "0000 'zz'"},
       1},
      /* A huge frame cut off by the end of the stream: no error. */
      {{SIZE(8), MAX("16"), CU_END}, "01 00000000000000 'abcdefgh'", {NULL},
       1},
      {{SIZE(8), LE, MAX("16"), CU_END}, "0100000000000000 'x'", {"'x'"}, 0},
      {{SIZE(8), LE, MAX("16"), CU_END}, "ffffffffffffffff 'abc'", {NULL}, 1},
      /* clang-format on */
  };
  cu_opt_t negative[] = {SIZE(1), ADJ(-2), MAX("4"),
                         CU_STR("on_overflow", "discard"), CU_END};
  cu_codec_t c;
  cu_result_t r;
  uint8_t *in, *want;
  size_t i, j, n, len, wlen;

  (void)unused;
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    cu_opt_t opts[6];
    for (n = 0; cases[i].opts[n].type != CU_OPT_END; n++)
      opts[n] = cases[i].opts[n];
    opts[n++] = (cu_opt_t)CU_STR("on_overflow", "discard");
    opts[n] = (cu_opt_t)CU_END;
    assert_int_equal(cu_codec_open(&c, PLUGIN, opts), 0);
    in = cu_hex(cases[i].in, &len);
    cu_check_splits(&c, in, len, 4096, 1, &r);
    for (n = 0; n < 4 && cases[i].frames[n] != NULL; n++)
      ;
    assert_int_equal(r.error, 0);
    assert_int_equal(r.nframes, n);
    assert_int_equal(r.discarded, cases[i].discarded);
    for (j = 0; j < n; j++) {
      want = cu_hex(cases[i].frames[j], &wlen);
      cu_assert_frame(&r, j, want, wlen);
      free(want);
    }
    cu_result_free(&r);
    free(in);
    cu_codec_close(&c);
  }

  /* A length below the header after adjustment cannot be skipped: the
   * connection is closed all the same. */
  assert_int_equal(cu_codec_open(&c, PLUGIN, negative), 0);
  check_hex(&c, "02 01", (const char *const[]){"", NULL}, WEFT_EPROTO, 1, 0);
  cu_codec_close(&c);
}
#endif

static void test_descriptor(void **unused) {
  const weft_codec_vtable_t *vt = PLUGIN->vtable;

  (void)unused;
  assert_int_equal(PLUGIN->magic, WEFT_PLUGIN_MAGIC);
  assert_int_equal(PLUGIN->abi_major, WEFT_ABI_MAJOR);
  assert_int_equal(PLUGIN->kind, WEFT_PLUGIN_CODEC);
  assert_string_equal(PLUGIN->name, "length");
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
      cmocka_unit_test(test_batch_broken),
      cmocka_unit_test(test_encode),
      cmocka_unit_test(test_encode_batch),
      cmocka_unit_test(test_encode_decoded),
      cmocka_unit_test(test_encode_limits),
      cmocka_unit_test(test_round_trip),
      cmocka_unit_test(test_options),
      cmocka_unit_test(test_options_vectors),
      cmocka_unit_test(test_impossible_options),
      cmocka_unit_test(test_encode_layouts),
      cmocka_unit_test(test_round_trip_layouts),
      cmocka_unit_test(test_layout_log),
#ifdef WEFT_HAVE_DECODE_SKIP
      cmocka_unit_test(test_discard),
#endif
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
