/*
 * Mailboxes.  Each worker has one bounded ring of messages, filled by any
 * thread under a mutex and drained by the worker when its async handle
 * fires.  Connections are named by a slot and a generation: a slot is
 * taken on the first weft_conn_ref() and its generation bumped when the
 * connection closes, so a stale reference finds nothing instead of freed
 * memory, and connections that are never referenced cost nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int weft__mailbox_init(weft__worker_t *w, size_t cap) {
  if (uv_mutex_init(&w->mbox_lock) != 0)
    return WEFT_ENOMEM;
  w->mbox = calloc(cap, sizeof(*w->mbox));
  if (w->mbox == NULL) {
    uv_mutex_destroy(&w->mbox_lock);
    return WEFT_ENOMEM;
  }
  w->mbox_cap = cap;
  w->mbox_open = 1;
  return 0;
}

static int weft__mailbox_push(weft__worker_t *w, const weft__msg_t *m) {
  int r = 0;

  uv_mutex_lock(&w->mbox_lock);
  if (!w->mbox_open)
    r = WEFT_ECLOSED;
  else if (w->mbox_len == w->mbox_cap)
    r = WEFT_EAGAIN; /* bounded: the sender hears it, the queue never grows */
  else
    w->mbox[(w->mbox_head + w->mbox_len++) % w->mbox_cap] = *m;
  /* Under the lock: the worker closes the mailbox (under it) before its
   * async handle, so the handle is alive for as long as we hold it. */
  if (r == 0)
    uv_async_send(&w->async);
  uv_mutex_unlock(&w->mbox_lock);
  return r;
}

static void weft__mailbox_deliver(weft__worker_t *w, weft__msg_t *m) {
  weft_conn_t *c;

  if (m->fn != NULL) {
    m->fn(m->msg);
    return;
  }
  if (m->slot < w->nslots && w->slots[m->slot].gen == m->gen &&
      (c = w->slots[m->slot].conn) != NULL &&
      (c->flags & WEFT__C_OPEN) && !(c->flags & WEFT__C_CLOSING) &&
      c->wl->hvt->on_message != NULL) {
    WEFT__STAT_ADD(&c->wl->stats, messages_in, 1);
    c->wl->hvt->on_message(c, m->msg);
  }
  if (m->free_msg != NULL)
    m->free_msg(m->msg);
}

void weft__mailbox_drain(weft__worker_t *w) {
  weft__msg_t batch[64];
  size_t n = 0, i, rounds;

  /* A bounded number of batches per wake-up keeps the loop fair. */
  for (rounds = 0; rounds * 64 < w->mbox_cap + 64; rounds++) {
    uv_mutex_lock(&w->mbox_lock);
    for (n = 0; n < 64 && w->mbox_len > 0; n++) {
      batch[n] = w->mbox[w->mbox_head];
      w->mbox_head = (w->mbox_head + 1) % w->mbox_cap;
      w->mbox_len--;
    }
    uv_mutex_unlock(&w->mbox_lock);
    for (i = 0; i < n; i++)
      weft__mailbox_deliver(w, &batch[i]);
    if (n < 64)
      break;
  }
  if (n == 64)
    uv_async_send(&w->async); /* more is waiting: come back next iteration */
  else
    __atomic_store_n(&w->drains, w->drains + 1, __ATOMIC_RELEASE);
}

void weft__mailbox_close(weft__worker_t *w) {
  weft__msg_t m;

  uv_mutex_lock(&w->mbox_lock);
  w->mbox_open = 0;
  uv_mutex_unlock(&w->mbox_lock);
  /* Nothing can be added now: drop what is left (its targets are gone). */
  while (w->mbox_len > 0) {
    m = w->mbox[w->mbox_head];
    w->mbox_head = (w->mbox_head + 1) % w->mbox_cap;
    w->mbox_len--;
    if (m.fn == NULL && m.free_msg != NULL)
      m.free_msg(m.msg);
    else if (m.fn != NULL)
      m.fn(m.msg); /* a worker function still runs: it may own memory */
  }
}

void weft__mailbox_free(weft__worker_t *w) {
  if (w->mbox == NULL)
    return;
  weft__mailbox_close(w);
  free(w->mbox);
  w->mbox = NULL;
  free(w->slots);
  w->slots = NULL;
  w->nslots = 0;
  uv_mutex_destroy(&w->mbox_lock);
}

void weft__mailbox_forget(weft_conn_t *c) {
  weft__worker_t *w = c->wl->w;
  weft__slot_t *s;

  if (c->slot == 0)
    return;
  s = &w->slots[c->slot];
  s->conn = NULL;
  s->gen++;
  s->next_free = w->free_slot;
  w->free_slot = c->slot;
  c->slot = 0;
}

weft_conn_ref_t weft_conn_ref(weft_conn_t *c) {
  weft__worker_t *w = c->wl->w;
  weft_conn_ref_t ref;
  weft__slot_t *s;
  uint32_t i, n;

  memset(&ref, 0, sizeof(ref));
  if (c->flags & (WEFT__C_CLOSING | WEFT__C_CLOSED))
    return ref;
  if (c->slot == 0) {
    if (w->free_slot == 0) {
      /* Grow geometrically; slot 0 stays unused so 0 means "none". */
      n = w->nslots ? w->nslots * 2 : 64;
      s = realloc(w->slots, n * sizeof(*s));
      if (s == NULL)
        return ref;
      memset(s + w->nslots, 0, (n - w->nslots) * sizeof(*s));
      for (i = n - 1; i >= (w->nslots ? w->nslots : 1); i--) {
        s[i].next_free = w->free_slot;
        w->free_slot = i;
      }
      w->slots = s;
      w->nslots = n;
    }
    c->slot = w->free_slot;
    w->free_slot = w->slots[c->slot].next_free;
    w->slots[c->slot].conn = c;
  }
  ref.priv_worker = w;
  ref.priv_slot = c->slot;
  ref.priv_gen = w->slots[c->slot].gen;
  return ref;
}

int weft_post(weft_conn_ref_t ref, void *msg, void (*free_msg)(void *)) {
  weft__msg_t m;

  if (ref.priv_worker == NULL || ref.priv_slot == 0)
    return WEFT_ECLOSED;
  memset(&m, 0, sizeof(m));
  m.slot = ref.priv_slot;
  m.gen = ref.priv_gen;
  m.msg = msg;
  m.free_msg = free_msg;
  return weft__mailbox_push(ref.priv_worker, &m);
}

int weft_worker_post(weft_engine_t *e, int worker, void (*fn)(void *),
                     void *arg) {
  weft__msg_t m;
  int r;

  if (fn == NULL)
    return WEFT_EINVAL;
  memset(&m, 0, sizeof(m));
  m.fn = fn;
  m.msg = arg;
  /* The lock keeps the workers from being released under us. */
  uv_mutex_lock(&e->lock);
  if (worker < 0 || worker >= e->nworkers)
    r = e->nworkers ? WEFT_EINVAL : WEFT_ECLOSED;
  else
    r = weft__mailbox_push(&e->workers[worker], &m);
  uv_mutex_unlock(&e->lock);
  return r;
}

int weft_conn_ref_valid(weft_conn_ref_t ref) {
  return ref.priv_worker != NULL && ref.priv_slot != 0;
}

weft_engine_t *weft_conn_engine(const weft_conn_t *c) { return c->wl->w->e; }
int weft_conn_worker(const weft_conn_t *c) { return c->wl->w->id; }
int weft_engine_workers(const weft_engine_t *e) { return e->nworkers; }
