/*
 * upper: an example handler plugin.  Replies to every frame with the same
 * frame, ASCII letters upper-cased, through the listener's codec.
 *
 * Build: cc -shared -fPIC $(pkg-config --cflags weft) upper.c -o upper.so
 * Use:   handler = { plugin = "./upper.so"; };
 */
#include <stdlib.h>

#include <weft/weft.h>

#define UPPER_SCRATCH 4096

/* weft creates one instance per listener per worker thread, and calls it
 * on that thread only: a scratch buffer here needs no lock. */
typedef struct {
  uint8_t scratch[UPPER_SCRATCH];
} upper_state_t;

static int upper_create(weft_opts_t *opts, void **state) {
  (void)opts; /* no options: any given is reported as unknown */
  *state = malloc(sizeof(upper_state_t));
  return *state != NULL ? 0 : WEFT_ENOMEM;
}

static void upper_destroy(void *state) {
  free(state);
}

static int upper_on_frame(weft_conn_t *conn, const uint8_t *frame,
                          size_t len) {
  upper_state_t *s = weft_conn_handler_state(conn);
  uint8_t *buf;
  size_t i;
  int rc;

  /* The frame is the engine's, read-only and valid only during this call,
   * and weft_conn_send copies: a scratch copy need live no longer.  Small
   * frames, the common case, need no allocation. */
  buf = len <= sizeof(s->scratch) ? s->scratch : malloc(len);
  if (buf == NULL)
    return WEFT_ENOMEM; /* closes this connection only */
  /* Not toupper(): its answer depends on the process locale. */
  for (i = 0; i < len; i++)
    buf[i] = frame[i] >= 'a' && frame[i] <= 'z' ? (uint8_t)(frame[i] - 32)
                                                : frame[i];
  rc = weft_conn_send(conn, buf, len);
  if (buf != s->scratch)
    free(buf);
  return rc; /* non-zero (codec error, out of memory) closes with it */
}

/* Designated initializers: members a later ABI minor appends stay NULL. */
static const weft_handler_vtable_t upper_vtable = {
    .struct_size = sizeof(weft_handler_vtable_t),
    .create = upper_create,
    .destroy = upper_destroy,
    .on_frame = upper_on_frame,
    /* no on_writable: upper only answers, it never talks first */
};

/* The one exported symbol.  Out of tree, WEFT_PLUGIN_MODULE stays
 * undefined, so it is named plain `weft_plugin`. */
WEFT_HANDLER_PLUGIN("upper", "1.0", &upper_vtable);
