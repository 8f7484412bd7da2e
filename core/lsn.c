/*
 * Listener objects: a configured listener, its plugins, and one copy per
 * worker with that worker's codec and handler instances and socket.  Built
 * and freed on the main thread; a copy retired by a reload is destroyed by
 * its worker once its last connection has closed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "opts_internal.h"

weft__config_t *weft__config_ref(weft__config_t *c) {
  __atomic_add_fetch(&c->refs, 1, __ATOMIC_RELAXED);
  return c;
}

void weft__config_unref(weft__config_t *c) {
  if (c != NULL && __atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL) == 0)
    weft__config_free(c);
}

/* Logs the option errors a create() recorded since `from`. */
static int weft__lsn_opts_errors(weft_opts_t *o, size_t from) {
  size_t i, n = weft__opts_nerrors(o);

  for (i = from; i < n; i++)
    weft_log(WEFT_LOG_ERROR, "%s", weft__opts_error(o, i));
  return (int)(n - from);
}

/*
 * Runs one plugin's create() with its options.  The first instance also
 * reports options nobody asked for; every error is logged once, with
 * file:line.  Returns the number of problems.
 */
int weft__lsn_create(weft_engine_t *e, weft__wlistener_t *wl,
                            const weft__plugin_spec_t *spec,
                            const weft__plugin_t *p,
                            int (*create)(weft_opts_t *, void **),
                            void **state, int *made, int first) {
  const weft__listener_t *l = wl->l;
  size_t before = weft__opts_nerrors(spec->opts);
  int r;

  /* Clients a handler makes in create() run on this copy's worker. */
  weft__opts_set_owner(spec->opts, e, wl);
  r = create != NULL ? create(spec->opts, state) : 0;
  weft__opts_set_owner(spec->opts, NULL, NULL);

  if (r == 0) {
    *made = 1;
    if (first)
      weft__opts_check_unused(spec->opts);
  }
  if (!first)
    return r != 0;
  if (r != 0 && weft__opts_nerrors(spec->opts) == before) {
    weft_log(WEFT_LOG_ERROR, "%s:%d: %s \"%s\": create failed: %s",
             l->cfg->origin, spec->line, weft_plugin_kind_name(p->kind),
             p->name, weft_strerror(r));
    return 1;
  }
  return weft__lsn_opts_errors(spec->opts, before);
}

static void weft__lsn_destroy_instances(weft__wlistener_t *wl) {
  if (wl->cstate_made && wl->cvt->destroy != NULL)
    wl->cvt->destroy(wl->cstate);
  if (wl->hstate_made && wl->hvt->destroy != NULL)
    wl->hvt->destroy(wl->hstate);
  wl->cstate_made = wl->hstate_made = 0;
}

/*
 * Loads the plugin spec names; NULL (a problem counted) if it cannot.  A
 * spec the configuration could not read, which only a refused one checked
 * by weft_engine_check() has, is skipped: the reader reported it.
 */
static weft__plugin_t *weft__lsn_plugin(weft_engine_t *e,
                                        const weft__listener_t *l,
                                        const weft__plugin_spec_t *spec,
                                        uint32_t kind, int *problems) {
  char err[2048];
  weft__plugin_t *p;

  if (spec->opts == NULL)
    return NULL;
  p = weft__plugin_load(&e->plugins, spec->name, spec->path, kind, err,
                        sizeof(err));
  if (p == NULL) {
    (*problems)++;
    if (l->conf->name != NULL)
      weft_log(WEFT_LOG_ERROR, "%s:%d: listener \"%s\": %s", l->cfg->origin,
               spec->line, l->conf->name, err);
    else
      weft_log(WEFT_LOG_ERROR, "%s:%d: %s", l->cfg->origin, spec->line, err);
  }
  return p;
}

int weft__lsn_new(weft_engine_t *e, weft__config_t *cfg,
                  const weft__listener_conf_t *lc, int check,
                  weft__listener_t **out) {
  weft__listener_t *l;
  int i, problems = 0;

  *out = NULL;
  l = calloc(1, sizeof(*l));
  if (l == NULL) {
    weft_log(WEFT_LOG_ERROR, "out of memory");
    return 1;
  }
  weft__list_init(&l->node);
  l->cfg = weft__config_ref(cfg);
  l->conf = lc;
  l->unix_fd = -1;
  l->nworkers = check ? 1 : e->nworkers;
  l->wl = calloc((size_t)l->nworkers, sizeof(*l->wl));
  if (l->wl == NULL || weft__listener_ips_init(l) != 0) {
    weft_log(WEFT_LOG_ERROR, "out of memory");
    problems++;
    goto out;
  }
  for (i = 0; i < l->nworkers; i++) {
    l->wl[i].l = l;
    l->wl[i].fd = -1;
    weft__list_init(&l->wl[i].clients);
    l->wl[i].w = check ? NULL : &e->workers[i];
  }
  l->codec = weft__lsn_plugin(e, l, &lc->codec, WEFT_PLUGIN_CODEC, &problems);
  l->handler =
      weft__lsn_plugin(e, l, &lc->handler, WEFT_PLUGIN_HANDLER, &problems);
  /* Options are checked even when the other plugin failed to load. */
  for (i = 0; i < l->nworkers; i++) {
    weft__wlistener_t *wl = &l->wl[i];
    if (l->codec != NULL) {
      wl->cvt = &l->codec->codec;
      problems += weft__lsn_create(e, wl, &lc->codec, l->codec, wl->cvt->create,
                                   &wl->cstate, &wl->cstate_made, i == 0);
    }
    if (l->handler != NULL) {
      wl->hvt = &l->handler->handler;
      problems += weft__lsn_create(e, wl, &lc->handler, l->handler,
                                   wl->hvt->create, &wl->hstate,
                                   &wl->hstate_made, i == 0);
    }
    if (problems > 0)
      break;
  }
out:
  if (problems > 0 || l->codec == NULL || l->handler == NULL) {
    weft__lsn_free(e, l);
    return problems;
  }
  *out = l;
  return 0;
}

/* A dup() failed: nothing bound is kept, the caller frees l. */
static int weft__lsn_share_failed(weft__listener_t *l, int n) {
  int err = errno, i;

  for (i = 0; i < n; i++) {
    close(l->wl[i].fd);
    l->wl[i].fd = -1;
  }
  weft_log(WEFT_LOG_ERROR, "listener \"%s\": cannot share the socket of %s: %s",
           l->conf->name, l->conf->bind, strerror(err));
  return WEFT_EBIND;
}

int weft__lsn_bind(weft_engine_t *e, weft__listener_t *l,
                   weft__listener_t *prev) {
  int i, r;

  (void)e;
  if (prev != NULL) {
    /* Take over the address by sharing the very sockets: a Unix-domain
     * one, or each worker's TCP one.  A socket of its own beside the old
     * ones (SO_REUSEPORT) would do too, but the kernel queues connections
     * on the old sockets until they close, and resets those it queued
     * after their last accept. */
    if (l->conf->addr.family == AF_UNIX && prev->wl[0].fd >= 0) {
      l->unix_fd = dup(prev->wl[0].fd);
      l->unix_bound = prev->unix_bound;
      prev->unix_bound = 0;
    } else {
      l->port = prev->port;
      if (prev->nworkers == l->nworkers) {
        for (i = 0; i < l->nworkers && prev->wl[i].fd >= 0; i++)
          ;
        if (i == l->nworkers) {
          for (i = 0; i < l->nworkers; i++)
            if ((l->wl[i].fd = dup(prev->wl[i].fd)) < 0)
              return weft__lsn_share_failed(l, i);
          return 0;
        }
      }
    }
  }
  for (i = 0; i < l->nworkers; i++)
    if ((r = weft__listener_bind(&l->wl[i])) != 0)
      return r;
  /* Every worker holds its own copy of a Unix-domain socket now. */
  if (l->unix_fd >= 0) {
    close(l->unix_fd);
    l->unix_fd = -1;
  }
  return 0;
}

void weft__wl_maybe_finish(weft__wlistener_t *wl) {
  weft_engine_t *e;

  if (!wl->retired || wl->nconns > 0 || wl->handles_open > 0 || wl->dead)
    return;
  /* On the worker that ran them: nothing else can touch them now. */
  weft__lsn_destroy_instances(wl);
  e = wl->w->e;
  uv_mutex_lock(&e->lock);
  wl->dead = 1;
  wl->l->ndead++;
  uv_mutex_unlock(&e->lock);
}

void weft__lsn_free(weft_engine_t *e, weft__listener_t *l) {
  int i;

  if (l == NULL)
    return;
  for (i = 0; l->wl != NULL && i < l->nworkers; i++) {
    if (!l->wl[i].dead)
      weft__lsn_destroy_instances(&l->wl[i]);
    weft__clients_free(&l->wl[i]);
    if (l->wl[i].fd >= 0 && !l->wl[i].polling)
      close(l->wl[i].fd);
  }
  if (l->unix_fd >= 0)
    close(l->unix_fd);
  if (l->unix_bound)
    unlink(l->conf->addr.unix_path);
  weft__plugin_release(&e->plugins, l->codec);
  weft__plugin_release(&e->plugins, l->handler);
  while (l->nextra > 0)
    weft__plugin_release(&e->plugins, l->extra[--l->nextra]);
  free(l->extra);
  weft__listener_free_ips(l);
  free(l->wl);
  weft__config_unref(l->cfg);
  free(l);
}
