/*
 * Codecs turn a connection's byte stream into frames and frames into bytes.
 * A codec plugin exports a weft_plugin_t of kind WEFT_PLUGIN_CODEC whose
 * vtable points to a weft_codec_vtable_t.  See weft-codec(3).
 *
 * Threading: create() runs on the main thread; one instance is created per
 * listener per worker, and every other call for that instance runs on that
 * worker's thread only, so a codec needs no locks.  destroy() runs on the
 * thread that stops the engine (the caller of weft_engine_wait(); in weftd
 * a thread of its own), except for a listener retired by a reload, whose
 * instances are destroyed by their worker after their last connection
 * closed.
 */
#ifndef WEFT_CODEC_H
#define WEFT_CODEC_H

#include <weft/common.h>
#include <weft/opts.h>
#include <weft/out.h>

WEFT_BEGIN_DECLS

/* What one decode() call found.  The three outcomes never overlap. */
typedef enum {
  WEFT_DECODE_MORE = 0,  /* no complete frame yet: wait for more bytes */
  WEFT_DECODE_FRAME = 1, /* one frame (possibly empty) */
  WEFT_DECODE_ERROR = 2, /* the input can never become valid */
  /*
   * ABI 1.1: drop `consumed` bytes (1..len) and go on, delivering no frame
   * (an over-long frame skipped, as on_overflow = "discard" does).  With
   * `error` < 0 the skip is reported once: logged, counted, and passed to
   * the handler's on_error; the connection lives on.
   */
  WEFT_DECODE_SKIP = 3
} weft_decode_status_t;

/* Codecs may test for the skip outcome at compile time. */
#define WEFT_HAVE_DECODE_SKIP 1

/*
 * In/out record of one decode() call.  The engine zeroes it except for
 * `scanned`, which it sets to the value the previous call returned with
 * WEFT_DECODE_MORE for this same partial frame (0 at a frame's start), so a
 * codec resumes scanning where it stopped: a 1 MiB line arriving a byte at a
 * time costs O(n) in total, not O(n^2).
 */
typedef struct weft_decode {
  /* FRAME: the frame, a slice into the input (no copy).  Valid until the
   * handler's on_frame() returns. */
  const uint8_t *frame;
  size_t frame_len;
  /* FRAME: input bytes used (header + frame + trailer), at least 1.
   * ERROR from decode(): offset in the input where the error was detected.
   * decode_eof() errors are reported at the unfinished frame's start, and
   * this field is ignored. */
  size_t consumed;
  /* In: where to resume scanning.  MORE: how many bytes were examined and
   * need not be examined again. */
  size_t scanned;
  /* MORE: the total input size the frame needs, when the codec knows it
   * (a length header was read), else 0.  Lets the engine size its buffer. */
  size_t need;
  /* ERROR: a WEFT_E* code (WEFT_EPROTO, WEFT_EMSGSIZE, ...) and a static
   * reason for the log and the handler's on_close. */
  int error;
  const char *reason;
} weft_decode_t;

typedef struct weft_codec_vtable {
  /* sizeof(weft_codec_vtable_t) as the plugin was compiled. */
  size_t struct_size;

  /* Optional.  Reads options, builds per-listener state.  0 or WEFT_E*. */
  int (*create)(weft_opts_t *opts, void **state);
  /* Optional.  Frees what create() built. */
  void (*destroy)(void *state);

  /* Optional.  Per-connection state; stateless codecs leave both NULL and
   * pay nothing per connection.  0 or WEFT_E* (the connection is refused). */
  int (*conn_init)(void *state, void **conn_state);
  void (*conn_free)(void *state, void *conn_state);

  /*
   * Required.  Looks for one frame at the start of in[0..len).  len > 0.
   * Must not read outside the input, must not keep pointers into it past
   * the call, and must find an over-limit frame from its header or from the
   * first byte past the limit, never by buffering it.
   */
  weft_decode_status_t (*decode)(weft_codec_ctx_t *ctx, const uint8_t *in,
                                 size_t len, weft_decode_t *d);

  /*
   * Optional.  The peer closed with in[0..len) undecoded (len > 0).  Return
   * a last FRAME, or ERROR.  When NULL, leftover bytes are a WEFT_ETRUNC
   * error.  MORE is treated as ERROR.
   */
  weft_decode_status_t (*decode_eof)(weft_codec_ctx_t *ctx, const uint8_t *in,
                                     size_t len, weft_decode_t *d);

  /* Required.  Appends the wire form of frame[0..len) to out.  0 or WEFT_E*. */
  int (*encode)(weft_codec_ctx_t *ctx, const uint8_t *frame, size_t len,
                weft_out_t *out);

  /*
   * ABI 1.2.  Optional: the batch path, so that a read holding many small
   * frames costs one call, not one per frame.
   *
   * Decodes consecutive frames from the start of in[0..len) (len > 0) into
   * frames[0..max) (max >= 1) exactly as a run of decode() calls, each
   * starting where the last frame ended with `scanned` 0, would; stops
   * before the first input for which decode() would not return
   * WEFT_DECODE_FRAME (an unfinished frame, a skip, an error), or when the
   * array is full, and may stop sooner.  Returns the frames stored and sets
   * *used to the input bytes they took (0 with no frame).  Each frame is a
   * slice of the input, valid as decode()'s are.  The engine calls it only
   * at a frame's start, then decode() for whatever it left; it must not
   * change per-connection state that decode() would leave unchanged.  The
   * engine checks *used, not each slice as it does decode()'s frame: test
   * decode_many against decode() over every split of your vectors.
   */
  size_t (*decode_many)(weft_codec_ctx_t *ctx, const uint8_t *in, size_t len,
                        weft_frame_t *frames, size_t max, size_t *used);

  /*
   * ABI 1.2.  Optional.  Appends the wire form of frames[0..n) (n >= 1), in
   * order, exactly as n encode() calls would, and fails where one of them
   * would.  0 or WEFT_E*: after an error the engine drops everything this
   * call appended and encodes the frames again one at a time with encode(),
   * so the frames before the bad one still go out, with encode()'s error.
   */
  int (*encode_many)(weft_codec_ctx_t *ctx, const weft_frame_t *frames,
                     size_t n, weft_out_t *out);
} weft_codec_vtable_t;

/* The state create() returned for this listener. */
WEFT_EXTERN void *weft_codec_state(const weft_codec_ctx_t *ctx);
/* The state conn_init() returned for this connection (NULL if none). */
WEFT_EXTERN void *weft_codec_conn_state(const weft_codec_ctx_t *ctx);
/* The connection being served; NULL when the codec runs outside one (tests). */
WEFT_EXTERN weft_conn_t *weft_codec_conn(const weft_codec_ctx_t *ctx);

/*
 * Queues protocol bytes of the codec's own (a handshake, a pong, a last
 * error message) on the connection, bypassing encode().  Allowed while the
 * connection is closing, so a codec can explain a protocol error before the
 * close.  0, WEFT_ENOMEM, WEFT_EINVAL outside a connection, or WEFT_ECLOSED
 * once the socket is closed.
 */
WEFT_EXTERN int weft_codec_write(weft_codec_ctx_t *ctx, const void *data,
                                 size_t len);

WEFT_END_DECLS

#endif /* WEFT_CODEC_H */
