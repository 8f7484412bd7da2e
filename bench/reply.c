/*
 * reply: the benchmark's handlers that build their own replies
 * (bench/README.md).  Each frame is copied into the handler's own memory
 * and the copy is sent, so the codec's encoder checks and copies it as it
 * would any reply a handler made.  The reply equals the request, so the
 * client's echo checks still hold.  Built twice:
 *
 *   reply.la    on_frame() and weft_conn_send(), one frame per call: the
 *               simplest handler;
 *   replies.la  (REPLY_MANY) on_frames() and one weft_conn_send_many() for
 *               the replies of a batch: the fast path of weft-handler(3).
 */
#include <string.h>

#include <weft/weft.h>

/* Frames up to this size are copied; larger ones are sent as they came. */
#define REPLY_COPY_MAX 256
/* The engine hands over at most 64 frames a batch; more are sent in parts. */
#define REPLY_BATCH 64

static int reply_on_frame(weft_conn_t *conn, const uint8_t *frame,
                          size_t len) {
  uint8_t buf[REPLY_COPY_MAX];

  if (len > sizeof(buf))
    return weft_conn_send(conn, frame, len);
  memcpy(buf, frame, len);
  return weft_conn_send(conn, buf, len);
}

#ifdef REPLY_MANY
static int reply_on_frames(weft_conn_t *conn, const weft_frame_t *frames,
                           size_t n) {
  uint8_t buf[REPLY_BATCH * REPLY_COPY_MAX];
  weft_frame_t out[REPLY_BATCH];
  size_t i, k = 0, off = 0;
  int r;

  for (i = 0; i < n; i++) {
    out[k] = frames[i];
    if (frames[i].len <= REPLY_COPY_MAX) {
      memcpy(buf + off, frames[i].data, frames[i].len);
      out[k].data = buf + off;
      off += frames[i].len;
    }
    if (++k == REPLY_BATCH || i + 1 == n) {
      if ((r = weft_conn_send_many(conn, out, k)) != 0)
        return r;
      k = 0;
      off = 0;
    }
  }
  return 0;
}
#endif

static const weft_handler_vtable_t reply_vtable = {
    .struct_size = sizeof(weft_handler_vtable_t),
    .on_frame = reply_on_frame,
#ifdef REPLY_MANY
    .on_frames = reply_on_frames,
#endif
};

#ifdef REPLY_MANY
WEFT_HANDLER_PLUGIN("replies", "1.0", &reply_vtable);
#else
WEFT_HANDLER_PLUGIN("reply", "1.0", &reply_vtable);
#endif
