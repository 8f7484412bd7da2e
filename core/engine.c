/*
 * The engine: configuration in, plugins loaded, listeners bound on every
 * worker, threads started; and the way back down.  Runs on the main thread,
 * except weft_engine_stop() (any thread) and weft_engine_wait().
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#ifndef WEFT_PLUGINDIR
#define WEFT_PLUGINDIR "/usr/local/lib/weft"
#endif

int weft_engine_new(weft_engine_t **out) {
  weft_engine_t *e = calloc(1, sizeof(*e));

  *out = NULL;
  if (e == NULL)
    return WEFT_ENOMEM;
  if (uv_mutex_init(&e->lock) != 0) {
    free(e);
    return WEFT_ENOMEM;
  }
  weft__list_init(&e->active);
  weft__list_init(&e->retired);
  *out = e;
  return 0;
}

/* A refused configuration is kept aside, for weft_engine_check() only. */
static int weft__engine_adopt(weft_engine_t *e, weft__config_t *c, int nerr) {
  weft__config_unref(e->refused);
  e->refused = NULL;
  e->refused_problems = 0;
  if (c != NULL)
    c->refs = 1;
  if (nerr > 0 || c == NULL) {
    e->refused = c;
    e->refused_problems = nerr > 0 ? nerr : 1;
    return WEFT_ECONFIG;
  }
  weft__config_unref(e->config);
  e->config = c;
  if (c->log_level >= 0)
    weft_log_set_level(c->log_level);
  return 0;
}

int weft_engine_load_file(weft_engine_t *e, const char *path) {
  int nerr = 0;
  weft__config_t *c = weft__config_read_file(path, &nerr);
  return weft__engine_adopt(e, c, nerr);
}

int weft_engine_load_string(weft_engine_t *e, const char *text,
                            const char *origin) {
  int nerr = 0;
  weft__config_t *c = weft__config_read_string(text, origin, &nerr);
  return weft__engine_adopt(e, c, nerr);
}

int weft_engine_load_default(weft_engine_t *e) {
  return weft_engine_load_string(e, weft__default_config, "<default>");
}

int weft__engine_plugins(weft_engine_t *e, weft__config_t *c) {
  if (!e->plugins_ready) {
    if (weft__plugins_init(&e->plugins, (const char *const *)c->plugin_path,
                           c->npath, WEFT_PLUGINDIR) != 0)
      return WEFT_EPLUGIN;
    e->plugins_ready = 1;
  }
  /* A reload may change the search path. */
  e->plugins.search = (const char *const *)c->plugin_path;
  e->plugins.nsearch = c->npath;
  return 0;
}

/*
 * Checks the configuration last loaded, even a refused one: its problems
 * were logged by the load and count again here, then every plugin it could
 * read is loaded and created once, so one run shows everything.
 */
int weft_engine_check(weft_engine_t *e) {
  weft__config_t *c = e->refused_problems > 0 ? e->refused : e->config;
  weft__listener_t *l;
  int problems = e->refused_problems;
  size_t i;

  if (c == NULL) /* nothing loaded, or nothing readable */
    return problems > 0 ? problems : 1;
  if (weft__engine_plugins(e, c) != 0)
    return problems + 1;
  for (i = 0; i < c->nlisteners; i++) {
    problems += weft__lsn_new(e, c, &c->listeners[i], 1, &l);
    weft__lsn_free(e, l);
  }
  /* The search path must not point into a refused config once it is freed. */
  if (c != e->config) {
    e->plugins.search =
        e->config ? (const char *const *)e->config->plugin_path : NULL;
    e->plugins.nsearch = e->config ? e->config->npath : 0;
  }
  return problems;
}

/* Frees every listener, active or retired: the workers are gone. */
static void weft__engine_free_listeners(weft_engine_t *e) {
  weft__list_t *lists[2] = {&e->active, &e->retired};
  weft__listener_t *l;
  int k;

  for (k = 0; k < 2; k++)
    while (!weft__list_empty(lists[k])) {
      l = WEFT__CONTAINER_OF(lists[k]->next, weft__listener_t, node);
      weft__list_remove(&l->node);
      weft__lsn_free(e, l);
    }
  e->nactive = 0;
}

static void weft__engine_release_workers(weft_engine_t *e) {
  weft__worker_t *workers = e->workers;
  int i, n = e->nworkers;

  /* First out of reach of weft_worker_post() and weft_engine_stop(). */
  uv_mutex_lock(&e->lock);
  e->workers = NULL;
  e->nworkers = 0;
  uv_mutex_unlock(&e->lock);
  for (i = 0; i < n; i++)
    weft__worker_teardown(&workers[i]);
  uv_mutex_lock(&e->lock);
  weft__engine_free_listeners(e);
  uv_mutex_unlock(&e->lock);
  free(workers);
}

void weft__engine_announce(const weft__listener_t *l) {
  char addr[128];

  if (l->conf->addr.family == AF_UNIX) {
    snprintf(addr, sizeof(addr), "unix:%s", l->conf->addr.unix_path);
  } else {
    struct sockaddr_storage ss = l->conf->addr.ss;
    if (ss.ss_family == AF_INET)
      ((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)l->port);
    else
      ((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)l->port);
    weft__addr_format((struct sockaddr *)&ss, addr, sizeof(addr));
  }
  weft_log(WEFT_LOG_INFO,
           "listener \"%s\" listening on %s (codec %s, handler %s, %d workers)",
           l->conf->name, addr, l->codec->name, l->handler->name, l->nworkers);
}

/* Each worker's array of its copies of the active listeners. */
int weft__engine_worker_sets(weft_engine_t *e, weft__wlistener_t ***sets) {
  weft__list_t *n;
  size_t k;
  int i;

  for (i = 0; i < e->nworkers; i++) {
    sets[i] = calloc(e->nactive ? e->nactive : 1, sizeof(**sets));
    if (sets[i] == NULL) {
      while (i-- > 0)
        free(sets[i]);
      return WEFT_ENOMEM;
    }
    k = 0;
    for (n = e->active.next; n != &e->active; n = n->next)
      sets[i][k++] = &WEFT__CONTAINER_OF(n, weft__listener_t, node)->wl[i];
  }
  return 0;
}

int weft_engine_start(weft_engine_t *e) {
  weft__config_t *c = e->config;
  weft__wlistener_t ***sets = NULL;
  weft__listener_t *l;
  weft__list_t *n;
  int i, err = WEFT_ENOMEM, problems = 0;
  size_t j;

  if (c == NULL || e->started)
    return WEFT_EINVAL;
  if (weft__engine_plugins(e, c) != 0)
    return WEFT_EPLUGIN;
  e->grace_ms = c->shutdown_grace_ms;
  e->workers = calloc((size_t)c->workers, sizeof(*e->workers));
  if (e->workers == NULL)
    return WEFT_ENOMEM;
  for (i = 0; i < c->workers; i++) {
    if ((err = weft__worker_init(&e->workers[i], e, i)) != 0)
      goto fail;
    e->nworkers = i + 1;
  }
  /* Every listener's plugins first, so that start-up lists every problem
   * of theirs, as --check does. */
  for (j = 0; j < c->nlisteners; j++) {
    if (weft__lsn_new(e, c, &c->listeners[j], 0, &l) != 0) {
      problems++;
      continue;
    }
    weft__list_push(&e->active, &l->node);
    e->nactive++;
  }
  if (problems > 0) {
    err = WEFT_EPLUGIN;
    goto fail;
  }
  /* Bind everything before any thread runs: on failure nothing stays bound. */
  for (n = e->active.next; n != &e->active; n = n->next)
    if ((err = weft__lsn_bind(e, WEFT__CONTAINER_OF(n, weft__listener_t, node),
                              NULL)) != 0)
      goto fail;
  sets = calloc((size_t)e->nworkers, sizeof(*sets));
  if (sets == NULL || weft__engine_worker_sets(e, sets) != 0) {
    err = WEFT_ENOMEM;
    goto fail;
  }
  for (i = 0; i < e->nworkers; i++) {
    e->workers[i].lsn = sets[i];
    e->workers[i].nlsn = e->nactive;
    for (j = 0; j < e->nactive; j++)
      if (weft__listener_start(sets[i][j]) != 0) {
        err = WEFT_EIO;
        goto fail;
      }
  }
  free(sets);
  sets = NULL;
  e->started = 1;
  for (n = e->active.next; n != &e->active; n = n->next)
    weft__engine_announce(WEFT__CONTAINER_OF(n, weft__listener_t, node));
  for (i = 0; i < e->nworkers; i++)
    if (weft__worker_start(&e->workers[i]) != 0) {
      weft_log(WEFT_LOG_ERROR, "cannot start worker thread %d", i);
      weft_engine_stop(e, 2);
      weft_engine_wait(e);
      return WEFT_EIO;
    }
  return 0;
fail:
  free(sets);
  weft__engine_release_workers(e);
  return err;
}

void weft_engine_stop(weft_engine_t *e, int force) {
  int i, how = force ? 2 : 1;

  /* Under the lock: the workers array is freed under it by wait(). */
  uv_mutex_lock(&e->lock);
  if (how > e->stop_req)
    e->stop_req = how;
  for (i = 0; i < e->nworkers; i++)
    weft__worker_wake(&e->workers[i]);
  uv_mutex_unlock(&e->lock);
}

int weft_engine_wait(weft_engine_t *e) {
  int i;

  if (!e->started)
    return 0;
  for (i = 0; i < e->nworkers; i++)
    if (e->workers[i].thread_started) {
      uv_thread_join(&e->workers[i].thread);
      e->workers[i].thread_started = 0;
    }
  weft__engine_release_workers(e);
  e->started = 0;
  return 0;
}

void weft_engine_free(weft_engine_t *e) {
  if (e == NULL)
    return;
  if (e->started) {
    weft_engine_stop(e, 2);
    weft_engine_wait(e);
  }
  weft__engine_free_listeners(e);
  if (e->plugins_ready)
    weft__plugins_destroy(&e->plugins);
  weft__config_unref(e->config);
  weft__config_unref(e->refused);
  uv_mutex_destroy(&e->lock);
  free(e);
}

int weft_engine_list_plugins(weft_engine_t *e, void *stdio_file) {
  /* A refused file's plugin_path still says where to look. */
  weft__config_t *c = e->config ? e->config : e->refused;

  if (!e->plugins_ready) {
    if (weft__plugins_init(&e->plugins,
                           c ? (const char *const *)c->plugin_path : NULL,
                           c ? c->npath : 0, WEFT_PLUGINDIR) != 0)
      return 1;
    e->plugins_ready = 1;
  }
  return weft__plugins_list(&e->plugins, stdio_file);
}
