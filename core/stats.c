/* Counters, summed on demand from each worker's own copies. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static void weft__stats_add(weft__stats_t *sum, const weft__stats_t *st) {
#define WEFT__STATS_SUM(name)                                                  \
  sum->name += __atomic_load_n(&st->name, __ATOMIC_RELAXED);
  WEFT__STATS_MAP(WEFT__STATS_SUM)
#undef WEFT__STATS_SUM
}

static int weft__stats_line(const char *listener, int worker,
                            const weft__stats_t *st, weft_stats_line_cb cb,
                            void *arg) {
  char line[1024], wname[16];
  size_t n;

  if (worker < 0)
    strcpy(wname, "all");
  else
    snprintf(wname, sizeof(wname), "%d", worker);
  n = (size_t)snprintf(line, sizeof(line), "listener=%s worker=%s", listener,
                       wname);
#define WEFT__STATS_FMT(name)                                                  \
  if (n < sizeof(line))                                                        \
    n += (size_t)snprintf(line + n, sizeof(line) - n, " " #name "=%llu",       \
                          (unsigned long long)st->name);
  WEFT__STATS_MAP(WEFT__STATS_FMT)
#undef WEFT__STATS_FMT
  return cb(arg, line);
}

/*
 * The outbound clients its handler made: a line per client per worker,
 * then one total per client name (each worker's handler instance makes
 * its own).  Their memory lives as long as the listener.
 */
static int weft__stats_clients(const weft__listener_t *l, weft__stats_t *per,
                               int nper, weft_stats_line_cb cb, void *arg) {
  struct {
    const char *name;
    weft__stats_t sum;
  } *tot = NULL, *t;
  size_t ntot = 0, k;
  const weft__list_t *n;
  const weft_client_t *cl;
  weft__stats_t one;
  int i, r = 0;

  for (i = 0; i < l->nworkers && r == 0; i++)
    for (n = l->wl[i].clients.next; n != &l->wl[i].clients && r == 0;
         n = n->next) {
      cl = WEFT__CONTAINER_OF(n, weft_client_t, node);
      memset(&one, 0, sizeof(one));
      weft__stats_add(&one, &cl->wl.stats);
      r = weft__stats_line(cl->name, i, &one, cb, arg);
      if (i < nper)
        weft__stats_add(&per[i], &one);
      for (k = 0; k < ntot && strcmp(tot[k].name, cl->name) != 0; k++)
        ;
      if (k == ntot) {
        t = realloc(tot, (ntot + 1) * sizeof(*tot));
        if (t == NULL)
          continue; /* out of memory: this name's total is left out */
        tot = t;
        tot[ntot].name = cl->name;
        memset(&tot[ntot].sum, 0, sizeof(tot[ntot].sum));
        ntot++;
      }
      weft__stats_add(&tot[k].sum, &one);
    }
  for (k = 0; k < ntot && r == 0; k++)
    r = weft__stats_line(tot[k].name, -1, &tot[k].sum, cb, arg);
  free(tot);
  return r;
}

/* One listener: a line per worker, then its total.  Adds into totals. */
static int weft__stats_listener(const weft__listener_t *l, weft__stats_t *per,
                                int nper, weft_stats_line_cb cb, void *arg) {
  weft__stats_t sum;
  int i, r = 0;

  weft__stats_t one;

  memset(&sum, 0, sizeof(sum));
  for (i = 0; i < l->nworkers && r == 0; i++) {
    /* A snapshot read with atomic loads: workers write as we read. */
    memset(&one, 0, sizeof(one));
    weft__stats_add(&one, &l->wl[i].stats);
    r = weft__stats_line(l->conf->name, i, &one, cb, arg);
    weft__stats_add(&sum, &one);
    if (i < nper)
      weft__stats_add(&per[i], &one);
  }
  if (r == 0)
    r = weft__stats_line(l->conf->name, -1, &sum, cb, arg);
  return r != 0 ? r : weft__stats_clients(l, per, nper, cb, arg);
}

int weft_engine_stats(weft_engine_t *e, weft_stats_line_cb cb, void *arg) {
  weft__stats_t *per, total;
  const weft__list_t *n;
  int i, nper, r = 0;

  /* The lock keeps listeners from being freed while we read; retired ones
   * (draining after a reload) are listed too. */
  uv_mutex_lock(&e->lock);
  nper = e->nworkers;
  per = calloc(nper > 0 ? (size_t)nper : 1, sizeof(*per));
  if (per == NULL)
    nper = 0; /* out of memory: per-worker totals are left out */
  for (n = e->active.next; n != &e->active && r == 0; n = n->next)
    r = weft__stats_listener(WEFT__CONTAINER_OF(n, weft__listener_t, node),
                             per, nper, cb, arg);
  for (n = e->retired.next; n != &e->retired && r == 0; n = n->next)
    r = weft__stats_listener(WEFT__CONTAINER_OF(n, weft__listener_t, node),
                             per, nper, cb, arg);
  memset(&total, 0, sizeof(total));
  for (i = 0; i < nper && r == 0; i++) {
    r = weft__stats_line("*", i, &per[i], cb, arg);
    weft__stats_add(&total, &per[i]);
  }
  if (r == 0)
    r = weft__stats_line("*", -1, &total, cb, arg);
  uv_mutex_unlock(&e->lock);
  free(per);
  return r;
}

int weft_conn_stats(const weft_conn_t *c, weft_stats_line_cb cb, void *arg) {
  return weft_engine_stats(c->wl->w->e, cb, arg);
}
