/*
 * The `length` codec: each frame is a fixed-width unsigned header holding
 * the payload length (header not counted), then the payload.
 *
 * Options:
 *   length_size  int, 1, 2, 4 or 8 (default 4): header width in bytes;
 *   byte_order   "big" (default) or "little";
 *   max_frame    size, default 8M: the largest whole frame, header included.
 *
 * An over-limit frame is refused from its header alone, before any of its
 * payload is buffered.  Stateless: nothing per connection.
 */
#include <stdlib.h>
#include <string.h>

#include <weft/weft.h>

typedef struct {
  unsigned hdr;     /* header width */
  int little;       /* byte order */
  uint64_t max_len; /* largest payload: max_frame - hdr, capped by what the
                       header can hold */
} length_state_t;

static int length_create(weft_opts_t *opts, void **state) {
  length_state_t *s;
  int64_t hdr;
  const char *order;
  uint64_t max_frame;
  uint64_t cap;
  int little;
  int rc;
  int rc2;
  int rc3;

  /* Read every option before failing, so each one is marked as known and
   * the operator sees all the bad values at once. */
  rc = weft_opt_int(opts, "length_size", 4, 1, 8, &hdr);
  if (rc == 0 && hdr != 1 && hdr != 2 && hdr != 4 && hdr != 8)
    rc = weft_opt_error(opts, "length_size", "must be 1, 2, 4 or 8, not %d",
                        (int)hdr);

  little = 0;
  rc2 = weft_opt_str(opts, "byte_order", "big", &order);
  if (rc2 == 0) {
    if (strcmp(order, "little") == 0)
      little = 1;
    else if (strcmp(order, "big") != 0)
      rc2 = weft_opt_error(opts, "byte_order",
                           "must be \"big\" or \"little\", not \"%s\"", order);
  }

  /* 1G, as for line's max_length: the engine buffers a whole frame. */
  rc3 = weft_opt_size(opts, "max_frame", 8 * 1024 * 1024, 1, (uint64_t)1 << 30,
                      &max_frame);
  if (rc == 0 && rc3 == 0 && max_frame < (uint64_t)hdr)
    rc3 = weft_opt_error(opts, "max_frame",
                         "must be at least length_size (%d bytes)", (int)hdr);

  if (rc != 0)
    return rc;
  if (rc2 != 0)
    return rc2;
  if (rc3 != 0)
    return rc3;

  s = malloc(sizeof(*s));
  if (s == NULL)
    return WEFT_ENOMEM;
  s->hdr = (unsigned)hdr;
  s->little = little;
  s->max_len = max_frame - (uint64_t)hdr;
  cap = hdr == 8 ? UINT64_MAX : ((uint64_t)1 << (8 * hdr)) - 1;
  if (s->max_len > cap)
    s->max_len = cap;
  *state = s;
  return 0;
}

static void length_destroy(void *state) {
  free(state);
}

static uint64_t length_get(const length_state_t *s, const uint8_t *p) {
  uint64_t v = 0;
  unsigned i;

  if (s->little)
    for (i = s->hdr; i-- > 0;)
      v = v << 8 | p[i];
  else
    for (i = 0; i < s->hdr; i++)
      v = v << 8 | p[i];
  return v;
}

static void length_put(const length_state_t *s, uint8_t *p, uint64_t v) {
  unsigned i;

  for (i = 0; i < s->hdr; i++, v >>= 8)
    p[s->little ? i : s->hdr - 1 - i] = (uint8_t)(v & 0xff);
}

static weft_decode_status_t length_decode(weft_codec_ctx_t *ctx,
                                          const uint8_t *in, size_t len,
                                          weft_decode_t *d) {
  const length_state_t *s = weft_codec_state(ctx);
  uint64_t plen;
  size_t total;

  d->scanned = 0;
  if (len < s->hdr) {
    d->need = 0;
    return WEFT_DECODE_MORE;
  }

  /* Compared before anything is added to it: no value of the header, up to
   * 2^64-1, can wrap a size. */
  plen = length_get(s, in);
  if (plen > s->max_len) {
    d->error = WEFT_EMSGSIZE;
    d->reason = "declared length exceeds max_frame";
    d->consumed = 0;
    return WEFT_DECODE_ERROR;
  }

  total = s->hdr + (size_t)plen; /* <= max_frame, which fits a size_t */
  if (len < total) {
    d->need = total;
    return WEFT_DECODE_MORE;
  }

  d->frame = in + s->hdr;
  d->frame_len = (size_t)plen;
  d->consumed = total;
  return WEFT_DECODE_FRAME;
}

static weft_decode_status_t length_decode_eof(weft_codec_ctx_t *ctx,
                                              const uint8_t *in, size_t len,
                                              weft_decode_t *d) {
  (void)ctx;
  (void)in;
  (void)len;
  /* decode() already took every complete frame: what is left is short. */
  d->error = WEFT_ETRUNC;
  d->reason = "truncated frame at end of stream";
  d->consumed = 0; /* where the unfinished frame starts */
  return WEFT_DECODE_ERROR;
}

static int length_encode(weft_codec_ctx_t *ctx, const uint8_t *frame,
                         size_t len, weft_out_t *out) {
  const length_state_t *s = weft_codec_state(ctx);
  uint8_t *p;

  if ((uint64_t)len > s->max_len)
    return WEFT_EMSGSIZE;

  p = weft_out_reserve(out, s->hdr + len);
  if (p == NULL)
    return WEFT_ENOMEM;
  length_put(s, p, len);
  if (len > 0)
    memcpy(p + s->hdr, frame, len);
  return 0;
}

static const weft_codec_vtable_t length_vtable = {
    sizeof(weft_codec_vtable_t),
    length_create,
    length_destroy,
    NULL, /* conn_init: stateless */
    NULL, /* conn_free */
    length_decode,
    length_decode_eof,
    length_encode,
};

WEFT_CODEC_PLUGIN("length", "1.0", &length_vtable);
