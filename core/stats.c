/* Counters, summed on demand from each worker's own copies. */
#include <stdio.h>
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

int weft_engine_stats(weft_engine_t *e, weft_stats_line_cb cb, void *arg) {
  weft__stats_t sum, total;
  size_t j;
  int i, r = 0;

  /* The lock keeps the workers from being released while we read. */
  uv_mutex_lock(&e->lock);
  for (j = 0; j < e->nlisteners && r == 0; j++) {
    memset(&sum, 0, sizeof(sum));
    for (i = 0; i < e->nworkers && r == 0; i++) {
      const weft__stats_t *st = &e->workers[i].lsn[j].stats;
      r = weft__stats_line(e->listeners[j].conf->name, i, st, cb, arg);
      weft__stats_add(&sum, st);
    }
    if (r == 0)
      r = weft__stats_line(e->listeners[j].conf->name, -1, &sum, cb, arg);
  }
  memset(&total, 0, sizeof(total));
  for (i = 0; i < e->nworkers && r == 0; i++) {
    memset(&sum, 0, sizeof(sum));
    for (j = 0; j < e->workers[i].nlsn; j++)
      weft__stats_add(&sum, &e->workers[i].lsn[j].stats);
    r = weft__stats_line("*", i, &sum, cb, arg);
    weft__stats_add(&total, &sum);
  }
  if (r == 0)
    r = weft__stats_line("*", -1, &total, cb, arg);
  uv_mutex_unlock(&e->lock);
  return r;
}

int weft_conn_stats(const weft_conn_t *c, weft_stats_line_cb cb, void *arg) {
  return weft_engine_stats(c->w->e, cb, arg);
}
