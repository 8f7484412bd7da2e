/*
 * A connection's life: accept, read and decode, close.  Reads land in the
 * worker's scratch buffer and are decoded in place; the framer keeps only an
 * unfinished frame.  Output and backpressure live in conn_write.c.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static uint64_t weft__conn_next_id;

static void weft__conn_closed_cb(uv_handle_t *h) {
  weft_conn_t *c = h->data;
  weft__wlistener_t *wl = c->wl;
  weft__worker_t *w = c->w;

  weft__list_remove(&c->node);
  if (wl->cvt->conn_free != NULL && c->fr.ctx.conn_state != NULL)
    wl->cvt->conn_free(wl->cstate, c->fr.ctx.conn_state);
  weft__framer_free(&c->fr);
  weft__buf_free(&c->wq);
  weft__buf_free(&c->wing);
  free(c);
  w->nconns--;
  weft__worker_conn_gone(w);
}

static void weft__conn_hard_close(weft_conn_t *c) {
  weft__worker_t *w = c->w;

  if (c->flags & WEFT__C_CLOSED)
    return;
  c->flags |= WEFT__C_CLOSED;
  c->flags &= ~(unsigned)(WEFT__C_READING | WEFT__C_DIRTY | WEFT__C_LINGER);
  weft__list_remove(&c->dirty);
  weft__list_remove(&c->linger);
  if (w->stage_owner == c) {
    w->stage_owner = NULL;
    w->stage.len = 0;
  }
  uv_close(&c->h.handle, weft__conn_closed_cb);
}

void weft__conn_close(weft_conn_t *c, int reason, const char *detail,
                      int abort) {
  const weft_handler_vtable_t *hvt = c->wl->hvt;

  if (c->flags & WEFT__C_CLOSED)
    return;
  if (!(c->flags & WEFT__C_CLOSING)) {
    c->flags |= WEFT__C_CLOSING;
    c->close_reason = reason;
    if (c->flags & WEFT__C_READING) {
      uv_read_stop(&c->h.stream);
      c->flags &= ~(unsigned)WEFT__C_READING;
    }
    if (weft__framer_pending(&c->fr) > 0 && reason != 0 &&
        c->fr.error == 0)
      weft_log(WEFT_LOG_INFO,
               "listener \"%s\" conn #%llu from %s: closing with %zu bytes of "
               "an unfinished frame (%s)",
               c->wl->l->conf->name, (unsigned long long)c->id, c->peer,
               weft__framer_pending(&c->fr), detail ? detail : "closed");
    /* on_close exactly once, and nothing after it. */
    if (c->flags & WEFT__C_OPEN) {
      c->flags &= ~(unsigned)WEFT__C_OPEN;
      if (hvt->on_close != NULL)
        hvt->on_close(c, reason, detail);
    }
  }
  if (abort) {
    weft__conn_hard_close(c);
    return;
  }
  /* Replies to frames already received still go out, then our FIN. */
  weft__conn_flush(c);
}

/* After our FIN: read and drop until the peer's FIN, so a close with unread
 * input does not turn into an RST that wipes the last replies. */
static void weft__conn_linger_read(uv_stream_t *s, ssize_t nread,
                                   const uv_buf_t *buf) {
  weft_conn_t *c = s->data;

  (void)buf;
  if (nread < 0)
    weft__conn_hard_close(c);
}

static void weft__conn_scratch_alloc(uv_handle_t *h, size_t suggested,
                                     uv_buf_t *buf) {
  weft_conn_t *c = h->data;

  (void)suggested;
  buf->base = (char *)c->w->scratch;
  buf->len = WEFT__SCRATCH_SIZE;
}

static void weft__conn_shutdown_cb(uv_shutdown_t *req, int status) {
  weft_conn_t *c = req->data;

  if (c->flags & WEFT__C_CLOSED)
    return;
  if (status < 0 || (c->flags & WEFT__C_EOF) ||
      uv_read_start(&c->h.stream, weft__conn_scratch_alloc,
                    weft__conn_linger_read) != 0) {
    weft__conn_hard_close(c);
    return;
  }
  c->flags |= WEFT__C_LINGER;
  weft__worker_linger(c->w, c);
}

void weft__conn_shutdown(weft_conn_t *c) {
  if (c->flags & (WEFT__C_SHUT | WEFT__C_CLOSED))
    return;
  c->flags |= WEFT__C_SHUT;
  c->sreq.data = c;
  if (uv_shutdown(&c->sreq, &c->h.stream, weft__conn_shutdown_cb) != 0)
    weft__conn_hard_close(c);
}

static void weft__conn_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  weft_conn_t *c = h->data;
  uint8_t *base = NULL;
  size_t n;

  (void)suggested;
  n = weft__framer_read_buf(&c->fr, c->w->scratch, WEFT__SCRATCH_SIZE, &base);
  buf->base = (char *)base;
  buf->len = n; /* 0 makes libuv report UV_ENOBUFS */
}

static int weft__conn_on_frame(void *arg, const uint8_t *frame, size_t len) {
  weft_conn_t *c = arg;
  int r;

  /* The codec may have closed the connection while decoding this frame. */
  if (c->flags & WEFT__C_CLOSING)
    return 1;
  r = c->wl->hvt->on_frame(c, frame, len);
  if (r != 0) {
    weft__conn_close(c, r < 0 ? r : WEFT_EHANDLER, "the handler refused a frame",
                     0);
    return 1;
  }
  if (c->flags & WEFT__C_CLOSING)
    return 1;
  /* Backpressure: stop decoding and reading until the peer drains us. */
  if (weft__conn_queued(c) > c->wl->l->conf->high_watermark) {
    c->flags |= WEFT__C_PAUSED | WEFT__C_HIGH;
    if (c->flags & WEFT__C_READING) {
      uv_read_stop(&c->h.stream);
      c->flags &= ~(unsigned)WEFT__C_READING;
    }
    return 1;
  }
  return 0;
}

/* A codec error: only this connection pays, with the reason logged. */
static void weft__conn_decode_failed(weft_conn_t *c, int rc) {
  weft_log(WEFT_LOG_WARN,
           "listener \"%s\" conn #%llu from %s: %s at byte %llu: %s",
           c->wl->l->conf->name, (unsigned long long)c->id, c->peer,
           weft_strerror(rc), (unsigned long long)c->fr.error_offset,
           c->fr.reason);
  weft__conn_close(c, rc, c->fr.reason, 0);
}

/* The peer half-closed: what is left is either a last frame or truncated. */
static void weft__conn_finish_input(weft_conn_t *c) {
  int rc = weft__framer_eof(&c->fr, weft__conn_on_frame, c);

  if (rc < 0)
    weft__conn_decode_failed(c, rc);
  else if (rc == 0 && !(c->flags & WEFT__C_CLOSING))
    weft__conn_close(c, 0, "closed by peer", 0);
}

void weft__conn_resume(weft_conn_t *c) {
  int rc;

  if (c->flags & (WEFT__C_CLOSING | WEFT__C_CLOSED))
    return;
  c->flags &= ~(unsigned)WEFT__C_PAUSED;
  rc = weft__framer_resume(&c->fr, weft__conn_on_frame, c);
  if (rc < 0) {
    weft__conn_decode_failed(c, rc);
    return;
  }
  if (rc == 1 || (c->flags & (WEFT__C_CLOSING | WEFT__C_PAUSED)))
    return;
  if (c->flags & WEFT__C_EOF) {
    weft__conn_finish_input(c);
  } else if (c->w->stop_seen) {
    weft__conn_close(c, WEFT_ESHUTDOWN, "server shutting down", 0);
  } else if (!(c->flags & WEFT__C_READING)) {
    if (uv_read_start(&c->h.stream, weft__conn_alloc, weft__conn_read) != 0)
      weft__conn_close(c, WEFT_EIO, "cannot resume reading", 1);
    else
      c->flags |= WEFT__C_READING;
  }
}

void weft__conn_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  weft_conn_t *c = s->data;
  int rc;

  if (nread > 0) {
    rc = weft__framer_feed(&c->fr, (const uint8_t *)buf->base, (size_t)nread,
                           weft__conn_on_frame, c);
    if (rc < 0)
      weft__conn_decode_failed(c, rc);
    return;
  }
  if (nread == 0)
    return;
  c->flags &= ~(unsigned)WEFT__C_READING;
  uv_read_stop(s);
  if (nread == UV_EOF) {
    c->flags |= WEFT__C_EOF;
    weft__conn_finish_input(c);
  } else if (nread == UV_ENOBUFS) {
    weft_log(WEFT_LOG_WARN,
             "listener \"%s\" conn #%llu from %s: out of memory for input",
             c->wl->l->conf->name, (unsigned long long)c->id, c->peer);
    weft__conn_close(c, WEFT_ENOMEM, "out of memory for input", 1);
  } else {
    weft__conn_close(c, nread == UV_ECONNRESET ? WEFT_ECONNRESET : WEFT_EIO,
                     uv_strerror((int)nread), 1);
  }
}

static void weft__conn_free_unaccepted(uv_handle_t *h) { free(h); }

static void weft__conn_spare_closed(uv_handle_t *h) {
  weft__worker_t *w = h->data;
  w->spare_busy = 0;
}

/*
 * No memory for a connection: accept it into the worker's spare handle and
 * close it at once.  Leaving it unaccepted would stop libuv from accepting
 * on this listener at all.
 */
static void weft__conn_refuse(weft__wlistener_t *wl) {
  weft__worker_t *w = wl->w;
  int r;

  weft_log(WEFT_LOG_ERROR,
           "listener \"%s\": out of memory: refusing a connection",
           wl->l->conf->name);
  if (w->spare_busy)
    return;
  if (wl->l->conf->addr.family == AF_UNIX)
    r = uv_pipe_init(&w->loop, &w->spare.pipe, 0);
  else
    r = uv_tcp_init(&w->loop, &w->spare.tcp);
  if (r != 0)
    return;
  w->spare_busy = 1;
  w->spare.handle.data = w;
  uv_accept(&wl->server.stream, &w->spare.stream);
  uv_close(&w->spare.handle, weft__conn_spare_closed);
}

void weft__conn_accept(weft__wlistener_t *wl) {
  weft__worker_t *w = wl->w;
  struct sockaddr_storage ss;
  int len = sizeof(ss), r;
  void *cs = NULL;
  weft_conn_t *c;

  c = calloc(1, sizeof(*c));
  if (c == NULL) {
    weft__conn_refuse(wl);
    return;
  }
  if (wl->l->conf->addr.family == AF_UNIX)
    r = uv_pipe_init(&w->loop, &c->h.pipe, 0);
  else
    r = uv_tcp_init(&w->loop, &c->h.tcp);
  if (r != 0) {
    free(c);
    weft__conn_refuse(wl);
    return;
  }
  if (uv_accept(&wl->server.stream, &c->h.stream) != 0) {
    uv_close(&c->h.handle, weft__conn_free_unaccepted);
    return;
  }
  c->h.handle.data = c;
  c->w = w;
  c->wl = wl;
  c->id = __atomic_add_fetch(&weft__conn_next_id, 1, __ATOMIC_RELAXED);
  weft__list_init(&c->dirty);
  weft__list_init(&c->linger);
  weft__list_push(&w->conns, &c->node);
  w->nconns++;
  strcpy(c->peer, "unix");
  if (wl->l->conf->addr.family != AF_UNIX) {
    uv_tcp_nodelay(&c->h.tcp, 1);
    if (uv_tcp_getpeername(&c->h.tcp, (struct sockaddr *)&ss, &len) == 0)
      weft__addr_format((struct sockaddr *)&ss, c->peer, sizeof(c->peer));
  }
  weft__framer_init(&c->fr, wl->cvt, wl->cstate, NULL, c);
  if (wl->cvt->conn_init != NULL &&
      (r = wl->cvt->conn_init(wl->cstate, &cs)) != 0) {
    weft_log(WEFT_LOG_WARN, "listener \"%s\" conn from %s: codec refused it: %s",
             wl->l->conf->name, c->peer, weft_strerror(r));
    weft__conn_hard_close(c);
    return;
  }
  c->fr.ctx.conn_state = cs;
  c->flags |= WEFT__C_OPEN;
  if (wl->hvt->on_open != NULL && (r = wl->hvt->on_open(c)) != 0) {
    weft__conn_close(c, r < 0 ? r : WEFT_EHANDLER, "refused by the handler", 0);
    return;
  }
  if (c->flags & WEFT__C_CLOSING)
    return;
  if (uv_read_start(&c->h.stream, weft__conn_alloc, weft__conn_read) != 0) {
    weft__conn_close(c, WEFT_EIO, "cannot start reading", 1);
    return;
  }
  c->flags |= WEFT__C_READING;
}

/* The public accessors. */

void weft_conn_set_data(weft_conn_t *c, void *data) { c->data = data; }
void *weft_conn_data(const weft_conn_t *c) { return c->data; }
void *weft_conn_handler_state(const weft_conn_t *c) { return c->wl->hstate; }
const char *weft_conn_peer(const weft_conn_t *c) { return c->peer; }
const char *weft_conn_listener(const weft_conn_t *c) {
  return c->wl->l->conf->name;
}
uint64_t weft_conn_id(const weft_conn_t *c) { return c->id; }

void weft_conn_close(weft_conn_t *c, int reason) {
  weft__conn_close(c, reason, reason ? weft_strerror(reason) : "closed by the handler", 0);
}

void *weft_codec_state(const weft_codec_ctx_t *ctx) { return ctx->state; }
void *weft_codec_conn_state(const weft_codec_ctx_t *ctx) {
  return ctx->conn_state;
}
weft_conn_t *weft_codec_conn(const weft_codec_ctx_t *ctx) { return ctx->conn; }
