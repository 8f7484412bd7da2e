/*
 * idle: the idle-connection benchmark of weft (bench/README.md).
 *
 * Reads the server's VmRSS (/proc/PID/status), opens N connections to it
 * (10,000 by default; at most 256 connects in flight, so the listen backlog
 * never overflows into SYN retries), sends one small frame on each and waits
 * for its echo, so every connection has been accepted, read from and
 * written to by the server; then waits for the server to settle and reads
 * VmRSS again.  The difference over N is the memory an idle connection
 * costs the server in user space (kernel socket buffers are not in RSS).
 * --no-ping only connects: then the count is only certain once the server
 * has accepted them all, which idle checks through /proc/PID/fd.
 *
 * Raises its own RLIMIT_NOFILE to the hard limit; the server needs a raised
 * limit too (bench/run.sh sets `ulimit -n`).
 *
 * usage: idle -p PORT --pid PID [-H HOST] [-m line|length] [-n CONNS]
 *             [--settle SECS] [--no-ping]
 * Last line:  RESULT conns=N rss_before_kb=.. rss_after_kb=.. bytes_per_conn=..
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define IN_FLIGHT 256

typedef struct {
  int fd;
  int state; /* 0 connecting, 1 waiting for the echo, 2 done */
  size_t got;
} iconn_t;

__attribute__((format(printf, 1, 2), noreturn)) static void
die(const char *fmt, ...) {
  va_list ap;

  va_start(ap, fmt);
  fprintf(stderr, "idle: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  exit(1);
}

static long rss_kb(int pid) {
  char path[64], line[256];
  long kb = -1;
  FILE *f;

  snprintf(path, sizeof(path), "/proc/%d/status", pid);
  f = fopen(path, "r");
  if (f == NULL)
    return -1;
  while (fgets(line, sizeof(line), f) != NULL)
    if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
      break;
  fclose(f);
  return kb;
}

static int count_fds(int pid) {
  char path[64];
  struct dirent *d;
  DIR *dir;
  int n = 0;

  snprintf(path, sizeof(path), "/proc/%d/fd", pid);
  dir = opendir(path);
  if (dir == NULL)
    return -1;
  while ((d = readdir(dir)) != NULL)
    if (d->d_name[0] != '.')
      n++;
  closedir(dir);
  return n;
}

static double now_s(void) {
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  static const struct option longopts[] = {
      {"pid", required_argument, NULL, 'P'},
      {"settle", required_argument, NULL, 'S'},
      {"no-ping", no_argument, NULL, 'N'},
      {NULL, 0, NULL, 0}};
  const char *host = "127.0.0.1";
  static const char line_ping[] = "p\n", len_ping[] = "\0\0\0\1p";
  const char *ping = line_ping;
  size_t ping_len = 2;
  int port = 0, pid = 0, nconns = 10000, noping = 0, ch, ep, i, k, n;
  int started = 0, done = 0, inflight = 0, fds0;
  double settle = 1.0, deadline;
  long before, after;
  struct sockaddr_in sa;
  struct epoll_event ev, evs[256];
  struct rlimit rl;
  iconn_t *cs, *c;
  char buf[16];

  while ((ch = getopt_long(argc, argv, "H:p:m:n:", longopts, NULL)) != -1) {
    switch (ch) {
    case 'H': host = optarg; break;
    case 'p': port = atoi(optarg); break;
    case 'm':
      if (strcmp(optarg, "length") == 0) {
        ping = len_ping;
        ping_len = 5;
      } else if (strcmp(optarg, "line") != 0) {
        die("unknown framing \"%s\" (line or length)", optarg);
      }
      break;
    case 'n': nconns = atoi(optarg); break;
    case 'P': pid = atoi(optarg); break;
    case 'S': settle = atof(optarg); break;
    case 'N': noping = 1; break;
    default:
      fprintf(stderr, "usage: idle -p PORT --pid PID [-H HOST] "
                      "[-m line|length] [-n CONNS] [--settle SECS] "
                      "[--no-ping]\n");
      return 2;
    }
  }
  if (port <= 0 || pid <= 0 || nconns <= 0)
    die("need -p PORT, --pid PID and a positive -n");
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
      rl.rlim_cur < (rlim_t)nconns + 16)
    die("RLIMIT_NOFILE is %llu: too low for %d connections (ulimit -n)",
        (unsigned long long)rl.rlim_cur, nconns);
  memset(&sa, 0, sizeof(sa));
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)port);
  if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
    die("bad IPv4 address \"%s\"", host);
  cs = calloc((size_t)nconns, sizeof(*cs));
  ep = epoll_create1(EPOLL_CLOEXEC);
  if (cs == NULL || ep < 0)
    die("out of memory");

  fds0 = count_fds(pid);
  before = rss_kb(pid);
  if (before < 0)
    die("cannot read /proc/%d/status", pid);

  deadline = now_s() + 120;
  while (done < nconns) {
    while (started < nconns && inflight < IN_FLIGHT) {
      c = &cs[started++];
      c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (c->fd < 0)
        die("socket: %s (connection %d)", strerror(errno), started);
      if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 &&
          errno != EINPROGRESS)
        die("connect: %s (connection %d)", strerror(errno), started);
      ev.events = EPOLLOUT;
      ev.data.ptr = c;
      epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
      inflight++;
    }
    n = epoll_wait(ep, evs, 256, 1000);
    if (now_s() > deadline)
      die("only %d of %d connections done after 120 s", done, nconns);
    for (k = 0; k < n; k++) {
      c = evs[k].data.ptr;
      if (c->state == 0) {
        int err = 0;
        socklen_t len = sizeof(err);
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0)
          die("connect: %s", strerror(err));
        if (noping) {
          c->state = 2;
        } else {
          if (send(c->fd, ping, ping_len, MSG_NOSIGNAL) != (ssize_t)ping_len)
            die("send: %s", strerror(errno));
          c->state = 1;
          ev.events = EPOLLIN;
          ev.data.ptr = c;
          epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
          continue;
        }
      } else if (c->state == 1) {
        ssize_t r = recv(c->fd, buf + c->got, sizeof(buf) - c->got, 0);
        if (r <= 0)
          die("connection closed by the server before its echo");
        c->got += (size_t)r;
        if (c->got < ping_len)
          continue;
        if (c->got > ping_len || memcmp(buf, ping, ping_len) != 0)
          die("wrong echo");
        c->state = 2;
      }
      if (c->state == 2) {
        epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
        inflight--;
        done++;
      }
    }
  }
  /* Accepted by the server? (a ping proves it; without one, count fds) */
  if (noping && fds0 >= 0)
    for (i = 0; i < 300 && count_fds(pid) < fds0 + nconns; i++)
      usleep(100000);
  usleep((useconds_t)(settle * 1e6));
  after = rss_kb(pid);
  printf("%d idle connections: server VmRSS %ld kB before, %ld kB after: "
         "%.0f bytes per connection\n",
         nconns, before, after, (double)(after - before) * 1024.0 / nconns);
  printf("RESULT conns=%d rss_before_kb=%ld rss_after_kb=%ld "
         "bytes_per_conn=%.1f\n",
         nconns, before, after, (double)(after - before) * 1024.0 / nconns);
  for (i = 0; i < nconns; i++)
    close(cs[i].fd);
  return 0;
}
