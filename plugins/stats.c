/*
 * stats: answers any frame with the engine's counters, one frame per line
 * (see weft_engine_stats(3)), then a frame "end".  Put it on a listener of
 * its own, e.g. with the line codec on 127.0.0.1 only.
 */
#include <string.h>

#include <weft/weft.h>

static int stats_send_line(void *arg, const char *line) {
  return weft_conn_send(arg, line, strlen(line));
}

static int stats_on_frame(weft_conn_t *conn, const uint8_t *frame,
                          size_t len) {
  int r;

  (void)frame;
  (void)len;
  r = weft_conn_stats(conn, stats_send_line, conn);
  if (r != 0)
    return r;
  return weft_conn_send(conn, "end", 3);
}

static const weft_handler_vtable_t stats_vtable = {
    .struct_size = sizeof(weft_handler_vtable_t),
    .on_frame = stats_on_frame,
};

WEFT_HANDLER_PLUGIN("stats", "1.0", &stats_vtable);
