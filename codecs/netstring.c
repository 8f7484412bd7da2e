/*
 * The `netstring` codec: D. J. Bernstein's netstrings, "LEN:DATA,", where
 * LEN is the payload length in decimal ASCII (https://cr.yp.to/proto/
 * netstrings.txt).  "0:," is an empty frame.
 *
 * Options:
 *   max_length  size, default 8M: the largest payload (DATA), 1 to 1G.
 *
 * The length is read a digit at a time and refused at the first digit
 * that takes it past max_length, so an over-long netstring is found from
 * its header alone.  A leading zero ("01:a,"), a header without digits or
 * with anything but digits before the ":", and a payload not followed by
 * "," are protocol errors, each reported where it was found.  Stateless.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <weft/weft.h>

typedef struct {
  uint64_t max_length;
} netstring_state_t;

static int netstring_create(weft_opts_t *opts, void **state) {
  netstring_state_t *s;
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

static void netstring_destroy(void *state) {
  free(state);
}

static weft_decode_status_t netstring_error(weft_decode_t *d, int error,
                                            const char *reason, size_t at) {
  d->error = error;
  d->reason = reason;
  d->consumed = at;
  return WEFT_DECODE_ERROR;
}

static weft_decode_status_t netstring_decode(weft_codec_ctx_t *ctx,
                                             const uint8_t *in, size_t len,
                                             weft_decode_t *d) {
  const netstring_state_t *s = weft_codec_state(ctx);
  uint64_t v = 0;
  size_t i, total;

  /* The header is at most 11 bytes (10 digits and ":"): rescanning it
   * costs nothing, so no resume point is kept. */
  for (i = 0; i < len && in[i] != ':'; i++) {
    if (in[i] < '0' || in[i] > '9')
      return netstring_error(d, WEFT_EPROTO,
                             "netstring length is not digits then \":\"", i);
    if (i == 1 && in[0] == '0')
      return netstring_error(d, WEFT_EPROTO,
                             "netstring length has a leading zero", i);
    /* v <= max_length <= 2^30 before this step: no overflow. */
    v = v * 10 + (uint64_t)(in[i] - '0');
    if (v > s->max_length)
      return netstring_error(d, WEFT_EMSGSIZE,
                             "netstring length exceeds max_length", i);
  }
  if (i == len) {
    d->scanned = 0;
    d->need = 0;
    return WEFT_DECODE_MORE;
  }
  if (i == 0)
    return netstring_error(d, WEFT_EPROTO, "netstring length is missing", 0);

  total = i + 1 + (size_t)v + 1; /* LEN ":" DATA "," */
  if (len < total) {
    d->need = total;
    return WEFT_DECODE_MORE;
  }
  if (in[total - 1] != ',')
    return netstring_error(d, WEFT_EPROTO, "netstring does not end with \",\"",
                           total - 1);
  d->frame = in + i + 1;
  d->frame_len = (size_t)v;
  d->consumed = total;
  return WEFT_DECODE_FRAME;
}

static weft_decode_status_t netstring_decode_eof(weft_codec_ctx_t *ctx,
                                                 const uint8_t *in, size_t len,
                                                 weft_decode_t *d) {
  (void)ctx;
  (void)in;
  (void)len;
  return netstring_error(d, WEFT_ETRUNC, "truncated netstring at end of stream",
                         0);
}

static int netstring_encode(weft_codec_ctx_t *ctx, const uint8_t *frame,
                            size_t len, weft_out_t *out) {
  const netstring_state_t *s = weft_codec_state(ctx);
  char hdr[24];
  uint8_t *p;
  int n;

  if ((uint64_t)len > s->max_length)
    return WEFT_EMSGSIZE;
  n = snprintf(hdr, sizeof(hdr), "%zu:", len);
  p = weft_out_reserve(out, (size_t)n + len + 1);
  if (p == NULL)
    return WEFT_ENOMEM;
  memcpy(p, hdr, (size_t)n);
  if (len > 0)
    memcpy(p + n, frame, len);
  p[(size_t)n + len] = ',';
  return 0;
}

static const weft_codec_vtable_t netstring_vtable = {
    .struct_size = sizeof(weft_codec_vtable_t),
    .create = netstring_create,
    .destroy = netstring_destroy,
    /* no conn_init: stateless */
    .decode = netstring_decode,
    .decode_eof = netstring_decode_eof,
    .encode = netstring_encode,
};

WEFT_CODEC_PLUGIN("netstring", "1.0", &netstring_vtable);
