/*
 * Integration test: the proxy handler and outbound connections, against
 * the real weftd.
 *
 * test_failover: a `line` listener proxies to two weftd upstreams that
 * echo over `length`.  Clients pipeline 10,000 frames (times
 * WEFT_TEST_SCALE, at least 400) and check every reply byte for byte, in
 * order.  One upstream is frozen (SIGSTOP) a third of the way through,
 * then killed (SIGKILL), so that requests are in flight on it when it dies:
 * each must be answered by a close of its client
 * connection, never lost silently or answered twice; the client resends
 * them on a new connection, and the run completes on the other upstream.
 *
 * test_backpressure: the upstream is a socket of this test that accepts and
 * never reads.  A client writes as fast as it can; the proxy must stop
 * reading it once the upstream's queue is full, so the client's writes
 * block and the daemon's memory stays bounded.
 *
 * test_error_reply: with error_reply set, requests in flight on an upstream
 * that resets are each answered by that frame, and the client connection
 * carries on with a new upstream connection.
 *
 * test_unavailable: with every upstream refusing, a client is closed with
 * the reason in the log, and the upstream counters show the failures.
 *
 * test_connect_timeout: an upstream that never completes the handshake:
 * connect_timeout, one retry after a backoff, then the client is closed.
 *
 * test_graceful_stop: SIGTERM while requests wait on the upstream loses
 * none of them.
 *
 * test_reload: a reload that rebuilds the proxy listener keeps the old
 * instance, its upstream connections and client, until its last client
 * leaves.
 *
 * test_unix_upstream: an upstream on a Unix-domain socket.
 *
 * test_retry_then_connect: refused attempts, then a retry that connects.
 *
 * test_upstream_by_name: "localhost:PORT", resolved (c-ares, /etc/hosts).
 *
 * test_unresolvable: a name that cannot resolve closes the client, says
 * why, and is counted.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <cmocka.h>

#include "itest_util.h"

#define NCLIENTS 8
#define PIPELINE 16
#define MAX_LINE 200
#define RUN_TIMEOUT_MS 120000

typedef struct {
  itest_daemon_t *up[2];
  itest_daemon_t *proxy;
} proxy_env_t;

static int env_setup(void **state) {
  proxy_env_t *env = calloc(1, sizeof(*env));
  void *d;
  int i;

  assert_non_null(env);
  for (i = 0; i < 3; i++) {
    itest_daemon_setup(&d);
    if (i < 2)
      env->up[i] = d;
    else
      env->proxy = d;
  }
  *state = env;
  return 0;
}

static int env_teardown(void **state) {
  proxy_env_t *env = *state;
  void *d;

  d = env->proxy;
  itest_daemon_teardown(&d);
  d = env->up[0];
  itest_daemon_teardown(&d);
  d = env->up[1];
  itest_daemon_teardown(&d);
  free(env);
  return 0;
}

static const char up_conf[] =
    "listeners = (\n"
    "  { name = \"up\"; bind = \"127.0.0.1:0\";\n"
    "    codec = { name = \"length\"; }; handler = { name = \"echo\"; }; },\n"
    "  { name = \"stats\"; bind = \"127.0.0.1:0\";\n"
    "    codec = { name = \"line\"; }; handler = { name = \"stats\"; }; }\n"
    ");\n";

/* Starts the proxy with front -> upstreams (a "host:port, ..." list). */
static void proxy_start(itest_daemon_t *d, const char *upstreams,
                        const char *retry_after, const char *extra) {
  char conf[2048];

  snprintf(
      conf, sizeof(conf),
      "listeners = (\n"
      "  { name = \"front\"; bind = \"127.0.0.1:0\";\n"
      "    codec = { name = \"line\"; max_length = 1024; };\n"
      "    handler = { name = \"proxy\"; upstreams = \"%s\";\n"
      "      upstream_codec = \"length\";\n"
      "      upstream_codec_options = \"max_frame = 4096;\";\n"
      "      retry_after = \"%s\"; %s }; },\n"
      "  { name = \"stats\"; bind = \"127.0.0.1:0\";\n"
      "    codec = { name = \"line\"; }; handler = { name = \"stats\"; }; }\n"
      ");\n",
      upstreams, retry_after, extra ? extra : "");
  itest_daemon_start(d, conf);
}

/* ---- a pipelining line client ------------------------------------------ */

typedef struct {
  int fd;
  uint32_t *inflight; /* frame numbers sent, oldest first */
  size_t nin, head;
  char rbuf[4096];
  size_t rlen;
  char wbuf[PIPELINE * (MAX_LINE + 1)];
  size_t wlen;
  int closes; /* times the proxy closed this client */
} client_t;

typedef struct {
  uint32_t total;  /* frames to complete */
  uint32_t next;   /* next new frame number */
  uint32_t *retry; /* frames whose connection closed under them */
  size_t nretry;
  uint32_t done;            /* answered, verified */
  uint32_t closed_requests; /* in flight when their connection closed */
  int port;
  uint64_t seed;
} run_t;

/* The line for frame n: printable, 0..MAX_LINE-1 bytes, from the seed. */
static size_t frame_text(const run_t *r, uint32_t n, char *out) {
  uint64_t x = itest_splitmix64(r->seed ^ n);
  size_t len = (size_t)(x % 64 == 0 ? 0 : 8 + x % (MAX_LINE - 8)), i;

  if (len >= 8)
    snprintf(out, 9, "%08x", n);
  for (i = len >= 8 ? 8 : 0; i < len; i++) {
    x = itest_splitmix64(x);
    out[i] = (char)('a' + x % 26);
  }
  return len;
}

static void client_open(client_t *c, const run_t *r) {
  c->fd = itest_connect(r->port, NULL, 0);
  itest_set_nonblock(c->fd);
  c->nin = c->head = c->rlen = c->wlen = 0;
}

/* The connection went: its requests in flight are to be sent again. */
static void client_lost(client_t *c, run_t *r) {
  size_t i;

  for (i = c->head; i < c->nin; i++)
    r->retry[r->nretry++] = c->inflight[i];
  r->closed_requests += (uint32_t)(c->nin - c->head);
  close(c->fd);
  c->closes++;
  client_open(c, r);
}

/* Queues new frames while the pipeline has room; sends what it can. */
static void client_fill(client_t *c, run_t *r) {
  char text[MAX_LINE];
  uint32_t n;
  size_t len;
  ssize_t k;

  if (c->head > 0) { /* keep the frames in flight at the front */
    memmove(c->inflight, c->inflight + c->head,
            (c->nin - c->head) * sizeof(*c->inflight));
    c->nin -= c->head;
    c->head = 0;
  }
  while (c->nin - c->head < PIPELINE && c->wlen == 0 &&
         (r->nretry > 0 || r->next < r->total)) {
    n = r->nretry > 0 ? r->retry[--r->nretry] : r->next++;
    len = frame_text(r, n, text);
    memcpy(c->wbuf + c->wlen, text, len);
    c->wbuf[c->wlen + len] = '\n';
    c->wlen += len + 1;
    c->inflight[c->nin++] = n;
  }
  while (c->wlen > 0) {
    k = send(c->fd, c->wbuf, c->wlen, MSG_NOSIGNAL);
    if (k <= 0)
      break;
    memmove(c->wbuf, c->wbuf + k, c->wlen - (size_t)k);
    c->wlen -= (size_t)k;
  }
}

/* Checks each whole reply line against the oldest frame in flight. */
static void client_replies(client_t *c, run_t *r) {
  char want[MAX_LINE], *nl;
  size_t len, wl;

  while ((nl = memchr(c->rbuf, '\n', c->rlen)) != NULL) {
    len = (size_t)(nl - c->rbuf);
    if (c->head == c->nin)
      fail_msg("a reply nobody asked for: \"%.*s\"", (int)len, c->rbuf);
    wl = frame_text(r, c->inflight[c->head], want);
    if (len != wl || memcmp(want, c->rbuf, len) != 0)
      fail_msg("frame %u: reply \"%.*s\", expected \"%.*s\" (a reply lost, "
               "reordered or duplicated)",
               c->inflight[c->head], (int)len, c->rbuf, (int)wl, want);
    c->head++;
    r->done++;
    memmove(c->rbuf, nl + 1, c->rlen - len - 1);
    c->rlen -= len + 1;
  }
}

/* Drives the clients until r->done reaches `until`; once r->done reaches
 * kill_at, stops `victim` (SIGSTOP) and kills it (SIGKILL) 300 ms later. */
static void run_clients(client_t *cl, run_t *r, uint32_t until,
                        itest_daemon_t *victim, uint32_t kill_at) {
  struct pollfd pfd[NCLIENTS];
  double end = itest_now_ms() + RUN_TIMEOUT_MS * itest_slow(), stopped = 0;
  ssize_t k;
  int i;

  while (r->done < until) {
    if (itest_now_ms() > end)
      fail_msg("%u of %u frames answered in %.0f s", r->done, until,
               RUN_TIMEOUT_MS * itest_slow() / 1000);
    /* Frozen first, so that requests are surely in flight on it when it
     * dies: its clients' pipelines fill and wait. */
    if (victim != NULL && stopped == 0 && r->done >= kill_at) {
      itest_daemon_signal(victim, SIGSTOP);
      stopped = itest_now_ms();
    } else if (victim != NULL && stopped > 0 &&
               itest_now_ms() - stopped > 300 * itest_slow()) {
      itest_daemon_signal(victim, SIGKILL);
      victim = NULL;
    }
    for (i = 0; i < NCLIENTS; i++) {
      client_fill(&cl[i], r);
      pfd[i].fd = cl[i].fd;
      pfd[i].events = POLLIN | (cl[i].wlen > 0 ? POLLOUT : 0);
    }
    if (poll(pfd, NCLIENTS, 200) < 0 && errno != EINTR)
      fail_msg("poll: %s", strerror(errno));
    for (i = 0; i < NCLIENTS; i++) {
      if (!(pfd[i].revents & (POLLIN | POLLERR | POLLHUP)))
        continue;
      k = recv(cl[i].fd, cl[i].rbuf + cl[i].rlen,
               sizeof(cl[i].rbuf) - cl[i].rlen, 0);
      if (k > 0) {
        cl[i].rlen += (size_t)k;
        client_replies(&cl[i], r);
      } else if (k == 0 || (errno != EAGAIN && errno != EINTR)) {
        client_lost(&cl[i], r);
      }
    }
  }
}

static uint64_t stat_of(int stats_port, const char *listener, int which) {
  itest_stats_t st;

  itest_stats_get(stats_port, listener, &st);
  return st.v[which];
}

static void test_failover(void **state) {
  proxy_env_t *env = *state;
  client_t cl[NCLIENTS];
  char ups[128];
  int port[2], i, closes = 0;
  uint64_t b_before, b_after;
  run_t r;

  memset(&r, 0, sizeof(r));
  r.total = (uint32_t)(10000 * itest_scale());
  if (r.total < 400)
    r.total = 400;
  r.seed = (uint64_t)itest_now_ms();
  r.retry = calloc(NCLIENTS * PIPELINE + 1, sizeof(uint32_t));
  assert_non_null(r.retry);
  for (i = 0; i < 2; i++) {
    itest_daemon_start(env->up[i], up_conf);
    port[i] = itest_daemon_port(env->up[i], "up");
  }
  snprintf(ups, sizeof(ups), "127.0.0.1:%d, 127.0.0.1:%d", port[0], port[1]);
  proxy_start(env->proxy, ups, "30s", NULL);
  r.port = itest_daemon_port(env->proxy, "front");
  print_message("seed %llu, %u frames through proxy port %d to %d and %d\n",
                (unsigned long long)r.seed, r.total, r.port, port[0], port[1]);

  for (i = 0; i < NCLIENTS; i++) {
    cl[i].inflight = calloc(PIPELINE, sizeof(uint32_t));
    assert_non_null(cl[i].inflight);
    cl[i].closes = 0;
    client_open(&cl[i], &r);
  }
  /* Both upstreams serve; a third of the way, one dies mid-stream. */
  run_clients(cl, &r, r.total / 6, NULL, 0);
  assert_true(stat_of(itest_daemon_port(env->up[0], "stats"), "up",
                      ITEST_ST_frames_in) > 0);
  b_before =
      stat_of(itest_daemon_port(env->up[1], "stats"), "up", ITEST_ST_frames_in);
  assert_true(b_before > 0);
  run_clients(cl, &r, r.total, env->up[0], r.total / 3);
  b_after =
      stat_of(itest_daemon_port(env->up[1], "stats"), "up", ITEST_ST_frames_in);

  for (i = 0; i < NCLIENTS; i++) {
    closes += cl[i].closes;
    assert_int_equal(cl[i].head, cl[i].nin); /* nothing left in flight */
    close(cl[i].fd);
    free(cl[i].inflight);
  }
  print_message("%u frames answered; %d client connections closed by the "
                "proxy with %u requests in flight (resent); upstream B took "
                "%llu frames after the kill\n",
                r.done, closes, r.closed_requests,
                (unsigned long long)(b_after - b_before));
  assert_int_equal(r.done, r.total);
  assert_int_equal(r.next, r.total);
  assert_int_equal(r.nretry, 0);
  /* Requests were in flight on the upstream that died: each was answered
   * by a close of its client connection (and resent), none was lost. */
  assert_true(closes >= 1);
  assert_true(r.closed_requests >= 1);
  /* The rest of the run went to the upstream that lived. */
  assert_true(b_after - b_before >= (r.total - r.total / 3) / 2);
  /* The proxy said which upstream failed. */
  {
    char needle[96];
    snprintf(needle, sizeof(needle), "upstream 127.0.0.1:%d failed", port[0]);
    if (itest_log_count(env->proxy, needle) < 1) {
      itest_daemon_dump_log(env->proxy);
      fail_msg("the proxy did not log \"%s\"", needle);
    }
  }
  itest_daemon_stop(env->proxy);
  itest_daemon_check_log(env->proxy);
  itest_daemon_stop(env->up[1]);
  free(r.retry);
}

/* ---- a stalled upstream ------------------------------------------------- */

static int listen_local(int *port) {
  struct sockaddr_in sa;
  socklen_t len = sizeof(sa);
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

  assert_true(fd >= 0);
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  memset(&sa, 0, sizeof(sa));
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
  assert_int_equal(listen(fd, 16), 0);
  assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
  *port = ntohs(sa.sin_port);
  return fd;
}

static int accept_wait(int lfd, long timeout_ms) {
  struct pollfd p = {.fd = lfd, .events = POLLIN};

  if (poll(&p, 1, (int)timeout_ms) != 1)
    fail_msg("the proxy did not connect to the upstream");
  return accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
}

static void test_backpressure(void **state) {
  proxy_env_t *env = *state;
  size_t total = (size_t)(256.0 * 1024 * 1024 * itest_scale()), sent = 0;
  long rss0, rss;
  char up[64], line[1024];
  int lfd, ufd, fd, uport, stalls = 0;
  double idle_since = 0;
  ssize_t k;

  if (total < 32 * 1024 * 1024)
    total = 32 * 1024 * 1024;
  lfd = listen_local(&uport);
  snprintf(up, sizeof(up), "127.0.0.1:%d", uport);
  proxy_start(env->proxy, up, "30s", NULL);
  fd = itest_connect(itest_daemon_port(env->proxy, "front"), NULL, 0);
  ufd = accept_wait(lfd, (long)(10000 * itest_slow()));
  assert_true(ufd >= 0);
  rss0 = itest_daemon_rss_kib(env->proxy);
  itest_set_nonblock(fd);
  memset(line, 'x', sizeof(line) - 1);
  line[sizeof(line) - 1] = '\n';
  /* Writes until they have blocked for a second on end. */
  while (sent < total) {
    k = send(fd, line, sizeof(line), MSG_NOSIGNAL);
    if (k > 0) {
      sent += (size_t)k;
      idle_since = 0;
      continue;
    }
    if (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
      fail_msg("send: %s", strerror(errno));
    if (idle_since == 0)
      idle_since = itest_now_ms();
    else if (itest_now_ms() - idle_since > 1000 * itest_slow())
      break;
    stalls++;
    itest_sleep_ms(5);
  }
  rss = itest_daemon_rss_kib(env->proxy);
  print_message("client wrote %zu of %zu bytes before blocking; proxy RSS "
                "%ld -> %ld KiB\n",
                sent, total, rss0, rss);
  if (sent >= total)
    fail_msg("the proxy read all %zu bytes toward an upstream that reads "
             "nothing: no backpressure",
             total);
  /* Bounded by the watermarks and socket buffers, not by what was sent. */
  if (rss - rss0 > 16 * 1024)
    fail_msg("proxy RSS grew by %ld KiB while the upstream was stalled",
             rss - rss0);
  close(fd);
  close(ufd);
  close(lfd);
  itest_daemon_stop(env->proxy);
  itest_daemon_check_log(env->proxy);
}

static void test_error_reply(void **state) {
  proxy_env_t *env = *state;
  char up[64], buf[256];
  int lfd, ufd, fd, uport;
  size_t got = 0;
  ssize_t k;
  double end;
  static const char want[] = "ERR upstream\nERR upstream\nERR upstream\n";

  lfd = listen_local(&uport);
  snprintf(up, sizeof(up), "127.0.0.1:%d", uport);
  proxy_start(env->proxy, up, "0s", "error_reply = \"ERR upstream\";");
  fd = itest_connect(itest_daemon_port(env->proxy, "front"), NULL, 0);
  ufd = accept_wait(lfd, (long)(10000 * itest_slow()));
  itest_send_all(fd, "one\ntwo\nthree\n", 14);
  /* The three requests reach the upstream (length framed), unanswered. */
  itest_recv_exact(ufd, buf, 3 * 4 + 3 + 3 + 5, (long)(10000 * itest_slow()),
                   "the requests at the upstream");
  assert_memory_equal(buf, "\0\0\0\3one", 7);
  itest_close_rst(ufd);
  end = itest_now_ms() + 10000 * itest_slow();
  while (got < sizeof(want) - 1 && itest_now_ms() < end) {
    k = itest_recv_wait(fd, buf + got, sizeof(buf) - got, 1000);
    if (k <= 0)
      fail_msg("expected three error replies, got %zu bytes then %zd", got, k);
    got += (size_t)k;
  }
  assert_int_equal(got, sizeof(want) - 1);
  assert_memory_equal(buf, want, got);
  /* The client carries on over a new upstream connection. */
  ufd = accept_wait(lfd, (long)(10000 * itest_slow()));
  itest_send_all(fd, "four\n", 5);
  itest_recv_exact(ufd, buf, 8, (long)(10000 * itest_slow()),
                   "the next request at the new upstream connection");
  assert_memory_equal(buf, "\0\0\0\4four", 8);
  itest_send_all(ufd, "\0\0\0\4FOUR", 8);
  itest_recv_exact(fd, buf, 5, (long)(10000 * itest_slow()), "its reply");
  assert_memory_equal(buf, "FOUR\n", 5);
  close(ufd);
  close(fd);
  close(lfd);
  itest_daemon_stop(env->proxy);
  itest_daemon_check_log(env->proxy);
}

static void test_unavailable(void **state) {
  proxy_env_t *env = *state;
  itest_stats_t st;
  char up[96];
  int lfd, p1, p2, fd, sp;

  /* Two ports nothing listens on (bound, then closed). */
  lfd = listen_local(&p1);
  close(lfd);
  lfd = listen_local(&p2);
  close(lfd);
  snprintf(up, sizeof(up), "127.0.0.1:%d 127.0.0.1:%d", p1, p2);
  proxy_start(env->proxy, up, "30s", NULL);
  fd = itest_connect(itest_daemon_port(env->proxy, "front"), NULL, 0);
  itest_expect_eof(fd, (long)(10000 * itest_slow()),
                   "a client with no upstream available");
  close(fd);
  if (!itest_log_wait(env->proxy, "Connection refused",
                      (long)(5000 * itest_slow()))) {
    itest_daemon_dump_log(env->proxy);
    fail_msg("the proxy did not log why the upstreams failed");
  }
  sp = itest_daemon_port(env->proxy, "stats");
  itest_stats_get(sp, "front/upstream", &st);
  assert_int_equal(st.v[ITEST_ST_conns_total], 2); /* each tried once */
  itest_stats_get(sp, "front", &st);
  assert_int_equal(st.v[ITEST_ST_conns_total], 1);
  itest_daemon_stop(env->proxy);
  itest_daemon_check_log(env->proxy);
}

/*
 * An upstream whose accept queue is full drops our SYN: each attempt runs
 * into connect_timeout, is retried once after the backoff, then the client
 * is closed, with the failure counted.
 */
static void test_connect_timeout(void **state) {
  proxy_env_t *env = *state;
  itest_stats_t st;
  char up[64];
  int lfd, filler, fd, uport, sp;
  double t0, took;

  lfd = listen_local(&uport);
  assert_int_equal(listen(lfd, 0), 0);
  /* Fills the queue (backlog 0 holds one connection); never accepted. */
  filler = itest_connect(uport, NULL, 0);
  snprintf(up, sizeof(up), "127.0.0.1:%d", uport);
  proxy_start(env->proxy, up, "30s",
              "connect_timeout = \"300ms\"; retries = 1;");
  t0 = itest_now_ms();
  fd = itest_connect(itest_daemon_port(env->proxy, "front"), NULL, 0);
  itest_expect_eof(fd, (long)(10000 * itest_slow()),
                   "a client whose upstream never answers the handshake");
  took = itest_now_ms() - t0;
  print_message("closed after %.0f ms (two attempts of 300 ms and a 100 ms "
                "backoff)\n",
                took);
  assert_true(took >= 600);
  close(fd);
  if (!itest_log_wait(env->proxy, "attempt 2 of 2",
                      (long)(5000 * itest_slow())) ||
      itest_log_count(env->proxy, "failed: Connection timed out") < 1) {
    itest_daemon_dump_log(env->proxy);
    fail_msg("the proxy did not log the retry and the timeout");
  }
  sp = itest_daemon_port(env->proxy, "stats");
  /* The upstream connection's handle is released at the end of the loop
   * iteration that sent the client its FIN: the count may lag a moment. */
  t0 = itest_now_ms();
  do {
    itest_stats_get(sp, "front/upstream", &st);
    if (st.v[ITEST_ST_conns_open] == 0)
      break;
    itest_sleep_ms(20);
  } while (itest_now_ms() - t0 < 5000 * itest_slow());
  assert_int_equal(st.v[ITEST_ST_conns_open], 0);
  assert_int_equal(st.v[ITEST_ST_conns_total], 1);
  assert_int_equal(st.v[ITEST_ST_connect_failures], 1);
  close(filler);
  close(lfd);
  itest_daemon_stop(env->proxy);
  itest_daemon_check_log(env->proxy);
}

/*
 * SIGTERM while requests wait on the upstream: the proxy keeps the client
 * and its upstream connection until the replies have come and been
 * relayed, then closes the client with a FIN and exits 0.
 */
static void test_graceful_stop(void **state) {
  proxy_env_t *env = *state;
  long io = (long)(10000 * itest_slow());
  char up[64], buf[64];
  int lfd, ufd, fd, uport;

  lfd = listen_local(&uport);
  snprintf(up, sizeof(up), "127.0.0.1:%d", uport);
  proxy_start(env->proxy, up, "30s", NULL);
  fd = itest_connect(itest_daemon_port(env->proxy, "front"), NULL, 0);
  ufd = accept_wait(lfd, io);
  itest_send_all(fd, "a\nbb\nccc\n", 9);
  itest_recv_exact(ufd, buf, 4 + 1 + 4 + 2 + 4 + 3, io,
                   "three requests at the upstream");
  itest_daemon_signal(env->proxy, SIGTERM);
  if (!itest_log_wait(env->proxy, "stopping gracefully", io))
    fail_msg("the proxy did not begin to stop");
  itest_sleep_ms(200); /* it must wait for the replies, not close */
  itest_send_all(ufd, "\0\0\0\1A\0\0\0\2BB\0\0\0\3CCC", 18);
  itest_recv_exact(fd, buf, 9, io, "the three replies after SIGTERM");
  assert_memory_equal(buf, "A\nBB\nCCC\n", 9);
  itest_expect_eof(fd, io, "the client after its last reply");
  itest_expect_eof(ufd, io, "the upstream connection after the client");
  itest_daemon_expect_exit0(env->proxy, ITEST_STOP_TIMEOUT_MS, "SIGTERM");
  itest_daemon_check_log(env->proxy);
  close(fd);
  close(ufd);
  close(lfd);
}

/*
 * A reload that changes the proxy's options: the old instance keeps its
 * client and upstream connections until the client leaves, then is
 * destroyed with its client (counters read meanwhile), while new clients
 * get the new instance.
 */
static void test_reload(void **state) {
  proxy_env_t *env = *state;
  long io = (long)(10000 * itest_slow());
  char ups[64], conf[2048], buf[16];
  int old, fresh, port;

  itest_daemon_start(env->up[0], up_conf);
  snprintf(ups, sizeof(ups), "127.0.0.1:%d",
           itest_daemon_port(env->up[0], "up"));
  proxy_start(env->proxy, ups, "30s", NULL);
  port = itest_daemon_port(env->proxy, "front");
  old = itest_connect(port, NULL, 0);
  itest_send_all(old, "one\n", 4);
  itest_recv_exact(old, buf, 4, io, "a reply before the reload");
  assert_memory_equal(buf, "one\n", 4);

  /* Same addresses (port 0 keeps the port it got), other proxy options:
   * "front" is rebuilt, "stats" kept. */
  snprintf(conf, sizeof(conf),
           "listeners = (\n"
           "  { name = \"front\"; bind = \"127.0.0.1:0\";\n"
           "    codec = { name = \"line\"; max_length = 1024; };\n"
           "    handler = { name = \"proxy\"; upstreams = \"%s\";\n"
           "      max_pending = 7; }; },\n"
           "  { name = \"stats\"; bind = \"127.0.0.1:0\";\n"
           "    codec = { name = \"line\"; }; handler = { name = \"stats\"; }; }\n"
           ");\n",
           ups);
  {
    FILE *f = fopen(env->proxy->conf, "w");
    assert_non_null(f);
    fputs(conf, f);
    fclose(f);
  }
  itest_daemon_signal(env->proxy, SIGHUP);
  if (!itest_log_wait(env->proxy, "reload: ", io) ||
      itest_log_count(env->proxy, "1 listener kept, 1 new or changed") != 1) {
    itest_daemon_dump_log(env->proxy);
    fail_msg("the reload did not keep \"stats\" and rebuild \"front\"");
  }
  /* The old connection still runs on the retired instance... */
  itest_send_all(old, "two\n", 4);
  itest_recv_exact(old, buf, 4, io, "a reply on the old instance");
  assert_memory_equal(buf, "two\n", 4);
  /* ...a new one on the new instance... */
  fresh = itest_connect(port, NULL, 0);
  itest_send_all(fresh, "three\n", 6);
  itest_recv_exact(fresh, buf, 6, io, "a reply on the new instance");
  assert_memory_equal(buf, "three\n", 6);
  /* ...and when the old client leaves, the retired instance goes, its
   * upstream client with it, while counters are being read. */
  close(old);
  itest_daemon_signal(env->proxy, SIGUSR1);
  if (!itest_log_wait(env->proxy, "(retired) released", io)) {
    itest_daemon_dump_log(env->proxy);
    fail_msg("the retired proxy listener was not released");
  }
  itest_daemon_signal(env->proxy, SIGUSR1);
  itest_send_all(fresh, "four\n", 5);
  itest_recv_exact(fresh, buf, 5, io, "a reply after the release");
  assert_memory_equal(buf, "four\n", 5);
  close(fresh);
  itest_daemon_stop(env->proxy);
  itest_daemon_check_log(env->proxy);
  itest_daemon_stop(env->up[0]);
}

/*
 * An upstream that comes up late: the first attempts are refused, a retry
 * after the backoff connects, and the client's request (held meanwhile)
 * goes through.
 */
static void test_retry_then_connect(void **state) {
  proxy_env_t *env = *state;
  long io = (long)(10000 * itest_slow());
  struct sockaddr_in sa;
  char up[64], buf[16];
  int lfd, ufd, fd, uport, one = 1;

  lfd = listen_local(&uport);
  close(lfd); /* refused until the test listens again */
  snprintf(up, sizeof(up), "127.0.0.1:%d", uport);
  proxy_start(env->proxy, up, "30s", "retries = 6;");
  fd = itest_connect(itest_daemon_port(env->proxy, "front"), NULL, 0);
  itest_send_all(fd, "hi\n", 3);
  if (!itest_log_wait(env->proxy, "attempt 2 of 7", io)) {
    itest_daemon_dump_log(env->proxy);
    fail_msg("no retry logged");
  }
  lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  assert_true(lfd >= 0);
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  memset(&sa, 0, sizeof(sa));
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sa.sin_port = htons((uint16_t)uport);
  assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
  assert_int_equal(listen(lfd, 4), 0);
  ufd = accept_wait(lfd, io);
  itest_recv_exact(ufd, buf, 6, io, "the held request, once connected");
  assert_memory_equal(buf, "\0\0\0\2hi", 6);
  itest_send_all(ufd, "\0\0\0\2HI", 6);
  itest_recv_exact(fd, buf, 3, io, "its reply");
  assert_memory_equal(buf, "HI\n", 3);
  assert_int_equal(itest_log_count(env->proxy, "upstream 127.0.0.1"), 0);
  close(fd);
  close(ufd);
  close(lfd);
  itest_daemon_stop(env->proxy);
  itest_daemon_check_log(env->proxy);
}

/* An upstream on a Unix-domain socket ("unix:/path"). */
static void test_unix_upstream(void **state) {
  proxy_env_t *env = *state;
  long io = (long)(10000 * itest_slow());
  const char *tmp = getenv("TMPDIR");
  char dir[256], conf[1024], ups[512], buf[32];
  int fd;

  snprintf(dir, sizeof(dir), "%s/weft-proxy-XXXXXX",
           tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
  assert_non_null(mkdtemp(dir));
  snprintf(conf, sizeof(conf),
           "listeners = (\n"
           "  { name = \"up\"; bind = \"unix:%s/up.sock\";\n"
           "    codec = { name = \"length\"; }; handler = { name = \"echo\"; }; }\n"
           ");\n",
           dir);
  itest_daemon_start(env->up[0], conf);
  snprintf(ups, sizeof(ups), "unix:%s/up.sock", dir);
  proxy_start(env->proxy, ups, "30s", NULL);
  fd = itest_connect(itest_daemon_port(env->proxy, "front"), NULL, 0);
  itest_send_all(fd, "over unix\nagain\n", 16);
  itest_recv_exact(fd, buf, 16, io, "replies through a Unix-domain upstream");
  assert_memory_equal(buf, "over unix\nagain\n", 16);
  close(fd);
  itest_daemon_stop(env->proxy);
  itest_daemon_check_log(env->proxy);
  itest_daemon_stop(env->up[0]);
  rmdir(dir); /* weftd removed the socket file it made */
}

static void test_upstream_by_name(void **state) {
  proxy_env_t *env = *state;
  long io = (long)(10000 * itest_slow());
  itest_stats_t st;
  char ups[64], buf[32];
  int fd;

  itest_daemon_start(env->up[0], up_conf);
  snprintf(ups, sizeof(ups), "localhost:%d",
           itest_daemon_port(env->up[0], "up"));
  proxy_start(env->proxy, ups, "30s", NULL);
  fd = itest_connect(itest_daemon_port(env->proxy, "front"), NULL, 0);
  itest_send_all(fd, "by name\nagain\n", 14);
  itest_recv_exact(fd, buf, 14, io, "replies through an upstream by name");
  assert_memory_equal(buf, "by name\nagain\n", 14);
  close(fd);
  itest_stats_get(itest_daemon_port(env->proxy, "stats"), "front/upstream",
                  &st);
  assert_int_equal(st.v[ITEST_ST_conns_total], 1);
  assert_int_equal(st.v[ITEST_ST_connect_failures], 0);
  itest_daemon_stop(env->proxy);
  itest_daemon_check_log(env->proxy);
  itest_daemon_stop(env->up[0]);
}

static void test_unresolvable(void **state) {
  proxy_env_t *env = *state;
  itest_stats_t st;
  int fd;

  /* .invalid never resolves (RFC 2606).  Without a name server to ask,
   * the lookup fails at once or runs into connect_timeout. */
  proxy_start(env->proxy, "no-such-host.invalid:7", "30s",
              "connect_timeout = \"2s\"; retries = 0;");
  fd = itest_connect(itest_daemon_port(env->proxy, "front"), NULL, 0);
  itest_send_all(fd, "lost\n", 5);
  itest_expect_eof(fd, (long)(10000 * itest_slow()),
                   "a client whose upstream name does not resolve");
  close(fd);
  if (!itest_log_wait(env->proxy, "no-such-host.invalid:7 failed",
                      (long)(5000 * itest_slow())) ||
      (itest_log_count(env->proxy, "cannot resolve \"no-such-host.invalid\"") ==
           0 &&
       itest_log_count(env->proxy, "timed out") == 0)) {
    itest_daemon_dump_log(env->proxy);
    fail_msg("the proxy did not log why the upstream name failed");
  }
  itest_stats_get(itest_daemon_port(env->proxy, "stats"), "front/upstream",
                  &st);
  assert_int_equal(st.v[ITEST_ST_connect_failures], 1);
  itest_daemon_stop(env->proxy);
  itest_daemon_check_log(env->proxy);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_failover, env_setup, env_teardown),
      cmocka_unit_test_setup_teardown(test_backpressure, env_setup,
                                      env_teardown),
      cmocka_unit_test_setup_teardown(test_error_reply, env_setup,
                                      env_teardown),
      cmocka_unit_test_setup_teardown(test_unavailable, env_setup,
                                      env_teardown),
      cmocka_unit_test_setup_teardown(test_connect_timeout, env_setup,
                                      env_teardown),
      cmocka_unit_test_setup_teardown(test_graceful_stop, env_setup,
                                      env_teardown),
      cmocka_unit_test_setup_teardown(test_reload, env_setup, env_teardown),
      cmocka_unit_test_setup_teardown(test_unix_upstream, env_setup,
                                      env_teardown),
      cmocka_unit_test_setup_teardown(test_retry_then_connect, env_setup,
                                      env_teardown),
      cmocka_unit_test_setup_teardown(test_upstream_by_name, env_setup,
                                      env_teardown),
      cmocka_unit_test_setup_teardown(test_unresolvable, env_setup,
                                      env_teardown),
  };

  signal(SIGPIPE, SIG_IGN);
  return cmocka_run_group_tests(tests, NULL, NULL);
}
