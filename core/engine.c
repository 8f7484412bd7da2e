/*
 * The engine: configuration in, plugins loaded, listeners bound on every
 * worker, threads started; and the way back down.  Runs on the main thread,
 * except weft_engine_stop().
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "opts_internal.h"

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
  *out = e;
  return 0;
}

static int weft__engine_adopt(weft_engine_t *e, weft__config_t *c, int nerr) {
  if (nerr > 0 || c == NULL) {
    weft__config_free(c);
    return WEFT_ECONFIG;
  }
  weft__config_free(e->config);
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

/* Logs the option errors a create() recorded since `from`. */
static int weft__engine_opts_errors(weft_opts_t *o, size_t from) {
  size_t i, n = weft__opts_nerrors(o);

  for (i = from; i < n; i++)
    weft_log(WEFT_LOG_ERROR, "%s", weft__opts_error(o, i));
  return (int)(n - from);
}

/* Loads every listener's codec and handler; returns the problem count. */
static int weft__engine_load_plugins(weft_engine_t *e) {
  weft__config_t *c = e->config;
  char err[2048];
  size_t i;
  int problems = 0;

  if (e->listeners != NULL)
    return 0; /* already loaded by an earlier check or start */
  if (!e->plugins_ready) {
    if (weft__plugins_init(&e->plugins, (const char *const *)c->plugin_path,
                           c->npath, WEFT_PLUGINDIR) != 0)
      return 1;
    e->plugins_ready = 1;
  }
  e->listeners = calloc(c->nlisteners, sizeof(*e->listeners));
  if (e->listeners == NULL)
    return 1;
  e->nlisteners = c->nlisteners;
  for (i = 0; i < c->nlisteners; i++) {
    weft__listener_t *l = &e->listeners[i];
    const weft__listener_conf_t *lc = &c->listeners[i];
    l->conf = lc;
    l->unix_fd = -1;
    if (weft__listener_ips_init(l) != 0) {
      weft_log(WEFT_LOG_ERROR, "out of memory");
      problems++;
    }
    l->codec = weft__plugin_load(&e->plugins, lc->codec.name, lc->codec.path,
                                 WEFT_PLUGIN_CODEC, err, sizeof(err));
    if (l->codec == NULL) {
      weft_log(WEFT_LOG_ERROR, "%s:%d: listener \"%s\": %s", c->origin,
               lc->codec.line, lc->name, err);
      problems++;
    }
    l->handler =
        weft__plugin_load(&e->plugins, lc->handler.name, lc->handler.path,
                          WEFT_PLUGIN_HANDLER, err, sizeof(err));
    if (l->handler == NULL) {
      weft_log(WEFT_LOG_ERROR, "%s:%d: listener \"%s\": %s", c->origin,
               lc->handler.line, lc->name, err);
      problems++;
    }
  }
  return problems;
}

/*
 * Runs one plugin's create() with its options.  The first instance of a
 * listener also reports options nobody asked for; every error is logged
 * once, with file:line.  Returns the number of problems.
 */
static int weft__engine_create(weft_engine_t *e, const weft__plugin_spec_t *spec,
                               const weft__plugin_t *p,
                               int (*create)(weft_opts_t *, void **),
                               void **state, int *made, int first) {
  size_t before = weft__opts_nerrors(spec->opts);
  int r = create != NULL ? create(spec->opts, state) : 0;

  if (r == 0) {
    *made = 1;
    if (first)
      weft__opts_check_unused(spec->opts);
  }
  if (!first)
    return r != 0;
  if (r != 0 && weft__opts_nerrors(spec->opts) == before) {
    weft_log(WEFT_LOG_ERROR, "%s:%d: %s \"%s\": create failed: %s",
             e->config->origin, spec->line, weft_plugin_kind_name(p->kind),
             p->name, weft_strerror(r));
    return 1;
  }
  return weft__engine_opts_errors(spec->opts, before);
}

/* Creates one worker's codec and handler instances for a listener. */
static int weft__engine_instances(weft__wlistener_t *wl, int first) {
  weft_engine_t *e = wl->w->e;
  const weft__listener_conf_t *lc = wl->l->conf;
  int problems = 0;

  if (wl->l->codec != NULL) {
    wl->cvt = &wl->l->codec->codec;
    problems += weft__engine_create(e, &lc->codec, wl->l->codec,
                                    wl->cvt->create, &wl->cstate,
                                    &wl->cstate_made, first);
  }
  if (wl->l->handler != NULL) {
    wl->hvt = &wl->l->handler->handler;
    problems += weft__engine_create(e, &lc->handler, wl->l->handler,
                                    wl->hvt->create, &wl->hstate,
                                    &wl->hstate_made, first);
  }
  return problems;
}

static void weft__engine_destroy_instances(weft__wlistener_t *wl) {
  if (wl->cstate_made && wl->cvt->destroy != NULL)
    wl->cvt->destroy(wl->cstate);
  if (wl->hstate_made && wl->hvt->destroy != NULL)
    wl->hvt->destroy(wl->hstate);
  wl->cstate_made = wl->hstate_made = 0;
}

int weft_engine_check(weft_engine_t *e) {
  weft__worker_t w;
  weft__wlistener_t wl;
  int problems;
  size_t i;

  if (e->config == NULL)
    return 1;
  problems = weft__engine_load_plugins(e);
  memset(&w, 0, sizeof(w));
  w.e = e;
  for (i = 0; i < e->nlisteners; i++) {
    memset(&wl, 0, sizeof(wl));
    wl.l = &e->listeners[i];
    wl.w = &w;
    problems += weft__engine_instances(&wl, 1);
    weft__engine_destroy_instances(&wl);
  }
  return problems;
}

static void weft__engine_release_workers(weft_engine_t *e) {
  weft__worker_t *workers = e->workers;
  size_t j;
  int i, n = e->nworkers;

  uv_mutex_lock(&e->lock);
  e->workers = NULL;
  e->nworkers = 0;
  uv_mutex_unlock(&e->lock);
  for (i = 0; i < n; i++) {
    weft__worker_t *w = &workers[i];
    weft__worker_teardown(w);
    for (j = 0; j < w->nlsn; j++)
      weft__engine_destroy_instances(&w->lsn[j]);
    free(w->lsn);
  }
  free(workers);
  for (j = 0; j < e->nlisteners; j++) {
    const weft__listener_conf_t *lc = e->listeners[j].conf;
    if (e->listeners[j].unix_fd >= 0) {
      close(e->listeners[j].unix_fd);
      e->listeners[j].unix_fd = -1;
    }
    if (e->listeners[j].unix_bound) {
      unlink(lc->addr.unix_path);
      e->listeners[j].unix_bound = 0;
    }
  }
}

static void weft__engine_announce(weft_engine_t *e) {
  char addr[128];
  size_t i;

  for (i = 0; i < e->nlisteners; i++) {
    weft__listener_t *l = &e->listeners[i];
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
             "listener \"%s\" listening on %s (codec %s, handler %s, %d "
             "workers)",
             l->conf->name, addr, l->codec->name, l->handler->name,
             e->nworkers);
  }
}

int weft_engine_start(weft_engine_t *e) {
  weft__config_t *c = e->config;
  int i, problems, err = WEFT_ENOMEM;
  size_t j;

  if (c == NULL || e->started)
    return WEFT_EINVAL;
  problems = weft__engine_load_plugins(e);
  if (problems > 0)
    return WEFT_EPLUGIN;
  e->workers = calloc((size_t)c->workers, sizeof(*e->workers));
  if (e->workers == NULL)
    return WEFT_ENOMEM;
  /* Bind everything before any thread runs: on failure nothing stays bound. */
  for (i = 0; i < c->workers; i++) {
    weft__worker_t *w = &e->workers[i];
    if ((err = weft__worker_init(w, e, i)) != 0)
      goto fail;
    e->nworkers = i + 1;
    w->lsn = calloc(e->nlisteners, sizeof(*w->lsn));
    if (w->lsn == NULL) {
      err = WEFT_ENOMEM;
      goto fail;
    }
    w->nlsn = e->nlisteners;
    for (j = 0; j < e->nlisteners; j++)
      w->lsn[j].fd = -1; /* nothing to close until bound */
    for (j = 0; j < e->nlisteners; j++) {
      w->lsn[j].l = &e->listeners[j];
      w->lsn[j].w = w;
      err = WEFT_EPLUGIN;
      if (weft__engine_instances(&w->lsn[j], i == 0) != 0)
        goto fail;
      if ((err = weft__listener_bind(&w->lsn[j])) != 0)
        goto fail;
      if (weft__listener_start(&w->lsn[j]) != 0) {
        err = WEFT_EIO;
        goto fail;
      }
    }
  }
  /* Every worker holds its own copy of a Unix-domain socket now. */
  for (j = 0; j < e->nlisteners; j++)
    if (e->listeners[j].unix_fd >= 0) {
      close(e->listeners[j].unix_fd);
      e->listeners[j].unix_fd = -1;
    }
  e->started = 1;
  weft__engine_announce(e);
  for (i = 0; i < e->nworkers; i++)
    if (weft__worker_start(&e->workers[i]) != 0) {
      weft_log(WEFT_LOG_ERROR, "cannot start worker thread %d", i);
      weft_engine_stop(e, 2);
      weft_engine_wait(e);
      return WEFT_EIO;
    }
  return 0;
fail:
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
  size_t i;

  if (e == NULL)
    return;
  if (e->started) {
    weft_engine_stop(e, 2);
    weft_engine_wait(e);
  }
  for (i = 0; i < e->nlisteners; i++) {
    weft__plugin_release(&e->plugins, e->listeners[i].codec);
    weft__plugin_release(&e->plugins, e->listeners[i].handler);
    weft__listener_free_ips(&e->listeners[i]);
  }
  free(e->listeners);
  if (e->plugins_ready)
    weft__plugins_destroy(&e->plugins);
  weft__config_free(e->config);
  uv_mutex_destroy(&e->lock);
  free(e);
}

int weft_engine_list_plugins(weft_engine_t *e, void *stdio_file) {
  weft__config_t *c = e->config;

  if (!e->plugins_ready) {
    if (weft__plugins_init(&e->plugins,
                           c ? (const char *const *)c->plugin_path : NULL,
                           c ? c->npath : 0, WEFT_PLUGINDIR) != 0)
      return 1;
    e->plugins_ready = 1;
  }
  return weft__plugins_list(&e->plugins, stdio_file);
}
