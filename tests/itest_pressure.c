/*
 * Integration tests: the real weftd under pressure (issue 4, and the
 * sections "Slow and stuck clients", "Floods and exhaustion" and "Resets,
 * half-close, shutdown" of RELIABILITY.md).  Each test starts its own
 * weftd from a config with a `stats` listener beside the listeners under
 * test, and ends with the checks every integration test ends with: the
 * counters of the listeners under test moved by exactly what the test did
 * (read from the stats listener, or from SIGUSR1's log lines once the
 * listeners are closed), the daemon's descriptors are back to their
 * start-up count, SIGTERM (or the signals the test is about) ends it with
 * exit status 0, and its log has no alert line and no sanitizer report.
 *
 * test_backpressure      4 KiB length frames written without reading: the
 *                        socket stalls; weftd holds at most high_watermark
 *                        + max_frame (bytes_in - bytes_out) and its RSS
 *                        stays under RSS at start + high_watermark +
 *                        max_frame + BP_MARGIN; then it reads while writing
 *                        to 200 MiB (scaled) and every echo is
 *                        byte-identical and in order, then EOF.
 * test_timeouts          on one listener (idle, frame and write timeouts
 *                        of 1 s): a slowloris is closed by the frame
 *                        timeout, an idle client by the idle timeout, a
 *                        non-reader by the write timeout, while a normal
 *                        client is served throughout; on others: a
 *                        non-reader with idle 1 s < write 2 s is closed
 *                        (and counted) once, and a client draining steadily
 *                        is never closed.
 * test_limits            max_connections and max_connections_per_ip refuse
 *                        the excess at once and keep serving the rest.
 * test_emfile            weftd under a low RLIMIT_NOFILE: it survives, no
 *                        busy accept loop, one "pausing accepts" line per
 *                        counted pause, served again soon after
 *                        descriptors are freed.
 * test_shutdown_answers  SIGTERM with 200 connections that each sent 20
 *                        frames: every reply, then FIN, exit 0 in the grace.
 * test_shutdown_endless  a sender that never stops is cut and counted as
 *                        forced; a non-reader holds the stop to the grace.
 * test_shutdown_twice    a second signal stops at once.
 * test_storm             N connect-and-close, four ways of closing: no
 *                        descriptor or memory growth.
 *
 * Time bounds are tolerant (the deadline wheel ticks every 100 ms) and
 * widen by itest_slow() under valgrind (WEFT_TEST_SCALE < 1) and the
 * sanitizers; traffic volumes scale by WEFT_TEST_SCALE.  Engine bugs found
 * and not yet fixed are reported by known_bug() (see there):
 * WEFT_TEST_STRICT=1 makes them failures.
 */
#define _GNU_SOURCE /* POLLRDHUP */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <linux/sockios.h> /* SIOCOUTQ */

#include <cmocka.h>

#include "itest_util.h"

#define KIB 1024L
#define MIB (1024L * 1024L)

/* The `stats` listener every config ends with. */
#define STATS_LISTENER                                                         \
  "  { name = \"stats\"; bind = \"127.0.0.1:0\";\n"                            \
  "    codec = { name = \"line\"; }; handler = { name = \"stats\"; }; }\n"

/* Counters that stay 0 unless a test says otherwise. */
static void stats_zero(itest_stats_t *s) {
  memset(s, 0, sizeof(*s));
}

static long slow_ms(double ms) {
  return (long)(ms * itest_slow());
}

/*
 * Engine bugs this file has found and that are not fixed yet.  A check
 * that hits one records it here instead of failing at once; the test then
 * runs every other check, stops the daemon and checks its log, and only
 * then reports it: as a failure when WEFT_TEST_STRICT=1, otherwise as a
 * cmocka skip with the whole explanation, so that `make check` stays usable
 * while the bug is open.  Once the engine is fixed the check simply passes;
 * drop its known_bug() call then.
 */
static char known_bugs[4096];

static void known_bug(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static void known_bug(const char *fmt, ...) {
  size_t n = strlen(known_bugs);
  va_list ap;

  if (n + 2 >= sizeof(known_bugs))
    return;
  if (n > 0)
    known_bugs[n++] = '\n';
  va_start(ap, fmt);
  vsnprintf(known_bugs + n, sizeof(known_bugs) - n, fmt, ap);
  va_end(ap);
}

static void known_bugs_report(void) {
  const char *strict = getenv("WEFT_TEST_STRICT");

  if (known_bugs[0] == '\0')
    return;
  /* A behaviour the engine promises and does not keep fails the test;
   * WEFT_TEST_STRICT=0 only reports it (for bisecting). */
  if (strict == NULL || strcmp(strict, "0") != 0)
    fail_msg("%s", known_bugs);
  print_message("ENGINE BUG (reported only: WEFT_TEST_STRICT=0):\n%s\n",
                known_bugs);
}

static int setup(void **state) {
  known_bugs[0] = '\0';
  return itest_daemon_setup(state);
}

/* ==== 1. backpressure ===================================================== */

#define BP_FRAME 4096             /* wire bytes of each frame */
#define BP_PAYLOAD (BP_FRAME - 4) /* after its 4-byte big-endian header */
#define BP_HIGH (64 * KIB)        /* high_watermark */
#define BP_MAX_FRAME (64 * KIB)   /* the codec's max_frame */
/*
 * What weftd may legitimately add to its RSS beyond the queued output
 * (high_watermark, overshot by at most one reply) and the held-back input
 * (at most max_frame in the framer): the per-worker 64 KiB read scratch
 * and the stage buffer (kept up to 256 KiB) touched for the first time,
 * geometric growth of the connection's buffers (up to twice their
 * content), malloc arenas grown for the first time by each worker thread
 * (glibc keeps a 132 KiB top pad per heap), libuv's write request, and
 * the stats connections.  Generous, and still a bound: a server that
 * kept reading would never let the client stall, and would hold what it
 * read (the test gives up at BP_RUNAWAY, 512 MiB sent).
 * Valgrind's memcheck delays the reuse of freed blocks (freelist 20 MB)
 * and adds shadow memory; ASan quarantines freed blocks (256 MB): both
 * get a wider margin, still far below the unbounded case.
 */
#define BP_MARGIN (4 * MIB)
#define BP_MARGIN_VALGRIND (48 * MIB)
#define BP_MARGIN_ASAN (48 * MIB)
/* While 200 MiB flow, ASan's quarantine (256 MB by default) fills with
 * freed output buffers: on top of its margin, for that phase only. */
#define BP_FLOW_ASAN (256 * MIB)
#define BP_VOLUME (200 * MIB)   /* sent in all, before scaling */
#define BP_VOLUME_MIN (4 * MIB) /* never less, whatever the scale */
#define BP_RUNAWAY (512 * MIB)  /* sent without a stall: no backpressure */

typedef struct {
  uint64_t seed;
  uint64_t frame; /* index of the frame in buf, UINT64_MAX for none */
  uint8_t buf[BP_FRAME];
} bp_gen_t;

/* Frame k of the stream: a header declaring BP_PAYLOAD, then bytes that
 * depend on k, so a lost, repeated or reordered frame shows. */
static void bp_gen_frame(bp_gen_t *g, uint64_t k) {
  uint64_t w = 0;
  size_t i;

  g->buf[0] = (uint8_t)(BP_PAYLOAD >> 24);
  g->buf[1] = (uint8_t)(BP_PAYLOAD >> 16);
  g->buf[2] = (uint8_t)(BP_PAYLOAD >> 8);
  g->buf[3] = (uint8_t)BP_PAYLOAD;
  for (i = 0; i < BP_PAYLOAD; i++) {
    if ((i & 7) == 0)
      w = itest_splitmix64(g->seed ^ (k << 20) ^ (i >> 3));
    g->buf[4 + i] = (uint8_t)(w >> ((i & 7) * 8));
  }
  g->frame = k;
}

/* Bytes [off, off + n) of the stream. */
static void bp_fill(bp_gen_t *g, uint64_t off, uint8_t *dst, size_t n) {
  size_t pos, take;

  while (n > 0) {
    if (g->frame != off / BP_FRAME)
      bp_gen_frame(g, off / BP_FRAME);
    pos = (size_t)(off % BP_FRAME);
    take = BP_FRAME - pos < n ? BP_FRAME - pos : n;
    memcpy(dst, g->buf + pos, take);
    dst += take;
    off += take;
    n -= take;
  }
}

typedef struct {
  int fd;
  bp_gen_t tx, rx;
  uint8_t wbuf[64 * 1024];
  size_t woff, wlen;
  uint64_t sent;     /* bytes the kernel took */
  uint64_t received; /* bytes echoed and verified */
  uint8_t rbuf[64 * 1024], expect[64 * 1024];
} bp_client_t;

/* Sends what the kernel takes of the stream, up to limit bytes in all:
 * bytes sent. */
static size_t bp_send(bp_client_t *c, uint64_t limit) {
  size_t total = 0, n;
  ssize_t r;

  for (;;) {
    if (c->woff == c->wlen) {
      n = sizeof(c->wbuf);
      if (limit - c->sent < n)
        n = (size_t)(limit - c->sent);
      if (n == 0)
        return total;
      bp_fill(&c->tx, c->sent, c->wbuf, n);
      c->woff = 0;
      c->wlen = n;
    }
    r = send(c->fd, c->wbuf + c->woff, c->wlen - c->woff, MSG_NOSIGNAL);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      return total;
    if (r < 0)
      fail_msg("backpressure client: send after %" PRIu64 " bytes: %s", c->sent,
               strerror(errno));
    c->woff += (size_t)r;
    c->sent += (uint64_t)r;
    total += (size_t)r;
  }
}

/* Reads and verifies what is there: bytes read, or -1 at EOF. */
static ssize_t bp_recv(bp_client_t *c) {
  size_t total = 0, i;
  ssize_t r;

  for (;;) {
    r = recv(c->fd, c->rbuf, sizeof(c->rbuf), MSG_DONTWAIT);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      return (ssize_t)total;
    if (r < 0)
      fail_msg("backpressure client: recv after %" PRIu64 " bytes: %s",
               c->received, strerror(errno));
    if (r == 0)
      return -1;
    if (c->received + (uint64_t)r > c->sent)
      fail_msg("backpressure client: %" PRIu64 " bytes echoed, only %" PRIu64
               " sent",
               c->received + (uint64_t)r, c->sent);
    bp_fill(&c->rx, c->received, c->expect, (size_t)r);
    if (memcmp(c->rbuf, c->expect, (size_t)r) != 0) {
      for (i = 0; c->rbuf[i] == c->expect[i]; i++) {
      }
      fail_msg("backpressure client: echo differs at stream byte %" PRIu64
               " (frame %" PRIu64 ", byte %" PRIu64 " of it): got 0x%02x, "
               "expected 0x%02x",
               c->received + i, (c->received + i) / BP_FRAME,
               (c->received + i) % BP_FRAME, c->rbuf[i], c->expect[i]);
    }
    c->received += (uint64_t)r;
    total += (size_t)r;
  }
}

static void test_backpressure(void **state) {
  static const char conf[] =
      "# written by tests/itest_pressure (backpressure)\n"
      "workers = 2;\n"
      "listeners = (\n"
      "  { name = \"bp\"; bind = \"127.0.0.1:0\";\n"
      "    codec = { name = \"length\"; length_size = 4; max_frame = \"64k\"; "
      "};\n"
      "    handler = { name = \"echo\"; };\n"
      "    high_watermark = \"64k\"; low_watermark = \"32k\"; "
      "},\n" STATS_LISTENER ");\n";
  itest_daemon_t *d = *state;
  double scale = itest_scale(), t, last, t0, stall_ms = 1000.0 * itest_slow();
  long rss0, rss, rss_stall = 0, rss_max = 0, margin, bound;
  static bp_client_t client; /* 200 KiB: not on the stack */
  uint64_t volume, held;
  itest_stats_t got, want;
  bp_client_t *c;
  struct pollfd pfd;
  int port, sport, fds, eof = 0, shut = 0;
  ssize_t r;

  margin = itest_scale() < 1.0 ? BP_MARGIN_VALGRIND
           : itest_asan()      ? BP_MARGIN_ASAN
                               : BP_MARGIN;
  volume = (uint64_t)((double)BP_VOLUME * scale);
  if (volume < BP_VOLUME_MIN)
    volume = BP_VOLUME_MIN;
  volume -= volume % BP_FRAME; /* whole frames */

  itest_daemon_start(d, conf);
  port = itest_daemon_port(d, "bp");
  sport = itest_daemon_port(d, "stats");
  fds = itest_daemon_fds(d);
  rss0 = itest_daemon_rss_kib(d);
  bound = rss0 + (BP_HIGH + BP_MAX_FRAME + margin) / KIB;

  memset(&client, 0, sizeof(client));
  c = &client;
  c->tx.seed = c->rx.seed = itest_splitmix64((uint64_t)getpid());
  c->tx.frame = c->rx.frame = UINT64_MAX;
  c->fd = itest_connect(port, NULL, 0);
  itest_set_nonblock(c->fd);

  /* Phase 1: write, never read, until the socket takes nothing for
   * stall_ms.  A server without backpressure keeps reading and queueing
   * replies in its own memory: then the stall never comes. */
  last = itest_now_ms();
  for (;;) {
    if (bp_send(c, BP_RUNAWAY) > 0)
      last = itest_now_ms();
    if (c->sent >= BP_RUNAWAY) {
      itest_daemon_dump_log(d);
      fail_msg("no backpressure: weftd took %ld MiB from a client that reads "
               "nothing (RSS %ld KiB, %ld KiB at start)",
               BP_RUNAWAY / MIB, itest_daemon_rss_kib(d), rss0);
    }
    rss = itest_daemon_rss_kib(d);
    if (rss > rss_max)
      rss_max = rss;
    t = itest_now_ms();
    if (t - last >= stall_ms)
      break;
    pfd.fd = c->fd;
    pfd.events = POLLOUT;
    poll(&pfd, 1, (int)(last + stall_ms - t) + 1);
  }
  /* Stalled.  What weftd took from the socket and has not written back is
   * what it holds: the queued replies (high_watermark, overshot by at most
   * the reply that crossed it) and the undecoded rest of its last read
   * (under max_frame, which is also its read size here). */
  itest_stats_get(sport, "bp", &got);
  held = got.v[ITEST_ST_bytes_in] - got.v[ITEST_ST_bytes_out];
  print_message("weftd read %" PRIu64 " bytes and wrote %" PRIu64
                " back: it holds %" PRIu64 " (at most %ld)\n",
                got.v[ITEST_ST_bytes_in], got.v[ITEST_ST_bytes_out], held,
                BP_HIGH + BP_MAX_FRAME + BP_FRAME);
  if (got.v[ITEST_ST_bytes_in] < got.v[ITEST_ST_bytes_out] ||
      held > (uint64_t)(BP_HIGH + BP_MAX_FRAME + BP_FRAME))
    fail_msg("weftd holds %" PRIu64 " bytes of a stalled connection, more "
             "than high_watermark + max_frame + one frame (%ld)",
             held, BP_HIGH + BP_MAX_FRAME + BP_FRAME);
  if (got.v[ITEST_ST_backpressure_pauses] == 0)
    fail_msg("the client stalled, yet backpressure_pauses = 0");
  /* The RSS bound must hold now and a while after. */
  for (t0 = itest_now_ms(); itest_now_ms() - t0 < 300; itest_sleep_ms(20)) {
    rss = itest_daemon_rss_kib(d);
    if (rss > rss_stall)
      rss_stall = rss;
  }
  if (rss_stall > rss_max)
    rss_max = rss_stall;
  print_message("stalled after %.1f MiB sent without reading; weftd RSS %ld "
                "KiB (at most %ld KiB so far), %ld KiB at start, bound %ld "
                "KiB = start + high_watermark + max_frame + %ld KiB margin\n",
                (double)c->sent / MIB, rss_stall, rss_max, rss0, bound,
                margin / KIB);
  if (rss_max > bound) {
    itest_daemon_dump_log(d);
    fail_msg("weftd's RSS reached %ld KiB while a client did not read, over "
             "the bound of %ld KiB (%ld at start + %ld high_watermark + %ld "
             "max_frame + %ld margin)",
             rss_max, bound, rss0, BP_HIGH / KIB, BP_MAX_FRAME / KIB,
             margin / KIB);
  }

  /* Phase 2: read everything while writing the rest, then half-close:
   * every echo byte-identical and in order, then EOF.  Writing goes on
   * after reading resumes, at least BP_VOLUME_MIN more, in whole frames. */
  if (volume < c->sent + BP_VOLUME_MIN) {
    volume = c->sent + BP_VOLUME_MIN;
    volume += (BP_FRAME - volume % BP_FRAME) % BP_FRAME;
  }
  last = t0 = itest_now_ms();
  while (!eof) {
    if (bp_send(c, volume > c->sent ? volume : c->sent) > 0)
      last = itest_now_ms();
    if (c->sent >= volume && !shut) {
      if (shutdown(c->fd, SHUT_WR) != 0)
        fail_msg("shutdown: %s", strerror(errno));
      shut = 1;
    }
    r = bp_recv(c);
    if (r < 0)
      eof = 1;
    else if (r > 0)
      last = itest_now_ms();
    rss = itest_daemon_rss_kib(d);
    if (rss > rss_max)
      rss_max = rss;
    if (itest_now_ms() - last > 10000.0 * itest_slow()) {
      itest_daemon_dump_log(d);
      fail_msg("backpressure client: no progress for %.0f s: sent %" PRIu64
               " of %" PRIu64 " bytes, %" PRIu64 " echoed",
               10 * itest_slow(), c->sent, volume, c->received);
    }
    if (!eof) {
      pfd.fd = c->fd;
      pfd.events = (short)(POLLIN | (c->sent < volume ? POLLOUT : 0));
      poll(&pfd, 1, 100);
    }
  }
  if (c->received != volume)
    fail_msg("EOF after %" PRIu64 " of %" PRIu64 " echoed bytes", c->received,
             volume);
  /* The bound holds while the data flows, too. */
  if (itest_asan())
    bound += BP_FLOW_ASAN / KIB;
  print_message("%.1f MiB echoed and verified in %.2f s; weftd RSS peaked at "
                "%ld KiB (bound %ld KiB%s)\n",
                (double)volume / MIB, (itest_now_ms() - t0) / 1000.0, rss_max,
                bound, itest_asan() ? ", ASan's quarantine included" : "");
  if (rss_max > bound)
    fail_msg("weftd's RSS reached %ld KiB while echoing, over the bound of "
             "%ld KiB%s",
             rss_max, bound,
             itest_asan() ? " (ASan's quarantine included)" : "");
  close(c->fd);

  itest_daemon_expect_fds(d, fds);
  itest_stats_get(sport, "bp", &got);
  stats_zero(&want);
  want.v[ITEST_ST_conns_total] = 1;
  want.v[ITEST_ST_frames_in] = want.v[ITEST_ST_frames_out] = volume / BP_FRAME;
  want.v[ITEST_ST_bytes_in] = want.v[ITEST_ST_bytes_out] = volume;
  itest_stats_expect(&got, &want, ITEST_BIT(backpressure_pauses),
                     "listener bp");
  if (got.v[ITEST_ST_backpressure_pauses] == 0)
    fail_msg("backpressure_pauses = 0 after a client stalled weftd's output");
  print_message("backpressure_pauses = %" PRIu64 "\n",
                got.v[ITEST_ST_backpressure_pauses]);
  itest_daemon_stop(d);
  itest_daemon_check_log(d);
}

/* ==== 2. timeouts ========================================================= */

#define TO_TIMEOUT_MS 1000.0  /* idle, frame and write timeouts */
#define TO_EARLY_MS 900.0     /* closed sooner than this: too early */
#define TO_LATE_MS 2500.0     /* closed later than this: too late (x slow) */
#define TO_RUN_MS 3500.0      /* the normal client runs at least this long */
#define TO_PERIOD_MS 200.0    /* slowloris and normal client pace */
#define TO_LINE 16384         /* the non-readers' line length */
#define TO_DRAIN_CHUNK 16384  /* the slow drainer reads this much... */
#define TO_DRAIN_PERIOD 100.0 /* ...this often (ms): 160 KiB/s */

enum { TO_NORMAL, TO_SLOW, TO_IDLE, TO_WRITER, TO_WRITER2, TO_DRAINER, TO_N };
static const char *const to_names[TO_N] = {
    "normal",     "slowloris",         "idle",
    "non-reader", "second non-reader", "slow drainer"};

typedef struct {
  int fd;
  int port;          /* local port: how the log names it */
  double t_open;     /* connected */
  double t_first;    /* first byte sent (the drainer: reading began) */
  double t_progress; /* last byte the kernel took */
  double t_closed;   /* EOF, reset or hang-up seen; 0 while open */
  double t_next;     /* next scheduled send */
  char how[64];      /* what closed it */
  uint64_t sent;     /* frames (normal) or bytes */
} to_client_t;

static void to_closed(to_client_t *c, const char *how) {
  if (c->t_closed == 0) {
    c->t_closed = itest_now_ms();
    snprintf(c->how, sizeof(c->how), "%s", how);
  }
}

/* Lines of the log saying this client was closed by timeout `kind`. */
static int to_log_lines(const itest_daemon_t *d, const to_client_t *c,
                        const char *kind) {
  char pat[128];

  snprintf(pat, sizeof(pat), "from 127.0.0.1:%d: %s", c->port, kind);
  return itest_log_count(d, pat);
}

/* The client was closed by timeout `want` (once), by no other. */
static void to_expect_log(const itest_daemon_t *d, const to_client_t *c,
                          const char *name, const char *want) {
  static const char *const kinds[] = {"idle timeout", "frame timeout",
                                      "write timeout"};
  size_t i;
  int n, expect;

  for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
    n = to_log_lines(d, c, kinds[i]);
    expect = want != NULL && strcmp(kinds[i], want) == 0;
    if (n != expect) {
      itest_daemon_dump_log(d);
      fail_msg("the %s client (port %d) has %d \"%s\" lines in the log, "
               "expected %d: it must be closed by %s and nothing else",
               name, c->port, n, kinds[i], expect,
               want != NULL ? want : "no timeout");
    }
  }
}

static void test_timeouts(void **state) {
  static const char conf[] =
      "# written by tests/itest_pressure (timeouts)\n"
      "workers = 2;\n"
      "listeners = (\n"
      "  { name = \"t\"; bind = \"127.0.0.1:0\";\n"
      "    codec = { name = \"line\"; }; handler = { name = \"echo\"; };\n"
      "    idle_timeout = \"1s\"; frame_timeout = \"1s\"; "
      "write_timeout = \"1s\"; },\n"
      "  { name = \"t2\"; bind = \"127.0.0.1:0\";\n"
      "    codec = { name = \"line\"; }; handler = { name = \"echo\"; };\n"
      "    idle_timeout = \"1s\"; write_timeout = \"2s\"; },\n"
      "  { name = \"t3\"; bind = \"127.0.0.1:0\";\n"
      "    codec = { name = \"line\"; }; handler = { name = \"echo\"; };\n"
      "    write_timeout = \"1s\"; },\n" STATS_LISTENER ");\n";
  itest_daemon_t *d = *state;
  double t0, now, late = TO_LATE_MS * itest_slow(), max_lat = 0, dt;
  double sent_at[256];
  to_client_t cl[TO_N];
  struct pollfd pfd[TO_N];
  char line[TO_LINE], rbuf[4096], nbuf[4096], want[16];
  static char dbuf[TO_DRAIN_CHUNK];
  size_t nlen = 0, k;
  uint64_t got_replies = 0, writer_lines = 0, drained = 0;
  itest_stats_t got, want_st;
  int port, port2, port3, sport, fds, i, rc, writer_idle, w2_write, dr_write;
  ssize_t r;

  itest_daemon_start(d, conf);
  port = itest_daemon_port(d, "t");
  port2 = itest_daemon_port(d, "t2");
  port3 = itest_daemon_port(d, "t3");
  sport = itest_daemon_port(d, "stats");
  fds = itest_daemon_fds(d);

  memset(cl, 0, sizeof(cl));
  memset(line, 'w', sizeof(line) - 1);
  line[sizeof(line) - 1] = '\n';
  for (i = 0; i < TO_N; i++) {
    /* The non-readers' small receive buffers fill with few replies.  The
     * drainer's is small too: a receive buffer autotuned to megabytes
     * absorbs its reads without opening the TCP window, and then no server
     * can see that it reads at all. */
    cl[i].fd =
        itest_connect(i == TO_WRITER2   ? port2
                      : i == TO_DRAINER ? port3
                                        : port,
                      NULL,
                      i == TO_WRITER || i == TO_WRITER2 ? 4096
                      : i == TO_DRAINER                 ? 2 * TO_DRAIN_CHUNK
                                                        : 0);
    cl[i].port = itest_local_port(cl[i].fd);
    cl[i].t_open = cl[i].t_next = itest_now_ms();
    itest_set_nonblock(cl[i].fd);
  }
  t0 = itest_now_ms();

  for (;;) {
    now = itest_now_ms();
    if (cl[TO_SLOW].t_closed && cl[TO_IDLE].t_closed &&
        cl[TO_WRITER].t_closed && cl[TO_WRITER2].t_closed &&
        now - t0 >= TO_RUN_MS)
      break;
    if (now - t0 > 15000.0 * itest_slow()) {
      itest_daemon_dump_log(d);
      fail_msg("after %.0f ms: slowloris %s, idle %s, non-reader %s, second "
               "non-reader %s",
               now - t0, cl[TO_SLOW].t_closed ? "closed" : "still open",
               cl[TO_IDLE].t_closed ? "closed" : "still open",
               cl[TO_WRITER].t_closed ? "closed" : "still open",
               cl[TO_WRITER2].t_closed ? "closed" : "still open");
    }
    if (cl[TO_NORMAL].t_closed) {
      itest_daemon_dump_log(d);
      fail_msg("the normal client was closed (%s) %.0f ms into the test, "
               "after %" PRIu64 " frames",
               cl[TO_NORMAL].how, cl[TO_NORMAL].t_closed - t0,
               cl[TO_NORMAL].sent);
    }
    /* The normal client: a frame every 200 ms, replies read at once. */
    if (now >= cl[TO_NORMAL].t_next) {
      if (cl[TO_NORMAL].sent >= sizeof(sent_at) / sizeof(sent_at[0]))
        fail_msg("the normal client ran out of frames");
      snprintf(want, sizeof(want), "n%05" PRIu64 "\n", cl[TO_NORMAL].sent);
      itest_send_all(cl[TO_NORMAL].fd, want, strlen(want));
      sent_at[cl[TO_NORMAL].sent++] = now;
      cl[TO_NORMAL].t_next += TO_PERIOD_MS;
    }
    /* The slowloris: one byte of a line every 200 ms, never a newline. */
    if (!cl[TO_SLOW].t_closed && now >= cl[TO_SLOW].t_next) {
      r = send(cl[TO_SLOW].fd, "a", 1, MSG_NOSIGNAL);
      if (r == 1) {
        if (cl[TO_SLOW].sent++ == 0)
          cl[TO_SLOW].t_first = now;
      } else if (r < 0 && errno != EAGAIN) {
        to_closed(&cl[TO_SLOW], strerror(errno));
      }
      cl[TO_SLOW].t_next += TO_PERIOD_MS;
    }
    /* The non-readers: 16 KiB lines as fast as the socket takes them.  The
     * drainer too, until its socket took nothing for 300 ms; from then on
     * it reads 16 KiB every 100 ms, checking the echo is its lines. */
    if (!cl[TO_DRAINER].t_closed && !cl[TO_DRAINER].t_first &&
        cl[TO_DRAINER].sent > 0 && now - cl[TO_DRAINER].t_progress >= 300) {
      cl[TO_DRAINER].t_first = now;
      cl[TO_DRAINER].t_next = now;
    }
    if (!cl[TO_DRAINER].t_closed && cl[TO_DRAINER].t_first &&
        now >= cl[TO_DRAINER].t_next) {
      r = recv(cl[TO_DRAINER].fd, dbuf, sizeof(dbuf), MSG_DONTWAIT);
      if (r == 0) {
        to_closed(&cl[TO_DRAINER], "EOF");
      } else if (r < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
          to_closed(&cl[TO_DRAINER], strerror(errno));
      } else {
        for (k = 0; k < (size_t)r; k++, drained++)
          if (dbuf[k] != ((drained + 1) % TO_LINE == 0 ? '\n' : 'w'))
            fail_msg("slow drainer: echo byte %" PRIu64 " is 0x%02x", drained,
                     (unsigned char)dbuf[k]);
      }
      cl[TO_DRAINER].t_next += TO_DRAIN_PERIOD;
    }
    for (i = TO_WRITER; i <= TO_DRAINER; i++)
      while (!cl[i].t_closed && !(i == TO_DRAINER && cl[i].t_first)) {
        r = send(cl[i].fd, line, sizeof(line), MSG_NOSIGNAL);
        if (r < 0) {
          if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            to_closed(&cl[i], strerror(errno));
          break;
        }
        cl[i].sent += (uint64_t)r;
        cl[i].t_progress = itest_now_ms();
      }

    for (i = 0; i < TO_N; i++) {
      pfd[i].fd = cl[i].t_closed ? -1 : cl[i].fd;
      pfd[i].revents = 0;
      /* The non-readers never read: only a hang-up or reset wakes them;
       * the drainer reads on its own schedule. */
      pfd[i].events = i < TO_WRITER                      ? POLLIN
                      : i == TO_DRAINER && cl[i].t_first ? 0
                                                         : POLLOUT | POLLRDHUP;
    }
    rc = poll(pfd, TO_N, 20);
    if (rc <= 0)
      continue;
    for (i = 0; i < TO_N; i++) {
      if (pfd[i].revents == 0)
        continue;
      if (i >= TO_WRITER) {
        if (pfd[i].revents & (POLLRDHUP | POLLHUP | POLLERR))
          to_closed(&cl[i], pfd[i].revents & POLLERR ? "reset" : "hang-up");
        continue;
      }
      r = recv(cl[i].fd, rbuf, sizeof(rbuf), MSG_DONTWAIT);
      if (r == 0) {
        to_closed(&cl[i], "EOF");
      } else if (r < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
          to_closed(&cl[i], strerror(errno));
      } else if (i != TO_NORMAL) {
        fail_msg("the %s client got %zd bytes (\"%.*s\"): no reply was due",
                 to_names[i], r, (int)(r > 40 ? 40 : r), rbuf);
      } else {
        /* Replies, checked line by line in order. */
        if (nlen + (size_t)r > sizeof(nbuf))
          fail_msg("the normal client's replies do not end in lines");
        memcpy(nbuf + nlen, rbuf, (size_t)r);
        nlen += (size_t)r;
        while (nlen >= 7) {
          snprintf(want, sizeof(want), "n%05" PRIu64 "\n", got_replies);
          if (got_replies >= cl[TO_NORMAL].sent || memcmp(nbuf, want, 7) != 0)
            fail_msg("normal client: got \"%.6s\", expected \"%.6s\"", nbuf,
                     want);
          dt = itest_now_ms() - sent_at[got_replies];
          if (dt > max_lat)
            max_lat = dt;
          got_replies++;
          memmove(nbuf, nbuf + 7, nlen - 7);
          nlen -= 7;
        }
      }
    }
  }

  /* The normal client finishes: every reply, then FIN. */
  while (got_replies < cl[TO_NORMAL].sent) {
    r = itest_recv_wait(cl[TO_NORMAL].fd, nbuf + nlen, sizeof(nbuf) - nlen,
                        slow_ms(2000));
    if (r <= 0)
      fail_msg("normal client: %" PRIu64 " of %" PRIu64 " replies (%s)",
               got_replies, cl[TO_NORMAL].sent,
               r == 0    ? "EOF"
               : r == -1 ? "timed out"
                         : strerror((int)-r));
    nlen += (size_t)r;
    while (nlen >= 7) {
      snprintf(want, sizeof(want), "n%05" PRIu64 "\n", got_replies);
      if (memcmp(nbuf, want, 7) != 0)
        fail_msg("normal client: got \"%.6s\", expected \"%.6s\"", nbuf, want);
      dt = itest_now_ms() - sent_at[got_replies];
      if (dt > max_lat)
        max_lat = dt;
      got_replies++;
      memmove(nbuf, nbuf + 7, nlen - 7);
      nlen -= 7;
    }
  }
  shutdown(cl[TO_NORMAL].fd, SHUT_WR);
  itest_expect_eof(cl[TO_NORMAL].fd, slow_ms(2000), "normal client");
  writer_lines = cl[TO_WRITER].sent / TO_LINE;
  for (i = 0; i < TO_N; i++)
    close(cl[i].fd);

  print_message("normal client: %" PRIu64 " frames over %.1f s, slowest reply "
                "%.0f ms\n",
                cl[TO_NORMAL].sent, (itest_now_ms() - t0) / 1000.0, max_lat);
  print_message("slowloris closed (%s) %.0f ms after its first byte; idle "
                "client closed (%s) %.0f ms after connecting; non-reader "
                "closed (%s) %.0f ms after the socket last took data "
                "(%.1f KiB sent)\n",
                cl[TO_SLOW].how, cl[TO_SLOW].t_closed - cl[TO_SLOW].t_first,
                cl[TO_IDLE].how, cl[TO_IDLE].t_closed - cl[TO_IDLE].t_open,
                cl[TO_WRITER].how,
                cl[TO_WRITER].t_closed - cl[TO_WRITER].t_progress,
                (double)cl[TO_WRITER].sent / KIB);
  print_message("second non-reader (idle 1s, write 2s) closed (%s) %.0f ms "
                "after the socket last took data\n",
                cl[TO_WRITER2].how,
                cl[TO_WRITER2].t_closed - cl[TO_WRITER2].t_progress);
  if (cl[TO_DRAINER].t_closed)
    print_message("slow drainer: %.1f MiB sent, then %.0f KiB read in %.0f "
                  "ms, then closed (%s)\n",
                  (double)cl[TO_DRAINER].sent / MIB, (double)drained / KIB,
                  cl[TO_DRAINER].t_closed - cl[TO_DRAINER].t_first,
                  cl[TO_DRAINER].how);
  else
    print_message("slow drainer: %.1f MiB sent, then %.0f KiB read in %.0f "
                  "ms, still open\n",
                  (double)cl[TO_DRAINER].sent / MIB, (double)drained / KIB,
                  itest_now_ms() - cl[TO_DRAINER].t_first);

  /* Who closed whom, by the log: one line each, of the right kind. */
  to_expect_log(d, &cl[TO_SLOW], "slowloris", "frame timeout");
  to_expect_log(d, &cl[TO_IDLE], "idle", "idle timeout");
  to_expect_log(d, &cl[TO_NORMAL], "normal", NULL);
  /* The non-reader: by the write timeout, once.  Known bug: when its
   * output stalls, last_io and write_since are the same instant, the idle
   * deadline wins the tie and closes it gracefully; the close then waits
   * for the flush, and the write deadline fires too, counted and logged a
   * second time for one connection. */
  writer_idle = to_log_lines(d, &cl[TO_WRITER], "idle timeout");
  if (to_log_lines(d, &cl[TO_WRITER], "write timeout") != 1 ||
      to_log_lines(d, &cl[TO_WRITER], "frame timeout") != 0 ||
      writer_idle > 1) {
    itest_daemon_dump_log(d);
    fail_msg("the non-reader (port %d) has %d write, %d idle and %d frame "
             "timeout lines: expected one write timeout",
             cl[TO_WRITER].port,
             to_log_lines(d, &cl[TO_WRITER], "write timeout"), writer_idle,
             to_log_lines(d, &cl[TO_WRITER], "frame timeout"));
  }
  if (writer_idle == 1)
    known_bug("timeouts: a client that stops reading (idle_timeout = "
              "write_timeout = 1s) was closed by the idle timeout, then the "
              "write timeout fired on the same connection: two timeout lines "
              "in the log and timeouts_idle and timeouts_write both counted "
              "for one connection (the idle client and the slowloris were "
              "closed correctly)");
  /* The second non-reader, where idle_timeout (1s) < write_timeout (2s):
   * while its output waits, the write timeout governs, not idle; it is the
   * only one counted. */
  w2_write = to_log_lines(d, &cl[TO_WRITER2], "write timeout");
  if (to_log_lines(d, &cl[TO_WRITER2], "idle timeout") != 0 ||
      to_log_lines(d, &cl[TO_WRITER2], "frame timeout") != 0 || w2_write != 1) {
    itest_daemon_dump_log(d);
    fail_msg("the second non-reader (port %d) has %d idle, %d write and %d "
             "frame timeout lines: expected one write timeout",
             cl[TO_WRITER2].port,
             to_log_lines(d, &cl[TO_WRITER2], "idle timeout"), w2_write,
             to_log_lines(d, &cl[TO_WRITER2], "frame timeout"));
  }

  /* When: the frame deadline runs from the first byte and later bytes do
   * not extend it; idle from the connection; write from the last write
   * progress, which came no later than the client's last send. */
  dt = cl[TO_SLOW].t_closed - cl[TO_SLOW].t_first;
  if (dt < TO_EARLY_MS || dt > late)
    fail_msg("slowloris closed %.0f ms after its first byte, expected %.0f "
             "to %.0f ms (frame_timeout 1s)",
             dt, TO_EARLY_MS, late);
  dt = cl[TO_IDLE].t_closed - cl[TO_IDLE].t_open;
  if (dt < TO_EARLY_MS || dt > late)
    fail_msg("idle client closed %.0f ms after connecting, expected %.0f to "
             "%.0f ms (idle_timeout 1s)",
             dt, TO_EARLY_MS, late);
  dt = cl[TO_WRITER].t_closed - cl[TO_WRITER].t_progress;
  if (dt > late)
    fail_msg("non-reader closed %.0f ms after its last send, expected at most "
             "%.0f ms (write_timeout 1s)",
             dt, late);
  /* The slow drainer reads 16 KiB every 100 ms all along: progress, so no
   * write timeout.  Known bug: weftd only sees progress when its socket
   * turns writable, which takes the peer draining a third of a kernel
   * send buffer that autotuning has grown to megabytes. */
  dr_write = to_log_lines(d, &cl[TO_DRAINER], "write timeout");
  if (to_log_lines(d, &cl[TO_DRAINER], "idle timeout") != 0 ||
      to_log_lines(d, &cl[TO_DRAINER], "frame timeout") != 0 || dr_write > 1 ||
      (cl[TO_DRAINER].t_closed && dr_write == 0)) {
    itest_daemon_dump_log(d);
    fail_msg("the slow drainer (port %d) was %s, with %d write timeout "
             "lines: expected it open to the end, no timeout",
             cl[TO_DRAINER].port,
             cl[TO_DRAINER].t_closed ? "closed" : "not closed", dr_write);
  }
  if (drained == 0)
    fail_msg("the slow drainer read nothing");
  if (dr_write == 1)
    known_bug("timeouts: a client reading 16 KiB every 100 ms (write_timeout "
              "1s) was closed by the write timeout %.0f ms after it began "
              "reading, having read %.0f KiB meanwhile: \"the peer does not "
              "read its replies\" while it did",
              cl[TO_DRAINER].t_closed - cl[TO_DRAINER].t_first,
              (double)drained / KIB);
  /* The write timeout (2 s) after the last write progress. */
  dt = cl[TO_WRITER2].t_closed - cl[TO_WRITER2].t_progress;
  if (dt > (TO_LATE_MS + 1000.0) * itest_slow())
    fail_msg("second non-reader closed %.0f ms after its last send, expected "
             "at most %.0f ms (write_timeout 2s)",
             dt, (TO_LATE_MS + 1000.0) * itest_slow());
  if (max_lat > TO_TIMEOUT_MS * itest_slow())
    fail_msg("the normal client waited %.0f ms for a reply", max_lat);

  itest_daemon_expect_fds(d, fds);
  itest_stats_get(sport, "t", &got);
  stats_zero(&want_st);
  want_st.v[ITEST_ST_conns_total] = TO_N - 2; /* not on t2 and t3 */
  want_st.v[ITEST_ST_timeouts_idle] = 1 + (uint64_t)writer_idle;
  want_st.v[ITEST_ST_timeouts_frame] = 1;
  want_st.v[ITEST_ST_timeouts_write] = 1;
  itest_stats_expect(&got, &want_st,
                     ITEST_BIT(frames_in) | ITEST_BIT(frames_out) |
                         ITEST_BIT(bytes_in) | ITEST_BIT(bytes_out) |
                         ITEST_BIT(backpressure_pauses),
                     "listener t");
  /* Frames: the normal client's, and however many lines of the
   * non-reader weftd decoded before it stopped reading; all echoed. */
  if (got.v[ITEST_ST_frames_in] != got.v[ITEST_ST_frames_out] ||
      got.v[ITEST_ST_frames_in] < cl[TO_NORMAL].sent + 1 ||
      got.v[ITEST_ST_frames_in] > cl[TO_NORMAL].sent + writer_lines)
    fail_msg("frames_in=%" PRIu64 " frames_out=%" PRIu64 ": expected equal, "
             "from %" PRIu64 " to %" PRIu64,
             got.v[ITEST_ST_frames_in], got.v[ITEST_ST_frames_out],
             cl[TO_NORMAL].sent + 1, cl[TO_NORMAL].sent + writer_lines);
  if (got.v[ITEST_ST_backpressure_pauses] == 0)
    fail_msg("backpressure_pauses = 0, yet the non-reader filled its queue");
  itest_stats_get(sport, "t2", &got);
  stats_zero(&want_st);
  want_st.v[ITEST_ST_conns_total] = 1;
  want_st.v[ITEST_ST_timeouts_write] = 1;
  itest_stats_expect(&got, &want_st,
                     ITEST_BIT(frames_in) | ITEST_BIT(frames_out) |
                         ITEST_BIT(bytes_in) | ITEST_BIT(bytes_out) |
                         ITEST_BIT(backpressure_pauses),
                     "listener t2");
  if (got.v[ITEST_ST_frames_in] != got.v[ITEST_ST_frames_out] ||
      got.v[ITEST_ST_frames_in] == 0 ||
      got.v[ITEST_ST_frames_in] > cl[TO_WRITER2].sent / TO_LINE ||
      got.v[ITEST_ST_backpressure_pauses] == 0)
    fail_msg("listener t2: frames_in=%" PRIu64 " frames_out=%" PRIu64
             " backpressure_pauses=%" PRIu64 ": expected equal frames, from "
             "1 to %" PRIu64 ", and a pause",
             got.v[ITEST_ST_frames_in], got.v[ITEST_ST_frames_out],
             got.v[ITEST_ST_backpressure_pauses],
             cl[TO_WRITER2].sent / TO_LINE);
  itest_stats_get(sport, "t3", &got);
  stats_zero(&want_st);
  want_st.v[ITEST_ST_conns_total] = 1;
  want_st.v[ITEST_ST_timeouts_write] = (uint64_t)dr_write;
  itest_stats_expect(&got, &want_st,
                     ITEST_BIT(frames_in) | ITEST_BIT(frames_out) |
                         ITEST_BIT(bytes_in) | ITEST_BIT(bytes_out) |
                         ITEST_BIT(backpressure_pauses),
                     "listener t3");
  if (got.v[ITEST_ST_frames_in] != got.v[ITEST_ST_frames_out] ||
      got.v[ITEST_ST_frames_in] == 0 ||
      got.v[ITEST_ST_backpressure_pauses] == 0)
    fail_msg("listener t3: frames_in=%" PRIu64 " frames_out=%" PRIu64
             " backpressure_pauses=%" PRIu64 ": expected equal frames and a "
             "pause",
             got.v[ITEST_ST_frames_in], got.v[ITEST_ST_frames_out],
             got.v[ITEST_ST_backpressure_pauses]);
  itest_daemon_stop(d);
  itest_daemon_check_log(d);
  known_bugs_report();
}

/* ==== 3. limits =========================================================== */

/* A line there and back: the connection is served. */
static void echo_ok(int fd, const char *what, int i) {
  char msg[64], back[64];
  int n = snprintf(msg, sizeof(msg), "%s %d\n", what, i);

  itest_send_all(fd, msg, (size_t)n);
  itest_recv_exact(fd, back, (size_t)n, slow_ms(5000), what);
  if (memcmp(back, msg, (size_t)n) != 0)
    fail_msg("%s %d: echo \"%.*s\"", what, i, n - 1, back);
}

/* The refused: closed at once, without a reply (an RST is as good as a
 * FIN: the peer closed a socket it never read). */
static void expect_refused(int fd, const char *what) {
  char buf[64];
  ssize_t r = itest_recv_wait(fd, buf, sizeof(buf), slow_ms(2000));

  if (r == -1)
    fail_msg("%s: still open after %ld ms: not refused", what, slow_ms(2000));
  if (r > 0)
    fail_msg("%s: got %zd bytes: not refused", what, r);
  if (r < 0 && r != -ECONNRESET)
    fail_msg("%s: %s", what, strerror((int)-r));
}

/* Waits until the listener's conns_open is n (a close is seen by weftd a
 * moment after the client's). */
static void wait_conns_open(int sport, const char *listener, uint64_t n) {
  double end = itest_now_ms() + 5000.0 * itest_slow();
  itest_stats_t st;

  for (;;) {
    itest_stats_get(sport, listener, &st);
    if (st.v[ITEST_ST_conns_open] == n)
      return;
    if (itest_now_ms() > end)
      fail_msg("listener %s: conns_open = %" PRIu64 ", expected %" PRIu64,
               listener, st.v[ITEST_ST_conns_open], n);
    itest_sleep_ms(20);
  }
}

static void test_limits(void **state) {
  static const char conf[] =
      "# written by tests/itest_pressure (limits)\n"
      "workers = 2;\n"
      "listeners = (\n"
      "  { name = \"max\"; bind = \"127.0.0.1:0\";\n"
      "    codec = { name = \"line\"; }; handler = { name = \"echo\"; };\n"
      "    max_connections = 5; },\n"
      "  { name = \"perip\"; bind = \"127.0.0.1:0\";\n"
      "    codec = { name = \"line\"; }; handler = { name = \"echo\"; };\n"
      "    max_connections_per_ip = 3; },\n" STATS_LISTENER ");\n";
  itest_daemon_t *d = *state;
  int port, pport, sport, fds, i, five[5], sixth, local[3], fourth, other[3];
  int again;
  itest_stats_t got, want;

  itest_daemon_start(d, conf);
  port = itest_daemon_port(d, "max");
  pport = itest_daemon_port(d, "perip");
  sport = itest_daemon_port(d, "stats");
  fds = itest_daemon_fds(d);

  /* max_connections = 5: five served, the sixth closed at once, the five
   * still served; once one leaves, a new one is served. */
  for (i = 0; i < 5; i++) {
    five[i] = itest_connect(port, NULL, 0);
    echo_ok(five[i], "max", i);
  }
  sixth = itest_connect(port, NULL, 0);
  expect_refused(sixth, "the sixth connection (max_connections = 5)");
  close(sixth);
  for (i = 0; i < 5; i++)
    echo_ok(five[i], "still", i);
  close(five[0]);
  wait_conns_open(sport, "max", 4);
  again = itest_connect(port, NULL, 0);
  echo_ok(again, "replacement", 0);
  close(again);
  for (i = 1; i < 5; i++)
    close(five[i]);

  /* max_connections_per_ip = 3: three from 127.0.0.1, the fourth refused,
   * three more from 127.0.0.2 (all of 127/8 is loopback) served. */
  for (i = 0; i < 3; i++) {
    local[i] = itest_connect(pport, NULL, 0);
    echo_ok(local[i], "perip", i);
  }
  fourth = itest_connect(pport, NULL, 0);
  expect_refused(fourth, "the fourth connection from 127.0.0.1 "
                         "(max_connections_per_ip = 3)");
  close(fourth);
  for (i = 0; i < 3; i++) {
    other[i] = itest_connect(pport, "127.0.0.2", 0);
    echo_ok(other[i], "from 127.0.0.2", i);
  }
  for (i = 0; i < 3; i++) {
    echo_ok(local[i], "perip again", i);
    close(local[i]);
    close(other[i]);
  }

  itest_daemon_expect_fds(d, fds);
  itest_stats_get(sport, "max", &got);
  stats_zero(&want);
  want.v[ITEST_ST_conns_total] = 6; /* five, then the replacement */
  want.v[ITEST_ST_refused_max_connections] = 1;
  want.v[ITEST_ST_frames_in] = want.v[ITEST_ST_frames_out] = 11;
  itest_stats_expect(&got, &want, ITEST_BIT(bytes_in) | ITEST_BIT(bytes_out),
                     "listener max");
  itest_stats_get(sport, "perip", &got);
  stats_zero(&want);
  want.v[ITEST_ST_conns_total] = 6;
  want.v[ITEST_ST_refused_per_ip] = 1;
  want.v[ITEST_ST_frames_in] = want.v[ITEST_ST_frames_out] = 9;
  itest_stats_expect(&got, &want, ITEST_BIT(bytes_in) | ITEST_BIT(bytes_out),
                     "listener perip");
  itest_daemon_stop(d);
  itest_daemon_check_log(d);
}

#define EM_NOFILE 64    /* weftd's RLIMIT_NOFILE (soft) */
#define EM_EXCESS 4     /* clients left waiting once descriptors ran out */
#define EM_FREE 8       /* served connections closed to make room */
#define EM_CPU_MAX 0.20 /* CPU share while accepts are paused */
#define EM_RECOVER_MS 1500.0

/*
 * Under valgrind the kernel never says EMFILE to weftd: valgrind keeps
 * descriptors of its own above the limit it shows the program, so accept4()
 * succeeds in the kernel and valgrind closes the new socket and returns
 * EMFILE.  weftd still sees EMFILE and pauses, but the client whose accept
 * that was is reset instead of left waiting in the backlog.  Only there, a
 * reset stands for "waiting".
 */
static int em_not_served(ssize_t r, int valgrind) {
  return r == -1 || (valgrind && (r == 0 || r == -ECONNRESET));
}

static void test_emfile(void **state) {
  static const char conf[] = "# written by tests/itest_pressure (EMFILE)\n"
                             "workers = 2;\n"
                             "listeners = (\n"
                             "  { name = \"e\"; bind = \"127.0.0.1:0\";\n"
                             "    codec = { name = \"line\"; }; handler = { "
                             "name = \"echo\"; }; },\n" STATS_LISTENER ");\n";
  itest_daemon_t *d = *state;
  int served[EM_NOFILE], waiting[EM_EXCESS], fresh, port, sport, fds, i, n;
  int nserved = 0, nwaiting = 0, nlate = 0, pauses_logged, valgrind;
  int total_served;
  char msg[EM_EXCESS][32], back[32], line[32];
  double cpu0, cpu1, t0, t1, share, recovered;
  itest_stats_t got, want;
  ssize_t r;
  long reply_ms = slow_ms(500);

  d->nofile = EM_NOFILE;
  itest_daemon_start(d, conf);
  port = itest_daemon_port(d, "e");
  sport = itest_daemon_port(d, "stats");
  fds = itest_daemon_fds(d);
  valgrind = itest_daemon_valgrind(d);
  print_message("RLIMIT_NOFILE %d, %d descriptors at start-up%s\n", EM_NOFILE,
                fds, valgrind ? " (under valgrind)" : "");

  /* Connect until one is not served: its accept failed with EMFILE. */
  for (;;) {
    if (nserved == EM_NOFILE)
      fail_msg("%d connections served under RLIMIT_NOFILE %d", nserved,
               EM_NOFILE);
    i = itest_connect(port, NULL, 0);
    n = snprintf(msg[0], sizeof(msg[0]), "c%d\n", nserved);
    itest_send_all(i, msg[0], (size_t)n);
    r = itest_recv_wait(i, back, (size_t)n, reply_ms);
    /* Merely slow (a loaded machine) rather than out of descriptors? */
    if (r == -1 && itest_log_count(d, "pausing accepts") == 0)
      r = itest_recv_wait(i, back, (size_t)n, slow_ms(5000));
    if (em_not_served(r, valgrind)) {
      waiting[nwaiting++] = i;
      break;
    }
    if (r != n || memcmp(back, msg[0], (size_t)n) != 0)
      fail_msg("connection %d: %s", nserved,
               r < 0    ? strerror((int)-r)
               : r == 0 ? "EOF"
                        : "bad echo");
    served[nserved++] = i;
  }
  /* More clients wait, each with a line sent. */
  while (nwaiting < EM_EXCESS) {
    i = itest_connect(port, NULL, 0);
    n = snprintf(msg[nwaiting], sizeof(msg[0]), "w%d\n", nwaiting);
    itest_send_all(i, msg[nwaiting], (size_t)n);
    waiting[nwaiting++] = i;
  }
  print_message("%d connections served, then descriptors ran out; %d clients "
                "waiting\n",
                nserved, nwaiting);
  if (!itest_log_wait(d, "pausing accepts", slow_ms(2000))) {
    itest_daemon_dump_log(d);
    fail_msg("no \"pausing accepts\" line after accept ran out of "
             "descriptors");
  }

  /* No busy loop while the clients wait. */
  cpu0 = itest_daemon_cpu_s(d);
  t0 = itest_now_ms();
  itest_sleep_ms(2000);
  cpu1 = itest_daemon_cpu_s(d);
  t1 = itest_now_ms();
  share = (cpu1 - cpu0) * 1000.0 / (t1 - t0);
  pauses_logged = itest_log_count(d, "pausing accepts");
  print_message("CPU while paused: %.2f s in %.2f s (%.0f%%); %d \"pausing "
                "accepts\" lines\n",
                cpu1 - cpu0, (t1 - t0) / 1000.0, share * 100, pauses_logged);
  if (share > EM_CPU_MAX)
    fail_msg("weftd used %.0f%% of a CPU while out of descriptors (at most "
             "%.0f%%): a busy accept loop",
             share * 100, EM_CPU_MAX * 100);
  for (i = 0; i < nwaiting; i++) {
    r = itest_recv_wait(waiting[i], back, sizeof(back), 0);
    if (!em_not_served(r, valgrind))
      fail_msg("waiting client %d: %s while weftd had no descriptor for it", i,
               r == 0  ? "EOF"
               : r > 0 ? "a reply"
                       : strerror((int)-r));
  }
  if (itest_daemon_reap(d, 0, &n))
    fail_msg("weftd exited (status 0x%x) when descriptors ran out",
             (unsigned)n);

  /* Free some: the waiting are served, and a new client soon after. */
  for (i = 0; i < EM_FREE; i++)
    close(served[--nserved]);
  t0 = itest_now_ms();
  for (i = 0; i < nwaiting; i++) {
    n = (int)strlen(msg[i]);
    r = itest_recv_wait(
        waiting[i], line, (size_t)n,
        (long)(t0 + EM_RECOVER_MS * itest_slow() - itest_now_ms()));
    if (valgrind && (r == 0 || r == -ECONNRESET))
      continue; /* closed by valgrind at a failed accept, see above */
    if (r == -1)
      fail_msg("waiting client %d: no reply %.0f ms after descriptors were "
               "freed",
               i, itest_now_ms() - t0);
    if (r != n || memcmp(line, msg[i], (size_t)n) != 0)
      fail_msg("waiting client %d: %s", i,
               r < 0    ? strerror((int)-r)
               : r == 0 ? "EOF"
                        : "bad echo");
    nlate++;
  }
  for (;;) {
    fresh = itest_connect(port, NULL, 0);
    itest_send_all(fresh, "fresh\n", 6);
    r = itest_recv_wait(
        fresh, line, 6,
        (long)(t0 + EM_RECOVER_MS * itest_slow() - itest_now_ms()));
    /* Under valgrind, a connection accepted before weftd has closed the
     * freed ones is reset (see em_not_served): try again. */
    if (valgrind && (r == 0 || r == -ECONNRESET) &&
        itest_now_ms() < t0 + EM_RECOVER_MS * itest_slow()) {
      close(fresh);
      itest_sleep_ms(50);
      continue;
    }
    if (r != 6 || memcmp(line, "fresh\n", 6) != 0)
      fail_msg("a new client once descriptors were freed: %s",
               r == -1  ? "no reply"
               : r == 0 ? "EOF"
               : r < 0  ? strerror((int)-r)
                        : "bad echo");
    break;
  }
  recovered = itest_now_ms() - t0;
  print_message("%d waiting clients and a new one served %.0f ms after "
                "descriptors were freed\n",
                nlate, recovered);
  if (!valgrind && nlate != nwaiting)
    fail_msg("only %d of %d waiting clients were served", nlate, nwaiting);
  if (recovered > EM_RECOVER_MS * itest_slow())
    fail_msg("served again only %.0f ms after descriptors were freed",
             recovered);

  close(fresh);
  for (i = 0; i < nwaiting; i++)
    close(waiting[i]);
  for (i = 0; i < nserved; i++)
    close(served[i]);
  itest_daemon_expect_fds(d, fds);
  itest_stats_get(sport, "e", &got);
  total_served = nserved + EM_FREE + nlate + 1;
  stats_zero(&want);
  want.v[ITEST_ST_conns_total] = (uint64_t)total_served;
  want.v[ITEST_ST_frames_in] = want.v[ITEST_ST_frames_out] =
      (uint64_t)total_served;
  itest_stats_expect(&got, &want,
                     ITEST_BIT(bytes_in) | ITEST_BIT(bytes_out) |
                         ITEST_BIT(accept_pauses),
                     "listener e");
  /* One warn line per pause, each counted. */
  pauses_logged = itest_log_count(d, "pausing accepts");
  if (got.v[ITEST_ST_accept_pauses] == 0 ||
      got.v[ITEST_ST_accept_pauses] != (uint64_t)pauses_logged)
    fail_msg("accept_pauses = %" PRIu64 ", %d \"pausing accepts\" lines: "
             "expected the same, and more than 0",
             got.v[ITEST_ST_accept_pauses], pauses_logged);
  itest_daemon_stop(d);
  itest_daemon_check_log(d);
}

/* ==== 4. graceful stop ==================================================== */

#define SD_CONNS 200 /* connections whose frames weftd has read */
#define SD_LATE 100  /* and whose frames may still be in the kernel */
/* Connections whose frames weftd has stopped reading; each holds megabytes
 * in kernel buffers: only one under valgrind, so that their replies take
 * well under the grace there too. */
#define SD_STALLED 2
#define SD_FRAMES 20
#define SD_LINE 64 /* bytes per line, newline included */
#define SD_GRACE_MS 3000.0

static void sd_line(char *out, int conn, int frame) {
  int n = snprintf(out, SD_LINE, "c%03d f%02d ", conn, frame);

  memset(out + n, 'a' + (conn + frame) % 26, (size_t)(SD_LINE - 1 - n));
  out[SD_LINE - 1] = '\n';
}

/* A client that sends 1 KiB lines without reading, with a small receive
 * buffer, until its socket takes nothing for 300 ms: weftd has stopped
 * reading it (backpressure) with its lines still in the kernel. */
typedef struct {
  int fd;
  uint64_t sent;  /* bytes its socket took */
  uint64_t acked; /* of which weftd's kernel had them at the signal */
  uint64_t back;  /* bytes of replies read */
} sd_stalled_t;

#define SD_SLINE 1024

static void sd_stall(sd_stalled_t *c, int port) {
  static char line[SD_SLINE];
  struct pollfd pfd;
  ssize_t r;

  memset(line, 'p', sizeof(line) - 1);
  line[sizeof(line) - 1] = '\n';
  c->fd = itest_connect(port, NULL, 4096);
  itest_set_nonblock(c->fd);
  for (;;) {
    r = send(c->fd, line + c->sent % SD_SLINE, SD_SLINE - c->sent % SD_SLINE,
             MSG_NOSIGNAL);
    if (r > 0) {
      c->sent += (uint64_t)r;
      if (c->sent > BP_RUNAWAY)
        fail_msg("no backpressure: weftd took %ld MiB from a client that "
                 "reads nothing",
                 BP_RUNAWAY / MIB);
      continue;
    }
    if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
      fail_msg("stalled client: send: %s", strerror(errno));
    pfd.fd = c->fd;
    pfd.events = POLLOUT;
    if (poll(&pfd, 1, (int)slow_ms(300)) == 0)
      return;
  }
}

static void test_shutdown_answers(void **state) {
  static const char conf[] =
      "# written by tests/itest_pressure (graceful stop)\n"
      "workers = 2;\n"
      "shutdown_grace = \"3s\";\n"
      "listeners = (\n"
      "  { name = \"s\"; bind = \"127.0.0.1:0\";\n"
      "    codec = { name = \"line\"; }; handler = { name = \"echo\"; }; "
      "},\n" STATS_LISTENER ");\n";
  itest_daemon_t *d = *state;
  static char out[SD_FRAMES * SD_LINE], back[SD_FRAMES * SD_LINE];
  static char rbuf[65536];
  sd_stalled_t st[SD_STALLED];
  uint64_t nstalled = itest_scale() < 1.0 ? 1 : SD_STALLED;
  int fd[SD_CONNS + SD_LATE], port, sport, fds, i, j, outq;
  uint64_t k, stalled_lines, stalled_bytes;
  ssize_t r;
  itest_stats_t got, want;
  double t0, end, took;
  char what[64];

  itest_daemon_start(d, conf);
  port = itest_daemon_port(d, "s");
  sport = itest_daemon_port(d, "stats");
  fds = itest_daemon_fds(d);

  memset(st, 0, sizeof(st));
  for (i = 0; i < (int)nstalled; i++)
    sd_stall(&st[i], port);
  /* weftd stopped reading them: these counters are theirs and stay. */
  itest_stats_get(sport, "s", &got);
  stalled_lines = got.v[ITEST_ST_frames_in];
  stalled_bytes = got.v[ITEST_ST_bytes_in];
  for (i = 0; i < SD_CONNS + SD_LATE; i++) {
    fd[i] = itest_connect(port, NULL, 0);
    if (i >= SD_CONNS)
      continue; /* the late ones send just before the signal */
    for (j = 0; j < SD_FRAMES; j++)
      sd_line(out + j * SD_LINE, i, j);
    itest_send_all(fd[i], out, sizeof(out));
  }
  /* Every frame received and its reply handed to the kernel; nobody has
   * read a reply yet; the late connections are accepted. */
  end = itest_now_ms() + 20000.0 * itest_slow();
  for (;;) {
    itest_stats_get(sport, "s", &got);
    if (got.v[ITEST_ST_frames_in] == stalled_lines + SD_CONNS * SD_FRAMES &&
        got.v[ITEST_ST_conns_open] == SD_CONNS + SD_LATE + nstalled)
      break;
    if (itest_now_ms() > end)
      fail_msg("weftd received %" PRIu64 " frames, expected %d and those of "
               "the stalled clients, with %" PRIu64 " connections open",
               got.v[ITEST_ST_frames_in], SD_CONNS * SD_FRAMES,
               got.v[ITEST_ST_conns_open]);
    itest_sleep_ms(20);
  }
  stats_zero(&want);
  want.v[ITEST_ST_conns_open] = want.v[ITEST_ST_conns_total] =
      SD_CONNS + SD_LATE + nstalled;
  want.v[ITEST_ST_frames_in] = want.v[ITEST_ST_frames_out] =
      stalled_lines + SD_CONNS * SD_FRAMES;
  want.v[ITEST_ST_bytes_in] = stalled_bytes + SD_CONNS * sizeof(out);
  itest_stats_expect(&got, &want,
                     ITEST_BIT(bytes_out) | ITEST_BIT(backpressure_pauses),
                     "listener s before SIGTERM");
  if (got.v[ITEST_ST_backpressure_pauses] < nstalled)
    fail_msg("backpressure_pauses = %" PRIu64 " with %" PRIu64
             " stalled clients",
             got.v[ITEST_ST_backpressure_pauses], nstalled);
  itest_daemon_wait_fds(d,
                        fds < 0 ? -1 : fds + SD_CONNS + SD_LATE + (int)nstalled,
                        "start-up plus one per connection");

  /* The late frames: on loopback, in weftd's receive queues when send()
   * returns, so before the signal; weftd is reading some of them as it
   * comes, and must read and answer the rest (FIONREAD) while stopping. */
  for (i = SD_CONNS; i < SD_CONNS + SD_LATE; i++) {
    for (j = 0; j < SD_FRAMES; j++)
      sd_line(out + j * SD_LINE, i, j);
    itest_send_all(fd[i], out, sizeof(out));
  }
  /* What weftd's kernel has of each stalled client's lines (sent, less
   * what is still in the client's send queue) arrived before the signal. */
  for (i = 0; i < (int)nstalled; i++) {
    if (ioctl(st[i].fd, SIOCOUTQ, &outq) != 0)
      fail_msg("SIOCOUTQ: %s", strerror(errno));
    st[i].acked = st[i].sent - (uint64_t)outq;
  }
  t0 = itest_now_ms();
  itest_daemon_signal(d, SIGTERM);
  /* The stalled: replies to every line weftd's kernel had, in order; maybe
   * to some that were still in flight, never beyond what was sent. */
  for (i = 0; i < (int)nstalled; i++) {
    for (;;) {
      r = itest_recv_wait(st[i].fd, rbuf, sizeof(rbuf), slow_ms(5000));
      if (r == 0)
        break;
      if (r < 0)
        fail_msg("stalled client %d after SIGTERM: %s after %" PRIu64
                 " bytes of replies",
                 i, r == -1 ? "no EOF" : strerror((int)-r), st[i].back);
      for (k = 0; k < (uint64_t)r; k++, st[i].back++)
        if (rbuf[k] != ((st[i].back + 1) % SD_SLINE == 0 ? '\n' : 'p'))
          fail_msg("stalled client %d: reply byte %" PRIu64 " is 0x%02x", i,
                   st[i].back, (unsigned char)rbuf[k]);
    }
    print_message("stalled client %d: %" PRIu64 " lines sent, %" PRIu64
                  " in weftd's kernel at the signal, %" PRIu64 " answered\n",
                  i, st[i].sent / SD_SLINE, st[i].acked / SD_SLINE,
                  st[i].back / SD_SLINE);
    if (st[i].back % SD_SLINE != 0 ||
        st[i].back / SD_SLINE > st[i].sent / SD_SLINE ||
        st[i].back / SD_SLINE < st[i].acked / SD_SLINE)
      fail_msg("stalled client %d: %" PRIu64 " bytes of replies, expected "
               "whole lines, at least the %" PRIu64 " weftd had received "
               "before the signal and at most the %" PRIu64 " sent",
               i, st[i].back, st[i].acked / SD_SLINE, st[i].sent / SD_SLINE);
    close(st[i].fd);
  }
  for (i = 0; i < SD_CONNS + SD_LATE; i++) {
    snprintf(what, sizeof(what), "connection %d after SIGTERM", i);
    itest_recv_exact(fd[i], back, sizeof(back), slow_ms(5000), what);
    for (j = 0; j < SD_FRAMES; j++)
      sd_line(out + j * SD_LINE, i, j);
    if (memcmp(back, out, sizeof(out)) != 0)
      fail_msg("%s: the replies differ from the frames", what);
    itest_expect_eof(fd[i], slow_ms(5000), what);
    close(fd[i]);
  }
  itest_daemon_expect_exit0(d, ITEST_STOP_TIMEOUT_MS, "SIGTERM");
  took = itest_now_ms() - t0;
  print_message("every reply and FIN on %d connections; weftd exited 0 %.0f "
                "ms after SIGTERM (grace %.0f ms)\n",
                SD_CONNS + SD_LATE, took, SD_GRACE_MS);
  if (itest_log_count(d, "shutdown grace expired") > 0) {
    itest_daemon_dump_log(d);
    fail_msg("the grace expired although every client read and closed");
  }
  if (took > SD_GRACE_MS * itest_slow())
    fail_msg("weftd took %.0f ms to stop, the grace is %.0f ms", took,
             SD_GRACE_MS);
  itest_daemon_check_log(d);
}

/* A client whose replies pile up in weftd: it sends long lines and never
 * reads, with a small receive buffer, until the socket takes no more. */
static int sd_holder(int port) {
  static char line[16384];
  struct pollfd pfd;
  int fd = itest_connect(port, NULL, 4096);
  uint64_t sent = 0;
  ssize_t r;

  memset(line, 'h', sizeof(line) - 1);
  line[sizeof(line) - 1] = '\n';
  itest_set_nonblock(fd);
  for (;;) {
    r = send(fd, line, sizeof(line), MSG_NOSIGNAL);
    if (r > 0 && (sent += (uint64_t)r) > BP_RUNAWAY)
      fail_msg("no backpressure: weftd took %ld MiB from a client that reads "
               "nothing",
               BP_RUNAWAY / MIB);
    if (r > 0)
      continue;
    if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
      fail_msg("holder: send: %s", strerror(errno));
    pfd.fd = fd;
    pfd.events = POLLOUT;
    if (poll(&pfd, 1, (int)slow_ms(300)) == 0)
      return fd;
  }
}

/* Sum of N over "worker W: shutdown grace expired, closing N connections". */
static int sd_grace_closed(const itest_daemon_t *d) {
  static const char pat[] = "shutdown grace expired, closing ";
  char *log = itest_daemon_log(d), *p = log;
  int n = 0;

  while ((p = strstr(p, pat)) != NULL) {
    p += strlen(pat);
    n += (int)strtol(p, &p, 10);
  }
  free(log);
  return n;
}

static void test_shutdown_endless(void **state) {
  static const char conf[] =
      "# written by tests/itest_pressure (endless sender)\n"
      "workers = 2;\n"
      "shutdown_grace = \"3s\";\n"
      "listeners = (\n"
      "  { name = \"s\"; bind = \"127.0.0.1:0\";\n"
      "    codec = { name = \"line\"; }; handler = { name = \"echo\"; }; "
      "},\n" STATS_LISTENER ");\n";
  itest_daemon_t *d = *state;
  int port, sport, fds, s, h, at_grace, signalled = 0, exited = 0;
  uint64_t nsent = 0, nback = 0, sent_before = 0;
  double t0 = 0, now, t_eof = 0, t_cut = 0, took, next = 0;
  char msg[16], buf[8192], pending[16];
  size_t plen = 0, k;
  itest_stats_t got, usr1;
  int have_usr1 = 0, status;
  struct pollfd pfd;
  ssize_t r;

  itest_daemon_start(d, conf);
  port = itest_daemon_port(d, "s");
  sport = itest_daemon_port(d, "stats");
  fds = itest_daemon_fds(d);

  h = sd_holder(port);
  s = itest_connect(port, NULL, 0);
  itest_set_nonblock(s);
  itest_stats_get(sport, "s", &got);
  if (got.v[ITEST_ST_backpressure_pauses] == 0)
    fail_msg("the holder did not make weftd stop reading it");
  itest_daemon_wait_fds(d, fds < 0 ? -1 : fds + 2,
                        "start-up plus the holder and the sender");

  /* The sender: a line every 5 ms, replies read and checked as they come,
   * from 300 ms before SIGTERM until weftd cuts it. */
  for (now = itest_now_ms(), t0 = now + 300; !t_cut;) {
    now = itest_now_ms();
    if (now >= t0 && !signalled) {
      signalled = 1;
      sent_before = nsent;
      itest_daemon_signal(d, SIGTERM);
    }
    if (now > t0 + (SD_GRACE_MS + 5000) * itest_slow()) {
      itest_daemon_dump_log(d);
      fail_msg("the endless sender was not cut %.0f ms after SIGTERM",
               now - t0);
    }
    if (itest_daemon_reap(d, 0, &status)) {
      /* Both cut at the grace: the sender went with weftd. */
      exited = 1;
      t_cut = now;
      if (now - t0 < SD_GRACE_MS - 200) {
        itest_daemon_dump_log(d);
        fail_msg("weftd exited %.0f ms after SIGTERM (status 0x%x) while the "
                 "holder's replies were not flushed, before the grace",
                 now - t0, (unsigned)status);
      }
      break;
    }
    if (now >= next) {
      snprintf(msg, sizeof(msg), "s%07" PRIu64 "\n", nsent);
      r = send(s, msg, 9, MSG_NOSIGNAL);
      if (r == 9)
        nsent++;
      else if (r >= 0)
        fail_msg("the sender's socket took part of a line");
      else if (errno != EAGAIN && errno != EWOULDBLOCK)
        t_cut = itest_now_ms();
      next = now + 5;
    }
    while (!t_eof && !t_cut) {
      r = recv(s, buf, sizeof(buf), MSG_DONTWAIT);
      if (r == 0) {
        t_eof = itest_now_ms();
        break;
      }
      if (r < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK)
          t_cut = itest_now_ms();
        break;
      }
      for (k = 0; k < (size_t)r; k++) {
        pending[plen++] = buf[k];
        if (plen < 9)
          continue;
        snprintf(msg, sizeof(msg), "s%07" PRIu64 "\n", nback);
        if (memcmp(pending, msg, 9) != 0 || nback >= nsent)
          fail_msg("the sender got \"%.8s\", expected \"%.8s\"", pending, msg);
        nback++;
        plen = 0;
      }
    }
    pfd.fd = s;
    pfd.events = t_eof ? 0 : POLLIN;
    poll(&pfd, 1, 5);
  }
  took = t_cut - t0;
  /* Counted as forced?  weftd is still up: the holder keeps it until the
   * grace, unless the sender itself lasted until then. */
  if (!exited) {
    itest_daemon_signal(d, SIGUSR1);
    if (itest_log_wait(d, "stats: listener=s worker=all", slow_ms(1000)))
      have_usr1 = itest_stats_from_log(d, "s", &usr1);
  }
  print_message("endless sender: %" PRIu64 " lines sent (%" PRIu64
                " before SIGTERM), %" PRIu64 " answered; FIN %.0f ms and cut "
                "%.0f ms after SIGTERM; shutdown_forced then %s%" PRIu64 "\n",
                nsent, sent_before, nback, t_eof ? t_eof - t0 : -1.0, took,
                have_usr1 ? "" : "(no SIGUSR1 answer) ",
                have_usr1 ? usr1.v[ITEST_ST_shutdown_forced] : 0);
  itest_daemon_expect_exit0(d, ITEST_STOP_TIMEOUT_MS, "SIGTERM");
  took = (exited ? t_cut : itest_now_ms()) - t0;
  at_grace = sd_grace_closed(d);
  print_message("weftd exited 0 %.0f ms after SIGTERM; %d connections left "
                "at the grace\n",
                took, at_grace);
  close(s);
  close(h);

  /* Every line sent well before the signal was answered. */
  if (nback + 40 < sent_before) /* 40 lines = 200 ms */
    fail_msg("the sender sent %" PRIu64 " lines before SIGTERM but got only "
             "%" PRIu64 " answers",
             sent_before, nback);
  /* The holder's output could not be flushed: cut at the grace. */
  if (took < SD_GRACE_MS - 200 || took > SD_GRACE_MS + 1500 * itest_slow())
    fail_msg("weftd exited %.0f ms after SIGTERM, expected at the grace "
             "(%.0f ms)",
             took, SD_GRACE_MS);
  if (at_grace < 1)
    fail_msg("the log does not say the grace expired with the holder open");
  itest_daemon_check_log(d);
  /* The endless sender must be cut and counted as forced: either it was
   * still open at the grace, or shutdown_forced counted it earlier.  Known
   * bug: it gets its FIN at once, then weftd waits min(2 s, grace) for its
   * FIN and closes it silently (no counter, no log line). */
  if (at_grace < 2 && !(have_usr1 && usr1.v[ITEST_ST_shutdown_forced] >= 1))
    known_bug("graceful stop: a client that never stops sending was cut %.0f "
              "ms after SIGTERM, before the grace (%.0f ms), and not counted "
              "as forced: shutdown_forced = %" PRIu64 " in the SIGUSR1 stats "
              "taken after the cut%s, no log line, and the grace closed only "
              "%d connection(s) (the holder)",
              t_cut - t0, SD_GRACE_MS,
              have_usr1 ? usr1.v[ITEST_ST_shutdown_forced] : 0,
              have_usr1 ? "" : " (none came)", at_grace);
  known_bugs_report();
}

static void test_shutdown_twice(void **state) {
  static const char conf[] =
      "# written by tests/itest_pressure (second signal)\n"
      "workers = 2;\n"
      "shutdown_grace = \"20s\";\n"
      "listeners = (\n"
      "  { name = \"s\"; bind = \"127.0.0.1:0\";\n"
      "    codec = { name = \"line\"; }; handler = { name = \"echo\"; }; "
      "},\n" STATS_LISTENER ");\n";
  itest_daemon_t *d = *state;
  int port, sport, fds, h, status;
  double took;
  itest_stats_t got;
  struct pollfd pfd;

  itest_daemon_start(d, conf);
  port = itest_daemon_port(d, "s");
  sport = itest_daemon_port(d, "stats");
  fds = itest_daemon_fds(d);
  h = sd_holder(port);
  itest_stats_get(sport, "s", &got);
  if (got.v[ITEST_ST_backpressure_pauses] == 0)
    fail_msg("the holder did not make weftd stop reading it");
  itest_daemon_wait_fds(d, fds < 0 ? -1 : fds + 1, "start-up plus the holder");

  /* The first signal waits for the holder (up to the 20 s grace)... */
  itest_daemon_signal(d, SIGTERM);
  if (itest_daemon_reap(d, 500, &status)) {
    itest_daemon_dump_log(d);
    fail_msg("weftd exited (status 0x%x) within 500 ms of SIGTERM with "
             "unflushed replies, long before its 20 s grace",
             (unsigned)status);
  }
  /* ...the second does not. */
  itest_daemon_signal(d, SIGINT);
  took = itest_daemon_expect_exit0(d, slow_ms(2000), "a second signal");
  print_message("weftd exited 0 %.0f ms after the second signal (grace 20 "
                "s)\n",
                took);
  if (itest_log_count(d, "SIGINT: forcing stop") != 1)
    fail_msg("no \"SIGINT: forcing stop\" line in the log");
  pfd.fd = h;
  pfd.events = POLLRDHUP;
  if (poll(&pfd, 1, (int)slow_ms(1000)) != 1)
    fail_msg("the holder's connection is still open after weftd exited");
  close(h);
  itest_daemon_check_log(d);
}

/* ==== 5. connect-and-close storm ========================================== */

#define ST_N 5000    /* connections, before scaling */
#define ST_MIN 200   /* never fewer */
#define ST_BATCH 100 /* open at once */
/*
 * RSS may grow by this much between the end of a warm-up tenth of the
 * storm and its end: 2 MiB, under 512 bytes a connection over the rest of
 * a full storm, so a leak of one small allocation per connection (a
 * connection struct is ~600 bytes) shows.  Valgrind and ASan keep freed
 * blocks from reuse (freelist, quarantine) and allocate redzones: their
 * bounds are per connection, still far below what leaking the descriptors
 * and buffers would cost.
 */
#define ST_GROWTH (2 * MIB)
#define ST_GROWTH_SLOW_PER_CONN (8 * KIB)

/* Four ways to go, in turn: a plain close; half a frame, then an RST (the
 * bytes may or may not be read first; a connection reset while still in
 * the accept queue reads as data then EOF, a truncated frame); an RST at
 * once; a frame, then a close without reading its reply (which meets a
 * closed socket). */
static void st_round(int port, int from, int to, uint64_t *frames,
                     uint64_t *halves) {
  int fd[ST_BATCH], i, n = 0;

  for (i = from; i < to; i++) {
    fd[n] = itest_connect(port, NULL, 0);
    if (i % 4 == 1) {
      itest_send_all(fd[n], "half a fr", 9);
      (*halves)++;
    }
    if (i % 4 == 3) {
      itest_send_all(fd[n], "x\n", 2);
      (*frames)++;
    }
    n++;
  }
  for (i = 0; i < n; i++) {
    if ((from + i) % 4 == 1 || (from + i) % 4 == 2)
      itest_close_rst(fd[i]);
    else
      close(fd[i]);
  }
}

static void test_storm(void **state) {
  static const char conf[] = "# written by tests/itest_pressure (storm)\n"
                             "workers = 2;\n"
                             "listeners = (\n"
                             "  { name = \"storm\"; bind = \"127.0.0.1:0\";\n"
                             "    codec = { name = \"line\"; }; handler = { "
                             "name = \"echo\"; }; },\n" STATS_LISTENER ");\n";
  itest_daemon_t *d = *state;
  int n = (int)(ST_N * itest_scale() + 0.5), warm, port, sport, fds, i, to;
  long rss1, rss2, bound;
  uint64_t frames = 0, halves = 0;
  double t0;
  itest_stats_t got, want;

  if (n < ST_MIN)
    n = ST_MIN;
  warm = n / 10 < ST_BATCH ? ST_BATCH : n / 10;
  itest_daemon_start(d, conf);
  port = itest_daemon_port(d, "storm");
  sport = itest_daemon_port(d, "stats");
  fds = itest_daemon_fds(d);

  t0 = itest_now_ms();
  for (i = 0; i < warm; i = to) {
    to = i + ST_BATCH < warm ? i + ST_BATCH : warm;
    st_round(port, i, to, &frames, &halves);
  }
  itest_daemon_expect_fds(d, fds);
  wait_conns_open(sport, "storm", 0);
  rss1 = itest_daemon_rss_kib(d);
  for (; i < n; i = to) {
    to = i + ST_BATCH < n ? i + ST_BATCH : n;
    st_round(port, i, to, &frames, &halves);
  }
  itest_daemon_expect_fds(d, fds);
  wait_conns_open(sport, "storm", 0);
  rss2 = itest_daemon_rss_kib(d);
  bound = itest_scale() < 1.0 || itest_asan()
              ? (long)(n - warm) * ST_GROWTH_SLOW_PER_CONN
              : ST_GROWTH;
  print_message("%d connect-and-close in %.2f s; RSS %ld KiB after the first "
                "%d, %ld KiB after all (growth bound %ld KiB)\n",
                n, (itest_now_ms() - t0) / 1000.0, rss1, warm, rss2,
                bound / KIB);
  if (rss2 - rss1 > bound / KIB)
    fail_msg("weftd's RSS grew by %ld KiB over %d connect-and-close, more "
             "than %ld KiB",
             rss2 - rss1, n - warm, bound / KIB);

  itest_stats_get(sport, "storm", &got);
  stats_zero(&want);
  want.v[ITEST_ST_conns_total] = (uint64_t)n;
  want.v[ITEST_ST_frames_in] = want.v[ITEST_ST_frames_out] = frames;
  itest_stats_expect(&got, &want,
                     ITEST_BIT(bytes_in) | ITEST_BIT(bytes_out) |
                         ITEST_BIT(decode_errors),
                     "listener storm");
  /* Every frame's bytes, and at most the half frames too; a truncated
   * frame at most for each half frame. */
  if (got.v[ITEST_ST_bytes_in] < 2 * frames ||
      got.v[ITEST_ST_bytes_in] > 2 * frames + 9 * halves ||
      got.v[ITEST_ST_decode_errors] > halves)
    fail_msg("bytes_in = %" PRIu64 ", decode_errors = %" PRIu64 ": expected "
             "%" PRIu64 " to %" PRIu64 " bytes and at most %" PRIu64 " errors",
             got.v[ITEST_ST_bytes_in], got.v[ITEST_ST_decode_errors],
             2 * frames, 2 * frames + 9 * halves, halves);
  print_message("%" PRIu64 " half frames reset: %" PRIu64 " read as truncated "
                "at EOF\n",
                halves, got.v[ITEST_ST_decode_errors]);
  itest_daemon_stop(d);
  itest_daemon_check_log(d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_backpressure, setup,
                                      itest_daemon_teardown),
      cmocka_unit_test_setup_teardown(test_timeouts, setup,
                                      itest_daemon_teardown),
      cmocka_unit_test_setup_teardown(test_limits, setup,
                                      itest_daemon_teardown),
      cmocka_unit_test_setup_teardown(test_emfile, setup,
                                      itest_daemon_teardown),
      cmocka_unit_test_setup_teardown(test_shutdown_answers, setup,
                                      itest_daemon_teardown),
      cmocka_unit_test_setup_teardown(test_shutdown_endless, setup,
                                      itest_daemon_teardown),
      cmocka_unit_test_setup_teardown(test_shutdown_twice, setup,
                                      itest_daemon_teardown),
      cmocka_unit_test_setup_teardown(test_storm, setup, itest_daemon_teardown),
  };

  /* A daemon that dies must not take the test with it. */
  signal(SIGPIPE, SIG_IGN);
  return cmocka_run_group_tests(tests, NULL, NULL);
}
