/* Logging: one line per call, with a level; to stderr with a timestamp, or
 * to syslog(3) after weft_log_to_syslog(). */
#ifndef WEFT_LOG_H
#define WEFT_LOG_H

#include <stdarg.h>
#include <weft/common.h>

WEFT_BEGIN_DECLS

/*
 * Levels, most verbose first.  WEFT_LOG_ALERT is reserved for broken
 * invariants inside weft or a plugin: the test suite fails on any alert line.
 */
typedef enum {
  WEFT_LOG_DEBUG = 0,
  WEFT_LOG_INFO = 1,
  WEFT_LOG_WARN = 2,
  WEFT_LOG_ERROR = 3,
  WEFT_LOG_ALERT = 4
} weft_log_level_t;

/*
 * Writes one line "TIME LEVEL message" to stderr if level is at or above the
 * current threshold.  Safe to call from any thread; a line is never
 * interleaved with another.
 */
WEFT_EXTERN void weft_log(int level, const char *fmt, ...) WEFT_PRINTF(2, 3);
WEFT_EXTERN void weft_logv(int level, const char *fmt, va_list ap);

/* Sets the threshold (default WEFT_LOG_INFO).  Call before the engine starts. */
WEFT_EXTERN void weft_log_set_level(int level);
WEFT_EXTERN int weft_log_get_level(void);

/*
 * Sends every line from now on to syslog(3) (facility LOG_DAEMON, with the
 * pid, under ident) instead of stderr; levels map to LOG_DEBUG, LOG_INFO,
 * LOG_WARNING, LOG_ERR and LOG_ALERT.  Call before the engine starts.
 */
WEFT_EXTERN void weft_log_to_syslog(const char *ident);

/* "debug", "info", ...; NULL if level is out of range. */
WEFT_EXTERN const char *weft_log_level_name(int level);

WEFT_END_DECLS

#endif /* WEFT_LOG_H */
