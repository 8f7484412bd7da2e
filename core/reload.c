/*
 * Live reload.  The new configuration is read and checked, new and changed
 * listeners are built and bound beside the running ones (SO_REUSEPORT, or
 * the same Unix-domain descriptor), and each worker is handed its new set:
 * it starts accepting on the new listeners and stops on the removed ones,
 * whose connections finish on the codec and handler they started with.
 * Anything wrong leaves the running configuration untouched.
 */
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "internal.h"
#include "opts_internal.h"

static int weft__str_eq(const char *a, const char *b) {
  return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

static int weft__spec_eq(const weft__plugin_spec_t *a,
                         const weft__plugin_spec_t *b) {
  return weft__str_eq(a->name, b->name) && weft__str_eq(a->path, b->path) &&
         weft__opts_equal(a->opts, b->opts);
}

/* Same settings: the running listener can stay as it is. */
static int weft__conf_eq(const weft__listener_conf_t *a,
                         const weft__listener_conf_t *b) {
  return strcmp(a->bind, b->bind) == 0 && a->backlog == b->backlog &&
         a->high_watermark == b->high_watermark &&
         a->low_watermark == b->low_watermark &&
         a->max_connections == b->max_connections &&
         a->max_connections_per_ip == b->max_connections_per_ip &&
         a->idle_timeout_ms == b->idle_timeout_ms &&
         a->frame_timeout_ms == b->frame_timeout_ms &&
         a->write_timeout_ms == b->write_timeout_ms &&
         weft__spec_eq(&a->codec, &b->codec) &&
         weft__spec_eq(&a->handler, &b->handler);
}

static int weft__addr_port(const weft__addr_t *a) {
  if (a->family == AF_INET)
    return ntohs(((const struct sockaddr_in *)&a->ss)->sin_port);
  return ntohs(((const struct sockaddr_in6 *)&a->ss)->sin6_port);
}

static weft__listener_t *weft__find(weft__list_t *list, const char *name,
                                    const char *bind) {
  weft__list_t *n;

  for (n = list->next; n != list; n = n->next) {
    weft__listener_t *l = WEFT__CONTAINER_OF(n, weft__listener_t, node);
    if ((name && strcmp(l->conf->name, name) == 0) ||
        (bind && strcmp(l->conf->bind, bind) == 0))
      return l;
  }
  return NULL;
}

int weft_engine_reload(weft_engine_t *e, const char *path) {
  weft__list_t fresh, *n, *next;
  weft__wlistener_t ***sets = NULL;
  weft__config_t *c;
  weft__listener_t *l, *old;
  size_t i, nkept = 0, nfresh = 0, nold = e->nactive;
  int nerr = 0, err = WEFT_ECONFIG, k, problems = 0;

  (void)k;

  if (!e->started)
    return WEFT_EINVAL;
  if (path == NULL && strcmp(e->config->origin, "<default>") == 0)
    c = weft__config_read_string(weft__default_config, "<default>", &nerr);
  else
    c = weft__config_read_file(path ? path : e->config->origin, &nerr);
  if (c == NULL || nerr > 0) {
    weft__config_free(c);
    weft_log(WEFT_LOG_ERROR,
             "reload: %d problem%s in the configuration: nothing changed",
             nerr, nerr == 1 ? "" : "s");
    return WEFT_ECONFIG;
  }
  c->refs = 1;
  if (c->workers != e->nworkers)
    weft_log(WEFT_LOG_WARN,
             "reload: workers = %d takes effect on restart only; keeping %d",
             c->workers, e->nworkers);
  if (c->mailbox_size != e->config->mailbox_size)
    weft_log(WEFT_LOG_WARN,
             "reload: mailbox_size takes effect on restart only");
  if (c->shutdown_grace_ms != e->grace_ms)
    weft_log(WEFT_LOG_WARN,
             "reload: shutdown_grace takes effect on restart only");
  weft__engine_plugins(e, c);
  weft__list_init(&fresh);
  /* Keep what is unchanged (and whose plugin files are), build the rest. */
  for (i = 0; i < c->nlisteners; i++) {
    const weft__listener_conf_t *lc = &c->listeners[i];
    old = weft__find(&e->active, lc->name, NULL);
    if (old != NULL && weft__conf_eq(old->conf, lc) &&
        !weft__plugin_changed(old->codec) &&
        !weft__plugin_changed(old->handler)) {
      old->keep = 1;
      nkept++;
      continue;
    }
    /* Every listener is tried, so one reload reports every problem. */
    if (weft__lsn_new(e, c, lc, 0, &l) != 0) {
      problems++;
      continue;
    }
    weft__list_push(&fresh, &l->node);
    nfresh++;
    /* A running listener on the same address hands it over: the one of the
     * same name (even on port 0: its clients keep their port), or any on
     * that fixed address. */
    old = weft__find(&e->active, lc->name, NULL);
    if (old == NULL || strcmp(old->conf->bind, lc->bind) != 0) {
      old = weft__find(&e->active, NULL, lc->bind);
      if (old != NULL && old->conf->addr.family != AF_UNIX &&
          weft__addr_port(&old->conf->addr) == 0)
        old = NULL; /* port 0 is a new port for each listener */
    }
    if ((err = weft__lsn_bind(e, l, old)) != 0)
      problems++;
  }
  if (problems > 0)
    goto rollback;
  /* Commit: the new active set, the rest retired; workers swap. */
  uv_mutex_lock(&e->lock);
  for (n = e->active.next; n != &e->active; n = next) {
    next = n->next;
    l = WEFT__CONTAINER_OF(n, weft__listener_t, node);
    if (!l->keep) {
      weft__list_remove(n);
      weft__list_push(&e->retired, n);
    }
    l->keep = 0;
  }
  while (!weft__list_empty(&fresh)) {
    n = fresh.next;
    weft__list_remove(n);
    weft__list_push(&e->active, n);
  }
  e->nactive = nkept + nfresh;
  uv_mutex_unlock(&e->lock);
  sets = calloc((size_t)e->nworkers, sizeof(*sets));
  if (sets == NULL || weft__engine_worker_sets(e, sets) != 0) {
    /* Cannot happen but for memory: workers keep their old sets. */
    free(sets);
    weft_log(WEFT_LOG_ERROR, "reload: out of memory handing over listeners");
    return WEFT_ENOMEM;
  }
  uv_mutex_lock(&e->lock);
  for (k = 0; k < e->nworkers; k++)
    weft__worker_swap(&e->workers[k], sets[k], e->nactive);
  uv_mutex_unlock(&e->lock);
  free(sets);
  for (n = e->active.next; n != &e->active; n = n->next) {
    l = WEFT__CONTAINER_OF(n, weft__listener_t, node);
    if (l->cfg == c)
      weft__engine_announce(l);
  }
  weft_log(WEFT_LOG_INFO,
           "reload: %s: %zu listener%s kept, %zu new or changed, %zu retired",
           c->origin, nkept, nkept == 1 ? "" : "s", nfresh,
           nold - nkept);
  weft__config_unref(e->config);
  e->config = c;
  if (c->log_level >= 0)
    weft_log_set_level(c->log_level);
  weft_engine_maintain(e);
  return 0;

rollback:
  while (!weft__list_empty(&fresh)) {
    l = WEFT__CONTAINER_OF(fresh.next, weft__listener_t, node);
    weft__list_remove(&l->node);
    weft__lsn_free(e, l);
  }
  for (n = e->active.next; n != &e->active; n = n->next)
    WEFT__CONTAINER_OF(n, weft__listener_t, node)->keep = 0;
  weft__engine_plugins(e, e->config);
  weft__config_unref(c);
  weft_log(WEFT_LOG_ERROR, "reload failed (%d problem%s): nothing changed",
           problems, problems == 1 ? "" : "s");
  return err != 0 ? err : WEFT_EPLUGIN;
}

void weft_engine_maintain(weft_engine_t *e) {
  weft__list_t done, *n, *next;
  weft__listener_t *l;
  int i;

  weft__list_init(&done);
  uv_mutex_lock(&e->lock);
  for (n = e->retired.next; n != &e->retired; n = next) {
    next = n->next;
    l = WEFT__CONTAINER_OF(n, weft__listener_t, node);
    if (l->ndead < l->nworkers)
      continue;
    /*
     * Its plugins may still have code pointers in a mailbox (a message's
     * free function): wait until every worker has drained its mailbox
     * once more after this point, then it is safe to unload them.
     */
    if (!l->marked) {
      l->marked = 1;
      for (i = 0; i < l->nworkers && i < e->nworkers; i++) {
        l->wl[i].drain_mark =
            __atomic_load_n(&e->workers[i].drains, __ATOMIC_ACQUIRE);
        weft__worker_wake(&e->workers[i]);
      }
      continue;
    }
    for (i = 0; i < l->nworkers && i < e->nworkers; i++)
      if (__atomic_load_n(&e->workers[i].drains, __ATOMIC_ACQUIRE) <=
          l->wl[i].drain_mark)
        break;
    if (i < l->nworkers && i < e->nworkers)
      continue;
    weft__list_remove(n);
    weft__list_push(&done, n);
  }
  uv_mutex_unlock(&e->lock);
  while (!weft__list_empty(&done)) {
    l = WEFT__CONTAINER_OF(done.next, weft__listener_t, node);
    weft__list_remove(&l->node);
    weft_log(WEFT_LOG_INFO, "listener \"%s\" (retired) released",
             l->conf->name);
    weft__lsn_free(e, l); /* unloads a plugin nothing else uses */
  }
}
