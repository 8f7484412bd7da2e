/*
 * The `raw` codec: no framing at all.  Whatever one read brought is one
 * frame, and the encoder writes frames as they are.  For byte streams
 * whose handler does its own parsing, or none (a proxy, a tap).
 *
 * No options.  Frame boundaries are the network's, not the peer's: bytes
 * sent at once may arrive as several frames, and several sends as one.
 * An empty frame sends nothing.  Since decode never waits for more, the
 * engine never keeps input for a raw connection, and nothing is left at
 * EOF.  Stateless.
 */
#include <stddef.h>

#include <weft/weft.h>

static weft_decode_status_t raw_decode(weft_codec_ctx_t *ctx, const uint8_t *in,
                                       size_t len, weft_decode_t *d) {
  (void)ctx;
  d->frame = in;
  d->frame_len = len;
  d->consumed = len;
  return WEFT_DECODE_FRAME;
}

static int raw_encode(weft_codec_ctx_t *ctx, const uint8_t *frame, size_t len,
                      weft_out_t *out) {
  (void)ctx;
  return len > 0 ? weft_out_append(out, frame, len) : 0;
}

static const weft_codec_vtable_t raw_vtable = {
    .struct_size = sizeof(weft_codec_vtable_t),
    /* no create: no options */
    /* no conn_init: stateless */
    .decode = raw_decode,
    /* no decode_eof: decode never leaves bytes behind */
    .encode = raw_encode,
};

WEFT_CODEC_PLUGIN("raw", "1.0", &raw_vtable);
