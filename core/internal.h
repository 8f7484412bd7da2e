/*
 * The engine's private types: engine, workers, per-worker listeners and
 * connections.  Never installed.
 */
#ifndef WEFT_CORE_INTERNAL_H
#define WEFT_CORE_INTERNAL_H

#include <stdint.h>
#include <string.h>

#include <uv.h>

#include <weft/weft.h>
#include <weft/connect.h>

#include "buf.h"
#include "conf.h"
#include "framer.h"
#include "list.h"
#include "plugin_loader.h"

/* Per-worker read buffer: one read's worth, reused by every connection. */
#define WEFT__SCRATCH_SIZE (64 * 1024)
/* How long a closing connection waits for the peer's FIN after ours. */
#define WEFT__LINGER_MS 2000
/* Timer wheel: granularity of every connection deadline, and its span. */
#define WEFT__WHEEL_TICK_MS 100
#define WEFT__WHEEL_SLOTS 1024

/* What a connection's earliest deadline is for. */
enum { WEFT__T_NONE, WEFT__T_IDLE, WEFT__T_FRAME, WEFT__T_WRITE, WEFT__T_CLOSE };
/* Stage buffer above this size is freed after a flush. */
#define WEFT__STAGE_KEEP (256 * 1024)

typedef struct weft__worker weft__worker_t;
typedef struct weft__resolver weft__resolver_t;

/* A piece of a staged batch: copied bytes in the stage, or a reference. */
typedef struct weft__piece {
  const uint8_t *ref; /* NULL: stage bytes at off */
  size_t off;
  size_t len;
} weft__piece_t;

/* Where a stage stood, to undo an encoder that failed half-way. */
typedef struct weft__stage_mark {
  size_t len, npieces, mark, ref_bytes;
} weft__stage_mark_t;
/* Frames decoded ahead of an on_frame() handler that stopped (conn.c). */
typedef struct weft__held weft__held_t;

/* The slow path's state: an idle connection carries none of it. */
typedef struct weft__wstate {
  weft__buf_t wq;   /* output not yet handed to the kernel */
  weft__buf_t wing; /* output a uv_write is writing */
  uv_write_t wreq;
  uv_shutdown_t sreq;
  uint64_t handed; /* bytes the kernel took since this state was made */
  int64_t taken;   /* bytes the peer had taken at the last check */
  weft__held_t *held; /* frames to deliver first when reading resumes */
} weft__wstate_t;

/*
 * Counters.  Each is written by one worker thread only (its own listener
 * copy), with relaxed atomic stores so another thread may read them
 * (stats requests, SIGUSR1) without tearing; no lock, no locked add.
 */
#define WEFT__STATS_MAP(XX)                                                    \
  XX(conns_open)                                                               \
  XX(conns_total)                                                              \
  XX(frames_in)                                                                \
  XX(frames_out)                                                               \
  XX(bytes_in)                                                                 \
  XX(bytes_out)                                                                \
  XX(decode_errors)                                                            \
  XX(timeouts_idle)                                                            \
  XX(timeouts_frame)                                                           \
  XX(timeouts_write)                                                           \
  XX(refused_max_connections)                                                  \
  XX(refused_per_ip)                                                           \
  XX(refused_nomem)                                                            \
  XX(accept_pauses)                                                            \
  XX(backpressure_pauses)                                                      \
  XX(shutdown_forced)                                                          \
  XX(messages_in)                                                              \
  XX(frames_discarded)                                                         \
  XX(connect_failures)

typedef struct weft__stats {
#define WEFT__STATS_FIELD(name) uint64_t name;
  WEFT__STATS_MAP(WEFT__STATS_FIELD)
#undef WEFT__STATS_FIELD
} weft__stats_t;

#define WEFT__STAT_ADD(st, field, n)                                           \
  __atomic_store_n(&(st)->field, (st)->field + (uint64_t)(n), __ATOMIC_RELAXED)
#define WEFT__STAT_SUB(st, field, n)                                           \
  __atomic_store_n(&(st)->field, (st)->field - (uint64_t)(n), __ATOMIC_RELAXED)

/*
 * Connection times, in wheel ticks since the worker's epoch, rounded up so
 * a deadline computed from one is never early; 0 means "not set".  32 bits
 * last 13 years.
 */
typedef uint32_t weft__tick_t;

/* Connections per peer address, shared by a listener's workers. */
typedef struct weft__ipcount weft__ipcount_t;

typedef struct weft__wlistener weft__wlistener_t;

/*
 * A configured listener with its plugins and one weft__wlistener_t per
 * worker.  Active ones serve; a reload retires those it removes or
 * changes, and they live on until their last connection has closed.
 */
typedef struct weft__listener {
  weft__list_t node;   /* in the engine's active or retired list */
  weft__config_t *cfg; /* holds conf (a reference) */
  const weft__listener_conf_t *conf;
  weft__wlistener_t *wl; /* [nworkers] */
  int nworkers;
  int ndead;           /* workers done with it (engine lock) */
  int keep;            /* a reload in progress keeps it */
  int marked;          /* dead everywhere; waiting for mailboxes to drain */
  weft__plugin_t *codec;
  weft__plugin_t *handler;
  int port;       /* the port bound, once known (for port 0) */
  int unix_bound; /* we created the socket file: remove it when done */
  int unix_fd;    /* the one Unix-domain socket all workers accept on */
  uint64_t nconns; /* open connections over all workers (atomic) */
  uv_mutex_t ip_lock;
  weft__ipcount_t **ip_buckets; /* NULL unless max_connections_per_ip */
  /* Codecs its handler's clients loaded: released with the listener, on
   * the main thread, like its own plugins. */
  weft__plugin_t **extra;
  size_t nextra;
  struct weft_client *client; /* an outbound client's own listener, or NULL */
} weft__listener_t;

typedef union weft__stream {
  uv_handle_t handle;
  uv_stream_t stream;
  uv_tcp_t tcp;
  uv_pipe_t pipe;
} weft__stream_t;

/* A listener bound on one worker, with that worker's plugin instances. */
struct weft__wlistener {
  weft__listener_t *l;
  weft__worker_t *w;
  size_t nconns;    /* connections still using these instances */
  int retired;      /* a reload removed it from its worker */
  int handles_open; /* poll and retry not yet closed */
  int dead;         /* instances destroyed (engine lock) */
  uint64_t drain_mark; /* its worker's mailbox drains when it was seen dead */
  int fd;           /* the listening socket, -1 when none */
  uv_poll_t poll;   /* readable: connections to accept */
  uv_timer_t retry; /* resumes accepting after a descriptor shortage */
  int polling;      /* poll and retry initialised (must be closed) */
  int paused;       /* accepting paused by EMFILE/ENFILE */
  int short_of_fds; /* in a shortage episode (logged once) */
  int closing;
  weft__stats_t stats;
  uint64_t last_refusal_log; /* rate-limits refusal lines to one a second */
  const weft_codec_vtable_t *cvt;
  void *cstate;
  int cstate_made;
  const weft_handler_vtable_t *hvt;
  void *hstate;
  int hstate_made;
  /* Clients its handler made (weft_client_new): listed for the counters;
   * their memory goes with the listener, on the main thread. */
  weft__list_t clients;
};

/*
 * A handler's outbound client (weft_client_new): a listener with no socket,
 * on one worker, whose connections are opened by weft_connect().
 */
struct weft_client {
  weft__list_t node;       /* in its owner's clients */
  char *name;              /* "LISTENER/NAME" */
  weft__listener_t l;      /* settings, codec and counters of its connections */
  weft__listener_conf_t conf;
  weft__wlistener_t wl;
  weft__wlistener_t *owner; /* the listener copy whose handler made it */
  weft_handler_vtable_t hvt;
  weft__list_t connecting; /* attempts in progress (connect.c) */
  uint64_t connect_timeout_ms, backoff_ms, backoff_max_ms;
  uint32_t retries;
  int freed; /* weft_client_free ran; memory goes with the listener */
};

/*
 * A peer's address in 24 bytes, where a sockaddr_in6 takes 28: everything
 * but the flow label, which neither the per-address limit nor a log line
 * uses.  Unpacked on demand.
 */
typedef struct weft__peer {
  uint16_t family; /* AF_INET, AF_INET6, or AF_UNSPEC */
  uint16_t port;   /* network order */
  uint32_t scope_id;
  uint8_t addr[16]; /* the first 4 for AF_INET */
} weft__peer_t;

static inline void weft__peer_pack(weft__peer_t *a, const struct sockaddr *sa) {
  memset(a, 0, sizeof(*a));
  if (sa->sa_family == AF_INET) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
    a->family = AF_INET;
    a->port = in->sin_port;
    memcpy(a->addr, &in->sin_addr, 4);
  } else if (sa->sa_family == AF_INET6) {
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
    a->family = AF_INET6;
    a->port = in6->sin6_port;
    a->scope_id = in6->sin6_scope_id;
    memcpy(a->addr, &in6->sin6_addr, 16);
  }
}

static inline const struct sockaddr *
weft__peer_unpack(const weft__peer_t *a, struct sockaddr_storage *ss) {
  memset(ss, 0, sizeof(*ss));
  ss->ss_family = a->family;
  if (a->family == AF_INET) {
    struct sockaddr_in *in = (struct sockaddr_in *)ss;
    in->sin_port = a->port;
    memcpy(&in->sin_addr, a->addr, 4);
  } else if (a->family == AF_INET6) {
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    in6->sin6_port = a->port;
    in6->sin6_scope_id = a->scope_id;
    memcpy(&in6->sin6_addr, a->addr, 16);
  }
  return (const struct sockaddr *)ss;
}

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
  WEFT__C_HIGH = 1 << 10,    /* above the high watermark (owes on_writable) */
  WEFT__C_MEMORY = 1 << 11,    /* in memory (weft_embed): no socket, no handle */
  WEFT__C_EOF_KEPT = 1 << 12,   /* on_eof kept it open after the peer's FIN */
  WEFT__C_CONNECTING = 1 << 13, /* outbound, not established yet */
  WEFT__C_HELD = 1 << 14,       /* weft_conn_read_stop() by a handler */
  WEFT__C_OUTBOUND = 1 << 15    /* opened by weft_connect() */
};

struct weft_conn {
  weft__wlistener_t *wl; /* its listener copy (and, through it, worker) */
  weft__framer_t fr;
  weft__wstate_t *ws;  /* pending output and write requests, on demand */
  weft__list_t node;   /* in the worker's connections */
  weft__list_t tnode;  /* in a timer wheel slot */
  uint64_t id;
  void *data;
  weft__tick_t last_io;        /* last byte in or out */
  weft__tick_t frame_start;    /* a pending frame began, 0 if none */
  weft__tick_t write_since;    /* output began waiting, 0 if none */
  /* One or the other: a connection drains before it is closing, and
   * nothing reads drain_left once it is. */
  union {
    int32_t drain_left;          /* stopping: bytes received before it */
    weft__tick_t close_deadline; /* closing: must be over by then */
  } until;
  uint16_t flags;
  int16_t close_reason; /* WEFT_E* codes are small */
  uint32_t slot;        /* in the worker's mailbox slots, 0 if never ref'd */
  weft__peer_t peer_addr; /* family AF_UNSPEC for a Unix-domain peer */
  /* Last, and allocated to the size of the one it is: a connection is
   * mostly its libuv handle, and idle connections must stay small. */
  weft__stream_t h;
};


/* A message in a worker's mailbox. */
typedef struct weft__msg {
  uint32_t slot; /* target connection, 0 for a function */
  uint32_t gen;
  void *msg;
  void (*free_msg)(void *msg);
  void (*fn)(void *arg);
} weft__msg_t;

/* Connections that have references: slot -> connection, by generation. */
typedef struct weft__slot {
  weft_conn_t *conn; /* NULL when free */
  uint32_t gen;      /* bumped when the connection closes */
  uint32_t next_free;
} weft__slot_t;

struct weft__worker {
  weft_engine_t *e;
  int id;
  /* The mailbox: a bounded ring, filled by any thread under mbox_lock. */
  uv_mutex_t mbox_lock;
  weft__msg_t *mbox;
  size_t mbox_cap, mbox_head, mbox_len;
  int mbox_open;
  uint64_t drains;     /* mailbox drains done (atomic: read by main) */
  weft__slot_t *slots; /* [nslots], entry 0 unused; worker thread only */
  uint32_t nslots, free_slot;
  uv_loop_t loop;
  uv_thread_t thread;
  int thread_started;
  uv_async_t async;   /* wakes the loop for stop requests */
  uv_check_t check;   /* flushes output once per loop iteration */
  uv_pipe_t reserve;  /* never opened: see weft__worker_init */
  uv_timer_t timer;   /* the wheel's tick, and the shutdown grace */
  weft__list_t wheel[WEFT__WHEEL_SLOTS];
  size_t wheel_pos;   /* slot of wheel_time */
  uint64_t wheel_time; /* loop time of the last tick processed */
  size_t wheel_count; /* connections filed in the wheel */
  uint64_t epoch;     /* loop time of tick 0 */
  weft__resolver_t *resolver; /* made on the first host name looked up */
  weft__wlistener_t **lsn; /* the listeners this worker accepts on */
  size_t nlsn;
  weft__wlistener_t **next_lsn; /* handed over by a reload (engine lock) */
  size_t next_nlsn;
  int swap_pending;
  uint8_t *scratch;
  weft__buf_t stage;  /* encoded output of one batch, before the kernel */
  weft_conn_t *stage_owner;
  weft__piece_t *pieces; /* the batch as a vector, when it references input */
  size_t npieces, pieces_cap;
  size_t stage_mark;  /* stage bytes already in a piece */
  size_t ref_bytes;   /* referenced bytes in the batch */
  weft_conn_t *zc_conn; /* in its read callback: its input may be referenced */
  const uint8_t *zc_lo, *zc_hi;
  /* The batch a handler's on_frames is handling, as decode_many returned
   * it: replies made of exactly those frames are marked for the encoder
   * (weft_out_decoded). */
  weft_conn_t *dec_conn;
  const weft_frame_t *dec_frames;
  size_t dec_n;
  weft__list_t conns;
  /*
   * Connections with output queued outside their own read callback, to
   * flush after this iteration's I/O.  An array, not a list node in each
   * connection: idle connections stay small.  A connection closed meanwhile
   * is only freed after the flush (libuv's close phase follows its check
   * phase), and its cleared DIRTY flag makes the flush skip it.
   */
  weft_conn_t **dirty;
  size_t ndirty, dirty_cap;
  size_t nconns;
  int stop_seen;      /* 0, 1 graceful, 2 forced */
  int grace_expired;
  int alive;          /* async handle usable (under engine lock) */
  uint64_t grace_deadline;
};

struct weft_engine {
  weft__config_t *config; /* the running configuration (a reference) */
  /* What the last load refused (NULL if unreadable) and its problem count,
   * so weft_engine_check() can still check its plugins. */
  weft__config_t *refused;
  int refused_problems;
  weft__plugins_t plugins;
  int plugins_ready;
  weft__list_t active;    /* weft__listener_t serving now */
  weft__list_t retired;   /* removed by a reload, draining (engine lock) */
  size_t nactive;
  weft__worker_t *workers;
  int nworkers;
  uv_mutex_t lock;    /* guards stop_req, workers' alive flags, the
                         listener lists and reload hand-overs */
  uint64_t grace_ms;  /* shutdown_grace as started: workers read this, never
                         the configuration a reload may replace */
  int stop_req;
  int started;
};

/* lsn.c */
/*
 * Builds a listener for lc of cfg: loads its plugins and creates one codec
 * and handler instance per worker (check: one, and binds nothing).  Logs
 * every problem; returns their number, and *out only when there are none.
 * A codec or handler a refused configuration could not read is skipped
 * (not counted again): then *out stays NULL even with 0.
 */
int weft__lsn_new(weft_engine_t *e, weft__config_t *cfg,
                  const weft__listener_conf_t *lc, int check,
                  weft__listener_t **out);
/*
 * Runs one plugin's create() with its options; the first instance also
 * reports options nobody asked for.  Logs each problem once (first) with
 * file:line; returns their number.
 */
int weft__lsn_create(weft_engine_t *e, weft__wlistener_t *wl,
                     const weft__plugin_spec_t *spec, const weft__plugin_t *p,
                     int (*create)(weft_opts_t *, void **), void **state,
                     int *made, int first);
/* Binds every worker's socket; prev holds the same address (a reload). */
int weft__lsn_bind(weft_engine_t *e, weft__listener_t *l,
                   weft__listener_t *prev);
/* Frees a listener no worker runs any more (main thread). */
void weft__lsn_free(weft_engine_t *e, weft__listener_t *l);
/* Worker side: a retired copy with no connections left is destroyed. */
void weft__wl_maybe_finish(weft__wlistener_t *wl);
/* Takes a reference on a configuration, drops one (freeing at zero). */
weft__config_t *weft__config_ref(weft__config_t *c);
void weft__config_unref(weft__config_t *c);

static inline weft__tick_t weft__tick_now(const weft__worker_t *w) {
  return (weft__tick_t)((uv_now(&w->loop) - w->epoch) / WEFT__WHEEL_TICK_MS) +
         1;
}

/* A tick, or a number of ms rounded up to ticks, as loop time. */
static inline uint64_t weft__tick_ms(const weft__worker_t *w, weft__tick_t t) {
  return w->epoch + (uint64_t)t * WEFT__WHEEL_TICK_MS;
}

static inline weft__tick_t weft__ms_ticks(uint64_t ms) {
  return (weft__tick_t)((ms + WEFT__WHEEL_TICK_MS - 1) / WEFT__WHEEL_TICK_MS);
}

/* listener.c */
/* Creates the listening socket for one worker (main thread, before start). */
int weft__listener_bind(weft__wlistener_t *wl);
/* Starts accepting on the worker's loop (worker thread or before start). */
int weft__listener_start(weft__wlistener_t *wl);
void weft__listener_close(weft__wlistener_t *wl);
/* Per-peer-address connection counting for max_connections_per_ip. */
int weft__listener_ip_acquire(weft__listener_t *l, const struct sockaddr *sa);
void weft__listener_ip_release(weft__listener_t *l, const struct sockaddr *sa);
int weft__listener_ips_init(weft__listener_t *l);
void weft__listener_free_ips(weft__listener_t *l);

/* conn.c */
/* Takes over an accepted socket: limits, handle, codec, on_open. */
void weft__conn_adopt(weft__wlistener_t *wl, int fd,
                      const struct sockaddr_storage *ss);
void weft__conn_close(weft_conn_t *c, int reason, const char *detail,
                      int abort);
void weft__conn_shutdown(weft_conn_t *c);
/* Backpressure relieved: decode what was held back, then read again. */
void weft__conn_resume(weft_conn_t *c);
void weft__conn_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);
/*
 * Files a new connection with its listener copy and worker: id, clocks,
 * lists, counters and framer.  The listener's own count (l->nconns) is the
 * caller's, taken before the connection was allocated.
 */
/* A connection with its libuv handle made (TCP, or a pipe for AF_UNIX),
 * nothing else; NULL: no memory. */
weft_conn_t *weft__conn_new(uv_loop_t *loop, int family);
void weft__conn_register(weft_conn_t *c, weft__wlistener_t *wl,
                         void *codec_conn_state);
/* The connection's handle takes fd (TCP_NODELAY for TCP).  0 or UV_E*. */
int weft__conn_open_fd(weft_conn_t *c, int family, int fd);
/* uv_read_start with the connection's callbacks; sets READING.  0 or UV_E*. */
int weft__conn_read_start(weft_conn_t *c);
/* A number unique among this process's connections. */
uint64_t weft__conn_new_id(void);
/* Graceful stop: on_shutdown, then answer what was received, then close. */
void weft__conn_begin_stop(weft_conn_t *c);
/* A fresh connection id, unique in the process. */
uint64_t weft__conn_new_id(void);
/* Frees a closed connection and its counts (after its handle closed). */
void weft__conn_release(weft_conn_t *c);

/* resolve.c: host names, with c-ares on the worker's loop. */
struct addrinfo;
/* The addresses (a list for weft__resolve_free), or NULL and why not. */
typedef void (*weft__resolve_cb)(void *arg, struct addrinfo *list,
                                 const char *why);
/* Looks host up; cb may run before this returns.  0, WEFT_ENOMEM, or
 * WEFT_EIO when the resolver cannot start (or the worker is closing). */
int weft__resolve(weft__worker_t *w, const char *host, const char *port,
                  weft__resolve_cb cb, void *arg);
void weft__resolve_free(struct addrinfo *list);
/* Cancels what is out (callbacks run now) and closes the handles. */
void weft__resolver_close(weft__worker_t *w);

/* conn_write.c */
/* The write state, made on demand; NULL: no memory. */
weft__wstate_t *weft__conn_ws(weft_conn_t *c);
void weft__conn_ws_free(weft_conn_t *c);
/* True when the peer took bytes since the last call (write timeout). */
int weft__conn_write_progress(weft_conn_t *c);
/* The request for our FIN (allocates the write state); NULL: no memory. */
uv_shutdown_t *weft__conn_shutdown_req(weft_conn_t *c);
void weft__conn_flush(weft_conn_t *c);
/* Queues c for a flush after this loop iteration's I/O. */
void weft__conn_mark_dirty(weft_conn_t *c);
/* Bytes queued and not yet written: inline, it is asked once per frame. */
static inline size_t weft__conn_queued(const weft_conn_t *c) {
  const weft__worker_t *w = c->wl->w;
  size_t n = c->ws ? c->ws->wq.len + c->ws->wing.len : 0;

  if (w->stage_owner == c)
    n += w->stage.len + w->ref_bytes;
  return n;
}
void weft__worker_flush_all(weft__worker_t *w);

/* mailbox.c */
int weft__mailbox_init(weft__worker_t *w, size_t cap);
/* Delivers what is queued (worker thread). */
void weft__mailbox_drain(weft__worker_t *w);
/* Refuses new posts and frees what is queued (at stop, worker thread). */
void weft__mailbox_close(weft__worker_t *w);
void weft__mailbox_free(weft__worker_t *w);
/* The connection is closing: its references go stale. */
void weft__mailbox_forget(weft_conn_t *c);

/* stage.c */
static inline size_t weft__stage_len(const weft__worker_t *w) {
  return w->stage.len + w->ref_bytes;
}
/* Inline: it runs once per frame sent. */
static inline void weft__stage_save(const weft__worker_t *w,
                                    weft__stage_mark_t *m) {
  m->len = w->stage.len;
  m->npieces = w->npieces;
  m->mark = w->stage_mark;
  m->ref_bytes = w->ref_bytes;
}
void weft__stage_restore(weft__worker_t *w, const weft__stage_mark_t *m);
/* Writes the batch with one try-write; copies what is left into rest
 * (all of it when s is NULL: an in-memory connection). */
int weft__stage_write(weft__worker_t *w, uv_stream_t *s, weft__buf_t *rest,
                      size_t *written);

/* timer.c */
void weft__timer_init(weft__worker_t *w);
/* Files c under its earliest deadline (after one may have moved earlier). */
void weft__timer_schedule(weft_conn_t *c);
void weft__timer_cancel(weft_conn_t *c);
void weft__timer_arm(weft__worker_t *w);
/* What a deadline of `kind` does when it passes (the wheel calls it). */
void weft__timer_expire(weft_conn_t *c, int kind);
/* True when a deadline of `kind` is running for c. */
int weft__timer_armed(const weft_conn_t *c, int kind);

/* engine.c */
/* Starts libltdl once; points the search path at c's plugin_path. */
int weft__engine_plugins(weft_engine_t *e, weft__config_t *c);
/* Logs "listener ... listening on ADDR". */
void weft__engine_announce(const weft__listener_t *l);
/* Fills sets[i] with worker i's copies of the active listeners. */
int weft__engine_worker_sets(weft_engine_t *e, weft__wlistener_t ***sets);

/* client.c, connect.c */
/* The worker whose loop runs on this thread, or NULL. */
extern __thread weft__worker_t *weft__tls_worker;
/* An outbound connection closed: its client's owner may finish now. */
void weft__client_conn_gone(weft_conn_t *c);
/* Stops an attempt in progress (the connection is closing). */
void weft__connect_abort(weft_conn_t *c);
/* Frees the clients of a listener copy (main thread, with the listener). */
void weft__clients_free(weft__wlistener_t *wl);

/* worker.c */
int weft__worker_init(weft__worker_t *w, weft_engine_t *e, int id);
int weft__worker_start(weft__worker_t *w);
/* Hands the worker a new set of listeners (a reload).  Engine lock held. */
void weft__worker_swap(weft__worker_t *w, weft__wlistener_t **lsn, size_t n);
/* Wakes the worker to see a stop request.  Call with the engine lock held. */
void weft__worker_wake(weft__worker_t *w);
void weft__worker_conn_gone(weft__worker_t *w);
/* Once per wheel tick: the shutdown grace. */
void weft__worker_tick(weft__worker_t *w);
/* Closes every handle and runs the loop dry; for start-up failures. */
void weft__worker_teardown(weft__worker_t *w);

/* embed.c: the in-memory transport of WEFT__C_MEMORY connections. */
/* Hands queued output to the peer, as much as it reads; sets *written.
 * 0 or UV_ENOMEM. */
int weft__embed_write(weft_conn_t *c, size_t *written);
/* Bytes fed by the peer and not read yet (a socket's FIONREAD). */
size_t weft__embed_unread(const weft_conn_t *c);

#endif /* WEFT_CORE_INTERNAL_H */
