/* Calls a function nothing defines: must fail at load, not mid-traffic. */
#include <weft/weft.h>

extern int weft_no_such_function_anywhere(void);

static weft_decode_status_t undef_decode(weft_codec_ctx_t *ctx,
                                         const uint8_t *in, size_t len,
                                         weft_decode_t *d) {
  (void)ctx;
  d->frame = in;
  d->frame_len = len;
  d->consumed = len + 0 * (size_t)weft_no_such_function_anywhere();
  return WEFT_DECODE_FRAME;
}

static int undef_encode(weft_codec_ctx_t *ctx, const uint8_t *frame,
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
    .decode = undef_decode,
    .encode = undef_encode,
};
WEFT_CODEC_PLUGIN("undefsym", "1.0", &vt);
