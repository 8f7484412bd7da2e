/*
 * Error codes: a weft call that can fail returns 0 or one of these negative
 * values (calls that return a count, a flag or an index say so).
 */
#ifndef WEFT_ERROR_H
#define WEFT_ERROR_H

#include <weft/common.h>

WEFT_BEGIN_DECLS

/* XX(name, value, message).  One table generates the enum and the strings. */
#define WEFT_ERRNO_MAP(XX)                                                     \
  XX(EINVAL, -1, "invalid argument")                                          \
  XX(ENOMEM, -2, "out of memory")                                             \
  XX(EPROTO, -3, "protocol error")                                            \
  XX(EMSGSIZE, -4, "frame too large")                                         \
  XX(ETRUNC, -5, "truncated frame at end of stream")                          \
  XX(ECONNRESET, -6, "connection reset by peer")                              \
  XX(EIO, -7, "i/o error")                                                    \
  XX(ESHUTDOWN, -8, "shutting down")                                          \
  XX(ETIMEDOUT, -9, "timed out")                                              \
  XX(ENOENT, -10, "not found")                                                \
  XX(EABI, -11, "plugin ABI mismatch")                                        \
  XX(EPLUGIN, -12, "invalid plugin")                                          \
  XX(ECONFIG, -13, "invalid configuration")                                   \
  XX(ECLOSED, -14, "connection closed")                                       \
  XX(EHANDLER, -15, "handler error")                                          \
  XX(EBIND, -16, "cannot bind address")                                      \
  XX(EAGAIN, -17, "resource temporarily unavailable, try again")            \
  XX(ECONNREFUSED, -18, "connection refused")                                 \
  XX(EUNAVAIL, -19, "no upstream available")

typedef enum {
#define WEFT__ERR_ENUM(name, val, msg) WEFT_##name = (val),
  WEFT_ERRNO_MAP(WEFT__ERR_ENUM)
#undef WEFT__ERR_ENUM
  WEFT__ERRNO_MIN = -20
} weft_errno_t;

/* A static, human-readable message for err ("unknown error" if unknown). */
WEFT_EXTERN const char *weft_strerror(int err);
/* The code's name without prefix, e.g. "EPROTO". */
WEFT_EXTERN const char *weft_err_name(int err);

WEFT_END_DECLS

#endif /* WEFT_ERROR_H */
