/* echo: sends every frame back through the listener's codec. */
#include <weft/weft.h>

static int echo_on_frame(weft_conn_t *conn, const uint8_t *frame, size_t len) {
  /* A failed send (codec error, out of memory) closes with that reason. */
  return weft_conn_send(conn, frame, len);
}

/* A read's worth of frames at once (ABI 1.2): one send, one encode call.
 * A frame that cannot be sent stops there, as it does one at a time. */
static int echo_on_frames(weft_conn_t *conn, const weft_frame_t *frames,
                          size_t n) {
  return weft_conn_send_many(conn, frames, n);
}

static const weft_handler_vtable_t echo_vtable = {
    .struct_size = sizeof(weft_handler_vtable_t),
    .on_frame = echo_on_frame,
    .on_frames = echo_on_frames,
    /* no options, no state, nothing to say on its own */
};

WEFT_HANDLER_PLUGIN("echo", "1.0", &echo_vtable);
