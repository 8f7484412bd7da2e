/*
 * weft bench --wait: dials the address until a connection is made, then
 * closes it and exits 0, silently; nothing answering within the timeout
 * is exit 1, with the last error said.  A script starting a server uses it
 * to know the server is up (bench/run.sh does).
 */
#include <string.h>

#include "bench.h"

/* Between attempts: quick enough to notice a server at once, slow enough
 * not to spin. */
#define WC_WAIT_RETRY_MS 25

typedef struct {
  const wc_bench_t *b;
  uv_loop_t loop;
  wc_sock_t sock;
  uv_timer_t retry, deadline;
  int last; /* the last attempt's error */
  int done, rc;
} wc_bwait_t;

static void wc_bwait_dial(uv_timer_t *timer);

static void wc_bwait_finish(wc_bwait_t *w, int rc) {
  if (w->done)
    return;
  w->done = 1;
  w->rc = rc;
  uv_close((uv_handle_t *)&w->retry, NULL);
  uv_close((uv_handle_t *)&w->deadline, NULL);
  wc_sock_close(&w->sock, NULL);
}

static void wc_bwait_connected(wc_sock_t *sock, int status) {
  wc_bwait_t *w = sock->data;

  if (w->done)
    return;
  if (status == 0) {
    wc_bwait_finish(w, WC_OK);
    return;
  }
  /* The handle is closed: dial again a little later. */
  w->last = status;
  uv_timer_start(&w->retry, wc_bwait_dial, WC_WAIT_RETRY_MS, 0);
}

static void wc_bwait_dial(uv_timer_t *timer) {
  wc_bwait_t *w = timer->data;

  wc_sock_connect(&w->sock, &w->loop, &w->b->addr, wc_bwait_connected);
}

static void wc_bwait_expired(uv_timer_t *timer) {
  wc_bwait_t *w = timer->data;
  const char *peer = w->sock.peer[0] ? w->sock.peer : w->b->addr.text;

  if (w->last != 0)
    wc_err("--wait: nothing answers at %s within %s: %s", peer,
           w->b->args.timeout, uv_strerror(w->last));
  else
    wc_err("--wait: nothing answers at %s within %s: connecting timed out",
           peer, w->b->args.timeout);
  wc_bwait_finish(w, WC_FAIL);
}

int wc_bench_wait(const wc_bench_t *b) {
  wc_bwait_t w;

  memset(&w, 0, sizeof(w));
  w.b = b;
  w.sock.data = &w;
  uv_loop_init(&w.loop);
  uv_timer_init(&w.loop, &w.retry);
  uv_timer_init(&w.loop, &w.deadline);
  w.retry.data = &w;
  w.deadline.data = &w;
  uv_timer_start(&w.deadline, wc_bwait_expired, b->args.timeout_ms, 0);
  wc_bwait_dial(&w.retry);
  uv_run(&w.loop, UV_RUN_DEFAULT);
  uv_loop_close(&w.loop);
  return w.rc;
}
