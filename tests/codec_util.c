/* Helpers for codec unit tests.  See codec_util.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "codec_util.h"
#include "opts_internal.h"

int cu_codec_open(cu_codec_t *c, const weft_plugin_t *p, const cu_opt_t *opts) {
  weft_opts_t *o;
  size_t i, n;
  int line;

  memset(c, 0, sizeof(*c));
  c->plugin = p;
  c->vt = p->vtable;
  assert_non_null(c->vt);

  o = weft__opts_new(weft_plugin_kind_name(p->kind), p->name, CU_ORIGIN);
  assert_non_null(o);
  for (i = 0; opts != NULL && opts[i].type != CU_OPT_END; i++) {
    line = (int)i + 1;
    switch (opts[i].type) {
    case CU_OPT_INT:
      assert_int_equal(weft__opts_add_int(o, opts[i].name, opts[i].i, line), 0);
      break;
    case CU_OPT_BOOL:
      assert_int_equal(
          weft__opts_add_bool(o, opts[i].name, (int)opts[i].i, line), 0);
      break;
    case CU_OPT_STR:
      assert_int_equal(weft__opts_add_str(o, opts[i].name, opts[i].s, line), 0);
      break;
    case CU_OPT_FLOAT:
      assert_int_equal(weft__opts_add_float(o, opts[i].name, opts[i].f, line),
                       0);
      break;
    default:
      fail_msg("bad option type in test table");
    }
  }

  c->rc = c->vt->create != NULL ? c->vt->create(o, &c->state) : 0;
  /* An error must be both returned and recorded, never one alone. */
  if (c->rc != 0)
    assert_true(weft__opts_nerrors(o) > 0 || c->rc == WEFT_ENOMEM);
  else
    assert_int_equal(weft__opts_nerrors(o), 0);
  /* The engine reports unknown options only for a create() that worked;
   * for the tests, a failed create must still have asked for its options,
   * so check either way. */
  weft__opts_check_unused(o);

  n = weft__opts_nerrors(o);
  c->nerrors = n;
  for (i = 0; i < n; i++) {
    size_t used = strlen(c->errors);
    snprintf(c->errors + used, sizeof(c->errors) - used, "%s\n",
             weft__opts_error(o, i));
  }
  weft__opts_free(o);

  if (c->rc == 0 && n > 0) {
    /* Created, but the engine would refuse the unknown options. */
    if (c->vt->destroy != NULL)
      c->vt->destroy(c->state);
    c->state = NULL;
    c->rc = WEFT_EINVAL;
  }
  return c->rc;
}

void cu_codec_close(cu_codec_t *c) {
  if (c->rc == 0 && c->vt->destroy != NULL)
    c->vt->destroy(c->state);
  c->state = NULL;
}

int cu_codec_error_has(const cu_codec_t *c, ...) {
  const char *line = c->errors;
  const char *end, *s;
  va_list ap;
  int all;

  while (*line != '\0') {
    end = strchr(line, '\n');
    if (end == NULL)
      end = line + strlen(line);
    all = 1;
    va_start(ap, c);
    while ((s = va_arg(ap, const char *)) != NULL) {
      const char *hit = strstr(line, s);
      if (hit == NULL || hit + strlen(s) > end)
        all = 0;
    }
    va_end(ap);
    if (all)
      return 1;
    line = *end ? end + 1 : end;
  }
  return 0;
}

uint64_t cu_rand(uint64_t *seed) {
  uint64_t z = (*seed += 0x9e3779b97f4a7c15ull);

  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

void cu_rand_bytes(uint64_t *seed, uint8_t *p, size_t len) {
  size_t i;

  for (i = 0; i < len; i++)
    p[i] = (uint8_t)cu_rand(seed);
}

static int cu_encode1(const cu_codec_t *c, const void *frame, size_t len,
                      weft__buf_t *out);

static void *cu_grow(void *p, size_t *cap, size_t want, size_t size) {
  size_t n = *cap ? *cap : 16;

  if (want <= *cap)
    return p;
  while (n < want)
    n *= 2;
  p = realloc(p, n * size);
  assert_non_null(p);
  *cap = n;
  return p;
}

typedef struct {
  weft__sink_t k; /* first: the framer passes &k as the callbacks' arg */
  cu_result_t *r;
  int stop_each;
  cu_batch_t batch;
  uint64_t seed;           /* for CU_BATCH_ROOM */
  const weft__framer_t *f; /* its tail may hold the frames */
  const uint8_t *scratch;  /* or the scratch buffer */
  size_t scratch_len;
} cu_sink_t;

/* Keeps a copy of one frame. */
static void cu_keep(cu_result_t *r, const uint8_t *frame, size_t len) {
  size_t cap;

  if (len > 0)
    assert_non_null(frame);
  cap = r->cap_frames;
  r->frame_off = cu_grow(r->frame_off, &cap, r->nframes + 1, sizeof(size_t));
  cap = r->cap_frames;
  r->frame_len = cu_grow(r->frame_len, &cap, r->nframes + 1, sizeof(size_t));
  r->cap_frames = cap;
  r->data = cu_grow(r->data, &r->cap_data, r->data_len + len + 1, 1);
  if (len > 0)
    memcpy(r->data + r->data_len, frame, len);
  r->frame_off[r->nframes] = r->data_len;
  r->frame_len[r->nframes] = len;
  r->data_len += len;
  r->nframes++;
}

/* After each callback, a connection near its watermark gives little room:
 * often none (one frame at a time), sometimes part of a frame. */
static void cu_next_room(cu_sink_t *k) {
  uint64_t x;

  if (k->batch != CU_BATCH_ROOM)
    return;
  x = cu_rand(&k->seed);
  k->k.room = (x & 3) == 0 ? 0 : (size_t)(x >> 8) % 64;
}

static int cu_on_frame(void *arg, const uint8_t *frame, size_t len) {
  cu_sink_t *k = arg;

  cu_keep(k->r, frame, len);
  cu_next_room(k);
  return k->stop_each;
}

/* A batch's slices must lie in the bytes the framer decodes from: its
 * tail, or the scratch buffer the read went to. */
static int cu_inside(const uint8_t *p, size_t len, const uint8_t *base,
                     size_t cap) {
  return base != NULL && p >= base && (size_t)(p - base) <= cap &&
         len <= cap - (size_t)(p - base);
}

static int cu_on_frames(void *arg, const weft_frame_t *frames, size_t n) {
  cu_sink_t *k = arg;
  size_t i;

  assert_true(k->batch != CU_ONE);
  if (n == 0 || n > WEFT__FRAMER_BATCH)
    fail_msg("a batch of %zu frames", n);
  for (i = 0; i < n; i++) {
    if (!cu_inside(frames[i].data, frames[i].len, k->scratch, k->scratch_len) &&
        !cu_inside(frames[i].data, frames[i].len, k->f->tail.base,
                   k->f->tail.cap))
      fail_msg("frame %zu of a batch of %zu lies outside the input", i, n);
    cu_keep(k->r, frames[i].data, frames[i].len);
  }
  k->r->batches++;
  k->r->batched += n;
  cu_next_room(k);
  return k->stop_each;
}

/* Decodes everything a stopped feed left behind. */
static int cu_drain(weft__framer_t *f, int rc, cu_sink_t *k) {
  while (rc == 1)
    rc = weft__framer_resume_to(f, &k->k);
  return rc;
}

/* Size of the next read for this split. */
static size_t cu_next_chunk(const cu_split_t *s, uint64_t *seed, size_t done,
                            size_t len) {
  size_t left = len - done;
  size_t n;

  switch (s->kind) {
  case CU_BYTES:
    return 1;
  case CU_AT:
    if (done < s->arg && s->arg < len)
      return (size_t)s->arg - done;
    return left;
  case CU_RANDOM:
    /* Mostly small reads, sometimes large ones. */
    n = (cu_rand(seed) & 3) != 0 ? 1 + cu_rand(seed) % 16
                                 : 1 + cu_rand(seed) % (left + 1);
    return n < left ? n : left;
  case CU_WHOLE:
  default:
    return left;
  }
}

void cu_run(const cu_codec_t *c, const uint8_t *in, size_t len,
            cu_split_t split, int at_eof, cu_result_t *r) {
  weft__framer_t f;
  cu_sink_t k;
  void *conn_state = NULL;
  uint8_t *scratch, *base;
  size_t scratch_len, done, chunk, avail, n, cap;
  uint64_t seed = split.arg;
  int rc = 0;

  memset(r, 0, sizeof(*r));
  memset(&k, 0, sizeof(k));
  k.r = r;
  k.stop_each = split.stop_each;
  k.batch = split.batch;
  k.seed = split.arg ^ 0x5eed;
  k.k.one = cu_on_frame;
  k.k.many = split.batch != CU_ONE ? cu_on_frames : NULL;
  k.k.arg = &k;
  k.k.room = SIZE_MAX;
  cu_next_room(&k);
  /* A scratch buffer as big as the input, so CU_WHOLE is really one read. */
  scratch_len = len > 16 ? len : 16;
  scratch = malloc(scratch_len);
  assert_non_null(scratch);
  k.f = &f;
  k.scratch = scratch;
  k.scratch_len = scratch_len;

  /* Per-connection state, as the engine makes it for each connection. */
  if (c->vt->conn_init != NULL)
    assert_int_equal(c->vt->conn_init(c->state, &conn_state), 0);
  weft__framer_init(&f, c->vt, c->state, conn_state, NULL);
  done = 0;
  while (done < len && rc == 0) {
    chunk = cu_next_chunk(&split, &seed, done, len);
    /* One read of `chunk` bytes may take several buffers' worth. */
    while (chunk > 0 && rc == 0) {
      cap = f.tail.cap;
      avail = weft__framer_read_buf(&f, scratch, scratch_len, &base);
      assert_true(avail > 0);
      if (f.tail.cap != cap && cap != 0)
        r->tail_grows++;
      n = chunk < avail ? chunk : avail;
      memcpy(base, in + done, n);
      done += n;
      chunk -= n;
      r->reads++;
      rc = cu_drain(&f, weft__framer_feed_to(&f, base, n, &k.k), &k);
      if (rc == 0 && weft__framer_pending(&f) > r->max_pending)
        r->max_pending = weft__framer_pending(&f);
    }
  }
  if (rc == 0 && at_eof) {
    do
      rc = weft__framer_eof_to(&f, &k.k);
    while (rc == 1);
    r->error_at_eof = rc != 0;
  }
  assert_true(rc <= 0);
  if (rc < 0) {
    /* The framer's return, its error field and its reason agree. */
    assert_int_equal(rc, f.error);
    assert_non_null(f.reason);
    r->error = f.error;
    r->error_offset = f.offset;
    r->reason = f.reason;
  }
  r->delivered = f.frames;
  assert_int_equal(r->delivered, r->nframes);
#ifdef WEFT_HAVE_DECODE_SKIP
  r->discarded = f.discarded;
#endif
  weft__framer_free(&f);
  if (conn_state != NULL && c->vt->conn_free != NULL)
    c->vt->conn_free(c->state, conn_state);
  free(scratch);
}

void cu_result_free(cu_result_t *r) {
  free(r->frame_off);
  free(r->frame_len);
  free(r->data);
  memset(r, 0, sizeof(*r));
}

void cu_assert_same(const cu_result_t *a, const cu_result_t *b,
                    const char *what) {
  size_t i;
  int same = a->nframes == b->nframes && a->error == b->error &&
             a->discarded == b->discarded &&
             a->error_offset == b->error_offset &&
             a->error_at_eof == b->error_at_eof &&
             (a->reason == b->reason ||
              (a->reason && b->reason && strcmp(a->reason, b->reason) == 0));

  for (i = 0; same && i < a->nframes; i++)
    same = a->frame_len[i] == b->frame_len[i] &&
           memcmp(a->data + a->frame_off[i], b->data + b->frame_off[i],
                  a->frame_len[i]) == 0;
  if (!same)
    fail_msg("%s: %zu frames, %llu discarded, error %d at %llu (%s)%s; "
             "whole: %zu frames, %llu discarded, error %d at %llu (%s)%s",
             what, b->nframes, (unsigned long long)b->discarded, b->error,
             (unsigned long long)b->error_offset, b->reason ? b->reason : "-",
             b->error_at_eof ? " at eof" : "", a->nframes,
             (unsigned long long)a->discarded, a->error,
             (unsigned long long)a->error_offset, a->reason ? a->reason : "-",
             a->error_at_eof ? " at eof" : "");
}

/* Runs one split one frame at a time and, with decode_many, in batches
 * (unbounded, and with little room); each must match the whole run. */
static void cu_check_one(const cu_codec_t *c, const uint8_t *in, size_t len,
                         cu_split_t s, int at_eof, const cu_result_t *whole,
                         const char *what) {
  static const char *const modes[] = {"", ", in batches",
                                      ", in batches with little room"};
  char buf[128];
  cu_result_t r;
  int m;

  for (m = CU_ONE; m <= CU_BATCH_ROOM; m++) {
    if (m != CU_ONE && c->vt->decode_many == NULL)
      break;
    s.batch = (cu_batch_t)m;
    cu_run(c, in, len, s, at_eof, &r);
    snprintf(buf, sizeof(buf), "%s%s", what, modes[m]);
    cu_assert_same(whole, &r, buf);
    cu_result_free(&r);
  }
}

void cu_check_splits(const cu_codec_t *c, const uint8_t *in, size_t len,
                     size_t split_max, int at_eof, cu_result_t *whole) {
  static const uint64_t seeds[] = {1, 2, 3, 42, 0xdeadbeef, 2024};
  cu_split_t s;
  char what[64];
  size_t i;

  memset(&s, 0, sizeof(s));
  s.kind = CU_WHOLE;
  cu_run(c, in, len, s, at_eof, whole);
  cu_check_one(c, in, len, s, at_eof, whole, "whole");

  s.kind = CU_BYTES;
  cu_check_one(c, in, len, s, at_eof, whole, "byte by byte");

  s.stop_each = 1;
  cu_check_one(c, in, len, s, at_eof, whole,
               "byte by byte, stopping after each frame");

  s.kind = CU_WHOLE;
  cu_check_one(c, in, len, s, at_eof, whole,
               "whole, stopping after each frame");
  s.stop_each = 0;

  if (len <= split_max) {
    s.kind = CU_AT;
    for (i = 1; i < len; i++) {
      s.arg = i;
      snprintf(what, sizeof(what), "split at %zu", i);
      cu_check_one(c, in, len, s, at_eof, whole, what);
    }
  }

  s.kind = CU_RANDOM;
  for (i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
    s.arg = seeds[i];
    s.stop_each = (int)(i & 1);
    snprintf(what, sizeof(what), "random chunks, seed %llu%s",
             (unsigned long long)seeds[i], s.stop_each ? ", stopping" : "");
    cu_check_one(c, in, len, s, at_eof, whole, what);
  }
  cu_check_many(c, in, len);
}

/* A codec context outside a connection, with fresh per-connection state. */
static void cu_ctx_open(const cu_codec_t *c, weft_codec_ctx_t *ctx) {
  memset(ctx, 0, sizeof(*ctx));
  ctx->vt = c->vt;
  ctx->state = c->state;
  if (c->vt->conn_init != NULL)
    assert_int_equal(c->vt->conn_init(c->state, &ctx->conn_state), 0);
}

static void cu_ctx_close(const cu_codec_t *c, weft_codec_ctx_t *ctx) {
  if (ctx->conn_state != NULL && c->vt->conn_free != NULL)
    c->vt->conn_free(c->state, ctx->conn_state);
  ctx->conn_state = NULL;
}

/* decode_many from in[0..len) with room for max frames, against decode(). */
static void cu_many_at(const cu_codec_t *c, const uint8_t *in, size_t len,
                       size_t max, size_t start) {
  weft_frame_t frames[64];
  weft_codec_ctx_t ctx;
  weft_decode_t d;
  weft_decode_status_t st;
  size_t n, used = (size_t)-1, off = 0, i;

  cu_ctx_open(c, &ctx);
  n = c->vt->decode_many(&ctx, in, len, frames, max, &used);
  cu_ctx_close(c, &ctx);
  if (n > max || used > len || (n == 0 && used != 0) || (n > 0 && used == 0))
    fail_msg("decode_many at %zu over %zu bytes (room %zu): %zu frames, %zu "
             "bytes used",
             start, len, max, n, used);
  cu_ctx_open(c, &ctx);
  for (i = 0; i <= n && off < len; i++) {
    memset(&d, 0, sizeof(d));
    st = c->vt->decode(&ctx, in + off, len - off, &d);
    if (i == n) {
      /* It stopped early only where decode() finds no plain frame. */
      if (n < max && st == WEFT_DECODE_FRAME)
        fail_msg("decode_many at %zu over %zu bytes (room %zu) stopped "
                 "after %zu frames, before a frame decode() finds",
                 start, len, max, n);
      break;
    }
    if (st != WEFT_DECODE_FRAME || frames[i].len != d.frame_len ||
        (d.frame_len > 0 && frames[i].data != d.frame))
      fail_msg("decode_many at %zu over %zu bytes (room %zu): frame %zu is "
               "not the one decode() finds (status %d, %zu bytes at +%ld, "
               "decode_many %zu bytes at +%ld)",
               start, len, max, i, (int)st, d.frame_len,
               d.frame ? (long)(d.frame - in) : -1L, frames[i].len,
               frames[i].data ? (long)(frames[i].data - in) : -1L);
    off += d.consumed;
  }
  cu_ctx_close(c, &ctx);
  if (off != used)
    fail_msg("decode_many at %zu over %zu bytes (room %zu): %zu bytes used, "
             "decode() took %zu for the same %zu frames",
             start, len, max, used, off, n);
}

void cu_check_many(const cu_codec_t *c, const uint8_t *in, size_t len) {
  static const size_t maxes[] = {1, 2, 3, 64};
  size_t start, end, m, step;

  if (c->vt->decode_many == NULL || len == 0)
    return;
  step = len <= 200 ? 1 : len / 50;
  for (start = 0; start < len; start += step)
    for (m = 0; m < sizeof(maxes) / sizeof(maxes[0]); m++) {
      if (len <= 200)
        for (end = start + 1; end <= len; end++)
          cu_many_at(c, in + start, end - start, maxes[m], start);
      else
        cu_many_at(c, in + start, len - start, maxes[m], start);
    }
}

/*
 * encode() frame by frame, and one encode_many() of them all (decoded: as
 * weft_out_decoded() says for frames a decode_many() call returned): the
 * same result and the same bytes, or the test fails naming `what`.
 * Returns encode()'s result.
 */
static int cu_compare_many(const cu_codec_t *c, const weft_frame_t *frames,
                           size_t n, int decoded, const char *what) {
  weft__buf_t one, many;
  weft_codec_ctx_t ctx;
  weft_out_t o;
  size_t i;
  int r1 = 0, r2;

  memset(&one, 0, sizeof(one));
  memset(&many, 0, sizeof(many));
  for (i = 0; i < n && r1 == 0; i++)
    r1 = cu_encode1(c, frames[i].data, frames[i].len, &one);
  if (c->vt->encode_many != NULL && n > 0) {
    memset(&ctx, 0, sizeof(ctx));
    ctx.vt = c->vt;
    ctx.state = c->state;
    o.buf = &many;
    o.zc = NULL;
    o.decoded = decoded;
    r2 = c->vt->encode_many(&ctx, frames, n, &o);
    if (r2 != r1)
      fail_msg("encode_many of %s returned %d, encode() %d (frame %zu)", what,
               r2, r1, r1 ? i - 1 : n);
    if (r1 == 0 && (many.len != one.len ||
                    (one.len > 0 && memcmp(many.base, one.base, one.len))))
      fail_msg("encode_many of %s wrote %zu bytes, not the %zu of encode()",
               what, many.len, one.len);
  }
  weft__buf_free(&one);
  weft__buf_free(&many);
  return r1;
}

int cu_check_encode_many(const cu_codec_t *c, const weft_frame_t *frames,
                         size_t n) {
  char what[64];

  snprintf(what, sizeof(what), "%zu frames", n);
  return cu_compare_many(c, frames, n, 0, what);
}

size_t cu_check_decoded(const cu_codec_t *c, const uint8_t *in, size_t len) {
  weft_frame_t frames[64];
  weft_codec_ctx_t ctx;
  char what[64];
  uint8_t *copy;
  size_t n, used = 0, a, b;

  if (c->vt->decode_many == NULL || c->vt->encode_many == NULL || len == 0)
    return 0;
  copy = malloc(len);
  assert_non_null(copy);
  memcpy(copy, in, len);
  cu_ctx_open(c, &ctx);
  n = c->vt->decode_many(&ctx, copy, len, frames, 64, &used);
  cu_ctx_close(c, &ctx);
  for (a = 0; a < n; a++)
    for (b = a + 1; b <= n; b++) {
      snprintf(what, sizeof(what), "decoded frames %zu..%zu", a, b);
      cu_compare_many(c, frames + a, b - a, 1, what);
    }
  free(copy);
  return n;
}

void cu_assert_frame(const cu_result_t *r, size_t i, const void *data,
                     size_t len) {
  if (i >= r->nframes)
    fail_msg("frame %zu missing: only %zu frames", i, r->nframes);
  if (r->frame_len[i] != len ||
      (len > 0 && memcmp(r->data + r->frame_off[i], data, len) != 0))
    fail_msg("frame %zu: got %zu bytes \"%.*s\", want %zu bytes \"%.*s\"", i,
             r->frame_len[i],
             (int)(r->frame_len[i] < 64 ? r->frame_len[i] : 64),
             (const char *)(r->data + r->frame_off[i]), len,
             (int)(len < 64 ? len : 64), (const char *)data);
}

static int cu_hexval(char ch) {
  if (ch >= '0' && ch <= '9')
    return ch - '0';
  if (ch >= 'a' && ch <= 'f')
    return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F')
    return ch - 'A' + 10;
  return -1;
}

uint8_t *cu_hex(const char *hex, size_t *len) {
  size_t n = 0;
  uint8_t *out = malloc(strlen(hex) + 1);
  const char *p = hex;
  int hi, lo;

  assert_non_null(out);
  while (*p != '\0') {
    if (*p == ' ') {
      p++;
    } else if (*p == '\'') {
      for (p++; *p != '\0' && *p != '\''; p++)
        out[n++] = (uint8_t)*p;
      if (*p != '\'')
        fail_msg("unterminated quote in hex vector \"%s\"", hex);
      p++;
    } else {
      hi = cu_hexval(p[0]);
      lo = hi < 0 ? -1 : cu_hexval(p[1]);
      if (lo < 0)
        fail_msg("bad hex vector \"%s\" at \"%s\"", hex, p);
      out[n++] = (uint8_t)(hi << 4 | lo);
      p += 2;
    }
  }
  *len = n;
  return out;
}

/* One encode() call into out, rolled back when it fails. */
static int cu_encode1(const cu_codec_t *c, const void *frame, size_t len,
                      weft__buf_t *out) {
  weft_codec_ctx_t ctx;
  weft_out_t o;
  size_t before = out->len;
  int r;

  memset(&ctx, 0, sizeof(ctx));
  ctx.vt = c->vt;
  ctx.state = c->state;
  o.buf = out;
  o.zc = NULL; /* no zero-copy outside a connection */
  o.decoded = 0;
  r = c->vt->encode(&ctx, frame, len, &o);
  /* As weft_conn_send() does: a refused frame leaves nothing behind. */
  if (r != 0)
    out->len = before;
  return r;
}

int cu_encode(const cu_codec_t *c, const void *frame, size_t len,
              weft__buf_t *out) {
  weft_frame_t f[3];
  int r = cu_encode1(c, frame, len, out);

  /* Whatever a test encodes, encode_many must agree on it: alone, and in
   * a batch with itself. */
  f[0].data = frame;
  f[0].len = len;
  f[1] = f[2] = f[0];
  assert_int_equal(cu_check_encode_many(c, f, 1), r);
  assert_int_equal(cu_check_encode_many(c, f, 3), r);
  return r;
}

void cu_check_hex(const cu_codec_t *c, const char *hex,
                  const char *const *frames, int error, uint64_t offset,
                  int at_eof) {
  cu_result_t r;
  uint8_t *in, *want;
  size_t len, want_len, i, n;

  in = cu_hex(hex, &len);
  for (n = 0; n < 16 && frames[n] != NULL; n++)
    ;

  cu_check_splits(c, in, len, 4096, 1, &r);
  assert_int_equal(r.nframes, n);
  for (i = 0; i < n; i++) {
    want = cu_hex(frames[i], &want_len);
    cu_assert_frame(&r, i, want, want_len);
    free(want);
  }
  assert_int_equal(r.error, error);
  assert_int_equal(r.error_offset, offset);
  if (error != 0) {
    assert_int_equal(r.error_at_eof, at_eof);
    assert_non_null(r.reason);
  }
  cu_result_free(&r);

  /* Without EOF: the same frames; errors that need no EOF come too. */
  cu_check_splits(c, in, len, 4096, 0, &r);
  assert_int_equal(r.nframes, n);
  assert_int_equal(r.error, at_eof ? 0 : error);
  if (!at_eof)
    assert_int_equal(r.error_offset, offset);
  cu_result_free(&r);
  free(in);
}

size_t cu_round_trip(const cu_codec_t *c, size_t n, size_t min_len,
                     size_t max_len, uint64_t seed) {
  weft_frame_t *slices;
  uint8_t **frames;
  size_t *lens, i, k, out_len;
  weft__buf_t b;
  cu_split_t s;
  cu_result_t r;

  frames = calloc(n, sizeof(*frames));
  lens = calloc(n, sizeof(*lens));
  assert_true(frames != NULL && lens != NULL);
  memset(&b, 0, sizeof(b));
  for (i = 0; i < n; i++) {
    k = cu_rand(&seed) & 7;
    lens[i] = k == 0   ? max_len
              : k == 1 ? min_len
                       : min_len + cu_rand(&seed) % (max_len - min_len + 1);
    frames[i] = malloc(lens[i] + 1);
    assert_non_null(frames[i]);
    cu_rand_bytes(&seed, frames[i], lens[i]);
    if (cu_encode(c, frames[i], lens[i], &b) != 0)
      fail_msg("round trip: the encoder refused a frame of %zu bytes", lens[i]);
  }
  /* encode_many gives the same stream, in batches of any size. */
  slices = calloc(n ? n : 1, sizeof(*slices));
  assert_non_null(slices);
  for (i = 0; i < n; i++) {
    slices[i].data = frames[i];
    slices[i].len = lens[i];
  }
  for (i = 0; i < n; i += k) {
    k = 1 + (size_t)(cu_rand(&seed) % 70);
    if (k > n - i)
      k = n - i;
    assert_int_equal(cu_check_encode_many(c, slices + i, k), 0);
  }
  free(slices);

  memset(&s, 0, sizeof(s));
  for (k = 0; k < 4; k++) {
    s.kind = k == 0 ? CU_WHOLE : k == 1 ? CU_BYTES : CU_RANDOM;
    s.arg = seed + k;
    s.stop_each = k == 3;
    s.batch = k == 0 ? CU_BATCH : k == 2 ? CU_BATCH_ROOM : CU_ONE;
    cu_run(c, b.base, b.len, s, 1, &r);
    if (r.error != 0)
      fail_msg("round trip: error %d (%s) at %llu", r.error,
               r.reason ? r.reason : "-", (unsigned long long)r.error_offset);
    assert_int_equal(r.nframes, n);
    for (i = 0; i < n; i++)
      cu_assert_frame(&r, i, frames[i], lens[i]);
    cu_result_free(&r);
  }
  cu_check_many(c, b.base, b.len);
  for (i = 0; i < n; i++)
    free(frames[i]);
  free(frames);
  free(lens);
  out_len = b.len;
  weft__buf_free(&b);
  return out_len;
}
