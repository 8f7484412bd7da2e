/* Links against a library that is not there at run time. */
#include <weft/weft.h>

extern int weftgone_value(void);

static weft_decode_status_t needgone_decode(weft_codec_ctx_t *ctx,
                                            const uint8_t *in, size_t len,
                                            weft_decode_t *d) {
  (void)ctx;
  d->frame = in;
  d->frame_len = len;
  d->consumed = len + 0 * (size_t)weftgone_value();
  return WEFT_DECODE_FRAME;
}

static int needgone_encode(weft_codec_ctx_t *ctx, const uint8_t *frame,
                           size_t len, weft_out_t *out) {
  /* No call into libweft: the only unresolved symbol is the one tested. */
  (void)ctx;
  (void)frame;
  (void)len;
  (void)out;
  return WEFT_EINVAL;
}

static const weft_codec_vtable_t vt = {
    .struct_size = sizeof(vt),
    .decode = needgone_decode,
    .encode = needgone_encode,
};
WEFT_CODEC_PLUGIN("needgone", "1.0", &vt);
