/* A valid codec (each byte is a frame), the baseline the bad ones differ from. */
#include <weft/weft.h>

static weft_decode_status_t tcodec_decode(weft_codec_ctx_t *ctx,
                                          const uint8_t *in, size_t len,
                                          weft_decode_t *d) {
  (void)ctx;
  (void)len;
  d->frame = in;
  d->frame_len = 1;
  d->consumed = 1;
  return WEFT_DECODE_FRAME;
}

static int tcodec_encode(weft_codec_ctx_t *ctx, const uint8_t *frame,
                         size_t len, weft_out_t *out) {
  (void)ctx;
  return weft_out_append(out, frame, len);
}

static const weft_codec_vtable_t tcodec_vtable = {
    .struct_size = sizeof(weft_codec_vtable_t),
    .decode = tcodec_decode,
    .encode = tcodec_encode,
};

WEFT_CODEC_PLUGIN(TCODEC_NAME, "1.0", &tcodec_vtable);
