/*
 * Drives a codec's decoder over a stream.  Bytes are decoded where they
 * landed (usually the worker's scratch buffer); only the unfinished tail of a
 * frame is copied into the framer, and it is freed once it empties.
 */
#include <stdlib.h>
#include <string.h>

#include <weft/error.h>

#include "framer.h"

/* Reads into a tail never ask for less than this, nor more than needed. */
#define WEFT__FRAMER_MIN_READ 16384
/* A tail with less room than this (or than the frame lacks) is grown. */
#define WEFT__FRAMER_MIN_FREE 4096
/* A tail up to this size is read behind a copy of it in the scratch
 * buffer, so the next read is a full one and decodes in place. */
#define WEFT__FRAMER_STAGE_MAX 16384

void weft__framer_init(weft__framer_t *f, const weft_codec_vtable_t *vt,
                       void *state, void *conn_state, weft_conn_t *conn) {
  memset(f, 0, sizeof(*f));
  f->ctx.vt = vt;
  f->ctx.state = state;
  f->ctx.conn_state = conn_state;
  f->ctx.conn = conn;
}

void weft__framer_free(weft__framer_t *f) { weft__buf_free(&f->tail); }

/* Grows the tail's capacity to exactly cap bytes. */
static int weft__framer_grow(weft__framer_t *f, size_t cap) {
  uint8_t *p;

  if (cap <= f->tail.cap)
    return 0;
  p = realloc(f->tail.base, cap);
  if (p == NULL)
    return WEFT_ENOMEM;
  f->tail.base = p;
  f->tail.cap = cap;
  return 0;
}

size_t weft__framer_read_buf(weft__framer_t *f, uint8_t *scratch,
                             size_t scratch_len, uint8_t **base) {
  size_t want, min_free, cap;

  f->staged = 0;
  if (f->tail.len == 0) {
    *base = scratch;
    return scratch_len;
  }
  if (f->tail.len <= WEFT__FRAMER_STAGE_MAX &&
      f->tail.len <= scratch_len / 4 && f->need <= scratch_len) {
    memcpy(scratch, f->tail.base, f->tail.len);
    f->staged = 1;
    *base = scratch + f->tail.len;
    return scratch_len - f->tail.len;
  }
  /*
   * Read at least as much as the tail holds (so a frame arriving in small
   * pieces costs O(n) copying in total), but never ask for more than the
   * pending frame is known to need: a declared length is the memory bound.
   */
  want = f->tail.len > WEFT__FRAMER_MIN_READ ? f->tail.len
                                             : WEFT__FRAMER_MIN_READ;
  if (f->need > f->tail.len && f->need - f->tail.len < want)
    want = f->need - f->tail.len;
  min_free = want < WEFT__FRAMER_MIN_FREE ? want : WEFT__FRAMER_MIN_FREE;
  if (f->tail.cap - f->tail.len < min_free) {
    /* Geometric growth: a byte-at-a-time sender causes O(log n) reallocs. */
    cap = f->tail.len + want;
    if (cap < f->tail.cap * 2)
      cap = f->tail.cap * 2;
    if (f->need > f->tail.len && cap > f->need)
      cap = f->need;
    if (cap < f->tail.len + min_free || weft__framer_grow(f, cap) != 0)
      return 0;
  }
  *base = f->tail.base + f->tail.len;
  return f->tail.cap - f->tail.len;
}

static int weft__framer_fail(weft__framer_t *f, int err, const char *reason,
                             size_t at) {
  f->error = err;
  f->reason = reason ? reason : weft_strerror(err);
  f->offset += at; /* where it was found; nothing is consumed after it */
  return err;
}

/* A FRAME result must describe bytes inside the input it was given. */
static int weft__framer_frame_ok(const weft_decode_t *d, const uint8_t *in,
                                 size_t len) {
  if (d->consumed == 0 || d->consumed > len || d->frame_len > len)
    return 0;
  if (d->frame_len == 0)
    return 1;
  return d->frame >= in && d->frame <= in + len - d->frame_len;
}

/*
 * Decodes frames from in[0..len); *used says how many bytes were consumed.
 * At a frame's start, a codec with decode_many() takes as many whole frames
 * as it can in one call; decode() takes what it leaves (an unfinished
 * frame, a skip, an error, or the frame past the batch's room).
 */
static int weft__framer_run(weft__framer_t *f, const uint8_t *in, size_t len,
                            weft__sink_t *k, size_t *used) {
  const weft_codec_vtable_t *vt = f->ctx.vt;
  weft_frame_t batch[WEFT__FRAMER_BATCH];
  weft_decode_t d;
  size_t off = 0, lim, took, n;
  int rc = 0;

  while (off < len) {
    if (k->many != NULL && f->scanned == 0 && vt->decode_many != NULL) {
      lim = len - off < k->room ? len - off : k->room;
      took = 0;
      n = lim > 0 ? vt->decode_many(&f->ctx, in + off, lim, batch,
                                    WEFT__FRAMER_BATCH, &took)
                  : 0;
      if (n > 0) {
        /* What the framer's own bookkeeping rests on is checked; the
         * slices are not, one by one, on this path (codec.h). */
        if (n > WEFT__FRAMER_BATCH || took == 0 || took > lim) {
          rc = weft__framer_fail(f, WEFT_EPLUGIN,
                                 "codec returned frames outside its input", 0);
          goto out;
        }
        f->need = 0;
        off += took;
        f->offset += took;
        f->frames += (uint32_t)n;
        if (k->many(k->arg, batch, n) != 0) {
          rc = 1;
          goto out;
        }
        /* A full batch may have more behind it; otherwise decode() says
         * what stopped it. */
        if (n == WEFT__FRAMER_BATCH || off == len)
          continue;
      }
    }
    d = (weft_decode_t){.scanned = f->scanned};
    switch (vt->decode(&f->ctx, in + off, len - off, &d)) {
    case WEFT_DECODE_FRAME:
      if (!weft__framer_frame_ok(&d, in + off, len - off)) {
        rc = weft__framer_fail(f, WEFT_EPLUGIN,
                               "codec returned a frame outside its input", 0);
        goto out;
      }
      f->scanned = 0;
      f->need = 0;
      off += d.consumed;
      f->offset += d.consumed;
      f->frames++;
      if (k->one(k->arg, d.frame_len ? d.frame : in + off, d.frame_len) != 0) {
        rc = 1;
        goto out;
      }
      break;
    case WEFT_DECODE_MORE:
      f->scanned = d.scanned <= len - off && d.scanned <= UINT32_MAX
                       ? (uint32_t)d.scanned
                       : 0;
      f->need = d.need <= UINT32_MAX ? (uint32_t)d.need : 0;
      goto out;
    case WEFT_DECODE_SKIP:
      if (d.consumed == 0 || d.consumed > len - off) {
        rc = weft__framer_fail(f, WEFT_EPLUGIN,
                               "codec skipped bytes outside its input", 0);
        goto out;
      }
      f->scanned = 0;
      f->need = 0;
      if (d.error < 0) {
        f->discarded++;
        f->reason = d.reason ? d.reason : weft_strerror(d.error);
      }
      off += d.consumed;
      /* The callback sees the offset of the skipped bytes. */
      rc = d.error < 0 && f->ctx.conn != NULL &&
           k->one(k->arg, NULL, (size_t)-d.error) != 0;
      f->offset += d.consumed;
      if (rc)
        goto out;
      break;
    case WEFT_DECODE_ERROR:
      rc = weft__framer_fail(f, d.error < 0 ? d.error : WEFT_EPROTO, d.reason,
                             d.consumed <= len - off ? d.consumed : 0);
      goto out;
    default:
      rc = weft__framer_fail(f, WEFT_EPLUGIN,
                             "codec returned an unknown decode status", 0);
      goto out;
    }
  }
out:
  *used = off;
  return rc;
}

/* Decodes what the tail holds, then drops what was consumed. */
static int weft__framer_run_tail(weft__framer_t *f, weft__sink_t *k) {
  size_t used = 0;
  int rc;

  rc = weft__framer_run(f, f->tail.base, f->tail.len, k, &used);
  weft__buf_consume(&f->tail, used);
  if (f->tail.len == 0)
    weft__buf_free(&f->tail);
  return rc;
}

int weft__framer_feed_to(weft__framer_t *f, const uint8_t *data, size_t len,
                         weft__sink_t *k) {
  size_t used = 0;
  int rc;

  if (f->error)
    return f->error;
  if (len == 0)
    return 0;
  if (f->staged) {
    /* The tail sits, copied, right in front of data: decode it all there
     * and keep only what is left unfinished. */
    f->staged = 0;
    data -= f->tail.len;
    len += f->tail.len;
    f->tail.len = 0;
    rc = weft__framer_run(f, data, len, k, &used);
    if (rc < 0 || used == len) {
      weft__buf_free(&f->tail);
      return rc;
    }
    if (weft__buf_append(&f->tail, data + used, len - used) != 0)
      return weft__framer_fail(f, WEFT_ENOMEM, NULL, 0);
    return rc;
  }
  if (f->tail.base != NULL && data == f->tail.base + f->tail.len) {
    /* The read landed in the tail, right after the partial frame. */
    f->tail.len += len;
    return weft__framer_run_tail(f, k);
  }
  if (f->tail.len > 0) {
    if (weft__buf_append(&f->tail, data, len) != 0)
      return weft__framer_fail(f, WEFT_ENOMEM, NULL, f->tail.len);
    return weft__framer_run_tail(f, k);
  }
  rc = weft__framer_run(f, data, len, k, &used);
  if (rc < 0 || used == len)
    return rc;
  /* Keep the unfinished tail (or, if the callback stopped us, the rest). */
  if (weft__buf_append(&f->tail, data + used, len - used) != 0)
    return weft__framer_fail(f, WEFT_ENOMEM, NULL, 0);
  return rc;
}

int weft__framer_resume_to(weft__framer_t *f, weft__sink_t *k) {
  f->staged = 0;
  if (f->error)
    return f->error;
  if (f->tail.len == 0)
    return 0;
  return weft__framer_run_tail(f, k);
}

int weft__framer_eof_to(weft__framer_t *f, weft__sink_t *k) {
  const weft_codec_vtable_t *vt = f->ctx.vt;
  weft_decode_status_t st;
  weft_decode_t d;
  int rc;

  f->staged = 0;
  if (f->error)
    return f->error;
  while (f->tail.len > 0) {
    if (vt->decode_eof == NULL)
      return weft__framer_fail(f, WEFT_ETRUNC, NULL, 0);
    memset(&d, 0, sizeof(d));
    st = vt->decode_eof(&f->ctx, f->tail.base, f->tail.len, &d);
    if (st == WEFT_DECODE_SKIP && d.consumed > 0 && d.consumed <= f->tail.len) {
      if (d.error < 0) {
        f->discarded++;
        f->reason = d.reason ? d.reason : weft_strerror(d.error);
      }
      weft__buf_consume(&f->tail, d.consumed);
      /* The callback sees the offset of the skipped bytes. */
      rc = d.error < 0 && f->ctx.conn != NULL &&
           k->one(k->arg, NULL, (size_t)-d.error) != 0;
      f->offset += d.consumed;
      if (rc)
        return 1;
      continue;
    }
    if (st != WEFT_DECODE_FRAME) {
      return weft__framer_fail(f, d.error < 0 ? d.error : WEFT_ETRUNC,
                               d.reason, 0);
    }
    if (!weft__framer_frame_ok(&d, f->tail.base, f->tail.len))
      return weft__framer_fail(f, WEFT_EPLUGIN,
                               "codec returned a frame outside its input", 0);
    f->frames++;
    rc = k->one(k->arg, d.frame_len ? d.frame : f->tail.base, d.frame_len);
    f->offset += d.consumed;
    weft__buf_consume(&f->tail, d.consumed);
    if (rc != 0)
      return 1;
  }
  weft__buf_free(&f->tail);
  return 0;
}

int weft__framer_feed(weft__framer_t *f, const uint8_t *data, size_t len,
                      weft__frame_cb cb, void *arg) {
  weft__sink_t k = {cb, NULL, arg, SIZE_MAX};

  return weft__framer_feed_to(f, data, len, &k);
}

int weft__framer_resume(weft__framer_t *f, weft__frame_cb cb, void *arg) {
  weft__sink_t k = {cb, NULL, arg, SIZE_MAX};

  return weft__framer_resume_to(f, &k);
}

int weft__framer_eof(weft__framer_t *f, weft__frame_cb cb, void *arg) {
  weft__sink_t k = {cb, NULL, arg, SIZE_MAX};

  return weft__framer_eof_to(f, &k);
}
