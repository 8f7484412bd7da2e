/*
 * Connection deadlines on a timer wheel, one per worker.  A connection sits
 * in at most one slot, for its earliest deadline (idle, frame, write, or the
 * end of its close).  Activity only updates a timestamp; the wheel re-files
 * a connection when its slot comes up and the deadline has moved, so a busy
 * connection costs no list operations per read.
 */
#include "internal.h"

static uint64_t weft__deadline(const weft_conn_t *c, int *kind) {
  const weft__listener_conf_t *lc = c->wl->l->conf;
  const weft__worker_t *w = c->wl->w;
  uint64_t at = UINT64_MAX, t;

  *kind = WEFT__T_NONE;
  if (c->flags & WEFT__C_CLOSED)
    return at;
  /* Closing has one deadline of its own, which covers the last flush. */
  if (c->flags & WEFT__C_CLOSING) {
    *kind = WEFT__T_CLOSE;
    return weft__tick_ms(w, c->until.close_deadline);
  }
  /* While output waits on the peer, the write timeout governs, not idle:
   * one stalled connection is one timeout. */
  if (c->write_since != 0) {
    if (lc->write_timeout_ms != 0) {
      at = weft__tick_ms(w, c->write_since) + lc->write_timeout_ms;
      *kind = WEFT__T_WRITE;
    }
  } else if (lc->idle_timeout_ms != 0) {
    at = weft__tick_ms(w, c->last_io) + lc->idle_timeout_ms;
    *kind = WEFT__T_IDLE;
  }
  if (lc->frame_timeout_ms != 0 && c->frame_start != 0 &&
      (t = weft__tick_ms(w, c->frame_start) + lc->frame_timeout_ms) < at) {
    at = t;
    *kind = WEFT__T_FRAME;
  }
  return at;
}

static void weft__wheel_tick_cb(uv_timer_t *t);

void weft__timer_arm(weft__worker_t *w) {
  if (!uv_is_active((uv_handle_t *)&w->timer) &&
      !uv_is_closing((uv_handle_t *)&w->timer))
    uv_timer_start(&w->timer, weft__wheel_tick_cb, WEFT__WHEEL_TICK_MS,
                   WEFT__WHEEL_TICK_MS);
}

void weft__timer_schedule(weft_conn_t *c) {
  weft__worker_t *w = c->wl->w;
  uint64_t at, ticks;
  int kind;

  if (!weft__list_empty(&c->tnode)) {
    weft__list_remove(&c->tnode);
    w->wheel_count--;
  }
  at = weft__deadline(c, &kind);
  if (at == UINT64_MAX)
    return;
  ticks = at <= w->wheel_time
              ? 1
              : (at - w->wheel_time + WEFT__WHEEL_TICK_MS - 1) /
                    WEFT__WHEEL_TICK_MS;
  if (ticks == 0)
    ticks = 1;
  if (ticks >= WEFT__WHEEL_SLOTS)
    ticks = WEFT__WHEEL_SLOTS - 1; /* re-filed when that slot comes up */
  weft__list_push(&w->wheel[(w->wheel_pos + ticks) % WEFT__WHEEL_SLOTS],
                  &c->tnode);
  w->wheel_count++;
  weft__timer_arm(w);
}

void weft__timer_cancel(weft_conn_t *c) {
  if (!weft__list_empty(&c->tnode)) {
    weft__list_remove(&c->tnode);
    c->wl->w->wheel_count--;
  }
}

int weft__timer_armed(const weft_conn_t *c, int kind) {
  const weft__listener_conf_t *lc = c->wl->l->conf;

  if (c->flags & WEFT__C_CLOSED)
    return 0;
  if (c->flags & WEFT__C_CLOSING)
    return kind == WEFT__T_CLOSE;
  /* The same rules as weft__deadline, for every kind, not the earliest. */
  switch (kind) {
  case WEFT__T_IDLE:
    return c->write_since == 0 && lc->idle_timeout_ms != 0;
  case WEFT__T_WRITE:
    return c->write_since != 0 && lc->write_timeout_ms != 0;
  case WEFT__T_FRAME:
    return c->frame_start != 0 && lc->frame_timeout_ms != 0;
  default:
    return 0;
  }
}

void weft__timer_expire(weft_conn_t *c, int kind) {
  weft__stats_t *st = &c->wl->stats;
  const char *what;

  switch (kind) {
  case WEFT__T_CLOSE:
    if (c->wl->w->stop_seen) {
      /* Stopping: a peer that goes on sending is cut, and counted. */
      WEFT__STAT_ADD(st, shutdown_forced, 1);
      weft_log(WEFT_LOG_INFO,
               "listener \"%s\" conn #%llu from %s: cut at shutdown: the peer "
               "did not close",
               c->wl->l->conf->name, (unsigned long long)c->id,
               weft_conn_peer(c));
    }
    weft__conn_close(c, c->close_reason, "peer did not close in time", 1);
    return;
  case WEFT__T_IDLE:
    WEFT__STAT_ADD(st, timeouts_idle, 1);
    what = "idle timeout";
    break;
  case WEFT__T_FRAME:
    WEFT__STAT_ADD(st, timeouts_frame, 1);
    what = "frame timeout: a frame was started and not finished in time";
    break;
  default:
    /* A slow reader that still takes bytes is making progress: the
     * kernel's and libuv's queues shrink even before a write completes. */
    if (weft__conn_write_progress(c)) {
      c->write_since = weft__tick_now(c->wl->w);
      weft__timer_schedule(c);
      return;
    }
    WEFT__STAT_ADD(st, timeouts_write, 1);
    what = "write timeout: the peer does not read its replies";
    break;
  }
  weft_log(WEFT_LOG_INFO, "listener \"%s\" conn #%llu from %s: %s",
           c->wl->l->conf->name, (unsigned long long)c->id, weft_conn_peer(c), what);
  /* A peer that does not read cannot be flushed to: close at once. */
  weft__conn_close(c, WEFT_ETIMEDOUT, what, kind == WEFT__T_WRITE);
}

static void weft__wheel_tick_cb(uv_timer_t *t) {
  weft__worker_t *w = t->data;
  uint64_t now = uv_now(&w->loop), at;
  weft__list_t due, *n;
  weft_conn_t *c;
  int kind, steps = 0;

  while (w->wheel_time + WEFT__WHEEL_TICK_MS <= now &&
         steps++ < WEFT__WHEEL_SLOTS) {
    w->wheel_pos = (w->wheel_pos + 1) % WEFT__WHEEL_SLOTS;
    w->wheel_time += WEFT__WHEEL_TICK_MS;
    /* Take the slot's list: expiring or re-filing may touch the wheel. */
    weft__list_init(&due);
    if (!weft__list_empty(&w->wheel[w->wheel_pos])) {
      due.next = w->wheel[w->wheel_pos].next;
      due.prev = w->wheel[w->wheel_pos].prev;
      due.next->prev = &due;
      due.prev->next = &due;
      weft__list_init(&w->wheel[w->wheel_pos]);
    }
    while (!weft__list_empty(&due)) {
      n = due.next;
      c = WEFT__CONTAINER_OF(n, weft_conn_t, tnode);
      weft__list_remove(n);
      w->wheel_count--;
      at = weft__deadline(c, &kind);
      if (at <= now)
        weft__timer_expire(c, kind);
      else
        weft__timer_schedule(c);
    }
  }
  if (w->wheel_time + WEFT__WHEEL_TICK_MS <= now)
    w->wheel_time = now; /* the loop was stalled for a whole turn */
  weft__worker_tick(w);
  if (w->wheel_count == 0 && !w->stop_seen)
    uv_timer_stop(t);
}

void weft__timer_init(weft__worker_t *w) {
  size_t i;

  for (i = 0; i < WEFT__WHEEL_SLOTS; i++)
    weft__list_init(&w->wheel[i]);
  w->wheel_pos = 0;
  w->wheel_count = 0;
  uv_update_time(&w->loop);
  w->wheel_time = uv_now(&w->loop);
  w->epoch = w->wheel_time;
}
