/*
 * Codecs broken on purpose, one way each, for tests/codectest.sh: the
 * conformance tool must catch every one.  All frame like the line codec
 * (frames end with "\n", at most 64 bytes before it) except for their bug:
 *
 *   BROKEN_OVERREAD  looks at the byte after the "\n" (to skip a "\r"
 *                    there) without checking it is inside the input;
 *   BROKEN_KEEPPTR   remembers where the last partial line started and
 *                    reads it back on the next call, after the engine
 *                    may have moved those bytes;
 *   BROKEN_UNBOUNDED forgets its limit: a line without "\n" is buffered
 *                    for ever;
 *   BROKEN_SPLITDEP  treats the end of each read as the end of a frame,
 *                    so frames depend on how the bytes arrived;
 *   BROKEN_EOFFRAME  delivers a line cut short by EOF as a frame.
 */
#include <stdlib.h>
#include <string.h>

#include <weft/weft.h>

#define LIMIT 64

#ifdef BROKEN_KEEPPTR
static const uint8_t *last_start; /* the bug: kept past the call */
#endif

static weft_decode_status_t broken_decode(weft_codec_ctx_t *ctx,
                                          const uint8_t *in, size_t len,
                                          weft_decode_t *d) {
  size_t scan = len > LIMIT + 1 ? LIMIT + 1 : len;
  const uint8_t *nl = memchr(in, '\n', scan);

  (void)ctx;
#ifdef BROKEN_KEEPPTR
  /* "Still the same line?"  A pointer from an earlier call. */
  if (last_start != NULL && last_start[0] != in[0])
    d->scanned = 0;
  last_start = NULL;
#endif
  if (nl == NULL) {
#ifndef BROKEN_UNBOUNDED
    if (len > LIMIT) {
      d->error = WEFT_EMSGSIZE;
      d->reason = "line too long";
      d->consumed = LIMIT;
      return WEFT_DECODE_ERROR;
    }
#endif
#ifdef BROKEN_SPLITDEP
    d->frame = in;
    d->frame_len = len;
    d->consumed = len;
    return WEFT_DECODE_FRAME;
#endif
#ifdef BROKEN_KEEPPTR
    last_start = in;
#endif
    return WEFT_DECODE_MORE;
  }
  d->frame = in;
  d->frame_len = (size_t)(nl - in);
  d->consumed = d->frame_len + 1;
#ifdef BROKEN_OVERREAD
  /* The bug: nl + 1 may be one past the input. */
  if (nl[1] == '\r')
    d->consumed++;
#endif
  return WEFT_DECODE_FRAME;
}

static weft_decode_status_t broken_decode_eof(weft_codec_ctx_t *ctx,
                                              const uint8_t *in, size_t len,
                                              weft_decode_t *d) {
  (void)ctx;
#ifdef BROKEN_EOFFRAME
  d->frame = in;
  d->frame_len = len;
  d->consumed = len;
  return WEFT_DECODE_FRAME;
#else
  (void)in;
  (void)len;
  d->error = WEFT_ETRUNC;
  return WEFT_DECODE_ERROR;
#endif
}

static int broken_encode(weft_codec_ctx_t *ctx, const uint8_t *frame,
                         size_t len, weft_out_t *out) {
  uint8_t *p;

  (void)ctx;
  if (len > LIMIT)
    return WEFT_EMSGSIZE;
  if (len > 0 && (memchr(frame, '\n', len) != NULL || frame[0] == '\r'))
    return WEFT_EINVAL;
  p = weft_out_reserve(out, len + 1);
  if (p == NULL)
    return WEFT_ENOMEM;
  if (len > 0)
    memcpy(p, frame, len);
  p[len] = '\n';
  return 0;
}

static const weft_codec_vtable_t broken_vtable = {
    .struct_size = sizeof(weft_codec_vtable_t),
    .decode = broken_decode,
    .decode_eof = broken_decode_eof,
    .encode = broken_encode,
};

WEFT_CODEC_PLUGIN(BROKEN_NAME, "0", &broken_vtable);
