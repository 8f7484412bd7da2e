/*
 * work: the benchmark's CPU-bound echo handler (bench/README.md, issue 7
 * target 5).  Each frame is hashed `rounds` times (FNV-1a, each round
 * seeded with the last) before it is echoed, so the server, not the load
 * generator, is what limits frames/s: the load under which a second worker
 * thread has something to do on a machine that also runs the client.
 * Nothing is shared between connections or workers: the hash stays in a
 * register.
 */
#include <stdlib.h>

#include <weft/weft.h>

typedef struct {
  int64_t rounds;
} work_t;

static int work_create(weft_opts_t *opts, void **state) {
  work_t *w = malloc(sizeof(*w));
  int rc;

  if (w == NULL)
    return WEFT_ENOMEM;
  rc = weft_opt_int(opts, "rounds", 16, 0, 1000000, &w->rounds);
  if (rc != 0) {
    free(w);
    return rc;
  }
  *state = w;
  return 0;
}

static void work_destroy(void *state) { free(state); }

static void work_hash(const work_t *w, const uint8_t *p, size_t len) {
  uint64_t h = 0xcbf29ce484222325u;
  int64_t r;
  size_t i;

  for (r = 0; r < w->rounds; r++)
    for (i = 0; i < len; i++)
      h = (h ^ p[i]) * 0x100000001b3u;
  /* Keeps the loop: the compiler cannot see that h is never read. */
  __asm__ __volatile__("" : : "r"(h));
}

static int work_on_frame(weft_conn_t *conn, const uint8_t *frame,
                         size_t len) {
  work_hash(weft_conn_handler_state(conn), frame, len);
  return weft_conn_send(conn, frame, len);
}

static int work_on_frames(weft_conn_t *conn, const weft_frame_t *frames,
                          size_t n) {
  const work_t *w = weft_conn_handler_state(conn);
  size_t i;

  for (i = 0; i < n; i++)
    work_hash(w, frames[i].data, frames[i].len);
  return weft_conn_send_many(conn, frames, n);
}

static const weft_handler_vtable_t work_vtable = {
    .struct_size = sizeof(weft_handler_vtable_t),
    .create = work_create,
    .destroy = work_destroy,
    .on_frame = work_on_frame,
    .on_frames = work_on_frames,
};

WEFT_HANDLER_PLUGIN("work", "1.0", &work_vtable);
