/*
 * wclient: a minimal stream client for the shell tests, since netcat is
 * not everywhere and its variants disagree about half-close.
 *
 *   wclient [-t SECONDS] HOST PORT      (HOST "unix:/path": PORT is ignored)
 *
 * Connects, writes all of stdin, half-closes (shutdown SHUT_WR), copies
 * everything received to stdout until the peer's EOF, and exits 0.  Sending
 * and receiving overlap, so an echo of any size cannot deadlock on full
 * socket buffers.  Any error, or SECONDS (default 30) without progress,
 * exits 1 with a message: a test never hangs on a silent server.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <unistd.h>

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...) {
  va_list ap;

  fputs("wclient: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  exit(1);
}

static void usage(void) {
  fputs("usage: wclient [-t SECONDS] HOST PORT\n", stderr);
  exit(1);
}

/* HOST "unix:/path" (PORT ignored) dials a Unix-domain socket. */
static int dial_unix(const char *path) {
  struct sockaddr_un sun;
  int fd;

  memset(&sun, 0, sizeof(sun));
  sun.sun_family = AF_UNIX;
  if (strlen(path) >= sizeof(sun.sun_path))
    die("%s: path too long", path);
  strcpy(sun.sun_path, path);
  fd = socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0)
    die("unix:%s: %s", path, strerror(errno));
  return fd;
}

static int dial(const char *host, const char *port) {
  struct addrinfo hints, *res, *ai;
  int fd = -1, rc, err = 0;

  if (strncmp(host, "unix:", 5) == 0)
    return dial_unix(host + 5);

  memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  rc = getaddrinfo(host, port, &hints, &res);
  if (rc != 0)
    die("%s:%s: %s", host, port, gai_strerror(rc));
  for (ai = res; ai != NULL; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (fd < 0) {
      err = errno;
      continue;
    }
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
      break;
    err = errno;
    close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  if (fd < 0)
    die("connect to %s:%s: %s", host, port, strerror(err));
  return fd;
}

/* Writes all of buf to fd (stdout), which may be a pipe. */
static void write_all(int fd, const char *buf, size_t len, const char *what) {
  ssize_t r;

  while (len > 0) {
    r = write(fd, buf, len);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0)
      die("write to %s: %s", what, strerror(errno));
    buf += r;
    len -= (size_t)r;
  }
}

int main(int argc, char **argv) {
  char out[65536], in[65536];
  size_t out_len = 0, out_off = 0;
  int fd, ch, timeout_s = 30, stdin_open = 1, shut = 0, rc;
  struct pollfd pfd[2];
  ssize_t r;
  char *end;

  while ((ch = getopt(argc, argv, "t:")) != -1) {
    if (ch != 't')
      usage();
    timeout_s = (int)strtol(optarg, &end, 10);
    if (*end != '\0' || timeout_s <= 0 || timeout_s > 86400)
      die("-t %s: want seconds, 1 to 86400", optarg);
  }
  if (argc - optind != 2)
    usage();
  /* A peer that resets must give a message, not a silent death. */
  signal(SIGPIPE, SIG_IGN);
  fd = dial(argv[optind], argv[optind + 1]);

  for (;;) {
    /* Read stdin only when the previous chunk has gone out: a bounded
     * buffer, and backpressure from the peer reaches our producer. */
    if (stdin_open && out_off == out_len) {
      pfd[0].fd = STDIN_FILENO;
      pfd[0].events = POLLIN;
    } else if (out_off < out_len) {
      pfd[0].fd = fd;
      pfd[0].events = POLLOUT;
    } else {
      pfd[0].fd = -1;
      pfd[0].events = 0;
      if (!shut) {
        if (shutdown(fd, SHUT_WR) != 0)
          die("shutdown: %s", strerror(errno));
        shut = 1;
      }
    }
    pfd[1].fd = fd;
    pfd[1].events = POLLIN;
    pfd[0].revents = pfd[1].revents = 0;
    rc = poll(pfd, 2, timeout_s * 1000);
    if (rc < 0 && errno == EINTR)
      continue;
    if (rc < 0)
      die("poll: %s", strerror(errno));
    if (rc == 0)
      die("no progress for %d s (%s)", timeout_s,
          shut ? "waiting for the peer's EOF" : "sending");

    if (pfd[1].revents) {
      r = read(fd, in, sizeof(in));
      if (r < 0 && errno != EINTR && errno != EAGAIN)
        die("read: %s", strerror(errno));
      if (r == 0)
        break;
      if (r > 0)
        write_all(STDOUT_FILENO, in, (size_t)r, "stdout");
    }
    if (pfd[0].fd == STDIN_FILENO && pfd[0].revents) {
      r = read(STDIN_FILENO, out, sizeof(out));
      if (r < 0 && errno != EINTR && errno != EAGAIN)
        die("read stdin: %s", strerror(errno));
      if (r == 0)
        stdin_open = 0;
      if (r > 0) {
        out_len = (size_t)r;
        out_off = 0;
      }
    } else if (pfd[0].fd == fd && pfd[0].revents) {
      r = send(fd, out + out_off, out_len - out_off, MSG_DONTWAIT);
      if (r < 0 && errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)
        die("send: %s", strerror(errno));
      if (r > 0)
        out_off += (size_t)r;
    }
  }
  /* The peer closed: anything not yet sent will never be read. */
  if (out_off < out_len || stdin_open)
    die("the peer closed before all of stdin was sent");
  close(fd);
  return 0;
}
