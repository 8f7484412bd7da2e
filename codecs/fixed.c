/*
 * The `fixed` codec: every frame is exactly frame_size bytes, with no
 * header and no delimiter.
 *
 * Options:
 *   frame_size  size, required: the size of every frame, 1 to 1G.
 *
 * Bytes left over at the end of the stream, fewer than frame_size, are a
 * truncation error.  The encoder accepts frames of exactly frame_size
 * bytes only.  Stateless.
 */
#include <stdlib.h>
#include <string.h>

#include <weft/weft.h>

typedef struct {
  size_t frame_size;
} fixed_state_t;

static int fixed_create(weft_opts_t *opts, void **state) {
  fixed_state_t *s;
  uint64_t size;
  int rc;

  /* 0, never valid, stands for "not given". */
  rc = weft_opt_size(opts, "frame_size", 0, 1, (uint64_t)1 << 30, &size);
  if (rc != 0)
    return rc;
  if (size == 0)
    return weft_opt_error(opts, NULL,
                          "option \"frame_size\" is required: the size of "
                          "every frame, in bytes");
  s = malloc(sizeof(*s));
  if (s == NULL)
    return WEFT_ENOMEM;
  s->frame_size = (size_t)size;
  *state = s;
  return 0;
}

static void fixed_destroy(void *state) {
  free(state);
}

static weft_decode_status_t fixed_decode(weft_codec_ctx_t *ctx,
                                         const uint8_t *in, size_t len,
                                         weft_decode_t *d) {
  const fixed_state_t *s = weft_codec_state(ctx);

  if (len < s->frame_size) {
    d->scanned = 0;
    d->need = s->frame_size;
    return WEFT_DECODE_MORE;
  }
  d->frame = in;
  d->frame_len = s->frame_size;
  d->consumed = s->frame_size;
  return WEFT_DECODE_FRAME;
}

static int fixed_encode(weft_codec_ctx_t *ctx, const uint8_t *frame, size_t len,
                        weft_out_t *out) {
  const fixed_state_t *s = weft_codec_state(ctx);

  if (len > s->frame_size)
    return WEFT_EMSGSIZE;
  if (len < s->frame_size)
    return WEFT_EINVAL;
  return weft_out_append(out, frame, len);
}

static const weft_codec_vtable_t fixed_vtable = {
    .struct_size = sizeof(weft_codec_vtable_t),
    .create = fixed_create,
    .destroy = fixed_destroy,
    /* no conn_init: stateless */
    .decode = fixed_decode,
    /* no decode_eof: the engine reports leftover bytes as WEFT_ETRUNC,
     * "truncated frame at end of stream" */
    .encode = fixed_encode,
};

WEFT_CODEC_PLUGIN("fixed", "1.0", &fixed_vtable);
