/*
 * Helpers for integration tests that run the real weftd: start it from a
 * config text in a private directory, find its ports in its log, watch its
 * descriptors, memory and CPU time through /proc, read its counters from a
 * `stats` listener, stop it and check its exit status and log.
 *
 * Every function that can fail fails the running cmocka test with a message
 * that says what was expected (and dumps the daemon's log when that helps),
 * so a test reads as a list of expectations.  Include <cmocka.h> first.
 *
 * Environment: WEFTD (the daemon, default ./weftd), WEFT_TEST_SCALE (traffic
 * volume; below 1 means a slow run such as `make check-valgrind`, and time
 * bounds widen by itest_slow()), TMPDIR.
 */
#ifndef WEFT_TESTS_ITEST_UTIL_H
#define WEFT_TESTS_ITEST_UTIL_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define ITEST_START_TIMEOUT_MS 30000 /* until weftd announces its ports */
#define ITEST_STOP_TIMEOUT_MS 30000  /* from SIGTERM to exit */

typedef struct {
  char dir[PATH_MAX - 64]; /* room for "/weft.conf" in conf and log */
  char conf[PATH_MAX];
  char log[PATH_MAX];
  pid_t pid;   /* -1 once reaped */
  int status;  /* the wait status, once reaped (-1: unknown) */
  long nofile; /* soft RLIMIT_NOFILE for the daemon; 0: inherit */
  /* Nonzero: cap the memory checkers' store of freed blocks (ASan's
   * quarantine, 256 MiB by default; valgrind's freelist, 20 MB) at about
   * 1 MiB for this daemon, or a bound on its resident memory would count
   * them as growth.  Through ASAN_OPTIONS and VALGRIND_OPTS, which only
   * those tools read. */
  int small_quarantine;
} itest_daemon_t;

/* ---- time and scale ---------------------------------------------------- */

/* Monotonic milliseconds. */
double itest_now_ms(void);
void itest_sleep_ms(long ms);
/* WEFT_TEST_SCALE, default 1.0; fails the test on a bad value. */
double itest_scale(void);
/* How much wider time bounds must be: 1 normally, 2 under sanitizers, 5
 * when WEFT_TEST_SCALE < 1 (valgrind).  Bounds widen, checks never go. */
double itest_slow(void);
/* 1 when the test (and so weftd) was built with AddressSanitizer. */
int itest_asan(void);

/* ---- the daemon --------------------------------------------------------- */

/* cmocka setup/teardown: a zeroed itest_daemon_t in *state; teardown kills
 * a daemon still running and removes its files. */
int itest_daemon_setup(void **state);
int itest_daemon_teardown(void **state);

/* Writes conf_text to a fresh directory, starts weftd on it with its output
 * to a log file there (honouring nofile and small_quarantine), and waits
 * for its " started (pid " line. */
void itest_daemon_start(itest_daemon_t *d, const char *conf_text);
/* Runs `weftd --check` on conf_text, in a directory of its own that is
 * removed after, and waits for it (fails after ITEST_STOP_TIMEOUT_MS):
 * returns its wait status, and what it wrote in *output (free it). */
int itest_daemon_check(const char *conf_text, char **output);
/* The port listener `name` announced (bound to 127.0.0.1). */
int itest_daemon_port(const itest_daemon_t *d, const char *name);
/* Waits up to timeout_ms for the daemon to exit: 1 and *status when it
 * did, 0 while it runs. */
int itest_daemon_reap(itest_daemon_t *d, long timeout_ms, int *status);
/* After the test signalled it: the daemon must exit 0 (not die from a
 * signal) within timeout_ms, or have done so already (reaped).  Returns
 * the milliseconds it took. */
double itest_daemon_expect_exit0(itest_daemon_t *d, long timeout_ms,
                                 const char *after);
/* SIGTERM, then itest_daemon_expect_exit0. */
void itest_daemon_stop(itest_daemon_t *d);
void itest_daemon_signal(const itest_daemon_t *d, int sig);

/* Descriptors it holds, or -1 where /proc cannot tell. */
int itest_daemon_fds(const itest_daemon_t *d);
/* Waits (up to 5 s) for the count to come back to baseline. */
void itest_daemon_expect_fds(const itest_daemon_t *d, int baseline);
/* Waits (up to 5 s) for the count to be n: baseline plus the connections
 * the test holds (weftd closes its side a moment after the client). */
void itest_daemon_wait_fds(const itest_daemon_t *d, int n, const char *what);
/* VmRSS in KiB. */
long itest_daemon_rss_kib(const itest_daemon_t *d);
/* 1 when the daemon runs under valgrind (its /proc/PID/exe says so). */
int itest_daemon_valgrind(const itest_daemon_t *d);
/* utime + stime, in seconds. */
double itest_daemon_cpu_s(const itest_daemon_t *d);

/* The whole log, NUL-terminated (free it). */
char *itest_daemon_log(const itest_daemon_t *d);
void itest_daemon_dump_log(const itest_daemon_t *d);
/* Lines of the log containing needle. */
int itest_log_count(const itest_daemon_t *d, const char *needle);
/* Waits up to timeout_ms for a line containing needle: 1 if it came. */
int itest_log_wait(const itest_daemon_t *d, const char *needle,
                   long timeout_ms);
/* No alert line and no sanitizer report. */
void itest_daemon_check_log(const itest_daemon_t *d);

/* ---- counters ----------------------------------------------------------- */

#define ITEST_STATS_MAP(XX)                                                    \
  XX(conns_open)                                                               \
  XX(conns_total)                                                              \
  XX(frames_in)                                                                \
  XX(frames_out)                                                               \
  XX(bytes_in)                                                                 \
  XX(bytes_out)                                                                \
  XX(decode_errors)                                                            \
  XX(timeouts_idle)                                                            \
  XX(timeouts_frame)                                                           \
  XX(timeouts_write)                                                           \
  XX(refused_max_connections)                                                  \
  XX(refused_per_ip)                                                           \
  XX(refused_nomem)                                                            \
  XX(accept_pauses)                                                            \
  XX(backpressure_pauses)                                                      \
  XX(shutdown_forced)                                                          \
  XX(messages_in)                                                              \
  XX(frames_discarded)                                                         \
  XX(connect_failures)

enum {
#define ITEST_STAT_ENUM(name) ITEST_ST_##name,
  ITEST_STATS_MAP(ITEST_STAT_ENUM)
#undef ITEST_STAT_ENUM
      ITEST_NSTATS
};

typedef struct {
  uint64_t v[ITEST_NSTATS];
} itest_stats_t;

extern const char *const itest_stat_names[ITEST_NSTATS];

/* Parses one "listener=NAME worker=W key=value ..." line (a "stats: "
 * prefix and anything before it are skipped) if it is for listener and
 * worker (e.g. "all"): 1 and *out filled, else 0.  Every key above must be
 * there; keys added later are ignored. */
int itest_stats_parse(const char *line, const char *listener,
                      const char *worker, itest_stats_t *out);
/* Asks the `stats` listener on stats_port (line codec) and returns the
 * worker=all line of `listener`. */
void itest_stats_get(int stats_port, const char *listener, itest_stats_t *out);
/* The last worker=all line for listener in the log (SIGUSR1): 1 if any. */
int itest_stats_from_log(const itest_daemon_t *d, const char *listener,
                         itest_stats_t *out);
/* Fails unless every counter equals want, except those whose bit is set in
 * `ignore` (1 << ITEST_ST_x), which the caller checks itself. */
void itest_stats_expect(const itest_stats_t *got, const itest_stats_t *want,
                        uint32_t ignore, const char *what);
#define ITEST_BIT(name) ((uint32_t)1 << ITEST_ST_##name)

/* ---- client sockets ----------------------------------------------------- */

/* A blocking TCP connection to 127.0.0.1:port, from src_ip (e.g.
 * "127.0.0.2") when not NULL.  rcvbuf > 0 sets SO_RCVBUF before connect. */
int itest_connect(int port, const char *src_ip, int rcvbuf);
/* The local port of a connected socket. */
int itest_local_port(int fd);
void itest_set_nonblock(int fd);
void itest_send_all(int fd, const void *data, size_t len);
/* One read, waiting at most timeout_ms: bytes read, 0 at EOF, -1 on
 * timeout, -errno on an error (ECONNRESET...). */
ssize_t itest_recv_wait(int fd, void *buf, size_t len, long timeout_ms);
/* Reads exactly len bytes within timeout_ms overall, or fails. */
void itest_recv_exact(int fd, void *buf, size_t len, long timeout_ms,
                      const char *what);
/* Reads until EOF within timeout_ms: fails on data, timeout or error. */
void itest_expect_eof(int fd, long timeout_ms, const char *what);
/* Closes with an RST (SO_LINGER 0). */
void itest_close_rst(int fd);

/* ---- data --------------------------------------------------------------- */

uint64_t itest_splitmix64(uint64_t x);

#endif /* WEFT_TESTS_ITEST_UTIL_H */
