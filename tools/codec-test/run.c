/* weft-codec-test: feeding a stream to the engine's framer, split some way. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ct.h"

void ct_result_free(ct_result_t *r) {
  free(r->off);
  free(r->len);
  free(r->data);
  memset(r, 0, sizeof(*r));
}

typedef struct {
  ct_result_t *r;
  int stop_each;
} ct_sink_t;

static int ct_on_frame(void *arg, const uint8_t *frame, size_t len) {
  ct_sink_t *k = arg;
  ct_result_t *r = k->r;

  if (r->n == r->cap) {
    r->cap = r->cap ? 2 * r->cap : 64;
    r->off = realloc(r->off, r->cap * sizeof(size_t));
    r->len = realloc(r->len, r->cap * sizeof(size_t));
    if (r->off == NULL || r->len == NULL)
      exit(2);
  }
  if (r->data_len + len + 1 > r->data_cap) {
    while (r->data_len + len + 1 > r->data_cap)
      r->data_cap = r->data_cap ? 2 * r->data_cap : 4096;
    r->data = realloc(r->data, r->data_cap);
    if (r->data == NULL)
      exit(2);
  }
  /* The frame is copied now: it is valid during this call only. */
  if (len > 0)
    memcpy(r->data + r->data_len, frame, len);
  r->off[r->n] = r->data_len;
  r->len[r->n++] = len;
  r->data_len += len;
  return k->stop_each;
}

static void ct_describe(const ct_split_t *s, size_t len) {
  const char *stop = s->stop_each ? ", stopping after each frame" : "";

  switch (s->kind) {
  case CT_WHOLE:
    snprintf(ct_now.split, sizeof(ct_now.split), "one read of %zu bytes%s", len,
             stop);
    break;
  case CT_BYTES:
    snprintf(ct_now.split, sizeof(ct_now.split), "one byte per read%s", stop);
    break;
  case CT_AT:
    snprintf(ct_now.split, sizeof(ct_now.split),
             "two reads, split at byte %llu%s", (unsigned long long)s->arg,
             stop);
    break;
  case CT_RANDOM:
    snprintf(ct_now.split, sizeof(ct_now.split),
             "reads of random sizes, split seed %llu%s",
             (unsigned long long)s->arg, stop);
    break;
  case CT_CHUNKS:
    snprintf(ct_now.split, sizeof(ct_now.split), "reads of up to %llu bytes%s",
             (unsigned long long)s->arg, stop);
    break;
  }
}

static size_t ct_next_chunk(const ct_split_t *s, uint64_t *seed, size_t done,
                            size_t len) {
  size_t left = len - done, n;

  switch (s->kind) {
  case CT_BYTES:
    return 1;
  case CT_AT:
    return done < s->arg && s->arg < len ? (size_t)s->arg - done : left;
  case CT_RANDOM:
    n = (ct_rand(seed) & 3) != 0 ? 1 + ct_rand(seed) % 16
                                 : 1 + ct_rand(seed) % (left + 1);
    return n < left ? n : left;
  case CT_CHUNKS:
    n = 1 + ct_rand(seed) % s->arg;
    return n < left ? n : left;
  case CT_WHOLE:
  default:
    return left;
  }
}

/*
 * Read sizes for a large input.  Each decode call copies its whole input
 * into guard pages, and a frame's input grows by a read at a time, so
 * reads of 1/64 of it keep that copying near 32 times the input.
 */
uint64_t ct_chunk(size_t len) {
  return len / 64 > 4096 ? len / 64 : 4096;
}

/* Feeds in[0..len) cut as s says, as the engine does; EOF if at_eof. */
void ct_run(const uint8_t *in, size_t len, ct_split_t s, int at_eof,
            ct_result_t *r) {
  weft__framer_t f;
  ct_sink_t k;
  void *conn_state = NULL;
  uint8_t *scratch, *base;
  size_t scratch_len, done = 0, chunk, avail, n;
  uint64_t seed = s.arg;
  int rc = 0;

  memset(r, 0, sizeof(*r));
  k.r = r;
  k.stop_each = s.stop_each;
  ct_describe(&s, len);
  ct_now.stream = in;
  ct_now.stream_len = len;
  /* As large as the input, so that CT_WHOLE is one read. */
  scratch_len = len > 16 ? len : 16;
  scratch = ct_alloc(scratch_len);
  if (ct_codec.vt->conn_init != NULL &&
      ct_codec.vt->conn_init(ct_codec.state, &conn_state) != 0) {
    ct_fail("conn_init() failed");
    free(scratch);
    return;
  }
  weft__framer_init(&f, &ct_shim, ct_codec.state, conn_state, NULL);
  while (done < len && rc == 0) {
    chunk = ct_next_chunk(&s, &seed, done, len);
    while (chunk > 0 && rc == 0) {
      avail = weft__framer_read_buf(&f, scratch, scratch_len, &base);
      if (avail == 0) {
        fprintf(stderr, "weft-codec-test: out of memory\n");
        exit(2);
      }
      n = chunk < avail ? chunk : avail;
      memcpy(base, in + done, n);
      done += n;
      chunk -= n;
      r->reads++;
      rc = weft__framer_feed(&f, base, n, ct_on_frame, &k);
      while (rc == 1)
        rc = weft__framer_resume(&f, ct_on_frame, &k);
      if (rc == 0 && weft__framer_pending(&f) > r->max_pending)
        r->max_pending = weft__framer_pending(&f);
    }
  }
  if (rc == 0 && at_eof) {
    do
      rc = weft__framer_eof(&f, ct_on_frame, &k);
    while (rc == 1);
    r->error_at_eof = rc != 0;
  }
  if (rc < 0) {
    r->error = f.error;
    r->error_offset = f.offset;
    r->reason = f.reason;
  }
  weft__framer_free(&f);
  if (conn_state != NULL && ct_codec.vt->conn_free != NULL)
    ct_codec.vt->conn_free(ct_codec.state, conn_state);
  free(scratch);
}

void ct_outcome(char *b, size_t n, const ct_result_t *r) {
  snprintf(b, n, "%zu frame(s), %s%s%s%s", r->n,
           r->error ? weft_err_name(r->error) : "no error",
           r->error ? " \"" : "", r->error && r->reason ? r->reason : "",
           r->error ? "\"" : "");
  if (r->error) {
    size_t used = strlen(b);
    snprintf(b + used, n - used, " at byte %llu%s",
             (unsigned long long)r->error_offset,
             r->error_at_eof ? " (at EOF)" : "");
  }
}

/* Same frames, same error at the same offset. */
static int ct_same(const ct_result_t *a, const ct_result_t *b) {
  size_t i;

  if (a->n != b->n || a->error != b->error ||
      a->error_offset != b->error_offset || a->error_at_eof != b->error_at_eof)
    return 0;
  if (a->reason != b->reason && (a->reason == NULL || b->reason == NULL ||
                                 strcmp(a->reason, b->reason) != 0))
    return 0;
  for (i = 0; i < a->n; i++)
    if (a->len[i] != b->len[i] ||
        memcmp(a->data + a->off[i], b->data + b->off[i], a->len[i]) != 0)
      return 0;
  return 1;
}

/* Compares a run with a reference run; reports the first difference. */
int ct_expect_same(const ct_result_t *want, const ct_result_t *got,
                   const char *ref) {
  char w[256], g[256];

  if (ct_cfg.stream) {
    /* Only the bytes count, and the error. */
    if (want->data_len == got->data_len &&
        memcmp(want->data, got->data, want->data_len) == 0 &&
        want->error == got->error)
      return 1;
  } else if (ct_same(want, got)) {
    return 1;
  }
  ct_outcome(w, sizeof(w), want);
  ct_outcome(g, sizeof(g), got);
  ct_fail("got %s; %s gives %s", g, ref, w);
  return 0;
}
