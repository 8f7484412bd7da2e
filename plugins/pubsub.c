/*
 * pubsub: a publish/subscribe hub.  Clients subscribe to topics and publish
 * to them with commands inside frames; a message published to a topic
 * reaches every subscriber of that topic whatever its listener, worker or
 * codec, framed by the subscriber's own codec.  See weft-pubsub(7).
 *
 * Commands, one per frame (the verb in any case; one space between fields):
 *
 *   SUB topic          subscribe            -> "OK SUB topic"
 *   UNSUB topic        unsubscribe          -> "OK UNSUB topic"
 *   UNSUB              every topic          -> "OK UNSUB"
 *   PUB topic payload  publish              -> "OK PUB topic N" (N: the
 *                      subscribers it was queued for), unless ack_publish
 *                      is false; the payload is every byte after the space
 *                      that ends the topic, and may be empty or binary
 *   STATS              counters             -> "STATS key=value ..."
 *   PING                                    -> "PONG"
 *
 * A subscriber receives "MSG topic payload".  A command that cannot be done
 * is answered "ERR reason" and the connection stays open.  A topic is 1 to
 * max_topic_length bytes, none of them a space, a control character or
 * DEL (bytes >= 0x80 are allowed, so UTF-8 works); topics match exactly.
 *
 * Options:
 *   queue_limit        int, default 1024: messages a subscriber may have
 *                      waiting while its connection is not writable;
 *   on_full            "disconnect" (default), "drop_oldest" or
 *                      "drop_newest": what a message arriving at a full
 *                      queue does;
 *   max_subscriptions  int, default 1024: topics one connection may hold;
 *   max_topic_length   int, default 256;
 *   ack_publish        bool, default true: answer each PUB.
 *
 * Threading.  Instances are per listener per worker, but the topic space is
 * the module's: one registry, static in this file, shared by every
 * instance of this copy of the plugin (refcounted by create/destroy) and
 * guarded by a mutex.  It holds weft_conn_ref_t values, never connection
 * pointers, since the subscriber lives on another thread and may be gone by
 * the time a message reaches it.  A PUB copies its topic's subscribers out
 * under the lock, then posts one shared, refcounted message to each with
 * weft_post(): its on_message runs on the subscriber's worker, which sends
 * it or queues it.  A full worker mailbox refuses at once: counted as a
 * drop for that subscriber, the publisher never waits.  Posts from one
 * thread to one connection keep their order, and a connection's queue is
 * first in, first out, so one publisher's messages reach each subscriber in
 * the order published.
 *
 * Each message carries a sequence number taken under the registry lock,
 * and each subscription the number current when it was made: a message
 * reaches a connection only while the connection subscribes to its topic
 * and only if it was published after that subscription began.  So after
 * "OK UNSUB t" nothing of t arrives, and a later SUB t does not let in a
 * message published before it.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <weft/weft.h>

enum { PS_DISCONNECT, PS_DROP_OLDEST, PS_DROP_NEWEST };

static const char *const ps_policy_names[] = {"disconnect", "drop_oldest",
                                              "drop_newest", NULL};

/* A subscriber as the registry knows it: a reference, from any thread. */
typedef struct {
  weft_conn_ref_t ref;
  uint64_t conn_id; /* to find the entry again when it unsubscribes */
} ps_target_t;

typedef struct ps_topic {
  struct ps_topic *next; /* hash chain */
  uint64_t hash;
  uint64_t id; /* never reused, unlike the address */
  ps_target_t *subs;
  size_t nsubs, cap;
  size_t len;
  char name[]; /* len bytes and a NUL */
} ps_topic_t;

/* One published message, shared by its subscribers until the last frees
 * it: a queued message costs a pointer, not a copy. */
typedef struct {
  uint32_t refs; /* atomic */
  uint64_t topic_id;
  uint64_t seq; /* registry order of publication */
  size_t len;
  uint8_t data[]; /* the frame: "MSG topic payload" */
} ps_msg_t;

/* What a connection subscribes to. */
typedef struct {
  ps_topic_t *t; /* alive while this connection subscribes to it */
  uint64_t topic_id;
  uint64_t since; /* messages with seq above this are for us */
} ps_sub_t;

/* Per connection, made at its first SUB; worker thread only. */
typedef struct {
  weft_conn_ref_t ref;
  ps_sub_t *subs;
  size_t nsubs, subs_cap;
  ps_msg_t **q; /* ring of messages waiting for the socket to drain */
  size_t qhead, qlen, qcap;
  uint64_t dropped;
} ps_conn_t;

/* Per listener per worker. */
typedef struct {
  size_t queue_limit;
  int on_full;
  size_t max_subscriptions;
  size_t max_topic_length;
  int ack_publish;
  ps_target_t *scratch; /* a PUB's copy of its subscribers (worker only) */
  size_t scratch_cap;
} ps_inst_t;

static struct {
  pthread_mutex_t lock;
  int instances;
  ps_topic_t **buckets; /* NULL until the first SUB */
  size_t nbuckets, ntopics, nsubscriptions;
  uint64_t next_topic_id;
  uint64_t seq;
} ps_reg = {PTHREAD_MUTEX_INITIALIZER, 0, NULL, 0, 0, 0, 0, 0};

/* Counters over every instance, since the first create(); atomic. */
#define PS_COUNTERS(XX)                                                        \
  XX(published)                                                                \
  XX(posted)                                                                   \
  XX(delivered)                                                                \
  XX(queued)                                                                   \
  XX(dropped_oldest)                                                           \
  XX(dropped_newest)                                                           \
  XX(dropped_mailbox)                                                          \
  XX(dropped_unsendable)                                                       \
  XX(disconnects)

static struct {
#define PS_FIELD(name) uint64_t name;
  PS_COUNTERS(PS_FIELD)
#undef PS_FIELD
} ps_count;

#define PS_ADD(field, n)                                                       \
  __atomic_add_fetch(&ps_count.field, (uint64_t)(n), __ATOMIC_RELAXED)
#define PS_SUB(field, n)                                                       \
  __atomic_sub_fetch(&ps_count.field, (uint64_t)(n), __ATOMIC_RELAXED)
#define PS_GET(field) __atomic_load_n(&ps_count.field, __ATOMIC_RELAXED)

/* ---- messages ----------------------------------------------------------- */

static void ps_msg_unref(void *p) {
  ps_msg_t *m = p;

  if (__atomic_sub_fetch(&m->refs, 1, __ATOMIC_ACQ_REL) == 0)
    free(m);
}

static void ps_msg_ref(ps_msg_t *m) {
  __atomic_add_fetch(&m->refs, 1, __ATOMIC_RELAXED);
}

/* ---- replies ------------------------------------------------------------ */

/* Sends a, b[0..blen) and c as one frame. */
static int ps_reply(weft_conn_t *conn, const char *a, const void *b,
                    size_t blen, const char *c) {
  char small[512], *buf = small;
  size_t alen = strlen(a), clen = strlen(c), n = alen + blen + clen;
  int r;

  if (n > sizeof(small) && (buf = malloc(n)) == NULL)
    return weft_conn_send(conn, "ERR out of memory", 17);
  memcpy(buf, a, alen);
  if (blen > 0)
    memcpy(buf + alen, b, blen);
  memcpy(buf + alen + blen, c, clen);
  r = weft_conn_send(conn, buf, n);
  if (buf != small)
    free(buf);
  return r;
}

static int ps_error(weft_conn_t *conn, const char *reason) {
  return ps_reply(conn, "ERR ", reason, strlen(reason), "");
}

/* ---- the registry (call with the lock held) ----------------------------- */

static uint64_t ps_hash(const uint8_t *p, size_t n) {
  uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
  size_t i;

  for (i = 0; i < n; i++)
    h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}

static ps_topic_t *ps_find(const uint8_t *name, size_t len, uint64_t h) {
  ps_topic_t *t;

  if (ps_reg.buckets == NULL)
    return NULL;
  for (t = ps_reg.buckets[h & (ps_reg.nbuckets - 1)]; t != NULL; t = t->next)
    if (t->hash == h && t->len == len && memcmp(t->name, name, len) == 0)
      return t;
  return NULL;
}

/* Doubles the table when it is full; without memory, chains grow instead. */
static void ps_grow_buckets(void) {
  size_t n = ps_reg.nbuckets * 2, i;
  ps_topic_t **b, *t, *next;

  if (ps_reg.ntopics < ps_reg.nbuckets || (b = calloc(n, sizeof(*b))) == NULL)
    return;
  for (i = 0; i < ps_reg.nbuckets; i++)
    for (t = ps_reg.buckets[i]; t != NULL; t = next) {
      next = t->next;
      t->next = b[t->hash & (n - 1)];
      b[t->hash & (n - 1)] = t;
    }
  free(ps_reg.buckets);
  ps_reg.buckets = b;
  ps_reg.nbuckets = n;
}

static ps_topic_t *ps_topic_new(const uint8_t *name, size_t len, uint64_t h) {
  ps_topic_t *t;

  if (ps_reg.buckets == NULL) {
    ps_reg.buckets = calloc(64, sizeof(*ps_reg.buckets));
    if (ps_reg.buckets == NULL)
      return NULL;
    ps_reg.nbuckets = 64;
  }
  t = calloc(1, sizeof(*t) + len + 1);
  if (t == NULL)
    return NULL;
  t->hash = h;
  t->id = ++ps_reg.next_topic_id;
  t->len = len;
  memcpy(t->name, name, len);
  t->next = ps_reg.buckets[h & (ps_reg.nbuckets - 1)];
  ps_reg.buckets[h & (ps_reg.nbuckets - 1)] = t;
  ps_reg.ntopics++;
  ps_grow_buckets();
  return t;
}

/* Frees a topic nobody subscribes to any more. */
static void ps_topic_drop(ps_topic_t *t) {
  ps_topic_t **pp = &ps_reg.buckets[t->hash & (ps_reg.nbuckets - 1)];

  while (*pp != t)
    pp = &(*pp)->next;
  *pp = t->next;
  ps_reg.ntopics--;
  free(t->subs);
  free(t);
}

static void ps_topic_remove(ps_topic_t *t, uint64_t conn_id) {
  size_t i;

  for (i = 0; i < t->nsubs; i++)
    if (t->subs[i].conn_id == conn_id) {
      t->subs[i] = t->subs[--t->nsubs];
      ps_reg.nsubscriptions--;
      break;
    }
  if (t->nsubs == 0)
    ps_topic_drop(t);
}

/* ---- per connection ----------------------------------------------------- */

static int ps_valid_topic(const ps_inst_t *inst, const uint8_t *p, size_t n) {
  size_t i;

  if (n == 0 || n > inst->max_topic_length)
    return 0;
  for (i = 0; i < n; i++)
    if (p[i] <= 0x20 || p[i] == 0x7f)
      return 0;
  return 1;
}

/* The connection's state, made at its first SUB; NULL without memory. */
static ps_conn_t *ps_conn_get(weft_conn_t *conn) {
  ps_conn_t *pc = weft_conn_data(conn);

  if (pc != NULL)
    return pc;
  pc = calloc(1, sizeof(*pc));
  if (pc == NULL)
    return NULL;
  pc->ref = weft_conn_ref(conn);
  /* A null reference (no memory for it) would make every post fail. */
  if (!weft_conn_ref_valid(pc->ref)) {
    free(pc);
    return NULL;
  }
  weft_conn_set_data(conn, pc);
  return pc;
}

static ps_sub_t *ps_conn_sub(ps_conn_t *pc, const uint8_t *topic, size_t len) {
  size_t i;

  for (i = 0; i < pc->nsubs; i++)
    if (pc->subs[i].t->len == len &&
        memcmp(pc->subs[i].t->name, topic, len) == 0)
      return &pc->subs[i];
  return NULL;
}

/* Whether m is for this connection now (see the sequence rule above). */
static int ps_conn_wants(const ps_conn_t *pc, const ps_msg_t *m) {
  size_t i;

  for (i = 0; i < pc->nsubs; i++)
    if (pc->subs[i].topic_id == m->topic_id)
      return m->seq > pc->subs[i].since;
  return 0;
}

static ps_msg_t *ps_queue_pop(ps_conn_t *pc) {
  ps_msg_t *m = pc->q[pc->qhead];

  pc->qhead = (pc->qhead + 1) % pc->qcap;
  pc->qlen--;
  PS_SUB(queued, 1);
  return m;
}

/* Appends m (taking a reference); the ring grows up to queue_limit. */
static int ps_queue_push(ps_conn_t *pc, const ps_inst_t *inst, ps_msg_t *m) {
  ps_msg_t **q;
  size_t n, i;

  if (pc->qlen == pc->qcap) {
    n = pc->qcap ? pc->qcap * 2 : 16;
    if (n > inst->queue_limit)
      n = inst->queue_limit;
    q = malloc(n * sizeof(*q));
    if (q == NULL)
      return WEFT_ENOMEM;
    for (i = 0; i < pc->qlen; i++)
      q[i] = pc->q[(pc->qhead + i) % pc->qcap];
    free(pc->q);
    pc->q = q;
    pc->qcap = n;
    pc->qhead = 0;
  }
  ps_msg_ref(m);
  pc->q[(pc->qhead + pc->qlen++) % pc->qcap] = m;
  PS_ADD(queued, 1);
  return 0;
}

/* Hands m to the codec.  A frame the codec refuses (a line codec and a
 * payload holding its delimiter) is dropped and counted. */
static void ps_deliver(weft_conn_t *conn, const ps_msg_t *m) {
  int r = weft_conn_send(conn, m->data, m->len);

  if (r == 0)
    PS_ADD(delivered, 1);
  else if (r != WEFT_ECLOSED)
    PS_ADD(dropped_unsendable, 1);
}

/* ---- commands ----------------------------------------------------------- */

static int ps_subscribe(weft_conn_t *conn, ps_inst_t *inst,
                        const uint8_t *topic, size_t len) {
  ps_conn_t *pc;
  ps_sub_t *s;
  ps_target_t *ts;
  ps_topic_t *t;
  uint64_t h;
  size_t n;

  if (!ps_valid_topic(inst, topic, len))
    return ps_error(conn, "SUB: bad topic");
  pc = ps_conn_get(conn);
  if (pc == NULL)
    return ps_error(conn, "SUB: out of memory");
  if (ps_conn_sub(pc, topic, len) != NULL) /* already: nothing changes */
    return ps_reply(conn, "OK SUB ", topic, len, "");
  if (pc->nsubs >= inst->max_subscriptions)
    return ps_error(conn, "SUB: too many subscriptions");
  if (pc->nsubs == pc->subs_cap) {
    n = pc->subs_cap ? pc->subs_cap * 2 : 4;
    s = realloc(pc->subs, n * sizeof(*s));
    if (s == NULL)
      return ps_error(conn, "SUB: out of memory");
    pc->subs = s;
    pc->subs_cap = n;
  }
  h = ps_hash(topic, len);
  pthread_mutex_lock(&ps_reg.lock);
  t = ps_find(topic, len, h);
  if (t == NULL && (t = ps_topic_new(topic, len, h)) == NULL)
    goto nomem;
  if (t->nsubs == t->cap) {
    n = t->cap ? t->cap * 2 : 4;
    ts = realloc(t->subs, n * sizeof(*ts));
    if (ts == NULL) {
      if (t->nsubs == 0)
        ps_topic_drop(t);
      goto nomem;
    }
    t->subs = ts;
    t->cap = n;
  }
  t->subs[t->nsubs].ref = pc->ref;
  t->subs[t->nsubs].conn_id = weft_conn_id(conn);
  t->nsubs++;
  ps_reg.nsubscriptions++;
  s = &pc->subs[pc->nsubs++];
  s->t = t;
  s->topic_id = t->id;
  s->since = ps_reg.seq;
  pthread_mutex_unlock(&ps_reg.lock);
  return ps_reply(conn, "OK SUB ", topic, len, "");
nomem:
  pthread_mutex_unlock(&ps_reg.lock);
  return ps_error(conn, "SUB: out of memory");
}

/* Drops subscription i of pc from the registry and from pc. */
static void ps_unsubscribe_at(weft_conn_t *conn, ps_conn_t *pc, size_t i) {
  pthread_mutex_lock(&ps_reg.lock);
  ps_topic_remove(pc->subs[i].t, weft_conn_id(conn));
  pthread_mutex_unlock(&ps_reg.lock);
  pc->subs[i] = pc->subs[--pc->nsubs];
}

static void ps_unsubscribe_all(weft_conn_t *conn, ps_conn_t *pc) {
  uint64_t id = weft_conn_id(conn);
  size_t i;

  if (pc->nsubs == 0)
    return;
  pthread_mutex_lock(&ps_reg.lock);
  for (i = 0; i < pc->nsubs; i++)
    ps_topic_remove(pc->subs[i].t, id);
  pthread_mutex_unlock(&ps_reg.lock);
  pc->nsubs = 0;
}

static int ps_unsubscribe(weft_conn_t *conn, ps_inst_t *inst,
                          const uint8_t *topic, size_t len, int all) {
  ps_conn_t *pc = weft_conn_data(conn);
  ps_sub_t *s;

  if (all) {
    if (pc != NULL)
      ps_unsubscribe_all(conn, pc);
    return weft_conn_send(conn, "OK UNSUB", 8);
  }
  if (!ps_valid_topic(inst, topic, len))
    return ps_error(conn, "UNSUB: bad topic");
  /* Not subscribed is not an error: the state asked for holds. */
  if (pc != NULL && (s = ps_conn_sub(pc, topic, len)) != NULL)
    ps_unsubscribe_at(conn, pc, (size_t)(s - pc->subs));
  return ps_reply(conn, "OK UNSUB ", topic, len, "");
}

static int ps_publish(weft_conn_t *conn, ps_inst_t *inst, const uint8_t *topic,
                      size_t tlen, const uint8_t *payload, size_t plen) {
  ps_target_t *scratch;
  ps_topic_t *t;
  ps_msg_t *m;
  size_t n, i, posted = 0;
  char tail[32];
  int r;

  if (!ps_valid_topic(inst, topic, tlen))
    return ps_error(conn, "PUB: bad topic");
  m = malloc(sizeof(*m) + 4 + tlen + 1 + plen);
  if (m == NULL)
    return ps_error(conn, "PUB: out of memory");
  m->refs = 1; /* ours, until every post is made */
  m->len = 4 + tlen + 1 + plen;
  memcpy(m->data, "MSG ", 4);
  memcpy(m->data + 4, topic, tlen);
  m->data[4 + tlen] = ' ';
  if (plen > 0)
    memcpy(m->data + 5 + tlen, payload, plen);

  /* Copy the subscribers out, so that posting (a lock per post) happens
   * without holding up every other worker's SUB, UNSUB and PUB. */
  pthread_mutex_lock(&ps_reg.lock);
  t = ps_find(topic, tlen, ps_hash(topic, tlen));
  n = t != NULL ? t->nsubs : 0;
  if (n > inst->scratch_cap) {
    scratch = realloc(inst->scratch, n * sizeof(*scratch));
    if (scratch == NULL) {
      pthread_mutex_unlock(&ps_reg.lock);
      free(m);
      return ps_error(conn, "PUB: out of memory");
    }
    inst->scratch = scratch;
    inst->scratch_cap = n;
  }
  if (n > 0)
    memcpy(inst->scratch, t->subs, n * sizeof(*inst->scratch));
  m->topic_id = t != NULL ? t->id : 0;
  m->seq = ++ps_reg.seq;
  pthread_mutex_unlock(&ps_reg.lock);

  PS_ADD(published, 1);
  for (i = 0; i < n; i++) {
    ps_msg_ref(m);
    r = weft_post(inst->scratch[i].ref, m, ps_msg_unref);
    if (r == 0) {
      posted++;
      continue;
    }
    ps_msg_unref(m); /* never the last reference: we hold one */
    /* A full mailbox drops the newest message for that subscriber; a
     * closed one means the engine is stopping, and nobody is owed it. */
    if (r == WEFT_EAGAIN)
      PS_ADD(dropped_mailbox, 1);
  }
  ps_msg_unref(m);
  PS_ADD(posted, posted);
  if (!inst->ack_publish)
    return 0;
  snprintf(tail, sizeof(tail), " %zu", posted);
  return ps_reply(conn, "OK PUB ", topic, tlen, tail);
}

static int ps_stats(weft_conn_t *conn) {
  const ps_conn_t *pc = weft_conn_data(conn);
  char buf[768];
  size_t topics, subs;
  int n;

  pthread_mutex_lock(&ps_reg.lock);
  topics = ps_reg.ntopics;
  subs = ps_reg.nsubscriptions;
  pthread_mutex_unlock(&ps_reg.lock);
  n = snprintf(buf, sizeof(buf), "STATS topics=%zu subscriptions=%zu", topics,
               subs);
#define PS_PRINT(name)                                                         \
  n += snprintf(buf + n, sizeof(buf) - (size_t)n, " " #name "=%llu",           \
                (unsigned long long)PS_GET(name));
  PS_COUNTERS(PS_PRINT)
#undef PS_PRINT
  n += snprintf(buf + n, sizeof(buf) - (size_t)n,
                " conn_subscriptions=%zu conn_queued=%zu conn_dropped=%llu",
                pc ? pc->nsubs : 0, pc ? pc->qlen : 0,
                (unsigned long long)(pc ? pc->dropped : 0));
  return weft_conn_send(conn, buf, (size_t)n);
}

#define PS_UNKNOWN "unknown command: use SUB, UNSUB, PUB, STATS or PING"

/* Case-insensitive match of the verb frame[0..len) against word. */
static int ps_verb_is(const uint8_t *verb, size_t len, const char *word) {
  size_t i;

  if (strlen(word) != len)
    return 0;
  for (i = 0; i < len; i++)
    if ((verb[i] >= 'a' && verb[i] <= 'z' ? verb[i] - 32 : verb[i]) !=
        (uint8_t)word[i])
      return 0;
  return 1;
}

static int ps_on_frame(weft_conn_t *conn, const uint8_t *frame, size_t len) {
  ps_inst_t *inst = weft_conn_handler_state(conn);
  const uint8_t *sp, *arg = NULL, *sp2;
  size_t vlen, alen = 0;
  int r;

  /* An empty frame may come as a NULL pointer: no memchr on it. */
  sp = len > 0 ? memchr(frame, ' ', len) : NULL;
  vlen = sp ? (size_t)(sp - frame) : len;
  if (sp != NULL) {
    arg = sp + 1;
    alen = len - vlen - 1;
  }
  if (vlen == 0) {
    r = ps_error(conn, PS_UNKNOWN);
  } else if (ps_verb_is(frame, vlen, "PUB")) {
    if (arg == NULL)
      r = ps_error(conn, "PUB: usage: PUB topic payload");
    else if ((sp2 = memchr(arg, ' ', alen)) == NULL)
      r = ps_publish(conn, inst, arg, alen, NULL, 0);
    else
      r = ps_publish(conn, inst, arg, (size_t)(sp2 - arg), sp2 + 1,
                     alen - (size_t)(sp2 - arg) - 1);
  } else if (ps_verb_is(frame, vlen, "SUB")) {
    r = arg ? ps_subscribe(conn, inst, arg, alen)
            : ps_error(conn, "SUB: usage: SUB topic");
  } else if (ps_verb_is(frame, vlen, "UNSUB")) {
    r = ps_unsubscribe(conn, inst, arg, alen, arg == NULL);
  } else if (ps_verb_is(frame, vlen, "STATS") && arg == NULL) {
    r = ps_stats(conn);
  } else if (ps_verb_is(frame, vlen, "PING") && arg == NULL) {
    r = weft_conn_send(conn, "PONG", 4);
  } else {
    r = ps_error(conn, PS_UNKNOWN);
  }
  /* A reply that cannot be sent (out of memory) closes with that reason. */
  return r == WEFT_ECLOSED ? 0 : r;
}

/* ---- delivery, on the subscriber's worker ------------------------------- */

static void ps_on_message(weft_conn_t *conn, void *msg) {
  const ps_inst_t *inst = weft_conn_handler_state(conn);
  ps_conn_t *pc = weft_conn_data(conn);
  ps_msg_t *m = msg;

  if (pc == NULL || !ps_conn_wants(pc, m))
    return; /* unsubscribed since it was published */
  if (pc->qlen == 0 && weft_conn_writable(conn)) {
    ps_deliver(conn, m);
    return;
  }
  if (pc->qlen >= inst->queue_limit) {
    pc->dropped++;
    switch (inst->on_full) {
    case PS_DROP_NEWEST:
      PS_ADD(dropped_newest, 1);
      return;
    case PS_DROP_OLDEST:
      PS_ADD(dropped_oldest, 1);
      ps_msg_unref(ps_queue_pop(pc));
      break;
    default:
      PS_ADD(disconnects, 1);
      weft_log(WEFT_LOG_INFO,
               "pubsub: listener \"%s\" conn #%llu from %s: %zu messages "
               "waiting, disconnecting it (on_full = disconnect)",
               weft_conn_listener(conn), (unsigned long long)weft_conn_id(conn),
               weft_conn_peer(conn), pc->qlen);
      /* Behind what is already queued, should the peer read it one day. */
      weft_conn_send(conn, "ERR queue full: disconnecting", 29);
      weft_conn_close(conn, WEFT_EAGAIN); /* runs on_close: pc is gone */
      return;
    }
  }
  if (ps_queue_push(pc, inst, m) != 0) {
    pc->dropped++;
    PS_ADD(dropped_newest, 1); /* no memory to queue it: the newest goes */
  }
}

/* The socket drained: send what waited, in order, while it stays so. */
static void ps_on_writable(weft_conn_t *conn) {
  ps_conn_t *pc = weft_conn_data(conn);
  ps_msg_t *m;

  if (pc == NULL)
    return;
  while (pc->qlen > 0 && weft_conn_writable(conn)) {
    m = ps_queue_pop(pc);
    if (ps_conn_wants(pc, m))
      ps_deliver(conn, m);
    ps_msg_unref(m);
  }
  if (pc->qlen == 0) { /* a caught-up subscriber holds no ring */
    free(pc->q);
    pc->q = NULL;
    pc->qcap = 0;
    pc->qhead = 0;
  }
}

static void ps_on_close(weft_conn_t *conn, int reason, const char *detail) {
  ps_conn_t *pc = weft_conn_data(conn);

  (void)reason;
  (void)detail;
  if (pc == NULL)
    return;
  /* Posts already on their way find a stale reference: weft drops them. */
  ps_unsubscribe_all(conn, pc);
  while (pc->qlen > 0)
    ps_msg_unref(ps_queue_pop(pc));
  weft_conn_set_data(conn, NULL);
  free(pc->q);
  free(pc->subs);
  free(pc);
}

/* ---- instances ---------------------------------------------------------- */

static int ps_create(weft_opts_t *opts, void **state) {
  int64_t queue_limit, max_subs, max_topic;
  ps_inst_t *inst;
  int ack, rc, policy;

  if ((rc = weft_opt_int(opts, "queue_limit", 1024, 1, 1 << 24,
                         &queue_limit)) != 0 ||
      (rc = weft_opt_choice(opts, "on_full", ps_policy_names, 0, &policy)) !=
          0 ||
      (rc = weft_opt_int(opts, "max_subscriptions", 1024, 1, 1 << 20,
                         &max_subs)) != 0 ||
      (rc = weft_opt_int(opts, "max_topic_length", 256, 1, 65536,
                         &max_topic)) != 0 ||
      (rc = weft_opt_bool(opts, "ack_publish", 1, &ack)) != 0)
    return rc;
  inst = calloc(1, sizeof(*inst));
  if (inst == NULL)
    return WEFT_ENOMEM;
  inst->queue_limit = (size_t)queue_limit;
  inst->on_full = policy;
  inst->max_subscriptions = (size_t)max_subs;
  inst->max_topic_length = (size_t)max_topic;
  inst->ack_publish = ack;

  pthread_mutex_lock(&ps_reg.lock);
  if (ps_reg.instances++ == 0) { /* a fresh topic space: fresh counters */
#define PS_ZERO(name) __atomic_store_n(&ps_count.name, 0, __ATOMIC_RELAXED);
    PS_COUNTERS(PS_ZERO)
#undef PS_ZERO
  }
  pthread_mutex_unlock(&ps_reg.lock);
  *state = inst;
  return 0;
}

static void ps_destroy(void *state) {
  ps_inst_t *inst = state;
  size_t i, left_topics = 0, left_subs = 0;
  ps_topic_t *t, *next;
  int last;

  pthread_mutex_lock(&ps_reg.lock);
  last = --ps_reg.instances == 0;
  if (last) {
    /* Every connection of every instance has closed, and on_close
     * unsubscribes: anything left is a broken invariant. */
    left_topics = ps_reg.ntopics;
    left_subs = ps_reg.nsubscriptions;
    for (i = 0; i < ps_reg.nbuckets; i++)
      for (t = ps_reg.buckets[i]; t != NULL; t = next) {
        next = t->next;
        free(t->subs);
        free(t);
      }
    free(ps_reg.buckets);
    ps_reg.buckets = NULL;
    ps_reg.nbuckets = ps_reg.ntopics = ps_reg.nsubscriptions = 0;
  }
  pthread_mutex_unlock(&ps_reg.lock);
  if (last && left_topics + left_subs > 0)
    weft_log(WEFT_LOG_ALERT,
             "pubsub: %zu topics with %zu subscriptions left after the last "
             "connection closed",
             left_topics, left_subs);
  if (last && PS_GET(published) + PS_GET(disconnects) > 0)
    weft_log(WEFT_LOG_INFO,
             "pubsub: %llu published, %llu posted, %llu delivered; dropped "
             "%llu oldest, %llu newest, %llu at a full mailbox, %llu "
             "unsendable; %llu slow subscribers disconnected",
             (unsigned long long)PS_GET(published),
             (unsigned long long)PS_GET(posted),
             (unsigned long long)PS_GET(delivered),
             (unsigned long long)PS_GET(dropped_oldest),
             (unsigned long long)PS_GET(dropped_newest),
             (unsigned long long)PS_GET(dropped_mailbox),
             (unsigned long long)PS_GET(dropped_unsendable),
             (unsigned long long)PS_GET(disconnects));
  free(inst->scratch);
  free(inst);
}

static const weft_handler_vtable_t ps_vtable = {
    .struct_size = sizeof(weft_handler_vtable_t),
    .create = ps_create,
    .destroy = ps_destroy,
    .on_frame = ps_on_frame,
    .on_writable = ps_on_writable,
    .on_close = ps_on_close,
    .on_message = ps_on_message,
};

WEFT_HANDLER_PLUGIN("pubsub", "1.0", &ps_vtable);
