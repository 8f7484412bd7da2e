/*
 * Mailboxes: the actor pattern.  Any thread can post a message to a
 * connection, by reference, or a function to a worker; the message is
 * queued in the target worker's bounded mailbox and delivered on that
 * worker's thread.  A full mailbox refuses at once (backpressure to the
 * sender); it never grows and never blocks.
 */
#ifndef WEFT_MAILBOX_H
#define WEFT_MAILBOX_H

#include <weft/common.h>

WEFT_BEGIN_DECLS

/*
 * Names a connection from any thread, and stays safe after the connection
 * is gone: posting to it then fails or drops the message, never touches
 * freed memory.  A plain value: copy it freely.  Its fields are private.
 * Valid while the engine runs (until weft_engine_wait() returns).
 */
typedef struct weft_conn_ref {
  void *priv_worker;
  uint32_t priv_slot;
  uint32_t priv_gen;
} weft_conn_ref_t;

/*
 * A reference to conn.  Call on the connection's worker (from a handler
 * callback).  When the connection is already closing, or memory runs out,
 * the reference is null: posts to it fail with WEFT_ECLOSED.
 */
WEFT_EXTERN weft_conn_ref_t weft_conn_ref(weft_conn_t *conn);

/* 1 for a reference to a connection, 0 for a null one. */
WEFT_EXTERN int weft_conn_ref_valid(weft_conn_ref_t ref);

/*
 * Queues msg for the connection ref names; its handler's on_message(conn,
 * msg) runs on that connection's worker, after which weft calls
 * free_msg(msg) (if not NULL), also when the connection closed before
 * delivery.  Messages from one thread to one connection arrive in the order
 * posted.  Any thread.  Returns 0 (msg now belongs to weft), WEFT_EAGAIN
 * when the target worker's mailbox is full or WEFT_ECLOSED when the engine
 * is stopping or ref is null (msg is still the caller's).
 */
WEFT_EXTERN int weft_post(weft_conn_ref_t ref, void *msg,
                          void (*free_msg)(void *msg));

/*
 * Runs fn(arg) on the given worker's thread (0 <= worker <
 * weft_engine_workers()).  Same returns and ordering as weft_post(); when
 * it fails, fn is not called and arg is still the caller's.
 */
WEFT_EXTERN int weft_worker_post(weft_engine_t *engine, int worker,
                                 void (*fn)(void *arg), void *arg);

/* The engine and worker serving conn; the number of workers. */
WEFT_EXTERN weft_engine_t *weft_conn_engine(const weft_conn_t *conn);
WEFT_EXTERN int weft_conn_worker(const weft_conn_t *conn);
WEFT_EXTERN int weft_engine_workers(const weft_engine_t *engine);

WEFT_END_DECLS

#endif /* WEFT_MAILBOX_H */
