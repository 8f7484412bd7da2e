/*
 * The `line` codec: frames are the bytes before each "\n".
 *
 * Options:
 *   max_length  size, default 64k: the most bytes allowed before the "\n"
 *               (a "\r" that strip_cr drops still counts);
 *   strip_cr    bool, default true: drop one "\r" just before the "\n".
 *
 * A line longer than max_length is an error found at its max_length+1-th
 * byte, so a peer can never make us hold more than max_length bytes of it.
 * Stateless: nothing per connection.
 */
#include <stdlib.h>
#include <string.h>

#include <weft/weft.h>

typedef struct {
  size_t max_length;
  int strip_cr;
} line_state_t;

static int line_create(weft_opts_t *opts, void **state) {
  line_state_t *s;
  uint64_t max_length;
  int strip_cr;
  int rc;
  int rc2;

  /* Read every option before failing, so each one is marked as known and
   * the operator sees all the bad values at once, not an "unknown" one. */
  rc = weft_opt_size(opts, "max_length", 64 * 1024, 1, (uint64_t)1 << 30,
                     &max_length);
  rc2 = weft_opt_bool(opts, "strip_cr", 1, &strip_cr);
  if (rc != 0)
    return rc;
  if (rc2 != 0)
    return rc2;

  s = malloc(sizeof(*s));
  if (s == NULL)
    return WEFT_ENOMEM;
  s->max_length = (size_t)max_length;
  s->strip_cr = strip_cr;
  *state = s;
  return 0;
}

static void line_destroy(void *state) {
  free(state);
}

static weft_decode_status_t line_decode(weft_codec_ctx_t *ctx,
                                        const uint8_t *in, size_t len,
                                        weft_decode_t *d) {
  const line_state_t *s = weft_codec_state(ctx);
  const uint8_t *nl;
  size_t start;
  size_t limit;
  size_t n;

  /* A delimiter can sit at most at index max_length: never look further,
   * so an over-long line is caught at its first byte past the limit. */
  limit = len;
  if (limit > s->max_length)
    limit = s->max_length + 1;

  /* Resume where the last MORE stopped.  A resume point past the input
   * cannot come from a correct engine; rescanning is the safe answer. */
  start = d->scanned;
  if (start > limit)
    start = 0;

  nl = memchr(in + start, '\n', limit - start);
  if (nl == NULL) {
    if (len > s->max_length) {
      d->error = WEFT_EMSGSIZE;
      d->reason = "line longer than max_length";
      d->consumed = s->max_length;
      return WEFT_DECODE_ERROR;
    }
    d->scanned = len;
    d->need = 0;
    return WEFT_DECODE_MORE;
  }

  n = (size_t)(nl - in);
  d->frame = in;
  d->consumed = n + 1;
  if (s->strip_cr && n > 0 && in[n - 1] == '\r')
    n--;
  d->frame_len = n;
  return WEFT_DECODE_FRAME;
}

static weft_decode_status_t line_decode_eof(weft_codec_ctx_t *ctx,
                                            const uint8_t *in, size_t len,
                                            weft_decode_t *d) {
  (void)ctx;
  (void)in;
  (void)len;
  /* decode() already took every complete line: what is left has no "\n". */
  d->error = WEFT_ETRUNC;
  d->reason = "unterminated line at end of stream";
  d->consumed = 0; /* where the unfinished line starts */
  return WEFT_DECODE_ERROR;
}

static int line_encode(weft_codec_ctx_t *ctx, const uint8_t *frame, size_t len,
                       weft_out_t *out) {
  const line_state_t *s = weft_codec_state(ctx);
  uint8_t *p;

  if (len > s->max_length)
    return WEFT_EMSGSIZE;
  /* The peer would read a "\n" inside the frame as two lines. */
  if (len > 0 && memchr(frame, '\n', len) != NULL)
    return WEFT_EINVAL;

  p = weft_out_reserve(out, len + 1);
  if (p == NULL)
    return WEFT_ENOMEM;
  if (len > 0)
    memcpy(p, frame, len);
  p[len] = '\n';
  return 0;
}

static const weft_codec_vtable_t line_vtable = {
    sizeof(weft_codec_vtable_t),
    line_create,
    line_destroy,
    NULL, /* conn_init: stateless */
    NULL, /* conn_free */
    line_decode,
    line_decode_eof,
    line_encode,
};

WEFT_CODEC_PLUGIN("line", "1.0", &line_vtable);
