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
 *
 * A run is timed (after a warm-up, replies read within the measured
 * interval are counted) or counted (-n: exactly so many frames, measured
 * from the first send to the last reply).  The CPU time of the server, of
 * its CPU and of this process is sampled at the interval's two ends
 * (bench_cpu.c).  --wait only dials (bench_wait.c).
 */
#ifndef WEFT_TOOLS_BENCH_H
#define WEFT_TOOLS_BENCH_H

#include "client.h"

/* Frames start at one of this many offsets into the pattern. */
#define WC_BENCH_OFFSETS 256
/* Error messages printed before the rest are only counted. */
#define WC_BENCH_SHOWN 10

typedef struct wc_bthread wc_bthread_t;

/* CPU times at one end of the measured interval; -1: not asked or not
 * known. */
typedef struct {
  uint64_t ns;  /* uv_hrtime() when taken */
  int64_t srv;  /* the server process, clock ticks */
  int64_t core; /* the server's CPU, clock ticks */
  double cli;   /* this process, seconds */
} wc_bsample_t;

enum { WC_MARK_START, WC_MARK_END };

/* The run's settings and shared pieces; read-only once threads start,
 * but for the fields said to be atomic. */
typedef struct {
  wc_common_t args;
  wc_codec_t codec;
  wc_addr_t addr;
  uint64_t conns, pipeline, size, duration_ms, threads;
  uint64_t warmup_ms;
  uint64_t total;     /* -n: frames in all; 0 for a timed run */
  int64_t server_pid; /* --server-pid, or 0 */
  int64_t server_cpu; /* --server-cpu, or -1 */
  int json, quiet, wait, timed;
  uint8_t *pattern; /* size + WC_BENCH_OFFSETS printable bytes */
  unsigned shown;   /* error messages printed, all threads (atomic) */
  /* A reply read at `now` is counted when now - win_start < win_len: the
   * measured interval of a timed run; a counted run counts every one. */
  uint64_t win_start, win_len;
  uint64_t left;        /* counted: connections owed replies (atomic) */
  int marked[2];        /* the sample is taken (atomic: the first one wins) */
  wc_bsample_t mark[2]; /* written by that first one, read once joined */
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
  uint64_t sent, got;         /* frames sent, replies checked */
  uint64_t quota;             /* frames to send in all (UINT64_MAX: timed) */
  uint64_t *stamp;            /* send time of frame n at n % pipeline */
  size_t sent_slot, got_slot; /* sent and got % pipeline, kept so */
  size_t stream_off;          /* stream codecs: bytes of reply `got` so far */
  uint64_t last_progress;     /* when the connection last moved (ns) */
} wc_bconn_t;

struct wc_bthread {
  wc_bench_t *b;
  uv_loop_t loop;
  uv_thread_t tid;
  uv_timer_t warm_timer, stop_timer, tick;
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
/* Takes sample `which` (WC_MARK_*) at `now`, unless one was taken: any
 * thread may call it. */
void wc_bench_mark(wc_bench_t *b, int which, uint64_t now);

/* Dials connection c of thread t, which sends `quota` frames at most. */
void wc_bconn_start(wc_bconn_t *c, wc_bthread_t *t, unsigned id,
                    uint64_t quota);
/* The duration is over: close c once its frames in flight are answered. */
void wc_bconn_drain(wc_bconn_t *c);
/* The timeout: is c stuck since `now`?  Reports and closes it if so. */
void wc_bconn_check(wc_bconn_t *c, uint64_t now);

/* ---- bench_cpu.c ---- */

/* utime + stime of process pid, all its threads, in clock ticks, from
 * /proc/PID/stat.  -1 (said) if it cannot be read. */
int64_t wc_cpu_proc(int64_t pid);
/* The busy time of CPU cpu (all but idle and iowait) in clock ticks, from
 * /proc/stat.  -1 (said) if it cannot be read. */
int64_t wc_cpu_core(int64_t cpu);
/* This process's CPU time, all threads, in seconds. */
double wc_cpu_self(void);

/* ---- bench_wait.c ---- */

/* --wait: dials b->addr until a connection is made, for up to the
 * timeout.  WC_OK, or WC_FAIL (said). */
int wc_bench_wait(const wc_bench_t *b);

#endif /* WEFT_TOOLS_BENCH_H */
