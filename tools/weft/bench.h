/*
 * weft bench: the run (bench.c) and its connections (bench_conn.c).
 *
 * Each thread runs an event loop with its share of the connections and
 * its own codec instance.  A connection keeps `pipeline` frames in flight:
 * each reply is checked against the frame it answers (echo replies come
 * back in order) and sends the next frame.  Frame n of connection c is
 * `size` bytes of a fixed printable pattern, starting at an offset that
 * depends on c and n, so a lost, repeated or reordered reply differs from
 * the frame expected, and sending costs no copy.
 */
#ifndef WEFT_TOOLS_BENCH_H
#define WEFT_TOOLS_BENCH_H

#include "client.h"

/* Frames start at one of this many offsets into the pattern. */
#define WC_BENCH_OFFSETS 256
/* Error messages printed before the rest are only counted. */
#define WC_BENCH_SHOWN 10

typedef struct wc_bthread wc_bthread_t;

/* The run's settings and shared pieces; read-only once threads start. */
typedef struct {
  wc_common_t args;
  wc_codec_t codec;
  wc_addr_t addr;
  uint64_t conns, pipeline, size, duration_ms, threads;
  int json;
  uint8_t *pattern; /* size + WC_BENCH_OFFSETS printable bytes */
  unsigned shown;   /* error messages printed, all threads (atomic) */
} wc_bench_t;

typedef struct {
  wc_sock_t sock;
  wc_bthread_t *t;
  unsigned id; /* from 1, across threads */
  wc_cconn_t cc;
  int cc_ok;
  weft__buf_t pending, flight;
  uv_write_t wreq;
  int writing, connected, closing;
  uint64_t sent, got;     /* frames sent, replies checked */
  uint64_t *stamp;        /* send time of frame n at n % pipeline */
  size_t stream_off;      /* stream codecs: bytes of reply `got` so far */
  uint64_t last_progress; /* when the connection last moved (ns) */
} wc_bconn_t;

struct wc_bthread {
  wc_bench_t *b;
  uv_loop_t loop;
  uv_thread_t tid;
  uv_timer_t stop_timer, tick;
  void *state; /* the thread's codec instance */
  wc_bconn_t *conns;
  size_t nconns, open;
  unsigned first; /* the id of conns[0] */
  int stopping;   /* the duration is over: no new frames */
  uint64_t now;   /* ns, refreshed per read batch */
  uint64_t frames, errors, start_ns, end_ns;
  wc_hist_t hist;
  uint8_t scratch[65536];
};

/* Frame n of connection id: b->size bytes at this address. */
static inline const uint8_t *wc_bench_frame(const wc_bench_t *b, unsigned id,
                                            uint64_t n) {
  return b->pattern + ((id * 131u + n * 29u) & (WC_BENCH_OFFSETS - 1));
}

/* Reports one error of the run (the first WC_BENCH_SHOWN are printed). */
void wc_bench_error(wc_bthread_t *t, const char *fmt, ...) WEFT_PRINTF(2, 3);

/* Dials connection c of thread t. */
void wc_bconn_start(wc_bconn_t *c, wc_bthread_t *t, unsigned id);
/* The duration is over: close c once its frames in flight are answered. */
void wc_bconn_drain(wc_bconn_t *c);
/* The timeout: is c stuck since `now`?  Reports and closes it if so. */
void wc_bconn_check(wc_bconn_t *c, uint64_t now);

#endif /* WEFT_TOOLS_BENCH_H */
