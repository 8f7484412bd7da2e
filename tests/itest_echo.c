/*
 * Integration test: the real weftd, echo over the built-in line and length
 * codecs.
 *
 * test_echo_storm starts weftd on ephemeral ports from a config file, opens
 * 100 concurrent connections to each listener and sends 1,000 frames on
 * each, sizes 0 to 64 KiB (frame 0 is empty, frame 1 is exactly 65536 bytes,
 * the longest line max_length = "64k" allows).  Every byte of every echo is
 * checked, in order; then SIGTERM must end weftd with exit status 0 and its
 * log must hold no alert and no sanitizer report.
 *
 * test_eof_and_oversize checks the edges a stream client meets: a partial
 * frame at EOF gets the replies to the complete frames before it, then a
 * FIN; a length header declaring more than max_frame closes that connection
 * only, while another connection on the same listener keeps working.
 *
 * Environment:
 *   WEFTD            the daemon to run (default ./weftd, as `make check`
 *                    runs from the top build directory; tests/itest.mk sets
 *                    it to an absolute path).
 *   WEFT_TEST_SCALE  multiplies the frames per connection (default 1.0), e.g.
 *                    0.05 under valgrind.  It never removes a check: every
 *                    connection still sends at least the empty frame and the
 *                    65536-byte one, and every echo is still verified.
 *   WEFT_TEST_SEED   the PRNG seed (default: from the clock, printed), to
 *                    replay a failure byte for byte.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <cmocka.h>
#include <uv.h>

#include "itest_util.h"

#define NCONN 100                 /* connections per listener */
#define NFRAMES 1000              /* frames per connection, before scaling */
#define MAX_PAYLOAD 65536         /* line's max_length = "64k" */
#define WINDOW (256 * 1024)       /* most unechoed bytes per connection */
#define WCHUNK (64 * 1024)        /* largest single write */
#define STORM_TIMEOUT_MS 120000   /* the whole storm, or the test fails */
#define IO_TIMEOUT_MS 10000       /* one blocking step of the edge tests */
#define LEN_MAX_FRAME (64 * 1024) /* max_frame of the edge tests' length codec */

enum { CODEC_LINE = 0, CODEC_LENGTH = 1 };

static const char *const codec_names[] = {"line", "length"};

/* ---- the daemon (tests/itest_util) ------------------------------------- */

/* Starts weftd and finds the ports its "line" and "length" listeners got. */
static void echo_start(itest_daemon_t *d, const char *conf, int port[2]) {
  int i;

  itest_daemon_start(d, conf);
  for (i = 0; i < 2; i++)
    port[i] = itest_daemon_port(d, codec_names[i]);
  print_message("weftd pid %d: line on port %d, length on port %d\n",
                (int)d->pid, port[CODEC_LINE], port[CODEC_LENGTH]);
}

/* ---- frame streams ------------------------------------------------------ */

/* xorshift64*: the sequence of frame sizes. */
static uint64_t rng_next(uint64_t *s) {
  *s ^= *s >> 12;
  *s ^= *s << 25;
  *s ^= *s >> 27;
  return *s * 0x2545f4914f6cdd1dull;
}

/*
 * One connection's byte stream, in wire form, generated on the fly.  The
 * writer and the reader each own an instance seeded alike, so the reader
 * regenerates what the echo must be and checks it as it arrives, without
 * anything being stored.  Echo through either codec returns exactly the
 * bytes sent, since line frames hold no "\n" and never end in "\r".
 */
typedef struct {
  int codec;
  uint64_t seed;
  uint64_t rng;      /* frame sizes */
  uint32_t nframes;
  uint32_t frame;    /* current frame */
  size_t size;       /* its payload */
  size_t hdr;        /* its header: 4 for length, 0 for line */
  size_t len;        /* its wire length */
  size_t off;        /* bytes of it already produced */
  uint64_t word_idx; /* payload bytes come 8 at a time from one hash */
  uint64_t word;
} stream_t;

/*
 * Mostly small frames, as real traffic is, but big ones too so that frames
 * straddle reads on both sides: 70% 0..128, 25% up to 4 KiB, 5% up to
 * 64 KiB.  The two limits are always there: frame 0 is empty (an empty
 * frame is a frame, not "need more") and frame 1 is exactly the maximum.
 */
static size_t stream_pick_size(stream_t *s) {
  uint64_t r;

  if (s->frame == 0)
    return 0;
  if (s->frame == 1)
    return MAX_PAYLOAD;
  r = rng_next(&s->rng);
  if (r % 100 < 70)
    return (size_t)((r >> 8) % 129);
  if (r % 100 < 95)
    return (size_t)((r >> 8) % 4097);
  return (size_t)((r >> 8) % (MAX_PAYLOAD + 1));
}

static void stream_frame_begin(stream_t *s) {
  s->size = stream_pick_size(s);
  s->hdr = s->codec == CODEC_LENGTH ? 4 : 0;
  s->len = s->hdr + s->size + (s->codec == CODEC_LINE ? 1 : 0);
  s->off = 0;
  s->word_idx = UINT64_MAX;
}

static void stream_init(stream_t *s, int codec, uint64_t seed,
                        uint32_t nframes) {
  memset(s, 0, sizeof(*s));
  s->codec = codec;
  s->seed = seed;
  s->rng = itest_splitmix64(seed) | 1;
  s->nframes = nframes;
  stream_frame_begin(s);
}

static uint8_t stream_payload_byte(stream_t *s, size_t i) {
  uint8_t b;

  if ((uint64_t)(i >> 3) != s->word_idx) {
    s->word_idx = i >> 3;
    s->word = itest_splitmix64(s->seed ^ ((uint64_t)s->frame << 40) ^ s->word_idx);
  }
  b = (uint8_t)(s->word >> ((i & 7) * 8));
  /* A line frame cannot hold its delimiter, and strip_cr would eat a
   * final "\r": flip the top bit of those, keeping every other value. */
  if (s->codec == CODEC_LINE &&
      (b == '\n' || (b == '\r' && i == s->size - 1)))
    b ^= 0x80;
  return b;
}

static int stream_done(const stream_t *s) {
  return s->frame + 1 >= s->nframes && s->off == s->len;
}

/* Frames produced (or, for the reader, verified) in full. */
static uint32_t stream_frames_done(const stream_t *s) {
  return s->frame + (s->off == s->len ? 1 : 0);
}

/* Appends up to n next bytes of the stream to dst; fewer only at its end. */
static size_t stream_fill(stream_t *s, uint8_t *dst, size_t n) {
  size_t done = 0, end;

  while (done < n) {
    if (s->off == s->len) {
      if (stream_done(s))
        break;
      s->frame++;
      stream_frame_begin(s);
    }
    for (; done < n && s->off < s->hdr; s->off++) /* big-endian header */
      dst[done++] = (uint8_t)(s->size >> (8 * (s->hdr - 1 - s->off)));
    end = s->hdr + s->size;
    for (; done < n && s->off < end; s->off++)
      dst[done++] = stream_payload_byte(s, s->off - s->hdr);
    if (done < n && s->off == end && s->off < s->len) {
      dst[done++] = '\n';
      s->off++;
    }
  }
  return done;
}

static uint32_t frames_per_conn(void) {
  const char *env = getenv("WEFT_TEST_SCALE");
  double scale = 1.0, n;
  char *end;

  if (env != NULL && env[0] != '\0') {
    scale = strtod(env, &end);
    if (*end != '\0' || !(scale > 0.0) || scale > 1000.0)
      fail_msg("WEFT_TEST_SCALE=\"%s\": want a number in (0, 1000]", env);
  }
  n = NFRAMES * scale + 0.5;
  /* Frames 0 and 1 carry the two size limits: never fewer. */
  return n < 2.0 ? 2 : (uint32_t)n;
}

static uint64_t test_seed(void) {
  const char *env = getenv("WEFT_TEST_SEED");
  struct timespec ts;

  if (env != NULL && env[0] != '\0')
    return strtoull(env, NULL, 0);
  clock_gettime(CLOCK_REALTIME, &ts);
  return itest_splitmix64(((uint64_t)ts.tv_sec * 1000000000ull +
                     (uint64_t)ts.tv_nsec) ^ (uint64_t)getpid());
}

/* ---- the storm client --------------------------------------------------- */

struct client;

typedef struct {
  uv_tcp_t tcp;
  uv_connect_t connect_req;
  uv_write_t write_req;
  uv_shutdown_t shutdown_req;
  struct client *cl;
  int codec;
  int index;
  stream_t tx;           /* what to send */
  stream_t rx;           /* what must come back */
  uint64_t chunk_rng;    /* write sizes */
  uint64_t sent;         /* bytes handed to uv_write */
  uint64_t received;     /* bytes echoed and verified */
  uint8_t *wbuf;         /* the one write in flight */
  int writing;
  int shut;
  int finished;
} conn_t;

typedef struct client {
  uv_loop_t loop;
  uv_timer_t timer;
  conn_t *conns;
  int nconns;
  int finished;
  int failed;
  char error[1024];
  uint8_t expect[WCHUNK]; /* the reader's regenerated bytes, shared: every
                             read callback runs to completion on one loop */
  uint8_t rbuf[WCHUNK];   /* likewise, for libuv's reads */
} client_t;

static void client_fail(client_t *cl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Records the first failure and stops the loop; the test reports it once
 * the loop is torn down, since cmocka cannot fail from inside libuv. */
static void client_fail(client_t *cl, const char *fmt, ...) {
  va_list ap;

  if (cl->failed++)
    return;
  va_start(ap, fmt);
  vsnprintf(cl->error, sizeof(cl->error), fmt, ap);
  va_end(ap);
  uv_stop(&cl->loop);
}

static void conn_describe(const conn_t *c, char *buf, size_t len) {
  snprintf(buf, len,
           "%s connection %d: sent %" PRIu64 " bytes (%" PRIu32
           " frames), verified %" PRIu64 " bytes (%" PRIu32 " of %" PRIu32
           " frames)",
           codec_names[c->codec], c->index, c->sent,
           stream_frames_done(&c->tx), c->received,
           stream_frames_done(&c->rx), c->rx.nframes);
}

static void conn_closed(uv_handle_t *h) {
  conn_t *c = h->data;

  free(c->wbuf);
  c->wbuf = NULL;
}

static void conn_pump(conn_t *c);

static void conn_write_cb(uv_write_t *req, int status) {
  conn_t *c = req->data;

  c->writing = 0;
  if (status < 0) {
    if (status != UV_ECANCELED)
      client_fail(c->cl, "%s connection %d: write: %s", codec_names[c->codec],
                  c->index, uv_strerror(status));
    return;
  }
  conn_pump(c);
}

static void conn_shutdown_cb(uv_shutdown_t *req, int status) {
  conn_t *c = req->data;

  if (status < 0 && status != UV_ECANCELED)
    client_fail(c->cl, "%s connection %d: shutdown: %s",
                codec_names[c->codec], c->index, uv_strerror(status));
}

/*
 * Sends the next chunk when nothing is in flight and the window allows.
 * Chunk sizes are random, a tenth of them tiny, so frames and headers are
 * split at arbitrary points.  After the last byte: half-close, and the
 * daemon must answer every frame before its own FIN.
 */
static void conn_pump(conn_t *c) {
  uint64_t r, unacked;
  size_t n;
  uv_buf_t buf;
  int rc;

  if (c->writing || c->shut || c->cl->failed)
    return;
  if (stream_done(&c->tx)) {
    c->shut = 1;
    c->shutdown_req.data = c;
    rc = uv_shutdown(&c->shutdown_req, (uv_stream_t *)&c->tcp,
                     conn_shutdown_cb);
    if (rc != 0)
      client_fail(c->cl, "%s connection %d: shutdown: %s",
                  codec_names[c->codec], c->index, uv_strerror(rc));
    return;
  }
  unacked = c->sent - c->received;
  if (unacked >= WINDOW)
    return; /* conn_read_cb pumps again as echoes arrive */
  r = rng_next(&c->chunk_rng);
  n = r % 10 == 0 ? 1 + (size_t)((r >> 8) % 64)
                  : 1 + (size_t)((r >> 8) % WCHUNK);
  if (n > WINDOW - unacked)
    n = (size_t)(WINDOW - unacked);
  n = stream_fill(&c->tx, c->wbuf, n);
  buf = uv_buf_init((char *)c->wbuf, (unsigned)n);
  c->write_req.data = c;
  rc = uv_write(&c->write_req, (uv_stream_t *)&c->tcp, &buf, 1, conn_write_cb);
  if (rc != 0) {
    client_fail(c->cl, "%s connection %d: write: %s", codec_names[c->codec],
                c->index, uv_strerror(rc));
    return;
  }
  c->writing = 1;
  c->sent += n;
}

static void conn_alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  conn_t *c = h->data;

  (void)hint;
  *buf = uv_buf_init((char *)c->cl->rbuf, sizeof(c->cl->rbuf));
}

/* Checks echoed bytes against the regenerated stream, in order. */
static void conn_verify(conn_t *c, const uint8_t *in, size_t n) {
  client_t *cl = c->cl;
  stream_t before = c->rx;
  uint64_t at = c->received;
  size_t got, i;
  char what[256];

  got = stream_fill(&c->rx, cl->expect, n);
  if (got == n && memcmp(in, cl->expect, n) == 0) {
    c->received += n;
    return;
  }
  c->rx = before; /* describe the state this read started from */
  conn_describe(c, what, sizeof(what));
  if (got < n && memcmp(in, cl->expect, got) == 0) {
    client_fail(cl, "%s: %zu bytes beyond the end of the expected echo", what,
                n - got);
    return;
  }
  for (i = 0; i + 1 < got && in[i] == cl->expect[i]; i++) {
  }
  client_fail(cl,
              "%s: echo differs at stream byte %" PRIu64 ", %zu bytes into "
              "a read that began at byte %zu of frame %" PRIu32
              ": got 0x%02x, expected 0x%02x",
              what, at + i, i, before.off, before.frame, in[i], cl->expect[i]);
}

static void conn_read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  conn_t *c = s->data;
  char what[256];

  if (c->cl->failed)
    return;
  if (nread > 0) {
    conn_verify(c, (const uint8_t *)buf->base, (size_t)nread);
    conn_pump(c);
    return;
  }
  if (nread == 0)
    return;
  conn_describe(c, what, sizeof(what));
  if (nread != UV_EOF) {
    client_fail(c->cl, "%s: read: %s", what, uv_strerror((int)nread));
    return;
  }
  if (!stream_done(&c->rx) || !stream_done(&c->tx)) {
    client_fail(c->cl, "%s: EOF before every echo arrived", what);
    return;
  }
  c->finished = 1;
  uv_close((uv_handle_t *)&c->tcp, conn_closed);
  if (++c->cl->finished == c->cl->nconns)
    uv_timer_stop(&c->cl->timer);
}

static void conn_connect_cb(uv_connect_t *req, int status) {
  conn_t *c = req->data;
  int rc;

  if (status < 0) {
    if (status != UV_ECANCELED)
      client_fail(c->cl, "%s connection %d: connect: %s",
                  codec_names[c->codec], c->index, uv_strerror(status));
    return;
  }
  rc = uv_read_start((uv_stream_t *)&c->tcp, conn_alloc_cb, conn_read_cb);
  if (rc != 0) {
    client_fail(c->cl, "%s connection %d: read: %s", codec_names[c->codec],
                c->index, uv_strerror(rc));
    return;
  }
  conn_pump(c);
}

static void client_timeout_cb(uv_timer_t *t) {
  client_t *cl = t->data;
  char what[256] = "";
  int i;

  for (i = 0; i < cl->nconns; i++)
    if (!cl->conns[i].finished) {
      conn_describe(&cl->conns[i], what, sizeof(what));
      break;
    }
  client_fail(cl, "timed out after %d ms with %d of %d connections finished; "
                  "first unfinished: %s",
              STORM_TIMEOUT_MS, cl->finished, cl->nconns, what);
}

static void close_any(uv_handle_t *h, void *arg) {
  (void)arg;
  if (!uv_is_closing(h))
    uv_close(h, h->type == UV_TCP ? conn_closed : NULL);
}

static void test_echo_storm(void **state) {
  static const char conf[] =
      "# written by tests/itest_echo\n"
      "workers = 2;\n"
      "listeners = (\n"
      "  { name = \"line\"; bind = \"127.0.0.1:0\";\n"
      "    codec = { name = \"line\"; max_length = \"64k\"; };\n"
      "    handler = { name = \"echo\"; }; },\n"
      "  { name = \"length\"; bind = \"127.0.0.1:0\";\n"
      "    codec = { name = \"length\"; length_size = 4; };\n"
      "    handler = { name = \"echo\"; }; }\n"
      ");\n";
  itest_daemon_t *d = *state;
  int port[2];
  uint32_t nframes = frames_per_conn();
  uint64_t seed = test_seed(), frames[2] = {0, 0}, bytes = 0;
  struct sockaddr_in sa;
  client_t *cl;
  uint64_t t0;
  int i, rc, fds;

  print_message("seed 0x%016" PRIx64 " (WEFT_TEST_SEED replays it), %d x %" PRIu32
                " frames per listener\n",
                seed, NCONN, nframes);
  echo_start(d, conf, port);
  fds = itest_daemon_fds(d);

  cl = calloc(1, sizeof(*cl));
  assert_non_null(cl);
  cl->nconns = 2 * NCONN;
  cl->conns = calloc((size_t)cl->nconns, sizeof(*cl->conns));
  assert_non_null(cl->conns);
  assert_int_equal(uv_loop_init(&cl->loop), 0);
  uv_timer_init(&cl->loop, &cl->timer);
  cl->timer.data = cl;
  uv_timer_start(&cl->timer, client_timeout_cb, STORM_TIMEOUT_MS, 0);
  t0 = uv_hrtime();

  for (i = 0; i < cl->nconns && !cl->failed; i++) {
    conn_t *c = &cl->conns[i];
    uint64_t cseed = itest_splitmix64(seed + (uint64_t)i);

    c->cl = cl;
    c->codec = i % 2;
    c->index = i / 2;
    stream_init(&c->tx, c->codec, cseed, nframes);
    stream_init(&c->rx, c->codec, cseed, nframes);
    c->chunk_rng = itest_splitmix64(cseed ^ 0xc0ffee) | 1;
    c->wbuf = malloc(WCHUNK);
    assert_non_null(c->wbuf);
    uv_tcp_init(&cl->loop, &c->tcp);
    c->tcp.data = c;
    c->connect_req.data = c;
    uv_ip4_addr("127.0.0.1", port[c->codec], &sa);
    rc = uv_tcp_connect(&c->connect_req, &c->tcp, (struct sockaddr *)&sa,
                        conn_connect_cb);
    if (rc != 0)
      client_fail(cl, "%s connection %d: connect: %s", codec_names[c->codec],
                  c->index, uv_strerror(rc));
  }
  if (!cl->failed)
    uv_run(&cl->loop, UV_RUN_DEFAULT);
  /* After a failure the loop stopped with handles open: close them all
   * and let it run their callbacks before it is freed. */
  uv_walk(&cl->loop, close_any, NULL);
  uv_run(&cl->loop, UV_RUN_DEFAULT);
  assert_int_equal(uv_loop_close(&cl->loop), 0);

  for (i = 0; i < cl->nconns; i++) {
    frames[cl->conns[i].codec] += stream_frames_done(&cl->conns[i].rx);
    bytes += cl->conns[i].received;
  }
  if (cl->failed) {
    itest_daemon_dump_log(d);
    fail_msg("%s", cl->error);
  }
  print_message("echoed %" PRIu64 " line and %" PRIu64 " length frames, %.1f "
                "MiB each way, in %.2f s\n",
                frames[CODEC_LINE], frames[CODEC_LENGTH],
                (double)bytes / (1024.0 * 1024.0),
                (double)(uv_hrtime() - t0) / 1e9);
  assert_int_equal(cl->finished, cl->nconns);
  assert_int_equal(frames[CODEC_LINE], (uint64_t)NCONN * nframes);
  assert_int_equal(frames[CODEC_LENGTH], (uint64_t)NCONN * nframes);
  free(cl->conns);
  free(cl);

  itest_daemon_expect_fds(d, fds);
  itest_daemon_stop(d);
  itest_daemon_check_log(d);
}

/* ---- edge cases, with plain blocking sockets ----------------------------- */

static int tcp_connect(int port) {
  struct sockaddr_in sa;
  int fd;

  memset(&sa, 0, sizeof(sa));
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    fail_msg("socket: %s", strerror(errno));
  if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
    fail_msg("connect to port %d: %s", port, strerror(errno));
  return fd;
}

static void send_all(int fd, const void *data, size_t len) {
  const uint8_t *p = data;
  ssize_t r;

  while (len > 0) {
    r = send(fd, p, len, MSG_NOSIGNAL);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0)
      fail_msg("send: %s", strerror(errno));
    p += r;
    len -= (size_t)r;
  }
}

/* One read, waiting at most IO_TIMEOUT_MS: bytes read, 0 at EOF. */
static size_t recv_some(int fd, void *buf, size_t len) {
  struct pollfd pfd = {fd, POLLIN, 0};
  ssize_t r;
  int rc;

  do
    rc = poll(&pfd, 1, IO_TIMEOUT_MS);
  while (rc < 0 && errno == EINTR);
  if (rc == 0)
    fail_msg("no reply from weftd within %d ms", IO_TIMEOUT_MS);
  do
    r = recv(fd, buf, len, 0);
  while (r < 0 && errno == EINTR);
  /* An RST instead of a FIN would have discarded replies in flight. */
  if (r < 0)
    fail_msg("recv: %s", strerror(errno));
  return (size_t)r;
}

static void recv_exact(int fd, uint8_t *buf, size_t len) {
  size_t n;

  while (len > 0) {
    n = recv_some(fd, buf, len);
    if (n == 0)
      fail_msg("EOF with %zu bytes of a reply still expected", len);
    buf += n;
    len -= n;
  }
}

/* Reads until the peer's FIN: the bytes before it must be exactly want. */
static void expect_then_eof(int fd, const void *want, size_t want_len) {
  uint8_t buf[4096];
  size_t got = 0, n;

  for (;;) {
    n = recv_some(fd, buf + got, sizeof(buf) - got);
    if (n == 0)
      break;
    got += n;
    if (got == sizeof(buf))
      break;
  }
  if (got != want_len || memcmp(buf, want, got) != 0)
    fail_msg("before EOF: got %zu bytes \"%.*s\", expected %zu bytes "
             "\"%.*s\"",
             got, (int)got, (const char *)buf, want_len, (int)want_len,
             (const char *)want);
}

/* A length frame: 4-byte big-endian header declaring len, then payload. */
static size_t length_frame(uint8_t *out, uint32_t declared, const void *p,
                           size_t len) {
  out[0] = (uint8_t)(declared >> 24);
  out[1] = (uint8_t)(declared >> 16);
  out[2] = (uint8_t)(declared >> 8);
  out[3] = (uint8_t)declared;
  if (len > 0)
    memcpy(out + 4, p, len);
  return 4 + len;
}

static void test_eof_and_oversize(void **state) {
  static const char conf[] =
      "# written by tests/itest_echo\n"
      "workers = 2;\n"
      "listeners = (\n"
      "  { name = \"line\"; bind = \"127.0.0.1:0\";\n"
      "    codec = { name = \"line\"; max_length = \"64k\"; };\n"
      "    handler = { name = \"echo\"; }; },\n"
      "  { name = \"length\"; bind = \"127.0.0.1:0\";\n"
      "    codec = { name = \"length\"; length_size = 4; max_frame = \"64k\"; "
      "};\n"
      "    handler = { name = \"echo\"; }; }\n"
      ");\n";
  const size_t maxp = LEN_MAX_FRAME - 4; /* largest payload */
  itest_daemon_t *d = *state;
  int port[2];
  uint8_t small[64], want[64], *big, *back;
  size_t n, m, i;
  int fd, good, bad, fds;

  echo_start(d, conf, port);
  fds = itest_daemon_fds(d);

  /* A partial line at EOF: the earlier lines are answered, then FIN. */
  fd = tcp_connect(port[CODEC_LINE]);
  send_all(fd, "a\nb\npartial", 11);
  shutdown(fd, SHUT_WR);
  expect_then_eof(fd, "a\nb\n", 4);
  close(fd);

  /* A line echo cannot send back ("c\r": the peer would strip its CR) in
   * the middle of a read's batch: the lines before it are answered, the
   * one after it is not, then the connection closes, as one at a time. */
  fd = tcp_connect(port[CODEC_LINE]);
  send_all(fd, "a\nb\nc\r\r\nd\n", 10);
  expect_then_eof(fd, "a\nb\n", 4);
  close(fd);

  /* The same with a length frame cut inside its header. */
  fd = tcp_connect(port[CODEC_LENGTH]);
  n = length_frame(small, 1, "x", 1);
  memcpy(small + n, "\0\0", 2);
  send_all(fd, small, n + 2);
  shutdown(fd, SHUT_WR);
  expect_then_eof(fd, small, n);
  close(fd);

  /* A well-behaved client, open across the bad ones below. */
  good = tcp_connect(port[CODEC_LENGTH]);
  n = length_frame(small, 4, "ping", 4);
  send_all(good, small, n);
  recv_exact(good, want, n);
  assert_memory_equal(want, small, n);

  /* One byte over max_frame, after a good frame in the same write: the
   * good frame is answered, then only this connection closes. */
  bad = tcp_connect(port[CODEC_LENGTH]);
  n = length_frame(small, 3, "one", 3);
  m = length_frame(small + n, (uint32_t)maxp + 1, "zz", 2);
  send_all(bad, small, n + m);
  expect_then_eof(bad, small, n);
  close(bad);

  /* A header that would wrap a 32-bit size once the header is added. */
  bad = tcp_connect(port[CODEC_LENGTH]);
  n = length_frame(small, UINT32_MAX, NULL, 0);
  send_all(bad, small, n);
  expect_then_eof(bad, "", 0);
  close(bad);

  /* The good connection still works: a frame of exactly max_frame, then an
   * empty one, both echoed; then it half-closes and gets a clean FIN. */
  big = malloc(2 * LEN_MAX_FRAME);
  back = malloc(2 * LEN_MAX_FRAME);
  assert_non_null(big);
  assert_non_null(back);
  for (i = 0; i < maxp; i++)
    big[4 + i] = (uint8_t)(i * 7 + (i >> 8));
  length_frame(big, (uint32_t)maxp, NULL, 0);
  n = 4 + maxp;
  n += length_frame(big + n, 0, NULL, 0);
  send_all(good, big, n);
  recv_exact(good, back, n);
  assert_memory_equal(back, big, n);
  shutdown(good, SHUT_WR);
  expect_then_eof(good, "", 0);
  close(good);
  free(big);
  free(back);

  itest_daemon_expect_fds(d, fds);
  itest_daemon_stop(d);
  itest_daemon_check_log(d);
}

/*
 * SIGHUP rebuilds a listener (an option changed) again and again while a
 * client connects over and over: the new listener takes over the old
 * one's sockets, so no connection the kernel took is reset (one bound
 * beside them with SO_REUSEPORT lost about 1 in 2,000 this way), and each
 * is answered.
 */
static void test_reload_while_connecting(void **state) {
  itest_daemon_t *d = *state;
  long io = (long)(10000 * itest_slow());
  int n = (int)(4000 * itest_scale()), i, fd, port = 0, reloads = 0;
  char conf[512], buf[4];
  FILE *f;

  if (n < 40)
    n = 40;
  for (i = 0; i <= n; i++) {
    if (i % 20 == 0) {
      snprintf(conf, sizeof(conf),
               "workers = 2;\n"
               "listeners = (\n"
               "  { name = \"front\"; bind = \"127.0.0.1:0\";\n"
               "    codec = { name = \"line\"; max_length = %d; };\n"
               "    handler = { name = \"echo\"; }; }\n"
               ");\n",
               100 + (i / 20) % 2);
      if (i == 0) {
        itest_daemon_start(d, conf);
        port = itest_daemon_port(d, "front");
      } else {
        f = fopen(d->conf, "w");
        assert_non_null(f);
        fputs(conf, f);
        fclose(f);
        itest_daemon_signal(d, SIGHUP);
        reloads++;
      }
    }
    if (i == n)
      break;
    fd = itest_connect(port, NULL, 0);
    itest_send_all(fd, "x\n", 2);
    itest_recv_exact(fd, buf, 2, io, "an echo while the listener reloads");
    assert_memory_equal(buf, "x\n", 2);
    close(fd);
  }
  if (!itest_log_wait(d, "reload: ", io)) {
    itest_daemon_dump_log(d);
    fail_msg("no reload took place");
  }
  print_message("%d connections, %d reloads, %d logged\n", n, reloads,
                itest_log_count(d, "reload: "));
  itest_daemon_stop(d);
  itest_daemon_check_log(d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_echo_storm, itest_daemon_setup,
                                      itest_daemon_teardown),
      cmocka_unit_test_setup_teardown(test_eof_and_oversize, itest_daemon_setup,
                                      itest_daemon_teardown),
      cmocka_unit_test_setup_teardown(test_reload_while_connecting,
                                      itest_daemon_setup,
                                      itest_daemon_teardown),
  };

  /* A daemon that dies must not take the test with it. */
  signal(SIGPIPE, SIG_IGN);
  return cmocka_run_group_tests(tests, NULL, NULL);
}
