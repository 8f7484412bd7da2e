/*
 * A worker: one thread, one loop, its own bound copy of every listener and
 * the connections those accept.  Other threads reach it only through its
 * async handle (stop requests).
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static void weft__worker_check_cb(uv_check_t *h) {
  weft__worker_flush_all(h->data);
}

static void weft__worker_close_handles(weft__worker_t *w) {
  size_t i;

  for (i = 0; i < w->nlsn; i++)
    weft__listener_close(w->lsn[i]);
  uv_mutex_lock(&w->e->lock);
  w->alive = 0;
  uv_mutex_unlock(&w->e->lock);
  weft__mailbox_close(w);
  weft__resolver_close(w);
  if (!uv_is_closing((uv_handle_t *)&w->async))
    uv_close((uv_handle_t *)&w->async, NULL);
  if (!uv_is_closing((uv_handle_t *)&w->check))
    uv_close((uv_handle_t *)&w->check, NULL);
  if (!uv_is_closing((uv_handle_t *)&w->timer))
    uv_close((uv_handle_t *)&w->timer, NULL);
  if (!uv_is_closing((uv_handle_t *)&w->reserve))
    uv_close((uv_handle_t *)&w->reserve, NULL);
}

void weft__worker_conn_gone(weft__worker_t *w) {
  if (w->stop_seen && w->nconns == 0)
    weft__worker_close_handles(w);
}

void weft__worker_tick(weft__worker_t *w) {
  uint64_t now = uv_now(&w->loop);
  weft__list_t *n;

  if (w->stop_seen && now >= w->grace_deadline && w->nconns > 0 &&
      !w->grace_expired) {
    w->grace_expired = 1;
    weft_log(WEFT_LOG_WARN,
             "worker %d: shutdown grace expired, closing %zu connections",
             w->id, w->nconns);
    for (n = w->conns.next; n != &w->conns; n = n->next) {
      weft_conn_t *c = WEFT__CONTAINER_OF(n, weft_conn_t, node);
      if (!(c->flags & WEFT__C_CLOSED))
        WEFT__STAT_ADD(&c->wl->stats, shutdown_forced, 1);
      weft__conn_close(c, WEFT_ESHUTDOWN, "shutdown grace expired", 1);
    }
  }
}

static void weft__worker_stop(weft__worker_t *w, int how) {
  weft__list_t *n, *next;
  weft_conn_t *c;
  size_t i;

  if (how <= w->stop_seen)
    return;
  if (w->stop_seen == 0) {
    w->grace_deadline = uv_now(&w->loop) + w->e->grace_ms;
    for (i = 0; i < w->nlsn; i++)
      weft__listener_close(w->lsn[i]);
  }
  w->stop_seen = how;
  for (n = w->conns.next; n != &w->conns; n = next) {
    next = n->next;
    c = WEFT__CONTAINER_OF(n, weft_conn_t, node);
    if (how == 2) {
      if (!(c->flags & WEFT__C_CLOSED))
        WEFT__STAT_ADD(&c->wl->stats, shutdown_forced, 1);
      weft__conn_close(c, WEFT_ESHUTDOWN, "forced stop", 1);
      continue;
    }
    weft__conn_begin_stop(c);
  }
  if (w->nconns == 0)
    weft__worker_close_handles(w);
  else
    weft__timer_arm(w);
}

/* A reload's new listener set: start the new, retire what is gone. */
static void weft__worker_apply(weft__worker_t *w, weft__wlistener_t **lsn,
                               size_t n) {
  size_t i, j;

  for (i = 0; i < n; i++) {
    if (lsn[i]->polling || lsn[i]->closing)
      continue;
    if (w->stop_seen) {
      lsn[i]->retired = 1; /* stopping: it never serves */
      weft__listener_close(lsn[i]);
      weft__wl_maybe_finish(lsn[i]);
    } else if (weft__listener_start(lsn[i]) != 0) {
      weft_log(WEFT_LOG_ERROR, "listener \"%s\" worker %d: cannot poll",
               lsn[i]->l->conf->name, w->id);
    }
  }
  for (i = 0; i < w->nlsn; i++) {
    for (j = 0; j < n && lsn[j] != w->lsn[i]; j++)
      ;
    if (j < n)
      continue;
    w->lsn[i]->retired = 1;
    weft__listener_close(w->lsn[i]);
    weft__wl_maybe_finish(w->lsn[i]);
  }
  free(w->lsn);
  w->lsn = lsn;
  w->nlsn = n;
}

void weft__worker_swap(weft__worker_t *w, weft__wlistener_t **lsn, size_t n) {
  free(w->next_lsn); /* a reload the worker has not seen yet is superseded */
  w->next_lsn = lsn;
  w->next_nlsn = n;
  w->swap_pending = 1;
  weft__worker_wake(w);
}

static void weft__worker_async_cb(uv_async_t *a) {
  weft__worker_t *w = a->data;
  weft__wlistener_t **lsn = NULL;
  size_t n = 0;
  int req, swap;

  uv_mutex_lock(&w->e->lock);
  req = w->e->stop_req;
  swap = w->swap_pending;
  if (swap) {
    lsn = w->next_lsn;
    n = w->next_nlsn;
    w->next_lsn = NULL;
    w->swap_pending = 0;
  }
  uv_mutex_unlock(&w->e->lock);
  weft__mailbox_drain(w);
  if (swap)
    weft__worker_apply(w, lsn, n);
  if (req > w->stop_seen)
    weft__worker_stop(w, req);
}

int weft__worker_init(weft__worker_t *w, weft_engine_t *e, int id) {
  int r;

  memset(w, 0, sizeof(*w));
  w->e = e;
  w->id = id;
  weft__list_init(&w->conns);
  w->scratch = malloc(WEFT__SCRATCH_SIZE);
  if (w->scratch == NULL)
    return WEFT_ENOMEM;
  if (weft__mailbox_init(w, (size_t)e->config->mailbox_size) != 0) {
    free(w->scratch);
    w->scratch = NULL;
    return WEFT_ENOMEM;
  }
  r = uv_loop_init(&w->loop);
  if (r != 0) {
    free(w->scratch);
    w->scratch = NULL;
    return WEFT_EIO;
  }
  w->loop.data = w;
  uv_async_init(&w->loop, &w->async, weft__worker_async_cb);
  w->async.data = w;
  uv_check_init(&w->loop, &w->check);
  w->check.data = w;
  uv_check_start(&w->check, weft__worker_check_cb);
  uv_unref((uv_handle_t *)&w->check);
  /* libuv opens a per-loop reserve descriptor at the first stream it
   * initialises; doing that now keeps descriptor counts flat from the first
   * connection on, so a leak is visible as a leak. */
  uv_pipe_init(&w->loop, &w->reserve, 0);
  uv_timer_init(&w->loop, &w->timer);
  w->timer.data = w;
  weft__timer_init(w);
  w->alive = 1;
  return 0;
}

static void weft__worker_main(void *arg) {
  weft__worker_t *w = arg;

  weft__tls_worker = w; /* weft_connect() checks it is called here */
  uv_run(&w->loop, UV_RUN_DEFAULT);
}

int weft__worker_start(weft__worker_t *w) {
  if (uv_thread_create(&w->thread, weft__worker_main, w) != 0)
    return WEFT_EIO;
  w->thread_started = 1;
  return 0;
}

void weft__worker_wake(weft__worker_t *w) {
  /* The engine lock is held: alive cannot change under us. */
  if (w->alive)
    uv_async_send(&w->async);
}

void weft__worker_teardown(weft__worker_t *w) {
  if (w->scratch == NULL)
    return;
  weft__worker_close_handles(w);
  uv_run(&w->loop, UV_RUN_DEFAULT);
  uv_loop_close(&w->loop);
  free(w->scratch);
  w->scratch = NULL;
  weft__buf_free(&w->stage);
  free(w->lsn);
  w->lsn = NULL;
  w->nlsn = 0;
  free(w->next_lsn);
  w->next_lsn = NULL;
  weft__mailbox_free(w);
  free(w->dirty);
  w->dirty = NULL;
  free(w->pieces);
  w->pieces = NULL;
}
