/*
 * Connections, as a handler sees them.  Every function here must be called
 * on the connection's own worker thread, from a handler or codec callback.
 */
#ifndef WEFT_CONN_H
#define WEFT_CONN_H

#include <weft/common.h>

WEFT_BEGIN_DECLS

/*
 * Encodes frame[0..len) with the listener's codec and queues it.  The bytes
 * are copied: the caller keeps ownership of frame.  Queued output is written
 * once per read batch.  Returns 0, WEFT_ECLOSED if the connection is
 * closing, WEFT_ENOMEM, or the codec's error.
 */
WEFT_EXTERN int weft_conn_send(weft_conn_t *conn, const void *frame,
                               size_t len);

/*
 * ABI 1.2.  Sends frames[0..n) as n weft_conn_send() calls would, in one
 * go: with a codec that has encode_many(), one codec call encodes them all.
 * Returns 0, or the error of the first frame that could not be sent: the
 * frames before it are queued, it and those after it are not.
 */
WEFT_EXTERN int weft_conn_send_many(weft_conn_t *conn,
                                    const weft_frame_t *frames, size_t n);

/*
 * Closes the connection: no frame is delivered after this call, queued
 * output is flushed, then the write side is shut down and the socket closed.
 * reason is 0 or a WEFT_E* code passed on to on_close.  Idempotent.
 */
WEFT_EXTERN void weft_conn_close(weft_conn_t *conn, int reason);

/*
 * 1 when the connection is open and its queued output is at or below the
 * high watermark, else 0.  A handler that
 * produces output on its own should stop while 0 and resume in on_writable.
 */
WEFT_EXTERN int weft_conn_writable(const weft_conn_t *conn);

/* Bytes queued and not yet written to the socket. */
WEFT_EXTERN size_t weft_conn_queued(const weft_conn_t *conn);

/* Per-connection user data, NULL until set.  weft never touches it. */
WEFT_EXTERN void weft_conn_set_data(weft_conn_t *conn, void *data);
WEFT_EXTERN void *weft_conn_data(const weft_conn_t *conn);

/* The state the handler's create() returned for this listener. */
WEFT_EXTERN void *weft_conn_handler_state(const weft_conn_t *conn);

/*
 * The peer as "ip:port", "[ipv6]:port" or "unix".  The string is formatted
 * on each call into a buffer of the calling thread: valid until the next
 * call on that thread; copy it to keep it.
 */
WEFT_EXTERN const char *weft_conn_peer(const weft_conn_t *conn);

/* The listener's configured name; owned by the engine. */
WEFT_EXTERN const char *weft_conn_listener(const weft_conn_t *conn);

/* A number unique among this process's connections. */
WEFT_EXTERN uint64_t weft_conn_id(const weft_conn_t *conn);

WEFT_END_DECLS

#endif /* WEFT_CONN_H */
