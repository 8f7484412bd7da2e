/*
 * Output: frames are encoded into the worker's stage buffer while the
 * connection has nothing else queued, and the whole batch goes to the kernel
 * with one try-write when the loop iteration's I/O is done.  Only what the
 * kernel does not take is copied into the connection's own queue and
 * written with uv_write, from a write state allocated only while output
 * waits on the peer.  Watermarks on the queued bytes drive backpressure.
 */
#include <linux/sockios.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "internal.h"


weft__wstate_t *weft__conn_ws(weft_conn_t *c) {
  if (c->ws == NULL)
    c->ws = calloc(1, sizeof(*c->ws));
  return c->ws;
}

static size_t weft__conn_wq_len(const weft_conn_t *c) {
  return c->ws ? c->ws->wq.len : 0;
}

/* Frees the write state once nothing is pending, no FIN is on its way
 * and no frame is held back. */
static void weft__conn_ws_release(weft_conn_t *c) {
  weft__wstate_t *ws = c->ws;

  if (ws == NULL || ws->wq.len > 0 || ws->held != NULL ||
      (c->flags & (WEFT__C_WRITING | WEFT__C_SHUT)))
    return;
  weft__buf_free(&ws->wq);
  weft__buf_free(&ws->wing);
  free(ws);
  c->ws = NULL;
}

void weft__conn_ws_free(weft_conn_t *c) {
  if (c->ws == NULL)
    return;
  weft__buf_free(&c->ws->wq);
  weft__buf_free(&c->ws->wing);
  free(c->ws->held);
  free(c->ws);
  c->ws = NULL;
}

/*
 * Bytes the peer has taken (relative to when the write state was made):
 * what the kernel took from us, including the part of a uv_write libuv
 * has written so far, less what still sits in the kernel's send queue.
 * New output queued meanwhile does not hide a slow reader's progress.
 */
static int64_t weft__conn_taken(weft_conn_t *c) {
  int64_t t = (int64_t)c->ws->handed;
  uv_os_fd_t fd;
  int outq = 0;

  if (c->flags & WEFT__C_MEMORY)
    return t; /* what the in-memory peer was handed, it has read */
  if (c->flags & WEFT__C_WRITING)
    t += (int64_t)c->ws->wing.len -
         (int64_t)uv_stream_get_write_queue_size(&c->h.stream);
  if (uv_fileno(&c->h.handle, &fd) == 0 && ioctl(fd, SIOCOUTQ, &outq) == 0)
    t -= outq;
  return t;
}

int weft__conn_write_progress(weft_conn_t *c) {
  int64_t now;

  if (c->ws == NULL)
    return 0;
  now = weft__conn_taken(c);
  if (now > c->ws->taken) {
    c->ws->taken = now;
    return 1;
  }
  return 0;
}

uv_shutdown_t *weft__conn_shutdown_req(weft_conn_t *c) {
  weft__wstate_t *ws = weft__conn_ws(c);
  return ws ? &ws->sreq : NULL;
}


size_t weft_conn_queued(const weft_conn_t *c) { return weft__conn_queued(c); }

int weft_conn_writable(const weft_conn_t *c) {
  return !(c->flags & (WEFT__C_CLOSING | WEFT__C_CLOSED)) &&
         weft__conn_queued(c) <= c->wl->l->conf->high_watermark;
}

/* Where new output goes: the shared stage if nothing of ours is pending. */
static inline weft__buf_t *weft__conn_outbuf(weft_conn_t *c,
                                             weft__worker_t *w) {
  /* The common case first: the stage is ours already.  A connection still
   * connecting keeps its output: never in the stage. */
  if (w->stage_owner == c ||
      (w->stage_owner == NULL && weft__conn_wq_len(c) == 0 &&
       !(c->flags & (WEFT__C_WRITING | WEFT__C_CONNECTING)))) {
    w->stage_owner = c;
    return &w->stage;
  }
  return weft__conn_ws(c) ? &c->ws->wq : NULL;
}

void weft__conn_mark_dirty(weft_conn_t *c) {
  weft__worker_t *w = c->wl->w;
  weft_conn_t **d;
  size_t cap;

  if (c->flags & WEFT__C_DIRTY)
    return;
  c->flags |= WEFT__C_DIRTY;
  if (w->ndirty == w->dirty_cap) {
    cap = w->dirty_cap ? w->dirty_cap * 2 : 64;
    d = realloc(w->dirty, cap * sizeof(*d));
    if (d == NULL)
      return; /* out of memory: flushed by its next read callback instead */
    w->dirty = d;
    w->dirty_cap = cap;
  }
  w->dirty[w->ndirty++] = c;
}

/*
 * A handler queued output: watch the watermark, and flush it this
 * iteration.  In the connection's own read callback neither is needed
 * here: after each frame or batch the engine checks the watermark
 * (weft__conn_frames_done), and the callback flushes before it ends
 * (weft__conn_read).
 */
static inline void weft__conn_queued_more(weft_conn_t *c, weft__worker_t *w) {
  if (w->zc_conn == c) {
    c->flags |= WEFT__C_DIRTY;
    return;
  }
  if (weft__conn_queued(c) > c->wl->l->conf->high_watermark)
    c->flags |= WEFT__C_HIGH; /* owes on_writable once it drains */
  weft__conn_mark_dirty(c);
}

/* Undoes an encoder's partial output after it failed. */
static void weft__conn_rollback(weft_conn_t *c, weft__buf_t *b,
                                const weft__stage_mark_t *m) {
  weft__worker_t *w = c->wl->w;

  if (b != &w->stage) {
    b->len = m->len;
    return;
  }
  weft__stage_restore(w, m);
  if (weft__stage_len(w) == 0)
    w->stage_owner = NULL;
}

/*
 * Where an encoder writes: the connection's output, with a mark to undo a
 * failed encode.  Input bytes may be referenced only while this
 * connection's read callback runs: its batch is flushed before the scratch
 * is reused.  NULL: no memory.
 */
static inline weft__buf_t *weft__conn_out_open(weft_conn_t *c,
                                               weft__worker_t *w,
                                               weft__stage_mark_t *m,
                                               weft_out_t *out) {
  weft__buf_t *b = weft__conn_outbuf(c, w);

  if (b == NULL)
    return NULL;
  weft__stage_save(w, m);
  m->len = b->len;
  out->buf = b;
  out->zc = b == &w->stage && w->zc_conn == c ? w : NULL;
  out->decoded = 0;
  return b;
}

int weft_conn_send(weft_conn_t *c, const void *frame, size_t len) {
  weft__worker_t *w = c->wl->w;
  weft__stage_mark_t m;
  weft_out_t out;
  weft__buf_t *b;
  int r;

  if (c->flags & (WEFT__C_CLOSING | WEFT__C_CLOSED))
    return WEFT_ECLOSED;
  b = weft__conn_out_open(c, w, &m, &out);
  if (b == NULL)
    return WEFT_ENOMEM;
  r = c->wl->cvt->encode(&c->fr.ctx, frame, len, &out);
  if (r != 0) {
    weft__conn_rollback(c, b, &m);
    return r < 0 ? r : WEFT_EPROTO;
  }
  WEFT__STAT_ADD(&c->wl->stats, frames_out, 1);
  weft__conn_queued_more(c, w);
  return 0;
}

int weft_conn_send_many(weft_conn_t *c, const weft_frame_t *frames, size_t n) {
  const weft_codec_vtable_t *cvt = c->wl->cvt;
  weft__worker_t *w = c->wl->w;
  weft__stage_mark_t m;
  weft_out_t out;
  weft__buf_t *b;
  size_t i;
  int r;

  if (c->flags & (WEFT__C_CLOSING | WEFT__C_CLOSED))
    return WEFT_ECLOSED;
  if (n == 0)
    return 0;
  if (cvt->encode_many != NULL) {
    b = weft__conn_out_open(c, w, &m, &out);
    if (b == NULL)
      return WEFT_ENOMEM;
    /* A reply of frames from the batch being handled (an echo, a
     * forwarder): the codec may send their input as it came. */
    out.decoded =
        w->dec_conn == c && (uintptr_t)frames >= (uintptr_t)w->dec_frames &&
        (uintptr_t)(frames + n) <= (uintptr_t)(w->dec_frames + w->dec_n);
    r = cvt->encode_many(&c->fr.ctx, frames, n, &out);
    if (r == 0) {
      WEFT__STAT_ADD(&c->wl->stats, frames_out, n);
      weft__conn_queued_more(c, w);
      return 0;
    }
    /* Some frame failed: start again one at a time, so the ones before it
     * still go out and the error is encode()'s own. */
    weft__conn_rollback(c, b, &m);
  }
  for (i = 0; i < n; i++) {
    r = weft_conn_send(c, frames[i].data, frames[i].len);
    if (r != 0)
      return r;
  }
  return 0;
}

int weft_codec_write(weft_codec_ctx_t *ctx, const void *data, size_t len) {
  weft_conn_t *c = ctx->conn;
  weft__stage_mark_t m;
  weft__worker_t *w;
  weft__buf_t *b;

  if (c == NULL)
    return WEFT_EINVAL;
  if (c->flags & WEFT__C_CLOSED)
    return WEFT_ECLOSED;
  w = c->wl->w;
  b = weft__conn_outbuf(c, w);
  if (b == NULL)
    return WEFT_ENOMEM;
  weft__stage_save(w, &m);
  m.len = b->len;
  if (weft__buf_append(b, data, len) != 0) {
    weft__conn_rollback(c, b, &m);
    return WEFT_ENOMEM;
  }
  /* A codec may write while decoding, with no frame checked after it. */
  if (weft__conn_queued(c) > c->wl->l->conf->high_watermark)
    c->flags |= WEFT__C_HIGH;
  weft__conn_queued_more(c, w);
  return 0;
}

/* The kernel took n bytes: that is activity, and write progress. */
static void weft__conn_wrote(weft_conn_t *c, size_t n) {
  if (n == 0)
    return;
  if (c->ws != NULL)
    c->ws->handed += n;
  c->last_io = weft__tick_now(c->wl->w);
  if (c->write_since != 0)
    c->write_since = c->last_io;
  WEFT__STAT_ADD(&c->wl->stats, bytes_out, n);
}

static void weft__conn_write_cb(uv_write_t *req, int status) {
  weft_conn_t *c = req->data;

  c->flags &= ~(unsigned)WEFT__C_WRITING;
  if (status == 0)
    weft__conn_wrote(c, c->ws->wing.len);
  weft__buf_free(&c->ws->wing);
  if (c->flags & WEFT__C_CLOSED)
    return;
  if (status < 0) {
    weft__conn_close(c, status == UV_ECONNRESET || status == UV_EPIPE
                            ? WEFT_ECONNRESET
                            : WEFT_EIO,
                     uv_strerror(status), 1);
    return;
  }
  weft__conn_flush(c);
}

/* Hands b to the kernel without blocking; drops what it took. */
static int weft__conn_try_write(weft_conn_t *c, const uint8_t *base,
                                size_t len, size_t *written) {
  uv_buf_t ub = uv_buf_init((char *)base, (unsigned)len);
  int n;

  *written = 0;
  if (len == 0 || (c->flags & WEFT__C_MEMORY))
    return 0; /* in memory, the queue goes to the peer below */
  n = uv_try_write(&c->h.stream, &ub, 1);
  if (n >= 0) {
    *written = (size_t)n;
    return 0;
  }
  return n == UV_EAGAIN ? 0 : n;
}

static void weft__conn_write_failed(weft_conn_t *c, int err) {
  weft__conn_close(c, err == UV_ECONNRESET || err == UV_EPIPE
                          ? WEFT_ECONNRESET
                          : (err == UV_ENOMEM ? WEFT_ENOMEM : WEFT_EIO),
                   uv_strerror(err), 1);
}

void weft__conn_flush(weft_conn_t *c) {
  weft__worker_t *w = c->wl->w;
  size_t written;
  uv_buf_t ub;
  int r;

  if (c->flags & WEFT__C_CLOSED)
    return;
  c->flags &= ~(unsigned)WEFT__C_DIRTY;
  if (c->flags & WEFT__C_CONNECTING) {
    /* Its queue goes out once connected (connect.c); closed before that
     * with nothing to send, it just goes. */
    if ((c->flags & WEFT__C_CLOSING) && weft__conn_wq_len(c) == 0)
      weft__conn_shutdown(c);
    return;
  }
  if (w->stage_owner == c) {
    /* Our queue is empty by construction: try the whole batch at once. */
    weft__buf_t rest = {NULL, 0, 0};
    w->stage_owner = NULL;
    r = weft__stage_write(
        w, (c->flags & WEFT__C_MEMORY) ? NULL : &c->h.stream, &rest, &written);
    weft__conn_wrote(c, written);
    /* The usual end: the kernel took it all and nothing else waits, so
     * there is no deadline, watermark or close to see to. */
    if (r == 0 && rest.len == 0 && c->ws == NULL &&
        !(c->flags &
          (WEFT__C_MEMORY | WEFT__C_HIGH | WEFT__C_CLOSING | WEFT__C_PAUSED))) {
      c->write_since = 0;
      return;
    }
    if (r == 0 && rest.len > 0) {
      if (weft__conn_ws(c) == NULL)
        r = UV_ENOMEM;
      else {
        /* The queue was empty (a write state kept for held frames may
         * still have its buffer): take this one over. */
        weft__buf_free(&c->ws->wq);
        c->ws->wq = rest;
      }
    }
    if (r != 0) {
      weft__buf_free(&rest);
      weft__conn_write_failed(c, r);
      return;
    }
  } else if (!(c->flags & WEFT__C_WRITING) && weft__conn_wq_len(c) > 0) {
    r = weft__conn_try_write(c, c->ws->wq.base, c->ws->wq.len, &written);
    if (r != 0) {
      weft__conn_write_failed(c, r);
      return;
    }
    weft__conn_wrote(c, written);
    weft__buf_consume(&c->ws->wq, written);
  }
  if (c->flags & WEFT__C_MEMORY) {
    /* weft_embed: the peer takes what it reads; the rest waits queued. */
    r = weft__embed_write(c, &written);
    if (r != 0) {
      weft__conn_write_failed(c, r);
      return;
    }
    weft__conn_wrote(c, written);
  } else if (!(c->flags & WEFT__C_WRITING) && weft__conn_wq_len(c) > 0) {
    /* The kernel is full: the rest goes out when the socket drains. */
    weft__wstate_t *ws = c->ws;
    ws->wing = ws->wq;
    memset(&ws->wq, 0, sizeof(ws->wq));
    ub = uv_buf_init((char *)ws->wing.base, (unsigned)ws->wing.len);
    ws->wreq.data = c;
    r = uv_write(&ws->wreq, &c->h.stream, &ub, 1, weft__conn_write_cb);
    if (r != 0) {
      weft__conn_write_failed(c, r);
      return;
    }
    c->flags |= WEFT__C_WRITING;
  }
  weft__conn_ws_release(c); /* an idle connection holds no buffer */
  /* Write deadline: armed while output waits on the peer. */
  if (weft__conn_queued(c) == 0) {
    c->write_since = 0;
  } else if (c->write_since == 0) {
    c->write_since = weft__tick_now(w);
    if (c->ws != NULL)
      c->ws->taken = weft__conn_taken(c);
    weft__timer_schedule(c);
  }
  if ((c->flags & WEFT__C_HIGH) &&
      weft__conn_queued(c) <= c->wl->l->conf->low_watermark) {
    c->flags &= ~(unsigned)WEFT__C_HIGH;
    if (!(c->flags & WEFT__C_CLOSING) && c->wl->hvt->on_writable != NULL)
      c->wl->hvt->on_writable(c);
    /* on_writable may have filled the queue again: then stay paused. */
    if ((c->flags & WEFT__C_PAUSED) && !(c->flags & WEFT__C_HIGH))
      weft__conn_resume(c);
  }
  if ((c->flags & WEFT__C_CLOSING) && !(c->flags & WEFT__C_WRITING) &&
      weft__conn_queued(c) == 0)
    weft__conn_shutdown(c);
  /* weft_conn_read_start() asked for it and nothing else holds it. */
  else if ((c->flags & (WEFT__C_PAUSED | WEFT__C_HIGH | WEFT__C_HELD |
                        WEFT__C_CLOSING)) == WEFT__C_PAUSED)
    weft__conn_resume(c);
}

void weft__worker_flush_all(weft__worker_t *w) {
  size_t i;

  /* Flushing may mark more (a resumed connection decodes and replies):
   * the loop reads the array afresh each time round. */
  for (i = 0; i < w->ndirty; i++)
    if (w->dirty[i]->flags & WEFT__C_DIRTY)
      weft__conn_flush(w->dirty[i]);
  w->ndirty = 0;
}
