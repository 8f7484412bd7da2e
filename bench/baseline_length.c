/*
 * baseline_length: a hand-written libuv echo server for frames with a
 * 4-byte big-endian length header (payload length, header not counted),
 * the yardstick weftd's `length` codec is measured against
 * (bench/README.md).  It is what a careful C programmer writes without a
 * framework:
 *
 *   - one loop, one shared 64 KiB read buffer; a connection keeps only the
 *     unfinished tail of a frame between reads (an idle one holds no
 *     buffer), grown at once to the size the header declares;
 *   - the replies to every frame of one read are built into one output
 *     batch and handed to the kernel with one uv_try_write(); only what the
 *     kernel does not take is copied and queued with uv_write();
 *   - a declared length over 8 MiB closes the connection, before any of its
 *     payload is buffered; a truncated frame at end of stream is dropped;
 *   - above 1 MiB of queued output the connection stops being read until
 *     it drains (the benchmark never gets there; a careful server has it).
 *
 * usage: baseline_length PORT [HOST]    (HOST defaults to 127.0.0.1)
 * SIGTERM or SIGINT exits 0, so it can run under valgrind --tool=callgrind.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#define READ_SIZE (64 * 1024)
#define HDR 4
#define MAX_FRAME (8 * 1024 * 1024)
#define HIGH_WATER (1024 * 1024)

typedef struct conn {
  uv_tcp_t h;
  char *tail; /* unfinished line, NULL when there is none */
  size_t tail_len;
  size_t tail_cap;
  size_t need; /* bytes the tail's frame needs in all, once known */
  int paused;
} conn_t;

typedef struct wreq {
  uv_write_t req;
  size_t len;
  char data[]; /* the bytes the kernel did not take at once */
} wreq_t;

static uv_loop_t *loop;
static char rbuf[READ_SIZE];
static char *obuf; /* one read's replies, reused */
static size_t ocap;

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

static void on_closed(uv_handle_t *h) {
  conn_t *c = (conn_t *)h;

  free(c->tail);
  free(c);
}

static void conn_close(conn_t *c) {
  if (!uv_is_closing((uv_handle_t *)&c->h))
    uv_close((uv_handle_t *)&c->h, on_closed);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  (void)h;
  (void)suggested;
  buf->base = rbuf;
  buf->len = sizeof(rbuf);
}

static void on_written(uv_write_t *req, int status) {
  conn_t *c = (conn_t *)req->handle;

  free(req);
  if (status < 0) {
    conn_close(c);
    return;
  }
  if (c->paused && c->h.write_queue_size < HIGH_WATER / 2) {
    c->paused = 0;
    uv_read_start((uv_stream_t *)&c->h, on_alloc, on_read);
  }
}

static int obuf_room(size_t need) {
  char *p;
  size_t cap;

  if (need <= ocap)
    return 0;
  cap = ocap ? ocap : READ_SIZE;
  while (cap < need)
    cap *= 2;
  p = realloc(obuf, cap);
  if (p == NULL)
    return -1;
  obuf = p;
  ocap = cap;
  return 0;
}

/* Sends obuf[0..len): try-write first, queue only the rest. */
static int send_batch(conn_t *c, size_t len) {
  uv_buf_t b = uv_buf_init(obuf, (unsigned)len);
  wreq_t *w;
  int n;

  n = uv_try_write((uv_stream_t *)&c->h, &b, 1);
  if (n == UV_EAGAIN)
    n = 0;
  if (n < 0)
    return n;
  if ((size_t)n == len)
    return 0;
  w = malloc(sizeof(*w) + len - (size_t)n);
  if (w == NULL)
    return UV_ENOMEM;
  w->len = len - (size_t)n;
  memcpy(w->data, obuf + n, w->len);
  b = uv_buf_init(w->data, (unsigned)w->len);
  n = uv_write(&w->req, (uv_stream_t *)&c->h, &b, 1, on_written);
  if (n != 0) {
    free(w);
    return n;
  }
  if (c->h.write_queue_size > HIGH_WATER) {
    c->paused = 1;
    uv_read_stop((uv_stream_t *)&c->h);
  }
  return 0;
}

static size_t get_len(const char *p) {
  const unsigned char *u = (const unsigned char *)p;

  return (size_t)u[0] << 24 | (size_t)u[1] << 16 | (size_t)u[2] << 8 | u[3];
}

/* Echoes every complete frame of in[0..len) into obuf at *olen; returns the
 * bytes consumed, or -1 for a frame over the limit.  *need is what the
 * unfinished frame at the end needs in all, 0 if its header is not in. */
static ssize_t scan(const char *in, size_t len, size_t *olen, size_t *need) {
  size_t off = 0, n;

  *need = 0;
  while (len - off >= HDR) {
    n = get_len(in + off);
    if (n > MAX_FRAME)
      return -1;
    n += HDR;
    if (len - off < n) {
      *need = n;
      break;
    }
    if (obuf_room(*olen + n) != 0)
      return -1;
    memcpy(obuf + *olen, in + off, n);
    *olen += n;
    off += n;
  }
  return (ssize_t)off;
}

static int keep_tail(conn_t *c, const char *p, size_t n) {
  char *t;

  if (c->tail_len + n > c->tail_cap) {
    size_t cap = c->tail_cap ? c->tail_cap * 2 : 256;
    while (cap < c->tail_len + n)
      cap *= 2;
    if (c->need > cap)
      cap = c->need;
    t = realloc(c->tail, cap);
    if (t == NULL)
      return -1;
    c->tail = t;
    c->tail_cap = cap;
  }
  memcpy(c->tail + c->tail_len, p, n);
  c->tail_len += n;
  return 0;
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  conn_t *c = (conn_t *)s;
  size_t olen = 0;
  ssize_t used;

  if (nread <= 0) {
    if (nread < 0)
      conn_close(c); /* EOF (a truncated frame is dropped) or an error */
    return;
  }
  if (c->tail_len == 0) {
    /* The common case: decode in place in the read buffer. */
    used = scan(buf->base, (size_t)nread, &olen, &c->need);
    if (used < 0 ||
        ((size_t)used < (size_t)nread &&
         keep_tail(c, buf->base + used, (size_t)nread - (size_t)used) != 0)) {
      conn_close(c);
      return;
    }
  } else {
    /* A frame was split across reads: finish it in the tail. */
    if (keep_tail(c, buf->base, (size_t)nread) != 0) {
      conn_close(c);
      return;
    }
    used = scan(c->tail, c->tail_len, &olen, &c->need);
    if (used < 0) {
      conn_close(c);
      return;
    }
    c->tail_len -= (size_t)used;
    if (c->tail_len == 0) {
      free(c->tail);
      c->tail = NULL;
      c->tail_cap = 0;
    } else if (used > 0) {
      memmove(c->tail, c->tail + used, c->tail_len);
    }
  }
  if (olen > 0 && send_batch(c, olen) != 0)
    conn_close(c);
}

static void on_connection(uv_stream_t *server, int status) {
  conn_t *c;

  if (status < 0)
    return;
  c = calloc(1, sizeof(*c));
  if (c == NULL)
    return;
  uv_tcp_init(loop, &c->h);
  if (uv_accept(server, (uv_stream_t *)&c->h) != 0) {
    conn_close(c);
    return;
  }
  uv_tcp_nodelay(&c->h, 1);
  if (uv_read_start((uv_stream_t *)&c->h, on_alloc, on_read) != 0)
    conn_close(c);
}

static void on_signal(uv_signal_t *s, int signum) {
  (void)s;
  (void)signum;
  exit(0);
}

int main(int argc, char **argv) {
  static uv_tcp_t server;
  static uv_signal_t sigterm, sigint;
  struct sockaddr_in addr;
  int r;

  if (argc < 2) {
    fprintf(stderr, "usage: baseline_length PORT [HOST]\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  loop = uv_default_loop();
  r = uv_ip4_addr(argc > 2 ? argv[2] : "127.0.0.1", atoi(argv[1]), &addr);
  if (r == 0)
    r = uv_tcp_init(loop, &server);
  if (r == 0)
    r = uv_tcp_bind(&server, (const struct sockaddr *)&addr, 0);
  if (r == 0)
    r = uv_listen((uv_stream_t *)&server, 4096, on_connection);
  if (r != 0) {
    fprintf(stderr, "baseline_length: cannot listen on port %s: %s\n", argv[1],
            uv_strerror(r));
    return 1;
  }
  uv_signal_init(loop, &sigterm);
  uv_signal_start(&sigterm, on_signal, SIGTERM);
  uv_signal_init(loop, &sigint);
  uv_signal_start(&sigint, on_signal, SIGINT);
  return uv_run(loop, UV_RUN_DEFAULT);
}
