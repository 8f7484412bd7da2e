/*
 * proxy: forwards each frame of a client connection to an upstream chosen
 * round robin from a list, over a connection of its own framed by the
 * upstream codec, and relays the replies back in order, framed by the
 * listener's codec.  A failed upstream is skipped until retry_after has
 * passed.  Backpressure holds end to end: while one side cannot take more,
 * the proxy stops reading the other.  See weft-proxy(7).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <weft/weft.h>

typedef struct proxy_upstream {
  char *addr;
  uint64_t down_until; /* monotonic ms; skipped until then */
} proxy_upstream_t;

/* One per listener per worker. */
typedef struct proxy {
  weft_client_t *client;
  proxy_upstream_t *up;
  size_t nup;
  size_t next; /* round robin */
  uint64_t retry_after_ms;
  int64_t max_pending;
  char *error_reply; /* answers requests an upstream failed; NULL: close */
} proxy_t;

/* One per client connection, shared with its upstream connection. */
typedef struct proxy_session {
  proxy_t *p;
  weft_conn_t *client;   /* NULL once the client closed */
  weft_conn_t *upstream; /* NULL while there is none */
  size_t up;             /* which upstream */
  int64_t pending;       /* frames sent upstream and not answered yet */
  size_t tried;          /* upstreams tried since the last connection */
  int stopping;          /* the daemon stops: one frame at a time */
  int eof;               /* the client half-closed: close after the replies */
} proxy_session_t;

static uint64_t proxy_now_ms(void) {
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void proxy_mark_down(proxy_session_t *s, const char *why) {
  proxy_upstream_t *u = &s->p->up[s->up];

  u->down_until = proxy_now_ms() + s->p->retry_after_ms;
  weft_log(WEFT_LOG_WARN, "proxy: upstream %s failed (%s): skipped for %llu ms",
           u->addr, why ? why : "closed",
           (unsigned long long)s->p->retry_after_ms);
}

/* Round robin over the upstreams that are up; when none is, the one that
 * failed longest ago, unless this connection has tried them all. */
static int proxy_pick(proxy_session_t *s, size_t *idx) {
  proxy_t *p = s->p;
  uint64_t now = proxy_now_ms(), best = UINT64_MAX;
  size_t i, k, found = p->nup;

  if (s->tried >= p->nup)
    return WEFT_EUNAVAIL;
  for (i = 0; i < p->nup; i++) {
    k = (p->next + i) % p->nup;
    if (p->up[k].down_until <= now) {
      found = k;
      break;
    }
    if (p->up[k].down_until < best) {
      best = p->up[k].down_until;
      found = k;
    }
  }
  p->next = (found + 1) % p->nup;
  *idx = found;
  return 0;
}

/* Holds the client and opens an upstream connection for it. */
static int proxy_connect(proxy_session_t *s) {
  size_t idx;
  int r;

  weft_conn_read_stop(s->client); /* until the upstream is there */
  while ((r = proxy_pick(s, &idx)) == 0) {
    s->tried++;
    s->up = idx;
    r = weft_connect(s->p->client, s->p->up[idx].addr, s, &s->upstream);
    if (r == 0)
      return 0;
    proxy_mark_down(s, weft_strerror(r));
  }
  return r;
}

/* ---- the upstream side ------------------------------------------------- */

static int proxy_up_open(weft_conn_t *u) {
  proxy_session_t *s = weft_conn_data(u);

  s->tried = 0;
  s->p->up[s->up].down_until = 0;
  if (s->client != NULL && s->pending < s->p->max_pending)
    weft_conn_read_start(s->client);
  return 0;
}

static int proxy_up_frame(weft_conn_t *u, const uint8_t *frame, size_t len) {
  proxy_session_t *s = weft_conn_data(u);
  int r;

  if (s->client == NULL)
    return 0; /* the client left: the upstream is closing anyway */
  if (s->pending == 0) {
    weft_log(WEFT_LOG_WARN, "proxy: upstream %s sent a reply nobody asked for",
             s->p->up[s->up].addr);
    weft_conn_close(s->client, WEFT_EPROTO);
    return WEFT_EPROTO;
  }
  r = weft_conn_send(s->client, frame, len);
  if (r != 0) {
    weft_conn_close(s->client, r);
    return r;
  }
  s->pending--;
  if (s->eof && s->pending == 0) {
    weft_conn_close(s->client, 0); /* its last reply is queued */
    return 0;
  }
  /* The client cannot take more: stop reading replies until it can. */
  if (!weft_conn_writable(s->client))
    weft_conn_read_stop(u);
  if (s->pending < s->p->max_pending && weft_conn_writable(u) &&
      (!s->stopping || s->pending == 0))
    weft_conn_read_start(s->client);
  return 0;
}

static void proxy_up_writable(weft_conn_t *u) {
  proxy_session_t *s = weft_conn_data(u);

  if (s->client != NULL && s->pending < s->p->max_pending && !s->stopping)
    weft_conn_read_start(s->client);
}

/* Failed requests: answered by error_reply, or the client is closed. */
static void proxy_up_close(weft_conn_t *u, int reason, const char *detail) {
  proxy_session_t *s = weft_conn_data(u);
  int64_t i;

  s->upstream = NULL;
  if (s->client == NULL) {
    free(s);
    return;
  }
  /* Closed under pending requests, or with an error: it failed. */
  if (reason != 0 || s->pending > 0)
    proxy_mark_down(s, detail);
  if (s->pending > 0) {
    if (s->p->error_reply == NULL) {
      weft_log(WEFT_LOG_WARN,
               "proxy: conn #%llu from %s: closing: %lld requests lost "
               "with upstream %s",
               (unsigned long long)weft_conn_id(s->client),
               weft_conn_peer(s->client), (long long)s->pending,
               s->p->up[s->up].addr);
      weft_conn_close(s->client, WEFT_EUNAVAIL);
      return;
    }
    for (i = 0; i < s->pending; i++)
      if (weft_conn_send(s->client, s->p->error_reply,
                         strlen(s->p->error_reply)) != 0) {
        weft_conn_close(s->client, WEFT_EUNAVAIL);
        return;
      }
    s->pending = 0;
  }
  /* Nothing in flight: carry on with another upstream. */
  if (!s->stopping && !s->eof && proxy_connect(s) == 0)
    return;
  weft_conn_close(s->client, s->stopping || s->eof ? 0 : WEFT_EUNAVAIL);
}

/* The upstream stays until its client's last reply has come. */
static void proxy_up_shutdown(weft_conn_t *u) {
  (void)u;
}

static const weft_handler_vtable_t proxy_upstream_vtable = {
    .struct_size = sizeof(weft_handler_vtable_t),
    .on_open = proxy_up_open,
    .on_frame = proxy_up_frame,
    .on_writable = proxy_up_writable,
    .on_close = proxy_up_close,
    .on_shutdown = proxy_up_shutdown,
};

/* ---- the client side --------------------------------------------------- */

static int proxy_open(weft_conn_t *c) {
  proxy_session_t *s = calloc(1, sizeof(*s));

  if (s == NULL)
    return WEFT_ENOMEM;
  s->p = weft_conn_handler_state(c);
  s->client = c;
  weft_conn_set_data(c, s);
  return proxy_connect(s);
}

static int proxy_frame(weft_conn_t *c, const uint8_t *frame, size_t len) {
  proxy_session_t *s = weft_conn_data(c);
  int r;

  if (s->upstream == NULL)
    return WEFT_EUNAVAIL; /* held while there is none: cannot happen */
  r = weft_conn_send(s->upstream, frame, len);
  if (r != 0)
    return r;
  s->pending++;
  if (!weft_conn_writable(s->upstream) || s->pending >= s->p->max_pending ||
      s->stopping)
    weft_conn_read_stop(c);
  return 0;
}

/* The client sent its last request: stay open for the replies. */
static int proxy_eof(weft_conn_t *c) {
  proxy_session_t *s = weft_conn_data(c);

  if (s->pending == 0)
    return 0;
  s->eof = 1;
  return 1;
}

static void proxy_writable(weft_conn_t *c) {
  proxy_session_t *s = weft_conn_data(c);

  if (s != NULL && s->upstream != NULL)
    weft_conn_read_start(s->upstream);
}

static void proxy_close(weft_conn_t *c, int reason, const char *detail) {
  proxy_session_t *s = weft_conn_data(c);

  (void)reason;
  (void)detail;
  if (s == NULL)
    return;
  s->client = NULL;
  if (s->upstream != NULL)
    weft_conn_close(s->upstream, 0); /* its on_close frees the session */
  else
    free(s);
}

/* Stopping: each frame read before the signal is answered before the
 * client is closed, so frames go one at a time from now on. */
static void proxy_shutdown(weft_conn_t *c) {
  proxy_session_t *s = weft_conn_data(c);

  s->stopping = 1;
  if (s->pending > 0 || s->upstream == NULL)
    weft_conn_read_stop(c);
}

/* ---- options ----------------------------------------------------------- */

static void proxy_free(proxy_t *p) {
  size_t i;

  if (p == NULL)
    return;
  weft_client_free(p->client);
  for (i = 0; i < p->nup; i++)
    free(p->up[i].addr);
  free(p->up);
  free(p->error_reply);
  free(p);
}

/* "127.0.0.1:7001, 127.0.0.1:7002": commas or spaces between. */
static int proxy_parse_upstreams(proxy_t *p, weft_opts_t *opts,
                                 const char *list) {
  const char *s = list, *e;
  proxy_upstream_t *u;
  size_t n;

  while (*s != '\0') {
    while (*s == ',' || *s == ' ' || *s == '\t')
      s++;
    if (*s == '\0')
      break;
    for (e = s; *e != '\0' && *e != ',' && *e != ' ' && *e != '\t'; e++)
      ;
    n = (size_t)(e - s);
    u = realloc(p->up, (p->nup + 1) * sizeof(*u));
    if (u == NULL)
      return WEFT_ENOMEM;
    p->up = u;
    u = &p->up[p->nup];
    u->down_until = 0;
    u->addr = malloc(n + 1);
    if (u->addr == NULL)
      return WEFT_ENOMEM;
    memcpy(u->addr, s, n);
    u->addr[n] = '\0';
    p->nup++;
    s = e;
  }
  if (p->nup == 0)
    return weft_opt_error(opts, "upstreams",
                          "needs at least one address, like "
                          "\"127.0.0.1:7001, 127.0.0.1:7002\"");
  return 0;
}

/* Keeps the first error, and goes on: --check lists every problem. */
#define PROXY_OPT(r, call)                                                     \
  do {                                                                         \
    int r_ = (call);                                                           \
    if ((r) == 0)                                                              \
      (r) = r_;                                                                \
  } while (0)

static int proxy_create(weft_opts_t *opts, void **state) {
  weft_client_conf_t conf;
  const char *list = NULL, *codec = NULL, *codec_opts = NULL, *err = NULL;
  uint64_t connect_ms = 0, idle_ms = 0, write_ms = 0;
  int64_t retries = 0;
  proxy_t *p;
  int r = 0;

  p = calloc(1, sizeof(*p));
  if (p == NULL)
    return WEFT_ENOMEM;
  PROXY_OPT(r, weft_opt_str(opts, "upstreams", NULL, &list));
  PROXY_OPT(r, weft_opt_duration(opts, "connect_timeout", 2000, 1, 3600000,
                                 &connect_ms));
  PROXY_OPT(r, weft_opt_int(opts, "retries", 0, 0, 100, &retries));
  PROXY_OPT(r, weft_opt_duration(opts, "retry_after", 1000, 0, 3600000,
                                 &p->retry_after_ms));
  PROXY_OPT(r, weft_opt_duration(opts, "upstream_idle_timeout", 0, 0, 86400000,
                                 &idle_ms));
  PROXY_OPT(r, weft_opt_duration(opts, "upstream_write_timeout", 0, 0, 86400000,
                                 &write_ms));
  PROXY_OPT(
      r, weft_opt_int(opts, "max_pending", 1024, 1, 1 << 20, &p->max_pending));
  PROXY_OPT(r, weft_opt_str(opts, "error_reply", NULL, &err));
  if (err != NULL && (p->error_reply = strdup(err)) == NULL)
    PROXY_OPT(r, WEFT_ENOMEM);
  if (list == NULL)
    PROXY_OPT(r,
              weft_opt_error(opts, NULL, "option \"upstreams\" is required"));
  else
    PROXY_OPT(r, proxy_parse_upstreams(p, opts, list));
  PROXY_OPT(r, weft_opt_str(opts, "upstream_codec", "length", &codec));
  PROXY_OPT(r, weft_opt_str(opts, "upstream_codec_options", NULL, &codec_opts));
  if (codec != NULL) {
    /* The upstream codec is checked even when other options failed. */
    memset(&conf, 0, sizeof(conf));
    conf.struct_size = sizeof(conf);
    conf.name = "upstream";
    conf.codec = codec;
    conf.codec_options = codec_opts;
    conf.handler = &proxy_upstream_vtable;
    conf.handler_state = p;
    conf.connect_timeout_ms = connect_ms;
    conf.retries = (uint32_t)retries;
    conf.idle_timeout_ms = idle_ms;
    conf.write_timeout_ms = write_ms;
    PROXY_OPT(r, weft_client_new(opts, &conf, &p->client));
  }
  if (r != 0) {
    proxy_free(p);
    return r;
  }
  *state = p;
  return 0;
}

static void proxy_destroy(void *state) {
  proxy_free(state);
}

static const weft_handler_vtable_t proxy_vtable = {
    .struct_size = sizeof(weft_handler_vtable_t),
    .create = proxy_create,
    .destroy = proxy_destroy,
    .on_open = proxy_open,
    .on_frame = proxy_frame,
    .on_writable = proxy_writable,
    .on_close = proxy_close,
    .on_shutdown = proxy_shutdown,
    .on_eof = proxy_eof,
};

WEFT_HANDLER_PLUGIN("proxy", "1.0", &proxy_vtable);
