/*
 * A connection's life: adoption of an accepted socket, reading and
 * decoding, closing.  Reads land in the worker's scratch buffer and are
 * decoded in place; the framer keeps only an unfinished frame.  Output and
 * backpressure live in conn_write.c, deadlines in timer.c.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "internal.h"

static uint64_t weft__conn_next_id;

static void weft__conn_stop_reading(weft_conn_t *c);

uint64_t weft__conn_new_id(void) {
  return __atomic_add_fetch(&weft__conn_next_id, 1, __ATOMIC_RELAXED);
}

void weft__conn_release(weft_conn_t *c) {
  weft__wlistener_t *wl = c->wl;
  weft__worker_t *w = wl->w;

  weft__list_remove(&c->node);
  weft__mailbox_forget(c);
  if (wl->cvt->conn_free != NULL && c->fr.ctx.conn_state != NULL)
    wl->cvt->conn_free(wl->cstate, c->fr.ctx.conn_state);
  weft__framer_free(&c->fr);
  weft__conn_ws_free(c);
  {
    struct sockaddr_storage ss;
    weft__listener_ip_release(wl->l, weft__peer_unpack(&c->peer_addr, &ss));
  }
  __atomic_sub_fetch(&wl->l->nconns, 1, __ATOMIC_RELAXED);
  WEFT__STAT_SUB(&wl->stats, conns_open, 1);
  w->nconns--;
  wl->nconns--;
  weft__wl_maybe_finish(wl);
  if (c->flags & WEFT__C_OUTBOUND)
    weft__client_conn_gone(c);
  free(c);
  weft__worker_conn_gone(w);
}

static void weft__conn_closed_cb(uv_handle_t *h) {
  weft__conn_release(h->data);
}

static void weft__conn_hard_close(weft_conn_t *c) {
  weft__worker_t *w = c->wl->w;

  if (c->flags & WEFT__C_CLOSED)
    return;
  if (c->flags & WEFT__C_CONNECTING)
    weft__connect_abort(c);
  c->flags |= WEFT__C_CLOSED;
  c->flags &= ~(unsigned)(WEFT__C_READING | WEFT__C_DIRTY | WEFT__C_LINGER);
  weft__timer_cancel(c);
  if (w->stage_owner == c) {
    w->stage_owner = NULL;
    w->stage.len = 0;
  }
  if (c->flags & WEFT__C_MEMORY)
    return; /* no handle: weft_embed_free() releases it */
  uv_close(&c->h.handle, weft__conn_closed_cb);
}

void weft__conn_close(weft_conn_t *c, int reason, const char *detail,
                      int abort) {
  const weft_handler_vtable_t *hvt = c->wl->hvt;
  uint64_t cap;

  if (c->flags & WEFT__C_CLOSED)
    return;
  if (!(c->flags & WEFT__C_CLOSING)) {
    c->flags |= WEFT__C_CLOSING;
    c->close_reason = (int16_t)(reason >= INT16_MIN && reason <= 0
                                    ? reason
                                    : WEFT_EHANDLER);
    weft__mailbox_forget(c); /* no message after on_close */
    weft__conn_stop_reading(c);
    if (weft__framer_pending(&c->fr) > 0 && reason != 0 && c->fr.error == 0)
      weft_log(WEFT_LOG_INFO,
               "listener \"%s\" conn #%llu from %s: closing with %zu bytes of "
               "input not delivered (%s)",
               c->wl->l->conf->name, (unsigned long long)c->id, weft_conn_peer(c),
               weft__framer_pending(&c->fr), detail ? detail : "closed");
    /* on_close exactly once, and nothing after it. */
    if (c->flags & WEFT__C_OPEN) {
      c->flags &= ~(unsigned)WEFT__C_OPEN;
      if (hvt->on_close != NULL)
        hvt->on_close(c, reason, detail);
    }
    /* Flushing the last replies may take a while, but not forever. */
    cap = c->wl->l->conf->write_timeout_ms;
    if (cap < WEFT__LINGER_MS)
      cap = WEFT__LINGER_MS;
    c->until.close_deadline = weft__tick_now(c->wl->w) + weft__ms_ticks(cap);
    c->frame_start = 0;
    weft__timer_schedule(c);
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
  buf->base = (char *)c->wl->w->scratch;
  buf->len = WEFT__SCRATCH_SIZE;
}

static void weft__conn_shutdown_cb(uv_shutdown_t *req, int status) {
  weft_conn_t *c = req->data;
  uint64_t ms = WEFT__LINGER_MS;

  if (c->flags & WEFT__C_CLOSED)
    return;
  if (status < 0 || (c->flags & WEFT__C_EOF) ||
      uv_read_start(&c->h.stream, weft__conn_scratch_alloc,
                    weft__conn_linger_read) != 0) {
    weft__conn_hard_close(c);
    return;
  }
  c->flags |= WEFT__C_LINGER;
  if (c->wl->w->stop_seen && c->wl->w->e->grace_ms < ms)
    ms = c->wl->w->e->grace_ms;
  c->until.close_deadline = weft__tick_now(c->wl->w) + weft__ms_ticks(ms);
  weft__timer_schedule(c);
}

void weft__conn_shutdown(weft_conn_t *c) {
  uv_shutdown_t *req;

  if (c->flags & (WEFT__C_SHUT | WEFT__C_CLOSED))
    return;
  if (c->flags & WEFT__C_CONNECTING) {
    weft__conn_hard_close(c); /* nothing was sent: no FIN to send */
    return;
  }
  if (c->flags & WEFT__C_MEMORY) {
    /* In memory there is no RST to spare the last replies: done. */
    c->flags |= WEFT__C_SHUT;
    weft__conn_hard_close(c);
    return;
  }
  req = weft__conn_shutdown_req(c);
  if (req == NULL) {
    weft__conn_hard_close(c);
    return;
  }
  c->flags |= WEFT__C_SHUT;
  req->data = c;
  if (uv_shutdown(req, &c->h.stream, weft__conn_shutdown_cb) != 0)
    weft__conn_hard_close(c);
}

static void weft__conn_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  weft_conn_t *c = h->data;
  uint8_t *base = NULL;
  size_t n;

  (void)suggested;
  /* The usual case, no partial frame kept, without a call. */
  if (c->fr.tail.len == 0) {
    c->fr.staged = 0;
    buf->base = (char *)c->wl->w->scratch;
    buf->len = WEFT__SCRATCH_SIZE;
    return;
  }
  n = weft__framer_read_buf(&c->fr, c->wl->w->scratch, WEFT__SCRATCH_SIZE, &base);
  buf->base = (char *)base;
  buf->len = n; /* 0 makes libuv report UV_ENOBUFS */
}

static void weft__conn_stop_reading(weft_conn_t *c) {
  if (c->flags & WEFT__C_READING) {
    if (!(c->flags & WEFT__C_MEMORY))
      uv_read_stop(&c->h.stream);
    c->flags &= ~(unsigned)WEFT__C_READING;
  }
}

/*
 * What a connection's framer hands frames to (weft__sink_t, on the stack
 * of the call that decodes): the connection, and in k.room the input
 * bytes its next batch may cover.
 */
typedef struct weft__conn_sink {
  weft__sink_t k;
  weft_conn_t *c;
} weft__conn_sink_t;

/*
 * After frames were handled: stop decoding if the connection is closing or
 * its output passed the high watermark (backpressure: stop reading until
 * the peer drains us), else give the next batch the room left under it.
 */
static int weft__conn_frames_done(weft__conn_sink_t *s) {
  weft_conn_t *c = s->c;
  size_t q, high;

  /* Closing, or held by the handler (weft_conn_read_stop). */
  if (c->flags & (WEFT__C_CLOSING | WEFT__C_HELD))
    return 1;
  q = weft__conn_queued(c);
  high = c->wl->l->conf->high_watermark;
  if (q > high) {
    c->flags |= WEFT__C_PAUSED | WEFT__C_HIGH;
    WEFT__STAT_ADD(&c->wl->stats, backpressure_pauses, 1);
    weft__conn_stop_reading(c);
    return 1;
  }
  s->k.room = high - q;
  return 0;
}

/* A frame the codec skipped (on_overflow = "discard"): reported, and the
 * connection goes on; what on_error sent counts against the watermark. */
static int weft__conn_on_skip(weft__conn_sink_t *s, int err) {
  weft_conn_t *c = s->c;

  WEFT__STAT_ADD(&c->wl->stats, frames_discarded, 1);
  weft_log(WEFT_LOG_WARN,
           "listener \"%s\" conn #%llu from %s: %s at byte %llu: %s "
           "(skipped)",
           c->wl->l->conf->name, (unsigned long long)c->id, weft_conn_peer(c),
           weft_strerror(err), (unsigned long long)c->fr.offset, c->fr.reason);
  if (c->wl->hvt->on_error != NULL)
    c->wl->hvt->on_error(c, err, c->fr.reason);
  return weft__conn_frames_done(s);
}

/* One frame to on_frame(); 1 once the connection takes no more now. */
static int weft__conn_deliver(weft__conn_sink_t *s, const uint8_t *frame,
                              size_t len) {
  weft_conn_t *c = s->c;
  int r;

  WEFT__STAT_ADD(&c->wl->stats, frames_in, 1);
  r = c->wl->hvt->on_frame(c, frame, len);
  if (r != 0) {
    weft__conn_close(c, r < 0 ? r : WEFT_EHANDLER,
                     "the handler refused a frame", 0);
    return 1;
  }
  return weft__conn_frames_done(s);
}

static int weft__conn_on_frame(void *arg, const uint8_t *frame, size_t len) {
  weft__conn_sink_t *s = arg;

  /* The codec may have closed the connection while decoding this frame. */
  if (s->c->flags & WEFT__C_CLOSING)
    return 1;
  if (frame == NULL)
    return weft__conn_on_skip(s, -(int)len);
  return weft__conn_deliver(s, frame, len);
}

/*
 * Frames a codec's decode_many() found together, handed to an on_frame()
 * handler one by one, are past the framer: if the handler stops taking
 * them part-way (weft_conn_read_stop(), or its output passed the high
 * watermark), the rest are copied here and delivered first when it
 * resumes.  Rare, so allocated then, and kept in the write state.
 */
struct weft__held {
  size_t n, next;
  weft_frame_t f[]; /* n of them, then their bytes */
};

static int weft__conn_hold(weft_conn_t *c, const weft_frame_t *frames,
                           size_t n) {
  weft__wstate_t *ws;
  weft__held_t *h;
  uint8_t *p;
  size_t i, bytes = sizeof(*h) + n * sizeof(h->f[0]);

  if (n == 0 || (c->flags & WEFT__C_CLOSING))
    return 1; /* closing drops unread input, as it drops the rest */
  for (i = 0; i < n; i++)
    bytes += frames[i].len;
  /* Nothing is held here: held frames go first when reading resumes, and
   * a batch is decoded only after them. */
  ws = weft__conn_ws(c);
  h = ws != NULL ? malloc(bytes) : NULL;
  if (h == NULL) {
    weft__conn_close(c, WEFT_ENOMEM, "out of memory for frames held back", 1);
    return 1;
  }
  h->n = n;
  h->next = 0;
  p = (uint8_t *)&h->f[n];
  for (i = 0; i < n; i++) {
    if (frames[i].len > 0)
      memcpy(p, frames[i].data, frames[i].len);
    h->f[i].data = p;
    h->f[i].len = frames[i].len;
    p += frames[i].len;
  }
  ws->held = h;
  return 1;
}

/* Delivers the frames held back; 1 if the handler stopped again. */
static int weft__conn_deliver_held(weft__conn_sink_t *s) {
  weft_conn_t *c = s->c;
  weft__held_t *h = c->ws != NULL ? c->ws->held : NULL;
  const weft_frame_t *f;
  int stopped = 0;

  if (h == NULL)
    return 0;
  while (!stopped && h->next < h->n) {
    f = &h->f[h->next++];
    stopped = weft__conn_deliver(s, f->data, f->len);
  }
  /* The write state outlives the handler's calls: it goes with the
   * connection, or at the next flush once nothing is held. */
  if (h->next == h->n || (c->flags & WEFT__C_CLOSING)) {
    c->ws->held = NULL;
    free(h);
    weft__conn_mark_dirty(c);
  }
  return stopped;
}

/* A batch from the codec's decode_many, to a handler without on_frames. */
static int weft__conn_on_frames_each(void *arg, const weft_frame_t *frames,
                                     size_t n) {
  weft__conn_sink_t *s = arg;
  size_t i;

  if (s->c->flags & WEFT__C_CLOSING)
    return 1;
  for (i = 0; i < n; i++)
    if (weft__conn_deliver(s, frames[i].data, frames[i].len) != 0)
      return weft__conn_hold(s->c, frames + i + 1, n - i - 1);
  return 0;
}

/* A batch from the codec's decode_many, to the handler's on_frames. */
static int weft__conn_on_frames(void *arg, const weft_frame_t *frames,
                                size_t n) {
  weft__conn_sink_t *s = arg;
  weft_conn_t *c = s->c;
  weft__worker_t *w;
  int r;

  if (c->flags & WEFT__C_CLOSING)
    return 1;
  WEFT__STAT_ADD(&c->wl->stats, frames_in, n);
  /* Cleared after, not restored: should on_frames resume another
   * connection, which hands over a batch of its own, what this handler
   * sends afterwards is simply not marked (encoded as any reply is). */
  w = c->wl->w;
  w->dec_conn = c;
  w->dec_frames = frames;
  w->dec_n = n;
  r = c->wl->hvt->on_frames(c, frames, n);
  w->dec_conn = NULL;
  if (r != 0) {
    weft__conn_close(c, r < 0 ? r : WEFT_EHANDLER,
                     "the handler refused a frame", 0);
    return 1;
  }
  return weft__conn_frames_done(s);
}

/* Before decoding: batches (the codec's decode_many, when it has one),
 * bounded by the room under the high watermark. */
static inline void weft__conn_sink(weft__conn_sink_t *s, weft_conn_t *c) {
  size_t q = weft__conn_queued(c), high = c->wl->l->conf->high_watermark;

  s->k.one = weft__conn_on_frame;
  s->k.many = c->wl->hvt->on_frames != NULL ? weft__conn_on_frames
                                            : weft__conn_on_frames_each;
  s->k.arg = s;
  s->k.room = q < high ? high - q : 0;
  s->c = c;
}

/* A codec error: only this connection pays, with the reason logged. */
static void weft__conn_decode_failed(weft_conn_t *c, int rc) {
  WEFT__STAT_ADD(&c->wl->stats, decode_errors, 1);
  weft_log(WEFT_LOG_WARN,
           "listener \"%s\" conn #%llu from %s: %s at byte %llu: %s",
           c->wl->l->conf->name, (unsigned long long)c->id, weft_conn_peer(c),
           weft_strerror(rc), (unsigned long long)c->fr.offset, c->fr.reason);
  weft__conn_close(c, rc, c->fr.reason, 0);
}

/* The peer half-closed: what is left is either a last frame or truncated. */
static void weft__conn_finish_input(weft_conn_t *c) {
  weft__conn_sink_t s;
  int rc;

  weft__conn_sink(&s, c);
  rc = weft__framer_eof_to(&c->fr, &s.k);

  if (rc < 0) {
    weft__conn_decode_failed(c, rc);
  } else if (rc == 0 && !(c->flags & (WEFT__C_CLOSING | WEFT__C_EOF_KEPT))) {
    /* A handler with replies still to come keeps it open for writing. */
    if ((c->flags & WEFT__C_OPEN) && c->wl->hvt->on_eof != NULL &&
        c->wl->hvt->on_eof(c) > 0) {
      c->flags |= WEFT__C_EOF_KEPT;
      return;
    }
    if (!(c->flags & WEFT__C_CLOSING))
      weft__conn_close(c, 0, "closed by peer", 0);
  }
}

/* Frame deadline: armed at a frame's first byte, never by later bytes. */
static inline void weft__conn_track_frame(weft_conn_t *c,
                                          uint32_t frames_before) {
  /* Held back by backpressure, the input waits on us, not on the peer. */
  if (weft__framer_pending(&c->fr) == 0 || (c->flags & WEFT__C_PAUSED)) {
    c->frame_start = 0;
  } else if (c->frame_start == 0 || c->fr.frames != frames_before) {
    c->frame_start = weft__tick_now(c->wl->w);
    weft__timer_schedule(c);
  }
}

void weft__conn_resume(weft_conn_t *c) {
  uint32_t frames = c->fr.frames;
  weft__conn_sink_t s;
  int rc;

  if (c->flags & (WEFT__C_CLOSING | WEFT__C_CLOSED | WEFT__C_HELD))
    return;
  c->flags &= ~(unsigned)WEFT__C_PAUSED;
  weft__conn_sink(&s, c);
  if (weft__conn_deliver_held(&s) != 0)
    return;
  rc = weft__framer_resume_to(&c->fr, &s.k);
  if (rc < 0) {
    weft__conn_decode_failed(c, rc);
    return;
  }
  weft__conn_track_frame(c, frames);
  if (rc == 1 || (c->flags & (WEFT__C_CLOSING | WEFT__C_PAUSED)))
    return;
  if (c->flags & WEFT__C_EOF) {
    weft__conn_finish_input(c);
  } else if (c->wl->w->stop_seen && c->until.drain_left <= 0 &&
             !(c->flags & WEFT__C_OUTBOUND)) {
    weft__conn_close(c, WEFT_ESHUTDOWN, "server shutting down", 0);
  } else if (!(c->flags & (WEFT__C_READING | WEFT__C_CONNECTING))) {
    if (weft__conn_read_start(c) != 0)
      weft__conn_close(c, WEFT_EIO, "cannot resume reading", 1);
  }
}

void weft__conn_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf) {
  weft_conn_t *c = stream->data;
  weft__conn_sink_t s;
  uint32_t frames;
  int rc;

  if (nread > 0) {
    weft__worker_t *w = c->wl->w;
    c->last_io = weft__tick_now(w);
    WEFT__STAT_ADD(&c->wl->stats, bytes_in, nread);
    frames = c->fr.frames;
    /* Frames decoded from the scratch buffer may be referenced by the
     * replies (no copy) until this callback ends. */
    w->zc_conn = c;
    w->zc_lo = w->scratch;
    w->zc_hi = w->scratch + WEFT__SCRATCH_SIZE;
    weft__conn_sink(&s, c);
    rc = weft__framer_feed_to(&c->fr, (const uint8_t *)buf->base, (size_t)nread,
                              &s.k);
    /* No new references from here; those made stay valid until the flush
     * below, as nothing reads into the scratch before it.  Output queued
     * from now on (a resumed connection, a codec's last words) lists the
     * connection to flush like any other. */
    w->zc_conn = NULL;
    if (rc < 0) {
      weft__conn_decode_failed(c, rc);
      return;
    }
    /* The replies to this read go out now, in one write, and the worker's
     * stage buffer is free again for the next connection's batch. */
    if (c->flags & WEFT__C_DIRTY)
      weft__conn_flush(c);
    weft__conn_track_frame(c, frames);
    /* Stopping: what arrived before the signal is answered, then we close. */
    if (c->wl->w->stop_seen &&
        !(c->flags & (WEFT__C_OUTBOUND | WEFT__C_CLOSING)) &&
        (c->until.drain_left -= nread) <= 0 && !(c->flags & WEFT__C_PAUSED)) {
      weft__conn_stop_reading(c);
      weft__conn_close(c, WEFT_ESHUTDOWN, "server shutting down", 0);
    }
    return;
  }
  if (nread == 0)
    return;
  weft__conn_stop_reading(c);
  if (nread == UV_EOF) {
    c->flags |= WEFT__C_EOF;
    weft__conn_finish_input(c);
  } else if (nread == UV_ENOBUFS) {
    weft_log(WEFT_LOG_WARN,
             "listener \"%s\" conn #%llu from %s: out of memory for input",
             c->wl->l->conf->name, (unsigned long long)c->id, weft_conn_peer(c));
    weft__conn_close(c, WEFT_ENOMEM, "out of memory for input", 1);
  } else {
    weft__conn_close(c, nread == UV_ECONNRESET ? WEFT_ECONNRESET : WEFT_EIO,
                     uv_strerror((int)nread), 1);
  }
}

void weft__conn_begin_stop(weft_conn_t *c) {
  uv_os_fd_t fd;
  int avail = 0;

  if (c->flags & (WEFT__C_CLOSING | WEFT__C_CLOSED))
    return;
  if (c->flags & WEFT__C_OUTBOUND) {
    /* It serves other connections: a handler with on_shutdown closes it
     * when their work is done (the grace still bounds it). */
    if (c->wl->hvt->on_shutdown != NULL)
      c->wl->hvt->on_shutdown(c);
    else
      weft__conn_close(c, WEFT_ESHUTDOWN, "server shutting down", 0);
    return;
  }
  if ((c->flags & WEFT__C_OPEN) && c->wl->hvt->on_shutdown != NULL)
    c->wl->hvt->on_shutdown(c);
  if (c->flags & WEFT__C_CLOSING)
    return;
  /*
   * Bytes already in the socket's receive queue arrived before the signal:
   * read exactly those, answer their frames, then close.  A connection held
   * back by backpressure closes once it has drained (conn_resume).
   */
  if (c->flags & WEFT__C_MEMORY)
    avail = (int)weft__embed_unread(c);
  else if (uv_fileno(&c->h.handle, &fd) != 0 ||
           ioctl(fd, FIONREAD, &avail) != 0)
    avail = 0;
  c->until.drain_left = avail;
  if (avail > 0 || (c->flags & WEFT__C_PAUSED))
    return;
  weft__conn_close(c, WEFT_ESHUTDOWN, "server shutting down", 0);
}

/* Refuses an accepted socket at once, counted, with a rate-limited line. */
static void weft__conn_refuse(weft__wlistener_t *wl, int fd, const char *why) {
  uint64_t now = uv_now(&wl->w->loop);

  close(fd);
  if (wl->last_refusal_log == 0 || now - wl->last_refusal_log >= 1000) {
    wl->last_refusal_log = now;
    weft_log(WEFT_LOG_WARN, "listener \"%s\": refusing connections: %s",
             wl->l->conf->name, why);
  }
}

void weft__conn_adopt(weft__wlistener_t *wl, int fd,
                      const struct sockaddr_storage *ss) {
  const weft__listener_conf_t *lc = wl->l->conf;
  weft__worker_t *w = wl->w;
  void *cs = NULL;
  weft_conn_t *c;
  uint64_t n;
  int r;

  /* Limits first: a refused connection costs no allocation. */
  n = __atomic_add_fetch(&wl->l->nconns, 1, __ATOMIC_RELAXED);
  if (lc->max_connections > 0 && n > (uint64_t)lc->max_connections) {
    __atomic_sub_fetch(&wl->l->nconns, 1, __ATOMIC_RELAXED);
    WEFT__STAT_ADD(&wl->stats, refused_max_connections, 1);
    weft__conn_refuse(wl, fd, "max_connections reached");
    return;
  }
  r = weft__listener_ip_acquire(wl->l, (const struct sockaddr *)ss);
  if (r != 0) {
    __atomic_sub_fetch(&wl->l->nconns, 1, __ATOMIC_RELAXED);
    if (r == WEFT_ENOMEM) {
      WEFT__STAT_ADD(&wl->stats, refused_nomem, 1);
      weft__conn_refuse(wl, fd, "out of memory");
    } else {
      WEFT__STAT_ADD(&wl->stats, refused_per_ip, 1);
      weft__conn_refuse(wl, fd, "max_connections_per_ip reached");
    }
    return;
  }
  c = weft__conn_new(&w->loop, lc->addr.family);
  if (c == NULL) {
    weft__listener_ip_release(wl->l, (const struct sockaddr *)ss);
    __atomic_sub_fetch(&wl->l->nconns, 1, __ATOMIC_RELAXED);
    WEFT__STAT_ADD(&wl->stats, refused_nomem, 1);
    weft__conn_refuse(wl, fd, "out of memory");
    return;
  }
  weft__peer_pack(&c->peer_addr, (const struct sockaddr *)ss);
  weft__conn_register(c, wl, NULL);
  r = weft__conn_open_fd(c, lc->addr.family, fd);
  if (r != 0) {
    close(fd); /* the handle did not take it */
    weft__conn_hard_close(c);
    return;
  }
  if (wl->cvt->conn_init != NULL &&
      (r = wl->cvt->conn_init(wl->cstate, &cs)) != 0) {
    weft_log(WEFT_LOG_WARN, "listener \"%s\" conn from %s: codec refused it: %s",
             lc->name, weft_conn_peer(c), weft_strerror(r));
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
  if (weft__conn_read_start(c) != 0) {
    weft__conn_close(c, WEFT_EIO, "cannot start reading", 1);
    return;
  }
  weft__timer_schedule(c);
}

weft_conn_t *weft__conn_new(uv_loop_t *loop, int family) {
  /* Allocated to the size of its handle: idle connections stay small. */
  weft_conn_t *c = calloc(1, offsetof(weft_conn_t, h) +
                                 (family == AF_UNIX ? sizeof(uv_pipe_t)
                                                    : sizeof(uv_tcp_t)));

  if (c != NULL && (family == AF_UNIX ? uv_pipe_init(loop, &c->h.pipe, 0)
                                      : uv_tcp_init(loop, &c->h.tcp)) != 0) {
    free(c);
    c = NULL;
  }
  return c;
}

void weft__conn_register(weft_conn_t *c, weft__wlistener_t *wl,
                         void *codec_conn_state) {
  weft__worker_t *w = wl->w;

  c->h.handle.data = c;
  c->wl = wl;
  c->id = weft__conn_new_id();
  c->last_io = weft__tick_now(w);
  weft__list_init(&c->tnode);
  weft__list_push(&w->conns, &c->node);
  w->nconns++;
  wl->nconns++;
  WEFT__STAT_ADD(&wl->stats, conns_open, 1);
  WEFT__STAT_ADD(&wl->stats, conns_total, 1);
  weft__framer_init(&c->fr, wl->cvt, wl->cstate, codec_conn_state, c);
}

int weft__conn_open_fd(weft_conn_t *c, int family, int fd) {
  int r;

  if (family == AF_UNIX)
    return uv_pipe_open(&c->h.pipe, fd);
  r = uv_tcp_open(&c->h.tcp, fd);
  if (r == 0)
    uv_tcp_nodelay(&c->h.tcp, 1);
  return r;
}

int weft__conn_read_start(weft_conn_t *c) {
  int r = 0;

  /* In memory, input arrives by weft_embed_feed(): nothing to start. */
  if (!(c->flags & WEFT__C_MEMORY))
    r = uv_read_start(&c->h.stream, weft__conn_alloc, weft__conn_read);

  if (r == 0)
    c->flags |= WEFT__C_READING;
  return r;
}

void weft_conn_read_stop(weft_conn_t *c) {
  if (c->flags & (WEFT__C_CLOSING | WEFT__C_CLOSED))
    return;
  /* PAUSED as for backpressure: the frame timeout does not run meanwhile. */
  c->flags |= WEFT__C_HELD | WEFT__C_PAUSED;
  weft__conn_stop_reading(c);
  c->frame_start = 0;
}

void weft_conn_read_start(weft_conn_t *c) {
  if (!(c->flags & WEFT__C_HELD))
    return;
  c->flags &= ~(unsigned)WEFT__C_HELD;
  /* Resumed by the flush after this iteration's I/O, never from inside a
   * callback that may be decoding this very connection.  Backpressure of
   * its own still holds it until its output drains. */
  if ((c->flags & WEFT__C_PAUSED) && !(c->flags & WEFT__C_HIGH))
    weft__conn_mark_dirty(c);
}

/* The public accessors. */

void weft_conn_set_data(weft_conn_t *c, void *data) { c->data = data; }
void *weft_conn_data(const weft_conn_t *c) { return c->data; }
void *weft_conn_handler_state(const weft_conn_t *c) { return c->wl->hstate; }
const char *weft_conn_peer(const weft_conn_t *c) {
  /* Formatted on demand: an idle connection keeps only the address. */
  static __thread char buf[64];
  struct sockaddr_storage ss;

  if (c->flags & WEFT__C_MEMORY)
    return "memory";
  if (c->peer_addr.family == AF_UNSPEC)
    return "unix";
  weft__addr_format(weft__peer_unpack(&c->peer_addr, &ss), buf, sizeof(buf));
  return buf;
}
const char *weft_conn_listener(const weft_conn_t *c) {
  return c->wl->l->conf->name;
}
uint64_t weft_conn_id(const weft_conn_t *c) { return c->id; }

void weft_conn_close(weft_conn_t *c, int reason) {
  weft__conn_close(c, reason,
                   reason ? weft_strerror(reason) : "closed by the handler", 0);
}

void *weft_codec_state(const weft_codec_ctx_t *ctx) { return ctx->state; }
void *weft_codec_conn_state(const weft_codec_ctx_t *ctx) {
  return ctx->conn_state;
}
weft_conn_t *weft_codec_conn(const weft_codec_ctx_t *ctx) { return ctx->conn; }
