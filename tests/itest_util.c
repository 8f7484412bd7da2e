/*
 * Helpers for integration tests against the real weftd: see itest_util.h.
 * The daemon handling follows tests/itest_echo.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <cmocka.h>

#include "itest_util.h"

#if defined(__SANITIZE_ADDRESS__)
#define ITEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ITEST_ASAN 1
#endif
#endif
#ifndef ITEST_ASAN
#define ITEST_ASAN 0
#endif

const char *const itest_stat_names[ITEST_NSTATS] = {
#define ITEST_STAT_NAME(name) #name,
    ITEST_STATS_MAP(ITEST_STAT_NAME)
#undef ITEST_STAT_NAME
};

/* ---- time and scale ------------------------------------------------------ */

double itest_now_ms(void) {
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

void itest_sleep_ms(long ms) {
  struct timespec ts;

  if (ms <= 0)
    return;
  ts.tv_sec = ms / 1000;
  ts.tv_nsec = (ms % 1000) * 1000000L;
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

double itest_scale(void) {
  const char *env = getenv("WEFT_TEST_SCALE");
  double scale = 1.0;
  char *end;

  if (env != NULL && env[0] != '\0') {
    scale = strtod(env, &end);
    if (*end != '\0' || !(scale > 0.0) || scale > 1000.0)
      fail_msg("WEFT_TEST_SCALE=\"%s\": want a number in (0, 1000]", env);
  }
  return scale;
}

int itest_asan(void) {
  return ITEST_ASAN;
}

double itest_slow(void) {
  if (itest_scale() < 1.0)
    return 5.0;
  return ITEST_ASAN ? 2.0 : 1.0;
}

/* ---- files --------------------------------------------------------------- */

static char *itest_slurp(const char *path, size_t *len) {
  char *buf = NULL, *nb;
  size_t cap = 0, n = 0;
  ssize_t r;
  int fd;

  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return NULL;
  for (;;) {
    if (cap - n < 4096) {
      cap = cap ? cap * 2 : 16384;
      nb = realloc(buf, cap + 1);
      if (nb == NULL)
        break;
      buf = nb;
    }
    r = read(fd, buf + n, cap - n);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    n += (size_t)r;
  }
  close(fd);
  if (buf != NULL)
    buf[n] = '\0';
  if (len != NULL)
    *len = n;
  return buf;
}

static void itest_write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");

  if (f == NULL)
    fail_msg("cannot create %s: %s", path, strerror(errno));
  fputs(text, f);
  if (fclose(f) != 0)
    fail_msg("cannot write %s: %s", path, strerror(errno));
}

/* The daemon of the running test, for the socket helpers' failures: a
 * refused connection or a reset is often weftd gone, and its log says why. */
static itest_daemon_t *itest_current;

/* Before failing on a socket error: is weftd still there?  Says so, and
 * dumps its log. */
static void itest_explain(void) {
  itest_daemon_t *d = itest_current;
  int status;

  if (d == NULL || d->dir[0] == '\0')
    return;
  if (d->pid > 0 && itest_daemon_reap(d, 0, &status)) {
    if (status != -1 && WIFSIGNALED(status))
      fprintf(stderr, "itest: weftd died from signal %d (%s)\n",
              WTERMSIG(status), strsignal(WTERMSIG(status)));
    else
      fprintf(stderr, "itest: weftd exited, status %d\n",
              status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  }
  itest_daemon_dump_log(d);
}

/* ---- the daemon ---------------------------------------------------------- */

char *itest_daemon_log(const itest_daemon_t *d) {
  char *log = itest_slurp(d->log, NULL);

  if (log == NULL)
    fail_msg("cannot read %s: %s", d->log, strerror(errno));
  return log;
}

void itest_daemon_dump_log(const itest_daemon_t *d) {
  size_t n;
  char *log = itest_slurp(d->log, &n);
  const size_t keep = 32 * 1024;

  if (log == NULL)
    return;
  fprintf(stderr, "---- weftd log (%s)%s ----\n%s---- end of weftd log ----\n",
          d->log, n > keep ? ", last 32 KiB" : "",
          n > keep ? log + n - keep : log);
  free(log);
}

int itest_daemon_reap(itest_daemon_t *d, long timeout_ms, int *status) {
  double end = itest_now_ms() + (double)timeout_ms;
  pid_t r;

  for (;;) {
    if (d->pid <= 0) {
      *status = d->status;
      return 1;
    }
    r = waitpid(d->pid, status, WNOHANG);
    if (r == d->pid) {
      d->pid = -1;
      d->status = *status;
      return 1;
    }
    if (r < 0 && errno != EINTR) {
      d->pid = -1;
      d->status = *status = -1;
      return 1;
    }
    if (itest_now_ms() >= end)
      return 0;
    itest_sleep_ms(5);
  }
}

int itest_daemon_setup(void **state) {
  itest_daemon_t *d = calloc(1, sizeof(*d));

  if (d == NULL)
    return -1;
  d->pid = -1;
  *state = d;
  return 0;
}

int itest_daemon_teardown(void **state) {
  itest_daemon_t *d = *state;
  int status;

  if (itest_current == d)
    itest_current = NULL;
  if (d->pid > 0) {
    kill(d->pid, SIGKILL);
    itest_daemon_reap(d, ITEST_STOP_TIMEOUT_MS, &status);
  }
  if (d->dir[0]) {
    unlink(d->conf);
    unlink(d->log);
    rmdir(d->dir);
  }
  free(d);
  return 0;
}

static const char *itest_weftd(void) {
  const char *weftd = getenv("WEFTD");

  return weftd != NULL && weftd[0] != '\0' ? weftd : "./weftd";
}

/* A fresh directory holding the config; the log's path next to it. */
static void itest_daemon_prepare(itest_daemon_t *d, const char *conf_text) {
  const char *tmp = getenv("TMPDIR");

  if (tmp == NULL || tmp[0] == '\0')
    tmp = "/tmp";
  if (snprintf(d->dir, sizeof(d->dir), "%s/weft-itest-XXXXXX", tmp) >=
      (int)sizeof(d->dir))
    fail_msg("TMPDIR is too long: %s", tmp);
  if (mkdtemp(d->dir) == NULL)
    fail_msg("mkdtemp %s: %s", d->dir, strerror(errno));
  snprintf(d->conf, sizeof(d->conf), "%s/weft.conf", d->dir);
  snprintf(d->log, sizeof(d->log), "%s/weftd.log", d->dir);
  itest_write_file(d->conf, conf_text);
}

static void itest_env_append(const char *name, const char *sep,
                             const char *more) {
  const char *old = getenv(name);
  char buf[2048];

  snprintf(buf, sizeof(buf), "%s%s%s", old ? old : "", old && old[0] ? sep : "",
           more);
  setenv(name, buf, 1);
}

/* Runs `weftd [arg] -c CONF`, its output to the log: sets d->pid. */
static void itest_daemon_spawn(itest_daemon_t *d, const char *arg) {
  const char *weftd = itest_weftd();
  const char *argv[8], *prog = weftd;
  char script[64];
  int fd, argc = 0;

  fd = open(d->log, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0)
    fail_msg("cannot create %s: %s", d->log, strerror(errno));
  fflush(NULL);
  d->pid = fork();
  if (d->pid < 0)
    fail_msg("fork: %s", strerror(errno));
  if (d->pid == 0) {
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    if (d->small_quarantine) {
      /* Variables only the memory checkers read. */
      itest_env_append(
          "ASAN_OPTIONS", ":",
          "quarantine_size_mb=1:thread_local_quarantine_size_kb=64");
      itest_env_append("VALGRIND_OPTS", " ", "--freelist-vol=1000000");
    }
    if (d->nofile > 0) {
      /* Through the shell's ulimit rather than setrlimit() here: when this
       * test runs under valgrind, its setrlimit() only pretends (valgrind
       * keeps the real limit for its own descriptors), while the exec'd
       * shell is not traced and sets the real one.  Only the soft limit,
       * so that a weftd under valgrind gets its reserve above it. */
      snprintf(script, sizeof(script), "ulimit -S -n %ld && exec \"$@\"",
               d->nofile);
      argv[argc++] = "sh";
      argv[argc++] = "-c";
      argv[argc++] = script;
      argv[argc++] = "sh"; /* $0 */
      prog = "/bin/sh";
    }
    argv[argc++] = weftd;
    if (arg != NULL)
      argv[argc++] = arg;
    argv[argc++] = "-c";
    argv[argc++] = d->conf;
    argv[argc] = NULL;
    execv(prog, (char *const *)argv);
    fprintf(stderr, "itest: cannot run %s: %s\n", prog, strerror(errno));
    _exit(127);
  }
  close(fd);
}

void itest_daemon_start(itest_daemon_t *d, const char *conf_text) {
  double end;
  int status, started;
  char *log;

  itest_daemon_prepare(d, conf_text);
  itest_current = d;
  itest_daemon_spawn(d, NULL);

  end = itest_now_ms() + ITEST_START_TIMEOUT_MS;
  for (;;) {
    log = itest_slurp(d->log, NULL);
    /* Logged once start-up is complete: from here on, every descriptor the
     * daemon opens is for a connection. */
    started = log != NULL && strstr(log, " started (pid ") != NULL;
    free(log);
    if (started)
      break;
    if (itest_daemon_reap(d, 0, &status)) {
      itest_daemon_dump_log(d);
      fail_msg("weftd (%s) exited during start-up, status 0x%x", itest_weftd(),
               (unsigned)status);
    }
    if (itest_now_ms() >= end) {
      itest_daemon_dump_log(d);
      fail_msg("weftd did not start within %d ms", ITEST_START_TIMEOUT_MS);
    }
    itest_sleep_ms(20);
  }
}

int itest_daemon_check(const char *conf_text, char **output) {
  itest_daemon_t c;
  int status;

  memset(&c, 0, sizeof(c));
  itest_daemon_prepare(&c, conf_text);
  itest_daemon_spawn(&c, "--check");
  if (!itest_daemon_reap(&c, ITEST_STOP_TIMEOUT_MS, &status)) {
    kill(c.pid, SIGKILL); /* pid > 0: not reaped */
    itest_daemon_reap(&c, ITEST_STOP_TIMEOUT_MS, &status);
    itest_daemon_dump_log(&c);
    fail_msg("weftd --check did not finish within %d ms",
             ITEST_STOP_TIMEOUT_MS);
  }
  *output = itest_daemon_log(&c);
  unlink(c.conf);
  unlink(c.log);
  rmdir(c.dir);
  return status;
}

int itest_daemon_port(const itest_daemon_t *d, const char *name) {
  char pat[160], *log = itest_daemon_log(d);
  const char *p;
  int port;

  snprintf(pat, sizeof(pat), "listener \"%s\" listening on 127.0.0.1:", name);
  p = strstr(log, pat);
  port = p != NULL ? (int)strtol(p + strlen(pat), NULL, 10) : 0;
  free(log);
  if (port <= 0) {
    itest_daemon_dump_log(d);
    fail_msg("weftd did not announce listener \"%s\" on 127.0.0.1", name);
  }
  return port;
}

void itest_daemon_signal(const itest_daemon_t *d, int sig) {
  if (d->pid <= 0 || kill(d->pid, sig) != 0)
    fail_msg("kill(%d, %s): %s", (int)d->pid, strsignal(sig),
             d->pid <= 0 ? "no daemon" : strerror(errno));
}

double itest_daemon_expect_exit0(itest_daemon_t *d, long timeout_ms,
                                 const char *after) {
  double t0 = itest_now_ms();
  int status;

  if (!itest_daemon_reap(d, timeout_ms, &status)) {
    kill(d->pid, SIGKILL); /* pid > 0: not reaped */
    itest_daemon_reap(d, ITEST_STOP_TIMEOUT_MS, &status);
    itest_daemon_dump_log(d);
    fail_msg("weftd did not exit within %ld ms of %s", timeout_ms, after);
  }
  if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    itest_daemon_dump_log(d);
    if (status != -1 && WIFSIGNALED(status))
      fail_msg("weftd died from signal %d (%s) after %s", WTERMSIG(status),
               strsignal(WTERMSIG(status)), after);
    fail_msg("weftd exited with status %d after %s, expected 0",
             status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1,
             after);
  }
  return itest_now_ms() - t0;
}

void itest_daemon_stop(itest_daemon_t *d) {
  itest_daemon_signal(d, SIGTERM);
  itest_daemon_expect_exit0(d, ITEST_STOP_TIMEOUT_MS, "SIGTERM");
}

int itest_daemon_fds(const itest_daemon_t *d) {
  char path[64];
  struct dirent *de;
  DIR *dir;
  int n = 0;

  snprintf(path, sizeof(path), "/proc/%d/fd", (int)d->pid);
  dir = opendir(path);
  if (dir == NULL)
    return -1;
  while ((de = readdir(dir)) != NULL)
    if (de->d_name[0] != '.')
      n++;
  closedir(dir);
  return n;
}

/* Waits for the daemon's descriptor count to be want: the count, or -1
 * where /proc cannot tell. */
static int itest_fds_settle(const itest_daemon_t *d, int want) {
  double end = itest_now_ms() + 5000.0 * itest_slow();
  int n;

  while ((n = itest_daemon_fds(d)) != want && n >= 0 && itest_now_ms() < end)
    itest_sleep_ms(10);
  return n;
}

void itest_daemon_expect_fds(const itest_daemon_t *d, int baseline) {
  int n;

  if (baseline < 0) {
    print_message("no /proc/PID/fd here: descriptor count not checked\n");
    return;
  }
  n = itest_fds_settle(d, baseline);
  if (n != baseline) {
    itest_daemon_dump_log(d);
    fail_msg("weftd holds %d descriptors after every connection closed, %d "
             "at start-up: a connection leaked",
             n, baseline);
  }
}

void itest_daemon_wait_fds(const itest_daemon_t *d, int want,
                           const char *what) {
  int n;

  if (want < 0)
    return; /* no baseline: no /proc */
  n = itest_fds_settle(d, want);
  if (n != want) {
    itest_daemon_dump_log(d);
    fail_msg("weftd holds %d descriptors, expected %d (%s)", n, want, what);
  }
}

/* A "Key:   value kB" line of /proc/PID/status. */
long itest_daemon_rss_kib(const itest_daemon_t *d) {
  char path[64], *text, *p;
  long kib = -1;

  snprintf(path, sizeof(path), "/proc/%d/status", (int)d->pid);
  text = itest_slurp(path, NULL);
  if (text != NULL && (p = strstr(text, "\nVmRSS:")) != NULL)
    kib = strtol(p + 7, NULL, 10);
  free(text);
  if (kib < 0)
    fail_msg("no VmRSS in %s", path);
  return kib;
}

int itest_daemon_valgrind(const itest_daemon_t *d) {
  char path[64], exe[PATH_MAX];
  ssize_t n;

  snprintf(path, sizeof(path), "/proc/%d/exe", (int)d->pid);
  n = readlink(path, exe, sizeof(exe) - 1);
  if (n <= 0)
    return itest_scale() < 1.0; /* cannot tell: guess from the scale */
  exe[n] = '\0';
  return strstr(exe, "valgrind") != NULL || strstr(exe, "memcheck") != NULL;
}

double itest_daemon_cpu_s(const itest_daemon_t *d) {
  char path[64], *text, *p;
  unsigned long long ut = 0, st = 0;
  double cpu = -1.0;

  snprintf(path, sizeof(path), "/proc/%d/stat", (int)d->pid);
  text = itest_slurp(path, NULL);
  /* Fields after the command, which may hold spaces and parentheses:
   * state(3) ... utime(14) stime(15). */
  if (text != NULL && (p = strrchr(text, ')')) != NULL &&
      sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
             &ut, &st) == 2)
    cpu = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
  free(text);
  if (cpu < 0)
    fail_msg("cannot read utime and stime from %s", path);
  return cpu;
}

int itest_log_count(const itest_daemon_t *d, const char *needle) {
  char *log = itest_daemon_log(d), *p = log, *nl;
  int n = 0;

  while ((p = strstr(p, needle)) != NULL) {
    n++;
    nl = strchr(p, '\n');
    if (nl == NULL)
      break;
    p = nl + 1;
  }
  free(log);
  return n;
}

int itest_log_wait(const itest_daemon_t *d, const char *needle,
                   long timeout_ms) {
  double end = itest_now_ms() + (double)timeout_ms;

  for (;;) {
    if (itest_log_count(d, needle) > 0)
      return 1;
    if (itest_now_ms() >= end)
      return 0;
    itest_sleep_ms(10);
  }
}

void itest_daemon_check_log(const itest_daemon_t *d) {
  static const char *const bad[] = {
      " alert ",       "ERROR: AddressSanitizer", "runtime error:",
      "LeakSanitizer", "ERROR: ThreadSanitizer",  "WARNING: ThreadSanitizer",
      "== Invalid ",   "== Conditional jump",     "definitely lost in",
  };
  char *log = itest_daemon_log(d), *line, *save = NULL;
  char found[512];
  size_t i;

  found[0] = '\0';
  for (line = strtok_r(log, "\n", &save); line && !found[0];
       line = strtok_r(NULL, "\n", &save))
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
      if (strstr(line, bad[i]) != NULL) {
        snprintf(found, sizeof(found), "%s", line);
        break;
      }
  free(log);
  if (found[0]) {
    itest_daemon_dump_log(d);
    fail_msg("weftd log has: %s", found);
  }
}

/* ---- counters ------------------------------------------------------------ */

int itest_stats_parse(const char *line, const char *listener,
                      const char *worker, itest_stats_t *out) {
  char head[256];
  const char *p, *key, *eq;
  char *end;
  size_t klen;
  uint64_t value;
  uint32_t seen = 0;
  int i;

  snprintf(head, sizeof(head), "listener=%s worker=%s ", listener, worker);
  p = strstr(line, head);
  if (p == NULL || (p != line && p[-1] != ' '))
    return 0;
  memset(out, 0, sizeof(*out));
  p += strlen(head);
  while (*p != '\0' && *p != '\n') {
    key = p;
    eq = strchr(p, '=');
    if (eq == NULL)
      fail_msg("stats line without key=value: %s", line);
    klen = (size_t)(eq - key);
    for (i = 0; i < ITEST_NSTATS; i++)
      if (strlen(itest_stat_names[i]) == klen &&
          memcmp(itest_stat_names[i], key, klen) == 0)
        break;
    value = strtoull(eq + 1, &end, 10);
    if (end == eq + 1)
      fail_msg("stats line with a bad value for \"%.*s\": %s", (int)klen, key,
               line);
    p = end;
    if (i < ITEST_NSTATS) { /* else a counter newer than these tests */
      out->v[i] = value;
      seen |= (uint32_t)1 << i;
    }
    while (*p == ' ')
      p++;
  }
  for (i = 0; i < ITEST_NSTATS; i++)
    if (!(seen & ((uint32_t)1 << i)))
      fail_msg("stats line without %s: %s", itest_stat_names[i], line);
  return 1;
}

void itest_stats_get(int stats_port, const char *listener, itest_stats_t *out) {
  char buf[65536], *line, *save = NULL;
  size_t n = 0;
  ssize_t r;
  int fd, found = 0;
  long timeout = (long)(10000 * itest_slow());

  fd = itest_connect(stats_port, NULL, 0);
  itest_send_all(fd, "stats\n", 6);
  for (;;) {
    if (n == sizeof(buf) - 1)
      fail_msg("stats answer longer than %zu bytes", sizeof(buf));
    r = itest_recv_wait(fd, buf + n, sizeof(buf) - 1 - n, timeout);
    if (r <= 0)
      itest_explain();
    if (r <= 0)
      fail_msg("stats listener: %s before \"end\"", r == 0 ? "EOF"
                                                    : r == -1
                                                        ? "no answer"
                                                        : strerror((int)-r));
    n += (size_t)r;
    buf[n] = '\0';
    if ((n == 4 && memcmp(buf, "end\n", 4) == 0) ||
        (n > 4 && strcmp(buf + n - 5, "\nend\n") == 0))
      break;
  }
  close(fd);
  for (line = strtok_r(buf, "\n", &save); line != NULL;
       line = strtok_r(NULL, "\n", &save))
    if (strncmp(line, "listener=", 9) == 0 &&
        itest_stats_parse(line, listener, "all", out))
      found = 1;
  if (!found)
    fail_msg("the stats answer has no line for listener=%s worker=all",
             listener);
}

int itest_stats_from_log(const itest_daemon_t *d, const char *listener,
                         itest_stats_t *out) {
  char *log = itest_daemon_log(d), *line, *save = NULL;
  int found = 0;

  for (line = strtok_r(log, "\n", &save); line != NULL;
       line = strtok_r(NULL, "\n", &save))
    if (strstr(line, " stats: listener=") != NULL &&
        itest_stats_parse(strstr(line, "listener="), listener, "all", out))
      found = 1;
  free(log);
  return found;
}

void itest_stats_expect(const itest_stats_t *got, const itest_stats_t *want,
                        uint32_t ignore, const char *what) {
  char msg[2048];
  size_t n = 0;
  int i;

  msg[0] = '\0';
  for (i = 0; i < ITEST_NSTATS; i++)
    if (!(ignore & ((uint32_t)1 << i)) && got->v[i] != want->v[i] &&
        n < sizeof(msg))
      n += (size_t)snprintf(msg + n, sizeof(msg) - n,
                            " %s=%" PRIu64 " (expected %" PRIu64 ")",
                            itest_stat_names[i], got->v[i], want->v[i]);
  if (n > 0)
    fail_msg("%s: counters differ:%s", what, msg);
}

/* ---- client sockets ------------------------------------------------------ */

int itest_connect(int port, const char *src_ip, int rcvbuf) {
  struct sockaddr_in sa, src;
  int fd;

  fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    fail_msg("socket: %s", strerror(errno));
  if (rcvbuf > 0 &&
      setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) != 0)
    fail_msg("SO_RCVBUF: %s", strerror(errno));
  if (src_ip != NULL) {
    memset(&src, 0, sizeof(src));
    src.sin_family = AF_INET;
    if (inet_pton(AF_INET, src_ip, &src.sin_addr) != 1)
      fail_msg("bad source address %s", src_ip);
    if (bind(fd, (struct sockaddr *)&src, sizeof(src)) != 0)
      fail_msg("bind to %s: %s", src_ip, strerror(errno));
  }
  memset(&sa, 0, sizeof(sa));
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  while (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
    if (errno != EINTR) {
      int err = errno;
      itest_explain();
      fail_msg("connect to port %d: %s", port, strerror(err));
    }
  return fd;
}

int itest_local_port(int fd) {
  struct sockaddr_in sa;
  socklen_t len = sizeof(sa);

  if (getsockname(fd, (struct sockaddr *)&sa, &len) != 0)
    fail_msg("getsockname: %s", strerror(errno));
  return ntohs(sa.sin_port);
}

void itest_set_nonblock(int fd) {
  int fl = fcntl(fd, F_GETFL);

  if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0)
    fail_msg("O_NONBLOCK: %s", strerror(errno));
}

void itest_send_all(int fd, const void *data, size_t len) {
  const uint8_t *p = data;
  struct pollfd pfd;
  ssize_t r;

  while (len > 0) {
    r = send(fd, p, len, MSG_NOSIGNAL);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pfd.fd = fd;
      pfd.events = POLLOUT;
      if (poll(&pfd, 1, (int)(10000 * itest_slow())) == 0)
        fail_msg("send: the socket took nothing for %.0f s", 10 * itest_slow());
      continue;
    }
    if (r < 0)
      fail_msg("send: %s", strerror(errno));
    p += r;
    len -= (size_t)r;
  }
}

ssize_t itest_recv_wait(int fd, void *buf, size_t len, long timeout_ms) {
  struct pollfd pfd;
  double end = itest_now_ms() + (double)timeout_ms, left;
  ssize_t r;
  int rc;

  for (;;) {
    left = end - itest_now_ms();
    pfd.fd = fd;
    pfd.events = POLLIN;
    pfd.revents = 0;
    rc = poll(&pfd, 1, left > 0 ? (int)left + 1 : 0);
    if (rc < 0 && errno == EINTR)
      continue;
    if (rc == 0)
      return -1;
    r = recv(fd, buf, len, MSG_DONTWAIT);
    if (r >= 0)
      return r;
    if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
      continue;
    return -errno;
  }
}

void itest_recv_exact(int fd, void *buf, size_t len, long timeout_ms,
                      const char *what) {
  double end = itest_now_ms() + (double)timeout_ms;
  uint8_t *p = buf;
  size_t want = len;
  ssize_t r;

  while (len > 0) {
    r = itest_recv_wait(fd, p, len, (long)(end - itest_now_ms()));
    if (r <= 0)
      itest_explain();
    if (r == -1)
      fail_msg("%s: %zu of %zu bytes within %ld ms", what, want - len, want,
               timeout_ms);
    if (r == 0)
      fail_msg("%s: EOF after %zu of %zu bytes", what, want - len, want);
    if (r < 0)
      fail_msg("%s: recv after %zu of %zu bytes: %s", what, want - len, want,
               strerror((int)-r));
    p += r;
    len -= (size_t)r;
  }
}

void itest_expect_eof(int fd, long timeout_ms, const char *what) {
  char buf[256];
  ssize_t r = itest_recv_wait(fd, buf, sizeof(buf), timeout_ms);

  if (r != 0)
    itest_explain();
  if (r == -1)
    fail_msg("%s: no EOF within %ld ms", what, timeout_ms);
  if (r > 0)
    fail_msg("%s: %zd bytes (\"%.*s\") where EOF was expected", what, r,
             (int)(r > 40 ? 40 : r), buf);
  if (r < 0)
    fail_msg("%s: %s where EOF was expected", what, strerror((int)-r));
}

void itest_close_rst(int fd) {
  struct linger lg = {1, 0};

  setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
  close(fd);
}

/* ---- data ---------------------------------------------------------------- */

uint64_t itest_splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}
