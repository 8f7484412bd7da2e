/*
 * The engine's private types: engine, workers, per-worker listeners and
 * connections.  Never installed.
 */
#ifndef WEFT_CORE_INTERNAL_H
#define WEFT_CORE_INTERNAL_H

#include <stdint.h>

#include <uv.h>

#include <weft/weft.h>

#include "buf.h"
#include "conf.h"
#include "framer.h"
#include "list.h"
#include "plugin_loader.h"

/* Per-worker read buffer: one read's worth, reused by every connection. */
#define WEFT__SCRATCH_SIZE (64 * 1024)
/* How long a closing connection waits for the peer's FIN after ours. */
#define WEFT__LINGER_MS 2000
/* Stage buffer above this size is freed after a flush. */
#define WEFT__STAGE_KEEP (256 * 1024)

typedef struct weft__worker weft__worker_t;

/* A configured listener with its plugins; shared read-only by workers. */
typedef struct weft__listener {
  const weft__listener_conf_t *conf;
  weft__plugin_t *codec;
  weft__plugin_t *handler;
  int port;       /* the port bound, once known (for port 0) */
  int unix_bound; /* we created the socket file: remove it when done */
} weft__listener_t;

typedef union weft__stream {
  uv_handle_t handle;
  uv_stream_t stream;
  uv_tcp_t tcp;
  uv_pipe_t pipe;
} weft__stream_t;

/* A listener bound on one worker, with that worker's plugin instances. */
typedef struct weft__wlistener {
  weft__listener_t *l;
  weft__worker_t *w;
  weft__stream_t server;
  int bound;  /* server handle initialised (must be closed) */
  const weft_codec_vtable_t *cvt;
  void *cstate;
  int cstate_made;
  const weft_handler_vtable_t *hvt;
  void *hstate;
  int hstate_made;
  uint64_t last_accept_warn; /* loop time of the last accept-error line */
} weft__wlistener_t;

enum {
  WEFT__C_OPEN = 1 << 0,     /* on_open ran: on_close is owed */
  WEFT__C_READING = 1 << 1,  /* uv_read_start is in effect */
  WEFT__C_PAUSED = 1 << 2,   /* reading stopped by backpressure */
  WEFT__C_WRITING = 1 << 3,  /* a uv_write is in flight */
  WEFT__C_CLOSING = 1 << 4,  /* no more frames; flushing, then shutdown */
  WEFT__C_SHUT = 1 << 5,     /* our FIN is sent or being sent */
  WEFT__C_CLOSED = 1 << 6,   /* uv_close called */
  WEFT__C_EOF = 1 << 7,      /* the peer's FIN arrived */
  WEFT__C_DIRTY = 1 << 8,    /* output queued since the last flush */
  WEFT__C_LINGER = 1 << 9,   /* waiting for the peer's FIN after ours */
  WEFT__C_HIGH = 1 << 10     /* above the high watermark (owes on_writable) */
};

struct weft_conn {
  weft__stream_t h;
  weft__worker_t *w;
  weft__wlistener_t *wl;
  weft__framer_t fr;
  weft__buf_t wq;      /* output not yet handed to the kernel */
  weft__buf_t wing;    /* output a uv_write is writing */
  uv_write_t wreq;
  uv_shutdown_t sreq;
  weft__list_t node;   /* in the worker's connections */
  weft__list_t dirty;  /* in the worker's flush list */
  weft__list_t linger; /* in the worker's linger list */
  uint64_t linger_deadline;
  uint64_t id;
  void *data;
  unsigned flags;
  int close_reason;
  char peer[64];
};

struct weft__worker {
  weft_engine_t *e;
  int id;
  uv_loop_t loop;
  uv_thread_t thread;
  int thread_started;
  uv_async_t async;   /* wakes the loop for stop requests */
  uv_check_t check;   /* flushes output once per loop iteration */
  uv_timer_t timer;   /* linger deadlines and the shutdown grace */
  weft__wlistener_t *lsn;
  size_t nlsn;
  uint8_t *scratch;
  weft__stream_t spare; /* accepts-and-closes when a connection can't be
                           allocated, so the listener never stalls */
  int spare_busy;
  weft__buf_t stage;  /* encoded output of one batch, before the kernel */
  weft_conn_t *stage_owner;
  weft__list_t conns;
  weft__list_t dirty;
  weft__list_t lingering;
  size_t nconns;
  int stop_seen;      /* 0, 1 graceful, 2 forced */
  int alive;          /* async handle usable (under engine lock) */
  uint64_t grace_deadline;
};

struct weft_engine {
  weft__config_t *config;
  weft__plugins_t plugins;
  int plugins_ready;
  weft__listener_t *listeners;
  size_t nlisteners;
  weft__worker_t *workers;
  int nworkers;
  uv_mutex_t lock;    /* guards stop_req and workers' alive flags */
  int stop_req;
  int started;
};

/* listener.c */
int weft__listener_bind(weft__wlistener_t *wl);
void weft__listener_close(weft__wlistener_t *wl);

/* conn.c */
void weft__conn_accept(weft__wlistener_t *wl);
void weft__conn_close(weft_conn_t *c, int reason, const char *detail,
                      int abort);
void weft__conn_shutdown(weft_conn_t *c);
/* Backpressure relieved: decode what was held back, then read again. */
void weft__conn_resume(weft_conn_t *c);
void weft__conn_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

/* conn_write.c */
void weft__conn_flush(weft_conn_t *c);
size_t weft__conn_queued(const weft_conn_t *c);
void weft__worker_flush_all(weft__worker_t *w);

/* worker.c */
int weft__worker_init(weft__worker_t *w, weft_engine_t *e, int id);
int weft__worker_start(weft__worker_t *w);
/* Wakes the worker to see a stop request.  Call with the engine lock held. */
void weft__worker_wake(weft__worker_t *w);
void weft__worker_conn_gone(weft__worker_t *w);
void weft__worker_linger(weft__worker_t *w, weft_conn_t *c);
/* Closes every handle and runs the loop dry; for start-up failures. */
void weft__worker_teardown(weft__worker_t *w);

#endif /* WEFT_CORE_INTERNAL_H */
