/*
 * Handlers decide what to do with each frame.  A handler plugin exports a
 * weft_plugin_t of kind WEFT_PLUGIN_HANDLER whose vtable points to a
 * weft_handler_vtable_t.  See weft-handler(3).
 *
 * Threading: create() runs on the main thread; one instance per listener per
 * worker.  All connection callbacks run on the connection's worker thread,
 * one at a time.  destroy() runs on the thread that stops the engine (the
 * caller of weft_engine_wait(); in weftd a thread of its own), except for a
 * listener retired by a reload, whose instances are destroyed by their
 * worker after their last connection closed.  Either way nothing else runs on the
 * instance meanwhile.
 */
#ifndef WEFT_HANDLER_H
#define WEFT_HANDLER_H

#include <weft/common.h>
#include <weft/opts.h>

WEFT_BEGIN_DECLS

typedef struct weft_handler_vtable {
  /* sizeof(weft_handler_vtable_t) as the plugin was compiled. */
  size_t struct_size;

  /* Optional.  Reads options, builds per-listener state.  0 or WEFT_E*. */
  int (*create)(weft_opts_t *opts, void **state);
  /* Optional.  Frees what create() built, after its last connection closed. */
  void (*destroy)(void *state);

  /* Optional.  A connection was accepted.  Non-zero refuses it (closed at
   * once, on_close still runs). */
  int (*on_open)(weft_conn_t *conn);

  /*
   * Required.  One decoded frame: a slice valid until this call returns;
   * copy what you keep.  Return 0, or a WEFT_E* code to close the
   * connection with that reason (replies already sent still go out).
   */
  int (*on_frame)(weft_conn_t *conn, const uint8_t *frame, size_t len);

  /* Optional.  Queued output fell below the low watermark after having
   * risen above the high one: the handler may produce output again. */
  void (*on_writable)(weft_conn_t *conn);

  /*
   * Optional.  Called exactly once per connection that on_open saw (or
   * would have seen), when it closes.  reason is 0 for an orderly close by
   * the peer or the handler, else a WEFT_E* code (WEFT_ETIMEDOUT for the
   * idle, frame and write timeouts, WEFT_ESHUTDOWN when the daemon stops,
   * a codec's error for bad input); detail is a readable explanation or
   * NULL.  No callback for this connection follows.
   */
  void (*on_close)(weft_conn_t *conn, int reason, const char *detail);

  /* Optional.  The daemon is stopping: finish up.  Frames already received
   * are still delivered, and replies are flushed before the close. */
  void (*on_shutdown)(weft_conn_t *conn);

  /*
   * ABI 1.1.  Optional.  A message posted with weft_post() to this
   * connection (see mailbox.h).  msg is freed by weft after the call, with
   * the free function the poster gave: copy what you keep.  Never called
   * after on_close.  Without it, messages to this handler are dropped.
   */
  void (*on_message)(weft_conn_t *conn, void *msg);

  /*
   * ABI 1.1.  Optional.  The codec skipped bad input and the connection
   * goes on (WEFT_DECODE_SKIP with an error, e.g. a line over max_length
   * with on_overflow = "discard"): error is a WEFT_E* code, reason a
   * static text.  Called once per skipped frame, in stream order.
   */
  void (*on_error)(weft_conn_t *conn, int error, const char *reason);

  /*
   * ABI 1.2.  Optional.  The peer half-closed (sent FIN) and every frame
   * before it was delivered.  Return 0 to close as without this callback
   * (queued replies still go out first), or 1 to keep the connection open
   * for writing while replies are still to come: the handler then closes
   * it with weft_conn_close() (the idle and write timeouts still apply).
   * Called once per connection.
   */
  int (*on_eof)(weft_conn_t *conn);

  /*
   * ABI 1.2.  Optional.  Frames a codec's decode_many() found together in
   * one read, n >= 1, in stream order: slices valid until this call
   * returns.  Handle them as n on_frame() calls would, and return 0, or a
   * WEFT_E* code to close the connection (what was queued still goes out;
   * a handler that fails on frame k should not act on those after it).
   * Only codecs with decode_many() produce batches: every other frame (a
   * frame completed across reads, the last one at end of stream, any frame
   * of a codec without it) still comes through on_frame(), which stays
   * required.  The engine checks the high watermark after each call, and
   * gives one batch no more input bytes than the watermark has room for.
   */
  int (*on_frames)(weft_conn_t *conn, const weft_frame_t *frames, size_t n);
} weft_handler_vtable_t;

WEFT_END_DECLS

#endif /* WEFT_HANDLER_H */
