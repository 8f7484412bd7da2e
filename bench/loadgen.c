/*
 * loadgen: the load generator of weft's benchmark (bench/README.md).
 *
 * One thread, epoll, non-blocking sockets with TCP_NODELAY.  It opens N
 * connections to an echo server and keeps D frames of S payload bytes in
 * flight on each (pipeline depth D): every reply that comes back is checked
 * byte for byte against the frame sent, and a new frame goes out for it, the
 * new frames of one read in one send().  Any mismatch, short frame or early
 * close is fatal (exit 1): a benchmark of a server that echoes wrong bytes
 * measures nothing.
 *
 * Framing (-m): "line" sends S bytes and a '\n' (the payload never holds a
 * '\r' or '\n'); "length" sends a 4-byte big-endian length, then S bytes.
 * Frame q of connection c is a window of a fixed alphanumeric pattern
 * starting at (31q + 7c) mod 61, its first 16 bytes (fewer if S < 16)
 * replaced by q in hexadecimal, so a reordered, duplicated or lost frame
 * cannot pass.
 *
 * Timed mode (default): a warm-up of W seconds, then T measured seconds,
 * then no new frames and the outstanding replies are awaited.  Counted mode
 * (-n F): exactly F frames in all (split over the connections), measured
 * from the first send until the last reply; the callgrind runs use it.
 *
 * Latency is per frame, from just before the send() that carried it to the
 * read() that completed its reply, in a log-linear histogram (0.4%
 * resolution).  With --pid, the server's CPU time (utime + stime from
 * /proc/PID/stat, all threads) over the measured interval is divided by the
 * frames echoed in it.  With --cpu N, so is the busy time of CPU N (the
 * server's, when it is pinned), softirq included: core_ns.
 *
 * The last line of output is machine-readable:
 *   RESULT frames=F secs=T fps=... mbps=... p50_us=... p99_us=... \
 *          p999_us=... srv_cpu_ns=... srv_util=... cli_util=... core_ns=...
 * MB/s counts the echoed wire bytes in one direction (10^6 bytes/s).
 *
 * --wait only connects (retrying for up to T seconds) and exits 0 once a
 * connection succeeds: how bench/run.sh knows a server is up.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PATLEN 61
#define HDR 4
#define SEQ_DIGITS 16
#define HIST_SUB 256 /* sub-buckets per power of two: 1/256 resolution */
#define HIST_N (64 * HIST_SUB)

enum { M_LINE, M_LENGTH };

typedef struct conn {
  int fd;
  int id;
  uint64_t sent;  /* frames sent (next sequence number to send) */
  uint64_t recvd; /* frames received and verified */
  uint64_t quota; /* counted mode: frames to send in all */
  uint64_t *ts;   /* send time of the frames in flight, ring of depth */
  uint8_t *wbuf;  /* bytes not yet taken by the kernel */
  size_t wlen, woff, wcap;
  uint8_t *rbuf;
  size_t rlen, rcap;
  size_t scanned; /* line: bytes of rbuf known to hold no '\n' */
  int want_out;   /* EPOLLOUT armed */
} conn_t;

static struct {
  const char *host;
  int port;
  int conns;
  int depth;
  size_t size;
  double secs;
  double warmup;
  uint64_t frames; /* counted mode when > 0 */
  int mode;
  int pid;
  int cpu; /* -1: none */
  int quiet;
  int wait_only;
} opt = {"127.0.0.1", 0, 10, 16, 64, 5.0, 1.0, 0, M_LINE, 0, -1, 0, 0};

static uint8_t *pattern; /* PATLEN + size bytes of the repeating pattern */
static size_t wire;      /* bytes of one frame on the wire */
static uint64_t hist[HIST_N];
static int measuring;
static uint64_t m_frames; /* frames received while measuring */

static uint64_t now_ns(void) {
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

__attribute__((format(printf, 1, 2), noreturn)) static void
die(const char *fmt, ...) {
  va_list ap;

  va_start(ap, fmt);
  fprintf(stderr, "loadgen: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  exit(1);
}

static void fail_conn(const conn_t *c, const char *what) {
  fprintf(stderr, "loadgen: connection %d, frame %llu: %s\n", c->id,
          (unsigned long long)c->recvd, what);
  exit(1);
}

/* Log-linear histogram of nanoseconds. */
static unsigned hist_index(uint64_t v) {
  unsigned e;

  if (v < HIST_SUB)
    return (unsigned)v;
  e = 63u - (unsigned)__builtin_clzll(v); /* >= 8 */
  return (e - 7u) * HIST_SUB + (unsigned)((v >> (e - 8u)) & (HIST_SUB - 1));
}

static double hist_value(unsigned i) {
  unsigned e;

  if (i < HIST_SUB)
    return i;
  e = i / HIST_SUB + 7u;
  /* the middle of the bucket */
  return (double)((uint64_t)(HIST_SUB + i % HIST_SUB) << (e - 8u)) +
         (double)((uint64_t)1 << (e - 8u)) / 2.0;
}

static double hist_pct(double p) {
  uint64_t total = 0, want, acc = 0;
  unsigned i;

  for (i = 0; i < HIST_N; i++)
    total += hist[i];
  if (total == 0)
    return 0;
  want = (uint64_t)(p * (double)total);
  if (want >= total)
    want = total - 1;
  for (i = 0; i < HIST_N; i++) {
    acc += hist[i];
    if (acc > want)
      return hist_value(i);
  }
  return 0;
}

static void put_seq(uint8_t *p, uint64_t q) {
  static const char hex[] = "0123456789abcdef";
  size_t n = opt.size < SEQ_DIGITS ? opt.size : SEQ_DIGITS;
  size_t i;

  for (i = n; i-- > 0; q >>= 4)
    p[i] = (uint8_t)hex[q & 15];
}

static size_t pat_off(const conn_t *c, uint64_t q) {
  return (size_t)((q * 31u + (uint64_t)c->id * 7u) % PATLEN);
}

/* Appends frame q of c, in wire form, at p. */
static void make_frame(const conn_t *c, uint64_t q, uint8_t *p) {
  uint8_t *payload = p;

  if (opt.mode == M_LENGTH) {
    p[0] = (uint8_t)(opt.size >> 24);
    p[1] = (uint8_t)(opt.size >> 16);
    p[2] = (uint8_t)(opt.size >> 8);
    p[3] = (uint8_t)opt.size;
    payload = p + HDR;
  }
  memcpy(payload, pattern + pat_off(c, q), opt.size);
  put_seq(payload, q);
  if (opt.mode == M_LINE)
    payload[opt.size] = '\n';
}

static void check_frame(const conn_t *c, const uint8_t *p, size_t len) {
  uint8_t seq[SEQ_DIGITS];
  size_t n = opt.size < SEQ_DIGITS ? opt.size : SEQ_DIGITS;

  if (len != opt.size)
    fail_conn(c, "echoed frame has the wrong length");
  put_seq(seq, c->recvd);
  if (memcmp(p, seq, n) != 0)
    fail_conn(c, "echoed frame has the wrong sequence number");
  if (memcmp(p + n, pattern + pat_off(c, c->recvd) + n, opt.size - n) != 0)
    fail_conn(c, "echoed frame differs from the frame sent");
}

static void arm(int ep, conn_t *c, int out) {
  struct epoll_event ev;

  if (c->want_out == out)
    return;
  c->want_out = out;
  ev.events = EPOLLIN | (out ? EPOLLOUT : 0);
  ev.data.ptr = c;
  if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) != 0)
    die("epoll_ctl: %s", strerror(errno));
}

static void flush(int ep, conn_t *c) {
  ssize_t n;

  while (c->woff < c->wlen) {
    n = send(c->fd, c->wbuf + c->woff, c->wlen - c->woff, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      if (errno == EAGAIN)
        break;
      fail_conn(c, strerror(errno));
    }
    c->woff += (size_t)n;
  }
  if (c->woff == c->wlen)
    c->woff = c->wlen = 0;
  arm(ep, c, c->wlen > 0);
}

/* Tops the pipeline up to depth frames in flight, in one send(). */
static void pump(int ep, conn_t *c, int sending) {
  uint64_t t;
  size_t need;

  if (sending && c->sent - c->recvd < (uint64_t)opt.depth &&
      c->sent < c->quota) {
    t = now_ns();
    while (c->sent - c->recvd < (uint64_t)opt.depth && c->sent < c->quota) {
      need = c->wlen + wire;
      if (need > c->wcap) {
        if (c->woff > 0) {
          memmove(c->wbuf, c->wbuf + c->woff, c->wlen - c->woff);
          c->wlen -= c->woff;
          c->woff = 0;
          continue;
        }
        c->wcap = need * 2;
        c->wbuf = realloc(c->wbuf, c->wcap);
        if (c->wbuf == NULL)
          die("%s", "out of memory");
      }
      make_frame(c, c->sent, c->wbuf + c->wlen);
      c->wlen += wire;
      c->ts[c->sent % (uint64_t)opt.depth] = t;
      c->sent++;
    }
  }
  if (c->wlen > c->woff)
    flush(ep, c);
}

/* One frame came back complete: check it, time it. */
static void got_frame(conn_t *c, const uint8_t *p, size_t len, uint64_t t) {
  if (c->recvd >= c->sent)
    fail_conn(c, "a reply to a frame never sent");
  check_frame(c, p, len);
  if (measuring) {
    hist[hist_index(t - c->ts[c->recvd % (uint64_t)opt.depth])]++;
    m_frames++;
  }
  c->recvd++;
}

/* Reads what is there and takes every complete frame.  0 on EOF. */
static int input(conn_t *c) {
  uint64_t t;
  size_t off = 0, n;
  ssize_t r;
  uint8_t *nl;

  if (c->rcap - c->rlen < wire) {
    c->rcap = c->rcap * 2 + wire;
    c->rbuf = realloc(c->rbuf, c->rcap);
    if (c->rbuf == NULL)
      die("%s", "out of memory");
  }
  do
    r = recv(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen, 0);
  while (r < 0 && errno == EINTR);
  if (r < 0) {
    if (errno == EAGAIN)
      return 1;
    fail_conn(c, strerror(errno));
  }
  if (r == 0)
    return 0;
  t = now_ns();
  c->rlen += (size_t)r;
  if (opt.mode == M_LINE) {
    while (off < c->rlen) {
      nl = memchr(c->rbuf + off + c->scanned, '\n',
                  c->rlen - off - c->scanned);
      if (nl == NULL) {
        c->scanned = c->rlen - off;
        break;
      }
      c->scanned = 0;
      n = (size_t)(nl - (c->rbuf + off));
      got_frame(c, c->rbuf + off, n, t);
      off += n + 1;
    }
  } else {
    while (c->rlen - off >= HDR) {
      const uint8_t *h = c->rbuf + off;
      n = (size_t)h[0] << 24 | (size_t)h[1] << 16 | (size_t)h[2] << 8 | h[3];
      if (n != opt.size)
        fail_conn(c, "echoed frame has the wrong length");
      if (c->rlen - off < HDR + n)
        break;
      got_frame(c, c->rbuf + off + HDR, n, t);
      off += HDR + n;
    }
  }
  if (off > 0) {
    memmove(c->rbuf, c->rbuf + off, c->rlen - off);
    c->rlen -= off;
  }
  return 1;
}

static int connect_to(struct sockaddr_in *sa) {
  int fd, on = 1;

  fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    die("socket: %s", strerror(errno));
  if (connect(fd, (struct sockaddr *)sa, sizeof(*sa)) != 0) {
    close(fd);
    return -1;
  }
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
  return fd;
}

/* utime + stime of a process, all threads, in clock ticks; -1 if unknown. */
static long long proc_cpu_ticks(int pid) {
  char path[64], buf[1024], *p;
  unsigned long long ut, st;
  FILE *f;
  size_t n;
  int i;

  snprintf(path, sizeof(path), "/proc/%d/stat", pid);
  f = fopen(path, "r");
  if (f == NULL)
    return -1;
  n = fread(buf, 1, sizeof(buf) - 1, f);
  fclose(f);
  buf[n] = '\0';
  p = strrchr(buf, ')'); /* the command name may hold spaces */
  if (p == NULL)
    return -1;
  p++;
  /* after ')': state is field 3; utime and stime are fields 14 and 15 */
  for (i = 3; i < 14 && p != NULL; i++)
    p = strchr(p + 1, ' ');
  if (p == NULL || sscanf(p, " %llu %llu", &ut, &st) != 2)
    return -1;
  return (long long)(ut + st);
}

/* Busy time of one CPU (user, nice, system, irq, softirq, steal), in clock
 * ticks; -1 if unknown.  Unlike a process's utime + stime, it includes the
 * network stack's softirq work done on that CPU, even in ksoftirqd. */
static long long cpu_busy_ticks(int cpu) {
  char want[32], line[512];
  unsigned long long v[8] = {0};
  long long busy = -1;
  FILE *f;

  f = fopen("/proc/stat", "r");
  if (f == NULL)
    return -1;
  snprintf(want, sizeof(want), "cpu%d ", cpu);
  while (fgets(line, sizeof(line), f) != NULL) {
    if (strncmp(line, want, strlen(want)) != 0)
      continue;
    if (sscanf(line + strlen(want), "%llu %llu %llu %llu %llu %llu %llu %llu",
               &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) == 8)
      busy = (long long)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]);
    break;
  }
  fclose(f);
  return busy;
}

static double self_cpu_s(void) {
  struct rusage ru;

  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
         (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void usage(FILE *f) {
  fprintf(f,
          "usage: loadgen -p PORT [-H HOST] [-m line|length] [-c CONNS]\n"
          "               [-d DEPTH] [-s SIZE] [-t SECS] [-w WARMUP]\n"
          "               [-n FRAMES] [--pid PID] [-q] [--wait]\n"
          "  -m  framing: line (S bytes + '\\n') or length (4-byte BE + S)\n"
          "  -c  connections (10)          -d  frames in flight each (16)\n"
          "  -s  payload bytes (64)        -t  measured seconds (5)\n"
          "  -w  warm-up seconds (1)       -n  counted mode: F frames in all\n"
          "  --pid PID  report that process's CPU time per echoed frame\n"
          "  --cpu N    and CPU N's busy time (softirq included) per frame\n"
          "  --wait     connect (retrying up to -t seconds) and exit\n");
}

int main(int argc, char **argv) {
  static const struct option longopts[] = {
      {"pid", required_argument, NULL, 'P'},
      {"cpu", required_argument, NULL, 'C'},
      {"wait", no_argument, NULL, 'W'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  struct epoll_event ev, evs[256];
  struct sockaddr_in sa;
  uint64_t t_start = 0, t_end = 0, t_warm, t_stop, t_drain = 0, t, m_t0 = 0;
  long long cpu0 = -1, cpu1 = -1, core0 = -1, core1 = -1;
  double cli0 = 0, cli1 = 0, secs, fps;
  int ep, i, k, n, ch, sending = 1, phase;
  uint64_t left, per;
  conn_t *conns, *c;

  while ((ch = getopt_long(argc, argv, "H:p:m:c:d:s:t:w:n:qh", longopts,
                           NULL)) != -1) {
    switch (ch) {
    case 'H': opt.host = optarg; break;
    case 'p': opt.port = atoi(optarg); break;
    case 'm':
      if (strcmp(optarg, "line") == 0)
        opt.mode = M_LINE;
      else if (strcmp(optarg, "length") == 0)
        opt.mode = M_LENGTH;
      else
        die("unknown framing \"%s\" (line or length)", optarg);
      break;
    case 'c': opt.conns = atoi(optarg); break;
    case 'd': opt.depth = atoi(optarg); break;
    case 's': opt.size = (size_t)strtoull(optarg, NULL, 10); break;
    case 't': opt.secs = atof(optarg); break;
    case 'w': opt.warmup = atof(optarg); break;
    case 'n': opt.frames = strtoull(optarg, NULL, 10); break;
    case 'P': opt.pid = atoi(optarg); break;
    case 'C': opt.cpu = atoi(optarg); break;
    case 'q': opt.quiet = 1; break;
    case 'W': opt.wait_only = 1; break;
    case 'h': usage(stdout); return 0;
    default: usage(stderr); return 2;
    }
  }
  if (opt.port <= 0 || opt.conns <= 0 || opt.depth <= 0 || opt.size == 0 ||
      opt.size > 0xffffffffu || opt.secs <= 0) {
    usage(stderr);
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  memset(&sa, 0, sizeof(sa));
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)opt.port);
  if (inet_pton(AF_INET, opt.host, &sa.sin_addr) != 1)
    die("bad IPv4 address \"%s\"", opt.host);

  if (opt.wait_only) {
    t_end = now_ns() + (uint64_t)(opt.secs * 1e9);
    while ((k = connect_to(&sa)) < 0) {
      if (now_ns() > t_end)
        die("nothing answers on %s", opt.host);
      usleep(20000);
    }
    close(k);
    return 0;
  }

  wire = opt.size + (opt.mode == M_LINE ? 1 : HDR);
  pattern = malloc(PATLEN + opt.size);
  conns = calloc((size_t)opt.conns, sizeof(*conns));
  ep = epoll_create1(EPOLL_CLOEXEC);
  if (pattern == NULL || conns == NULL || ep < 0)
    die("%s", "cannot start: out of memory or epoll");
  for (i = 0; i < (int)(PATLEN + opt.size); i++)
    pattern[i] = (uint8_t)("abcdefghijklmnopqrstuvwxyz"
                           "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345678"[i % PATLEN]);

  per = opt.frames / (uint64_t)opt.conns;
  left = opt.frames % (uint64_t)opt.conns;
  for (i = 0; i < opt.conns; i++) {
    c = &conns[i];
    c->id = i;
    c->fd = connect_to(&sa);
    if (c->fd < 0)
      die("cannot connect: %s", strerror(errno));
    c->quota = opt.frames ? per + ((uint64_t)i < left) : UINT64_MAX;
    c->ts = calloc((size_t)opt.depth, sizeof(*c->ts));
    c->rcap = 64 * 1024 > 4 * wire ? 64 * 1024 : 4 * wire;
    c->rbuf = malloc(c->rcap);
    c->wcap = (size_t)opt.depth * wire + 64;
    c->wbuf = malloc(c->wcap);
    if (c->ts == NULL || c->rbuf == NULL || c->wbuf == NULL)
      die("%s", "out of memory");
    k = fcntl(c->fd, F_GETFL);
    if (k < 0 || fcntl(c->fd, F_SETFL, k | O_NONBLOCK) != 0)
      die("fcntl: %s", strerror(errno));
    ev.events = EPOLLIN;
    ev.data.ptr = c;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) != 0)
      die("epoll_ctl: %s", strerror(errno));
  }

  /*
   * Phases: 0 warm-up, 1 measuring, 2 draining (no new frames).  Counted
   * mode measures from the start and drains once every quota is sent.
   */
  t_start = now_ns();
  t_warm = opt.frames ? t_start
                      : t_start + (uint64_t)(opt.warmup * 1e9);
  t_stop = t_warm + (uint64_t)(opt.secs * 1e9);
  phase = 0;
  if (t_warm == t_start) {
    phase = 1;
    measuring = 1;
    m_t0 = t_start;
    cpu0 = opt.pid ? proc_cpu_ticks(opt.pid) : -1;
    core0 = opt.cpu >= 0 ? cpu_busy_ticks(opt.cpu) : -1;
    cli0 = self_cpu_s();
  }
  for (i = 0; i < opt.conns; i++)
    pump(ep, &conns[i], sending);

  for (;;) {
    n = epoll_wait(ep, evs, 256, 50);
    if (n < 0 && errno != EINTR)
      die("epoll_wait: %s", strerror(errno));
    for (k = 0; k < n; k++) {
      c = evs[k].data.ptr;
      if (evs[k].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
        if (!input(c))
          fail_conn(c, "the server closed the connection");
      }
      if (c->wlen > c->woff && (evs[k].events & EPOLLOUT))
        flush(ep, c);
      pump(ep, c, sending);
    }
    t = now_ns();
    if (phase == 0 && t >= t_warm) {
      phase = 1;
      measuring = 1;
      m_t0 = t;
      t_stop = t + (uint64_t)(opt.secs * 1e9);
      cpu0 = opt.pid ? proc_cpu_ticks(opt.pid) : -1;
      core0 = opt.cpu >= 0 ? cpu_busy_ticks(opt.cpu) : -1;
      cli0 = self_cpu_s();
    }
    if (phase == 1) {
      int done = 0;
      if (opt.frames) {
        done = 1;
        for (i = 0; i < opt.conns && done; i++)
          done = conns[i].recvd == conns[i].quota;
      } else {
        done = t >= t_stop;
      }
      if (done) {
        /* The measured interval ends here; what is in flight is drained
         * and still checked, but not counted. */
        phase = 2;
        measuring = 0;
        sending = 0;
        t_end = t;
        cpu1 = opt.pid ? proc_cpu_ticks(opt.pid) : -1;
        core1 = opt.cpu >= 0 ? cpu_busy_ticks(opt.cpu) : -1;
        cli1 = self_cpu_s();
        t_drain = t + 5000000000u;
      }
    }
    if (phase == 2) {
      int idle = 1;
      for (i = 0; i < opt.conns && idle; i++)
        idle = conns[i].recvd == conns[i].sent;
      if (idle)
        break;
      if (t > t_drain)
        die("%s", "replies still missing 5 s after the last frame was sent");
    }
  }
  for (i = 0; i < opt.conns; i++)
    close(conns[i].fd);

  secs = (double)(t_end - m_t0) / 1e9;
  fps = (double)m_frames / secs;
  {
    double cpu_ns = -1, srv_util = -1, hz = (double)sysconf(_SC_CLK_TCK);
    double core_ns = -1;
    if (core0 >= 0 && core1 >= 0 && m_frames > 0)
      core_ns = (double)(core1 - core0) / hz * 1e9 / (double)m_frames;
    if (cpu0 >= 0 && cpu1 >= 0 && m_frames > 0) {
      cpu_ns = (double)(cpu1 - cpu0) / hz * 1e9 / (double)m_frames;
      srv_util = (double)(cpu1 - cpu0) / hz / secs;
    }
    if (!opt.quiet)
      printf("%s, %d conns x depth %d, %zu-byte frames: %llu frames in "
             "%.2f s: %.0f frames/s, %.1f MB/s; latency p50 %.1f us, "
             "p99 %.1f us, p99.9 %.1f us\n",
             opt.mode == M_LINE ? "line" : "length", opt.conns, opt.depth,
             opt.size, (unsigned long long)m_frames, secs, fps,
             fps * (double)wire / 1e6, hist_pct(0.5) / 1e3,
             hist_pct(0.99) / 1e3, hist_pct(0.999) / 1e3);
    printf("RESULT frames=%llu secs=%.3f fps=%.0f mbps=%.2f p50_us=%.2f "
           "p99_us=%.2f p999_us=%.2f srv_cpu_ns=%.1f srv_util=%.3f "
           "cli_util=%.3f core_ns=%.1f\n",
           (unsigned long long)m_frames, secs, fps, fps * (double)wire / 1e6,
           hist_pct(0.5) / 1e3, hist_pct(0.99) / 1e3, hist_pct(0.999) / 1e3,
           cpu_ns, srv_util, (cli1 - cli0) / secs, core_ns);
  }
  return 0;
}
