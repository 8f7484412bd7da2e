/* The fuzz driver shared by every codec target.  See fuzz.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "framer.h"
#include "fuzz.h"
#include "opts_internal.h"

/* What one run produced: the frames, copied, and the error. */
typedef struct {
  size_t n, cap;
  size_t *off, *len;
  uint8_t *data;
  size_t data_len, data_cap;
  int error;
  uint64_t error_offset;
  int at_eof;
  size_t max_pending;
  int stop_each;
  /* Where a batch's slices may lie: the scratch buffer or the tail. */
  const uint8_t *scratch;
  size_t scratch_len;
  const weft__framer_t *f;
} fz_result_t;

static void *fz_realloc(void *p, size_t n) {
  p = realloc(p, n);
  if (p == NULL)
    abort();
  return p;
}

static void fz_result_free(fz_result_t *r) {
  free(r->off);
  free(r->len);
  free(r->data);
}

static int fz_on_frame(void *arg, const uint8_t *frame, size_t len) {
  fz_result_t *r = arg;

  if (r->n == r->cap) {
    r->cap = r->cap ? 2 * r->cap : 16;
    r->off = fz_realloc(r->off, r->cap * sizeof(size_t));
    r->len = fz_realloc(r->len, r->cap * sizeof(size_t));
  }
  if (r->data_len + len > r->data_cap) {
    while (r->data_len + len > r->data_cap)
      r->data_cap = r->data_cap ? 2 * r->data_cap : 256;
    r->data = fz_realloc(r->data, r->data_cap);
  }
  if (len > 0)
    memcpy(r->data + r->data_len, frame, len);
  r->off[r->n] = r->data_len;
  r->len[r->n++] = len;
  r->data_len += len;
  return r->stop_each;
}

static int fz_inside(const uint8_t *p, size_t len, const uint8_t *base,
                     size_t cap) {
  return base != NULL && p >= base && (size_t)(p - base) <= cap &&
         len <= cap - (size_t)(p - base);
}

/* A batch from decode_many (ABI 1.2): slices of the input, kept in order. */
static int fz_on_frames(void *arg, const weft_frame_t *frames, size_t n) {
  fz_result_t *r = arg;
  size_t i;

  if (n == 0 || n > WEFT__FRAMER_BATCH)
    abort();
  for (i = 0; i < n; i++) {
    if (!fz_inside(frames[i].data, frames[i].len, r->scratch, r->scratch_len) &&
        !fz_inside(frames[i].data, frames[i].len, r->f->tail.base,
                   r->f->tail.cap)) {
      fprintf(stderr, "fuzz: a batch's frame lies outside the input\n");
      abort();
    }
    fz_on_frame(r, frames[i].data, frames[i].len);
  }
  return r->stop_each;
}

typedef struct {
  const weft_codec_vtable_t *vt;
  void *state;
} fz_codec_t;

/* Instances of the target's option sets, made on first use. */
static fz_codec_t *fz_codecs;

static void fz_open(void) {
  size_t v, i;
  weft_opts_t *o;

  fz_codecs = calloc(fz_target.nvariants, sizeof(*fz_codecs));
  if (fz_codecs == NULL)
    abort();
  for (v = 0; v < fz_target.nvariants; v++) {
    const fz_opt_t *opt = fz_target.variants[v].opts;
    fz_codec_t *c = &fz_codecs[v];

    c->vt = fz_target.plugin->vtable;
    o = weft__opts_new("codec", fz_target.plugin->name, "fuzz");
    for (i = 0; opt[i].name != NULL; i++) {
      if (opt[i].type == 'i')
        weft__opts_add_int(o, opt[i].name, opt[i].i, (int)i + 1);
      else if (opt[i].type == 'b')
        weft__opts_add_bool(o, opt[i].name, (int)opt[i].i, (int)i + 1);
      else
        weft__opts_add_str(o, opt[i].name, opt[i].s, (int)i + 1);
    }
    if ((c->vt->create != NULL && c->vt->create(o, &c->state) != 0) ||
        (weft__opts_check_unused(o), weft__opts_nerrors(o) > 0)) {
      for (i = 0; i < weft__opts_nerrors(o); i++)
        fprintf(stderr, "fuzz: %s\n", weft__opts_error(o, i));
      fprintf(stderr, "fuzz: option set %zu refused\n", v);
      abort();
    }
    weft__opts_free(o);
  }
}

/* A small generator for read sizes. */
static uint32_t fz_next(uint32_t *s) {
  *s = *s * 1103515245u + 12345u;
  return *s >> 16;
}

/* Feeds in[0..len) through a fresh framer, as the engine does; chunks 0
 * means one read, else reads of sizes drawn from `seed`; batch takes the
 * frames from the codec's decode_many, as a connection whose handler has
 * on_frames does. */
static void fz_run(const fz_codec_t *c, const uint8_t *in, size_t len,
                   unsigned seed, int stop_each, int batch, fz_result_t *r) {
  weft__framer_t f;
  weft__sink_t k;
  void *cs = NULL;
  uint8_t *scratch, *base;
  size_t done = 0, chunk, avail, n;
  uint32_t s = seed;
  int rc = 0;

  memset(r, 0, sizeof(*r));
  r->stop_each = stop_each;
  scratch = fz_realloc(NULL, len > 16 ? len : 16);
  r->scratch = scratch;
  r->scratch_len = len > 16 ? len : 16;
  r->f = &f;
  k.one = fz_on_frame;
  k.many = batch ? fz_on_frames : NULL;
  k.arg = r;
  k.room = SIZE_MAX;
  if (c->vt->conn_init != NULL && c->vt->conn_init(c->state, &cs) != 0)
    abort();
  weft__framer_init(&f, c->vt, c->state, cs, NULL);
  while (done < len && rc == 0) {
    if (seed == 0)
      chunk = len - done;
    else if ((s & 3) == 0)
      chunk = 1 + fz_next(&s) % 64;
    else
      chunk = 1 + fz_next(&s) % 4;
    if (chunk > len - done)
      chunk = len - done;
    while (chunk > 0 && rc == 0) {
      avail = weft__framer_read_buf(&f, scratch, len > 16 ? len : 16, &base);
      if (avail == 0)
        abort();
      n = chunk < avail ? chunk : avail;
      memcpy(base, in + done, n);
      done += n;
      chunk -= n;
      rc = weft__framer_feed_to(&f, base, n, &k);
      while (rc == 1)
        rc = weft__framer_resume_to(&f, &k);
      if (rc == 0 && weft__framer_pending(&f) > r->max_pending)
        r->max_pending = weft__framer_pending(&f);
    }
  }
  if (rc == 0) {
    do
      rc = weft__framer_eof_to(&f, &k);
    while (rc == 1);
    r->at_eof = rc != 0;
  }
  if (rc < 0) {
    r->error = f.error;
    r->error_offset = f.offset;
  }
  weft__framer_free(&f);
  if (cs != NULL && c->vt->conn_free != NULL)
    c->vt->conn_free(c->state, cs);
  free(scratch);
}

static void fz_fail(const char *what, size_t variant) {
  fprintf(stderr, "fuzz: codec \"%s\", option set %zu: %s\n",
          fz_target.plugin->name, variant, what);
  abort();
}

static int fz_same(const fz_result_t *a, const fz_result_t *b, int stream) {
  size_t i;

  if (a->error != b->error || a->data_len != b->data_len ||
      (a->data_len > 0 && memcmp(a->data, b->data, a->data_len) != 0))
    return 0;
  if (stream)
    return 1;
  if (a->n != b->n || a->error_offset != b->error_offset ||
      a->at_eof != b->at_eof)
    return 0;
  for (i = 0; i < a->n; i++)
    if (a->len[i] != b->len[i])
      return 0;
  return 1;
}

/* A frame the encoder takes must decode back to itself, alone. */
static void fz_reencode(const fz_codec_t *c, const uint8_t *frame, size_t len,
                        size_t variant) {
  weft_codec_ctx_t ctx;
  weft__buf_t b;
  weft_out_t o;
  fz_result_t r;

  memset(&ctx, 0, sizeof(ctx));
  ctx.vt = c->vt;
  ctx.state = c->state;
  memset(&b, 0, sizeof(b));
  o.buf = &b;
  o.zc = NULL;
  o.decoded = 0;
  if (c->vt->encode(&ctx, frame, len, &o) == 0) {
    fz_run(c, b.base, b.len, 0, 0, 0, &r);
    if (r.error != 0 || r.n != 1 || r.len[0] != len ||
        (len > 0 && memcmp(r.data, frame, len) != 0))
      fz_fail("a decoded frame, encoded again, does not decode to itself",
              variant);
    fz_result_free(&r);
  }
  weft__buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const fz_variant_t *v;
  const fz_codec_t *c;
  fz_result_t whole, cut, batched;
  size_t variant, i;
  char msg[256];

  if (size < 2)
    return 0;
  if (fz_codecs == NULL)
    fz_open();
  variant = data[0] % fz_target.nvariants;
  v = &fz_target.variants[variant];
  c = &fz_codecs[variant];

  fz_run(c, data + 2, size - 2, 0, 0, 0, &whole);
  fz_run(c, data + 2, size - 2, 1u + data[1], data[1] & 1, data[1] & 2, &cut);
  /* In batches, one read gives exactly what it gives one frame at a time. */
  fz_run(c, data + 2, size - 2, 0, 0, 1, &batched);
  if (!fz_same(&whole, &batched, 0)) {
    snprintf(msg, sizeof(msg),
             "one read gives %zu frames, error %d at %llu; in batches %zu "
             "frames, error %d at %llu",
             whole.n, whole.error, (unsigned long long)whole.error_offset,
             batched.n, batched.error,
             (unsigned long long)batched.error_offset);
    fz_fail(msg, variant);
  }
  fz_result_free(&batched);
  if (!fz_same(&whole, &cut, v->stream)) {
    snprintf(msg, sizeof(msg),
             "one read gives %zu frames, error %d at %llu; cut into reads "
             "(seed %u) %zu frames, error %d at %llu",
             whole.n, whole.error, (unsigned long long)whole.error_offset,
             1u + data[1], cut.n, cut.error,
             (unsigned long long)cut.error_offset);
    fz_fail(msg, variant);
  }
  if (cut.max_pending > v->bound) {
    snprintf(msg, sizeof(msg), "the framer held %zu bytes, more than %zu",
             cut.max_pending, v->bound);
    fz_fail(msg, variant);
  }
  if (v->reencode)
    for (i = 0; i < whole.n; i++)
      fz_reencode(c, whole.len[i] ? whole.data + whole.off[i] : NULL,
                  whole.len[i], variant);
  fz_result_free(&whole);
  fz_result_free(&cut);
  return 0;
}
