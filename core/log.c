/* Logging to stderr, one write per line so threads never interleave. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <weft/log.h>

static int weft__log_level = WEFT_LOG_INFO;
static int weft__log_syslog;

void weft_log_to_syslog(const char *ident) {
  openlog(ident ? ident : "weft", LOG_PID | LOG_NDELAY, LOG_DAEMON);
  weft__log_syslog = 1;
}

static const char *const weft__log_names[] = {"debug", "info", "warn", "error",
                                              "alert"};

const char *weft_log_level_name(int level) {
  if (level < WEFT_LOG_DEBUG || level > WEFT_LOG_ALERT)
    return NULL;
  return weft__log_names[level];
}

void weft_log_set_level(int level) {
  if (level < WEFT_LOG_DEBUG)
    level = WEFT_LOG_DEBUG;
  if (level > WEFT_LOG_ALERT)
    level = WEFT_LOG_ALERT;
  weft__log_level = level;
}

int weft_log_get_level(void) { return weft__log_level; }

void weft_logv(int level, const char *fmt, va_list ap) {
  char line[2048];
  struct timeval tv;
  struct tm tm;
  size_t n;
  int r;

  if (level < weft__log_level)
    return;
  if (level > WEFT_LOG_ALERT)
    level = WEFT_LOG_ALERT;
  if (weft__log_syslog) {
    static const int prio[] = {LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERR,
                               LOG_ALERT};
    vsyslog(prio[level < 0 ? 0 : level], fmt, ap);
    return;
  }
  gettimeofday(&tv, NULL);
  gmtime_r(&tv.tv_sec, &tm);
  n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
  r = snprintf(line + n, sizeof(line) - n, ".%03dZ %s ", (int)(tv.tv_usec / 1000),
               weft__log_names[level < 0 ? 0 : level]);
  if (r > 0)
    n += (size_t)r;
  r = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
  if (r < 0)
    r = 0;
  n += (size_t)r;
  if (n > sizeof(line) - 2)
    n = sizeof(line) - 2; /* truncated: still one whole line */
  line[n++] = '\n';
  /* A single write() keeps lines from different workers whole. */
  if (write(STDERR_FILENO, line, n) < 0)
    return; /* nowhere left to report it */
}

void weft_log(int level, const char *fmt, ...) {
  va_list ap;

  va_start(ap, fmt);
  weft_logv(level, fmt, ap);
  va_end(ap);
}
