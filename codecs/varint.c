/*
 * The `varint` codec: each frame is prefixed with its length as a
 * protocol-buffers base-128 varint, as Java's writeDelimitedTo and C++'s
 * SerializeDelimitedToOstream write them: seven bits per byte, least
 * significant group first, the high bit set on every byte but the last.
 *
 * Options:
 *   max_length  size, default 8M: the largest payload, 1 to 1G.
 *
 * A prefix is at most 10 bytes (64 bits); a longer one, or a 10th byte
 * that sets bits past the 64th, is a protocol error.  Non-minimal prefixes
 * ("80 00" for 0) are accepted, as protobuf's readers accept them.  The
 * length is refused as soon as the bytes read so far prove it exceeds
 * max_length, before the prefix even ends.  Stateless.
 */
#include <stdlib.h>
#include <string.h>

#include <weft/weft.h>

#define VARINT_MAX_BYTES 10

typedef struct {
  uint64_t max_length;
} varint_state_t;

static int varint_create(weft_opts_t *opts, void **state) {
  varint_state_t *s;
  uint64_t max_length;
  int rc;

  rc = weft_opt_size(opts, "max_length", 8 * 1024 * 1024, 1, (uint64_t)1 << 30,
                     &max_length);
  if (rc != 0)
    return rc;
  s = malloc(sizeof(*s));
  if (s == NULL)
    return WEFT_ENOMEM;
  s->max_length = max_length;
  *state = s;
  return 0;
}

static void varint_destroy(void *state) {
  free(state);
}

static weft_decode_status_t varint_decode(weft_codec_ctx_t *ctx,
                                          const uint8_t *in, size_t len,
                                          weft_decode_t *d) {
  const varint_state_t *s = weft_codec_state(ctx);
  uint64_t v = 0;
  size_t i, total;

  for (i = 0; i < len && i < VARINT_MAX_BYTES; i++) {
    /* The 10th byte holds bit 63 only, and must end the prefix. */
    if (i == VARINT_MAX_BYTES - 1 && in[i] > 1) {
      d->error = WEFT_EPROTO;
      d->reason = "varint length longer than 64 bits";
      d->consumed = i;
      return WEFT_DECODE_ERROR;
    }
    v |= (uint64_t)(in[i] & 0x7f) << (7 * i);
    /* Later bytes only add to v: past the limit now is past it for good. */
    if (v > s->max_length) {
      d->error = WEFT_EMSGSIZE;
      d->reason = "varint length exceeds max_length";
      d->consumed = i;
      return WEFT_DECODE_ERROR;
    }
    if ((in[i] & 0x80) == 0)
      break;
  }
  if (i == len) {
    d->scanned = 0;
    d->need = 0;
    return WEFT_DECODE_MORE;
  }

  total = i + 1 + (size_t)v; /* v <= max_length <= 2^30 */
  if (len < total) {
    d->need = total;
    return WEFT_DECODE_MORE;
  }
  d->frame = in + i + 1;
  d->frame_len = (size_t)v;
  d->consumed = total;
  return WEFT_DECODE_FRAME;
}

static int varint_encode(weft_codec_ctx_t *ctx, const uint8_t *frame,
                         size_t len, weft_out_t *out) {
  const varint_state_t *s = weft_codec_state(ctx);
  uint8_t hdr[VARINT_MAX_BYTES], *p;
  uint64_t v = len;
  size_t n = 0;

  if (v > s->max_length)
    return WEFT_EMSGSIZE;
  do {
    hdr[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
    v >>= 7;
  } while (v > 0);
  p = weft_out_reserve(out, n + len);
  if (p == NULL)
    return WEFT_ENOMEM;
  memcpy(p, hdr, n);
  if (len > 0)
    memcpy(p + n, frame, len);
  return 0;
}

static const weft_codec_vtable_t varint_vtable = {
    .struct_size = sizeof(weft_codec_vtable_t),
    .create = varint_create,
    .destroy = varint_destroy,
    /* no conn_init: stateless */
    .decode = varint_decode,
    /* no decode_eof: the engine reports leftover bytes as WEFT_ETRUNC,
     * "truncated frame at end of stream" */
    .encode = varint_encode,
};

WEFT_CODEC_PLUGIN("varint", "1.0", &varint_vtable);
