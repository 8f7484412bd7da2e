/*
 * weft send: frames from stdin (or files) to a listener, replies to stdout.
 *
 * Input is encoded as it arrives into a pending buffer, written one batch
 * at a time, and the replies are decoded as weftd decodes requests.  The
 * command waits for as many replies as it sent frames (--replies says
 * otherwise), then closes.  Every wait on the network (connecting, a write
 * the peer does not take, a reply) is bounded by --timeout, restarted by
 * any progress, and a timeout says which of those it was.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"

typedef struct {
  wc_common_t args;
  int hex;
  int64_t replies; /* --replies N; -1: one per frame sent */
  wc_codec_t codec;
  void *state;
  wc_addr_t addr;
  uv_loop_t loop;
  wc_sock_t sock;
  wc_cconn_t cc;
  uv_timer_t timer;
  int timer_on;
  wc_input_t in;
  int input_started;
  weft__buf_t pending; /* encoded, not yet handed to the socket */
  weft__buf_t flight;  /* being written */
  uv_write_t wreq;
  int writing, connected, input_done, finished;
  uint64_t sent; /* frames, or bytes for a stream codec */
  uint64_t got;  /* reply frames, or bytes for a stream codec */
  int printed;   /* stream bytes printed as hex: end the line */
  int rc;
  uint8_t scratch[65536];
} wc_send_t;

static const char *wc_unit(const wc_send_t *s) {
  return s->codec.stream ? "bytes" : "replies";
}

/* How many replies (or bytes) to wait for, once the input has ended. */
static uint64_t wc_send_target(const wc_send_t *s) {
  return s->replies >= 0 ? (uint64_t)s->replies : s->sent;
}

/* The replies owed so far: before the input ends, only for what was sent. */
static uint64_t wc_send_owed(const wc_send_t *s) {
  uint64_t t = wc_send_target(s);

  return !s->input_done && t > s->sent ? s->sent : t;
}

static void wc_send_finish(wc_send_t *s, int rc) {
  if (s->finished)
    return;
  s->finished = 1;
  s->rc = rc;
  if (s->printed)
    putchar('\n');
  fflush(stdout);
  if (s->args.verbose)
    fprintf(stderr, "%s: sent %llu, received %llu (%s)\n", wc_prog,
            (unsigned long long)s->sent, (unsigned long long)s->got,
            s->codec.stream ? "bytes" : "frames");
  if (s->input_started)
    wc_input_stop(&s->in);
  uv_timer_stop(&s->timer);
  uv_close((uv_handle_t *)&s->timer, NULL);
  wc_sock_close(&s->sock, NULL);
}

static void wc_send_timeout(uv_timer_t *t);

/* Ends when all is sent and answered; else (re)arms the timeout when the
 * network owes something.  progress: the network just moved. */
static void wc_send_update(wc_send_t *s, int progress) {
  int waiting;

  if (s->finished)
    return;
  if (s->connected && s->input_done && !s->writing && s->pending.len == 0 &&
      s->got >= wc_send_target(s)) {
    wc_send_finish(s, WC_OK);
    return;
  }
  waiting = !s->connected || s->writing || s->pending.len > 0 ||
            s->got < wc_send_owed(s);
  if (!waiting) {
    uv_timer_stop(&s->timer);
    s->timer_on = 0;
  } else if (!s->timer_on || progress) {
    uv_timer_start(&s->timer, wc_send_timeout, s->args.timeout_ms, 0);
    s->timer_on = 1;
  }
}

static void wc_send_timeout(uv_timer_t *t) {
  wc_send_t *s = t->data;

  if (!s->connected)
    wc_err("connecting to %s: timed out after %s", s->sock.peer,
           s->args.timeout);
  else if (s->writing || s->pending.len > 0)
    wc_err("%s: sending timed out after %s: the peer took no bytes "
           "(%zu bytes unsent)",
           s->sock.peer, s->args.timeout, s->flight.len + s->pending.len);
  else
    wc_err("%s: no reply within %s: %llu of %llu %s received", s->sock.peer,
           s->args.timeout, (unsigned long long)s->got,
           (unsigned long long)wc_send_owed(s), wc_unit(s));
  wc_send_finish(s, WC_FAIL);
}

static void wc_send_flush(wc_send_t *s);

static void wc_send_written(uv_write_t *req, int status) {
  wc_send_t *s = req->data;

  s->writing = 0;
  s->flight.len = 0;
  if (s->finished)
    return;
  if (status != 0) {
    wc_err("sending to %s: %s", s->sock.peer, uv_strerror(status));
    wc_send_finish(s, WC_FAIL);
    return;
  }
  wc_send_flush(s);
  wc_send_update(s, 1);
}

static void wc_send_flush(wc_send_t *s) {
  weft__buf_t t;
  uv_buf_t b;
  int r;

  if (s->writing || s->pending.len == 0 || !s->connected || s->finished)
    return;
  t = s->flight;
  s->flight = s->pending;
  s->pending = t;
  b = uv_buf_init((char *)s->flight.base, (unsigned)s->flight.len);
  s->wreq.data = s;
  r = uv_write(&s->wreq, &s->sock.h.stream, &b, 1, wc_send_written);
  if (r != 0) {
    wc_err("sending to %s: %s", s->sock.peer, uv_strerror(r));
    wc_send_finish(s, WC_FAIL);
    return;
  }
  s->writing = 1;
}

/* ---- input ---- */

static int wc_send_frame(void *arg, const uint8_t *p, size_t len,
                         const char *where) {
  wc_send_t *s = arg;
  int r;

  if (s->finished)
    return 1;
  r = wc_cconn_encode(&s->cc, p, len, &s->pending);
  if (r != 0) {
    wc_err("%s: the codec \"%s\" refused it as a frame (%zu bytes): %s", where,
           s->codec.name, len, weft_strerror(r));
    wc_send_finish(s, WC_FAIL);
    return 1;
  }
  s->sent += s->codec.stream ? len : 1;
  wc_send_flush(s);
  wc_send_update(s, 0);
  return 0;
}

static void wc_send_input_end(void *arg, int status) {
  wc_send_t *s = arg;

  s->input_done = 1;
  if (status != 0)
    wc_send_finish(s, WC_USAGE);
  else
    wc_send_update(s, 0);
}

/* ---- replies ---- */

static int wc_send_reply(void *arg, const uint8_t *frame, size_t len) {
  wc_send_t *s = arg;

  if (s->codec.stream) {
    if (s->hex) {
      wc_hex(stdout, frame, len);
      s->printed = len > 0 || s->printed;
    } else {
      fwrite(frame, 1, len, stdout);
    }
    s->got += len;
  } else {
    if (s->hex)
      wc_hex(stdout, frame, len);
    else
      fwrite(frame, 1, len, stdout);
    putchar('\n');
    s->got++;
  }
  return 0;
}

static void wc_send_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  wc_send_t *s = ((wc_sock_t *)h->data)->data;
  uint8_t *base;
  size_t n;

  (void)hint;
  n = weft__framer_read_buf(&s->cc.fr, s->scratch, sizeof(s->scratch), &base);
  *buf = uv_buf_init((char *)base, (unsigned)n);
}

static void wc_send_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf) {
  wc_send_t *s = ((wc_sock_t *)st->data)->data;
  char why[256];
  int rc;

  if (s->finished || n == 0)
    return;
  if (n > 0) {
    rc = weft__framer_feed(&s->cc.fr, (const uint8_t *)buf->base, (size_t)n,
                           wc_send_reply, s);
  } else if (n == UV_EOF) {
    rc = weft__framer_eof(&s->cc.fr, wc_send_reply, s);
  } else {
    fflush(stdout);
    wc_err("reading from %s: %s", s->sock.peer, uv_strerror((int)n));
    wc_send_finish(s, WC_FAIL);
    return;
  }
  fflush(stdout);
  if (rc < 0) {
    wc_cconn_error(&s->cc, why, sizeof(why));
    wc_err("%s: bad reply: %s", s->sock.peer, why);
    wc_send_finish(s, WC_FAIL);
    return;
  }
  wc_send_update(s, 1);
  if (n == UV_EOF && !s->finished) {
    wc_err("%s closed the connection after %llu of %llu %s%s", s->sock.peer,
           (unsigned long long)s->got, (unsigned long long)wc_send_owed(s),
           wc_unit(s), s->input_done ? "" : ", before the input ended");
    wc_send_finish(s, WC_FAIL);
  }
}

static void wc_send_connected(wc_sock_t *sock, int status) {
  wc_send_t *s = sock->data;
  int r;

  if (s->finished)
    return;
  if (status != 0) {
    wc_err("connecting to %s: %s", sock->peer[0] ? sock->peer : s->addr.text,
           uv_strerror(status));
    wc_send_finish(s, WC_FAIL);
    return;
  }
  if (s->args.verbose)
    fprintf(stderr, "%s: connected to %s\n", wc_prog, sock->peer);
  s->connected = 1;
  r = uv_read_start(&sock->h.stream, wc_send_alloc, wc_send_read);
  if (r != 0) {
    wc_err("reading from %s: %s", sock->peer, uv_strerror(r));
    wc_send_finish(s, WC_FAIL);
    return;
  }
  wc_send_flush(s);
  wc_send_update(s, 1);
}

/* ---- the command line ---- */

static void wc_send_usage(FILE *f) {
  fprintf(f,
          "usage: weft send [options] HOST:PORT | [IPV6]:PORT | unix:PATH\n"
          "Sends each line of stdin (without its newline) as a frame, or each\n"
          "--file, and prints each reply frame on a line of its own.\n"
          "  --codec NAME|PATH    the codec plugin (default line)\n"
          "  --codec-opt N=V      a codec option, as in weft.conf "
          "(repeatable)\n"
          "  --plugin-path DIR    look for NAME.so in DIR first (repeatable)\n"
          "  -f, --file FILE      send FILE as one frame (repeatable; - is "
          "stdin)\n"
          "  -x, --hex            print replies in hex\n"
          "  -n, --replies N      wait for N replies (default: one per "
          "frame)\n"
          "      --no-wait        wait for no reply (--replies 0)\n"
          "      --stream         the codec keeps no frame boundaries: send "
          "stdin's\n"
          "                       bytes as they are, count replies in bytes\n"
          "                       (the default for raw; --no-stream to "
          "override)\n"
          "      --timeout T      bound on every network wait (default 5s)\n"
          "  -v, --verbose        say which codec file, where, how many\n"
          "  -h, --help\n"
          "Exit status: 0 every reply came, 1 a network, reply or frame "
          "error,\n"
          "2 a usage, codec or option error.\n");
}

static int wc_send_args(wc_send_t *s, int argc, char **argv) {
  static const struct option longopts[] = {
      WC_COMMON_LONGOPTS,
      {"file", required_argument, NULL, 'f'},
      {"hex", no_argument, NULL, 'x'},
      {"replies", required_argument, NULL, 'n'},
      {"no-wait", no_argument, NULL, WC_OPT_NEXT},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  uint64_t v;
  int ch, r;

  s->replies = -1;
  s->in.mode = WC_IN_LINES;
  while ((ch = getopt_long(argc, argv, "f:xn:vh", longopts, NULL)) != -1) {
    r = wc_common_opt(&s->args, ch, optarg);
    if (r < 0)
      return WC_USAGE;
    if (r > 0)
      continue;
    switch (ch) {
    case 'f': {
      const char **p = realloc(s->in.files, (s->in.nfiles + 1) * sizeof(*p));
      if (p == NULL)
        return WC_USAGE;
      p[s->in.nfiles++] = optarg;
      s->in.files = p;
      s->in.mode = WC_IN_FILES;
      break;
    }
    case 'x':
      s->hex = 1;
      break;
    case 'n':
      if (wc_parse_count("--replies", optarg, 0, INT64_MAX, &v) != 0)
        return WC_USAGE;
      s->replies = (int64_t)v;
      break;
    case WC_OPT_NEXT:
      s->replies = 0;
      break;
    case 'h':
      wc_send_usage(stdout);
      return -1;
    default:
      wc_send_usage(stderr);
      return WC_USAGE;
    }
  }
  if (optind != argc - 1) {
    wc_err(optind >= argc ? "where to? give HOST:PORT or unix:PATH"
                          : "one address only, not \"%s\"",
           argv[argc - 1]);
    wc_send_usage(stderr);
    return WC_USAGE;
  }
  return 0;
}

int wc_send_main(int argc, char **argv) {
  wc_send_t *s = calloc(1, sizeof(*s));
  int rc, r;

  if (s == NULL) {
    wc_err("out of memory");
    return WC_FAIL;
  }
  wc_common_init(&s->args);
  rc = wc_send_args(s, argc, argv);
  if (rc != 0)
    goto out_args;
  if ((rc = wc_codec_load(&s->codec, &s->args)) != 0)
    goto out_args;
  if ((rc = wc_codec_new(&s->codec, &s->args, &s->state)) != 0)
    goto out_codec;
  if (s->codec.stream && s->in.mode == WC_IN_LINES)
    s->in.mode = WC_IN_BYTES;
  if (wc_addr_resolve(&s->addr, argv[argc - 1]) != 0) {
    rc = WC_USAGE;
    goto out_state;
  }
  r = wc_cconn_init(&s->cc, &s->codec, s->state);
  if (r != 0) {
    wc_err("codec \"%s\": conn_init failed: %s", s->codec.name,
           weft_strerror(r));
    rc = WC_FAIL;
    goto out_cc;
  }
  uv_loop_init(&s->loop);
  uv_timer_init(&s->loop, &s->timer);
  s->timer.data = s;
  s->sock.data = s;
  wc_sock_connect(&s->sock, &s->loop, &s->addr, wc_send_connected);
  wc_send_update(s, 1); /* the connect's timeout */
  /* The input is read meanwhile: frames wait in the pending buffer. */
  if (!s->finished) {
    s->input_started = 1;
    wc_input_start(&s->in, &s->loop, wc_send_frame, wc_send_input_end, s);
  }
  uv_run(&s->loop, UV_RUN_DEFAULT);
  rc = s->rc;
  uv_loop_close(&s->loop);
out_cc:
  wc_cconn_free(&s->cc);
  wc_addr_free(&s->addr);
out_state:
  wc_codec_free(&s->codec, s->state);
out_codec:
  wc_codec_unload(&s->codec);
out_args:
  weft__buf_free(&s->pending);
  weft__buf_free(&s->flight);
  free(s->in.files);
  wc_common_free(&s->args);
  free(s);
  return rc < 0 ? WC_OK : rc;
}
