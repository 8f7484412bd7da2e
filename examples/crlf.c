/*
 * crlf: an example codec plugin, built out of tree with nothing but
 * `pkg-config --cflags weft`.  Frames are the bytes before each "\r\n", as
 * in SMTP, HTTP/1 headers or Redis inline commands.
 *
 * Options:
 *   max_length  size, default 8k: the most bytes allowed before the "\r\n".
 *
 * A "\n" without a "\r" before it is a protocol error: accepting it would
 * let two parties split the same bytes into different frames.  A "\r" not
 * followed by "\n" is ordinary data.  An over-long frame is found at the
 * first byte that proves it, never by buffering it.
 *
 * Build: cc -shared -fPIC $(pkg-config --cflags weft) crlf.c -o crlf.so
 * Use:   codec = { plugin = "./crlf.so"; max_length = "4k"; };
 */
#include <stdlib.h>
#include <string.h>

#include <weft/weft.h>

typedef struct {
  size_t max_length;
} crlf_state_t;

static int crlf_create(weft_opts_t *opts, void **state) {
  crlf_state_t *s;
  uint64_t max_length;
  int rc;

  /* Up to 1G, as the built-in codecs allow: the engine buffers a frame. */
  rc = weft_opt_size(opts, "max_length", 8 * 1024, 1, (uint64_t)1 << 30,
                     &max_length);
  if (rc != 0)
    return rc; /* weft has already told the operator what and where */
  s = malloc(sizeof(*s));
  if (s == NULL)
    return WEFT_ENOMEM;
  s->max_length = (size_t)max_length;
  *state = s;
  return 0;
}

static void crlf_destroy(void *state) {
  free(state);
}

static weft_decode_status_t crlf_decode(weft_codec_ctx_t *ctx,
                                        const uint8_t *in, size_t len,
                                        weft_decode_t *d) {
  const crlf_state_t *s = weft_codec_state(ctx);
  const uint8_t *nl;
  size_t limit, start, n;

  /* The "\n" of a frame of max_length bytes sits at index max_length + 1:
   * never search past it. */
  limit = len;
  if (limit > s->max_length + 2)
    limit = s->max_length + 2;

  /* The engine hands back what the last MORE said was scanned, so a long
   * frame arriving in pieces is searched once, not once per piece.  Only
   * the "\n" is searched for; the "\r" before it is checked when found, by
   * looking back, which is always inside the input. */
  start = d->scanned;
  if (start > limit)
    start = 0; /* cannot happen with a correct engine; rescanning is safe */

  nl = memchr(in + start, '\n', limit - start);
  if (nl != NULL) {
    n = (size_t)(nl - in);
    if (n == 0 || in[n - 1] != '\r') {
      d->error = WEFT_EPROTO;
      d->reason = "bare \"\\n\" without \"\\r\" before it";
      d->consumed = n;
      return WEFT_DECODE_ERROR;
    }
    d->frame = in;
    d->frame_len = n - 1;
    d->consumed = n + 1;
    return WEFT_DECODE_FRAME;
  }

  /* No "\n" yet.  Byte max_length may still be the "\r" of a frame of
   * exactly max_length bytes; anything else there, or a byte after it that
   * is not "\n", proves the frame too long. */
  if (len > s->max_length && in[s->max_length] != '\r') {
    d->error = WEFT_EMSGSIZE;
    d->reason = "frame longer than max_length";
    d->consumed = s->max_length;
    return WEFT_DECODE_ERROR;
  }
  if (len >= s->max_length + 2) {
    d->error = WEFT_EMSGSIZE;
    d->reason = "frame longer than max_length";
    d->consumed = s->max_length + 1;
    return WEFT_DECODE_ERROR;
  }
  d->scanned = len;
  d->need = 0; /* unknown until the "\r\n" comes */
  return WEFT_DECODE_MORE;
}

static int crlf_encode(weft_codec_ctx_t *ctx, const uint8_t *frame, size_t len,
                       weft_out_t *out) {
  const crlf_state_t *s = weft_codec_state(ctx);
  uint8_t *p;

  if (len > s->max_length)
    return WEFT_EMSGSIZE;
  /* The peer would read a "\n" inside the frame as a protocol error. */
  if (len > 0 && memchr(frame, '\n', len) != NULL)
    return WEFT_EINVAL;

  p = weft_out_reserve(out, len + 2);
  if (p == NULL)
    return WEFT_ENOMEM;
  if (len > 0)
    memcpy(p, frame, len);
  p[len] = '\r';
  p[len + 1] = '\n';
  return 0;
}

static const weft_codec_vtable_t crlf_vtable = {
    .struct_size = sizeof(weft_codec_vtable_t),
    .create = crlf_create,
    .destroy = crlf_destroy,
    /* no conn_init: stateless, nothing per connection */
    .decode = crlf_decode,
    /* no decode_eof: leftover bytes at EOF are a WEFT_ETRUNC error */
    .encode = crlf_encode,
};

/* The one exported symbol.  Out of tree, WEFT_PLUGIN_MODULE stays
 * undefined, so it is named plain `weft_plugin`. */
WEFT_CODEC_PLUGIN("crlf", "1.0", &crlf_vtable);
