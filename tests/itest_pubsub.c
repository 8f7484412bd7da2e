/*
 * Integration test: the pubsub handler (plugins/pubsub.c) in the real
 * weftd, on listeners with different codecs sharing one topic space.
 *
 * test_fanout (acceptance 1): listeners line, length and netstring on
 *   pubsub, workers = 2; 30 subscribers and 5 publishers spread over them
 *   (and, as the engine's stats must show, over both workers).  Every
 *   subscriber receives every message of its topics exactly once, in each
 *   publisher's order, framed by its own codec (the client decodes each
 *   stream strictly and compares every byte with the message regenerated
 *   from publisher and sequence number).  Every PUB is answered with the
 *   number of subscribers of its topic; duplicate SUBs do not duplicate
 *   delivery, an UNSUB removes.  The counters then say exactly what
 *   happened: nothing dropped, delivered = posted = the sum of the acks.
 *
 * test_slow_subscriber (acceptance 2): two subscribers that never read, one
 *   on a listener with on_full = "drop_oldest", one with "disconnect"
 *   (queue_limit = 64), next to three subscribers that read.  Publishing
 *   goes on until both policies have acted, then B_AFTER more messages;
 *   meanwhile the daemon's RSS may grow by at most B_RSS_BOUND_KIB.  The
 *   readers get everything in order.  The drop_oldest subscriber, once it
 *   reads, gets an increasing sequence ending with at least the last 64
 *   messages, and what it got plus dropped_oldest is what was published;
 *   the disconnected one gets an unbroken run from the first message, then
 *   "ERR queue full: disconnecting", then EOF.
 *
 * test_post_after_close (acceptance 4): three publishers (a thread) publish
 *   continuously while rounds of subscribers connect, subscribe and reset
 *   their connections (SO_LINGER 0): some at once, some after reading,
 *   some stuck with a full queue, some toggling their subscription.  Posts
 *   then race with closes, so messages reach references of connections
 *   that are gone.  Run under --enable-sanitizers this must stay silent.
 *   Afterwards the registry is empty (no topic, no subscription, nothing
 *   queued) and a new subscriber is still served.
 *
 * test_protocol: the command syntax, answer by answer, the limits
 *   (max_subscriptions, max_topic_length), ack_publish = false, binary
 *   payloads (a line subscriber cannot take one holding "\n": dropped and
 *   counted as unsendable), and options refused by `weftd --check`.
 *
 * Every test ends with the checks of RELIABILITY.md: descriptors back to
 * their start-up count, exit status 0 on SIGTERM, no alert and no
 * sanitizer line in the log.
 *
 * Environment:
 *   WEFTD            the daemon (default ./weftd).
 *   top_builddir     where plugins/.libs and codecs/.libs are (default .).
 *   WEFT_TEST_SCALE  multiplies the traffic (default 1; 0.02 under
 *                    valgrind); never removes a check.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "itest_util.h"

#define IO_TIMEOUT_MS 15000 /* one blocking step, or a stall */
#define MAX_LISTENERS 4

enum { C_LINE, C_LENGTH, C_NETSTRING };
static const char *const codec_names[] = {"line", "length", "netstring"};

/* ---- small things ------------------------------------------------------- */

/* n scaled, but never below min. */
static uint32_t scaled(double n, uint32_t min) {
  double v = n * itest_scale() + 0.5;
  return v < (double)min ? min : (uint32_t)v;
}

/* A frame, printable, for failure messages (static buffer). */
static const char *show(const uint8_t *p, size_t n) {
  static char buf[400];
  size_t i, o = 0;

  for (i = 0; i < n && o + 8 < sizeof(buf); i++) {
    if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\')
      buf[o++] = (char)p[i];
    else
      o += (size_t)snprintf(buf + o, sizeof(buf) - o, "\\x%02x", p[i]);
  }
  if (i < n)
    o += (size_t)snprintf(buf + o, sizeof(buf) - o, "...(%zu bytes)", n);
  buf[o] = '\0';
  return buf;
}

/* "plugin_path = [ ... ];" naming the build tree's modules. */
static const char *plugin_path_line(void) {
  static char line[2 * PATH_MAX + 64];
  const char *top = getenv("top_builddir");
  char abs[PATH_MAX];

  if (top == NULL || top[0] == '\0')
    top = ".";
  if (realpath(top, abs) == NULL)
    fail_msg("top_builddir %s: %s", top, strerror(errno));
  snprintf(line, sizeof(line),
           "plugin_path = [ \"%s/plugins/.libs\", \"%s/codecs/.libs\" ];\n",
           abs, abs);
  return line;
}

/* ---- the daemon (tests/itest_util.c) ---------------------------------- */

/* Starts weftd on conf_text; port[i] is where listener names[i] listens. */
static void pubsub_start(itest_daemon_t *d, const char *conf_text,
                         const char *const *names, int n, int *port) {
  int i;

  itest_daemon_start(d, conf_text);
  for (i = 0; i < n; i++)
    port[i] = itest_daemon_port(d, names[i]);
}

/* Fails, with the log, if the daemon has died. */
static void daemon_alive(itest_daemon_t *d, const char *when) {
  int status;

  if (d->pid > 0 && itest_daemon_reap(d, 0, &status)) {
    itest_daemon_dump_log(d);
    if (status != -1 && WIFSIGNALED(status))
      fail_msg("weftd died from signal %d (%s) %s", WTERMSIG(status),
               strsignal(WTERMSIG(status)), when);
    fail_msg("weftd exited (status 0x%x) %s", (unsigned)status, when);
  }
}

static void daemon_expect_log(const itest_daemon_t *d, const char *text) {
  if (itest_log_count(d, text) == 0) {
    itest_daemon_dump_log(d);
    fail_msg("weftd log lacks \"%s\"", text);
  }
}

/* The end of every test (RELIABILITY.md). */
static void daemon_finish(itest_daemon_t *d, int fds) {
  daemon_alive(d, "before the final checks");
  itest_daemon_expect_fds(d, fds);
  itest_daemon_stop(d);
  itest_daemon_check_log(d);
}

/* ---- a client connection speaking one codec --------------------------- */

typedef struct {
  uint8_t *p;
  size_t off, len, cap; /* bytes p[off..len) */
} buf_t;

static void buf_reserve(buf_t *b, size_t n) {
  uint8_t *np;

  if (b->off > 0 && (b->off == b->len || b->cap - b->len < n)) {
    memmove(b->p, b->p + b->off, b->len - b->off);
    b->len -= b->off;
    b->off = 0;
  }
  if (b->cap - b->len >= n)
    return;
  while (b->cap - b->len < n)
    b->cap = b->cap ? b->cap * 2 : 65536;
  np = realloc(b->p, b->cap);
  if (np == NULL)
    abort(); /* the test itself out of memory */
  b->p = np;
}

static void buf_append(buf_t *b, const void *d, size_t n) {
  buf_reserve(b, n);
  if (n > 0)
    memcpy(b->p + b->len, d, n);
  b->len += n;
}

typedef struct {
  int fd;
  int codec;
  char label[64];
  buf_t in, out;
  size_t consume; /* bytes of in to drop before the next frame */
  int eof;
  char err[256]; /* what went wrong, for the non-failing calls */
} peer_t;

static void peer_open(peer_t *c, int port, int codec, int rcvbuf,
                      const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Connects (blocking), then goes non-blocking.  rcvbuf > 0 shrinks the
 * receive buffer first, so that a peer that does not read fills up soon. */
static void peer_open(peer_t *c, int port, int codec, int rcvbuf,
                      const char *fmt, ...) {
  va_list ap;
  int one = 1;

  memset(c, 0, sizeof(*c));
  c->codec = codec;
  va_start(ap, fmt);
  vsnprintf(c->label, sizeof(c->label), fmt, ap);
  va_end(ap);
  c->fd = itest_connect(port, NULL, rcvbuf);
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  itest_set_nonblock(c->fd);
}

static void peer_free(peer_t *c) {
  if (c->fd >= 0)
    close(c->fd);
  c->fd = -1;
  free(c->in.p);
  free(c->out.p);
  memset(&c->in, 0, sizeof(c->in));
  memset(&c->out, 0, sizeof(c->out));
}

/* Closes with an RST: SO_LINGER 0, the abrupt end a crashed client gives. */
static void peer_reset(peer_t *c) {
  itest_close_rst(c->fd);
  c->fd = -1;
  peer_free(c);
}

/* Queues one frame, encoded with the peer's codec. */
static void peer_send(peer_t *c, const void *data, size_t len) {
  uint8_t hdr[16];
  int n;

  switch (c->codec) {
  case C_LINE:
    buf_append(&c->out, data, len);
    buf_append(&c->out, "\n", 1);
    break;
  case C_LENGTH:
    hdr[0] = (uint8_t)(len >> 24);
    hdr[1] = (uint8_t)(len >> 16);
    hdr[2] = (uint8_t)(len >> 8);
    hdr[3] = (uint8_t)len;
    buf_append(&c->out, hdr, 4);
    buf_append(&c->out, data, len);
    break;
  default:
    n = snprintf((char *)hdr, sizeof(hdr), "%zu:", len);
    buf_append(&c->out, hdr, (size_t)n);
    buf_append(&c->out, data, len);
    buf_append(&c->out, ",", 1);
  }
}

static size_t peer_pending(const peer_t *c) {
  return c->out.len - c->out.off;
}

/* Writes what the socket takes.  0, or -1 with err set. */
static int peer_flush(peer_t *c) {
  ssize_t r;

  while (peer_pending(c) > 0) {
    r = send(c->fd, c->out.p + c->out.off, peer_pending(c),
             MSG_NOSIGNAL | MSG_DONTWAIT);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      return 0;
    if (r < 0) {
      snprintf(c->err, sizeof(c->err), "%s: send: %s", c->label,
               strerror(errno));
      return -1;
    }
    c->out.off += (size_t)r;
  }
  return 0;
}

/* Reads what is there: >0 bytes, 0 nothing now, -1 error (err set).  EOF
 * sets eof. */
static ssize_t peer_fill(peer_t *c) {
  ssize_t r;

  if (c->consume > 0) {
    c->in.off += c->consume;
    c->consume = 0;
  }
  buf_reserve(&c->in, 256 * 1024);
  do
    r = recv(c->fd, c->in.p + c->in.len, c->in.cap - c->in.len, MSG_DONTWAIT);
  while (r < 0 && errno == EINTR);
  if (r > 0) {
    c->in.len += (size_t)r;
    return r;
  }
  if (r == 0) {
    c->eof = 1;
    return 0;
  }
  if (errno == EAGAIN || errno == EWOULDBLOCK)
    return 0;
  snprintf(c->err, sizeof(c->err), "%s: recv: %s", c->label, strerror(errno));
  return -1;
}

/*
 * The next frame in what was read, decoded strictly by the peer's codec:
 * 1 and *f, *n (valid until the next call), 0 when more bytes are needed,
 * -1 on bytes that are not a valid frame of that codec (err set).
 */
static int peer_next(peer_t *c, const uint8_t **f, size_t *n) {
  const uint8_t *p, *e;
  size_t avail, len, i;

  c->in.off += c->consume;
  c->consume = 0;
  p = c->in.p + c->in.off;
  avail = c->in.len - c->in.off;
  switch (c->codec) {
  case C_LINE:
    e = avail ? memchr(p, '\n', avail) : NULL;
    if (e == NULL)
      return 0;
    *f = p;
    *n = (size_t)(e - p);
    c->consume = *n + 1;
    return 1;
  case C_LENGTH:
    if (avail < 4)
      return 0;
    len = (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
    if (len > 16 * 1024 * 1024) {
      snprintf(c->err, sizeof(c->err), "%s: length header of %zu", c->label,
               len);
      return -1;
    }
    if (avail < 4 + len)
      return 0;
    *f = p + 4;
    *n = len;
    c->consume = 4 + len;
    return 1;
  default:
    for (i = 0, len = 0; i < avail && p[i] != ':'; i++) {
      if (p[i] < '0' || p[i] > '9' || i >= 9 || (i == 1 && p[0] == '0')) {
        snprintf(c->err, sizeof(c->err), "%s: bad netstring header: %s",
                 c->label, show(p, avail < 12 ? avail : 12));
        return -1;
      }
      len = len * 10 + (size_t)(p[i] - '0');
    }
    if (i == avail)
      return 0;
    if (i == 0) {
      snprintf(c->err, sizeof(c->err), "%s: netstring without digits",
               c->label);
      return -1;
    }
    if (avail < i + 1 + len + 1)
      return 0;
    if (p[i + 1 + len] != ',') {
      snprintf(c->err, sizeof(c->err), "%s: netstring not ended by \",\"",
               c->label);
      return -1;
    }
    *f = p + i + 1;
    *n = len;
    c->consume = i + 1 + len + 1;
    return 1;
  }
}

/* Blocking: the next frame within IO_TIMEOUT_MS, flushing output meanwhile.
 * Returns 0 at EOF (no frame), 1 with a frame; fails on anything else. */
static int peer_recv(peer_t *c, const uint8_t **f, size_t *n) {
  double deadline = itest_now_ms() + IO_TIMEOUT_MS;
  struct pollfd pfd;
  int r;

  for (;;) {
    r = peer_next(c, f, n);
    if (r < 0)
      fail_msg("%s", c->err);
    if (r == 1)
      return 1;
    if (c->eof)
      return 0;
    if (peer_flush(c) != 0)
      fail_msg("%s", c->err);
    pfd.fd = c->fd;
    pfd.events = POLLIN | (peer_pending(c) ? POLLOUT : 0);
    pfd.revents = 0;
    if (itest_now_ms() >= deadline)
      fail_msg("%s: no frame within %d ms", c->label, IO_TIMEOUT_MS);
    poll(&pfd, 1, 100);
    if (peer_fill(c) < 0)
      fail_msg("%s", c->err);
  }
}

/* Blocking: the next frame must be exactly want[0..len). */
static void peer_expect_mem(peer_t *c, const void *want, size_t len) {
  const uint8_t *f;
  size_t n;
  char w[400];

  if (!peer_recv(c, &f, &n))
    fail_msg("%s: EOF, expected \"%s\"", c->label,
             show((const uint8_t *)want, len));
  if (n != len || memcmp(f, want, n) != 0) {
    snprintf(w, sizeof(w), "%s", show((const uint8_t *)want, len));
    fail_msg("%s: got \"%s\", expected \"%s\"", c->label, show(f, n), w);
  }
}

static void peer_expect(peer_t *c, const char *want) {
  peer_expect_mem(c, want, strlen(want));
}

/* Sends a command and expects its answer. */
static void peer_ask(peer_t *c, const char *cmd, const char *want) {
  peer_send(c, cmd, strlen(cmd));
  peer_expect(c, want);
}

/* Blocking: nothing but EOF may come. */
static void peer_expect_eof(peer_t *c) {
  const uint8_t *f;
  size_t n;

  if (peer_recv(c, &f, &n))
    fail_msg("%s: got \"%s\", expected EOF", c->label, show(f, n));
}

/* ---- STATS -------------------------------------------------------------- */

typedef struct {
  char text[1024];
} stats_t;

static void stats_get(peer_t *ctl, stats_t *st) {
  const uint8_t *f;
  size_t n;

  peer_send(ctl, "STATS", 5);
  if (!peer_recv(ctl, &f, &n))
    fail_msg("%s: EOF instead of STATS", ctl->label);
  if (n < 6 || memcmp(f, "STATS ", 6) != 0 || n >= sizeof(st->text) - 1)
    fail_msg("%s: STATS answered \"%s\"", ctl->label, show(f, n));
  memcpy(st->text, f, n);
  st->text[n] = ' ';
  st->text[n + 1] = '\0';
}

static uint64_t stat_of(const stats_t *st, const char *key) {
  char pat[64];
  const char *p;

  snprintf(pat, sizeof(pat), " %s=", key);
  p = strstr(st->text, pat);
  if (p == NULL)
    fail_msg("no %s in \"%s\"", key, st->text);
  return strtoull(p + strlen(pat), NULL, 10);
}

#define EXPECT_STAT(st, key, want)                                             \
  do {                                                                         \
    uint64_t v_ = stat_of((st), (key)), w_ = (uint64_t)(want);                 \
    if (v_ != w_)                                                              \
      fail_msg("STATS %s = %" PRIu64 ", expected %" PRIu64 " (%s)", (key), v_, \
               w_, (st)->text);                                                \
  } while (0)

/* Waits until every key=value in want holds (the daemon may still be
 * processing closes), or fails with the last STATS seen. */
static void stats_wait(peer_t *ctl, const char *const *keys,
                       const uint64_t *vals, int n) {
  double deadline = itest_now_ms() + IO_TIMEOUT_MS;
  stats_t st;
  int i, ok;

  for (;;) {
    stats_get(ctl, &st);
    for (i = 0, ok = 1; i < n && ok; i++)
      ok = stat_of(&st, keys[i]) == vals[i];
    if (ok)
      return;
    if (itest_now_ms() >= deadline)
      fail_msg("STATS did not settle within %d ms: %s", IO_TIMEOUT_MS, st.text);
    itest_sleep_ms(20);
  }
}

/* The engine's stats handler: connections open on each worker. */
static void engine_conns_per_worker(int port, uint64_t open[2]) {
  peer_t s;
  itest_stats_t st;
  const uint8_t *f;
  size_t n;
  char line[1024];

  open[0] = open[1] = 0;
  peer_open(&s, port, C_LINE, 0, "stats client");
  peer_send(&s, "x", 1);
  for (;;) {
    if (!peer_recv(&s, &f, &n))
      fail_msg("stats: EOF before \"end\"");
    if (n == 3 && memcmp(f, "end", 3) == 0)
      break;
    snprintf(line, sizeof(line), "%.*s", (int)n, (const char *)f);
    if (itest_stats_parse(line, "*", "0", &st))
      open[0] = st.v[ITEST_ST_conns_open];
    if (itest_stats_parse(line, "*", "1", &st))
      open[1] = st.v[ITEST_ST_conns_open];
  }
  peer_free(&s);
}

/* ======================================================================== *
 * test_fanout: acceptance 1.                                                *
 * ======================================================================== */

#define A_NTOPICS 7 /* t0..t5 have subscribers, t6 has none */
#define A_NSUBS 30
#define A_NPUBS 5
#define A_MSGS 10000 /* per publisher, before scaling */
/*
 * A publisher stays at most A_WINDOW messages ahead of the slowest
 * subscriber of its messages, so at most A_NPUBS * A_WINDOW * A_NSUBS =
 * 3600 messages are ever in flight: the default mailbox_size of 4096 per
 * worker always has room, and no subscriber ever has more than
 * A_NPUBS * A_WINDOW = 120 messages waiting, far below queue_limit (a
 * subscriber may still go past the high watermark and use its queue).  A
 * drop would therefore be a bug, and the test says so.
 */
#define A_WINDOW 24

typedef struct {
  peer_t pr;
  unsigned mask;          /* topics subscribed, bit k for "tk" */
  uint32_t next[A_NPUBS]; /* the next sequence expected from each publisher */
  uint64_t got;
} a_sub_t;

typedef struct {
  peer_t pr;
  uint32_t sent, acked;
  uint64_t posted; /* sum of the acks' counts */
} a_pub_t;

typedef struct {
  uint32_t nmsgs;
  uint8_t *topic[A_NPUBS]; /* topic of each message */
  unsigned nsubs_of[A_NTOPICS];
  a_sub_t subs[A_NSUBS];
  a_pub_t pubs[A_NPUBS];
  char scratch[4096];
} a_state_t;

static unsigned a_mask(int i) {
  unsigned m = 1u << (i % 6) | 1u << ((i + 3) % 6);

  if (i % 10 == 0)
    m |= 0x3f; /* every topic that has subscribers */
  return m;
}

/* The payload of publisher p's message s: "p<p> s<s> " and letters, mostly
 * short, sometimes up to 2 KiB.  Line-safe, so every codec carries it. */
static size_t a_payload(int p, uint32_t s, char *buf) {
  uint64_t h = itest_splitmix64(((uint64_t)p << 32) ^ s ^ 0x5eed);
  size_t n = (size_t)sprintf(buf, "p%d s%" PRIu32 " ", p, s), fill, i;

  fill = h % 100 < 90 ? (size_t)((h >> 8) % 200) : (size_t)((h >> 8) % 2000);
  for (i = 0; i < fill; i++)
    buf[n + i] = (char)('a' + (itest_splitmix64(h + i) % 26));
  return n + fill;
}

static void a_advance(const a_state_t *st, a_sub_t *s, int p, uint32_t from) {
  uint32_t k = from;

  while (k < st->nmsgs && !(s->mask >> st->topic[p][k] & 1))
    k++;
  s->next[p] = k;
}

/* One MSG frame at subscriber i: the next one of its publisher, exactly. */
static void a_check_msg(a_state_t *st, int i, const uint8_t *f, size_t n) {
  a_sub_t *s = &st->subs[i];
  unsigned long p, seq;
  char *end, expect[4200];
  size_t en;
  int k;

  if (n < 12 || memcmp(f, "MSG t", 5) != 0 || f[5] < '0' || f[5] > '9' ||
      f[6] != ' ' || f[7] != 'p')
    fail_msg("%s: not a message: \"%s\"", s->pr.label, show(f, n));
  memcpy(st->scratch, f, n < 64 ? n : 64);
  st->scratch[n < 64 ? n : 64] = '\0';
  p = strtoul(st->scratch + 8, &end, 10);
  if (p >= A_NPUBS || strncmp(end, " s", 2) != 0)
    fail_msg("%s: bad message \"%s\"", s->pr.label, show(f, n));
  seq = strtoul(end + 2, NULL, 10);
  if (seq != s->next[p])
    fail_msg("%s (topics 0x%x): from publisher %lu got sequence %lu, expected "
             "%" PRIu32 " (%s)",
             s->pr.label, s->mask, p, seq, s->next[p],
             seq < s->next[p] ? "a duplicate or reordered message"
                              : "a message is missing");
  k = st->topic[p][seq];
  en = (size_t)sprintf(expect, "MSG t%d ", k);
  en += a_payload((int)p, (uint32_t)seq, expect + en);
  if (n != en || memcmp(f, expect, n) != 0)
    fail_msg("%s: message %lu of publisher %lu differs: got \"%s\"",
             s->pr.label, seq, p, show(f, n));
  s->got++;
  a_advance(st, s, (int)p, (uint32_t)seq + 1);
}

/* One ack at publisher p: "OK PUB tk N", N the subscribers of tk. */
static void a_check_ack(a_state_t *st, int p, const uint8_t *f, size_t n) {
  a_pub_t *pb = &st->pubs[p];
  char want[64];
  int k, wn;

  if (pb->acked >= pb->sent)
    fail_msg("%s: unexpected \"%s\"", pb->pr.label, show(f, n));
  k = st->topic[p][pb->acked];
  wn = snprintf(want, sizeof(want), "OK PUB t%d %u", k, st->nsubs_of[k]);
  if (n != (size_t)wn || memcmp(f, want, n) != 0)
    fail_msg("%s: PUB %" PRIu32 " answered \"%s\", expected \"%s\"",
             pb->pr.label, pb->acked, show(f, n), want);
  pb->posted += st->nsubs_of[k];
  pb->acked++;
}

static int a_done(const a_state_t *st) {
  int i, p;

  for (p = 0; p < A_NPUBS; p++)
    if (st->pubs[p].acked < st->nmsgs)
      return 0;
  for (i = 0; i < A_NSUBS; i++)
    for (p = 0; p < A_NPUBS; p++)
      if (st->subs[i].next[p] < st->nmsgs)
        return 0;
  return 1;
}

static void a_describe_stall(const a_state_t *st) {
  int i, p;

  for (p = 0; p < A_NPUBS; p++)
    print_message("%s: sent %" PRIu32 ", acked %" PRIu32 "\n",
                  st->pubs[p].pr.label, st->pubs[p].sent, st->pubs[p].acked);
  for (i = 0; i < A_NSUBS; i++)
    for (p = 0; p < A_NPUBS; p++)
      if (st->subs[i].next[p] < st->pubs[p].sent)
        print_message("%s waits for publisher %d's message %" PRIu32 "\n",
                      st->subs[i].pr.label, p, st->subs[i].next[p]);
}

static void test_fanout(void **state) {
  itest_daemon_t *d = *state;
  static const char *const names[] = {"line", "length", "netstring", "stats"};
  char conf[2 * PATH_MAX + 2048], cmd[64], want[64];
  const char *path;
  struct pollfd pfd[A_NSUBS + A_NPUBS];
  uint64_t deliveries = 0, posted = 0, open[2];
  double t0, last_progress;
  a_state_t *st;
  stats_t sx;
  peer_t ctl;
  uint32_t low;
  int port[MAX_LISTENERS], i, p, k, fds, r, nt = 0;
  const uint8_t *f;
  size_t n;

  path = plugin_path_line();
  snprintf(conf, sizeof(conf),
           "# written by tests/itest_pubsub (fanout)\n"
           "workers = 2;\n%s"
           "listeners = (\n"
           "  { name = \"line\"; bind = \"127.0.0.1:0\";\n"
           "    codec = { name = \"line\"; };\n"
           "    handler = { name = \"pubsub\"; }; },\n"
           "  { name = \"length\"; bind = \"127.0.0.1:0\";\n"
           "    codec = { name = \"length\"; };\n"
           "    handler = { name = \"pubsub\"; }; },\n"
           "  { name = \"netstring\"; bind = \"127.0.0.1:0\";\n"
           "    codec = { name = \"netstring\"; };\n"
           "    handler = { name = \"pubsub\"; }; },\n"
           "  { name = \"stats\"; bind = \"127.0.0.1:0\";\n"
           "    codec = { name = \"line\"; };\n"
           "    handler = { name = \"stats\"; }; }\n"
           ");\n",
           path);
  st = calloc(1, sizeof(*st));
  assert_non_null(st);
  st->nmsgs = scaled(A_MSGS, 40);
  for (p = 0; p < A_NPUBS; p++) {
    st->topic[p] = malloc(st->nmsgs);
    assert_non_null(st->topic[p]);
    for (i = 0; i < (int)st->nmsgs; i++)
      st->topic[p][i] = (uint8_t)(itest_splitmix64(((uint64_t)p << 32) ^
                                                   (uint64_t)i ^ 0x70b1c) %
                                  A_NTOPICS);
  }
  for (i = 0; i < A_NSUBS; i++)
    for (k = 0; k < A_NTOPICS; k++)
      st->nsubs_of[k] += a_mask(i) >> k & 1;
  for (k = 0; k < A_NTOPICS; k++)
    nt += st->nsubs_of[k] > 0;

  pubsub_start(d, conf, names, 4, port);
  fds = itest_daemon_fds(d);
  print_message("weftd pid %d; %d publishers x %" PRIu32 " messages, %d "
                "subscribers\n",
                (int)d->pid, A_NPUBS, st->nmsgs, A_NSUBS);

  /* Subscribers, on the three codecs in turn, and their subscriptions:
   * some SUB twice (must not be delivered twice), some SUB to t6 in lower
   * case and UNSUB it again (must receive none of t6). */
  for (i = 0; i < A_NSUBS; i++) {
    a_sub_t *s = &st->subs[i];
    s->mask = a_mask(i);
    peer_open(&s->pr, port[i % 3], i % 3, 0, "subscriber %d (%s)", i,
              codec_names[i % 3]);
    for (k = 0; k < A_NTOPICS; k++) {
      if (!(s->mask >> k & 1))
        continue;
      snprintf(cmd, sizeof(cmd), "SUB t%d", k);
      snprintf(want, sizeof(want), "OK SUB t%d", k);
      peer_ask(&s->pr, cmd, want);
      if (i % 4 == 1)
        peer_ask(&s->pr, cmd, want);
    }
    if (i % 4 == 2) {
      peer_ask(&s->pr, "sub t6", "OK SUB t6");
      peer_ask(&s->pr, "UNSUB t6", "OK UNSUB t6");
    }
    for (p = 0; p < A_NPUBS; p++)
      a_advance(st, s, p, 0);
  }
  for (p = 0; p < A_NPUBS; p++)
    peer_open(&st->pubs[p].pr, port[p % 3], p % 3, 0, "publisher %d (%s)", p,
              codec_names[p % 3]);
  peer_open(&ctl, port[C_NETSTRING], C_NETSTRING, 0, "control");

  /* The connections are spread over both workers. */
  engine_conns_per_worker(port[3], open);
  print_message("connections per worker: %" PRIu64 " and %" PRIu64 "\n",
                open[0], open[1]);
  if (open[0] == 0 || open[1] == 0)
    fail_msg("all connections landed on one worker (%" PRIu64 ", %" PRIu64
             "): delivery across workers would go untested",
             open[0], open[1]);
  stats_get(&ctl, &sx);
  EXPECT_STAT(&sx, "topics", nt);

  t0 = last_progress = itest_now_ms();
  while (!a_done(st)) {
    for (p = 0; p < A_NPUBS; p++) {
      a_pub_t *pb = &st->pubs[p];

      for (;;) {
        low = pb->sent;
        for (i = 0; i < A_NSUBS; i++)
          if (st->subs[i].next[p] < low)
            low = st->subs[i].next[p];
        if (pb->sent >= st->nmsgs || pb->sent - low >= A_WINDOW ||
            peer_pending(&pb->pr) > 256 * 1024)
          break;
        k = st->topic[p][pb->sent];
        n = (size_t)sprintf(st->scratch, "PUB t%d ", k);
        n += a_payload(p, pb->sent, st->scratch + n);
        peer_send(&pb->pr, st->scratch, n);
        pb->sent++;
      }
      if (peer_flush(&pb->pr) != 0)
        fail_msg("%s", pb->pr.err);
    }
    for (i = 0; i < A_NSUBS + A_NPUBS; i++) {
      peer_t *c = i < A_NSUBS ? &st->subs[i].pr : &st->pubs[i - A_NSUBS].pr;
      pfd[i].fd = c->fd;
      pfd[i].events = POLLIN | (peer_pending(c) ? POLLOUT : 0);
      pfd[i].revents = 0;
    }
    poll(pfd, A_NSUBS + A_NPUBS, 100);
    for (i = 0; i < A_NSUBS + A_NPUBS; i++) {
      peer_t *c = i < A_NSUBS ? &st->subs[i].pr : &st->pubs[i - A_NSUBS].pr;
      if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
        continue;
      if (peer_fill(c) < 0)
        fail_msg("%s", c->err);
      while ((r = peer_next(c, &f, &n)) == 1) {
        if (i < A_NSUBS)
          a_check_msg(st, i, f, n);
        else
          a_check_ack(st, i - A_NSUBS, f, n);
        last_progress = itest_now_ms();
      }
      if (r < 0)
        fail_msg("%s", c->err);
      if (c->eof)
        fail_msg("%s: EOF in the middle of the run", c->label);
    }
    if (itest_now_ms() - last_progress > IO_TIMEOUT_MS) {
      a_describe_stall(st);
      itest_daemon_dump_log(d);
      fail_msg("no progress for %d ms", IO_TIMEOUT_MS);
    }
  }
  for (i = 0; i < A_NSUBS; i++)
    deliveries += st->subs[i].got;
  for (p = 0; p < A_NPUBS; p++)
    posted += st->pubs[p].posted;
  print_message("%" PRIu64 " deliveries of %u messages verified in %.2f s\n",
                deliveries, A_NPUBS * st->nmsgs,
                (itest_now_ms() - t0) / 1000.0);
  assert_int_equal(deliveries, posted);

  /* Nothing more is on its way to anybody: a PING's PONG comes next. */
  for (i = 0; i < A_NSUBS; i++)
    peer_ask(&st->subs[i].pr, "PING", "PONG");
  stats_get(&ctl, &sx);
  EXPECT_STAT(&sx, "published", (uint64_t)A_NPUBS * st->nmsgs);
  EXPECT_STAT(&sx, "posted", posted);
  EXPECT_STAT(&sx, "delivered", deliveries);
  EXPECT_STAT(&sx, "queued", 0);
  EXPECT_STAT(&sx, "dropped_oldest", 0);
  EXPECT_STAT(&sx, "dropped_newest", 0);
  EXPECT_STAT(&sx, "dropped_mailbox", 0);
  EXPECT_STAT(&sx, "dropped_unsendable", 0);
  EXPECT_STAT(&sx, "disconnects", 0);
  EXPECT_STAT(&sx, "topics", nt);

  for (i = 0; i < A_NSUBS; i++)
    peer_free(&st->subs[i].pr);
  for (p = 0; p < A_NPUBS; p++)
    peer_free(&st->pubs[p].pr);
  {
    static const char *const keys[] = {"topics", "subscriptions"};
    static const uint64_t zero[] = {0, 0};
    stats_wait(&ctl, keys, zero, 2);
  }
  peer_free(&ctl);
  daemon_finish(d, fds);
  snprintf(st->scratch, sizeof(st->scratch),
           "pubsub: %u published, %" PRIu64 " posted, %" PRIu64
           " delivered; dropped 0 oldest, 0 newest, 0 at a full mailbox, 0 "
           "unsendable; 0 slow subscribers disconnected",
           A_NPUBS * st->nmsgs, posted, deliveries);
  daemon_expect_log(d, st->scratch);
  for (p = 0; p < A_NPUBS; p++)
    free(st->topic[p]);
  free(st);
}

/* ======================================================================== *
 * test_slow_subscriber: acceptance 2.                                       *
 * ======================================================================== */

#define B_QUEUE 64        /* queue_limit of the two slow listeners */
#define B_PAYLOAD 1000    /* bytes of each message's payload */
#define B_WINDOW 32       /* publisher's lead over the slowest reader */
#define B_MAX_FILL 200000 /* messages: the policies must act before this */
#define B_AFTER 40000     /* messages published after they acted (scaled) */
/*
 * The bound: while B_AFTER more messages (40 MB at scale 1) are published
 * past the point where both policies acted, the daemon's resident memory
 * grows by at most this.  What pubsub itself holds for the stuck
 * subscriber is B_QUEUE shared messages (about 66 KiB) beside the engine's
 * output queue (high watermark 64 KiB); the rest is allocator slack.  Under
 * ASan or valgrind, their freed-block quarantines are capped for this
 * daemon (itest_daemon_t.small_quarantine), or they would count as growth.
 */
#define B_RSS_BOUND_KIB (16 * 1024)

enum { B_R_MAIN, B_R_OLDEST, B_R_DISC, B_NREADERS };

typedef struct {
  peer_t pub, ctl, rd[B_NREADERS], s_old, s_disc;
  uint32_t sent, acked, got[B_NREADERS];
  uint32_t last_ack_n, acks_of_5;
  uint64_t posted;
  char buf[B_PAYLOAD + 64];
  char want[B_PAYLOAD + 64];
} b_state_t;

/* A feed frame: "MSG feed " (or "PUB feed ") and a payload of B_PAYLOAD
 * bytes, "s<seq> " then letters. */
static size_t b_frame(uint32_t seq, char *out, int with_msg) {
  uint64_t h = itest_splitmix64(seq);
  size_t n, i;

  memcpy(out, with_msg ? "MSG feed " : "PUB feed ", 9);
  n = 9 + (size_t)sprintf(out + 9, "s%" PRIu32 " ", seq);
  for (i = n; i < 9 + B_PAYLOAD; i++)
    out[i] = (char)('a' + (itest_splitmix64(h + i) % 26));
  return 9 + B_PAYLOAD;
}

/* The sequence number of a MSG feed frame, or fails. */
static uint32_t b_seq_of(b_state_t *st, const peer_t *c, const uint8_t *f,
                         size_t n) {
  unsigned long seq;
  char head[32];

  if (n < 11 || memcmp(f, "MSG feed s", 10) != 0)
    fail_msg("%s: not a feed message: \"%s\"", c->label, show(f, n));
  snprintf(head, sizeof(head), "%.*s", (int)(n < 30 ? n : 30) - 10,
           (const char *)f + 10);
  seq = strtoul(head, NULL, 10);
  if (seq >= st->sent || b_frame((uint32_t)seq, st->want, 1) != n ||
      memcmp(f, st->want, n) != 0)
    fail_msg("%s: message %lu differs: \"%s\"", c->label, seq, show(f, n));
  return (uint32_t)seq;
}

static void b_ack(b_state_t *st, const uint8_t *f, size_t n) {
  unsigned long v;
  char tmp[64];

  if (n < 12 || n > 40 || memcmp(f, "OK PUB feed ", 12) != 0 ||
      st->acked >= st->sent)
    fail_msg("publisher: unexpected \"%s\"", show(f, n));
  snprintf(tmp, sizeof(tmp), "%.*s", (int)n - 12, (const char *)f + 12);
  v = strtoul(tmp, NULL, 10);
  /* Five subscribers, four once the disconnect policy has acted. */
  if ((v != 5 && v != 4) || (st->acked > 0 && v > st->last_ack_n))
    fail_msg("publisher: PUB %" PRIu32 " answered \"%s\" after %" PRIu32,
             st->acked, show(f, n), st->last_ack_n);
  st->last_ack_n = (uint32_t)v;
  st->acks_of_5 += v == 5;
  st->posted += v;
  st->acked++;
}

/* Publishes until `total` are sent and the readers have every one. */
static void b_pump(b_state_t *st, uint32_t total) {
  struct pollfd pfd[B_NREADERS + 1];
  double last = itest_now_ms();
  const uint8_t *f;
  uint32_t low;
  size_t n;
  int i, r;

  for (;;) {
    low = st->sent;
    for (i = 0; i < B_NREADERS; i++)
      if (st->got[i] < low)
        low = st->got[i];
    if (low == total && st->acked == total)
      return;
    while (st->sent < total && st->sent - low < B_WINDOW &&
           st->sent - st->acked < 1024) {
      n = b_frame(st->sent, st->buf, 0);
      peer_send(&st->pub, st->buf, n);
      st->sent++;
    }
    if (peer_flush(&st->pub) != 0)
      fail_msg("%s", st->pub.err);
    for (i = 0; i <= B_NREADERS; i++) {
      peer_t *c = i < B_NREADERS ? &st->rd[i] : &st->pub;
      pfd[i].fd = c->fd;
      pfd[i].events = POLLIN | (peer_pending(c) ? POLLOUT : 0);
      pfd[i].revents = 0;
    }
    poll(pfd, B_NREADERS + 1, 100);
    for (i = 0; i <= B_NREADERS; i++) {
      peer_t *c = i < B_NREADERS ? &st->rd[i] : &st->pub;
      if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
        continue;
      if (peer_fill(c) < 0)
        fail_msg("%s", c->err);
      while ((r = peer_next(c, &f, &n)) == 1) {
        last = itest_now_ms();
        if (i == B_NREADERS) {
          b_ack(st, f, n);
        } else if (b_seq_of(st, c, f, n) != st->got[i]) {
          fail_msg("%s: got message %" PRIu32 ", expected %" PRIu32
                   " (a reader must get every message, in order)",
                   c->label, b_seq_of(st, c, f, n), st->got[i]);
        } else {
          st->got[i]++;
        }
      }
      if (r < 0)
        fail_msg("%s", c->err);
      if (c->eof)
        fail_msg("%s: EOF", c->label);
    }
    if (itest_now_ms() - last > IO_TIMEOUT_MS)
      fail_msg("no progress for %d ms: sent %" PRIu32 ", acked %" PRIu32
               ", readers at %" PRIu32 " %" PRIu32 " %" PRIu32,
               IO_TIMEOUT_MS, st->sent, st->acked, st->got[0], st->got[1],
               st->got[2]);
  }
}

static void test_slow_subscriber(void **state) {
  itest_daemon_t *d = *state;
  static const char *const names[] = {"main", "oldest", "disc"};
  char conf[2 * PATH_MAX + 2048];
  const char *path;
  uint32_t after, old_got = 0, old_last = 0, old_run = 0, disc_got = 0, seq;
  long rss0, rss1;
  b_state_t *st;
  stats_t sx;
  int port[MAX_LISTENERS], fds, i, seen_err = 0;
  const uint8_t *f;
  size_t n;

  path = plugin_path_line();
  snprintf(conf, sizeof(conf),
           "# written by tests/itest_pubsub (slow subscriber)\n"
           "workers = 2;\n%s"
           "listeners = (\n"
           "  { name = \"main\"; bind = \"127.0.0.1:0\";\n"
           "    codec = { name = \"netstring\"; };\n"
           "    handler = { name = \"pubsub\"; }; },\n"
           "  { name = \"oldest\"; bind = \"127.0.0.1:0\";\n"
           "    codec = { name = \"line\"; };\n"
           "    handler = { name = \"pubsub\"; queue_limit = %d;\n"
           "                on_full = \"drop_oldest\"; };\n"
           "    write_timeout = \"10m\"; },\n"
           "  { name = \"disc\"; bind = \"127.0.0.1:0\";\n"
           "    codec = { name = \"length\"; };\n"
           "    handler = { name = \"pubsub\"; queue_limit = %d;\n"
           "                on_full = \"disconnect\"; }; }\n"
           ");\n",
           path, B_QUEUE, B_QUEUE);
  st = calloc(1, sizeof(*st));
  assert_non_null(st);
  d->small_quarantine = 1; /* see B_RSS_BOUND_KIB */
  pubsub_start(d, conf, names, 3, port);
  fds = itest_daemon_fds(d);

  peer_open(&st->rd[B_R_MAIN], port[0], C_NETSTRING, 0, "reader (netstring)");
  peer_open(&st->rd[B_R_OLDEST], port[1], C_LINE, 0,
            "reader (line, drop_oldest)");
  peer_open(&st->rd[B_R_DISC], port[2], C_LENGTH, 0,
            "reader (length, disconnect)");
  peer_open(&st->s_old, port[1], C_LINE, 4096,
            "stuck subscriber (line, drop_oldest)");
  peer_open(&st->s_disc, port[2], C_LENGTH, 4096,
            "stuck subscriber (length, disconnect)");
  peer_open(&st->pub, port[0], C_NETSTRING, 0, "publisher");
  peer_open(&st->ctl, port[0], C_NETSTRING, 0, "control");
  for (i = 0; i < B_NREADERS; i++)
    peer_ask(&st->rd[i], "SUB feed", "OK SUB feed");
  peer_ask(&st->s_old, "SUB feed", "OK SUB feed");
  peer_ask(&st->s_disc, "SUB feed", "OK SUB feed");

  /* Until both policies have acted. */
  for (;;) {
    b_pump(st, st->sent + 256);
    stats_get(&st->ctl, &sx);
    if (stat_of(&sx, "disconnects") > 0 && stat_of(&sx, "dropped_oldest") > 0)
      break;
    if (st->sent >= B_MAX_FILL)
      fail_msg("after %" PRIu32 " messages the policies have not acted: %s",
               st->sent, sx.text);
  }
  EXPECT_STAT(&sx, "disconnects", 1);
  print_message("both policies acted after %" PRIu32 " messages\n", st->sent);

  /* Then a lot more, with memory watched. */
  after = scaled(B_AFTER, 2000);
  rss0 = itest_daemon_rss_kib(d);
  b_pump(st, st->sent + after);
  rss1 = itest_daemon_rss_kib(d);
  stats_get(&st->ctl, &sx);
  /* The stuck subscriber holds a full queue; nobody else holds any. */
  EXPECT_STAT(&sx, "queued", B_QUEUE);
  EXPECT_STAT(&sx, "dropped_newest", 0);
  EXPECT_STAT(&sx, "dropped_mailbox", 0);
  EXPECT_STAT(&sx, "dropped_unsendable", 0);
  EXPECT_STAT(&sx, "disconnects", 1);
  print_message("RSS %ld KiB -> %ld KiB over %" PRIu32 " more messages "
                "(%.1f MiB; bound: +%d KiB)\n",
                rss0, rss1, after,
                (double)after * B_PAYLOAD / (1024.0 * 1024.0), B_RSS_BOUND_KIB);
  if (rss1 - rss0 > B_RSS_BOUND_KIB)
    fail_msg("weftd grew from %ld to %ld KiB of RSS while a subscriber did "
             "not read: more than the %d KiB bound",
             rss0, rss1, B_RSS_BOUND_KIB);

  /* The drop_oldest subscriber reads at last: increasing, ending with an
   * unbroken run of at least the last B_QUEUE messages. */
  while (old_got == 0 || old_last != st->sent - 1) {
    if (!peer_recv(&st->s_old, &f, &n))
      fail_msg("%s: EOF", st->s_old.label);
    seq = b_seq_of(st, &st->s_old, f, n);
    if (old_got > 0 && seq <= old_last)
      fail_msg("%s: message %" PRIu32 " after %" PRIu32, st->s_old.label, seq,
               old_last);
    old_run = old_got > 0 && seq == old_last + 1 ? old_run + 1 : 1;
    old_last = seq;
    old_got++;
  }
  print_message("drop_oldest subscriber: %" PRIu32 " of %" PRIu32
                " messages, the last %" PRIu32 " unbroken\n",
                old_got, st->sent, old_run);
  if (old_run < B_QUEUE)
    fail_msg("drop_oldest kept only the last %" PRIu32 " messages unbroken, "
             "not the last %d",
             old_run, B_QUEUE);
  /* The disconnected one: an unbroken run from the start, the error, EOF. */
  for (;;) {
    if (!peer_recv(&st->s_disc, &f, &n))
      break;
    if (seen_err)
      fail_msg("%s: \"%s\" after the error", st->s_disc.label, show(f, n));
    if (n == 29 && memcmp(f, "ERR queue full: disconnecting", 29) == 0) {
      seen_err = 1;
      continue;
    }
    seq = b_seq_of(st, &st->s_disc, f, n);
    if (seq != disc_got)
      fail_msg("%s: message %" PRIu32 ", expected %" PRIu32, st->s_disc.label,
               seq, disc_got);
    disc_got++;
  }
  if (!seen_err)
    fail_msg("%s: EOF without \"ERR queue full: disconnecting\"",
             st->s_disc.label);
  print_message("disconnected subscriber: %" PRIu32 " messages, then the "
                "error and EOF\n",
                disc_got);

  /* The counters account for every message posted. */
  stats_get(&st->ctl, &sx);
  EXPECT_STAT(&sx, "published", st->sent);
  EXPECT_STAT(&sx, "posted", st->posted);
  EXPECT_STAT(&sx, "queued", 0);
  EXPECT_STAT(&sx, "dropped_oldest", st->sent - old_got);
  EXPECT_STAT(&sx, "delivered",
              (uint64_t)B_NREADERS * st->sent + old_got + disc_got);
  EXPECT_STAT(&sx, "subscriptions", 4);
  /* What was posted to the disconnected subscriber and never delivered
   * (its queue, the message that overflowed it, any in its mailbox). */
  assert_true(st->acks_of_5 >= disc_got + B_QUEUE + 1);
  assert_int_equal(st->posted, (uint64_t)4 * st->sent + st->acks_of_5);
  assert_int_equal(st->last_ack_n, 4);

  for (i = 0; i < B_NREADERS; i++)
    peer_free(&st->rd[i]);
  peer_free(&st->s_old);
  peer_free(&st->s_disc);
  peer_free(&st->pub);
  peer_free(&st->ctl);
  daemon_finish(d, fds);
  daemon_expect_log(d, "disconnecting it (on_full = disconnect)");
  free(st);
}

/* ======================================================================== *
 * test_post_after_close: acceptance 4.                                      *
 * ======================================================================== */

#define C_ROUNDS 500 /* before scaling */
#define C_PER_ROUND 6

typedef struct {
  int port[3];
  volatile int stop; /* written by the test thread, read by the publisher */
  int failed;
  char error[512];
  uint64_t published;
} c_pubs_t;

/* The publishers' thread: three connections publishing to "race" and
 * "race2" as fast as their acks come back, until told to stop. */
static void *c_publish(void *arg) {
  c_pubs_t *cp = arg;
  peer_t pr[3];
  struct pollfd pfd[3];
  uint64_t sent[3] = {0, 0, 0}, acked[3] = {0, 0, 0};
  double deadline; /* 0 until told to stop */
  char buf[1200];
  const uint8_t *f;
  size_t n, len, j;
  int i, r;

  for (i = 0; i < 3; i++) {
    struct sockaddr_in sa;
    memset(&pr[i], 0, sizeof(pr[i]));
    pr[i].codec = i;
    snprintf(pr[i].label, sizeof(pr[i].label), "race publisher %d", i);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)cp->port[i]);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    pr[i].fd = socket(AF_INET, SOCK_STREAM, 0);
    if (pr[i].fd < 0 ||
        connect(pr[i].fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
      snprintf(cp->error, sizeof(cp->error), "publisher %d: connect: %s", i,
               strerror(errno));
      cp->failed = 1;
      for (j = 0; j < (size_t)i; j++)
        peer_free(&pr[j]);
      if (pr[i].fd >= 0)
        close(pr[i].fd);
      return NULL;
    }
    fcntl(pr[i].fd, F_SETFL, fcntl(pr[i].fd, F_GETFL) | O_NONBLOCK);
  }
  deadline = 0;
  while (!cp->failed) {
    /* Told to stop: publish no more, wait for the acks of what was. */
    if (deadline == 0 && __atomic_load_n(&cp->stop, __ATOMIC_ACQUIRE))
      deadline = itest_now_ms() + IO_TIMEOUT_MS;
    if (deadline > 0 && sent[0] == acked[0] && sent[1] == acked[1] &&
        sent[2] == acked[2])
      break;
    if (deadline > 0 && itest_now_ms() > deadline) {
      snprintf(cp->error, sizeof(cp->error), "acks missing after the stop");
      cp->failed = 1;
      break;
    }
    for (i = 0; i < 3; i++) {
      while (deadline == 0 && sent[i] - acked[i] < 32) {
        uint64_t h = itest_splitmix64(sent[i] * 3 + (uint64_t)i);
        len = (size_t)sprintf(buf, "PUB %s %d:%" PRIu64 " ",
                              h % 4 ? "race" : "race2", i, sent[i]);
        for (j = 0; j < 64 + h % 900; j++)
          buf[len++] = (char)('a' + j % 26);
        peer_send(&pr[i], buf, len);
        sent[i]++;
      }
      pfd[i].fd = pr[i].fd;
      pfd[i].events = POLLIN | (peer_pending(&pr[i]) ? POLLOUT : 0);
      pfd[i].revents = 0;
      if (peer_flush(&pr[i]) != 0) {
        snprintf(cp->error, sizeof(cp->error), "%s", pr[i].err);
        cp->failed = 1;
      }
    }
    poll(pfd, 3, 50);
    for (i = 0; i < 3 && !cp->failed; i++) {
      if (peer_fill(&pr[i]) < 0 || pr[i].eof) {
        snprintf(cp->error, sizeof(cp->error), "%s: %s", pr[i].label,
                 pr[i].eof ? "EOF" : pr[i].err);
        cp->failed = 1;
        break;
      }
      while ((r = peer_next(&pr[i], &f, &n)) == 1) {
        if (n < 8 || (memcmp(f, "OK PUB race ", 12) != 0 &&
                      memcmp(f, "OK PUB race2 ", 13) != 0)) {
          snprintf(cp->error, sizeof(cp->error), "%s: unexpected \"%s\"",
                   pr[i].label, show(f, n));
          cp->failed = 1;
          break;
        }
        acked[i]++;
      }
      if (r < 0) {
        snprintf(cp->error, sizeof(cp->error), "%s", pr[i].err);
        cp->failed = 1;
      }
    }
  }
  cp->published = acked[0] + acked[1] + acked[2];
  for (i = 0; i < 3; i++)
    peer_free(&pr[i]);
  return NULL;
}

static void test_post_after_close(void **state) {
  itest_daemon_t *d = *state;
  static const char *const names[] = {"line", "length", "netstring"};
  char conf[2 * PATH_MAX + 2048];
  const char *path;
  peer_t subs[C_PER_ROUND], ctl, probe;
  uint32_t rounds, round;
  uint64_t closed = 0;
  double t0;
  pthread_t th;
  c_pubs_t cp;
  stats_t sx;
  int port[MAX_LISTENERS], fds, j, mode, k, codec;
  const uint8_t *f;
  size_t n;

  path = plugin_path_line();
  /* Small watermarks and queues, so stuck subscribers reach every policy
   * quickly and the queue-freeing paths race too. */
  snprintf(conf, sizeof(conf),
           "# written by tests/itest_pubsub (post after close)\n"
           "workers = 2;\n%s"
           "listeners = (\n"
           "  { name = \"line\"; bind = \"127.0.0.1:0\";\n"
           "    codec = { name = \"line\"; };\n"
           "    handler = { name = \"pubsub\"; queue_limit = 16;\n"
           "                on_full = \"drop_oldest\"; };\n"
           "    high_watermark = \"8k\"; low_watermark = \"2k\"; },\n"
           "  { name = \"length\"; bind = \"127.0.0.1:0\";\n"
           "    codec = { name = \"length\"; };\n"
           "    handler = { name = \"pubsub\"; queue_limit = 16;\n"
           "                on_full = \"disconnect\"; };\n"
           "    high_watermark = \"8k\"; low_watermark = \"2k\"; },\n"
           "  { name = \"netstring\"; bind = \"127.0.0.1:0\";\n"
           "    codec = { name = \"netstring\"; };\n"
           "    handler = { name = \"pubsub\"; queue_limit = 16;\n"
           "                on_full = \"drop_newest\"; }; }\n"
           ");\n",
           path);
  pubsub_start(d, conf, names, 3, port);
  fds = itest_daemon_fds(d);
  peer_open(&ctl, port[C_NETSTRING], C_NETSTRING, 0, "control");

  memset(&cp, 0, sizeof(cp));
  for (j = 0; j < 3; j++)
    cp.port[j] = port[j];
  if (pthread_create(&th, NULL, c_publish, &cp) != 0)
    fail_msg("pthread_create failed");

  rounds = scaled(C_ROUNDS, 30);
  t0 = itest_now_ms();
  for (round = 0; round < rounds && !cp.failed; round++) {
    for (j = 0; j < C_PER_ROUND; j++) {
      mode = (int)((round + (uint32_t)j) % 4);
      codec = (int)((round * 7 + (uint32_t)j) % 3);
      peer_open(&subs[j], port[codec], codec, mode == 2 ? 2048 : 0,
                "round %" PRIu32 " subscriber %d (%s, mode %d)", round, j,
                codec_names[codec], mode);
      peer_send(&subs[j], "SUB race", 8);
      if (mode == 1) {
        /* Reset at once: the SUB races the close. */
        peer_send(&subs[j], "SUB race2", 9);
        (void)peer_flush(&subs[j]);
        continue;
      }
      peer_expect(&subs[j], "OK SUB race");
    }
    for (j = 0; j < C_PER_ROUND; j++) {
      mode = (int)((round + (uint32_t)j) % 4);
      if (mode == 0) {
        /* A message or two, then gone. */
        if (!peer_recv(&subs[j], &f, &n) || n < 9 ||
            memcmp(f, "MSG race ", 9) != 0)
          fail_msg("%s: expected a message", subs[j].label);
      } else if (mode == 3) {
        /* Toggling, and gone before the answers. */
        for (k = 0; k < 4; k++) {
          peer_send(&subs[j], "UNSUB race", 10);
          peer_send(&subs[j], "SUB race", 8);
        }
        (void)peer_flush(&subs[j]);
      }
    }
    if (round % 4 == 2)
      itest_sleep_ms(15); /* the stuck ones (mode 2) fill their queues */
    for (j = 0; j < C_PER_ROUND; j++) {
      peer_reset(&subs[j]);
      closed++;
    }
    if (round % 16 == 15)
      daemon_alive(d, "while subscribers were reset under publishing");
  }
  daemon_alive(d, "while subscribers were reset under publishing");

  /* Still serving: a new subscriber gets messages. */
  peer_open(&probe, port[C_LINE], C_LINE, 0, "probe subscriber");
  peer_ask(&probe, "SUB race", "OK SUB race");
  if (!peer_recv(&probe, &f, &n) || n < 9 || memcmp(f, "MSG race ", 9) != 0)
    fail_msg("probe: expected a message");
  peer_free(&probe);

  __atomic_store_n(&cp.stop, 1, __ATOMIC_RELEASE);
  pthread_join(th, NULL);
  if (cp.failed) {
    itest_daemon_dump_log(d);
    fail_msg("%s", cp.error);
  }
  stats_get(&ctl, &sx);
  print_message("%" PRIu64 " subscribers reset in %.2f s while %" PRIu64
                " messages were published; %s\n",
                closed, (itest_now_ms() - t0) / 1000.0, cp.published, sx.text);
  /* Posts that found their connection gone (or its subscription, or its
   * queue freed with it): the race this test is about. */
  print_message(
      "%" PRIu64 " messages posted were neither delivered, dropped "
      "by a policy nor queued: their subscriber had gone\n",
      stat_of(&sx, "posted") - stat_of(&sx, "delivered") -
          stat_of(&sx, "dropped_oldest") - stat_of(&sx, "dropped_newest") -
          stat_of(&sx, "dropped_unsendable") - stat_of(&sx, "queued"));
  /* Every subscription went with its connection. */
  {
    static const char *const keys[] = {"topics", "subscriptions", "queued"};
    static const uint64_t zero[] = {0, 0, 0};
    stats_wait(&ctl, keys, zero, 3);
  }
  stats_get(&ctl, &sx);
  EXPECT_STAT(&sx, "published", cp.published);
  peer_free(&ctl);
  daemon_finish(d, fds);
}

/* ======================================================================== *
 * test_protocol: the commands, limits and options.                          *
 * ======================================================================== */

/* weftd --check on conf_text must fail, saying each of the words. */
static void check_refuses(const char *conf_text, const char *w1,
                          const char *w2) {
  char *out;
  int status = itest_daemon_check(conf_text, &out);

  if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) == 0 ||
      strstr(out, w1) == NULL || strstr(out, w2) == NULL) {
    fprintf(stderr, "---- weftd --check said ----\n%s---- end ----\n", out);
    free(out);
    fail_msg("weftd --check should refuse the option with \"%s\" and \"%s\"",
             w1, w2);
  }
  print_message("refused, as it should be:\n%s", out);
  free(out);
}

static void test_protocol(void **state) {
  itest_daemon_t *d = *state;
  static const char *const names[] = {"line", "length", "netstring"};
  static const uint8_t binary[] = "PUB a x\ny\0z";
  static const uint8_t binmsg[] = "MSG a x\ny\0z";
  char conf[2 * PATH_MAX + 2048], bad[2 * PATH_MAX + 2048];
  const char *path;
  peer_t l, g, ns;
  stats_t sx;
  int port[MAX_LISTENERS], fds;

  path = plugin_path_line();
  snprintf(conf, sizeof(conf),
           "# written by tests/itest_pubsub (protocol)\n"
           "workers = 2;\n%s"
           "listeners = (\n"
           "  { name = \"line\"; bind = \"127.0.0.1:0\";\n"
           "    codec = { name = \"line\"; };\n"
           "    handler = { name = \"pubsub\"; max_subscriptions = 2;\n"
           "                max_topic_length = 8; }; },\n"
           "  { name = \"length\"; bind = \"127.0.0.1:0\";\n"
           "    codec = { name = \"length\"; };\n"
           "    handler = { name = \"pubsub\"; ack_publish = false; }; },\n"
           "  { name = \"netstring\"; bind = \"127.0.0.1:0\";\n"
           "    codec = { name = \"netstring\"; };\n"
           "    handler = { name = \"pubsub\"; }; }\n"
           ");\n",
           path);
  pubsub_start(d, conf, names, 3, port);
  fds = itest_daemon_fds(d);
  peer_open(&l, port[C_LINE], C_LINE, 0, "line client");
  peer_open(&g, port[C_LENGTH], C_LENGTH, 0, "length client");
  peer_open(&ns, port[C_NETSTRING], C_NETSTRING, 0, "netstring client");

  /* Commands and their errors; the connection stays open throughout. */
  peer_ask(&l, "PING", "PONG");
  peer_ask(&l, "ping", "PONG");
  peer_ask(&l, "", "ERR unknown command: use SUB, UNSUB, PUB, STATS or PING");
  peer_ask(&l, "HELLO",
           "ERR unknown command: use SUB, UNSUB, PUB, STATS or "
           "PING");
  peer_ask(&l, "PING x",
           "ERR unknown command: use SUB, UNSUB, PUB, STATS or "
           "PING");
  peer_ask(&l, "SUB", "ERR SUB: usage: SUB topic");
  peer_ask(&l, "SUB ", "ERR SUB: bad topic");
  peer_ask(&l, "SUB a b", "ERR SUB: bad topic");
  peer_ask(&l, "SUB 123456789", "ERR SUB: bad topic"); /* max_topic_length */
  peer_ask(&l, "SUB a\tb", "ERR SUB: bad topic");
  peer_ask(&l, "SUB 12345678", "OK SUB 12345678");
  peer_ask(&l, "SUB a", "OK SUB a");
  peer_ask(&l, "SUB a", "OK SUB a"); /* again: still one subscription */
  peer_ask(&l, "SUB b", "ERR SUB: too many subscriptions");
  peer_ask(&l, "UNSUB 12345678", "OK UNSUB 12345678");
  peer_ask(&l, "UNSUB zz", "OK UNSUB zz"); /* not subscribed: holds anyway */
  peer_ask(&l, "UNSUB  ", "ERR UNSUB: bad topic");
  stats_get(&l, &sx);
  EXPECT_STAT(&sx, "topics", 1);
  EXPECT_STAT(&sx, "subscriptions", 1);
  EXPECT_STAT(&sx, "conn_subscriptions", 1);
  peer_ask(&l, "STATS x",
           "ERR unknown command: use SUB, UNSUB, PUB, STATS "
           "or PING");

  /* Publishing across codecs; the publisher's ack comes before its own
   * copy, which travels through the mailbox. */
  peer_ask(&ns, "SUB a", "OK SUB a");
  peer_ask(&ns, "PUB a hello world", "OK PUB a 2");
  peer_expect(&ns, "MSG a hello world");
  peer_expect(&l, "MSG a hello world");
  peer_ask(&ns, "PUB a", "OK PUB a 2"); /* an empty payload */
  peer_expect(&ns, "MSG a ");
  peer_expect(&l, "MSG a ");
  peer_ask(&ns, "PUB a  two  spaces", "OK PUB a 2");
  peer_expect(&ns, "MSG a  two  spaces");
  peer_expect(&l, "MSG a  two  spaces");
  peer_ask(&ns, "PUB nobody x", "OK PUB nobody 0");
  peer_ask(&ns, "PUB", "ERR PUB: usage: PUB topic payload");
  peer_ask(&ns, "PUB  x", "ERR PUB: bad topic");
  /* A binary payload: the netstring subscriber gets it byte for byte; the
   * line one cannot (it holds "\n"), so it is dropped there, counted. */
  peer_send(&ns, binary, sizeof(binary) - 1);
  peer_expect(&ns, "OK PUB a 2");
  peer_expect_mem(&ns, binmsg, sizeof(binmsg) - 1);
  peer_ask(&ns, "PUB a next", "OK PUB a 2");
  peer_expect(&ns, "MSG a next");
  peer_expect(&l, "MSG a next");

  /* ack_publish = false: PUB is silent, errors are not. */
  peer_send(&g, "PUB a silent", 12);
  peer_ask(&g, "PING", "PONG");
  peer_expect(&l, "MSG a silent");
  peer_expect(&ns, "MSG a silent");
  peer_ask(&g, "PUB", "ERR PUB: usage: PUB topic payload");
  peer_ask(&g, "SUB a", "OK SUB a");
  peer_send(&g, "PUB a self", 10); /* a publisher gets its own message */
  peer_expect(&g, "MSG a self");
  peer_expect(&l, "MSG a self");
  peer_expect(&ns, "MSG a self");

  /* UNSUB alone drops every topic: nothing more for l. */
  peer_ask(&l, "UNSUB", "OK UNSUB");
  peer_ask(&ns, "PUB a after", "OK PUB a 2");
  peer_expect(&ns, "MSG a after");
  peer_expect(&g, "MSG a after");
  peer_ask(&l, "PING", "PONG");

  stats_get(&ns, &sx);
  EXPECT_STAT(&sx, "topics", 1);
  EXPECT_STAT(&sx, "subscriptions", 2);
  EXPECT_STAT(&sx, "published", 9);
  EXPECT_STAT(&sx, "posted", 17);
  EXPECT_STAT(&sx, "delivered", 16);
  EXPECT_STAT(&sx, "dropped_unsendable", 1);
  EXPECT_STAT(&sx, "dropped_oldest", 0);
  EXPECT_STAT(&sx, "dropped_newest", 0);
  EXPECT_STAT(&sx, "dropped_mailbox", 0);
  EXPECT_STAT(&sx, "disconnects", 0);
  EXPECT_STAT(&sx, "queued", 0);
  EXPECT_STAT(&sx, "conn_subscriptions", 1);

  /* A client that half-closes gets its answers, then FIN. */
  peer_send(&l, "PING", 4);
  peer_flush(&l);
  shutdown(l.fd, SHUT_WR);
  peer_expect(&l, "PONG");
  peer_expect_eof(&l);
  peer_free(&l);
  peer_free(&g);
  peer_free(&ns);
  daemon_finish(d, fds);
  daemon_expect_log(d, "pubsub: 9 published, 17 posted, 16 delivered; dropped "
                       "0 oldest, 0 newest, 0 at a full mailbox, 1 "
                       "unsendable; 0 slow subscribers disconnected");

  /* Options the engine refuses, naming them, before binding anything. */
#define BAD_CONF(handler)                                                      \
  snprintf(bad, sizeof(bad),                                                   \
           "%slisteners = ( { name = \"x\"; bind = \"127.0.0.1:0\";\n"         \
           "  codec = { name = \"line\"; };\n"                                 \
           "  handler = { name = \"pubsub\"; " handler " }; } );\n",           \
           path)
  BAD_CONF("on_full = \"sometimes\";");
  check_refuses(bad, "on_full", "sometimes");
  BAD_CONF("queue_size = 10;");
  check_refuses(bad, "queue_size", "pubsub");
  BAD_CONF("queue_limit = 0;");
  check_refuses(bad, "queue_limit", "pubsub");
  BAD_CONF("ack_publish = \"yes\";");
  check_refuses(bad, "ack_publish", "pubsub");
#undef BAD_CONF
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_protocol, itest_daemon_setup,
                                      itest_daemon_teardown),
      cmocka_unit_test_setup_teardown(test_fanout, itest_daemon_setup,
                                      itest_daemon_teardown),
      cmocka_unit_test_setup_teardown(test_slow_subscriber, itest_daemon_setup,
                                      itest_daemon_teardown),
      cmocka_unit_test_setup_teardown(test_post_after_close, itest_daemon_setup,
                                      itest_daemon_teardown),
  };

  signal(SIGPIPE, SIG_IGN);
  return cmocka_run_group_tests(tests, NULL, NULL);
}
