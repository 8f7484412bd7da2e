/*
 * weft: dialing.  A name may resolve to several addresses (localhost to
 * ::1 and 127.0.0.1): each is tried in turn until one answers, as a
 * browser or curl does, and the error reported is the last one's.
 */
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "client.h"

static void wc_sock_try(wc_sock_t *s);

/* The handle of a failed attempt is closed: dial the next address. */
static void wc_sock_retry(uv_handle_t *h) {
  wc_sock_t *s = h->data;

  s->retrying = 0;
  if (s->on_close != NULL) {
    /* wc_sock_close() was called meanwhile. */
    s->on_close(s);
    return;
  }
  if (s->next != NULL)
    wc_sock_try(s);
  else
    s->on_connect(s, s->status);
}

static void wc_sock_failed(wc_sock_t *s, int status) {
  s->status = status;
  s->open = 0;
  s->retrying = 1;
  uv_close(&s->h.handle, wc_sock_retry);
}

static void wc_sock_connected(uv_connect_t *req, int status) {
  wc_sock_t *s = req->data;

  if (status == UV_ECANCELED || !s->open)
    return; /* closed by wc_sock_close() while connecting */
  if (status != 0) {
    wc_sock_failed(s, status);
    return;
  }
  s->status = 0;
  if (s->addr->path == NULL)
    uv_tcp_nodelay(&s->h.tcp, 1); /* frames go out when sent */
  s->on_connect(s, 0);
}

static void wc_sock_name(wc_sock_t *s, const struct sockaddr *sa) {
  char ip[64] = "?";
  int port = 0;

  if (sa->sa_family == AF_INET6) {
    const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)sa;
    uv_ip6_name(a6, ip, sizeof(ip));
    port = ntohs(a6->sin6_port);
    snprintf(s->peer, sizeof(s->peer), "[%s]:%d", ip, port);
  } else {
    const struct sockaddr_in *a4 = (const struct sockaddr_in *)sa;
    uv_ip4_name(a4, ip, sizeof(ip));
    port = ntohs(a4->sin_port);
    snprintf(s->peer, sizeof(s->peer), "%s:%d", ip, port);
  }
}

static void wc_sock_try(wc_sock_t *s) {
  const struct addrinfo *ai;
  int r;

  s->req.data = s;
  if (s->addr->path != NULL) {
    snprintf(s->peer, sizeof(s->peer), "unix:%s", s->addr->path);
    uv_pipe_init(s->loop, &s->h.pipe, 0);
    s->h.handle.data = s;
    s->open = 1;
    uv_pipe_connect(&s->req, &s->h.pipe, s->addr->path, wc_sock_connected);
    return;
  }
  ai = s->next;
  s->next = ai->ai_next;
  wc_sock_name(s, ai->ai_addr);
  r = uv_tcp_init(s->loop, &s->h.tcp);
  if (r != 0) {
    s->status = r;
    s->on_connect(s, r);
    return;
  }
  s->h.handle.data = s;
  s->open = 1;
  r = uv_tcp_connect(&s->req, &s->h.tcp, ai->ai_addr, wc_sock_connected);
  if (r != 0)
    wc_sock_failed(s, r);
}

void wc_sock_connect(wc_sock_t *s, uv_loop_t *loop, const wc_addr_t *a,
                     wc_sock_cb cb) {
  void *data = s->data;

  memset(s, 0, sizeof(*s));
  s->data = data;
  s->loop = loop;
  s->addr = a;
  s->next = a->ai;
  s->on_connect = cb;
  s->status = UV_EAI_NONAME;
  wc_sock_try(s);
}

static void wc_sock_closed(uv_handle_t *h) {
  wc_sock_t *s = h->data;

  if (s->on_close != NULL)
    s->on_close(s);
}

static void wc_sock_noop(wc_sock_t *s) {
  (void)s;
}

void wc_sock_close(wc_sock_t *s, void (*cb)(wc_sock_t *s)) {
  s->on_close = cb != NULL ? cb : wc_sock_noop;
  if (s->open) {
    s->open = 0;
    uv_close(&s->h.handle, wc_sock_closed);
  } else if (!s->retrying) {
    s->on_close(s); /* nothing open, nothing closing */
  }
  /* else a failed attempt is closing: wc_sock_retry() calls cb. */
}
