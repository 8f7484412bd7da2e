/*
 * Binding a listener on one worker.  TCP listeners are bound once per
 * worker with SO_REUSEPORT so the kernel spreads connections; a Unix-domain
 * listener is bound once and its descriptor shared by the other workers.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "internal.h"

static void weft__listener_on_connection(uv_stream_t *server, int status) {
  weft__wlistener_t *wl = server->data;

  if (status < 0) {
    /* One line per second at most: a descriptor shortage repeats fast. */
    uint64_t now = uv_now(&wl->w->loop);
    if (wl->last_accept_warn == 0 || now - wl->last_accept_warn >= 1000) {
      wl->last_accept_warn = now;
      weft_log(WEFT_LOG_WARN, "listener \"%s\": accept failed: %s",
               wl->l->conf->name, uv_strerror(status));
    }
    return;
  }
  weft__conn_accept(wl);
}

static int weft__bind_error(weft__wlistener_t *wl, const char *what, int err) {
  weft_log(WEFT_LOG_ERROR, "listener \"%s\" (%s:%d): cannot %s %s: %s (%s)",
           wl->l->conf->name, wl->w->e->config->origin, wl->l->conf->line, what,
           wl->l->conf->bind, uv_strerror(err), uv_err_name(err));
  return WEFT_EBIND;
}

/*
 * SO_REUSEPORT would let us share a port with another process that also set
 * it (a second weftd).  A plain bind first proves the port is really free.
 */
static int weft__port_free(const weft__addr_t *a) {
  int fd, r, err = 0, on = 1;

  fd = socket(a->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return 0;
  /* As libuv's bind does: connections in TIME_WAIT do not hold the port. */
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
  r = bind(fd, (const struct sockaddr *)&a->ss,
           a->family == AF_INET ? sizeof(struct sockaddr_in)
                                : sizeof(struct sockaddr_in6));
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

static int weft__listener_bind_unix(weft__wlistener_t *wl) {
  const weft__listener_conf_t *conf = wl->l->conf;
  weft__worker_t *first = &wl->w->e->workers[0];
  uv_os_fd_t fd;
  struct stat st;
  int r, dupfd;

  r = uv_pipe_init(&wl->w->loop, &wl->server.pipe, 0);
  if (r != 0)
    return weft__bind_error(wl, "create", r);
  wl->bound = 1;
  wl->server.handle.data = wl;
  if (wl->w->id == 0) {
    /* A socket file nobody answers on was left by a previous run; a live
     * socket or any other file stays, and the bind reports it. */
    if (lstat(conf->addr.unix_path, &st) == 0 && S_ISSOCK(st.st_mode) &&
        weft__unix_stale(conf->addr.unix_path))
      unlink(conf->addr.unix_path);
    r = uv_pipe_bind(&wl->server.pipe, conf->addr.unix_path);
    if (r != 0)
      return weft__bind_error(wl, "bind", r);
    wl->l->unix_bound = 1;
  } else {
    r = uv_fileno(&first->lsn[wl - wl->w->lsn].server.handle, &fd);
    dupfd = r == 0 ? dup(fd) : -1;
    if (dupfd < 0)
      return weft__bind_error(wl, "share", r ? r : -errno);
    r = uv_pipe_open(&wl->server.pipe, dupfd);
    if (r != 0) {
      close(dupfd);
      return weft__bind_error(wl, "share", r);
    }
  }
  r = uv_listen(&wl->server.stream, conf->backlog,
                weft__listener_on_connection);
  if (r != 0)
    return weft__bind_error(wl, "listen on", r);
  return 0;
}

static int weft__listener_bind_tcp(weft__wlistener_t *wl) {
  const weft__listener_conf_t *conf = wl->l->conf;
  struct sockaddr_storage ss;
  int r, on = 1, len;
  uv_os_fd_t fd;

  ss = conf->addr.ss;
  /* Port 0: the first worker picks one, the others join it. */
  if (wl->l->port != 0) {
    if (conf->addr.family == AF_INET)
      ((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)wl->l->port);
    else
      ((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)wl->l->port);
  } else if (wl->w->id == 0 &&
             (r = weft__port_free(&conf->addr)) != 0) {
    return weft__bind_error(wl, "bind", r);
  }
  r = uv_tcp_init_ex(&wl->w->loop, &wl->server.tcp, (unsigned)conf->addr.family);
  if (r != 0)
    return weft__bind_error(wl, "create a socket for", r);
  wl->bound = 1;
  wl->server.handle.data = wl;
  r = uv_fileno(&wl->server.handle, &fd);
  if (r == 0 && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) != 0)
    r = -errno;
  if (r != 0)
    return weft__bind_error(wl, "set SO_REUSEPORT for", r);
  r = uv_tcp_bind(&wl->server.tcp, (struct sockaddr *)&ss,
                  conf->addr.family == AF_INET6 ? UV_TCP_IPV6ONLY : 0);
  if (r != 0)
    return weft__bind_error(wl, "bind", r);
  r = uv_listen(&wl->server.stream, conf->backlog,
                weft__listener_on_connection);
  if (r != 0)
    return weft__bind_error(wl, "listen on", r);
  if (wl->l->port == 0) {
    len = sizeof(ss);
    r = uv_tcp_getsockname(&wl->server.tcp, (struct sockaddr *)&ss, &len);
    if (r != 0)
      return weft__bind_error(wl, "read the port of", r);
    wl->l->port = ntohs(conf->addr.family == AF_INET
                            ? ((struct sockaddr_in *)&ss)->sin_port
                            : ((struct sockaddr_in6 *)&ss)->sin6_port);
  }
  return 0;
}

int weft__listener_bind(weft__wlistener_t *wl) {
  if (wl->l->conf->addr.family == AF_UNIX)
    return weft__listener_bind_unix(wl);
  return weft__listener_bind_tcp(wl);
}

void weft__listener_close(weft__wlistener_t *wl) {
  if (!wl->bound || uv_is_closing(&wl->server.handle))
    return;
  uv_close(&wl->server.handle, NULL);
}
