/*
 * control: a test codec that speaks for itself, to show (and test) the
 * codec's own output and close through its context.  Frames are lines
 * ending in "\n", at most 1k.  Besides framing it
 *
 *   - greets the peer with "HELLO weft\n", written with weft_codec_write()
 *     as the connection's first bytes arrive (a codec has no hook at
 *     open yet: a protocol where the server speaks first needs one);
 *   - answers a line "QUIT" itself: "BYE\n", then weft_conn_close() on
 *     the connection, so that line and everything after it never reach
 *     the handler, while the replies to the lines before it still go out.
 *
 * Per connection it only remembers whether it has greeted.
 */
#include <stdlib.h>
#include <string.h>

#include <weft/weft.h>

#define CONTROL_MAX 1024

typedef struct {
  int greeted;
} control_conn_t;

static int control_conn_init(void *state, void **conn_state) {
  (void)state;
  *conn_state = calloc(1, sizeof(control_conn_t));
  return *conn_state != NULL ? 0 : WEFT_ENOMEM;
}

static void control_conn_free(void *state, void *conn_state) {
  (void)state;
  free(conn_state);
}

static weft_decode_status_t control_decode(weft_codec_ctx_t *ctx,
                                           const uint8_t *in, size_t len,
                                           weft_decode_t *d) {
  static const char hello[] = "HELLO weft\n", bye[] = "BYE\n";
  control_conn_t *cs = weft_codec_conn_state(ctx);
  size_t start = d->scanned <= len ? d->scanned : 0;
  size_t limit = len > CONTROL_MAX ? CONTROL_MAX + 1 : len;
  const uint8_t *nl;
  int r;

  if (cs != NULL && !cs->greeted) {
    cs->greeted = 1;
    /* Outside a connection (unit tests) there is nobody to greet. */
    r = weft_codec_write(ctx, hello, sizeof(hello) - 1);
    if (r != 0 && r != WEFT_EINVAL) {
      d->error = r;
      d->reason = "cannot greet the peer";
      return WEFT_DECODE_ERROR;
    }
  }
  nl = start < limit ? memchr(in + start, '\n', limit - start) : NULL;
  if (nl == NULL) {
    if (len > CONTROL_MAX) {
      d->error = WEFT_EMSGSIZE;
      d->reason = "line too long";
      d->consumed = CONTROL_MAX;
      return WEFT_DECODE_ERROR;
    }
    d->scanned = len;
    return WEFT_DECODE_MORE;
  }
  if (nl - in == 4 && memcmp(in, "QUIT", 4) == 0 &&
      weft_codec_conn(ctx) != NULL) {
    /* Once the connection is closing no frame reaches the handler, so
     * what is returned here no longer matters: keep the bytes. */
    weft_codec_write(ctx, bye, sizeof(bye) - 1);
    weft_conn_close(weft_codec_conn(ctx), 0);
    d->scanned = 0;
    return WEFT_DECODE_MORE;
  }
  d->frame = in;
  d->frame_len = (size_t)(nl - in);
  d->consumed = d->frame_len + 1;
  return WEFT_DECODE_FRAME;
}

static int control_encode(weft_codec_ctx_t *ctx, const uint8_t *frame,
                          size_t len, weft_out_t *out) {
  uint8_t *p;

  (void)ctx;
  if (len > CONTROL_MAX)
    return WEFT_EMSGSIZE;
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

static const weft_codec_vtable_t control_vtable = {
    .struct_size = sizeof(weft_codec_vtable_t),
    .conn_init = control_conn_init,
    .conn_free = control_conn_free,
    .decode = control_decode,
    .encode = control_encode,
};

WEFT_CODEC_PLUGIN("control", "1.0", &control_vtable);
