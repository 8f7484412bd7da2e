/*
 * Counters: per listener and per worker, connections open and total,
 * frames and bytes in and out, decode errors, timeouts by kind, refusals by
 * limit, accept pauses, backpressure pauses and forced closes at shutdown.
 */
#ifndef WEFT_STATS_H
#define WEFT_STATS_H

#include <weft/common.h>

WEFT_BEGIN_DECLS

/* Receives one line of text (no newline); non-zero stops the walk. */
typedef int (*weft_stats_line_cb)(void *arg, const char *line);

/*
 * Calls cb with one line per listener and worker, then one per listener
 * over all workers, one per worker over all listeners, and a grand total:
 *
 *   listener=NAME worker=N conns_open=1 conns_total=7 frames_in=... ...
 *   listener=NAME worker=all ...
 *   listener=* worker=N ...
 *   listener=* worker=all ...
 *
 * Keys are stable; new keys may be appended.  Counters are read without
 * stopping the workers, so a line is a near-instant snapshot.  Any thread.
 * cb runs with the engine's lock held: it must not call back into the
 * engine (stop, post to a worker, stats).  Sending on a connection is fine
 * only on that connection's worker, as from weft_conn_stats() in a handler.
 * Returns 0, or what cb returned to stop.
 */
WEFT_EXTERN int weft_engine_stats(weft_engine_t *engine, weft_stats_line_cb cb,
                                  void *arg);

/* The same for the engine serving conn, from a handler (its worker). */
WEFT_EXTERN int weft_conn_stats(const weft_conn_t *conn, weft_stats_line_cb cb,
                                void *arg);

WEFT_END_DECLS

#endif /* WEFT_STATS_H */
