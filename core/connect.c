/*
 * Outbound connections: weft_connect() makes the connection at once, then
 * connects a non-blocking socket of our own, watched with uv_poll (as the
 * accept loop does), under connect_timeout, retrying with a doubling
 * backoff.  A host name is resolved first, at each attempt (resolve.c,
 * c-ares on the worker's loop), and its addresses are tried in turn.
 * Once the socket is connected it is handed to the connection's libuv
 * handle and the connection runs like an accepted one.  What the handler
 * sent meanwhile waits in the connection's queue (conn_write.c).
 */
#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "internal.h"

__thread weft__worker_t *weft__tls_worker;

typedef struct weft__connector weft__connector_t;

/* One name lookup; outlives an attempt that gave up on it. */
typedef struct weft__lookup {
  weft__connector_t *k;
} weft__lookup_t;

struct weft__connector {
  weft__list_t node; /* in its client's connecting list */
  weft_conn_t *c;    /* NULL once the attempt is over */
  weft__addr_t addr; /* the address being tried */
  char *host;        /* a host name to resolve, NULL for a numeric address */
  char port[8];
  weft__lookup_t *lookup; /* the lookup in progress, NULL when none */
  struct addrinfo *ai;    /* what the name resolved to */
  struct addrinfo *next;  /* the next of them to try */
  const char *why;        /* a lookup's failure, for the close reason */
  int fd;           /* the socket being connected, -1 when none */
  int err;          /* a failure to report from the timer, errno value */
  uint32_t attempt; /* attempts made */
  uint64_t backoff; /* the next wait before a retry */
  uv_timer_t timer; /* connect_timeout, backoff, deferred failures */
  uv_poll_t poll;   /* writable: the attempt finished */
  int polling;      /* poll initialised and not yet closed */
  int handles;      /* libuv handles and lookups not yet over: freed at 0 */
};

static void weft__connector_unref(weft__connector_t *k) {
  if (--k->handles > 0)
    return;
  weft__resolve_free(k->ai);
  free(k->host);
  free(k);
}

static void weft__connector_handle_closed(uv_handle_t *h) {
  weft__connector_t *k = h->data;

  if (h == (uv_handle_t *)&k->poll)
    k->polling = 0;
  weft__connector_unref(k);
}

/* Gives up on a lookup in progress: its callback only cleans up. */
static void weft__connector_drop_lookup(weft__connector_t *k) {
  k->lookup = NULL;
}

static void weft__connector_stop_poll(weft__connector_t *k) {
  if (k->polling == 1) {
    k->polling = 2; /* closing */
    uv_close((uv_handle_t *)&k->poll, weft__connector_handle_closed);
  }
}

/* The attempt is over either way: release what it holds. */
static void weft__connector_done(weft__connector_t *k) {
  weft__connector_drop_lookup(k);
  weft__connector_stop_poll(k);
  if (k->fd >= 0)
    close(k->fd);
  k->fd = -1;
  weft__list_remove(&k->node);
  k->c = NULL;
  uv_close((uv_handle_t *)&k->timer, weft__connector_handle_closed);
}

static weft__connector_t *weft__connector_of(weft_conn_t *c) {
  weft_client_t *cl = c->wl->l->client;
  weft__list_t *n;

  for (n = cl->connecting.next; n != &cl->connecting; n = n->next)
    if (WEFT__CONTAINER_OF(n, weft__connector_t, node)->c == c)
      return WEFT__CONTAINER_OF(n, weft__connector_t, node);
  return NULL;
}

void weft__connect_abort(weft_conn_t *c) {
  weft__connector_t *k = weft__connector_of(c);

  c->flags &= ~(unsigned)WEFT__C_CONNECTING;
  if (k != NULL)
    weft__connector_done(k);
}

static const char *weft__connector_addr(const weft__connector_t *k, char *buf,
                                        size_t len) {
  char ip[64];

  if (k->addr.family == AF_UNIX) {
    snprintf(buf, len, "unix:%s", k->addr.unix_path);
  } else if (k->host != NULL) {
    if (k->addr.family == 0) {
      snprintf(buf, len, "%s:%s", k->host, k->port);
    } else {
      weft__addr_format((const struct sockaddr *)&k->addr.ss, ip, sizeof(ip));
      snprintf(buf, len, "%s:%s (%s)", k->host, k->port, ip);
    }
  } else {
    weft__addr_format((const struct sockaddr *)&k->addr.ss, buf, len);
  }
  return buf;
}

static void weft__connect_attempt(weft__connector_t *k);
static void weft__connect_dial(weft__connector_t *k);

/* The next address the name resolved to, if any: 1 when there is one. */
static int weft__connect_next_addr(weft__connector_t *k) {
  struct addrinfo *a = k->next;

  while (a != NULL && a->ai_family != AF_INET && a->ai_family != AF_INET6)
    a = a->ai_next;
  if (a == NULL || a->ai_addrlen > sizeof(k->addr.ss))
    return 0;
  k->next = a->ai_next;
  memset(&k->addr, 0, sizeof(k->addr));
  memcpy(&k->addr.ss, a->ai_addr, a->ai_addrlen);
  k->addr.family = a->ai_family;
  weft__peer_pack(&k->c->peer_addr, (const struct sockaddr *)&k->addr.ss);
  return 1;
}

/* The last try's poll handle may still be closing: then come back. */
static int weft__connect_poll_busy(uv_timer_t *t, uv_timer_cb again) {
  weft__connector_t *k = t->data;

  if (k->polling == 0)
    return 0;
  uv_timer_start(t, again, 1, 0);
  return 1;
}

/* The next address of the same attempt. */
static void weft__connect_next_cb(uv_timer_t *t) {
  if (!weft__connect_poll_busy(t, weft__connect_next_cb))
    weft__connect_dial(t->data);
}

static void weft__connect_retry_cb(uv_timer_t *t) {
  if (!weft__connect_poll_busy(t, weft__connect_retry_cb))
    weft__connect_attempt(t->data);
}

/* An attempt failed with errno err: retry after a backoff, or give up. */
static void weft__connect_failed(weft__connector_t *k, int err) {
  weft_conn_t *c = k->c;
  weft_client_t *cl = c->wl->l->client;
  char addr[128], detail[256];
  int code;

  weft__connector_stop_poll(k);
  if (k->fd >= 0)
    close(k->fd);
  k->fd = -1;
  weft__connector_addr(k, addr, sizeof(addr));
  weft__connector_drop_lookup(k);
  /* A name with more addresses: the next one, within the same attempt. */
  if (k->why == NULL && !c->wl->w->stop_seen &&
      !(c->flags & WEFT__C_CLOSING) && weft__connect_next_addr(k)) {
    weft_log(WEFT_LOG_DEBUG,
             "client \"%s\" conn #%llu: connecting to %s failed (%s); "
             "trying its next address",
             cl->name, (unsigned long long)c->id, addr, strerror(err));
    uv_timer_start(&k->timer, weft__connect_next_cb, 0, 0);
    return;
  }
  if (k->attempt <= cl->retries && !c->wl->w->stop_seen &&
      !(c->flags & WEFT__C_CLOSING)) {
    weft_log(WEFT_LOG_INFO,
             "client \"%s\" conn #%llu: connecting to %s failed (%s); "
             "attempt %u of %u in %llu ms",
             cl->name, (unsigned long long)c->id, addr,
             k->why != NULL ? k->why : strerror(err), k->attempt + 1,
             cl->retries + 1, (unsigned long long)k->backoff);
    uv_timer_start(&k->timer, weft__connect_retry_cb, k->backoff, 0);
    k->backoff *= 2;
    if (k->backoff > cl->backoff_max_ms)
      k->backoff = cl->backoff_max_ms;
    return;
  }
  code = k->why != NULL       ? WEFT_ENOENT
         : err == ETIMEDOUT    ? WEFT_ETIMEDOUT
         : err == ECONNREFUSED ? WEFT_ECONNREFUSED
         : err == ENOMEM       ? WEFT_ENOMEM
                               : WEFT_EIO;
  if (k->why != NULL)
    snprintf(detail, sizeof(detail), "connecting to %s failed: cannot "
             "resolve \"%s\": %s", addr, k->host, k->why);
  else
    snprintf(detail, sizeof(detail), "connecting to %s failed: %s", addr,
             strerror(err));
  weft_log(WEFT_LOG_WARN, "client \"%s\" conn #%llu: %s (%u attempt%s)",
           cl->name, (unsigned long long)c->id, detail, k->attempt,
           k->attempt == 1 ? "" : "s");
  WEFT__STAT_ADD(&c->wl->stats, connect_failures, 1);
  weft__connector_done(k);
  c->flags &= ~(unsigned)WEFT__C_CONNECTING;
  weft__conn_close(c, code, detail, 1);
}

static void weft__connect_timeout_cb(uv_timer_t *t) {
  weft__connector_t *k = t->data;

  weft__connect_failed(k, k->err ? k->err : ETIMEDOUT);
}

/* The socket is connected: the connection takes it over. */
static void weft__connect_established(weft__connector_t *k) {
  weft_conn_t *c = k->c;
  weft__worker_t *w = c->wl->w;
  int fd = k->fd, r;

  weft__connector_stop_poll(k);
  r = weft__conn_open_fd(c, k->addr.family, fd);
  if (r != 0) {
    weft__connect_failed(k, -r);
    return;
  }
  k->fd = -1; /* the handle owns it now */
  weft__connector_done(k);
  c->flags &= ~(unsigned)WEFT__C_CONNECTING;
  c->last_io = weft__tick_now(w);
  weft_log(WEFT_LOG_DEBUG, "client \"%s\" conn #%llu: connected to %s",
           c->wl->l->conf->name, (unsigned long long)c->id, weft_conn_peer(c));
  /* Closed meanwhile: what it queued still goes out, then our FIN. */
  if (!(c->flags & WEFT__C_CLOSING)) {
    if (c->wl->hvt->on_open != NULL && (r = c->wl->hvt->on_open(c)) != 0) {
      weft__conn_close(c, r < 0 ? r : WEFT_EHANDLER, "refused by the handler",
                       0);
      return;
    }
    if (c->flags & WEFT__C_CLOSING)
      return;
    /* Held by its handler: weft_conn_read_start() starts it later. */
    c->flags &= ~(unsigned)(c->flags & WEFT__C_HELD ? 0 : WEFT__C_PAUSED);
    if (!(c->flags & WEFT__C_HELD) && weft__conn_read_start(c) != 0) {
      weft__conn_close(c, WEFT_EIO, "cannot start reading", 1);
      return;
    }
    weft__timer_schedule(c);
  }
  weft__conn_flush(c);
}

static void weft__connect_poll_cb(uv_poll_t *p, int status, int events) {
  weft__connector_t *k = p->data;
  socklen_t len = sizeof(int);
  int soerr = 0;

  (void)events;
  if (k->c == NULL || k->polling != 1)
    return;
  uv_timer_stop(&k->timer);
  /* libuv reports POLLERR as UV_EBADF: the socket knows the real error. */
  if (getsockopt(k->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0)
    soerr = errno;
  else if (soerr == 0 && status < 0)
    soerr = -status;
  if (soerr != 0)
    weft__connect_failed(k, soerr);
  else
    weft__connect_established(k);
}

/* A lookup finished: try its first address, or fail the attempt. */
static void weft__connect_resolved(void *arg, struct addrinfo *list,
                                   const char *why) {
  weft__lookup_t *l = arg;
  weft__connector_t *k = l->k;

  if (k->lookup != l || k->c == NULL) {
    /* Given up on (timed out, closed, stopping): only clean up. */
    free(l);
    weft__resolve_free(list);
    weft__connector_unref(k);
    return;
  }
  free(l);
  k->lookup = NULL;
  k->handles--; /* the connection still holds k */
  uv_timer_stop(&k->timer);
  weft__resolve_free(k->ai); /* the last attempt's */
  k->ai = k->next = list;
  if (list == NULL || !weft__connect_next_addr(k)) {
    k->why = why != NULL ? why : "no IPv4 or IPv6 address";
    weft__connect_failed(k, ENOENT);
    return;
  }
  weft__connect_dial(k);
}

/* A name: look it up (again at each attempt, as it may change). */
static void weft__connect_lookup(weft__connector_t *k) {
  weft_client_t *cl = k->c->wl->l->client;
  weft__lookup_t *l = malloc(sizeof(*l));
  int r;

  if (l == NULL) {
    k->err = ENOMEM;
    uv_timer_start(&k->timer, weft__connect_timeout_cb, 0, 0);
    return;
  }
  l->k = k;
  k->lookup = l;
  k->handles++;
  r = weft__resolve(k->c->wl->w, k->host, k->port, weft__connect_resolved, l);
  if (r != 0) {
    k->lookup = NULL;
    k->handles--;
    free(l);
    k->err = ENOMEM;
    if (r != WEFT_ENOMEM)
      k->why = "the resolver (c-ares) could not start";
    uv_timer_start(&k->timer, weft__connect_timeout_cb, 0, 0);
    return;
  }
  /* Still out (an answer from /etc/hosts comes at once): connect_timeout
   * bounds the lookup too. */
  if (k->lookup == l)
    uv_timer_start(&k->timer, weft__connect_timeout_cb, cl->connect_timeout_ms,
                   0);
}

static void weft__connect_attempt(weft__connector_t *k) {
  k->attempt++;
  k->err = 0;
  k->why = NULL;
  if (k->host != NULL) {
    memset(&k->addr, 0, sizeof(k->addr));
    k->next = NULL;
    weft__connect_lookup(k);
    return;
  }
  weft__connect_dial(k);
}

/* Connects a socket to k->addr, watched until it is done. */
static void weft__connect_dial(weft__connector_t *k) {
  weft_conn_t *c = k->c;
  weft_client_t *cl = c->wl->l->client;
  const struct sockaddr *sa = (const struct sockaddr *)&k->addr.ss;
  struct sockaddr_un un;
  socklen_t len;
  int fd, r;

  k->err = 0;
  if (k->addr.family == AF_UNIX) {
    memset(&un, 0, sizeof(un));
    un.sun_family = AF_UNIX;
    memcpy(un.sun_path, k->addr.unix_path, sizeof(un.sun_path));
    sa = (const struct sockaddr *)&un;
    len = sizeof(un);
  } else {
    len = k->addr.family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                     : sizeof(struct sockaddr_in);
  }
  fd = socket(k->addr.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    k->err = errno;
  } else if (connect(fd, sa, len) != 0 && errno != EINPROGRESS) {
    k->err = errno == EAGAIN ? ECONNREFUSED : errno; /* a full Unix backlog */
    close(fd);
  } else if ((r = uv_poll_init(&c->wl->w->loop, &k->poll, fd)) != 0 ||
             (k->poll.data = k, k->polling = 1, k->handles++,
              uv_poll_start(&k->poll, UV_WRITABLE, weft__connect_poll_cb)) !=
                 0) {
    k->err = r != 0 ? -r : EIO;
    close(fd);
    weft__connector_stop_poll(k);
  } else {
    k->fd = fd;
    uv_timer_start(&k->timer, weft__connect_timeout_cb, cl->connect_timeout_ms,
                   0);
    return;
  }
  /* Failures are reported from the loop, never inside weft_connect(). */
  uv_timer_start(&k->timer, weft__connect_timeout_cb, 0, 0);
}

int weft_connect(weft_client_t *cl, const char *address, void *data,
                 weft_conn_t **out) {
  weft__worker_t *w = cl != NULL ? cl->wl.w : NULL;
  weft__connector_t *k;
  weft_conn_t *c;
  void *cs = NULL;
  int r;

  *out = NULL;
  if (w == NULL || cl->freed || weft__tls_worker != w || address == NULL)
    return WEFT_EINVAL;
  if (w->stop_seen == 2)
    return WEFT_ESHUTDOWN;
  k = calloc(1, sizeof(*k));
  if (k == NULL)
    return WEFT_ENOMEM;
  if (weft__addr_parse(address, &k->addr) != 0) {
    char host[256];

    r = weft__addr_name(address, host, sizeof(host), k->port);
    if (r == 0 && (k->host = strdup(host)) == NULL)
      r = WEFT_ENOMEM;
    if (r != 0) {
      free(k);
      return r;
    }
    k->addr.family = 0; /* a TCP handle; the family comes with the lookup */
  }
  c = weft__conn_new(&w->loop, k->addr.family);
  if (c == NULL) {
    free(k->host);
    free(k);
    return WEFT_ENOMEM;
  }
  if (cl->wl.cvt->conn_init != NULL &&
      (r = cl->wl.cvt->conn_init(cl->wl.cstate, &cs)) != 0) {
    /* Nothing counted yet: the handle just goes. */
    c->h.handle.data = c;
    uv_close(&c->h.handle, (uv_close_cb)free);
    free(k->host);
    free(k);
    return r;
  }
  c->data = data;
  weft__peer_pack(&c->peer_addr, (const struct sockaddr *)&k->addr.ss);
  cl->owner->nconns++; /* the owner's handler outlives its connections */
  __atomic_add_fetch(&cl->l.nconns, 1, __ATOMIC_RELAXED);
  weft__conn_register(c, &cl->wl, cs);
  c->flags = WEFT__C_OUTBOUND | WEFT__C_CONNECTING | WEFT__C_OPEN;
  k->c = c;
  k->fd = -1;
  k->backoff = cl->backoff_ms;
  k->timer.data = k;
  uv_timer_init(&w->loop, &k->timer);
  k->handles = 1;
  weft__list_push(&cl->connecting, &k->node);
  weft__connect_attempt(k);
  *out = c;
  return 0;
}

int weft_conn_connecting(const weft_conn_t *c) {
  return (c->flags & WEFT__C_CONNECTING) != 0;
}
