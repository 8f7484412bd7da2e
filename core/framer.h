/*
 * The framer drives a codec's decoder over a byte stream: it keeps only the
 * unfinished tail of a frame between reads, resumes scans where the codec
 * stopped, and hands each frame to a callback as a slice.  Connections use
 * it; so do the codec tests, which feed it from memory.
 */
#ifndef WEFT_CORE_FRAMER_H
#define WEFT_CORE_FRAMER_H

#include <weft/codec.h>

#include "buf.h"

/* The context a codec call receives.  Engine-private layout. */
struct weft_codec_ctx {
  const weft_codec_vtable_t *vt;
  void *state;      /* from create() */
  void *conn_state; /* from conn_init() */
  weft_conn_t *conn;
};

/*
 * Called with each frame.  Return 0 to go on, non-zero to stop decoding
 * (the rest of the input is kept for weft__framer_resume()).  When the
 * framer serves a connection, a reported skip calls it with frame NULL and
 * len the (positive) error code; f->reason and f->offset say why and
 * where.
 */
typedef int (*weft__frame_cb)(void *arg, const uint8_t *frame, size_t len);

/*
 * Called with frames a codec's decode_many() (ABI 1.2) found together,
 * n >= 1, in stream order.  Returns as weft__frame_cb; stopping keeps the
 * input after the last of them.
 */
typedef int (*weft__frames_cb)(void *arg, const weft_frame_t *frames, size_t n);

/* The most frames one decode_many() call is asked for. */
#define WEFT__FRAMER_BATCH 64

typedef struct weft__framer {
  weft_codec_ctx_t ctx;
  weft__buf_t tail; /* undecoded bytes kept between reads */
  /*
   * Stream offset of the first byte not yet consumed.  After an error it
   * stays where the error was found; while a reported skip's callback
   * runs, it is where the skipped bytes begin.
   */
  uint64_t offset;
  const char *reason; /* the codec's reason for an error or skip */
  /* 32 bits keep a connection small; a larger value is dropped (0: scan
   * again, size not known), which is always safe. */
  uint32_t scanned;   /* resume point the codec returned with MORE */
  uint32_t need;      /* total bytes the pending frame needs, if known */
  uint32_t frames;    /* frames delivered (wraps; compared for change) */
  uint32_t discarded; /* frames the codec skipped with an error */
  int error;          /* WEFT_E* once the codec reported an error */
  int staged;         /* read_buf copied the tail in front of the scratch */
} weft__framer_t;

/*
 * Where decoded frames go, for one feed, resume or eof call: one() gets
 * each frame decode() or decode_eof() found, and reported skips; many(),
 * when set and the codec has decode_many, the frames found together.  One
 * batch covers at most `room` input bytes; the callbacks may change it
 * (a connection gives it the room left under its high watermark).  It
 * lives on the caller's stack: an idle connection pays nothing for it.
 */
typedef struct weft__sink {
  weft__frame_cb one;
  weft__frames_cb many;
  void *arg; /* passed to both */
  size_t room;
} weft__sink_t;

void weft__framer_init(weft__framer_t *f, const weft_codec_vtable_t *vt,
                       void *state, void *conn_state, weft_conn_t *conn);
void weft__framer_free(weft__framer_t *f);

/*
 * Where the next read should go: into the framer's own tail buffer when it
 * holds a partial frame (grown toward the size the frame needs), else into
 * the caller's scratch buffer, so an idle connection holds no memory.
 * Returns the length available, 0 on out-of-memory.
 */
size_t weft__framer_read_buf(weft__framer_t *f, uint8_t *scratch,
                             size_t scratch_len, uint8_t **base);

/*
 * Decodes data[0..len) (which is either scratch or the region returned by
 * read_buf).  Returns 0 when all input was consumed or kept as a tail, 1
 * when the callback stopped decoding (the rest is kept), or the error code
 * when the codec reported an error (f->error, f->reason, f->offset
 * say what and where); after an error the framer delivers nothing more.
 */
int weft__framer_feed_to(weft__framer_t *f, const uint8_t *data, size_t len,
                         weft__sink_t *k);

/* Decodes what feed() kept after a callback stopped it.  Same returns. */
int weft__framer_resume_to(weft__framer_t *f, weft__sink_t *k);

/*
 * The stream ended.  Offers a leftover tail to decode_eof (or reports
 * WEFT_ETRUNC when the codec has none).  Returns 0 when nothing was left,
 * 1 if a callback stopped, or the error code.
 */
int weft__framer_eof_to(weft__framer_t *f, weft__sink_t *k);

/* The same, one frame at a time to cb(arg, ...). */
int weft__framer_feed(weft__framer_t *f, const uint8_t *data, size_t len,
                      weft__frame_cb cb, void *arg);
int weft__framer_resume(weft__framer_t *f, weft__frame_cb cb, void *arg);
int weft__framer_eof(weft__framer_t *f, weft__frame_cb cb, void *arg);

/* Bytes held in the tail.  Inline: a connection asks after every read. */
static inline size_t weft__framer_pending(const weft__framer_t *f) {
  return f->tail.len;
}

#endif /* WEFT_CORE_FRAMER_H */
