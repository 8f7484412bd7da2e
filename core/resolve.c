/*
 * Host names for outbound connections, resolved with c-ares on the
 * worker's own loop: a query never blocks the loop or a thread of libuv's
 * pool, so a stop never waits on a slow name server (getaddrinfo() would
 * hold a pool thread, and the worker with it, for the resolver's whole
 * timeout).  One channel per worker, made on its first lookup; its sockets
 * are watched with uv_poll, its timeouts with one uv_timer, both unref'd:
 * a lookup alone does not keep a stopping worker alive.
 */
#include <stdlib.h>
#include <string.h>

#include <ares.h>

#include "internal.h"

typedef struct weft__rsock weft__rsock_t;

struct weft__resolver {
  ares_channel ch;
  uv_timer_t timer;
  weft__rsock_t *socks; /* the sockets c-ares asked us to watch */
  int closing;
};

struct weft__rsock {
  uv_poll_t poll;
  ares_socket_t fd;
  weft__resolver_t *r;
  weft__rsock_t *next;
};

typedef struct {
  weft__resolve_cb cb;
  void *arg;
} weft__rquery_t;

static uv_once_t weft__ares_once = UV_ONCE_INIT;
static int weft__ares_status = ARES_ENOTINITIALIZED;

static void weft__ares_init(void) {
  weft__ares_status = ares_library_init(ARES_LIB_INIT_ALL);
}

static void weft__resolver_timer_cb(uv_timer_t *t);

/* Arms the timer for c-ares' next deadline, if it has one. */
static void weft__resolver_schedule(weft__resolver_t *r) {
  struct timeval tv, *t;
  uint64_t ms;

  if (r->closing)
    return;
  t = ares_timeout(r->ch, NULL, &tv);
  if (t == NULL) {
    uv_timer_stop(&r->timer);
    return;
  }
  ms = (uint64_t)t->tv_sec * 1000 + (uint64_t)t->tv_usec / 1000;
  uv_timer_start(&r->timer, weft__resolver_timer_cb, ms, 0);
}

static void weft__resolver_timer_cb(uv_timer_t *t) {
  weft__resolver_t *r = t->data;

  ares_process_fd(r->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
  weft__resolver_schedule(r);
}

static void weft__rsock_poll_cb(uv_poll_t *p, int status, int events) {
  weft__rsock_t *s = p->data;
  weft__resolver_t *r = s->r;
  ares_socket_t fd = s->fd;

  /* An error: let c-ares read it and fail that server over. */
  if (status < 0)
    events = UV_READABLE | UV_WRITABLE;
  ares_process_fd(r->ch, (events & UV_READABLE) ? fd : ARES_SOCKET_BAD,
                  (events & UV_WRITABLE) ? fd : ARES_SOCKET_BAD);
  weft__resolver_schedule(r);
}

static void weft__rsock_closed(uv_handle_t *h) { free(h->data); }

/* c-ares opens, watches and closes its sockets through this. */
static void weft__resolver_sock_state(void *data, ares_socket_t fd,
                                      int readable, int writable) {
  weft__resolver_t *r = data;
  weft__rsock_t **pp, *s;
  int events = (readable ? UV_READABLE : 0) | (writable ? UV_WRITABLE : 0);

  for (pp = &r->socks; *pp != NULL && (*pp)->fd != fd; pp = &(*pp)->next)
    ;
  s = *pp;
  if (events == 0) {
    if (s != NULL) {
      *pp = s->next;
      uv_close((uv_handle_t *)&s->poll, weft__rsock_closed);
    }
    return;
  }
  if (s == NULL) {
    s = calloc(1, sizeof(*s));
    if (s == NULL)
      return; /* the query times out instead */
    if (uv_poll_init_socket(uv_handle_get_loop((uv_handle_t *)&r->timer),
                            &s->poll, fd) != 0) {
      free(s);
      return;
    }
    s->fd = fd;
    s->r = r;
    s->poll.data = s;
    uv_unref((uv_handle_t *)&s->poll);
    s->next = r->socks;
    r->socks = s;
  }
  uv_poll_start(&s->poll, events, weft__rsock_poll_cb);
}

static weft__resolver_t *weft__resolver_get(weft__worker_t *w) {
  struct ares_options o;
  weft__resolver_t *r = w->resolver;

  if (r != NULL)
    return r;
  uv_once(&weft__ares_once, weft__ares_init);
  if (weft__ares_status != ARES_SUCCESS)
    return NULL;
  r = calloc(1, sizeof(*r));
  if (r == NULL)
    return NULL;
  memset(&o, 0, sizeof(o));
  o.sock_state_cb = weft__resolver_sock_state;
  o.sock_state_cb_data = r;
  if (ares_init_options(&r->ch, &o, ARES_OPT_SOCK_STATE_CB) != ARES_SUCCESS) {
    free(r);
    return NULL;
  }
  uv_timer_init(&w->loop, &r->timer);
  r->timer.data = r;
  uv_unref((uv_handle_t *)&r->timer);
  w->resolver = r;
  return r;
}

static void weft__rquery_done(void *arg, int status, int timeouts,
                              struct ares_addrinfo *res) {
  weft__rquery_t *q = arg;
  struct addrinfo *list = NULL, **tail = &list, *a;
  struct ares_addrinfo_node *n;
  const char *why = NULL;

  (void)timeouts;
  if (status != ARES_SUCCESS) {
    why = ares_strerror(status);
  } else {
    /* Copied into a plain addrinfo list: callers know no c-ares type. */
    for (n = res->nodes; n != NULL; n = n->ai_next) {
      if ((n->ai_family != AF_INET && n->ai_family != AF_INET6) ||
          n->ai_addrlen > sizeof(struct sockaddr_storage))
        continue;
      a = calloc(1, sizeof(*a) + sizeof(struct sockaddr_storage));
      if (a == NULL) {
        why = "out of memory";
        break;
      }
      a->ai_family = n->ai_family;
      a->ai_socktype = SOCK_STREAM;
      a->ai_addrlen = n->ai_addrlen;
      a->ai_addr = (struct sockaddr *)(a + 1);
      memcpy(a->ai_addr, n->ai_addr, n->ai_addrlen);
      *tail = a;
      tail = &a->ai_next;
    }
    if (list == NULL && why == NULL)
      why = "no IPv4 or IPv6 address";
  }
  if (res != NULL)
    ares_freeaddrinfo(res);
  if (why != NULL) {
    weft__resolve_free(list);
    list = NULL;
  }
  q->cb(q->arg, list, why);
  free(q);
}

int weft__resolve(weft__worker_t *w, const char *host, const char *port,
                  weft__resolve_cb cb, void *arg) {
  struct ares_addrinfo_hints hints;
  weft__resolver_t *r = weft__resolver_get(w);
  weft__rquery_t *q;

  if (r == NULL || r->closing)
    return WEFT_EIO;
  q = malloc(sizeof(*q));
  if (q == NULL)
    return WEFT_ENOMEM;
  q->cb = cb;
  q->arg = arg;
  memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = ARES_AI_NUMERICSERV;
  /* May call back at once (a name in /etc/hosts). */
  ares_getaddrinfo(r->ch, host, port, &hints, weft__rquery_done, q);
  weft__resolver_schedule(r);
  return 0;
}

void weft__resolve_free(struct addrinfo *list) {
  struct addrinfo *next;

  for (; list != NULL; list = next) {
    next = list->ai_next;
    free(list);
  }
}

static void weft__resolver_closed(uv_handle_t *h) { free(h->data); }

void weft__resolver_close(weft__worker_t *w) {
  weft__resolver_t *r = w->resolver;
  weft__rsock_t *s, *next;

  if (r == NULL)
    return;
  r->closing = 1; /* no new query from the callbacks below */
  /* Queries still out call back now, with ARES_EDESTRUCTION. */
  ares_destroy(r->ch);
  w->resolver = NULL;
  for (s = r->socks; s != NULL; s = next) {
    next = s->next;
    uv_close((uv_handle_t *)&s->poll, weft__rsock_closed);
  }
  uv_close((uv_handle_t *)&r->timer, weft__resolver_closed);
}
