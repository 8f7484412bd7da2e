/*
 * weft bench: one connection.  It keeps `pipeline` frames in flight,
 * checks each reply byte for byte against the frame it answers, and sends
 * the next frame for each reply, batching what one read made it send into
 * one write.  Any error (a mismatch, a bad reply stream, a reset, a
 * timeout) is counted, said with the connection and frame number, and
 * closes this connection only.
 *
 * The client is the bottleneck of a benchmark of small frames, so the
 * path of a reply is kept lean: one clock read per read batch, no
 * allocation once the buffers have grown, and a batch written at once
 * with uv_try_write() (a uv_write() would also cost an epoll_ctl() per
 * batch in libuv), queued only when the socket does not take it all.
 */
#include <stdlib.h>
#include <string.h>

#include "bench.h"

static void wc_bconn_closed(wc_sock_t *sock) {
  wc_bconn_t *c = sock->data;
  wc_bthread_t *t = c->t;

  if (c->cc_ok)
    wc_cconn_free(&c->cc);
  c->cc_ok = 0;
  weft__buf_free(&c->pending);
  weft__buf_free(&c->flight);
  free(c->stamp);
  c->stamp = NULL;
  if (--t->open == 0) {
    /* The last one: the run of this thread is over. */
    t->end_ns = uv_hrtime();
    uv_close((uv_handle_t *)&t->warm_timer, NULL);
    uv_close((uv_handle_t *)&t->stop_timer, NULL);
    uv_close((uv_handle_t *)&t->tick, NULL);
  }
}

static void wc_bconn_close(wc_bconn_t *c) {
  if (c->closing)
    return;
  c->closing = 1;
  wc_sock_close(&c->sock, wc_bconn_closed);
}

/* Counts an error (said by the caller) and closes the connection; one
 * connection fails once. */
static void wc_bconn_fail(wc_bconn_t *c) {
  if (c->closing)
    return;
  c->t->errors++;
  wc_bconn_close(c);
}

static void wc_bconn_written(uv_write_t *req, int status);

static void wc_bconn_flush(wc_bconn_t *c) {
  weft__buf_t tmp;
  uv_buf_t b;
  size_t off;
  int r;

  if (c->writing || c->pending.len == 0 || c->closing)
    return;
  b = uv_buf_init((char *)c->pending.base, (unsigned)c->pending.len);
  r = uv_try_write(&c->sock.h.stream, &b, 1);
  if (r == (int)c->pending.len) {
    c->pending.len = 0;
    return;
  }
  if (r < 0 && r != UV_EAGAIN) {
    wc_bench_error(c->t, "connection %u: sending to %s: %s", c->id,
                   c->sock.peer, uv_strerror(r));
    wc_bconn_fail(c);
    return;
  }
  /* The socket is full: the rest goes when it drains, and what the
   * replies meanwhile make us send waits in `pending`. */
  off = r > 0 ? (size_t)r : 0;
  tmp = c->flight;
  c->flight = c->pending;
  c->pending = tmp;
  b = uv_buf_init((char *)c->flight.base + off,
                  (unsigned)(c->flight.len - off));
  c->wreq.data = c;
  r = uv_write(&c->wreq, &c->sock.h.stream, &b, 1, wc_bconn_written);
  if (r != 0) {
    wc_bench_error(c->t, "connection %u: sending to %s: %s", c->id,
                   c->sock.peer, uv_strerror(r));
    wc_bconn_fail(c);
    return;
  }
  c->writing = 1;
}

static void wc_bconn_written(uv_write_t *req, int status) {
  wc_bconn_t *c = req->data;

  c->writing = 0;
  c->flight.len = 0;
  if (c->closing)
    return;
  /* A large frame may take a while to go: bytes moving are progress. */
  c->last_progress = uv_hrtime();
  if (status != 0) {
    wc_bench_error(c->t, "connection %u: sending to %s: %s", c->id,
                   c->sock.peer, uv_strerror(status));
    wc_bconn_fail(c);
    return;
  }
  wc_bconn_flush(c);
}

/* May c send another frame? */
static int wc_bconn_more(const wc_bconn_t *c) {
  return !c->t->stopping && c->sent < c->quota;
}

/* Says that the codec refused frame `n` (from 0) and fails c. */
static int wc_bconn_refused(wc_bconn_t *c, uint64_t n, int r) {
  wc_bench_error(
      c->t, "connection %u, frame %llu: the codec \"%s\" refused it: %s", c->id,
      (unsigned long long)n + 1, c->t->b->codec.name, weft_strerror(r));
  wc_bconn_fail(c);
  return -1;
}

/*
 * Encodes the next n frames (fewer once the run stops sending, or at the
 * quota) into the pending batch, WEFT__FRAMER_BATCH to a call of the
 * codec's encode_many, as weftd encodes its replies.  0 or -1 (failed).
 */
static int wc_bconn_queue(wc_bconn_t *c, uint64_t n) {
  const wc_bench_t *b = c->t->b;
  weft_frame_t fr[WEFT__FRAMER_BATCH];
  size_t i, k;
  int r;

  if (c->t->stopping)
    return 0;
  n = n < c->quota - c->sent ? n : c->quota - c->sent;
  while (n > 0) {
    k = n < WEFT__FRAMER_BATCH ? (size_t)n : WEFT__FRAMER_BATCH;
    for (i = 0; i < k; i++) {
      fr[i].data = wc_bench_frame(b, c->id, c->sent + i);
      fr[i].len = b->size;
    }
    r = wc_cconn_encode_many(&c->cc, fr, k, &c->pending);
    if (r != 0) {
      /* Which frame: they go one at a time, as weftd retries them. */
      for (i = 0; i < k; i++)
        if ((r = wc_cconn_encode(&c->cc, fr[i].data, fr[i].len, &c->pending)) !=
            0)
          return wc_bconn_refused(c, c->sent + i, r);
    }
    for (i = 0; i < k; i++) {
      c->stamp[c->sent_slot] = c->t->now;
      if (++c->sent_slot == b->pipeline)
        c->sent_slot = 0;
    }
    c->sent += k;
    n -= k;
  }
  return 0;
}

/* Reply `got` is complete and correct: counted if read within the
 * measured interval. */
static void wc_bconn_answered(wc_bconn_t *c) {
  wc_bthread_t *t = c->t;
  wc_bench_t *b = t->b;

  if (t->now - b->win_start < b->win_len) {
    wc_hist_add(&t->hist, t->now - c->stamp[c->got_slot]);
    t->frames++;
  }
  if (++c->got_slot == b->pipeline)
    c->got_slot = 0;
  /* A counted run ends with the last reply owed to any connection. */
  if (++c->got == c->quota &&
      __atomic_sub_fetch(&b->left, 1, __ATOMIC_ACQ_REL) == 0)
    wc_bench_mark(b, WC_MARK_END, t->now);
}

static void wc_bconn_mismatch(wc_bconn_t *c, const uint8_t *want,
                              const uint8_t *got, size_t off, size_t n) {
  char w[128], g[128];
  size_t i;

  for (i = 0; i < n && want[i] == got[i]; i++)
    ;
  wc_excerpt(w, sizeof(w), want + i, n - i);
  wc_excerpt(g, sizeof(g), got + i, n - i);
  wc_bench_error(c->t,
                 "connection %u, frame %llu: the reply differs from the frame "
                 "sent from byte %zu: sent %s, got %s",
                 c->id, (unsigned long long)c->got + 1, off + i, w, g);
}

/* A stream codec's reply: bytes, matched against the frames in order.
 * 0, or 1 (said). */
static int wc_bconn_stream(wc_bconn_t *c, const uint8_t *p, size_t len) {
  const wc_bench_t *b = c->t->b;
  const uint8_t *want;
  size_t k;

  while (len > 0) {
    if (c->got >= c->sent) {
      wc_bench_error(c->t,
                     "connection %u: %zu bytes more than the %llu frames sent",
                     c->id, len, (unsigned long long)c->sent);
      return 1;
    }
    want = wc_bench_frame(b, c->id, c->got) + c->stream_off;
    k = b->size - c->stream_off;
    k = k < len ? k : len;
    if (memcmp(want, p, k) != 0) {
      wc_bconn_mismatch(c, want, p, c->stream_off, k);
      return 1;
    }
    p += k;
    len -= k;
    c->stream_off += k;
    if (c->stream_off == b->size) {
      c->stream_off = 0;
      wc_bconn_answered(c);
    }
  }
  return 0;
}

/* One reply: checked against the frame it answers.  0, or 1 (said). */
static int wc_bconn_verify(wc_bconn_t *c, const uint8_t *frame, size_t len) {
  const wc_bench_t *b = c->t->b;
  const uint8_t *want;

  if (b->codec.stream)
    return wc_bconn_stream(c, frame, len);
  if (c->got >= c->sent) {
    wc_bench_error(c->t,
                   "connection %u: a reply (%zu bytes) to no frame: %llu "
                   "sent, all answered",
                   c->id, len, (unsigned long long)c->sent);
    return 1;
  }
  want = wc_bench_frame(b, c->id, c->got);
  if (len != b->size) {
    char g[128];
    wc_excerpt(g, sizeof(g), frame, len);
    wc_bench_error(c->t,
                   "connection %u, frame %llu: the reply has %zu bytes (%s), "
                   "the frame sent %llu",
                   c->id, (unsigned long long)c->got + 1, len, g,
                   (unsigned long long)b->size);
    return 1;
  }
  if (memcmp(want, frame, len) != 0) {
    wc_bconn_mismatch(c, want, frame, 0, len);
    return 1;
  }
  wc_bconn_answered(c);
  return 0;
}

/* The framer's callbacks: one reply frame, or the frames the codec's
 * decode_many found together; a new frame goes for each answered.
 * Non-zero stops decoding. */
static int wc_bconn_reply(void *arg, const uint8_t *frame, size_t len) {
  wc_bconn_t *c = arg;
  uint64_t got = c->got;

  if (wc_bconn_verify(c, frame, len) != 0)
    return 1;
  return wc_bconn_queue(c, c->got - got) != 0;
}

static int wc_bconn_replies(void *arg, const weft_frame_t *frames, size_t n) {
  wc_bconn_t *c = arg;
  uint64_t got = c->got;
  size_t i;

  for (i = 0; i < n; i++)
    if (wc_bconn_verify(c, frames[i].data, frames[i].len) != 0)
      return 1;
  return wc_bconn_queue(c, c->got - got) != 0;
}

static void wc_bconn_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  wc_bconn_t *c = ((wc_sock_t *)h->data)->data;
  uint8_t *base;
  size_t n;

  (void)hint;
  n = weft__framer_read_buf(&c->cc.fr, c->t->scratch, sizeof(c->t->scratch),
                            &base);
  *buf = uv_buf_init((char *)base, (unsigned)n);
}

static void wc_bconn_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf) {
  wc_bconn_t *c = ((wc_sock_t *)st->data)->data;
  char why[256];
  int rc;

  if (c->closing || n == 0)
    return;
  c->t->now = uv_hrtime();
  c->last_progress = c->t->now;
  if (n == UV_EOF) {
    rc = weft__framer_eof(&c->cc.fr, wc_bconn_reply, c);
    if (rc == 0 && c->got == c->sent && !wc_bconn_more(c)) {
      wc_bconn_close(c); /* all answered, and the run is over */
      return;
    }
    if (rc == 0)
      wc_bench_error(c->t,
                     "connection %u: %s closed the connection with %llu "
                     "frames unanswered (frame %llu next)",
                     c->id, c->sock.peer,
                     (unsigned long long)(c->sent - c->got),
                     (unsigned long long)c->got + 1);
  } else if (n < 0) {
    wc_bench_error(c->t, "connection %u: reading from %s: %s", c->id,
                   c->sock.peer, uv_strerror((int)n));
    rc = 1;
  } else {
    weft__sink_t k = {wc_bconn_reply, wc_bconn_replies, c, SIZE_MAX};
    rc = weft__framer_feed_to(&c->cc.fr, (const uint8_t *)buf->base, (size_t)n,
                              &k);
  }
  if (rc == 1 || (rc == 0 && n == UV_EOF)) {
    wc_bconn_fail(c); /* said */
    return;
  }
  if (rc < 0) {
    wc_cconn_error(&c->cc, why, sizeof(why));
    wc_bench_error(c->t, "connection %u, frame %llu: bad reply stream: %s",
                   c->id, (unsigned long long)c->got + 1, why);
    wc_bconn_fail(c);
    return;
  }
  if (c->closing)
    return;
  if (c->got == c->sent && !wc_bconn_more(c))
    wc_bconn_close(c); /* all answered, and no more to send */
  else
    wc_bconn_flush(c);
}

static void wc_bconn_connected(wc_sock_t *sock, int status) {
  wc_bconn_t *c = sock->data;
  wc_bthread_t *t = c->t;
  int r;

  if (c->closing)
    return;
  if (status != 0) {
    wc_bench_error(t, "connection %u: connecting to %s: %s", c->id,
                   sock->peer[0] ? sock->peer : t->b->addr.text,
                   uv_strerror(status));
    wc_bconn_fail(c);
    return;
  }
  c->connected = 1;
  if (!wc_bconn_more(c)) {
    wc_bconn_close(c); /* the run is over, or -n left it no frame */
    return;
  }
  t->now = uv_hrtime();
  if (!t->b->timed)
    wc_bench_mark(t->b, WC_MARK_START, t->now); /* the first send */
  c->last_progress = t->now;
  r = uv_read_start(&sock->h.stream, wc_bconn_alloc, wc_bconn_read);
  if (r != 0) {
    wc_bench_error(t, "connection %u: reading from %s: %s", c->id, sock->peer,
                   uv_strerror(r));
    wc_bconn_fail(c);
    return;
  }
  if (wc_bconn_queue(c, t->b->pipeline) != 0)
    return;
  wc_bconn_flush(c);
}

void wc_bconn_start(wc_bconn_t *c, wc_bthread_t *t, unsigned id,
                    uint64_t quota) {
  int r;

  memset(c, 0, sizeof(*c));
  c->t = t;
  c->id = id;
  c->quota = quota;
  c->sock.data = c;
  c->last_progress = uv_hrtime();
  c->stamp = calloc(t->b->pipeline, sizeof(*c->stamp));
  r = c->stamp == NULL ? WEFT_ENOMEM
                       : wc_cconn_init(&c->cc, &t->b->codec, t->state);
  c->cc_ok = r == 0;
  if (r != 0) {
    wc_bench_error(t, "connection %u: codec \"%s\": conn_init failed: %s", id,
                   t->b->codec.name, weft_strerror(r));
    if (c->stamp != NULL)
      wc_cconn_free(&c->cc); /* the framer only */
    t->errors++;
    c->closing = 1;
    wc_bconn_closed(&c->sock);
    return;
  }
  wc_sock_connect(&c->sock, &t->loop, &t->b->addr, wc_bconn_connected);
}

void wc_bconn_drain(wc_bconn_t *c) {
  if (!c->closing && c->connected && c->got == c->sent)
    wc_bconn_close(c);
}

void wc_bconn_check(wc_bconn_t *c, uint64_t now) {
  const wc_bench_t *b = c->t->b;

  if (c->closing || now - c->last_progress < b->args.timeout_ms * 1000000u)
    return;
  if (!c->connected)
    wc_bench_error(c->t, "connection %u: connecting to %s: timed out after %s",
                   c->id, c->sock.peer, b->args.timeout);
  else if (c->got < c->sent)
    wc_bench_error(c->t,
                   "connection %u, frame %llu: no reply within %s (%llu "
                   "frames in flight)",
                   c->id, (unsigned long long)c->got + 1, b->args.timeout,
                   (unsigned long long)(c->sent - c->got));
  else
    return; /* idle by choice */
  wc_bconn_fail(c);
}
