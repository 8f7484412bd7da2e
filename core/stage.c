/*
 * The worker's stage: the encoded output of one connection's batch before
 * it reaches the kernel.  Bytes an encoder appends from the input frame
 * being handled are not copied: the stage records a reference to them, and
 * the flush hands headers and payloads to the kernel as one vectored write
 * (a large payload is never copied to add a 4-byte header).  Only what the
 * kernel does not take is copied, into the connection's own queue.  The
 * references are safe because they point into the worker's scratch buffer,
 * which no other read touches before the connection's read callback ends,
 * and the batch is flushed before it does.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Smaller pieces are cheaper to copy than to add to a vector. */
#define WEFT__ZC_MIN 512

static int weft__stage_push(weft__worker_t *w, const uint8_t *ref, size_t off,
                            size_t len) {
  weft__piece_t *p;
  size_t cap;

  if (w->npieces == w->pieces_cap) {
    cap = w->pieces_cap ? w->pieces_cap * 2 : 16;
    p = realloc(w->pieces, cap * sizeof(*p));
    if (p == NULL)
      return WEFT_ENOMEM;
    w->pieces = p;
    w->pieces_cap = cap;
  }
  p = &w->pieces[w->npieces++];
  p->ref = ref;
  p->off = off;
  p->len = len;
  return 0;
}

/* Closes the run of copied bytes since the last reference, if any. */
static int weft__stage_cut(weft__worker_t *w) {
  if (w->stage.len == w->stage_mark)
    return 0;
  if (weft__stage_push(w, NULL, w->stage_mark, w->stage.len - w->stage_mark))
    return WEFT_ENOMEM;
  w->stage_mark = w->stage.len;
  return 0;
}

int weft_out_append(weft_out_t *out, const void *data, size_t len) {
  weft__worker_t *w = out->zc;
  const uint8_t *d = data;
  size_t np;

  if (w != NULL && len >= WEFT__ZC_MIN && d >= w->zc_lo &&
      d <= w->zc_hi && len <= (size_t)(w->zc_hi - d)) {
    if (w->stage.len == w->stage_mark && w->npieces < w->pieces_cap) {
      /* The usual case (an echoed batch): nothing copied since the last
       * piece, and room in the vector. */
      weft__piece_t *p = &w->pieces[w->npieces++];
      p->ref = d;
      p->off = 0;
      p->len = len;
      w->ref_bytes += len;
      return 0;
    }
    np = w->npieces;
    if (weft__stage_cut(w) == 0 && weft__stage_push(w, d, 0, len) == 0) {
      w->ref_bytes += len;
      return 0;
    }
    w->npieces = np; /* no memory for the vector: copy instead */
  }
  return weft__buf_append(out->buf, data, len);
}

void weft__stage_restore(weft__worker_t *w, const weft__stage_mark_t *m) {
  w->stage.len = m->len;
  w->npieces = m->npieces;
  w->stage_mark = m->mark;
  w->ref_bytes = m->ref_bytes;
}

/* The batch is out (or copied to rest): the stage is empty again, and a
 * stage grown by a large batch is given back. */
static void weft__stage_reset(weft__worker_t *w) {
  w->stage.len = 0;
  w->npieces = 0;
  w->stage_mark = 0;
  w->ref_bytes = 0;
  if (w->stage.cap > WEFT__STAGE_KEEP)
    weft__buf_free(&w->stage);
}

/* The usual batch: copied bytes only, one buffer. */
static int weft__stage_write_plain(weft__worker_t *w, uv_stream_t *s,
                                   weft__buf_t *rest, size_t *written) {
  uv_buf_t b;
  int k, r = 0;

  b.base = (char *)w->stage.base;
  b.len = w->stage.len;
  /* An in-memory connection has no socket: everything goes to rest. */
  k = b.len > 0 && s != NULL ? uv_try_write(s, &b, 1) : 0;
  if (k < 0) {
    r = k == UV_EAGAIN ? 0 : k;
    k = 0;
  }
  *written = (size_t)k;
  if (r == 0 && (size_t)k < b.len &&
      weft__buf_append(rest, w->stage.base + k, b.len - (size_t)k) != 0)
    r = UV_ENOMEM;
  weft__stage_reset(w);
  return r;
}

/* A batch of one piece and nothing copied after it: an echoed batch. */
static int weft__stage_write_one(weft__worker_t *w, uv_stream_t *s,
                                 weft__buf_t *rest, size_t *written) {
  const weft__piece_t *p = &w->pieces[0];
  uv_buf_t b;
  int k, r = 0;

  b.base = (char *)(p->ref ? p->ref : w->stage.base + p->off);
  b.len = p->len;
  k = s != NULL ? uv_try_write(s, &b, 1) : 0;
  if (k < 0) {
    r = k == UV_EAGAIN ? 0 : k;
    k = 0;
  }
  *written = (size_t)k;
  if (r == 0 && (size_t)k < b.len &&
      weft__buf_append(rest, (const uint8_t *)b.base + k, b.len - (size_t)k))
    r = UV_ENOMEM;
  weft__stage_reset(w);
  return r;
}

int weft__stage_write(weft__worker_t *w, uv_stream_t *s, weft__buf_t *rest,
                      size_t *written) {
  uv_buf_t iov[64];
  size_t i, n, off, skip;
  int r = 0, k;

  if (w->npieces == 0)
    return weft__stage_write_plain(w, s, rest, written);
  if (w->npieces == 1 && w->stage.len == w->stage_mark)
    return weft__stage_write_one(w, s, rest, written);
  /* Headers and payloads as one vector. */
  *written = 0;
  if (weft__stage_cut(w) != 0) {
    r = UV_ENOMEM;
    goto out;
  }
  n = w->npieces < 64 ? w->npieces : 64; /* the rest goes by copy below */
  for (i = 0; i < n; i++) {
    weft__piece_t *p = &w->pieces[i];
    iov[i].base = (char *)(p->ref ? p->ref : w->stage.base + p->off);
    iov[i].len = p->len;
  }
  /* An in-memory connection has no socket: everything goes to rest. */
  k = s != NULL ? uv_try_write(s, iov, (unsigned)n) : 0;
  if (k >= 0)
    *written = (size_t)k;
  else if (k != UV_EAGAIN)
    r = k;
  /* The usual end: the kernel took it all, nothing to copy. */
  if (r != 0 || (n == w->npieces && *written == w->stage.len + w->ref_bytes))
    goto out;
  /* Whatever the kernel did not take is copied, in order, into rest. */
  skip = *written;
  for (i = 0; i < w->npieces && r == 0; i++) {
    weft__piece_t *p = &w->pieces[i];
    const uint8_t *base = p->ref ? p->ref : w->stage.base + p->off;
    off = skip < p->len ? skip : p->len;
    skip -= off;
    if (off < p->len && weft__buf_append(rest, base + off, p->len - off) != 0)
      r = UV_ENOMEM;
  }
out:
  weft__stage_reset(w);
  return r;
}
