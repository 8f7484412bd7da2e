/* echo: sends every frame back through the listener's codec. */
#include <weft/weft.h>

static int echo_on_frame(weft_conn_t *conn, const uint8_t *frame, size_t len) {
  /* A failed send (codec error, out of memory) closes with that reason. */
  return weft_conn_send(conn, frame, len);
}

static const weft_handler_vtable_t echo_vtable = {
    .struct_size = sizeof(weft_handler_vtable_t),
    .on_frame = echo_on_frame,
    /* no options, no state, nothing to say on its own */
};

WEFT_HANDLER_PLUGIN("echo", "1.0", &echo_vtable);
