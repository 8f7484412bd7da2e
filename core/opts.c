/*
 * Plugin options: a flat list of name/value pairs copied out of the
 * configuration, with the line each came from, so a plugin never sees
 * libconfig and every message can point at file:line.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <weft/error.h>

#include "opts_internal.h"

typedef enum {
  WEFT__OPT_INT,
  WEFT__OPT_FLOAT,
  WEFT__OPT_BOOL,
  WEFT__OPT_STR
} weft__opt_type_t;

typedef struct weft__opt {
  char *name;
  weft__opt_type_t type;
  int64_t i;
  double f;
  char *s;
  int line;
  int used;
} weft__opt_t;

struct weft_opts {
  int line; /* the plugin's group, for errors not about one option */
  char *kind;
  char *plugin;
  char *origin;
  weft__opt_t *v;
  size_t n;
  char **errors;
  size_t nerrors;
  /* Whose create() reads them: outbound clients made there belong to it. */
  weft_engine_t *engine;
  struct weft__wlistener *owner;
  char **asked; /* every name the plugin asked for, to suggest one */
  size_t nasked;
};

void weft__opts_set_owner(weft_opts_t *o, weft_engine_t *e,
                          struct weft__wlistener *wl) {
  o->engine = e;
  o->owner = wl;
}

weft_engine_t *weft__opts_engine(const weft_opts_t *o) { return o->engine; }
struct weft__wlistener *weft__opts_owner(const weft_opts_t *o) {
  return o->owner;
}

const char *weft__opts_origin(const weft_opts_t *o) { return o->origin; }
int weft__opts_line(const weft_opts_t *o) { return o->line; }

static const char *const weft__opt_type_names[] = {"an integer", "a number",
                                                   "a boolean", "a string"};

weft_opts_t *weft__opts_new(const char *kind, const char *plugin,
                            const char *origin) {
  weft_opts_t *o = calloc(1, sizeof(*o));

  if (o == NULL)
    return NULL;
  o->kind = strdup(kind ? kind : "plugin");
  o->plugin = strdup(plugin ? plugin : "?");
  o->origin = strdup(origin ? origin : "?");
  if (o->kind == NULL || o->plugin == NULL || o->origin == NULL) {
    weft__opts_free(o);
    return NULL;
  }
  return o;
}

void weft__opts_free(weft_opts_t *o) {
  size_t i;

  if (o == NULL)
    return;
  for (i = 0; i < o->n; i++) {
    free(o->v[i].name);
    free(o->v[i].s);
  }
  for (i = 0; i < o->nerrors; i++)
    free(o->errors[i]);
  for (i = 0; i < o->nasked; i++)
    free(o->asked[i]);
  free(o->v);
  free(o->errors);
  free(o->asked);
  free(o->kind);
  free(o->plugin);
  free(o->origin);
  free(o);
}

static void weft__opts_errv(weft_opts_t *o, int line, const char *fmt,
                            va_list ap) {
  char msg[512], full[1024];
  char **p;

  vsnprintf(msg, sizeof(msg), fmt, ap);
  snprintf(full, sizeof(full), "%s:%d: %s \"%s\": %s", o->origin, line, o->kind,
           o->plugin, msg);
  p = realloc(o->errors, (o->nerrors + 1) * sizeof(*p));
  if (p == NULL)
    return;
  o->errors = p;
  o->errors[o->nerrors] = strdup(full);
  if (o->errors[o->nerrors] != NULL)
    o->nerrors++;
}

void weft__opts_set_line(weft_opts_t *o, int line) { o->line = line; }

void weft__opts_add_errors(weft_opts_t *o, const weft_opts_t *from) {
  size_t i;
  char **e;

  for (i = 0; i < from->nerrors; i++) {
    e = realloc(o->errors, (o->nerrors + 1) * sizeof(*e));
    if (e == NULL)
      return;
    o->errors = e;
    if ((e[o->nerrors] = strdup(from->errors[i])) != NULL)
      o->nerrors++;
  }
}

void weft__opts_fail(weft_opts_t *o, int line, const char *fmt, ...) {
  va_list ap;

  if (line <= 0)
    line = o->line;
  va_start(ap, fmt);
  weft__opts_errv(o, line, fmt, ap);
  va_end(ap);
}

static weft__opt_t *weft__opts_push(weft_opts_t *o, const char *name,
                                    weft__opt_type_t type, int line) {
  weft__opt_t *v, *opt;

  v = realloc(o->v, (o->n + 1) * sizeof(*v));
  if (v == NULL)
    return NULL;
  o->v = v;
  opt = &o->v[o->n];
  memset(opt, 0, sizeof(*opt));
  opt->name = strdup(name);
  if (opt->name == NULL)
    return NULL;
  opt->type = type;
  opt->line = line;
  o->n++;
  return opt;
}

int weft__opts_add_int(weft_opts_t *o, const char *name, int64_t v, int line) {
  weft__opt_t *opt = weft__opts_push(o, name, WEFT__OPT_INT, line);
  if (opt == NULL)
    return WEFT_ENOMEM;
  opt->i = v;
  return 0;
}

int weft__opts_add_float(weft_opts_t *o, const char *name, double v, int line) {
  weft__opt_t *opt = weft__opts_push(o, name, WEFT__OPT_FLOAT, line);
  if (opt == NULL)
    return WEFT_ENOMEM;
  opt->f = v;
  return 0;
}

int weft__opts_add_bool(weft_opts_t *o, const char *name, int v, int line) {
  weft__opt_t *opt = weft__opts_push(o, name, WEFT__OPT_BOOL, line);
  if (opt == NULL)
    return WEFT_ENOMEM;
  opt->i = v != 0;
  return 0;
}

int weft__opts_add_str(weft_opts_t *o, const char *name, const char *v,
                       int line) {
  weft__opt_t *opt = weft__opts_push(o, name, WEFT__OPT_STR, line);
  if (opt == NULL)
    return WEFT_ENOMEM;
  opt->s = strdup(v);
  return opt->s == NULL ? WEFT_ENOMEM : 0;
}

/* Levenshtein distance, capped: names are short and only near ones count. */
static size_t weft__distance(const char *a, const char *b) {
  size_t row[65], i, j, la = strlen(a), lb = strlen(b), diag, up;

  if (la > 64 || lb > 64)
    return (size_t)-1;
  for (j = 0; j <= lb; j++)
    row[j] = j;
  for (i = 1; i <= la; i++) {
    diag = row[0];
    row[0] = i;
    for (j = 1; j <= lb; j++) {
      up = row[j];
      row[j] = diag + (a[i - 1] != b[j - 1]);
      if (up + 1 < row[j])
        row[j] = up + 1;
      if (row[j - 1] + 1 < row[j])
        row[j] = row[j - 1] + 1;
      diag = up;
    }
  }
  return row[lb];
}

const char *weft__closest(const char *word, const char *const *names,
                          size_t n) {
  size_t i, d, best_d = (size_t)-1, len = strlen(word), nlen;
  const char *best = NULL;

  for (i = 0; i < n; i++) {
    nlen = strlen(names[i]);
    d = weft__distance(word, names[i]);
    /* A shortened or lengthened name ("idle" for "idle_timeout") too. */
    if (d > 2 && len >= 3 && nlen >= 3 &&
        strncmp(word, names[i], len < nlen ? len : nlen) == 0)
      d = 1;
    if (d <= 2 && d * 2 < len && d < best_d) {
      best = names[i];
      best_d = d;
    }
  }
  return best;
}

void weft__names_join(char *buf, size_t len, const char *const *names, size_t n,
                      const char *last) {
  size_t i, used = 0;
  int r;

  buf[0] = '\0';
  for (i = 0; i < n && used < len; i++) {
    r = snprintf(buf + used, len - used, "%s%s",
                 i == 0      ? ""
                 : i + 1 < n ? ", "
                             : last,
                 names[i]);
    if (r < 0)
      break;
    used += (size_t)r;
  }
}

void weft__opts_check_unused(weft_opts_t *o) {
  const char *near;
  char known[384];
  size_t i;

  for (i = 0; i < o->n; i++) {
    if (o->v[i].used)
      continue;
    near =
        weft__closest(o->v[i].name, (const char *const *)o->asked, o->nasked);
    if (near != NULL) {
      weft__opts_fail(o, o->v[i].line,
                      "unknown option \"%s\"; did you mean \"%s\"?",
                      o->v[i].name, near);
    } else if (o->nasked == 0) {
      weft__opts_fail(o, o->v[i].line,
                      "unknown option \"%s\"; it takes no options: remove it",
                      o->v[i].name);
    } else {
      weft__names_join(known, sizeof(known), (const char *const *)o->asked,
                       o->nasked, " and ");
      weft__opts_fail(o, o->v[i].line, "unknown option \"%s\"; it takes %s",
                      o->v[i].name, known);
    }
  }
}

size_t weft__opts_nerrors(const weft_opts_t *o) { return o->nerrors; }

const char *weft__opts_error(const weft_opts_t *o, size_t i) {
  return i < o->nerrors ? o->errors[i] : NULL;
}

const char *weft_opts_plugin_name(const weft_opts_t *o) { return o->plugin; }

/* Remembers a name the plugin asked for (a lost one only loses a hint). */
static void weft__opts_asked(weft_opts_t *o, const char *name) {
  char **p;
  size_t i;

  for (i = 0; i < o->nasked; i++)
    if (strcmp(o->asked[i], name) == 0)
      return;
  p = realloc(o->asked, (o->nasked + 1) * sizeof(*p));
  if (p == NULL)
    return;
  o->asked = p;
  if ((o->asked[o->nasked] = strdup(name)) != NULL)
    o->nasked++;
}

/* Finds an option and marks it known.  The last occurrence wins. */
static weft__opt_t *weft__opts_find(weft_opts_t *o, const char *name) {
  weft__opt_t *found = NULL;
  size_t i;

  weft__opts_asked(o, name);

  for (i = 0; i < o->n; i++)
    if (strcmp(o->v[i].name, name) == 0) {
      o->v[i].used = 1;
      found = &o->v[i];
    }
  return found;
}

static int weft__opts_wrong_type(weft_opts_t *o, weft__opt_t *opt,
                                 const char *want) {
  weft__opts_fail(o, opt->line, "option \"%s\" must be %s, not %s", opt->name,
                  want, weft__opt_type_names[opt->type]);
  return WEFT_EINVAL;
}

int weft_opt_error(weft_opts_t *o, const char *name, const char *fmt, ...) {
  weft__opt_t *opt = name ? weft__opts_find(o, name) : NULL;
  char msg[512];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  if (opt != NULL)
    weft__opts_fail(o, opt->line, "option \"%s\": %s", name, msg);
  else if (name != NULL)
    weft__opts_fail(o, 0, "option \"%s\": %s", name, msg);
  else
    weft__opts_fail(o, 0, "%s", msg);
  return WEFT_EINVAL;
}

int weft_opt_int(weft_opts_t *o, const char *name, int64_t def, int64_t min,
                 int64_t max, int64_t *out) {
  weft__opt_t *opt = weft__opts_find(o, name);

  if (opt == NULL) {
    *out = def;
    return 0;
  }
  if (opt->type != WEFT__OPT_INT)
    return weft__opts_wrong_type(o, opt, "an integer");
  if (opt->i < min || opt->i > max) {
    weft__opts_fail(o, opt->line,
                    "option \"%s\" = %" PRId64 " is out of range [%" PRId64
                    ", %" PRId64 "]",
                    name, opt->i, min, max);
    return WEFT_EINVAL;
  }
  *out = opt->i;
  return 0;
}

int weft_opt_bool(weft_opts_t *o, const char *name, int def, int *out) {
  weft__opt_t *opt = weft__opts_find(o, name);

  if (opt == NULL) {
    *out = def;
    return 0;
  }
  if (opt->type != WEFT__OPT_BOOL)
    return weft__opts_wrong_type(o, opt, "true or false");
  *out = (int)opt->i;
  return 0;
}

int weft_opt_str(weft_opts_t *o, const char *name, const char *def,
                 const char **out) {
  weft__opt_t *opt = weft__opts_find(o, name);

  if (opt == NULL) {
    *out = def;
    return 0;
  }
  if (opt->type != WEFT__OPT_STR)
    return weft__opts_wrong_type(o, opt, "a string");
  *out = opt->s;
  return 0;
}

int weft_opt_choice(weft_opts_t *o, const char *name,
                    const char *const *choices, int def, int *out) {
  char list[256];
  const char *s;
  size_t n = 0;
  int i, r;

  if ((r = weft_opt_str(o, name, NULL, &s)) != 0)
    return r;
  if (s == NULL) {
    *out = def;
    return 0;
  }
  for (i = 0; choices[i] != NULL; i++)
    if (strcmp(s, choices[i]) == 0) {
      *out = i;
      return 0;
    }
  /* "a", "b" or "c" */
  list[0] = '\0';
  for (i = 0; choices[i] != NULL && n < sizeof(list); i++)
    n += (size_t)snprintf(list + n, sizeof(list) - n, "%s\"%s\"",
                          i == 0 ? "" : choices[i + 1] ? ", " : " or ",
                          choices[i]);
  return weft_opt_error(o, name, "must be %s, not \"%s\"", list, s);
}

/* Parses "123" + optional unit; mult_for() maps a unit to a multiplier. */
static int weft__parse_unit(const char *s, uint64_t *out,
                            uint64_t (*mult_for)(const char *unit),
                            int need_unit) {
  uint64_t v = 0, mult;
  const char *p = s;

  while (isspace((unsigned char)*p))
    p++;
  if (!isdigit((unsigned char)*p))
    return WEFT_EINVAL;
  while (isdigit((unsigned char)*p)) {
    unsigned d = (unsigned)(*p - '0');
    if (v > (UINT64_MAX - d) / 10)
      return WEFT_EINVAL; /* overflow */
    v = v * 10 + d;
    p++;
  }
  if (*p == '\0' && need_unit)
    return WEFT_EINVAL;
  mult = mult_for(p);
  if (mult == 0)
    return WEFT_EINVAL;
  if (v != 0 && mult > UINT64_MAX / v)
    return WEFT_EINVAL;
  *out = v * mult;
  return 0;
}

static uint64_t weft__size_mult(const char *u) {
  if (*u == '\0' || strcmp(u, "b") == 0 || strcmp(u, "B") == 0)
    return 1;
  if (strcmp(u, "k") == 0 || strcmp(u, "K") == 0 || strcmp(u, "KiB") == 0 ||
      strcmp(u, "kb") == 0 || strcmp(u, "KB") == 0)
    return 1024;
  if (strcmp(u, "m") == 0 || strcmp(u, "M") == 0 || strcmp(u, "MiB") == 0 ||
      strcmp(u, "mb") == 0 || strcmp(u, "MB") == 0)
    return 1024 * 1024;
  if (strcmp(u, "g") == 0 || strcmp(u, "G") == 0 || strcmp(u, "GiB") == 0 ||
      strcmp(u, "gb") == 0 || strcmp(u, "GB") == 0)
    return 1024 * 1024 * 1024;
  return 0;
}

static uint64_t weft__duration_mult(const char *u) {
  if (strcmp(u, "ms") == 0)
    return 1;
  if (strcmp(u, "s") == 0)
    return 1000;
  if (strcmp(u, "m") == 0 || strcmp(u, "min") == 0)
    return 60 * 1000;
  if (strcmp(u, "h") == 0)
    return 60 * 60 * 1000;
  return 0;
}

int weft__parse_size(const char *s, uint64_t *out) {
  return weft__parse_unit(s, out, weft__size_mult, 0);
}

int weft__parse_duration(const char *s, uint64_t *out_ms) {
  return weft__parse_unit(s, out_ms, weft__duration_mult, 1);
}

int weft_opt_size(weft_opts_t *o, const char *name, uint64_t def, uint64_t min,
                  uint64_t max, uint64_t *out) {
  weft__opt_t *opt = weft__opts_find(o, name);
  uint64_t v;

  if (opt == NULL) {
    *out = def;
    return 0;
  }
  if (opt->type == WEFT__OPT_INT) {
    if (opt->i < 0) {
      weft__opts_fail(o, opt->line, "option \"%s\" must not be negative", name);
      return WEFT_EINVAL;
    }
    v = (uint64_t)opt->i;
  } else if (opt->type == WEFT__OPT_STR) {
    if (weft__parse_size(opt->s, &v) != 0) {
      weft__opts_fail(o, opt->line,
                      "option \"%s\" = \"%s\" is not a size (like 512, 64k, "
                      "8M, 1G)",
                      name, opt->s);
      return WEFT_EINVAL;
    }
  } else {
    return weft__opts_wrong_type(o, opt, "a size");
  }
  if (v < min || v > max) {
    weft__opts_fail(o, opt->line,
                    "option \"%s\" = %" PRIu64 " is out of range [%" PRIu64
                    ", %" PRIu64 "]",
                    name, v, min, max);
    return WEFT_EINVAL;
  }
  *out = v;
  return 0;
}

int weft_opt_duration(weft_opts_t *o, const char *name, uint64_t def_ms,
                      uint64_t min_ms, uint64_t max_ms, uint64_t *out_ms) {
  weft__opt_t *opt = weft__opts_find(o, name);
  uint64_t v;

  if (opt == NULL) {
    *out_ms = def_ms;
    return 0;
  }
  if (opt->type == WEFT__OPT_INT) {
    if (opt->i < 0 || (uint64_t)opt->i > UINT64_MAX / 1000) {
      weft__opts_fail(o, opt->line, "option \"%s\" is out of range", name);
      return WEFT_EINVAL;
    }
    v = (uint64_t)opt->i * 1000;
  } else if (opt->type == WEFT__OPT_STR) {
    if (weft__parse_duration(opt->s, &v) != 0) {
      weft__opts_fail(o, opt->line,
                      "option \"%s\" = \"%s\" is not a duration (like 250ms, "
                      "30s, 5m, 1h)",
                      name, opt->s);
      return WEFT_EINVAL;
    }
  } else {
    return weft__opts_wrong_type(o, opt, "a duration");
  }
  if (v < min_ms || v > max_ms) {
    weft__opts_fail(o, opt->line,
                    "option \"%s\" = %" PRIu64 "ms is out of range [%" PRIu64
                    "ms, %" PRIu64 "ms]",
                    name, v, min_ms, max_ms);
    return WEFT_EINVAL;
  }
  *out_ms = v;
  return 0;
}

int weft__opts_equal(const weft_opts_t *a, const weft_opts_t *b) {
  size_t i;

  if (a == NULL || b == NULL)
    return a == b;
  if (a->n != b->n)
    return 0;
  for (i = 0; i < a->n; i++) {
    const weft__opt_t *x = &a->v[i], *y = &b->v[i];
    if (strcmp(x->name, y->name) != 0 || x->type != y->type || x->i != y->i ||
        x->f != y->f ||
        (x->type == WEFT__OPT_STR && strcmp(x->s, y->s) != 0))
      return 0;
  }
  return 1;
}
