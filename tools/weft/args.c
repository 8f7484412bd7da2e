/* weft: the options send and bench share, and the values they take. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"

#define WC_DEFAULT_TIMEOUT_MS 5000

void wc_common_init(wc_common_t *c) {
  memset(c, 0, sizeof(*c));
  c->codec = "line";
  c->timeout_ms = WC_DEFAULT_TIMEOUT_MS;
  c->timeout = "5s";
  c->stream = -1;
}

void wc_common_free(wc_common_t *c) {
  free(c->opts);
  free(c->path);
  c->opts = NULL;
  c->path = NULL;
}

/* Appends s to a growing array of strings. */
static int wc_push(const char ***v, size_t *n, const char *s) {
  const char **p = realloc(*v, (*n + 1) * sizeof(*p));

  if (p == NULL) {
    wc_err("out of memory");
    return -1;
  }
  p[(*n)++] = s;
  *v = p;
  return 0;
}

int wc_common_opt(wc_common_t *c, int ch, const char *arg) {
  switch (ch) {
  case WC_OPT_CODEC:
    c->codec = arg;
    return 1;
  case WC_OPT_CODEC_OPT:
    return wc_push(&c->opts, &c->nopts, arg) == 0 ? 1 : -1;
  case WC_OPT_PLUGIN_PATH:
    return wc_push(&c->path, &c->npath, arg) == 0 ? 1 : -1;
  case WC_OPT_TIMEOUT:
    if (wc_parse_duration(arg, &c->timeout_ms) != 0 || c->timeout_ms == 0) {
      wc_err("--timeout \"%s\": not a positive duration (like 500ms, 5s, "
             "2.5)",
             arg);
      return -1;
    }
    c->timeout = arg;
    return 1;
  case WC_OPT_STREAM:
    c->stream = 1;
    return 1;
  case WC_OPT_NO_STREAM:
    c->stream = 0;
    return 1;
  case 'v':
    c->verbose++;
    return 1;
  default:
    return 0;
  }
}

int wc_parse_duration(const char *s, uint64_t *ms) {
  char *end;
  double v, mult;

  errno = 0;
  v = strtod(s, &end);
  if (end == s || errno != 0 || !(v >= 0) || isinf(v))
    return -1;
  if (*end == '\0' || strcmp(end, "s") == 0)
    mult = 1000;
  else if (strcmp(end, "ms") == 0)
    mult = 1;
  else if (strcmp(end, "m") == 0 || strcmp(end, "min") == 0)
    mult = 60000;
  else if (strcmp(end, "h") == 0)
    mult = 3600000;
  else
    return -1;
  v *= mult;
  if (v > 1e15) /* some 30,000 years: surely a mistake */
    return -1;
  *ms = (uint64_t)(v + 0.5);
  return 0;
}

int wc_parse_count(const char *what, const char *s, uint64_t min, uint64_t max,
                   uint64_t *out) {
  char *end;
  unsigned long long v;

  errno = 0;
  v = strtoull(s, &end, 10);
  if (*s == '\0' || *s == '-' || *end != '\0' || errno != 0 || v < min ||
      v > max) {
    wc_err("%s \"%s\": not a number from %llu to %llu", what, s,
           (unsigned long long)min, (unsigned long long)max);
    return -1;
  }
  *out = v;
  return 0;
}
