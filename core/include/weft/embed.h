/*
 * In-memory connections, for testing plugins without sockets (in the
 * spirit of Netty's EmbeddedChannel).  A weft_embed_t is one connection
 * served by a codec and a handler exactly as the engine serves a socket:
 * the same framer, backpressure, timeouts, close reasons and mailbox, on a
 * stand-in worker whose transport is a pair of byte queues.  The test plays
 * the peer: it feeds bytes (or frames), reads what the connection wrote,
 * stops and starts reading, half-closes or resets, and fires timeouts by
 * hand.  No socket is opened and no thread is started.  See weft_embed(3).
 *
 * Threading: every call on an embed, and every plugin callback it causes,
 * runs on the thread that created it; handler and codec callbacks run
 * inside these calls, never later.  weft_post() to the connection works
 * from any thread: the message is delivered at the next weft_embed call on
 * it.  Never call weft_embed functions from inside a plugin callback.
 */
#ifndef WEFT_EMBED_H
#define WEFT_EMBED_H

#include <weft/common.h>
#include <weft/plugin.h>

WEFT_BEGIN_DECLS

typedef struct weft_embed weft_embed_t;

/* The deadlines weft_embed_fire() and weft_embed_armed() know. */
typedef enum {
  WEFT_EMBED_IDLE_TIMEOUT = 1,  /* idle_timeout: no byte either way */
  WEFT_EMBED_FRAME_TIMEOUT = 2, /* frame_timeout: a frame begun, unfinished */
  WEFT_EMBED_WRITE_TIMEOUT = 3, /* write_timeout: output the peer won't read */
  WEFT_EMBED_CLOSE_TIMEOUT = 4, /* a closing connection's last replies */
  WEFT_EMBED_SHUTDOWN_GRACE = 5 /* after weft_embed_shutdown() */
} weft_embed_timer_t;

/*
 * Creates an in-memory connection served by the codec and handler these
 * descriptors describe (a test links the plugin's source and names its
 * descriptor, dlopen()s it, or takes a built-in's with weft_embed_builtin()).
 * Each descriptor is checked as the loader checks a plugin file; the
 * options are libconfig text, as inside the plugin's group in weft.conf
 * ("max_length = 16; strip_cr = false;"; NULL or "" for none), and reach
 * create() through the weft_opt_* accessors with the same checks, unknown
 * options included.  Then the connection opens (conn_init, on_open) and
 * listener settings have weft.conf's defaults (see weft_embed_settings()).
 * Each problem is logged.  Returns 0 and *embed, WEFT_EPLUGIN (a bad
 * descriptor), WEFT_ECONFIG (options or create() refused), WEFT_ENOMEM,
 * WEFT_EINVAL, or the error of a codec conn_init() that refused the
 * connection.  A handler whose on_open refuses leaves a closed connection.
 * The descriptors, and the code they point to, must stay loaded until
 * weft_embed_free().
 */
WEFT_EXTERN int weft_embed_new(weft_embed_t **embed, const weft_plugin_t *codec,
                               const char *codec_opts,
                               const weft_plugin_t *handler,
                               const char *handler_opts);

/*
 * The same, with plugins named as weftd names them: a name is looked up in
 * plugin_path, then among the built-ins, then in the install directory; a
 * name with a '/' is a plugin file.  plugin_path is a ':'-separated list
 * of directories; NULL takes the environment variable WEFT_PLUGIN_PATH.
 * Plugins are loaded with libltdl: not while another thread loads any
 * (another weft_embed_new_named(), an engine starting or reloading).
 */
WEFT_EXTERN int weft_embed_new_named(weft_embed_t **embed, const char *codec,
                                     const char *codec_opts,
                                     const char *handler,
                                     const char *handler_opts,
                                     const char *plugin_path);

/* The descriptor of a plugin built into libweft ("line", "echo", ...), or
 * NULL if there is none of that name.  Valid for the life of the process. */
WEFT_EXTERN const weft_plugin_t *weft_embed_builtin(const char *name);

/*
 * Closes the connection if it is still open (on_close with WEFT_ESHUTDOWN,
 * as a forced stop), destroys the plugin instances and frees everything.
 * Messages still queued for the connection are freed undelivered.  NULL
 * is ignored.
 */
WEFT_EXTERN void weft_embed_free(weft_embed_t *embed);

/*
 * Sets listener settings, as inside a listener's block in weft.conf:
 * name, high_watermark, low_watermark, idle_timeout, frame_timeout and
 * write_timeout, with the same units, ranges and checks.  Each call starts
 * from weft.conf's defaults: what the text leaves out takes its default.
 * They apply from now on (the engine reads them at each use).  Returns 0,
 * or WEFT_ECONFIG with each problem logged (nothing changes).
 */
WEFT_EXTERN int weft_embed_settings(weft_embed_t *embed, const char *settings);

/* The connection the plugins see: every weft_conn_* function works on
 * it (its peer is "memory").  Valid until weft_embed_free(). */
WEFT_EXTERN weft_conn_t *weft_embed_conn(const weft_embed_t *embed);

/*
 * The peer sends data[0..len): decoded and delivered exactly like bytes
 * read from a socket (up to 64 KiB a read).  While the connection does not
 * read (backpressure) the bytes wait, as in a socket's receive queue, and
 * are delivered when it reads again.  Returns 0, WEFT_ECLOSED when the
 * connection no longer reads (closing or closed: the bytes are refused),
 * WEFT_EINVAL after weft_embed_eof(), or WEFT_ENOMEM.
 */
WEFT_EXTERN int weft_embed_feed(weft_embed_t *embed, const void *data,
                                size_t len);

/* Encodes frame[0..len) with the codec, as a peer using the same codec
 * would, and feeds it.  Same returns, or the encoder's error. */
WEFT_EXTERN int weft_embed_feed_frame(weft_embed_t *embed, const void *frame,
                                      size_t len);

/* The peer half-closes after what it fed: the connection decodes what is
 * left (a partial frame is a truncation error), answers, and closes.
 * 0, WEFT_EINVAL if already done, or WEFT_ECLOSED. */
WEFT_EXTERN int weft_embed_eof(weft_embed_t *embed);

/* The peer resets the connection: it closes at once with
 * WEFT_ECONNRESET, and output not yet read is lost.  0 or WEFT_ECLOSED. */
WEFT_EXTERN int weft_embed_reset(weft_embed_t *embed);

/*
 * What the connection wrote and the peer has read, not yet taken: *data
 * (if data is not NULL) points at it, valid until the next weft_embed call.
 * Returns its length.
 */
WEFT_EXTERN size_t weft_embed_output(weft_embed_t *embed, const uint8_t **data);

/* Copies up to len bytes of that output into buf (buf NULL: drops them)
 * and removes them.  Returns how many. */
WEFT_EXTERN size_t weft_embed_take(weft_embed_t *embed, void *buf, size_t len);

/*
 * Decodes the next frame of that output with the codec, as the peer would,
 * and removes its bytes: *frame (never NULL) is valid until the next
 * weft_embed call.  Returns 1 for a frame, 0 when no whole frame is there
 * (once the connection has closed, leftover bytes go to decode_eof), or
 * the codec's error (the bytes stay, for weft_embed_output()).
 */
WEFT_EXTERN int weft_embed_read_frame(weft_embed_t *embed,
                                      const uint8_t **frame, size_t *len);

/*
 * Whether the peer reads (1, the start) or not (0).  Not reading, output
 * stays queued in the connection: weft_conn_queued() grows, the
 * watermarks apply (reading stops above the high one; on_writable below
 * the low one once the peer reads again) and the write timeout is armed.
 * 0 or WEFT_ECLOSED.
 */
WEFT_EXTERN int weft_embed_set_peer_reading(weft_embed_t *embed, int reading);

/* A peer that does not read takes len more bytes now (a slow reader
 * making progress).  0 or WEFT_ECLOSED. */
WEFT_EXTERN int weft_embed_peer_read(weft_embed_t *embed, size_t len);

/* 1 when the deadline is running (its setting is not 0 and the state arms
 * it), else 0; WEFT_EINVAL for an unknown timer. */
WEFT_EXTERN int weft_embed_armed(weft_embed_t *embed, int timer);

/*
 * The deadline passes now: the engine's own expiry runs (the same close
 * reason, log line, counter and on_close).  A write timeout finds a reader
 * that took bytes since the last check making progress, and re-arms.
 * Returns 0, WEFT_ENOENT when that deadline is not armed, or WEFT_EINVAL.
 */
WEFT_EXTERN int weft_embed_fire(weft_embed_t *embed, int timer);

/*
 * The daemon stops (SIGTERM): on_shutdown, then the bytes already fed are
 * answered and the connection closes with WEFT_ESHUTDOWN once its replies
 * are read.  A second call does nothing.  Returns 0.
 */
WEFT_EXTERN int weft_embed_shutdown(weft_embed_t *embed);

/*
 * Posts msg to the connection as weft_post() does (same mailbox, same
 * returns; on failure msg is still the caller's) and delivers it:
 * on_message, then free_msg(msg).  A weft_conn_ref_t to the connection is
 * valid until weft_embed_free().
 */
WEFT_EXTERN int weft_embed_post(weft_embed_t *embed, void *msg,
                                void (*free_msg)(void *msg));

/*
 * Runs what is pending, as the event loop would: messages posted to the
 * connection, bytes it can read, output to flush.  Every other weft_embed
 * call does this first.  Returns 0 when nothing is left to do, 1 when work
 * remains after a bounded number of rounds (a handler that keeps posting
 * to itself).
 */
WEFT_EXTERN int weft_embed_run(weft_embed_t *embed);

/*
 * 0 while the connection is open; 1 once on_close has run (its replies may
 * still wait for the peer to read them); 2 once it is closed for good.
 * *reason and *detail (when not NULL) get what on_close was given; detail
 * may be NULL, and is valid until weft_embed_free().
 */
WEFT_EXTERN int weft_embed_closed(weft_embed_t *embed, int *reason,
                                  const char **detail);

WEFT_END_DECLS

#endif /* WEFT_EMBED_H */
