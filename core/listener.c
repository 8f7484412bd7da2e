/*
 * Listening sockets and the accept loop.  weft accepts by itself (a
 * uv_poll_t on the listening socket and accept4()) rather than through
 * uv_listen(): libuv 1.44 spins on EMFILE and can stop accepting for good
 * when uv_accept() fails, whereas here a descriptor shortage pauses the
 * listener, logs once, and retries on a timer.  TCP listeners are bound
 * once per worker with SO_REUSEPORT; a Unix-domain listener is bound once
 * and its descriptor polled by every worker.
 */
#define _GNU_SOURCE /* accept4 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "internal.h"

/* Accepts per wakeup, so one busy listener cannot starve the loop. */
#define WEFT__ACCEPT_BATCH 64
/* How long accepting pauses when descriptors run out. */
#define WEFT__ACCEPT_RETRY_MS 250

static int weft__bind_error(weft__wlistener_t *wl, const char *what, int err) {
  weft_log(WEFT_LOG_ERROR, "listener \"%s\" (%s:%d): cannot %s %s: %s (%s)",
           wl->l->conf->name, wl->l->cfg->origin, wl->l->conf->line, what,
           wl->l->conf->bind, uv_strerror(err), uv_err_name(err));
  return WEFT_EBIND;
}

static socklen_t weft__addr_len(int family) {
  if (family == AF_INET)
    return sizeof(struct sockaddr_in);
  if (family == AF_INET6)
    return sizeof(struct sockaddr_in6);
  return sizeof(struct sockaddr_un);
}

/*
 * SO_REUSEPORT would let us share a port with another process that also set
 * it (a second weftd).  A bind without it first proves the port is free.
 */
static int weft__port_free(const weft__addr_t *a) {
  int fd, r, err = 0, on = 1;

  fd = socket(a->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return 0;
  /* As for the real socket: connections in TIME_WAIT do not hold the port. */
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
  if (a->family == AF_INET6)
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
  r = bind(fd, (const struct sockaddr *)&a->ss, weft__addr_len(a->family));
  if (r != 0)
    err = -errno;
  close(fd);
  return err;
}

/* True when nothing accepts connections on the socket file at path. */
static int weft__unix_stale(const char *path) {
  struct sockaddr_un sun;
  int fd, r;

  fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return 0;
  memset(&sun, 0, sizeof(sun));
  sun.sun_family = AF_UNIX;
  snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
  r = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
  r = r != 0 && errno == ECONNREFUSED;
  close(fd);
  return r;
}

/* socket(), options, bind(), listen(): one listening descriptor. */
static int weft__listen_socket(weft__wlistener_t *wl,
                               const struct sockaddr_storage *ss, int *out) {
  const weft__listener_conf_t *conf = wl->l->conf;
  int fd, on = 1, err;
  struct stat st;

  fd = socket(conf->addr.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return weft__bind_error(wl, "create a socket for", -errno);
  if (conf->addr.family != AF_UNIX) {
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) != 0 ||
        (conf->addr.family == AF_INET6 &&
         setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) != 0)) {
      err = -errno;
      close(fd);
      return weft__bind_error(wl, "set socket options for", err);
    }
  } else if (lstat(conf->addr.unix_path, &st) == 0 && S_ISSOCK(st.st_mode) &&
             weft__unix_stale(conf->addr.unix_path)) {
    /* Left by a previous run: nobody answers on it.  A live socket or any
     * other file stays, and bind() reports it. */
    unlink(conf->addr.unix_path);
  }
  if (bind(fd, (const struct sockaddr *)ss, weft__addr_len(conf->addr.family)) !=
      0) {
    err = -errno;
    close(fd);
    return weft__bind_error(wl, "bind", err);
  }
  if (conf->addr.family == AF_UNIX)
    wl->l->unix_bound = 1;
  if (listen(fd, conf->backlog) != 0) {
    err = -errno;
    close(fd);
    return weft__bind_error(wl, "listen on", err);
  }
  *out = fd;
  return 0;
}

int weft__listener_bind(weft__wlistener_t *wl) {
  const weft__listener_conf_t *conf = wl->l->conf;
  struct sockaddr_storage ss = conf->addr.ss;
  socklen_t len = sizeof(ss);
  int r;

  if (conf->addr.family == AF_UNIX) {
    if (wl->l->unix_fd < 0) {
      struct sockaddr_un *sun = (struct sockaddr_un *)&ss;
      memset(sun, 0, sizeof(*sun));
      sun->sun_family = AF_UNIX;
      memcpy(sun->sun_path, conf->addr.unix_path,
             strlen(conf->addr.unix_path));
      if ((r = weft__listen_socket(wl, &ss, &wl->l->unix_fd)) != 0)
        return r;
    }
    /* Every worker polls the one socket; accept4() races are harmless. */
    wl->fd = dup(wl->l->unix_fd);
    if (wl->fd < 0)
      return weft__bind_error(wl, "share", -errno);
    return 0;
  }
  /* Port 0: the first worker picks one, the others join it. */
  if (wl->l->port != 0) {
    if (conf->addr.family == AF_INET)
      ((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)wl->l->port);
    else
      ((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)wl->l->port);
  } else if (wl->w->id == 0 && (r = weft__port_free(&conf->addr)) != 0) {
    return weft__bind_error(wl, "bind", r);
  }
  if ((r = weft__listen_socket(wl, &ss, &wl->fd)) != 0)
    return r;
  if (wl->l->port == 0) {
    if (getsockname(wl->fd, (struct sockaddr *)&ss, &len) != 0)
      return weft__bind_error(wl, "read the port of", -errno);
    wl->l->port = ntohs(conf->addr.family == AF_INET
                            ? ((struct sockaddr_in *)&ss)->sin_port
                            : ((struct sockaddr_in6 *)&ss)->sin6_port);
  }
  return 0;
}

static void weft__listener_on_readable(uv_poll_t *p, int status, int events);
static int weft__listener_accept_batch(weft__wlistener_t *wl);

static void weft__listener_resume(uv_timer_t *t) {
  weft__wlistener_t *wl = t->data;

  if (wl->closing)
    return;
  wl->paused = 0;
  uv_poll_start(&wl->poll, UV_READABLE, weft__listener_on_readable);
}

/*
 * Out of descriptors: stop polling (no busy loop) and retry on a timer.
 * One line and one count per shortage, however many retries it lasts.
 */
static void weft__listener_pause(weft__wlistener_t *wl, int err) {
  if (wl->closing)
    return; /* the last drain: what is left goes with the socket */
  uv_poll_stop(&wl->poll);
  if (!wl->short_of_fds) {
    wl->short_of_fds = 1;
    weft_log(WEFT_LOG_WARN,
             "listener \"%s\" worker %d: %s: pausing accepts, retrying every "
             "%d ms",
             wl->l->conf->name, wl->w->id, strerror(err), WEFT__ACCEPT_RETRY_MS);
    WEFT__STAT_ADD(&wl->stats, accept_pauses, 1);
  }
  wl->paused = 1;
  uv_timer_start(&wl->retry, weft__listener_resume, WEFT__ACCEPT_RETRY_MS, 0);
}

/* Accepts up to a batch; returns how many tries ran (a full batch: more). */
static int weft__listener_accept_batch(weft__wlistener_t *wl) {
  struct sockaddr_storage ss;
  socklen_t len;
  int i, fd;

  for (i = 0; i < WEFT__ACCEPT_BATCH; i++) {
    len = sizeof(ss);
    fd = accept4(wl->fd, (struct sockaddr *)&ss, &len,
                 SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      wl->short_of_fds = 0; /* the next shortage is a new episode */
      weft__conn_adopt(wl, fd, &ss);
      continue;
    }
    switch (errno) {
    case EINTR:
    case ECONNABORTED:
    case EPROTO:
      continue;
    case EMFILE:
    case ENFILE:
    case ENOBUFS:
    case ENOMEM:
      weft__listener_pause(wl, errno);
      return i;
    default:
      return i; /* EAGAIN: drained; anything else will show again */
    }
  }
  return i;
}

static void weft__listener_on_readable(uv_poll_t *p, int status, int events) {
  weft__wlistener_t *wl = p->data;

  (void)events;
  if (status < 0 || wl->closing)
    return;
  weft__listener_accept_batch(wl);
}

int weft__listener_start(weft__wlistener_t *wl) {
  int r;

  r = uv_poll_init_socket(&wl->w->loop, &wl->poll, wl->fd);
  if (r != 0)
    return r;
  uv_timer_init(&wl->w->loop, &wl->retry);
  wl->poll.data = wl;
  wl->retry.data = wl;
  wl->polling = 1;
  wl->handles_open = 2;
  return uv_poll_start(&wl->poll, UV_READABLE, weft__listener_on_readable);
}

static void weft__listener_closed(uv_handle_t *h) {
  weft__wlistener_t *wl = h->data;

  if (--wl->handles_open == 0)
    weft__wl_maybe_finish(wl);
}

void weft__listener_close(weft__wlistener_t *wl) {
  if (wl->closing)
    return;
  /*
   * Connections queued on this socket when it closes are reset, and with
   * SO_REUSEPORT the kernel keeps queueing some here until it does (a
   * reload binds the new listener beside this one).  So: out of the poll
   * set (libuv is done with the descriptor once uv_close returns), take
   * all that is queued (they run on this listener's instances), and close
   * the socket right after the accept that found none, not a loop
   * iteration later.
   */
  wl->closing = 1;
  if (wl->polling) {
    uv_close((uv_handle_t *)&wl->poll, weft__listener_closed);
    uv_close((uv_handle_t *)&wl->retry, weft__listener_closed);
    if (!wl->paused)
      while (weft__listener_accept_batch(wl) == WEFT__ACCEPT_BATCH)
        ;
  }
  if (wl->fd >= 0)
    close(wl->fd);
  wl->fd = -1;
}

/* max_connections_per_ip: a small chained hash of peer addresses. */

#define WEFT__IP_BUCKETS 1024

struct weft__ipcount {
  weft__ipcount_t *next;
  uint8_t key[17]; /* family tag + 16 address bytes */
  uint64_t n;
};

static int weft__ip_key(const struct sockaddr *sa, uint8_t key[17]) {
  memset(key, 0, 17);
  if (sa->sa_family == AF_INET) {
    key[0] = 4;
    memcpy(key + 1, &((const struct sockaddr_in *)sa)->sin_addr, 4);
  } else if (sa->sa_family == AF_INET6) {
    key[0] = 6;
    memcpy(key + 1, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
  } else {
    return -1; /* Unix-domain peers have no address to limit */
  }
  return 0;
}

static size_t weft__ip_hash(const uint8_t key[17]) {
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  int i;

  for (i = 0; i < 17; i++)
    h = (h ^ key[i]) * 1099511628211ull;
  return (size_t)(h % WEFT__IP_BUCKETS);
}

int weft__listener_ip_acquire(weft__listener_t *l, const struct sockaddr *sa) {
  uint64_t max = (uint64_t)l->conf->max_connections_per_ip;
  weft__ipcount_t *e;
  uint8_t key[17];
  size_t b;
  int r = 0;

  if (max == 0 || weft__ip_key(sa, key) != 0)
    return 0;
  b = weft__ip_hash(key);
  uv_mutex_lock(&l->ip_lock);
  for (e = l->ip_buckets[b]; e != NULL; e = e->next)
    if (memcmp(e->key, key, 17) == 0)
      break;
  if (e == NULL) {
    e = calloc(1, sizeof(*e));
    if (e == NULL) {
      r = WEFT_ENOMEM;
      goto out;
    }
    memcpy(e->key, key, 17);
    e->next = l->ip_buckets[b];
    l->ip_buckets[b] = e;
  }
  if (e->n >= max)
    r = WEFT_EINVAL;
  else
    e->n++;
out:
  uv_mutex_unlock(&l->ip_lock);
  return r;
}

void weft__listener_ip_release(weft__listener_t *l, const struct sockaddr *sa) {
  weft__ipcount_t *e, **pp;
  uint8_t key[17];

  if (l->conf->max_connections_per_ip == 0 || weft__ip_key(sa, key) != 0)
    return;
  uv_mutex_lock(&l->ip_lock);
  for (pp = &l->ip_buckets[weft__ip_hash(key)]; (e = *pp) != NULL;
       pp = &e->next)
    if (memcmp(e->key, key, 17) == 0) {
      if (--e->n == 0) {
        *pp = e->next;
        free(e);
      }
      break;
    }
  uv_mutex_unlock(&l->ip_lock);
}

void weft__listener_free_ips(weft__listener_t *l) {
  weft__ipcount_t *e, *next;
  size_t i;

  if (l->ip_buckets == NULL)
    return;
  for (i = 0; i < WEFT__IP_BUCKETS; i++)
    for (e = l->ip_buckets[i]; e != NULL; e = next) {
      next = e->next;
      free(e);
    }
  free(l->ip_buckets);
  l->ip_buckets = NULL;
  uv_mutex_destroy(&l->ip_lock);
}

int weft__listener_ips_init(weft__listener_t *l) {
  if (l->conf->max_connections_per_ip == 0)
    return 0;
  l->ip_buckets = calloc(WEFT__IP_BUCKETS, sizeof(*l->ip_buckets));
  if (l->ip_buckets == NULL)
    return WEFT_ENOMEM;
  if (uv_mutex_init(&l->ip_lock) != 0) {
    free(l->ip_buckets);
    l->ip_buckets = NULL;
    return WEFT_ENOMEM;
  }
  return 0;
}
